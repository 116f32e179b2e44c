package nats

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"
)

// redactURL drops user information from server URLs for error messages.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = p
		u, err := url.Parse(p)
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("redacted")
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// errLimiter keeps a repeating error from flooding the log.
type errLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (l *errLimiter) allow(key string) bool {
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

// backoff doubles from min to max between retries.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max} }

func (b *backoff) reset() { b.cur = 0 }

// sleep waits the next delay or until done closes; it reports whether the
// full delay passed.
func (b *backoff) sleep(done <-chan struct{}) bool {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
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

// inflight counts written records whose done has not returned, so Flush
// can wait for zero with a ctx.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0
}

func (f *inflight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.zero = make(chan struct{})
	}
	f.n++
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.zero)
	}
}

func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	zero := f.zero
	f.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
