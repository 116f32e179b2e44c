package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/maskstream/maskstream/engine"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/rulesets/examples"
	"github.com/maskstream/maskstream/testenv"
)

const runTestSecret = "cmd-run-test-secret-0123456789"

// lockedBuffer is a log or output destination read while goroutines write.
type lockedBuffer = testenv.LogBuffer

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
	for _, want := range []string{`"msg":"maskstream starting"`, `"msg":"route"`, `"name":"orders"`, `"msg":"stopped"`, `"from":"` + runSecretEnv + `"`,
		`"fingerprint":"` + engine.MustSecret(runTestSecret).Fingerprint() + `"`} {
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
			// A run that starts anyway must fail the test, not hang it: it
			// is stopped after a while and its exit code is then 0.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if code := runMain(ctx, env, []string{"run", "-c", path}); code != 1 {
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

// TestRunSecretSourcesAgree: one secret masks alike whether it comes from
// a file ending in a line break, an environment variable filled from such
// a file (as a Kubernetes secretKeyRef does), or typed without one.
func TestRunSecretSourcesAgree(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte(runTestSecret+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(envValue, file string) *engine.Secret {
		t.Helper()
		env, _, _ := testCLIEnv(map[string]string{runSecretEnv: envValue})
		sec, _, err := readRunSecret(env, file)
		if err != nil || sec == nil {
			t.Fatalf("readRunSecret = %v, %v", sec, err)
		}
		return sec
	}
	want := read(runTestSecret, "").ID()
	for name, sec := range map[string]*engine.Secret{
		"file":             read("", file),
		"env with newline": read(runTestSecret+"\n", ""),
		"env with CRLF":    read(runTestSecret+"\r\n", ""),
		"blank env, file":  read("\n", file),
	} {
		if sec.ID() != want {
			t.Errorf("%s: a different secret from the one typed without a line break", name)
		}
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

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunReloadsOnSIGHUP proves SIGHUP reaches the rulesets watcher of
// `run`: the rulesets dir is polled only once an hour here, so a changed
// ruleset can only take effect through the signal.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a signal to the test process")
	}
	oldInterval := rulesetsPollInterval
	rulesetsPollInterval = time.Hour
	t.Cleanup(func() { rulesetsPollInterval = oldInterval })

	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 1, "orders", "orders.masked"); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.DefaultProduceTopic("orders"),
		kgo.ConsumeTopics("orders.masked"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	path := writeRunConfig(t, k.Brokers()[0], "")
	rulesetFile := filepath.Join(filepath.Dir(path), "rulesets", "orders.yaml")

	env, _, stderr := testCLIEnv(map[string]string{runSecretEnv: runTestSecret})
	runCtx, stop := context.WithCancel(ctx)
	code := make(chan int, 1)
	go func() { code <- runMain(runCtx, env, []string{"run", "-c", path, "-log-format", "json"}) }()
	stopped := false
	defer func() {
		if !stopped {
			stop()
			<-code
		}
	}()
	// runDaemon subscribes to SIGHUP before it logs this line: from here a
	// SIGHUP reloads instead of killing the test binary.
	waitFor(t, 30*time.Second, "run to start", func() bool {
		return strings.Contains(stderr.String(), `"msg":"maskstream starting"`)
	})

	// domains masks n orders and returns how many masked emails end in
	// each domain.
	const n = 50
	var got []*kgo.Record
	domains := func(seed uint64) map[string]int {
		t.Helper()
		for _, o := range testenv.Orders(seed, n) {
			cl.Produce(ctx, &kgo.Record{Value: o}, nil)
		}
		if err := cl.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		pollCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		from := len(got)
		for len(got) < from+n && pollCtx.Err() == nil {
			got = append(got, cl.PollFetches(pollCtx).Records()...)
		}
		if len(got) != from+n {
			t.Fatalf("%d masked records, want %d:\n%s", len(got)-from, n, stderr)
		}
		out := map[string]int{}
		for _, r := range got[from:] {
			var o struct{ Customer struct{ Email string } }
			if err := json.Unmarshal(r.Value, &o); err != nil {
				t.Fatalf("a masked record is not JSON: %v", err)
			}
			_, domain, _ := strings.Cut(o.Customer.Email, "@")
			out[domain]++
		}
		return out
	}
	if d := domains(1); d["example.com"] != n {
		t.Fatalf("before the reload, masked email domains %v, want all %d example.com", d, n)
	}
	src, err := os.ReadFile(rulesetFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(src), `@example.com"`) != 1 {
		t.Fatal("the orders example ruleset no longer has exactly one @example.com email format; update this test")
	}
	if err := os.WriteFile(rulesetFile, []byte(strings.Replace(string(src), `@example.com"`, `@reloaded.test"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p, _ := os.FindProcess(os.Getpid())
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload on SIGHUP", func() bool {
		return strings.Contains(stderr.String(), `"msg":"rulesets reloaded","trigger":"signal"`)
	})
	if d := domains(2); d["reloaded.test"] != n {
		t.Fatalf("after SIGHUP, masked email domains %v, want all %d reloaded.test", d, n)
	}
	stop()
	stopped = true
	if c := <-code; c != 0 {
		t.Fatalf("run exited %d:\n%s", c, stderr)
	}
}

// signalTrigger counts the watcher reloads watchSignals asks for.
type signalTrigger chan struct{}

func (s signalTrigger) Trigger() { s <- struct{}{} }

// TestWatchSignals drives watchSignals with fake signal channels (no real
// signal reaches the test process). The first SIGINT/SIGTERM only starts
// the drain: main's stopOnSignal ends ctx, as the test does here.
// A second one, or a drain stuck past its deadline, forces the exit.
func TestWatchSignals(t *testing.T) {
	tests := []struct {
		name          string
		signals       []os.Signal // sent one by one; the first also ends ctx
		drain, margin time.Duration
		wantExit      bool
		wantLog       string
		gap           time.Duration // between the signals, on watchSignals' clock
	}{
		{"SIGTERM twice", []os.Signal{syscall.SIGTERM, syscall.SIGTERM}, time.Hour, time.Hour, true, "second signal: exiting now", time.Second},
		{"SIGINT twice", []os.Signal{os.Interrupt, os.Interrupt}, time.Hour, time.Hour, true, "second signal: exiting now", time.Second},
		{"SIGINT then SIGTERM", []os.Signal{os.Interrupt, syscall.SIGTERM}, time.Hour, time.Hour, true, "second signal: exiting now", time.Second},
		{"SIGINT then SIGTERM at once", []os.Signal{os.Interrupt, syscall.SIGTERM}, time.Hour, time.Hour, true, "second signal: exiting now", 0},
		// GNU timeout signals the process and its group: one stop, twice.
		{"SIGTERM repeated at once", []os.Signal{syscall.SIGTERM, syscall.SIGTERM}, time.Hour, time.Hour, false, "shutting down: draining the routes", time.Millisecond},
		{"SIGTERM repeated at once, then again", []os.Signal{syscall.SIGTERM, syscall.SIGTERM, syscall.SIGTERM}, time.Hour, time.Hour, true, "second signal: exiting now", 400 * time.Millisecond},
		{"one signal, drain ends in time", []os.Signal{syscall.SIGTERM}, time.Hour, time.Hour, false, "shutting down: draining the routes", 0},
		{"one signal, drain stuck", []os.Signal{syscall.SIGTERM}, time.Millisecond, time.Millisecond, true, "shutdown took far longer than drain_timeout", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exits := make(chan int, 2)
			oldExit, oldMargin, oldNow := forceExit, stuckMargin, signalNow
			forceExit = func(code int) { exits <- code }
			stuckMargin = tt.margin
			var ticks atomic.Int64 // each signal read is tt.gap after the one before
			base := time.Now()
			signalNow = func() time.Time { return base.Add(time.Duration(ticks.Add(1)-1) * tt.gap) }
			t.Cleanup(func() { forceExit, stuckMargin, signalNow = oldExit, oldMargin, oldNow })

			// Unbuffered: a send returns only once watchSignals took it.
			hup, stop := make(chan os.Signal), make(chan os.Signal)
			trig := make(signalTrigger, 1)
			logs := &lockedBuffer{}
			runCtx, endRun := context.WithCancel(context.Background())
			ctx, endCtx := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				watchSignals(runCtx, ctx, runSignals{hup: hup, stop: stop}, trig, tt.drain, slog.New(slog.NewTextHandler(logs, nil)))
			}()
			// Registered after the hooks' restore, so it runs first.
			t.Cleanup(func() {
				endRun()
				endCtx()
				<-done
			})
			send := func(c chan os.Signal, s os.Signal) {
				t.Helper()
				select {
				case c <- s:
				case <-done:
					t.Fatalf("watchSignals returned before %v was sent; log:\n%s", s, logs)
				case <-time.After(30 * time.Second):
					t.Fatalf("watchSignals did not take %v", s)
				}
			}
			reloaded := func() {
				t.Helper()
				select {
				case <-trig:
				case <-time.After(30 * time.Second):
					t.Fatal("SIGHUP did not trigger a reload")
				}
			}

			send(hup, syscall.SIGHUP)
			reloaded()
			for i, s := range tt.signals {
				if i == 0 {
					endCtx() // what stopOnSignal does on the first signal
				}
				send(stop, s)
				if i == len(tt.signals)-1 && tt.wantExit {
					break // the exit comes now, or at the deadline
				}
				// Still serving after it: this signal did not force the
				// exit.
				send(hup, syscall.SIGHUP)
				reloaded()
				select {
				case c := <-exits:
					t.Fatalf("forceExit(%d) after signal %d of %d", c, i+1, len(tt.signals))
				default:
				}
			}
			if !tt.wantExit {
				endRun() // the routes drained: runDaemon ends the helpers
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("watchSignals did not return; log:\n%s", logs)
			}
			select {
			case c := <-exits:
				if !tt.wantExit || c != 1 {
					t.Fatalf("forceExit(%d), want exit %v with 1", c, tt.wantExit)
				}
			default:
				if tt.wantExit {
					t.Fatalf("forceExit not called; log:\n%s", logs)
				}
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs)
			}
		})
	}
}

// TestStopCount: the second stop signal is any after the first, except
// the first one repeated within repeatWindow.
func TestStopCount(t *testing.T) {
	t0 := time.Now()
	for _, tt := range []struct {
		name   string
		second os.Signal
		after  time.Duration
		want   bool
	}{
		{"same at once", syscall.SIGTERM, 0, false},
		{"same just inside the window", syscall.SIGTERM, repeatWindow - time.Millisecond, false},
		{"same at the window's end", syscall.SIGTERM, repeatWindow, true},
		{"same later", syscall.SIGTERM, 3 * time.Second, true},
		{"another at once", os.Interrupt, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c stopCount
			if c.second(syscall.SIGTERM, t0) {
				t.Fatal("the first signal counted as the second")
			}
			if got := c.second(tt.second, t0.Add(tt.after)); got != tt.want {
				t.Errorf("%v %v after SIGTERM: second = %v, want %v", tt.second, tt.after, got, tt.want)
			}
		})
	}
}
