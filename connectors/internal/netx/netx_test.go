package netx

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInflightWait(t *testing.T) {
	var f Inflight
	if err := f.Wait(context.Background()); err != nil {
		t.Fatalf("wait with nothing in flight: %v", err)
	}
	f.Add()
	f.Add()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Wait(ctx); err == nil {
		t.Fatal("wait returned nil with records in flight and its ctx ended")
	}
	waited := make(chan error, 1)
	go func() { waited <- f.Wait(context.Background()) }()
	f.Done()
	f.Add() // the count touches zero only at the end
	f.Done()
	f.Done()
	if err := <-waited; err != nil {
		t.Fatalf("wait: %v", err)
	}
	if n := f.Len(); n != 0 {
		t.Fatalf("in flight = %d after every done, want 0", n)
	}
}

func TestBackoff(t *testing.T) {
	b := &Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}
	done := make(chan struct{})
	for _, want := range []time.Duration{1, 2, 4, 4} {
		if !b.Sleep(done) {
			t.Fatal("Sleep returned false with done open")
		}
		if b.cur != want*time.Millisecond {
			t.Fatalf("delay %v, want %v", b.cur, want*time.Millisecond)
		}
	}
	b.Reset()
	close(done)
	b.Min = time.Hour
	if b.Sleep(done) {
		t.Fatal("Sleep returned true with done closed")
	}
}

func TestErrLimiter(t *testing.T) {
	var l ErrLimiter
	if !l.Allow("a") || l.Allow("a") || !l.Allow("b") {
		t.Fatal("want the first of each key allowed and a repeat refused")
	}
}

func TestTLSBuild(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  TLSConfig
		want string
	}{
		{"defaults", TLSConfig{ServerName: "kafka.internal"}, ""},
		{"missing ca", TLSConfig{CAFile: filepath.Join(dir, "none.pem")}, "reading TLS ca_file"},
		{"not pem", TLSConfig{CAFile: bad}, "holds no PEM certificate"},
		{"bad pair", TLSConfig{CertFile: bad, KeyFile: bad}, "matching PEM pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := tt.cfg.Build()
			if tt.want == "" {
				if err != nil || tc.MinVersion < 0x0303 || tc.ServerName != tt.cfg.ServerName {
					t.Fatalf("Build() = %v, %v", tc, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build() error %v, want %q", err, tt.want)
			}
		})
	}
}
