package processor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

func TestByteBudgetTake(t *testing.T) {
	rec := func(n int) *connectors.Record { return &connectors.Record{Key: []byte("k"), Value: make([]byte, n-1)} }
	recs := []*connectors.Record{rec(100), rec(100), rec(300)} // charged 200, 200, 600
	for _, tt := range []struct {
		name     string
		limit    int64
		used     int64
		alone    bool
		wantN    int
		wantCost int64
	}{
		{"all fit", 1000, 0, false, 3, 1000},
		{"a prefix fits", 1000, 500, false, 2, 400},
		{"nothing fits", 1000, 900, false, 0, 0},
		{"alone takes one over the budget", 100, 0, true, 1, 200},
		{"alone takes what fits, not only one", 1000, 500, true, 2, 400},
		{"alone with the route over budget", 1000, 5000, true, 1, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newByteBudget(tt.limit)
			b.used.Store(tt.used)
			n, cost := b.take(recs, tt.alone)
			if n != tt.wantN || cost != tt.wantCost {
				t.Fatalf("take = %d records, %d bytes; want %d, %d", n, cost, tt.wantN, tt.wantCost)
			}
			if got := b.used.Load(); got != tt.used+cost {
				t.Fatalf("used %d after taking %d from %d", got, cost, tt.used)
			}
		})
	}
}

// budgetSource is a Source whose lanes the test drives itself.
type budgetSource struct {
	mu    sync.Mutex
	acked int
}

func (s *budgetSource) Run(ctx context.Context, _ func(connectors.LaneID) connectors.Lane) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *budgetSource) Ack(_ context.Context, recs []*connectors.Record) error {
	s.mu.Lock()
	s.acked += len(recs)
	s.mu.Unlock()
	return nil
}

func (s *budgetSource) ackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

func (s *budgetSource) Abandon([]*connectors.Record) {}
func (s *budgetSource) Close() error                 { return nil }

// write is one record a budgetSink holds until the test calls done.
type write struct {
	rec  *connectors.Record
	done func(error)
}

type budgetSink struct{ writes chan write }

func (s *budgetSink) Write(_ context.Context, rec *connectors.Record, done func(error)) error {
	s.writes <- write{rec, done}
	return nil
}
func (s *budgetSink) Flush(context.Context) error { return nil }
func (s *budgetSink) Close() error                { return nil }

func (s *budgetSink) next(t *testing.T) write {
	t.Helper()
	select {
	case w := <-s.writes:
		return w
	case <-time.After(30 * time.Second):
		t.Fatal("no record reached the sink")
		return write{}
	}
}

// budgetRoute is a route with the given budget, one worker (the lane's
// writer masks) and no Run: the test opens lanes and delivers itself.
func budgetRoute(t *testing.T, maxBytes int64) (*Route, *budgetSource, *budgetSink) {
	t.Helper()
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: "testdata/rulesets"}, Compiler(0, 0))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	src, sink := &budgetSource{}, &budgetSink{writes: make(chan write, 1024)}
	r, err := NewRoute(RouteConfig{
		Name: "budget", Ruleset: "people", Rulesets: store,
		Secret: engine.MustSecret("budget-test-secret-0123456789"),
		Source: src, Sink: sink, Workers: 1, MaxBytes: maxBytes,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.unsub)
	return r, src, sink
}

// stopNow stops l without waiting for the sink, abandoning what it holds.
func stopNow(l *lane) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Stop(ctx)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func bigPerson(seq, size int) *connectors.Record {
	v := fmt.Sprintf(`{"seq":%d,"email":"a@example.com","pad":"%s"}`, seq, strings.Repeat("x", size))
	return &connectors.Record{Value: []byte(v), Origin: connectors.Origin{Topic: "people", Offset: int64(seq)}}
}

// TestBudgetOversizedRecordFlowsAlone: records each larger than the whole
// budget still flow, one at a time: a lane holding nothing takes one, and
// takes the next only once the sink has acked it.
func TestBudgetOversizedRecordFlowsAlone(t *testing.T) {
	r, src, sink := budgetRoute(t, 1024)
	l := newLane(r, connectors.LaneID{Topic: "people"})
	defer stopNow(l)
	recs := []*connectors.Record{bigPerson(0, 8<<10), bigPerson(1, 8<<10), bigPerson(2, 8<<10)}
	delivered := make(chan error, 1)
	go func() { delivered <- l.Deliver(context.Background(), recs) }()

	for i := range recs {
		w := sink.next(t)
		// The lane holds one record over the budget: Deliver waits for
		// room rather than take the next.
		if i < len(recs)-1 {
			waitUntil(t, "Deliver to wait for room", func() bool { return r.budget.waiters.Load() == 1 })
		} else if err := <-delivered; err != nil {
			t.Fatal(err)
		}
		if in := r.stats.in.Load(); in != uint64(i+1) {
			t.Fatalf("the lane took %d records while holding record %d, over its budget; want %d", in, i, i+1)
		}
		if held, used := l.held.Load(), r.budget.used.Load(); held <= 1024 || held != used {
			t.Fatalf("lane holds %d bytes, route %d: want one record's worth (> the 1024 budget) in both", held, used)
		}
		w.done(nil)
	}
	// Acked records release their bytes just after the source's Ack.
	waitUntil(t, "every record acked and its bytes released", func() bool {
		return src.ackedCount() == len(recs) && r.budget.used.Load() == 0 && l.held.Load() == 0
	})
}

// TestBudgetReleasesEverything: whatever way a record leaves the lane
// (acked, dead-lettered by the engine, refused for good by the sink and
// dead-lettered, abandoned at stop), its bytes go back to the route.
func TestBudgetReleasesEverything(t *testing.T) {
	r, src, sink := budgetRoute(t, 64<<20)
	l := newLane(r, connectors.LaneID{Topic: "people"})
	recs := []*connectors.Record{
		bigPerson(0, 100),
		{Value: []byte("not json"), Origin: connectors.Origin{Topic: "people", Offset: 1}},
		bigPerson(2, 300<<10), // a masked buffer too big for the pool
		bigPerson(3, 100),     // refused for good: goes to the dead letters
		bigPerson(4, 100),     // left unacked, abandoned at stop
	}
	if err := l.Deliver(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	var ws []write
	for range recs {
		ws = append(ws, sink.next(t))
	}
	for _, w := range ws[:3] {
		w.done(nil)
	}
	ws[3].done(fmt.Errorf("too large: %w", connectors.ErrPermanent))
	sink.next(t).done(nil) // record 3's dead letter; record 4 is never acked
	waitUntil(t, "four records acked", func() bool { return src.ackedCount() == 4 })
	l.ring.mu.Lock()
	s4 := &l.ring.slots[l.ring.head&l.ring.mask]
	want := recBytes(s4.src) + bufBytes(s4.buf)
	l.ring.mu.Unlock()
	if held, used := l.held.Load(), r.budget.used.Load(); held != want || used != want {
		t.Fatalf("lane holds %d bytes, route %d; want both to be record 4's %d (as read and as masked)", held, used, want)
	}
	stopNow(l) // no drain: abandon record 4
	if used := r.budget.used.Load(); used != 0 {
		t.Fatalf("%d bytes still charged after the lane stopped", used)
	}
}
