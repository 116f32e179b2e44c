package nats_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestJetStreamSinkDropsServerDirectives: a record carrying the server
// directives of its source message (Nats-TTL above all) is stored as a
// plain message by a stream that allows no per-message TTL, which refused
// it before (err_code 10166); Nats-Msg-Id still deduplicates, and the
// record's own headers arrive.
func TestJetStreamSinkDropsServerDirectives(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "PLAIN", "plain.>"); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx := ctxT(t, defaultWait)
	for i := range 2 { // the same Nats-Msg-Id twice: stored once
		rec := seqRecord("plain", 0)
		rec.Topic = "plain.x"
		rec.Headers = []connectors.Header{
			{Key: "Nats-TTL", Value: []byte("1h")},
			{Key: "Nats-Rollup", Value: []byte("sub")},
			{Key: "Nats-Expected-Last-Sequence", Value: []byte("999")},
			{Key: "Nats-Msg-Id", Value: []byte("source-id-1")},
			{Key: "trace", Value: []byte("t1")},
		}
		got := make(chan error, 1)
		if err := sink.Write(ctx, rec, func(err error) { got <- err }); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatalf("write %d: done(%v), want the record stored", i, err)
		}
	}
	js := jsClient(t, n)
	if got := streamCount(t, js, "PLAIN"); got != 1 {
		t.Errorf("stream holds %d messages, want 1 (Nats-Msg-Id deduplicates)", got)
	}
	m, err := js.Stream(ctx, "PLAIN")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Nats-TTL", "Nats-Rollup", "Nats-Expected-Last-Sequence"} {
		if v := raw.Header.Get(k); v != "" {
			t.Errorf("stored message has %s: %q, want it dropped", k, v)
		}
	}
	if v := raw.Header.Get("Nats-Msg-Id"); v != "source-id-1" {
		t.Errorf("stored Nats-Msg-Id %q, want the record's source-id-1", v)
	}
	if v := raw.Header.Get("trace"); v != "t1" {
		t.Errorf("stored trace header %q, want t1", v)
	}
}

// TestJetStreamSinkPreflight: a fixed subject no stream takes is refused
// before any record flows, naming the subject and the fix; a subject a
// stream takes (through a wildcard) passes, and so does a sink given no
// subject (a templated one).
func TestJetStreamSinkPreflight(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "OUT", "out.>"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		subjects []string
		refused  string // "" when Preflight passes
	}{
		{"taken through a wildcard", []string{"out.x"}, ""},
		{"no subject to check", nil, ""},
		{"no stream", []string{"nowhere.x"}, "nowhere.x"},
		{"one of two", []string{"out.x", "nowhere.y"}, "nowhere.y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{Subjects: tt.subjects}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			err = sink.Preflight(ctxT(t, defaultWait))
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("Preflight = %v, want nil", err)
			case tt.refused != "" && err == nil:
				t.Errorf("Preflight = nil, want subject %s refused", tt.refused)
			case tt.refused != "" && (!strings.Contains(err.Error(), "subject "+tt.refused) || !strings.Contains(err.Error(), "nats stream add")):
				t.Errorf("Preflight = %v, want it to name subject %s and say how to create a stream", err, tt.refused)
			case tt.refused != "" && !errors.Is(err, jetstream.ErrStreamNotFound):
				t.Errorf("Preflight = %v, want it to wrap jetstream.ErrStreamNotFound", err)
			case tt.refused != "" && strings.Contains(err.Error(), "out.x"):
				t.Errorf("Preflight = %v, which also refuses out.x", err)
			}
		})
	}
}

// TestJetStreamSinkRetryError: while a full stream that discards new
// messages refuses a record, the sink says so through RetryError (the
// stream's answer once, without nats.go's doubled "nats: nats:"); once
// the stream has room the record is stored and RetryError is nil again.
func TestJetStreamSinkRetryError(t *testing.T) {
	n := testenv.StartNATS(t)
	js := jsClient(t, n)
	ctx := ctxT(t, defaultWait)
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "FULL", Subjects: []string{"full.>"}, MaxMsgs: 1, Discard: jetstream.DiscardNew})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dones := make(chan error, 2)
	for i := range 2 {
		rec := seqRecord("full", i)
		rec.Topic = "full.x"
		if err := sink.Write(ctx, rec, func(err error) { dones <- err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-dones; err != nil {
		t.Fatalf("first record: done(%v)", err)
	}
	waitFor(t, "RetryError to report the full stream", func() bool { return sink.RetryError() != nil })
	if msg := sink.RetryError().Error(); !strings.Contains(msg, "full.x") || !strings.Contains(msg, "maximum messages") || strings.Contains(msg, "nats: nats:") {
		t.Errorf("RetryError = %q, want the subject and the stream's answer, once", msg)
	}
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-dones:
		if err != nil {
			t.Fatalf("second record: done(%v), want it stored once the stream has room", err)
		}
	case <-ctx.Done():
		t.Fatal("the second record was not stored after the purge")
	}
	if err := sink.RetryError(); err != nil {
		t.Errorf("RetryError = %v after the stream took the record, want nil", err)
	}
}

// TestCoreSinkRetryError: while the server is down the core sink says
// what it retries on; once the batch is flushed, nothing.
func TestCoreSinkRetryError(t *testing.T) {
	n := testenv.StartNATS(t)
	sink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{FlushTimeout: 500 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.RetryError(); err != nil {
		t.Fatalf("RetryError = %v before any write", err)
	}
	n.Shutdown()
	rec := seqRecord("core", 0)
	rec.Topic = "core.x"
	got := make(chan error, 1)
	if err := sink.Write(ctxT(t, defaultWait), rec, func(err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "RetryError during the outage", func() bool { return sink.RetryError() != nil })
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("done(%v) after the restart", err)
	}
	if err := sink.RetryError(); err != nil {
		t.Errorf("RetryError = %v after the flush, want nil", err)
	}
}

// TestCoreSlowConsumerLog: a core subscription that overflows logs the
// slow consumer with how many messages it dropped, and the subject once
// (the source's logger carries it; the handler added it again).
func TestCoreSlowConsumerLog(t *testing.T) {
	n := testenv.StartNATS(t)
	var logs logBuffer
	src, err := nats.NewCoreSource(n.ServerConfig(), nats.CoreSourceConfig{Subject: "slow.>", PendingMessages: 10}, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	lane := &stuckLane{}
	opened := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(connectors.LaneID) connectors.Lane { close(opened); return lane })
	}()
	<-opened
	nc, err := natsgo.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for range 1000 {
		if err := nc.Publish("slow.x", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow consumer warning", func() bool { return logs.count("slow consumer") > 0 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "slow consumer") {
			line = l
			break
		}
	}
	if c := strings.Count(line, "subject="); c != 1 {
		t.Errorf("the warning names the subject %d times, want once: %s", c, line)
	}
	if !regexp.MustCompile(`dropped_so_far=[1-9]`).MatchString(line) {
		t.Errorf("the warning does not say how many messages were dropped: %s", line)
	}
}

// stuckLane takes nothing until its ctx ends, as a lane behind a sink
// that is down.
type stuckLane struct{}

func (stuckLane) Deliver(ctx context.Context, _ []*connectors.Record) error {
	<-ctx.Done()
	return ctx.Err()
}

func (stuckLane) Stop(context.Context) {}
