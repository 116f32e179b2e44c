package nats_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// holdingLane takes every record and acks none, as a lane behind a sink
// that is down does, until the test acks them.
type holdingLane struct {
	mu   sync.Mutex
	recs []*connectors.Record
}

func (l *holdingLane) Deliver(_ context.Context, recs []*connectors.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, recs...)
	l.mu.Unlock()
	return nil
}

func (l *holdingLane) Stop(context.Context) {}

func (l *holdingLane) held() []*connectors.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*connectors.Record(nil), l.recs...)
}

// runSource runs src into lane until the test ends or the returned stop
// is called; stop returns Run's error.
func runSource(t *testing.T, src *nats.JetStreamSource, lane connectors.Lane) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(connectors.LaneID) connectors.Lane { return lane }) }()
	var (
		once sync.Once
		err  error
	)
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
			src.Close()
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func consumerInfo(t *testing.T, js jetstream.JetStream, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(ctxT(t, defaultWait), stream, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctxT(t, defaultWait))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestJetStreamSourceKeepsHeldAlive: messages the lane holds for several
// ack waits (a sink that is down) are not redelivered, neither to this
// source nor to another instance on the same durable, and are acked once
// the lane is done with them.
func TestJetStreamSourceKeepsHeldAlive(t *testing.T) {
	const (
		count   = 20
		ackWait = 2 * time.Second
	)
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "HELD", "held.>"); err != nil {
		t.Fatal(err)
	}
	js := jsClient(t, n)
	for i := range count {
		publish(t, js, "held.x", seqRecord("held", i))
	}
	cfg := nats.JetStreamSourceConfig{Stream: "HELD", Durable: "d", AckWait: ackWait, FetchWait: 500 * time.Millisecond, StopTimeout: 5 * time.Second}
	src, err := nats.NewJetStreamSource(n.ServerConfig(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	lane := &holdingLane{}
	stop := runSource(t, src, lane)
	waitFor(t, "the records in the lane", func() bool { return len(lane.held()) == count })

	// A second instance: the server would hand it whatever it redelivers.
	other, err := nats.NewJetStreamSource(n.ServerConfig(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	otherLane := &recordingLane{src: other}
	stopOther := runSource(t, other, otherLane)

	// Hold them more than two ack waits: unkept, each would come back at
	// least twice.
	time.Sleep(2*ackWait + ackWait/4)
	info := consumerInfo(t, js, "HELD", "d")
	if info.NumRedelivered != 0 || info.NumAckPending != count {
		t.Errorf("while held: %d redelivered, %d awaiting ack; want 0 and %d", info.NumRedelivered, info.NumAckPending, count)
	}
	held := lane.held()
	for i, r := range held {
		if _, seq := seqOf(t, r); seq != i || r.Attempt != 1 {
			t.Errorf("lane record %d is record %d, delivery %d; want record %d, delivery 1", i, seq, r.Attempt, i)
		}
	}
	if got := otherLane.count("held"); got != 0 {
		t.Errorf("the other instance got %d of the held records", got)
	}

	if err := src.Ack(ctxT(t, defaultWait), held); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every record acked", func() bool {
		info := consumerInfo(t, js, "HELD", "d")
		return info.NumAckPending == 0 && info.NumPending == 0
	})
	if err := stop(); err != nil && err != context.Canceled {
		t.Errorf("Run = %v", err)
	}
	if err := stopOther(); err != nil && err != context.Canceled {
		t.Errorf("other Run = %v", err)
	}
	if got := len(lane.held()); got != count {
		t.Errorf("lane got %d records, want %d", got, count)
	}
}

// TestJetStreamSourceDropsRedeliveryOfHeld: when the server redelivers a
// message the lane still holds (its keep-alive came too late, as after a
// reconnect), the copy is not handed to the lane a second time, and the
// lane's ack of the first copy settles it.
func TestJetStreamSourceDropsRedeliveryOfHeld(t *testing.T) {
	const count = 10
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "REDO", "redo.>"); err != nil {
		t.Fatal(err)
	}
	js := jsClient(t, n)
	for i := range count {
		publish(t, js, "redo.x", seqRecord("redo", i))
	}
	var logs logBuffer
	src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "REDO", Durable: "d", FetchWait: 500 * time.Millisecond, StopTimeout: 5 * time.Second}, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	lane := &holdingLane{}
	stop := runSource(t, src, lane)
	waitFor(t, "the records in the lane", func() bool { return len(lane.held()) == count })

	// Nak three of them from another connection, as the server's own
	// redelivery would: the source's handles stay unacked.
	nc, err := natsgo.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	held := lane.held()
	for _, r := range held[:3] {
		if err := nc.Publish(r.Token.(jetstream.Msg).Reply(), []byte("-NAK")); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivered copies to be dropped", func() bool {
		return logs.count("redelivered a message this source still holds") == 3 || len(lane.held()) > count
	})
	if err := src.Ack(ctxT(t, defaultWait), held); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every record acked", func() bool {
		info := consumerInfo(t, js, "REDO", "d")
		return info.NumAckPending == 0 && info.NumPending == 0
	})
	if err := stop(); err != nil && err != context.Canceled {
		t.Errorf("Run = %v", err)
	}
	got := lane.held()
	if len(got) != count {
		t.Errorf("lane got %d records, want %d: a redelivery of a held message was handed over again", len(got), count)
	}
	for i, r := range got {
		if _, seq := seqOf(t, r); seq != i {
			t.Errorf("lane record %d is record %d", i, seq)
		}
	}
}

