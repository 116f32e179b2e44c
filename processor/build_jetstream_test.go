package processor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestJetStreamSourceMapping: a JetStream route's from settings and the
// drain timeout reach the connector's config; ack_wait left out is the
// config's default, which is also the connector's.
func TestJetStreamSourceMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maskstream.yaml")
	if err := os.WriteFile(path, []byte(`
drain_timeout: 45s
nats:
  main: { url: "nats://n:4222" }
routes:
  - name: given
    from: { nats: main, stream: EVENTS, durable: d, subject: "events.>", start: latest, ack_wait: 2m }
    to: { nats: main, jetstream: true }
    ruleset: x
  - name: defaulted
    from: { nats: main, stream: EVENTS }
    to: { nats: main, jetstream: true }
    ruleset: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []nats.JetStreamSourceConfig{
		{Stream: "EVENTS", Durable: "d", FilterSubject: "events.>", DeliverNew: true, AckWait: 2 * time.Minute, StopTimeout: 45 * time.Second},
		{Stream: "EVENTS", Durable: "maskstream-defaulted", AckWait: nats.DefaultAckWait, StopTimeout: 45 * time.Second},
	}
	for i, w := range want {
		if got := jetStreamSourceConfig(cfg, cfg.Routes[i]); got != w {
			t.Errorf("route %s: %+v\nwant %+v", cfg.Routes[i].Name, got, w)
		}
	}
}

// TestJetStreamWholeStreamLoop: a route that reads its whole stream (no
// subject filter) and writes into a subject the stream stores is refused
// at start, naming the subject; the same route writing elsewhere starts.
func TestJetStreamWholeStreamLoop(t *testing.T) {
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := n.CreateStream(ctx, "EV", "events.>"); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "OUT", "masked.>", "maskstream.dlq.>"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ to, want string }{
		{"events.masked.{subject}", `stores "events.>", and its to writes "events.masked.events.x"`},
		{"masked.{subject}", ""},
	} {
		t.Run(tc.to, func(t *testing.T) {
			cfg, err := config.Parse(fmt.Appendf(nil, `
nats:
  main: { url: %q }
routes:
  - name: whole
    from: { nats: main, stream: EV }
    to: { nats: main, jetstream: true, subject: %q }
    ruleset: x
`, n.URL(), tc.to), "")
			if err != nil {
				t.Fatal(err)
			}
			src, err := buildSource(cfg, cfg.Routes[0], &Deps{Getenv: func(string) string { return "" }}, slog.New(slog.DiscardHandler))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				_ = src.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
