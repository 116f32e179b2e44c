package processor_test

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// Faults an exactly-once route must ride out: the consumer group forgets
// it mid-transaction, the broker refuses a whole produce batch for one
// record, records wait past the transaction timeout.

// checkExactlyOnce fails unless out holds exactly the masked records
// want (by seq), each once, in order per partition.
func checkExactlyOnce(t *testing.T, out []*kgo.Record, want []int) {
	t.Helper()
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(out) != len(want) || len(seen) != len(want) {
		t.Fatalf("%d committed records, %d distinct; want exactly %d", len(out), len(seen), len(want))
	}
	for _, s := range want {
		if !seen[s] {
			t.Fatalf("record %d is missing", s)
		}
	}
}

// failIfStopped fails the test at once when the route has failed or
// stopped (waitFor would only time out).
func failIfStopped(t *testing.T, r *running) {
	t.Helper()
	if st := r.route.Status(); st.State == processor.StateFailed || st.State == processor.StateStopped {
		t.Fatalf("the route is %s (%s), want it running", st.State, st.Error)
	}
}

// TestExactlyOnceSessionLost: the group coordinator forgets the member (a
// heartbeat answered UNKNOWN_MEMBER_ID) while a transaction is open. kgo
// can only report the loss once the route lets the group rebalance, so
// the route must not hold rebalances while it ends the transaction. The
// transaction aborts, the member rejoins, the route goes on, and a
// read_committed consumer sees every record exactly once, in order.
func TestExactlyOnceSessionLost(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 3, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(1500)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 3)...)
	var lose atomic.Int32
	c := k.Cluster()
	c.ControlKey(kmsg.Heartbeat.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if lose.Load() <= 0 {
			return nil, nil, false
		}
		lose.Add(-1)
		resp := req.(*kmsg.HeartbeatRequest).ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp, nil, true
	})
	src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
		kafka.SourceConfig{Topics: []string{"people"}, Group: "g-eos-lost", StopTimeout: 20 * time.Second, SessionTimeout: 6 * time.Second, RebalanceTimeout: 6 * time.Second},
		kafka.SinkConfig{}, "eos-lost", e.log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("lost", "people")
	// Slow acks keep each batch's transaction open long enough for the
	// heartbeat to land inside one.
	slow := newSlowAcks(sink, 30*time.Millisecond)
	cfg.Source, cfg.Sink, cfg.DeadLetter = src, slow, slow
	cfg.LaneQueue = 16
	cfg.KeepPartition = true
	r := e.start(cfg)
	waitFor(t, 30*time.Second, "some records through", func() bool { return r.route.Status().RecordsOut > 200 })
	lose.Store(1)
	waitFor(t, 20*time.Second, "a heartbeat answered UNKNOWN_MEMBER_ID", func() bool { return lose.Load() == 0 })

	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	var out []*kgo.Record
	waitFor(t, 90*time.Second, "every record committed", func() bool {
		failIfStopped(t, r)
		out = consume(t, k, "people.masked", n, time.Second, committed)
		return len(out) >= n
	})
	out = consume(t, k, "people.masked", n+1, 2*time.Second, committed)
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	checkExactlyOnce(t, out, want)
	failIfStopped(t, r)
}

// refuseDescribeConfigs answers every DescribeConfigs as a client without
// the right to describe topics, so the sink cannot learn a topic's
// max.message.bytes.
func refuseDescribeConfigs(k *testenv.Kafka) {
	c := k.Cluster()
	c.ControlKey(kmsg.DescribeConfigs.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.DescribeConfigsRequest)
		resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
		for _, rr := range r.Resources {
			res := kmsg.NewDescribeConfigsResponseResource()
			res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
			res.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Resources = append(resp.Resources, res)
		}
		return resp, nil, true
	})
}

// incompressible is n bytes of text snappy cannot shrink.
func incompressible(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint32(12345)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = alphabet[(x>>26)%uint32(len(alphabet))]
	}
	return string(b)
}

// TestExactlyOnceSinkRejects is TestSinkRejects on an exactly-once route
// that cannot read the output topic's max.message.bytes: the broker
// refuses the whole produce batch holding the big record. Only that record
// is a dead letter; the others are committed to the output, in order.
func TestExactlyOnceSinkRejects(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 1, "people", "people.dlq"); err != nil {
		t.Fatal(err)
	}
	if _, err := kafkaAdmin(t, k).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": ptr("2000")}, "people.masked"); err != nil {
		t.Fatal(err)
	}
	refuseDescribeConfigs(k)
	big := []byte(`{"seq":5,"email":"big@real.test","name":"Real Person","pad":"` + incompressible(3000) + `"}`)
	var recs []*kgo.Record
	var want []int
	for i := range 10 {
		v := personJSON(i)
		if i == 5 {
			v = big
		} else {
			want = append(want, i)
		}
		recs = append(recs, &kgo.Record{Topic: "people", Value: v})
	}
	produce(t, kafkaClient(t, k), recs...)
	src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
		kafka.SourceConfig{Topics: []string{"people"}, Group: "g-eos-reject", StopTimeout: 20 * time.Second},
		kafka.SinkConfig{}, "eos-reject", e.log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("reject", "people")
	cfg.Source, cfg.Sink, cfg.DeadLetter = src, sink, sink
	cfg.DeadLetterTopic = mustTemplate("people.dlq")
	r := e.start(cfg)

	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	waitFor(t, 60*time.Second, "the ten records as masked or dead letters", func() bool {
		failIfStopped(t, r)
		out := consume(t, k, "people.masked", 10, 300*time.Millisecond, committed)
		dlq := consume(t, k, "people.dlq", 10, 300*time.Millisecond, committed)
		return len(out)+len(dlq) >= 10
	})
	out := consume(t, k, "people.masked", 11, 2*time.Second, committed)
	dlq := consume(t, k, "people.dlq", 11, 2*time.Second, committed)
	for _, d := range dlq {
		if !bytes.Equal(d.Value, big) {
			t.Errorf("dead letter of record %s (%s): only the big record may be one", headerOf(d, processor.HeaderOrigin), headerOf(d, processor.HeaderError))
		}
	}
	if len(dlq) != 1 {
		t.Fatalf("%d dead letters, want the big record once", len(dlq))
	}
	checkExactlyOnce(t, out, want)
	// Committed in input order (one partition).
	for i, rec := range out {
		if s := checkMasked(t, rec.Value); s != want[i] {
			t.Fatalf("output %d is record %d, want %d", i, s, want[i])
		}
	}
	// The route goes on: a record after them gets through.
	produce(t, kafkaClient(t, k), &kgo.Record{Topic: "people", Value: personJSON(10)})
	waitFor(t, 30*time.Second, "the record after them", func() bool {
		return len(consume(t, k, "people.masked", 10, 300*time.Millisecond, committed)) == 10
	})
}

