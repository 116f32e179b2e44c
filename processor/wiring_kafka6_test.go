package processor_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

func TestConfigRouteMissingTopicFailsAtStart(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	k.RefuseAutoCreate()
	if err := k.CreateTopics(context.Background(), 1, "people", "maskstream.dlq.people"); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `
kafka: { local: { brokers: [%q] } }
routes:
  - name: people
    from: { kafka: local, topics: [people] }
    to: { kafka: local, topic: "people.out" }
    ruleset: people
`, k.Brokers()[0]), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := processor.New(cfg, processor.Deps{Rulesets: e.store, Secret: e.secret, Metrics: e.metrics, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = p.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "create topic people.out") {
		t.Fatalf("Run = %v", err)
	}
	t.Log(err)
}
