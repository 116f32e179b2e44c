package testenv

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/maskstream/maskstream/connectors"
)

// collector is the processor's stand-in in the conformance suite: it
// opens lanes, records what they receive, and checks the Lane contract
// (no Deliver after Stop, no concurrent Deliver, Stop once).
type collector struct {
	src connectors.Source

	// ackEvery, when true, acks each delivered batch at once.
	ackEvery bool
	// gate, when non-nil, is received from before each Deliver returns:
	// a closed or empty channel models a lane that is full.
	gate chan struct{}

	mu       sync.Mutex
	lanes    map[connectors.LaneID]*testLane
	all      []*connectors.Record
	opened   int
	stops    int
	problems []string
	changed  chan struct{} // nudged on every delivery and stop
}

func newCollector(src connectors.Source, ackEvery bool) *collector {
	return &collector{
		src: src, ackEvery: ackEvery,
		lanes:   make(map[connectors.LaneID]*testLane),
		changed: make(chan struct{}, 1),
	}
}

func (c *collector) nudge() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *collector) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// open is the func given to Source.Run.
func (c *collector) open(id connectors.LaneID) connectors.Lane {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened++
	l := &testLane{id: id, c: c}
	if old := c.lanes[id]; old != nil && !old.stopped.Load() {
		c.problems = append(c.problems, fmt.Sprintf("lane %v opened again before its Stop", id))
	}
	c.lanes[id] = l
	return l
}

// records returns a copy of everything delivered so far.
func (c *collector) records() []*connectors.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*connectors.Record(nil), c.all...)
}

func (c *collector) laneRecords() map[connectors.LaneID][]*connectors.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[connectors.LaneID][]*connectors.Record)
	for _, r := range c.all {
		id := r.Token.(laneTag).id
		out[id] = append(out[id], r)
	}
	return out
}

// wait blocks until cond (checked under no lock, on a snapshot) holds or
// ctx ends.
func (c *collector) wait(ctx context.Context, cond func([]*connectors.Record) bool) error {
	for {
		if cond(c.records()) {
			return nil
		}
		select {
		case <-c.changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for records: %w", ctx.Err())
		}
	}
}

// laneTag wraps the source's Token so the suite knows each record's lane;
// it is unwrapped before the record goes back to the source.
type laneTag struct {
	id    connectors.LaneID
	token any
}

type testLane struct {
	id         connectors.LaneID
	c          *collector
	delivering atomic.Bool
	stopped    atomic.Bool

	mu      sync.Mutex
	pending []*connectors.Record // delivered, not acked, in order
}

func (l *testLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	if l.stopped.Load() {
		l.c.problem("Deliver on lane %v after its Stop", l.id)
	}
	if !l.delivering.CompareAndSwap(false, true) {
		l.c.problem("concurrent Deliver on lane %v", l.id)
	}
	defer l.delivering.Store(false)
	if g := l.c.gate; g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	l.pending = append(l.pending, recs...)
	l.mu.Unlock()
	l.c.mu.Lock()
	for _, r := range recs {
		cp := *r
		cp.Token = laneTag{id: l.id, token: r.Token}
		l.c.all = append(l.c.all, &cp)
	}
	l.c.mu.Unlock()
	l.c.nudge()
	if l.c.ackEvery {
		return l.ack(ctx, len(recs))
	}
	return nil
}

// ack acks the lane's first n pending records.
func (l *testLane) ack(ctx context.Context, n int) error {
	l.mu.Lock()
	n = min(n, len(l.pending))
	batch := l.pending[:n:n]
	l.pending = l.pending[n:]
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	if err := l.c.src.Ack(ctx, batch); err != nil {
		l.c.problem("Ack on lane %v: %v", l.id, err)
		return nil
	}
	return nil
}

// Stop abandons what was never acked, as the processor does when its
// shutdown deadline passes.
func (l *testLane) Stop(context.Context) {
	if !l.stopped.CompareAndSwap(false, true) {
		l.c.problem("Stop called twice on lane %v", l.id)
	}
	l.mu.Lock()
	rest := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(rest) > 0 {
		l.c.src.Abandon(rest)
	}
	l.c.mu.Lock()
	l.c.stops++
	l.c.mu.Unlock()
	l.c.nudge()
}