// TestExactlyOnceMissingDeadLetterTopic: a dead letter waits for its
// topic ({topic}.dlq, which the cluster does not create) for several
// transaction timeouts. The route must keep waiting (aborting each
// transaction before the broker would, and reading the batch again),
// not die of the broker's timeout; once the topic exists, the output and
// the dead letters hold every record exactly once.
func TestExactlyOnceMissingDeadLetterTopic(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	k.RefuseAutoCreate()
	const n, poison = 20, 10
	recs := people("people", 0, n, 1)
	recs[poison].Value = []byte("not json")
	produce(t, kafkaClient(t, k), recs...)
	const timeout = 3 * time.Second
	src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
		kafka.SourceConfig{Topics: []string{"people"}, Group: "g-eos-missing", StopTimeout: 20 * time.Second},
		kafka.SinkConfig{}, "eos-missing", e.log, kafka.TransactionTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("missing", "people")
	cfg.Source, cfg.Sink, cfg.DeadLetter = src, sink, sink
	cfg.Topic = mustTemplate("people.masked")
	cfg.DeadLetterTopic = mustTemplate("{topic}.dlq")
	r := e.start(cfg)
	waitFor(t, 30*time.Second, "the records read", func() bool { return r.route.Status().RecordsIn >= n })
	// Let several transaction timeouts pass while the dead letter waits.
	time.Sleep(3 * timeout)
	failIfStopped(t, r)
	if err := k.CreateTopics(context.Background(), 1, "people.dlq"); err != nil {
		t.Fatal(err)
	}
	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	waitFor(t, 60*time.Second, "the records and the dead letter committed", func() bool {
		failIfStopped(t, r)
		out := consume(t, k, "people.masked", n-1, 300*time.Millisecond, committed)
		dlq := consume(t, k, "people.dlq", 1, 300*time.Millisecond, committed)
		return len(out) == n-1 && len(dlq) == 1
	})
	out := consume(t, k, "people.masked", n, 2*time.Second, committed)
	dlq := consume(t, k, "people.dlq", 2, 2*time.Second, committed)
	if len(dlq) != 1 || string(dlq[0].Value) != "not json" {
		t.Fatalf("%d dead letters, want the poison record once", len(dlq))
	}
	var want []int
	for i := range n {
		if i != poison {
			want = append(want, i)
		}
	}
	checkExactlyOnce(t, out, want)
	failIfStopped(t, r)
}

// TestExactlyOnceLongOutage: the broker refuses every produce for several
// transaction timeouts. The route aborts each transaction before the
// broker would, waits for the abort as long as the outage lasts (the
// records it abandons are still in flight), and goes on when the broker
// is back: every record exactly once, in order.
func TestExactlyOnceLongOutage(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(500)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 2)...)
	down, refused := refuseProduces(k)
	const timeout = 3 * time.Second
	src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
		// A stop timeout shorter than the outage: the abort must not be
		// bounded by it.
		kafka.SourceConfig{Topics: []string{"people"}, Group: "g-eos-outage", StopTimeout: 2 * time.Second},
		kafka.SinkConfig{}, "eos-outage", e.log, kafka.TransactionTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("outage", "people")
	cfg.Source, cfg.Sink, cfg.DeadLetter = src, sink, sink
	cfg.KeepPartition = true
	r := e.start(cfg)
	waitFor(t, 20*time.Second, "produce requests to be refused", func() bool { return refused.Load() >= 3 })
	// Let several transaction timeouts pass in the outage.
	time.Sleep(3 * timeout)
	failIfStopped(t, r)
	down.Store(false)

	committed := kgo.FetchIsolationLevel(kgo.ReadCommitted())
	waitFor(t, 60*time.Second, "every record committed", func() bool {
		failIfStopped(t, r)
		return len(consume(t, k, "people.masked", n, 300*time.Millisecond, committed)) >= n
	})
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	checkExactlyOnce(t, consume(t, k, "people.masked", n+1, 2*time.Second, committed), want)
}
