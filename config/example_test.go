package config_test

import (
	"fmt"

	"github.com/maskstream/maskstream/config"
)

func ExampleParse() {
	c, err := config.Parse([]byte(`
kafka:
  prod: { brokers: [kafka:9092] }
routes:
  - name: orders
    from: { kafka: prod, topics: [orders] }
    to:   { kafka: prod }
    ruleset: orders
`), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := c.Routes[0]
	fmt.Println(r.From.Group, r.To.Topic, r.DeadLetter.Topic)
	fmt.Println(config.MustTemplate(r.To.Topic).Expand("orders", 0))
	// Output:
	// maskstream.orders {topic}.masked maskstream.dlq.orders
	// orders.masked
}

func ExampleParse_errors() {
	_, err := config.Parse([]byte(`
routes:
  - name: orders
    from: { kafka: prod, topics: [orders] }
    to:   { kafka: prod, topik: x }
    ruleset: orders
`), "maskstream.yaml")
	fmt.Println(err)
	// Output:
	// maskstream.yaml:5:26: unknown key "topik" in route "orders" to; known keys: compression, kafka, keep_partition, linger, topic
}
