package nats_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// logBuffer is a goroutine-safe log destination the test can search.
type logBuffer struct{ testenv.LogBuffer }

func (b *logBuffer) count(s string) int { return strings.Count(b.String(), s) }

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var _ io.Writer = (*logBuffer)(nil)

const reconnecting = "nats: disconnected; reconnecting"

// TestCloseIsNotAnOutage: closing sources and sinks logs their disconnect
// as part of the shutdown, never as "reconnecting"; a server going away
// under an open connection still is.
func TestCloseIsNotAnOutage(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "QUIET", "quiet.>"); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	log := logs.logger()
	jsSink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, log)
	if err != nil {
		t.Fatal(err)
	}
	coreSink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{}, log)
	if err != nil {
		t.Fatal(err)
	}
	jsSrc, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "QUIET", Durable: "d"}, log)
	if err != nil {
		t.Fatal(err)
	}
	coreSrc, err := nats.NewCoreSource(n.ServerConfig(), nats.CoreSourceConfig{Subject: "quiet.core"}, log)
	if err != nil {
		t.Fatal(err)
	}
	stored := make(chan error, 1)
	if err := jsSink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: "quiet.x", Value: []byte(`{}`), Partition: -1}, func(err error) { stored <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-stored; err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{jsSink, coreSink, jsSrc, coreSrc} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The disconnect callbacks run after Close returns: wait until all
	// four have logged.
	waitFor(t, "the four disconnect callbacks", func() bool { return logs.count("nats: disconnected while closing") == 4 })
	if got := logs.count(reconnecting); got != 0 {
		t.Errorf("closing logged %q %d times", reconnecting, got)
	}

	// An outage under an open connection is reported.
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	n.Shutdown()
	waitFor(t, "the outage to be logged", func() bool { return logs.count(reconnecting) == 1 })
}

// TestCoreAbandonSaysDropped: a core subject cannot deliver again, so
// giving messages back at a stop past its deadline must say they are
// lost, not leave the operator to think they come back.
func TestCoreAbandonSaysDropped(t *testing.T) {
	n := testenv.StartNATS(t)
	var logs logBuffer
	src, err := nats.NewCoreSource(n.ServerConfig(), nats.CoreSourceConfig{Subject: "gone.core"}, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, tc := range []struct {
		name string
		recs []*connectors.Record
		want int
	}{
		{"nothing held", nil, 0},
		{"three held", []*connectors.Record{{}, {}, {}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := logs.count("messages dropped at stop")
			src.Abandon(tc.recs)
			if got := logs.count("messages dropped at stop") - before; got != tc.want {
				t.Fatalf("%d drop lines, want %d; log:\n%s", got, tc.want, logs.String())
			}
			if tc.want > 0 && !strings.Contains(logs.String(), "messages=3") {
				t.Errorf("the drop line does not count the messages; log:\n%s", logs.String())
			}
		})
	}
}
