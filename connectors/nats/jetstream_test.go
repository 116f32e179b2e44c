package nats_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

func seqRecord(phase string, i int) *connectors.Record {
	return &connectors.Record{Value: fmt.Appendf(nil, `{"phase":%q,"seq":%d}`, phase, i), Partition: -1}
}

func seqOf(t *testing.T, r *connectors.Record) (string, int) {
	t.Helper()
	var v struct {
		Phase string `json:"phase"`
		Seq   int    `json:"seq"`
	}
	if err := json.Unmarshal(r.Value, &v); err != nil {
		t.Fatalf("bad value %q", r.Value)
	}
	return v.Phase, v.Seq
}

// TestJetStreamSinkOutage stops the server in the middle of a stream of
// writes and starts it again (same port, same store): every done is nil,
// in write order, and the stream holds each record once, in order.
func TestJetStreamSinkOutage(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "OUT", "out.>"); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{MaxInFlight: 50, AckTimeout: 500 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx := ctxT(t, defaultWait)
	const total = 400
	var (
		mu    sync.Mutex
		order []int
	)
	write := func(from, to int) {
		for i := from; i < to; i++ {
			rec := seqRecord("out", i)
			rec.Topic = "out.x"
			// An origin gives the record a stable Nats-Msg-Id, as a
			// processor's records have.
			rec.Origin = connectors.Origin{Topic: "in.x", Offset: int64(i)}
			if err := sink.Write(ctx, rec, func(err error) {
				if err != nil {
					t.Errorf("record %d: done(%v), want nil after the outage", i, err)
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
			}); err != nil {
				t.Errorf("Write %d: %v", i, err)
				return
			}
		}
	}
	write(0, 150)
	n.Shutdown()
	restarted := make(chan error, 1)
	go func() {
		// Writes during the outage fill MaxInFlight and then block: the
		// restart must not wait for them.
		restarted <- n.Restart()
	}()
	write(150, total)
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for i, got := range order {
		if got != i {
			t.Fatalf("done %d was for record %d: out of write order", i, got)
		}
	}
	mu.Unlock()
	js := jsClient(t, n)
	if got := streamCount(t, js, "OUT"); got != total {
		t.Errorf("stream holds %d messages, want %d (lost or duplicated)", got, total)
	}
	for i, r := range readStream(t, js, "OUT", total) {
		if _, seq := seqOf(t, r); seq != i {
			t.Fatalf("stream message %d is record %d: out of order", i, seq)
		}
	}
}

// TestJetStreamSourceOutage keeps a source running while the server goes
// away and comes back: records published before and after all arrive, and
// the acked ones are not delivered again.
func TestJetStreamSourceOutage(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "IN", "in.>"); err != nil {
		t.Fatal(err)
	}
	js := jsClient(t, n)
	for i := range 100 {
		publish(t, js, "in.x", seqRecord("before", i))
	}
	src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "IN", Durable: "d", FetchWait: 500 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	lane := &recordingLane{src: src}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(connectors.LaneID) connectors.Lane { return lane }) }()
	defer func() { cancel(); <-done; src.Close() }()
	waitFor(t, "the first 100 records", func() bool { return lane.count("before") == 100 })

	n.Shutdown()
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	js = jsClient(t, n)
	for i := range 100 {
		publish(t, js, "in.x", seqRecord("after", i))
	}
	waitFor(t, "the 100 records published after the restart", func() bool { return lane.count("after") == 100 })
	for _, phase := range []string{"before", "after"} {
		for seq, c := range lane.seen(t, phase) {
			if c != 1 {
				t.Errorf("%s record %d delivered %d times", phase, seq, c)
			}
		}
	}
}

// recordingLane acks everything at once and remembers it.
type recordingLane struct {
	src  connectors.Source
	mu   sync.Mutex
	recs []*connectors.Record
}

func (l *recordingLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, recs...)
	l.mu.Unlock()
	return l.src.Ack(ctx, recs)
}

func (l *recordingLane) Stop(context.Context) {}

func (l *recordingLane) count(phase string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	seen := map[string]bool{}
	for _, r := range l.recs {
		if strings.Contains(string(r.Value), `"phase":"`+phase+`"`) && !seen[string(r.Value)] {
			seen[string(r.Value)] = true
			n++
		}
	}
	return n
}

func (l *recordingLane) seen(t *testing.T, phase string) map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for _, r := range l.recs {
		if p, seq := seqOf(t, r); p == phase {
			out[seq]++
		}
	}
	return out
}

// TestJetStreamLag is NumPending + NumAckPending: the whole backlog while
// nothing is acked, zero once everything is.
func TestJetStreamLag(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "LAG", "lag.>"); err != nil {
		t.Fatal(err)
	}
	js := jsClient(t, n)
	for i := range 30 {
		publish(t, js, "lag.x", seqRecord("lag", i))
	}
	src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "LAG", Durable: "d"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	lagOf := func() int64 {
		l, err := src.Lag(ctxT(t, defaultWait))
		if err != nil || len(l) != 1 || l[0].Topic != "LAG/d" {
			t.Fatalf("Lag = %v, %v; want one entry for LAG/d", l, err)
		}
		return l[0].Lag
	}
	if got := lagOf(); got != 30 {
		t.Errorf("lag before consuming = %d, want 30", got)
	}
	lane := &recordingLane{src: src}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(connectors.LaneID) connectors.Lane { return lane }) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "lag 0 after acking", func() bool { return lagOf() == 0 })
}

func TestJetStreamSinkPermanentError(t *testing.T) {
	n := testenv.StartNATS(t)
	js := jsClient(t, n)
	if _, err := js.CreateStream(ctxT(t, defaultWait), jetstream.StreamConfig{Name: "SMALL", Subjects: []string{"small.>"}, MaxMsgSize: 256}); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	results := make(chan error, 2)
	for _, size := range []int{1024, 8} {
		rec := &connectors.Record{Topic: "small.x", Value: make([]byte, size), Partition: -1}
		if err := sink.Write(ctxT(t, defaultWait), rec, func(err error) { results <- err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-results; !errors.Is(err, connectors.ErrPermanent) {
		t.Errorf("record over the stream's max_msg_size: done(%v), want ErrPermanent", err)
	}
	if err := <-results; err != nil {
		t.Errorf("small record after it: done(%v), want nil", err)
	}
}

func TestJetStreamSourceMissingStream(t *testing.T) {
	n := testenv.StartNATS(t)
	tests := []struct {
		name string
		cfg  nats.JetStreamSourceConfig
		want string
	}{
		{"no stream", nats.JetStreamSourceConfig{Stream: "NOPE", Durable: "d"}, "stream NOPE not found"},
		{"bind to a missing consumer", nats.JetStreamSourceConfig{Stream: "NOPE", Durable: "d", Bind: true}, "not found"},
		{"invalid config", nats.JetStreamSourceConfig{Stream: "NOPE"}, "durable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nats.NewJetStreamSource(n.ServerConfig(), tt.cfg, testLogger(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewJetStreamSource = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
