package processor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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

// TestRegexRouteSkipsItsOwnOutput: a topic_regex that also matches the
// route's output ({topic}.masked on the same cluster) must not consume
// it; otherwise each record would be masked again, into
// loop.a.masked.masked, and so on forever.
func TestRegexRouteSkipsItsOwnOutput(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	ctx := context.Background()
	// The output exists before the route starts, so the regex would match
	// it from the first metadata load.
	if err := k.CreateTopics(ctx, 2, "loop.a", "loop.a.masked", "loop.dlq.loop.a"); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `
kafka: { local: { brokers: [%q] } }
drain_timeout: 10s
routes:
  - name: loop
    from: { kafka: local, topic_regex: '^loop\..*' }
    to: { kafka: local, topic: "{topic}.masked" }
    dead_letter: { kafka: local, topic: "loop.dlq.{topic}" }
    ruleset: people
`, k.Brokers()[0]), "")
	if err != nil {
		t.Fatal(err)
	}
	count := scale(500)
	produce(t, kafkaClient(t, k), people("loop.a", 0, count, 2)...)
	// A dead letter already waiting in the dead-letter topic, which the
	// regex matches too: it must stay there, not come round again.
	produce(t, kafkaClient(t, k), &kgo.Record{Topic: "loop.dlq.loop.a", Value: []byte("not json")})
	p, err := processor.New(cfg, processor.Deps{Rulesets: e.store, Secret: e.secret, Metrics: e.metrics, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	if out := consume(t, k, "loop.a.masked", count, 60*time.Second); len(out) != count {
		t.Errorf("%d masked records, want %d", len(out), count)
	}
	// Give a looping route time to show itself: it would be reading
	// loop.a.masked already, as fast as it read loop.a.
	time.Sleep(time.Second)
	st := p.Status()
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st[0].RecordsIn != uint64(count) {
		t.Errorf("the route read %d records, want %d: it consumed its own output", st[0].RecordsIn, count)
	}
}
