package processor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// settleSource is a Source that records what the lane acked and what it
// gave back, in call order.
type settleSource struct {
	budgetSource
	mu        sync.Mutex
	acked     []*connectors.Record
	abandoned []*connectors.Record
}

func (s *settleSource) Ack(_ context.Context, recs []*connectors.Record) error {
	s.mu.Lock()
	s.acked = append(s.acked, recs...)
	s.mu.Unlock()
	return nil
}

func (s *settleSource) Abandon(recs []*connectors.Record) {
	s.mu.Lock()
	s.abandoned = append(s.abandoned, recs...)
	s.mu.Unlock()
}

// settled returns what s acked and what it was given back.
func (s *settleSource) settled() (acked, abandoned []*connectors.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*connectors.Record(nil), s.acked...), append([]*connectors.Record(nil), s.abandoned...)
}

// settleRoute is a route over a settleSource and a budgetSink (also its
// dead-letter destination) whose lanes have 4 slots, changed by opts; the
// test opens the lane itself.
func settleRoute(t *testing.T, opts ...func(*RouteConfig)) (*Route, *settleSource, *budgetSink) {
	t.Helper()
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: "testdata/rulesets"}, Compiler(0, 0))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	src, sink := &settleSource{}, &budgetSink{writes: make(chan write, 1024)}
	cfg := RouteConfig{
		Name: "settle", Ruleset: "people", Rulesets: store,
		Secret: engine.MustSecret("settle-test-secret-0123456789"),
		Source: src, Sink: sink, Workers: 1, LaneQueue: 4,
	}
	for _, o := range opts {
		o(&cfg)
	}
	r, err := NewRoute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.unsub)
	return r, src, sink
}

// TestLaneStopGivesBackEveryRecord: a lane stopped without draining, while
// its ring is full and part of a chunk is still unwritten, acks only what
// the sink acknowledged and gives every other record back to the source,
// in order: the ones in flight at the sink and the ones the writer took
// from its queue but never wrote. A record neither acked nor given back
// waits out a JetStream source's ack wait, and a core NATS one loses it.
func TestLaneStopGivesBackEveryRecord(t *testing.T) {
	r, src, sink := settleRoute(t)
	l := newLane(r, connectors.LaneID{Topic: "people"})
	var recs []*connectors.Record
	for i := range 10 { // one chunk, more than the ring's 4 slots
		recs = append(recs, bigPerson(i, 10))
	}
	if err := l.Deliver(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	// The ring is full: records 0-3 are at the sink, the writer waits
	// for a slot to write record 4.
	ws := []write{sink.next(t), sink.next(t), sink.next(t), sink.next(t)}
	ws[0].done(nil)
	ws[1].done(nil)
	waitUntil(t, "records 0 and 1 acked and record 4 written", func() bool {
		acked, _ := src.settled()
		return len(acked) == 2 && len(sink.writes) > 0
	})
	stopNow(l)
	ws[2].done(nil) // too late: the lane was abandoned

	acked, abandoned := src.settled()
	got := append(acked, abandoned...)
	if len(acked) != 2 || len(got) != len(recs) {
		t.Fatalf("%d records acked and %d given back, want 2 acked and %d given back", len(acked), len(abandoned), len(recs)-2)
	}
	for i, rec := range got {
		if rec != recs[i] {
			t.Fatalf("record %d acked or given back is offset %d, want offset %d: each record exactly once, in order", i, rec.Origin.Offset, recs[i].Origin.Offset)
		}
	}
}

// TestLaneTransientSinkErrorFailsRoute: a sink that fails a record with an
// error that may pass (not connectors.ErrPermanent) stops the route: the
// record is not dead-lettered (a broker blip must not divert healthy
// records) and nothing after it is acked, though the sink took it; the
// lane gives both back to the source to read again.
func TestLaneTransientSinkErrorFailsRoute(t *testing.T) {
	r, src, sink := settleRoute(t)
	l := newLane(r, connectors.LaneID{Topic: "people"})
	recs := []*connectors.Record{bigPerson(0, 10), bigPerson(1, 10)}
	if err := l.Deliver(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	w0, w1 := sink.next(t), sink.next(t)
	w1.done(nil)
	w0.done(errors.New("broker connection reset"))
	failed := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.fatal != nil
	}
	waitUntil(t, "the route to fail or write a dead letter", func() bool { return failed() || len(sink.writes) > 0 })
	if len(sink.writes) > 0 {
		w := <-sink.writes
		t.Fatalf("a transient sink error sent offset %d to the dead letters (headers %q); want the route to fail", w.rec.Origin.Offset, w.rec.Headers)
	}
	stopNow(l)
	acked, abandoned := src.settled()
	if len(acked) != 0 || len(abandoned) != 2 || abandoned[0] != recs[0] || abandoned[1] != recs[1] {
		t.Fatalf("%d records acked and %d given back; want none acked and both given back in order", len(acked), len(abandoned))
	}
}

// TestMaxDeliveriesBoundary: limits.max_deliveries is how many deliveries
// a record may have: the delivery that reaches it is still masked, the
// next one is dead-lettered.
func TestMaxDeliveriesBoundary(t *testing.T) {
	r, _, sink := settleRoute(t, func(c *RouteConfig) { c.MaxDeliveries = 2 })
	l := newLane(r, connectors.LaneID{Topic: "people"})
	defer stopNow(l)
	recs := []*connectors.Record{bigPerson(0, 10), bigPerson(1, 10), bigPerson(2, 10)}
	for i, rec := range recs {
		rec.Attempt = i + 1
	}
	if err := l.Deliver(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", "", ReasonMaxDeliveries + ": "} {
		w := sink.next(t)
		var reason string
		for _, h := range w.rec.Headers {
			if h.Key == HeaderError {
				reason = string(h.Value)
			}
		}
		if w.rec.Origin.Offset != int64(i) || !strings.HasPrefix(reason, want) || (want == "") != (reason == "") {
			t.Errorf("delivery %d of at most 2 (offset %d): dead-letter error %q, want %q", i+1, w.rec.Origin.Offset, reason, want)
		}
		w.done(nil)
	}
}
