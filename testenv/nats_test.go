package testenv_test

import (
	"context"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/testenv"
)

// checkRestart stores a message, restarts the server and expects the same
// URL to serve the same stream.
func checkRestart(t *testing.T, n *testenv.NATS) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.CreateStream(ctx, "KEEP", "keep.>"); err != nil {
		t.Fatal(err)
	}
	nc, err := natsgo.Connect(n.URL(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "keep.a", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	url := n.URL()
	n.Shutdown()
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if n.URL() != url {
		t.Errorf("URL changed across Restart: %s then %s", url, n.URL())
	}
	// The old connection reconnects to the same address. Each attempt has
	// its own short deadline: a request sent while the connection was
	// down can be lost, and would otherwise wait out the whole test's.
	var msg *jetstream.RawStreamMsg
	for msg == nil {
		actx, acancel := context.WithTimeout(ctx, time.Second)
		s, err := js.Stream(actx, "KEEP")
		if err == nil {
			msg, err = s.GetMsg(actx, 1)
		}
		acancel()
		if ctx.Err() != nil {
			t.Fatalf("stream KEEP not back after Restart: %v", err)
		}
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if string(msg.Data) != "kept" {
		t.Errorf("message after Restart = %q, want kept", msg.Data)
	}
}

func TestStartNATS(t *testing.T) {
	checkRestart(t, testenv.StartNATS(t))
}

func TestNewNATS(t *testing.T) {
	n, err := testenv.NewNATS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	if n.ServerConfig().URL != n.URL() {
		t.Errorf("ServerConfig().URL = %s, want %s", n.ServerConfig().URL, n.URL())
	}
	n.Shutdown()
	n.Shutdown() // idempotent
}

func TestStartExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the nats-server binary; skipped in -short mode")
	}
	n := testenv.StartExternalNATS(t)
	nc, err := natsgo.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("external nats-server %s", nc.ConnectedServerVersion())
	nc.Close()
	checkRestart(t, n)
}
