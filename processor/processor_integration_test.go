package processor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// TestProcessorFromConfig builds routes from a daemon config: a Kafka route
// with its default dead letters and its own codec, and a JetStream route,
// run together.
func TestProcessorFromConfig(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 2, "people", "people.masked", "maskstream.dlq.kpeople"); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]string{{"PEOPLE", "people.>"}, {"MASKED", "masked.>"}, {"DLQ", "maskstream.dlq.>"}} {
		if err := n.CreateStream(ctx, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `
kafka: { local: { brokers: [%q] } }
nats: { local: { url: %q } }
drain_timeout: 10s
routes:
  - name: kpeople
    from: { kafka: local, topics: [people] }
    to: { kafka: local, keep_partition: true, compression: zstd, linger: 2ms }
    ruleset: people
  - name: jpeople
    from: { nats: local, stream: PEOPLE, subject: "people.>" }
    to: { nats: local, subject: "masked.{subject}", jetstream: true }
    ruleset: people
`, k.Brokers()[0], n.URL()), "")
	if err != nil {
		t.Fatal(err)
	}
	count := scale(2000)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, count, 2)...)
	produce(t, kafkaClient(t, k), people("people", count, 1, 2)[0])
	js := natsJS(t, n)
	publishPeople(t, js, "people.x", 0, count)

	p, err := processor.New(cfg, processor.Deps{Rulesets: e.store, Secret: e.secret, Metrics: e.metrics, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	out := consume(t, k, "people.masked", count+1, 60*time.Second)
	if len(out) != count+1 {
		t.Errorf("kafka route: %d records, want %d", len(out), count+1)
	}
	for _, r := range out {
		// 4 is zstd in Kafka's record batch attributes.
		if c := r.Attrs.CompressionType(); c != 4 {
			t.Errorf("kafka route: a record's batch has compression type %d; want 4 (zstd, as the config says)", c)
			break
		}
	}
	if out := readStream(t, js, "MASKED", "masked.>", count, 60*time.Second); len(out) != count {
		t.Errorf("jetstream route: %d messages, want %d", len(out), count)
	}
	waitFor(t, 10*time.Second, "both routes' status", func() bool {
		st := p.Status()
		return len(st) == 2 && st[0].RecordsOut == uint64(count+1) && st[1].RecordsOut == uint64(count) && st[0].State == processor.StateRunning
	})
	st := p.Status()
	if st[0].DeadLetter != "kafka local topic maskstream.dlq.kpeople" || st[1].Source != "nats local stream PEOPLE, people.> (durable maskstream-jpeople)" {
		t.Errorf("descriptions: %q, %q", st[0].DeadLetter, st[1].Source)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, s := range p.Status() {
		if s.State != processor.StateStopped {
			t.Errorf("route %s is %s after Run", s.Name, s.State)
		}
	}
}
