package processor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// A route from one Kafka topic to another, masking with a ruleset of the
// store; the broker here is an in-process fake.
func ExampleNewRoute() {
	k, _ := testenv.NewKafka()
	defer k.Close()
	ctx := context.Background()
	_ = k.CreateTopics(ctx, 1, "users", "users.masked")

	store := rulesets.NewStore(rulesets.StoreConfig{Dir: "testdata/rulesets"}, processor.Compiler(0, 0))
	_ = store.Load()
	src, _ := kafka.NewSource(k.ClusterConfig(), kafka.SourceConfig{Topics: []string{"users"}, Group: "example"}, nil)
	sink, _ := kafka.NewSink(k.ClusterConfig(), kafka.SinkConfig{}, nil)
	route, err := processor.NewRoute(processor.RouteConfig{
		Name: "users", Source: src, Sink: sink,
		Ruleset: "people", Rulesets: store, Secret: engine.MustSecret("example-secret-0123456789"),
		Topic: config.MustTemplate("{topic}.masked"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- route.Run(runCtx) }()

	cl, _ := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.DefaultProduceTopic("users"),
		kgo.ConsumeTopics("users.masked"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	_ = cl.ProduceSync(ctx, &kgo.Record{Value: []byte(`{"email":"ana@mail.test","name":"Ana"}`)}).FirstErr()
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, r := range cl.PollFetches(pctx).Records() {
		fmt.Println(string(r.Value))
	}
	stop()
	fmt.Println(<-done)
	// Output:
	// {"email":"kyihyqorrn@example.com","name":"MASKED"}
	// <nil>
}
