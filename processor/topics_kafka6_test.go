package processor_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// TestKafkaRouteCreatesMissingTopics: on a cluster that creates topics on
// demand (Kafka's default), a route whose output and dead-letter topics do
// not exist yet delivers to both, as a kcat producer would, instead of
// stalling its partitions.
func TestKafkaRouteCreatesMissingTopics(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "in"); err != nil {
		t.Fatal(err)
	}
	produce(t, kafkaClient(t, k), append([]*kgo.Record{{Topic: "in", Value: []byte("not json")}}, people("in", 0, 5, 1)...)...)
	cfg := e.routeConfig("in", "people")
	kafkaRoute(t, k, &cfg, []string{"in"}, "g-autocreate")
	cfg.Sink = kafkaSink(t, k) // to the default in.masked, dead letters to maskstream.dlq.in
	e.start(cfg)
	if out := consume(t, k, "in.masked", 5, 30*time.Second); len(out) != 5 {
		t.Fatalf("in.masked holds %d records, want 5", len(out))
	}
	dlq := consume(t, k, "maskstream.dlq.in", 1, 30*time.Second)
	if len(dlq) != 1 || string(dlq[0].Value) != "not json" {
		t.Fatalf("maskstream.dlq.in holds %d records, want the one that is not JSON", len(dlq))
	}
}

// TestKafkaRouteMissingTopicFailsAtStart: on a cluster that does not
// create topics, a route whose fixed output topic does not exist fails at
// start saying to create it, and reads nothing; without the check it
// would read, then stall every partition in silence.
func TestKafkaRouteMissingTopicFailsAtStart(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	k.RefuseAutoCreate()
	if err := k.CreateTopics(context.Background(), 1, "people", "people.dlq"); err != nil {
		t.Fatal(err)
	}
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, 10, 1)...)
	// The fixed topics of the route, as the daemon's config gives them.
	sink, err := kafka.NewSink(k.ClusterConfig(), kafka.SinkConfig{Topics: []string{"people.masked", "people.dlq"}, CloseTimeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-missing")
	cfg.Sink = sink
	cfg.Topic = mustTemplate("people.masked")
	cfg.DeadLetterTopic = mustTemplate("people.dlq")
	err = failsAtStart(t, cfg, "sink", "create topic people.masked")
	if strings.Contains(err.Error(), "people.dlq") {
		t.Errorf("Run = %v, which names people.dlq although it exists", err)
	}
}

// TestKafkaRegexLatestLateTopics: a topic_regex route starting at latest
// masks every record of a matching topic created while it runs, and of
// partitions added to a topic it reads, including the records written
// before it noticed them (its metadata refresh, shortened here).
func TestKafkaRegexLatestLateTopics(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 1, "re.a"); err != nil {
		t.Fatal(err)
	}
	cc := k.ClusterConfig()
	cc.MetadataMinAge, cc.MetadataMaxAge = 50*time.Millisecond, 2*time.Second
	src, err := kafka.NewSource(cc, kafka.SourceConfig{
		TopicRegex: `^re\.[a-z]$`, Group: "g-late", StartOffset: kafka.StartLatest,
		StopTimeout: 10 * time.Second, CommitInterval: 200 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("re", "people")
	cfg.Source = src
	cfg.Sink = kafkaSink(t, k)
	cfg.Topic = mustTemplate("{topic}.masked")
	rn := e.start(cfg)
	pcl := kafkaClient(t, k, manualPartitioner())
	for i := 0; rn.route.Status().RecordsOut == 0; i++ {
		if i == 100 {
			t.Fatal("the route never read re.a")
		}
		produce(t, pcl, people("re.a", 100000+i, 1, 1)...)
		time.Sleep(100 * time.Millisecond)
	}

	// Written at once, before the route's next metadata refresh.
	if err := k.CreateTopics(ctx, 2, "re.b"); err != nil {
		t.Fatal(err)
	}
	if _, err := kafkaAdmin(t, k).CreatePartitions(ctx, 1, "re.a"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	produce(t, pcl, people("re.b", 0, n, 2)...)
	late := people("re.a", 200000, n, 1)
	for _, r := range late {
		r.Partition = 1
	}
	produce(t, pcl, late...)

	seen := map[int]bool{}
	for _, r := range consume(t, k, "re.b.masked", n, 30*time.Second) {
		seen[checkMasked(t, r.Value)] = true
	}
	if len(seen) != n {
		t.Errorf("re.b.masked holds %d of the %d records written to the new topic", len(seen), n)
	}
	// re.a.masked also holds the warm-up records, a number not known.
	newPart := 0
	for deadline := time.Now().Add(30 * time.Second); newPart < n && time.Now().Before(deadline); {
		newPart = 0
		for _, r := range consume(t, k, "re.a.masked", 1<<20, time.Second) {
			if checkMasked(t, r.Value) >= 200000 {
				newPart++
			}
		}
	}
	if newPart != n {
		t.Errorf("re.a.masked holds %d of the %d records written to re.a's new partition", newPart, n)
	}
}

// TestStopDuringOutageExactlyOnce is TestStopDuringOutage for an
// exactly-once route: stopped while the broker refuses every produce, it
// cannot abort its open transaction either, yet it stops cleanly (the
// broker aborts the transaction at its timeout, and the successor with the
// same transactional id fences it), and the successor delivers every
// record exactly once.
func TestStopDuringOutageExactlyOnce(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked", "people.dlq"); err != nil {
		t.Fatal(err)
	}
	n := scale(2000)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 2)...)
	down, refused := refuseProduces(k)
	const stopTimeout, closeTimeout = 2 * time.Second, 2 * time.Second
	start := func(name string) *running {
		src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
			kafka.SourceConfig{Topics: []string{"people"}, Group: "g-eos-stopout", StopTimeout: stopTimeout, FetchMaxRecords: 100},
			kafka.SinkConfig{CloseTimeout: closeTimeout}, "eos-stopout", nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.routeConfig(name, "people")
		cfg.Source, cfg.Sink, cfg.DeadLetter = src, sink, sink
		cfg.DeadLetterTopic = mustTemplate("people.dlq")
		cfg.KeepPartition = true
		return e.start(cfg)
	}
	first := start("first")
	waitFor(t, 20*time.Second, "produce requests to be refused", func() bool { return refused.Load() >= 3 })
	stopInOutage(t, k, first, 5*(stopTimeout+closeTimeout), "g-eos-stopout", "no transaction committed")

	down.Store(false)
	start("second")
	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	out := consume(t, k, "people.masked", n, 60*time.Second, committed)
	extra := consume(t, k, "people.masked", n+1, time.Second, committed)
	if len(out) != n || len(extra) != n {
		t.Fatalf("got %d committed records (then %d), want exactly %d", len(out), len(extra), n)
	}
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
}
