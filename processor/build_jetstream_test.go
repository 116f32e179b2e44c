package processor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors/nats"
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
