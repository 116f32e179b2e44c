package nats_test

import (
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestJetStreamSourceNeverCapsDeliveries: by default the durable consumer
// lets the server redeliver a message without limit. The route enforces
// limits.max_deliveries by dead-lettering the delivery past it; a server
// cap at or below that stops redelivering first, and the message is
// neither masked nor dead-lettered: lost, with no log.
func TestJetStreamSourceNeverCapsDeliveries(t *testing.T) {
	n := testenv.StartNATS(t)
	ctx := ctxT(t, 30*time.Second)
	stream, durable := unique("CAP"), unique("cap")
	if err := n.CreateStream(ctx, stream, stream+".>"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		maxDeliver int
		want       int
	}{{"default", 0, -1}, {"set", 20, 20}} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: stream, Durable: durable + tt.name, MaxDeliver: tt.maxDeliver}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			cons, err := jsClient(t, n).Consumer(ctx, stream, durable+tt.name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := cons.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Config.MaxDeliver; got != tt.want {
				t.Errorf("consumer MaxDeliver = %d, want %d", got, tt.want)
			}
		})
	}
}