// gateLane is a full lane: Deliver blocks until the gate opens (the lane
// drains) or ctx ends, when it gives the records back as the processor's
// lane does. Past the gate it keeps the records and acks them.
type gateLane struct {
	src  connectors.Source
	gate chan struct{}
	// blocked is closed when the first Deliver waits at the gate.
	blocked chan struct{}
	once    sync.Once
	recordingLane
}

func newGateLane(src connectors.Source) *gateLane {
	return &gateLane{src: src, gate: make(chan struct{}), blocked: make(chan struct{}), recordingLane: recordingLane{src: src}}
}

func (l *gateLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	l.once.Do(func() { close(l.blocked) })
	select {
	case <-l.gate:
		return l.recordingLane.Deliver(ctx, recs)
	case <-ctx.Done():
		l.src.Abandon(recs)
		return ctx.Err()
	}
}

// TestJetStreamSourceStopKeepsOrder: a graceful stop while the lane is full
// lets the pull in progress go to the lane once it drains, rather than nak
// it: the next run starts after it, and the stream comes out in order.
// Only at the stop's deadline is what the lane did not take given back.
func TestJetStreamSourceStopKeepsOrder(t *testing.T) {
	for _, tt := range []struct {
		name string
		// drains: the lane drains after the stop began, within its
		// deadline; else it stays full and the records are given back.
		drains bool
	}{{"lane drains", true}, {"deadline passes", false}} {
		t.Run(tt.name, func(t *testing.T) {
			const count = 300
			n := testenv.StartNATS(t)
			if err := n.CreateStream(ctxT(t, defaultWait), "ORDER", "order.>"); err != nil {
				t.Fatal(err)
			}
			js := jsClient(t, n)
			for i := range count {
				publish(t, js, "order.x", seqRecord("order", i))
			}
			// A record lost at the stop would come back only after
			// AckWait, past the test's wait.
			cfg := nats.JetStreamSourceConfig{Stream: "ORDER", Durable: "d", AckWait: 2 * defaultWait, FetchWait: 500 * time.Millisecond, StopTimeout: time.Second}
			if tt.drains {
				cfg.StopTimeout = 10 * time.Second
			}
			src, err := nats.NewJetStreamSource(n.ServerConfig(), cfg, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			first := newGateLane(src)
			stop := runSource(t, src, first)
			<-first.blocked
			stopped := make(chan error, 1)
			go func() { stopped <- stop() }()
			if tt.drains {
				// Give the stop time to begin before the lane drains.
				time.Sleep(100 * time.Millisecond)
				close(first.gate)
			}
			if err := <-stopped; err != context.Canceled {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			took := first.count("order")
			if tt.drains && took == 0 {
				t.Fatal("the lane drained after the stop began but got none of the pull in progress")
			}
			if !tt.drains && took != 0 {
				t.Fatalf("the lane stayed full but got %d records", took)
			}

			src2, err := nats.NewJetStreamSource(n.ServerConfig(), cfg, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			second := &recordingLane{src: src2}
			stop2 := runSource(t, src2, second)
			waitFor(t, "the rest of the stream", func() bool { return second.count("order") == count-took })
			if err := stop2(); err != context.Canceled {
				t.Errorf("second Run = %v, want context.Canceled", err)
			}
			var got []int
			for _, l := range []*recordingLane{&first.recordingLane, second} {
				for _, r := range l.recs {
					_, seq := seqOf(t, r)
					got = append(got, seq)
				}
			}
			if len(got) != count {
				t.Errorf("%d deliveries, want %d", len(got), count)
			}
			if !tt.drains {
				// Given back with a delay (see Abandon), they may come after
				// later records, but each comes once, well within AckWait.
				slices.Sort(got)
			}
			for i, seq := range got {
				if seq != i {
					t.Fatalf("delivery %d is record %d (the first run took %d): lost, repeated or out of order", i, seq, took)
				}
			}
		})
	}
}

// TestJetStreamSourceAckWaitBounds: an ack wait under MinAckWait is refused
// before connecting (keep-alives would flood the server).
func TestJetStreamSourceAckWaitBounds(t *testing.T) {
	for _, tt := range []struct {
		ackWait time.Duration
		ok      bool
	}{{0, true}, {nats.MinAckWait, true}, {time.Hour, true}, {nats.MinAckWait - time.Millisecond, false}, {-time.Second, false}} {
		err := nats.JetStreamSourceConfig{Stream: "S", Durable: "d", AckWait: tt.ackWait}.Validate()
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "ack_wait")) {
			t.Errorf("AckWait %v: Validate = %v, want ok=%v", tt.ackWait, err, tt.ok)
		}
	}
}
