package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors/nats"
)

// NATS is a NATS server with JetStream for tests and the demo: embedded
// in this process, or an external nats-server binary. Shutdown and
// Restart keep the port and the store, so clients reconnect to the same
// address and find their streams and consumers again.
type NATS struct {
	dir  string
	port int

	// opts adjust the embedded server's options at every start, so a
	// Restart keeps its authentication and TLS.
	opts []NATSOption

	mu  sync.Mutex
	srv *server.Server // embedded, while running
	ext *exec.Cmd      // external, while running
	bin string         // external binary
}

// NATSOption adjusts the embedded server's options (users, nkeys, TLS...)
// after the defaults are set. Host, Port and StoreDir are kept as
// testenv chose them, so URL and Restart keep working. CreateStream and
// ServerConfig carry no credentials: with authentication on, a test
// connects with its own.
type NATSOption func(*server.Options)

// StartNATS starts an embedded server with JetStream stored in a
// tb.TempDir(), shut down when tb ends.
func StartNATS(tb testing.TB, opts ...NATSOption) *NATS {
	tb.Helper()
	n, err := NewNATS(tb.TempDir(), opts...)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(n.Shutdown)
	return n
}

// NewNATS starts an embedded server with JetStream stored in dir on a
// free port of 127.0.0.1. Shutdown stops it. For the demo.
func NewNATS(dir string, opts ...NATSOption) (*NATS, error) {
	n := &NATS{dir: dir, port: -1, opts: opts}
	if err := n.startEmbedded(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *NATS) startEmbedded() error {
	opts := &server.Options{
		ServerName: "maskstream-test",
		Host:       "127.0.0.1",
		Port:       n.port,
		JetStream:  true,
		StoreDir:   n.dir,
		NoLog:      true,
		NoSigs:     true,
		// Small, so a test never fills a small disk by accident.
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  1 << 30,
	}
	for _, o := range n.opts {
		o(opts)
	}
	opts.Host, opts.Port, opts.StoreDir = "127.0.0.1", n.port, n.dir
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("testenv: nats-server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return errors.New("testenv: nats-server not ready within 10s")
	}
	n.mu.Lock()
	n.srv = srv
	n.port = srv.Addr().(*net.TCPAddr).Port
	n.mu.Unlock()
	return nil
}

// URL is the client URL, stable across Restart.
func (n *NATS) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// ServerConfig is a nats.ServerConfig reaching this server.
func (n *NATS) ServerConfig() nats.ServerConfig {
	return nats.ServerConfig{URL: n.URL(), Name: "maskstream-test"}
}

// Shutdown stops the server; clients see a disconnect. It is idempotent.
func (n *NATS) Shutdown() {
	n.mu.Lock()
	srv, ext := n.srv, n.ext
	n.srv, n.ext = nil, nil
	n.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	if ext != nil {
		_ = ext.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = ext.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = ext.Process.Kill()
			<-done
		}
	}
}

// Restart starts the server again on the same port with the same store
// (after Shutdown; if it is running it is shut down first).
func (n *NATS) Restart() error {
	n.Shutdown()
	if n.bin != "" {
		return n.startExternal()
	}
	return n.startEmbedded()
}

// CreateStream creates (or updates) a file-backed stream.
func (n *NATS) CreateStream(ctx context.Context, name string, subjects ...string) error {
	nc, err := natsgo.Connect(n.URL())
	if err != nil {
		return fmt.Errorf("testenv: connecting to nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: subjects, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("testenv: creating stream %s: %w", name, err)
	}
	return nil
}

// StartExternalNATS runs the nats-server binary found on PATH (Debian's
// package ships 2.9) as its own process, with JetStream stored in a
// tb.TempDir(), for interop tests. It skips the test when the binary is
// missing.
func StartExternalNATS(tb testing.TB) *NATS {
	tb.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		tb.Skip("testenv: nats-server binary not on PATH (apt-get install nats-server); skipping the interop test")
	}
	n := &NATS{dir: tb.TempDir(), bin: bin}
	if n.port, err = freePort(); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if err := n.startExternal(); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(n.Shutdown)
	return n
}

func (n *NATS) startExternal() error {
	cmd := exec.Command(n.bin, "-js", "-sd", n.dir, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if testing.Testing() && !testing.Verbose() {
		cmd.Stdout, cmd.Stderr = nil, nil
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testenv: starting %s: %w", n.bin, err)
	}
	n.mu.Lock()
	n.ext = cmd
	n.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		nc, err := natsgo.Connect(n.URL(), natsgo.Timeout(time.Second))
		if err == nil {
			js, jerr := jetstream.New(nc)
			if jerr == nil {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_, jerr = js.AccountInfo(ctx)
				cancel()
			}
			nc.Close()
			if jerr == nil {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.Shutdown()
	return fmt.Errorf("testenv: %s did not accept JetStream requests on port %d within 10s", n.bin, n.port)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
