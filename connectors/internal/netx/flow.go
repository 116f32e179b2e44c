package netx

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLimiter keeps a repeating error from flooding the log: Allow reports
// true for a key at most once every 30 s. The zero value is ready to use.
type ErrLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// Allow reports whether the message keyed by key may be logged now.
func (l *ErrLimiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = make(map[string]time.Time)
	}
	now := time.Now()
	if t, ok := l.last[key]; ok && now.Sub(t) < 30*time.Second {
		return false
	}
	if len(l.last) > 256 {
		clear(l.last)
	}
	l.last[key] = now
	return true
}

// Backoff doubles from Min to Max between retries. It is owned by one
// goroutine.
type Backoff struct {
	Min, Max, cur time.Duration
}

// Reset starts the next Sleep from Min again.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits the next delay or until done closes; it reports whether the
// full delay passed.
func (b *Backoff) Sleep(done <-chan struct{}) bool {
	if b.cur == 0 {
		b.cur = b.Min
	} else {
		b.cur = min(2*b.cur, b.Max)
	}
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// Inflight counts written records whose done callback has not returned, so
// a Flush can wait for zero with a ctx. Add and Done are lock-free on the
// per-record path; only a waiter takes the mutex.
type Inflight struct {
	n    atomic.Int64
	mu   sync.Mutex
	zero chan struct{} // closed (and cleared) when n drops to 0 while someone waits
}

// Add counts one more record in flight.
func (f *Inflight) Add() { f.n.Add(1) }

// Done counts one record finished.
func (f *Inflight) Done() {
	if f.n.Add(-1) != 0 {
		return
	}
	f.mu.Lock()
	if f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
	f.mu.Unlock()
}

// Len is the number in flight now.
func (f *Inflight) Len() int64 { return f.n.Load() }

// Wait returns when nothing is in flight, or ctx's error.
func (f *Inflight) Wait(ctx context.Context) error {
	for {
		f.mu.Lock()
		if f.n.Load() == 0 {
			f.mu.Unlock()
			return nil
		}
		if f.zero == nil {
			f.zero = make(chan struct{})
		}
		zero := f.zero
		f.mu.Unlock()
		// A wake-up may be stale (the count touched zero and rose again):
		// look again.
		select {
		case <-zero:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
