package httpapi

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// budget is a weighted semaphore over the mask-request body bytes the
// server holds at once. The per-token rate limit counts requests, not
// bytes, and a request lives as long as its client takes to send the body
// (up to ReadTimeout), so without it one token could keep thousands of
// full-size bodies in memory. golang.org/x/sync/semaphore would do, but is
// not a dependency; this is the part of it the server needs.
//
// Waiters are served first come, first served: a large request is not
// starved by a stream of small ones that keep slipping in ahead of it.
type budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters list.List // of *waiter
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when the weight is granted
}

func newBudget(size int64) *budget { return &budget{size: size} }

// clamp caps a weight at the budget's size, so that a request larger than
// the whole budget (but within the body limit) still runs, alone.
func (b *budget) clamp(n int64) int64 { return min(max(n, 1), b.size) }

// errBusy is acquire's answer when the budget stayed full for the whole
// wait.
var errBusy = errors.New("httpapi: the in-flight body budget is full")

// acquire takes n, waiting up to wait for it to fit. It returns errBusy
// when the wait passes, ctx's error when ctx ends first; with an error it
// holds nothing, without one the caller must release n. The wait has its own timer rather than a context
// deadline so the common case, room at once, allocates nothing.
func (b *budget) acquire(ctx context.Context, n int64, wait time.Duration) error {
	b.mu.Lock()
	if b.size-b.used >= n && b.waiters.Len() == 0 {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errBusy
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Granted as the wait ended: the caller holds n and releases it.
		return nil
	default:
	}
	front := b.waiters.Front() == elem
	b.waiters.Remove(elem)
	// Waiters queued behind a large one that gave up may fit now.
	if front {
		b.grant()
	}
	return err
}

// release returns n taken by acquire.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic("httpapi: budget released more than was acquired")
	}
	b.grant()
	b.mu.Unlock()
}

// grant wakes the waiters at the front whose weight fits, in order. b.mu
// is held.
func (b *budget) grant() {
	for {
		front := b.waiters.Front()
		if front == nil {
			return
		}
		w := front.Value.(*waiter)
		if b.size-b.used < w.n {
			return
		}
		b.used += w.n
		b.waiters.Remove(front)
		close(w.ready)
	}
}

// inUse is the weight held now (tests).
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
