package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReadBodyGrowsAsBytesArrive: a declared Content-Length is a promise,
// not bytes: 9 bytes of a declared 4 MB body must not cost 4 MB.
func TestReadBodyGrowsAsBytesArrive(t *testing.T) {
	req := httptest.NewRequest("POST", "/v1/mask/x", strings.NewReader(`{"data":[`))
	req.ContentLength = 4 << 20
	buf, err := readBody(req, 5<<20, nil)
	if err != nil || string(buf) != `{"data":[` {
		t.Fatalf("%q, %v", buf, err)
	}
	if cap(buf) > readBodyStart {
		t.Fatalf("9 bytes of a declared 4 MB body hold a buffer of %d bytes; want at most %d", cap(buf), readBodyStart)
	}

	// Bodies larger than the first buffer arrive whole, with or without a
	// declared length, and the buffer stays near the body's size.
	body := bytes.Repeat([]byte("0123456789abcdef"), 50_000) // 800,000 bytes
	for _, declared := range []int64{int64(len(body)), -1} {
		req := httptest.NewRequest("POST", "/v1/mask/x", bytes.NewReader(body))
		req.ContentLength = declared
		buf, err := readBody(req, 1<<20, nil)
		if err != nil || !bytes.Equal(buf, body) {
			t.Fatalf("declared %d: %d bytes read, %v", declared, len(buf), err)
		}
		if declared > 0 && cap(buf) > len(body)+512 {
			t.Errorf("declared %d: buffer of %d bytes for %d", declared, cap(buf), len(body))
		}
	}
	// Over the limit is still refused, declared or not.
	for _, declared := range []int64{-1, 100} {
		req := httptest.NewRequest("POST", "/v1/mask/x", bytes.NewReader(body))
		req.ContentLength = declared
		if _, err := readBody(req, 1000, nil); !errors.As(err, new(*tooLargeError)) {
			t.Errorf("declared %d, 800,000 bytes over a limit of 1000: %v", declared, err)
		}
	}
}

// TestBudgetWaitersInOrder: a waiter that gives up at the front of the
// queue lets the ones behind it in; a smaller one does not jump the queue
// while the one before it still waits.
func TestBudgetWaitersInOrder(t *testing.T) {
	b := newBudget(10)
	ctx := context.Background()
	if err := b.acquire(ctx, 8, time.Minute); err != nil {
		t.Fatal(err)
	}
	bigCtx, giveUp := context.WithCancel(ctx)
	bigDone := make(chan error, 1)
	go func() { bigDone <- b.acquire(bigCtx, 5, time.Minute) }()
	waitForWaiters(t, b, 1)
	smallDone := make(chan error, 1)
	go func() { smallDone <- b.acquire(ctx, 2, time.Minute) }()
	waitForWaiters(t, b, 2)
	// 2 fits, but the 5 came first: the 2 waits.
	if b.inUse() != 8 {
		t.Fatalf("in use %d; the small waiter jumped the queue", b.inUse())
	}
	giveUp()
	if err := <-bigDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiter that gave up: %v", err)
	}
	if err := <-smallDone; err != nil {
		t.Fatalf("the waiter behind it: %v", err)
	}
	b.release(2)
	b.release(8)
	if b.inUse() != 0 {
		t.Fatalf("in use %d after every release", b.inUse())
	}
	// A full budget answers errBusy once the wait passes.
	if err := b.acquire(ctx, 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(ctx, 1, time.Millisecond); !errors.Is(err, errBusy) {
		t.Fatalf("a full budget: %v; want errBusy", err)
	}
	b.release(10)
	if b.inUse() != 0 || b.waiters.Len() != 0 {
		t.Fatalf("in use %d, %d waiters after the busy answer", b.inUse(), b.waiters.Len())
	}
}

func waitForWaiters(t *testing.T, b *budget, n int) {
	t.Helper()
	for range 10_000 {
		b.mu.Lock()
		got := b.waiters.Len()
		b.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d waiters never queued", n)
}
