package processor_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// refuseProduces makes k refuse every produce while down holds (it starts
// true), counting the refusals.
func refuseProduces(k *testenv.Kafka) (down *atomic.Bool, refused *atomic.Int64) {
	down, refused = new(atomic.Bool), new(atomic.Int64)
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
	return down, refused
}

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

	down, refused := refuseProduces(k)

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
// starts again mid-stream; the route waits, holding no more records than
// its lanes bound while the server is away, and loses nothing. (Order is
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
	const laneQueue = 128
	cfg.LaneQueue = laneQueue
	rn := e.start(cfg)
	waitFor(t, 30*time.Second, "some records through", func() bool { return rn.route.Status().RecordsOut > 0 })

	n.Shutdown()
	produce(t, cl, people("people", count/3, count/3, 2)...)
	// While the sink fails and retries, the route takes records only as
	// its lanes free room: a lane holds at most its queue, its in-flight
	// ring and a chunk being written, far fewer than were just produced.
	held := func() uint64 { st := rn.route.Status(); return st.RecordsIn - st.RecordsOut }
	const bound = 2 * (2*laneQueue + 64)
	var most uint64
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		most = max(most, held())
	}
	if most > bound {
		t.Errorf("the route held %d records while its sink was down; its lanes should have stopped the source at %d", most, bound)
	}
	t.Logf("held at most %d records during the outage (bound %d)", most, bound)
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

// TestTwoInstancesRebalance: two routes share a consumer group while
// records keep coming. The second joins while the first is busy (its sink
// acknowledges slowly, so its lanes always hold records in flight), which
// revokes half the partitions from the first's live lanes; once both have
// produced, the first stops and hands its other lanes over, records in
// flight again. Every record arrives, each partition's in order, and none
// twice: each hand-over commits what was done.
func TestTwoInstancesRebalance(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 4, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	cl := kafkaClient(t, k, manualPartitioner())
	// A backlog first, so the first instance is busy from the start.
	backlog := scale(2000)
	produce(t, cl, people("people", 0, backlog, 4)...)
	var (
		wg       sync.WaitGroup
		produced atomic.Int64
		stopProd = make(chan struct{})
	)
	produced.Store(int64(backlog))
	wg.Go(func() {
		const step = 20
		for seq := backlog; ; seq += step {
			select {
			case <-stopProd:
				return
			case <-time.After(10 * time.Millisecond):
			}
			// Not produce: t.Fatal belongs to the test's goroutine.
			if err := cl.ProduceSync(context.Background(), people("people", seq, step, 4)...).FirstErr(); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			produced.Store(int64(seq + step))
		}
	})
	stopProducing := sync.OnceFunc(func() {
		close(stopProd)
		wg.Wait()
	})
	defer stopProducing()

	newRoute := func(name string, slow bool) *running {
		cfg := e.routeConfig(name, "people")
		kafkaRoute(t, k, &cfg, []string{"people"}, "g-shared")
		cfg.Sink = kafkaSink(t, k)
		cfg.KeepPartition = true
		if slow {
			// At most 16 records in flight per lane, each for 50ms: the
			// lanes stay full, as the producer writes faster than that.
			cfg.Sink = newSlowAcks(cfg.Sink, 50*time.Millisecond)
			cfg.LaneQueue = 16
		}
		return e.start(cfg)
	}
	t0 := time.Now()
	a := newRoute("a", true)
	waitFor(t, 30*time.Second, "the first instance to produce", func() bool { return a.route.Status().RecordsOut > 0 })
	b := newRoute("b", false)
	waitFor(t, 60*time.Second, "the second instance to get partitions and produce", func() bool { return b.route.Status().RecordsOut > 0 })
	// The first kept its other partitions through the rebalance and is
	// still working on them.
	aOut := a.route.Status().RecordsOut
	t.Logf("%v: the second instance produces; the first has produced %d", time.Since(t0).Round(time.Millisecond), aOut)
	waitFor(t, 30*time.Second, "the first instance to go on producing after the rebalance", func() bool { return a.route.Status().RecordsOut > aOut })
	if st := a.route.Status(); st.RecordsIn <= st.RecordsOut {
		t.Fatalf("the first instance holds no records (%d in, %d out): it would not be stopped mid-stream", st.RecordsIn, st.RecordsOut)
	}
	a.stop(t)
	aSt := a.route.Status()
	t.Logf("%v: the first instance stopped after %d records", time.Since(t0).Round(time.Millisecond), aSt.RecordsOut)
	waitFor(t, 60*time.Second, "the second instance to take the first's partitions over", func() bool { return b.route.Status().Lanes == 4 })
	stopProducing()
	n := int(produced.Load())
	t.Logf("%v: the second instance took over; %d records produced in all", time.Since(t0).Round(time.Millisecond), n)

	seen := map[int]bool{}
	var out []*kgo.Record
	waitFor(t, 90*time.Second, "every record", func() bool {
		out = consume(t, k, "people.masked", n+1, 2*time.Second)
		clear(seen)
		for p, seqs := range seqsByPartition(t, out) {
			checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
		}
		return len(seen) == n
	})
	bSt := b.route.Status()
	t.Logf("%d records: %d by the first instance, %d by the second, %d produced twice", n, aSt.RecordsOut, bSt.RecordsOut, len(out)-n)
	if aSt.RecordsOut == 0 || bSt.RecordsOut == 0 {
		t.Errorf("the instances produced %d and %d records: both must take part", aSt.RecordsOut, bSt.RecordsOut)
	}
	if len(out) != n {
		t.Errorf("%d records in the output for %d distinct: a graceful hand-over commits what is done, so none is produced twice", len(out), n)
	}
}

