package processor_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestKafkaSinkOutage: the broker refuses every produce for a while. The
// route waits (the lanes fill and the source stops fetching), then
// resumes when the broker is back, and loses nothing.
func TestKafkaSinkOutage(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(5000)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 2)...)

	var down atomic.Bool
	var refused atomic.Int64
	down.Store(true)
	c := k.Cluster()
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !down.Load() {
			return nil, nil, false
		}
		refused.Add(1)
		return nil, errors.New("broker down (test)"), true
	})

	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-outage")
	cfg.Sink = kafkaSink(t, k)
	cfg.KeepPartition = true
	cfg.LaneQueue = 256
	rn := e.start(cfg)

	waitFor(t, 20*time.Second, "produce requests to be refused", func() bool { return refused.Load() >= 3 })
	st := rn.route.Status()
	if st.RecordsOut != 0 {
		t.Fatalf("records acknowledged while the broker refused every produce: %+v", st)
	}
	// Bounded: a lane holds at most its queue plus its in-flight ring.
	if in := st.RecordsIn; in > uint64(2*(2*256+64)) {
		t.Errorf("the route took %d records while its sink was down; its lanes should have stopped the source", in)
	}
	down.Store(false)

	out := consume(t, k, "people.masked", n, 60*time.Second)
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
}

// TestNATSSinkOutage: the NATS server behind a JetStream sink stops and
// starts again mid-stream; the route waits and loses nothing. (Order is
// not checked here: the JetStream sink documents that records in flight
// when the server went away may land out of order.)
func TestNATSSinkOutage(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 2, "people"); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "MASKED", "masked.>"); err != nil {
		t.Fatal(err)
	}
	count := scale(6000)
	cl := kafkaClient(t, k, manualPartitioner())
	produce(t, cl, people("people", 0, count/3, 2)...)

	cfg := e.routeConfig("k2js", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-natsdown")
	// A small in-flight window: the JetStream sink retries the publishes
	// an outage failed one at a time, so recovery time grows with it.
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{MaxInFlight: 64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sink = sink
	cfg.Topic = mustTemplate("masked.{topic}.p{partition}")
	rn := e.start(cfg)
	waitFor(t, 30*time.Second, "some records through", func() bool { return rn.route.Status().RecordsOut > 0 })

	n.Shutdown()
	produce(t, cl, people("people", count/3, count/3, 2)...)
	time.Sleep(time.Second) // the sink fails and retries meanwhile
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, people("people", 2*(count/3), count-2*(count/3), 2)...)

	js := natsJS(t, n)
	seen := map[int]bool{}
	var msgs int
	waitFor(t, 90*time.Second, "every record in the stream", func() bool {
		out := readStream(t, js, "MASKED", "masked.>", count+count/2, 2*time.Second)
		clear(seen)
		for _, m := range out {
			seen[checkMasked(t, m.Data())] = true
		}
		msgs = len(out)
		return len(seen) == count
	})
	t.Logf("%d messages for %d records (duplicates are allowed)", msgs, count)
	waitFor(t, 30*time.Second, "every record acknowledged", func() bool {
		return rn.route.Status().RecordsOut >= uint64(count)
	})
}

// TestTwoInstancesRebalance: two routes share a consumer group; the second
// starts and the first stops mid-stream. Every record arrives, and each
// partition's records in order.
func TestTwoInstancesRebalance(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 4, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(12000)
	cl := kafkaClient(t, k, manualPartitioner())
	var wg sync.WaitGroup
	produced := make(chan int, 100)
	wg.Go(func() {
		defer close(produced)
		const step = 250
		for i := 0; i < n; i += step {
			produce(t, cl, people("people", i, min(step, n-i), 4)...)
			produced <- i + min(step, n-i)
			time.Sleep(5 * time.Millisecond)
		}
	})
	newRoute := func(name string) *running {
		cfg := e.routeConfig(name, "people")
		kafkaRoute(t, k, &cfg, []string{"people"}, "g-shared")
		cfg.Sink = kafkaSink(t, k)
		cfg.KeepPartition = true
		return e.start(cfg)
	}
	a := newRoute("a")
	var b *running
	for p := range produced {
		switch {
		case b == nil && p >= n/3:
			b = newRoute("b")
		case b != nil && a != nil && p >= 2*n/3:
			a.stop(t)
			a = nil
		}
	}
	wg.Wait()
	if a != nil {
		t.Fatal("producer finished before the first instance was stopped")
	}
	seen := map[int]bool{}
	waitFor(t, 90*time.Second, "every record", func() bool {
		out := consume(t, k, "people.masked", n*2, 2*time.Second)
		clear(seen)
		for p, seqs := range seqsByPartition(t, out) {
			checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
		}
		return len(seen) == n
	})
}

// TestShutdownDrains: a graceful stop finishes and commits what the route
// took, so a successor starts exactly where it ended: no record lost and
// none produced twice.
func TestShutdownDrains(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(20000)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 2)...)
	start := func(name string) *running {
		cfg := e.routeConfig(name, "people")
		kafkaRoute(t, k, &cfg, []string{"people"}, "g-drain")
		cfg.Sink = kafkaSink(t, k)
		cfg.KeepPartition = true
		return e.start(cfg)
	}
	first := start("first")
	waitFor(t, 30*time.Second, "a tenth of the records", func() bool { return first.route.Status().RecordsOut >= uint64(n/10) })
	first.stop(t)
	st := first.route.Status()
	if st.RecordsIn != st.RecordsOut {
		t.Errorf("stopped with %d records in and %d out: the drain left some behind", st.RecordsIn, st.RecordsOut)
	}
	start("second")
	out := consume(t, k, "people.masked", n, 60*time.Second)
	extra := consume(t, k, "people.masked", n+1, 500*time.Millisecond)
	if len(out) != n || len(extra) != n {
		t.Fatalf("got %d records (then %d), want exactly %d: a graceful stop must not cause duplicates", len(out), len(extra), n)
	}
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
}
