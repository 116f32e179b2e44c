package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/rulesets/examples"
	"github.com/maskstream/maskstream/testenv"
)

const runTestSecret = "cmd-run-test-secret-0123456789"

// lockedBuffer is a bytes.Buffer safe for a command's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testCLIEnv(vars map[string]string) (*cliEnv, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	return &cliEnv{stdin: strings.NewReader(""), stdout: out, stderr: errOut, getenv: func(k string) string { return vars[k] }}, out, errOut
}

// writeRunConfig writes a config with one Kafka route (orders →
// orders.masked, the orders example ruleset) and returns its path.
func writeRunConfig(t *testing.T, broker, extra string) string {
	t.Helper()
	dir := t.TempDir()
	rs := filepath.Join(dir, "rulesets")
	if err := os.Mkdir(rs, 0o700); err != nil {
		t.Fatal(err)
	}
	src, err := examples.Source("orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rs, "orders.yaml"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`rulesets_dir: rulesets
data_dir: data
drain_timeout: 10s
kafka:
  local: { brokers: [%q] }
routes:
  - name: orders
    from: { kafka: local, topics: [orders] }
    to:   { kafka: local }
    ruleset: orders
%s`, broker, extra)
	path := filepath.Join(dir, "maskstream.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunMasksAndDrains(t *testing.T) {
	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 2, "orders", "orders.masked"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.DefaultProduceTopic("orders"),
		kgo.ConsumeTopics("orders.masked"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	orders := testenv.Orders(7, n)
	for _, o := range orders {
		cl.Produce(ctx, &kgo.Record{Value: o}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	path := writeRunConfig(t, k.Brokers()[0], "")
	env, _, stderr := testCLIEnv(map[string]string{runSecretEnv: runTestSecret})
	runCtx, stop := context.WithCancel(ctx)
	code := make(chan int, 1)
	go func() { code <- runMain(runCtx, env, []string{"run", "-c", path, "-log-format", "json"}) }()

	pollCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n && pollCtx.Err() == nil {
		got = append(got, cl.PollFetches(pollCtx).Records()...)
	}
	stop()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("run exited %d:\n%s", c, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop within 30s of its context ending")
	}
	if len(got) != n {
		t.Fatalf("got %d masked records, want %d", len(got), n)
	}
	originals := map[string]bool{}
	for _, o := range orders {
		originals[string(o)] = true
	}
	for _, r := range got {
		if originals[string(r.Value)] || bytes.Contains(r.Value, []byte(`"card_number":"4`)) && bytes.Equal(r.Value, orders[0]) {
			t.Fatalf("an order passed unmasked: %.120s", r.Value)
		}
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"maskstream starting"`, `"msg":"route"`, `"name":"orders"`, `"msg":"stopped"`, `"from":"` + runSecretEnv + `"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, runTestSecret) {
		t.Error("the run secret appears in the log")
	}
}

func TestRunRefusesWithoutSecret(t *testing.T) {
	path := writeRunConfig(t, "127.0.0.1:1", "")
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"none", nil, "no run secret: set MASKSTREAM_RUN_SECRET"},
		{"too short", map[string]string{runSecretEnv: "short"}, "16 to 256 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, stderr := testCLIEnv(tt.vars)
			if code := runMain(context.Background(), env, []string{"run", "-c", path}); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q, want it to say %q", stderr, tt.want)
			}
		})
	}
}

func TestRunSecretFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte(runTestSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, _ := testCLIEnv(nil)
	sec, from, err := readRunSecret(env, file)
	if err != nil || sec == nil || !strings.Contains(from, file) {
		t.Fatalf("readRunSecret = %v, %q, %v", sec, from, err)
	}
	env, _, _ = testCLIEnv(map[string]string{runSecretEnv: runTestSecret})
	if _, from, _ := readRunSecret(env, file); from != runSecretEnv {
		t.Errorf("with both set, the secret came from %q; the environment wins", from)
	}
}

func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maskstream.yaml")
	if err := os.WriteFile(path, []byte("routes:\n  - name: x\n    form: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, stderr := testCLIEnv(map[string]string{runSecretEnv: runTestSecret})
	if code := runMain(context.Background(), env, []string{"run", "-c", path}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), `maskstream.yaml:3:5: unknown key "form"`) {
		t.Errorf("stderr %q", stderr)
	}
}
