package nats_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestCoreRoundTrip: the core sink's records reach a running core source
// in order with their headers, and each done is nil after the flush.
func TestCoreRoundTrip(t *testing.T) {
	n := testenv.StartNATS(t)
	src, err := nats.NewCoreSource(n.ServerConfig(), nats.CoreSourceConfig{Subject: "core.>", Queue: "q"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	lane := &recordingLane{src: src}
	opened := make(chan connectors.LaneID, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(id connectors.LaneID) connectors.Lane { opened <- id; return lane })
	}()
	defer func() { src.Close() }()
	if id := <-opened; id.Topic != "core.>/q" {
		t.Errorf("lane %v, want core.>/q", id)
	}
	// Run registers the subscription at the server before it opens the
	// lane, so publishing may start now.

	sink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	const total = 300
	var (
		mu    sync.Mutex
		order []int
	)
	for i := range total {
		rec := seqRecord("core", i)
		rec.Topic = "core.x"
		rec.Headers = []connectors.Header{{Key: "trace", Value: []byte("t1")}, {Key: "trace", Value: []byte("t2")}}
		if err := sink.Write(ctxT(t, defaultWait), rec, func(err error) {
			if err != nil {
				t.Errorf("done(%v)", err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctxT(t, defaultWait)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all core records", func() bool { return lane.count("core") == total })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
	for i, got := range order {
		if got != i {
			t.Fatalf("done %d was for record %d", i, got)
		}
	}
	lane.mu.Lock()
	defer lane.mu.Unlock()
	for i, r := range lane.recs {
		if _, seq := seqOf(t, r); seq != i {
			t.Fatalf("record %d arrived as %d: out of order", i, seq)
		}
		if r.Origin.Offset != -1 || r.Origin.Topic != "core.x" || r.Timestamp.IsZero() {
			t.Errorf("record %d origin %+v timestamp %v", i, r.Origin, r.Timestamp)
		}
		if len(r.Headers) != 2 || string(r.Headers[0].Value) != "t1" || string(r.Headers[1].Value) != "t2" {
			t.Errorf("record %d headers %v", i, r.Headers)
		}
	}
}

// TestCoreSinkOutage: records written while the server is down are
// published once it is back, in order (a stream capturing the subject is
// the witness), and done is nil for each.
func TestCoreSinkOutage(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "WITNESS", "w.>"); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{FlushTimeout: 500 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	n.Shutdown()
	var (
		mu    sync.Mutex
		order []int
	)
	const total = 50
	for i := range total {
		rec := seqRecord("w", i)
		rec.Topic = "w.x"
		if err := sink.Write(ctxT(t, defaultWait), rec, func(err error) {
			if err != nil {
				t.Errorf("done(%v)", err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctxT(t, defaultWait)); err != nil {
		t.Fatal(err)
	}
	js := jsClient(t, n)
	recs := readStream(t, js, "WITNESS", total)
	for i, r := range recs {
		if _, seq := seqOf(t, r); seq != i {
			t.Fatalf("witness message %d is record %d", i, seq)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != total {
		t.Errorf("%d done calls, want %d", len(order), total)
	}
}

func TestCoreSinkPermanentError(t *testing.T) {
	n := testenv.StartNATS(t)
	sink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	got := make(chan error, 1)
	// The embedded server's max_payload is 1MB.
	if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: "big", Value: make([]byte, 2<<20)}, func(err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, connectors.ErrPermanent) {
		t.Errorf("done(%v), want ErrPermanent", err)
	}
}
