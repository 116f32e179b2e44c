package nats_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestJetStreamSinkRestart stops the server (and starts it again on the
// same port with the same store) under a writer that keeps the sink's
// 1,000 in-flight slots full: up to 1,000 publishes are in flight when the
// server goes away, and 1,000 records are unacknowledged when it comes
// back. Every
// record must be stored exactly once and in write order per subject, with
// every done nil and in write order. Records of subject a carry an origin
// (their Nats-Msg-Id derives from it, as a processor's do); those of
// subject b have none and get the sink's own sequence id.
//
// Recovery must finish within recoveryBound of the restart: a generous
// bound that only catches a sink retrying record by record with backoff
// (the old behaviour took about a minute) or hanging.
func TestJetStreamSinkRestart(t *testing.T) {
	const (
		total         = 4000
		stopAfter     = 1500 // dones seen before the server is stopped
		recoveryBound = 30 * time.Second
	)
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "RESTART", "restart.>"); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{MaxInFlight: 1000, AckTimeout: 2 * time.Second}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	var (
		mu    sync.Mutex
		order []int
		dones atomic.Int64
	)
	stopNow := make(chan struct{})
	ctx := ctxT(t, 2*defaultWait)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range total {
			rec := seqRecord("restart", i)
			rec.Topic = "restart.b"
			if i%2 == 0 {
				rec.Topic = "restart.a"
				rec.Origin = connectors.Origin{Topic: "in.a", Offset: int64(i)}
			}
			if err := sink.Write(ctx, rec, func(err error) {
				if err != nil {
					t.Errorf("record %d: done(%v), want nil after the restart", i, err)
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				if dones.Add(1) == stopAfter {
					close(stopNow)
				}
			}); err != nil {
				t.Errorf("Write %d: %v", i, err)
				return
			}
		}
	})
	select {
	case <-stopNow:
	case <-ctx.Done():
		t.Fatal("the first records were not stored in time")
	}
	n.Shutdown()
	time.Sleep(200 * time.Millisecond) // the client notices and fails what was in flight
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.Background(), recoveryBound)
	defer cancel()
	if err := sink.Flush(flushCtx); err != nil {
		t.Fatalf("records still unacknowledged %s after the restart (a hang or a record-by-record retry): %v", recoveryBound, err)
	}
	t.Logf("all %d records acknowledged %s after the restart", total, time.Since(restarted).Round(time.Millisecond))

	mu.Lock()
	for i, got := range order {
		if got != i {
			mu.Unlock()
			t.Fatalf("done %d was for record %d: out of write order", i, got)
		}
	}
	mu.Unlock()
	js := jsClient(t, n)
	if got := streamCount(t, js, "RESTART"); got != total {
		t.Errorf("stream holds %d messages, want %d (lost or duplicated)", got, total)
	}
	last := map[string]int{"restart.a": -2, "restart.b": -1}
	for _, r := range readStream(t, js, "RESTART", total) {
		_, seq := seqOf(t, r)
		subj := r.Origin.Topic
		if seq != last[subj]+2 {
			t.Fatalf("on %s record %d follows record %d: lost, duplicated or out of order", subj, seq, last[subj])
		}
		last[subj] = seq
	}
}

// TestJetStreamSinkStreamLate writes to a subject no stream captures yet
// (every publish fails with no responders, as while a restarted server
// recovers its streams), then creates the stream: every record is stored
// once, in write order, without a new Write to wake the sink.
func TestJetStreamSinkStreamLate(t *testing.T) {
	n := testenv.StartNATS(t)
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{MaxInFlight: 100, AckTimeout: time.Second}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	const total = 300
	ctx := ctxT(t, defaultWait)
	var (
		wg      sync.WaitGroup
		pending atomic.Int64
	)
	wg.Go(func() {
		for i := range total {
			rec := seqRecord("late", i)
			rec.Topic = "late.x"
			pending.Add(1)
			if err := sink.Write(ctx, rec, func(err error) {
				if err != nil {
					t.Errorf("record %d: done(%v), want nil once the stream exists", i, err)
				}
				pending.Add(-1)
			}); err != nil {
				t.Errorf("Write %d: %v", i, err)
				return
			}
		}
	})
	// Writes block once MaxInFlight records are unacknowledged: the sink
	// is then holding a full window against the missing stream.
	waitFor(t, "a full window of unacknowledged records", func() bool { return pending.Load() > 100 })
	if err := n.CreateStream(ctx, "LATE", "late.>"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	js := jsClient(t, n)
	if got := streamCount(t, js, "LATE"); got != total {
		t.Errorf("stream holds %d messages, want %d", got, total)
	}
	for i, r := range readStream(t, js, "LATE", total) {
		if _, seq := seqOf(t, r); seq != i {
			t.Fatalf("stream message %d is record %d: out of order", i, seq)
		}
	}
}
