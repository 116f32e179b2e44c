package processor

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/maskstream/maskstream/connectors"
)

// byteBudget bounds the bytes a route's lanes hold (DESIGN §3.8): lanes.queue
// bounds records, which alone lets 1 MiB records pin a gigabyte per
// partition. A lane charges a record when Deliver queues it and releases it
// when the record is acked (or the lane stops), so the charge covers the
// queue, the masking and the sink's in-flight window alike.
//
// A record is charged twice its source bytes when it is queued (as read,
// and an estimate of its masked output), corrected to the masked buffer's
// real size when it is written. Deliver waits while the route is over
// budget, as it waits for room in the queue, except that a lane holding
// nothing may take one record: a record larger than the whole budget
// still flows, alone.
//
// A masked buffer counts its capacity, not its length: a pooled buffer
// grown by a large record pins that much for whoever reuses it.
//
// The hot path is a compare-and-swap per chunk taken and two atomic adds
// (the lane's count, the route's) per chunk written and per batch acked;
// the mutex is only for the channel a waiting Deliver sleeps on.
type byteBudget struct {
	limit   int64
	used    atomic.Int64
	waiters atomic.Int32

	mu    sync.Mutex
	freed chan struct{} // closed (and replaced) when bytes are released to a waiter
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit, freed: make(chan struct{})}
}

// recBytes is what a record read from the source holds.
func recBytes(r *connectors.Record) int64 { return int64(len(r.Key) + len(r.Value)) }

// bufBytes is what a masked-value buffer pins until the sink acks it.
func bufBytes(b *[]byte) int64 {
	if b == nil {
		return 0
	}
	return int64(cap(*b))
}

// take charges the longest prefix of recs whose estimate fits in what is
// left of the budget, one record at least when alone (the lane holds
// nothing). It returns how many records it charged and for how much; 0
// records means the caller must wait.
func (b *byteBudget) take(recs []*connectors.Record, alone bool) (n int, cost int64) {
	for {
		used := b.used.Load()
		room := b.limit - used
		n, cost = 0, 0
		for _, r := range recs {
			c := 2 * recBytes(r)
			if cost+c > room && !(n == 0 && alone) {
				break
			}
			n, cost = n+1, cost+c
		}
		if n == 0 {
			return 0, 0
		}
		if b.used.CompareAndSwap(used, used+cost) {
			return n, cost
		}
	}
}

// release gives back n bytes and wakes the lanes waiting for room.
func (b *byteBudget) release(n int64) {
	b.used.Add(-n)
	if b.waiters.Load() > 0 {
		b.wake()
	}
}

func (b *byteBudget) wake() {
	b.mu.Lock()
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// wait takes a prefix of recs as take does, sleeping while it cannot until
// bytes are released or ctx, stopping or hard end (the lane's reasons to
// give up, reported as Deliver reports them).
func (b *byteBudget) wait(ctx context.Context, l *lane, recs []*connectors.Record) (int, int64, error) {
	if n, cost := b.take(recs, l.held.Load() == 0); n > 0 {
		return n, cost, nil
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	for {
		// Take the channel before looking again, so a release between
		// the look and the sleep still wakes this Deliver.
		b.mu.Lock()
		freed := b.freed
		b.mu.Unlock()
		if n, cost := b.take(recs, l.held.Load() == 0); n > 0 {
			return n, cost, nil
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-l.stopping:
			return 0, 0, errLaneStopped
		case <-l.hard.Done():
			return 0, 0, context.Cause(l.hard)
		}
	}
}

// charge adds n bytes (negative: gives them back) to what l holds, in
// its own count (so it knows when it holds nothing) and its route's.
func (l *lane) charge(n int64) {
	switch {
	case n > 0:
		l.held.Add(n)
		l.r.budget.used.Add(n)
	case n < 0:
		l.held.Add(n)
		l.r.budget.release(-n)
	}
}