// slowAcks delays every acknowledgement of the sink it wraps, in write
// order, like a broker far away: each record stays in flight for delay,
// and a lane holding LaneQueue records at once cannot go faster than
// LaneQueue/delay.
type slowAcks struct {
	connectors.Sink
	delay   time.Duration
	pending chan delayedAck
	done    chan struct{}
	once    sync.Once
}

type delayedAck struct {
	at   time.Time
	done func(error)
	err  error
}

func newSlowAcks(s connectors.Sink, delay time.Duration) *slowAcks {
	// Room for every record the route can hold, so the wrapped sink's
	// callback never blocks.
	d := &slowAcks{Sink: s, delay: delay, pending: make(chan delayedAck, 1<<16), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for a := range d.pending {
			time.Sleep(time.Until(a.at))
			a.done(a.err)
		}
	}()
	return d
}

func (d *slowAcks) Write(ctx context.Context, rec *connectors.Record, done func(error)) error {
	return d.Sink.Write(ctx, rec, func(err error) { d.pending <- delayedAck{time.Now().Add(d.delay), done, err} })
}

// Close closes the wrapped sink (every callback has come by then), then
// hands out the acknowledgements still delayed.
func (d *slowAcks) Close() error {
	err := d.Sink.Close()
	d.once.Do(func() { close(d.pending) })
	<-d.done
	return err
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

// TestStopDuringOutage: a route stopped while its sink's broker refuses
// every produce gives up at its deadline (stop_timeout, then the sink's
// close_timeout) and returns cleanly. It commits nothing and leaves
// nothing behind to be produced later, so its successor delivers every
// record exactly once.
func TestStopDuringOutage(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(3000)
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 2)...)
	down, refused := refuseProduces(k)
	const stopTimeout, closeTimeout = 2 * time.Second, 2 * time.Second
	start := func(name string) *running {
		cfg := e.routeConfig(name, "people")
		src, err := kafka.NewSource(k.ClusterConfig(), kafka.SourceConfig{Topics: []string{"people"}, Group: "g-stopout", StopTimeout: stopTimeout, CommitInterval: 200 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Source = src
		if cfg.Sink, err = kafka.NewSink(k.ClusterConfig(), kafka.SinkConfig{CloseTimeout: closeTimeout}, nil); err != nil {
			t.Fatal(err)
		}
		cfg.KeepPartition = true
		cfg.LaneQueue = 256
		return e.start(cfg)
	}
	first := start("first")
	waitFor(t, 20*time.Second, "produce requests to be refused", func() bool { return refused.Load() >= 3 })
	// Generous, yet far below the 30s defaults the route was not given.
	stopInOutage(t, k, first, 5*(stopTimeout+closeTimeout), "g-stopout", "no record was acknowledged")

	// The broker is back. Records the stopped route had written must not
	// reach it now: they would be produced without an owner, so twice.
	down.Store(false)
	if extra := consume(t, k, "people.masked", 1, 2*time.Second); len(extra) != 0 {
		t.Fatalf("%d records reached the output after the route had stopped", len(extra))
	}
	start("second")
	out := consume(t, k, "people.masked", n, 60*time.Second)
	extra := consume(t, k, "people.masked", n+1, time.Second)
	if len(out) != n || len(extra) != n {
		t.Fatalf("got %d records (then %d), want exactly %d", len(out), len(extra), n)
	}
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
}

// stopInOutage stops a route during a produce outage and checks the stop
// is graceful (Run returns nil within deadline), that it read records and
// wrote none, and that its group committed no offset (because says why
// none may be).
func stopInOutage(t *testing.T, k *testenv.Kafka, r *running, deadline time.Duration, group, because string) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("stopping during the outage: Run: %v; want nil (a stop past its deadline is still graceful)", err)
		}
		r.done <- nil // for the cleanup's stop
	case <-time.After(deadline):
		t.Fatalf("the route did not stop within %v of being told to", deadline)
	}
	if st := r.route.Status(); st.RecordsIn == 0 || st.RecordsOut != 0 || st.State != processor.StateStopped {
		t.Fatalf("status after the stop: %d in, %d out, %s; want some in, none out (%s), stopped", st.RecordsIn, st.RecordsOut, st.State, because)
	}
	offsets, err := kafkaAdmin(t, k).FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.At > 0 {
			t.Errorf("%s[%d]: offset %d committed although %s", o.Topic, o.Partition, o.At, because)
		}
	})
}
