package processor_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
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

// TestCrossClusterRoute runs a route from a config that reads the prod
// cluster and writes the dev one: masked records land only on dev, dead
// letters (original bytes) stay on prod by default, and the consumed
// offsets are committed on prod.
func TestCrossClusterRoute(t *testing.T) {
	e := newEnv(t, 0, 0)
	prod := testenv.StartKafka(t)
	dev := testenv.StartKafka(t)
	ctx := context.Background()
	const dlqTopic = "maskstream.dlq.mirror"
	// Every topic on both clusters, so a record sent to the wrong one
	// would land there rather than fail.
	for _, k := range []*testenv.Kafka{prod, dev} {
		if err := k.CreateTopics(ctx, 2, "people", "people.masked", dlqTopic); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `
kafka:
  prod: { brokers: [%q] }
  dev: { brokers: [%q] }
drain_timeout: 10s
routes:
  - name: mirror
    from: { kafka: prod, topics: [people] }
    to: { kafka: dev, keep_partition: true }
    ruleset: people
`, prod.Brokers()[0], dev.Brokers()[0]), "")
	if err != nil {
		t.Fatal(err)
	}
	count := scale(2000)
	poison := [][]byte{[]byte("not json"), []byte("{\"email\":\"x\xff\"}")}
	recs := people("people", 0, count/2, 2)
	for i, v := range poison {
		recs = append(recs, &kgo.Record{Topic: "people", Partition: int32(i % 2), Value: v})
	}
	recs = append(recs, people("people", count/2, count-count/2, 2)...)
	produce(t, kafkaClient(t, prod, manualPartitioner()), recs...)
	// Records in dev's own people topic are not the route's to read.
	const decoy = 900_000
	produce(t, kafkaClient(t, dev, manualPartitioner()), people("people", decoy, 10, 2)...)

	p, err := processor.New(cfg, processor.Deps{Rulesets: e.store, Secret: e.secret, Metrics: e.metrics, Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	out := consume(t, dev, "people.masked", count, 60*time.Second)
	seen := map[int]bool{}
	for part, seqs := range seqsByPartition(t, out) {
		for _, seq := range seqs {
			if seq >= decoy || int32(seq%2) != part {
				t.Fatalf("dev: record %d in partition %d: it was read from dev, or its partition not kept", seq, part)
			}
		}
		checkOrder(t, fmt.Sprintf("dev partition %d", part), seqs, seen)
	}
	if len(seen) != count {
		t.Fatalf("dev: %d distinct masked records, want %d", len(seen), count)
	}
	dlq := consume(t, prod, dlqTopic, len(poison), 30*time.Second)
	if len(dlq) != len(poison) {
		t.Fatalf("prod: %d dead letters, want %d", len(dlq), len(poison))
	}
	for _, d := range dlq {
		// Poison record i went to partition i.
		i := slices.IndexFunc(poison, func(v []byte) bool { return bytes.Equal(v, d.Value) })
		if i < 0 || !strings.HasPrefix(headerOf(d, processor.HeaderOrigin), fmt.Sprintf("people/%d/", i)) || headerOf(d, processor.HeaderError) == "" {
			t.Errorf("prod: dead letter %q with origin %q and error %q; want an original poison record with its origin and reason", d.Value, headerOf(d, processor.HeaderOrigin), headerOf(d, processor.HeaderError))
		}
	}
	waitFor(t, 10*time.Second, "the route's status to count every record", func() bool {
		st := p.Status()[0]
		return st.RecordsOut == uint64(count) && st.DeadLetters == uint64(len(poison))
	})
	if st := p.Status()[0]; st.Sink != "kafka dev topic {topic}.masked (same partition)" || st.DeadLetter != "kafka prod topic "+dlqTopic {
		t.Errorf("descriptions: sink %q, dead letters %q", st.Sink, st.DeadLetter)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Nothing on the wrong cluster, nothing twice, offsets on prod.
	for _, c := range []struct {
		k           *testenv.Kafka
		name, topic string
		want        int64
	}{
		{dev, "dev", "people.masked", int64(count)},
		{dev, "dev", dlqTopic, 0},
		{prod, "prod", "people.masked", 0},
		{prod, "prod", dlqTopic, int64(len(poison))},
	} {
		var total int64
		for _, o := range endOffsets(t, c.k, c.topic) {
			total += o
		}
		if total != c.want {
			t.Errorf("%s: %s holds %d records, want %d", c.name, c.topic, total, c.want)
		}
	}
	group := config.DefaultGroupPrefix + "mirror"
	committed, err := kafkaAdmin(t, prod).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	for part, end := range endOffsets(t, prod, "people") {
		if o, ok := committed.Lookup("people", part); !ok || o.Err != nil || o.At != end {
			t.Errorf("prod: group %s committed %+v for people[%d], want offset %d (the partition's end)", group, o, part, end)
		}
	}
	if onDev, err := kafkaAdmin(t, dev).FetchOffsets(ctx, group); err == nil && len(onDev) > 0 {
		t.Errorf("dev: group %s committed offsets there: %v", group, onDev)
	}
}

// endOffsets are topic's high watermarks on k, by partition.
func endOffsets(t *testing.T, k *testenv.Kafka, topic string) map[int32]int64 {
	t.Helper()
	l, err := kafkaAdmin(t, k).ListEndOffsets(context.Background(), topic)
	if err == nil {
		err = l.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
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
