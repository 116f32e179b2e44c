package processor_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// TestExactlyOnce runs a transactional Kafka→Kafka route, restarted
// mid-stream: a read_committed consumer sees every record exactly once,
// and the poison record once in the dead letters.
func TestExactlyOnce(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked", "people.dlq"); err != nil {
		t.Fatal(err)
	}
	n := scale(6000)
	recs := people("people", 0, n, 2)
	recs = append(recs, &kgo.Record{Topic: "people", Partition: 0, Value: []byte("not json")})
	produce(t, kafkaClient(t, k, manualPartitioner()), recs...)

	start := func(name string) *running {
		src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
			kafka.SourceConfig{Topics: []string{"people"}, Group: "g-eos", StopTimeout: 20 * time.Second},
			kafka.SinkConfig{}, "eos-test", nil)
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
	waitFor(t, 30*time.Second, "some records through", func() bool { return first.route.Status().RecordsOut >= uint64(n/4) })
	first.stop(t)
	start("second")

	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	out := consume(t, k, "people.masked", n, 60*time.Second, committed)
	extra := consume(t, k, "people.masked", n+1, time.Second, committed)
	dlq := consume(t, k, "people.dlq", 2, 2*time.Second, committed)
	if len(out) != n || len(extra) != n || len(dlq) != 1 {
		t.Fatalf("got %d (then %d) masked and %d dead letters, want exactly %d and 1", len(out), len(extra), len(dlq), n)
	}
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
}
