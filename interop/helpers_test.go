//go:build interop

// Package interop checks maskstream against real third-party software: kcat
// (librdkafka) on a Kafka route, Debian's nats-server 2.9 as its own
// process on a JetStream route, headless Chromium on the status page,
// promtool on the Prometheus config and alert rules, and a static check of
// the Dockerfile, docker-compose.yml and Grafana dashboard (no Docker
// engine exists on these machines).
//
// Run it with `make test-interop`, which builds bin/maskstream and sets
// MASKSTREAM_BIN. A test that runs the binary skips when MASKSTREAM_BIN is
// unset; a missing tool (kcat, nats-server, chromium, promtool) is a
// failure, because .ci/run installs them all. Every test is bounded in
// time and kills the process groups it started.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/testenv"
)

// runSecret is the run secret every maskstream process of these tests
// uses. It is a test constant, never printed.
const runSecret = "interop-run-secret-7c1e0b9a4f2d"

// maskstreamBin returns the binary under test, skipping the test when
// MASKSTREAM_BIN is unset (a plain `go test -tags interop` run).
func maskstreamBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("MASKSTREAM_BIN")
	if bin == "" {
		t.Skip("MASKSTREAM_BIN is unset: run `make test-interop`, which builds bin/maskstream and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("MASKSTREAM_BIN=%s: %v; build it with `make build`", bin, err)
	}
	return bin
}

// tool finds a third-party program, failing the test when it is missing:
// CI installs every tool these tests use (see .ci/run), so a missing one is
// a broken environment, not a reason to skip. extra are places to look
// when the program is not on PATH (Debian puts nats-server in /usr/sbin).
func tool(t *testing.T, name, pkg string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range extra {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is not installed: apt-get install %s (.ci/run installs it)", name, pkg)
	return ""
}

// repoRoot is the module root: the folder above interop/.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's source file")
	}
	root := filepath.Dir(filepath.Dir(file))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod above %s: %v", file, err)
	}
	return root
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testCtx is a context that ends when the test's deadline nears or after
// limit, whichever is first.
func testCtx(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}

// ------------------------------------------------------------ PROCESSES

// proc is a process started in its own process group, so the group
// (chromium's renderers, anything maskstream might fork) is killed with it.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// lockedBuffer collects output while goroutines write.
type lockedBuffer = testenv.LogBuffer

// start runs bin in its own process group with env added to the test's
// environment. The group is killed when the test ends; when the test
// failed, the process's output is logged (maskstream never logs record
// values or the secret, so this is safe).
func start(t *testing.T, name, bin string, args []string, env ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.killGroup()
		if t.Failed() {
			t.Logf("--- output of %s (%s):\n%s", name, strings.Join(append([]string{bin}, args...), " "), tail(p.out.String(), 8000))
		}
	})
	return p
}

// killGroup kills the whole process group and waits for the leader.
func (p *proc) killGroup() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits up to limit for the process to exit,
// returning its exit error (nil for exit status 0).
func (p *proc) stop(limit time.Duration) error {
	if p.exited() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		return fmt.Errorf("%s did not exit within %v of SIGTERM", p.name, limit)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// run runs a short command and returns its stdout; stderr is returned in
// the error. The command is killed (with its group) when ctx ends.
func run(ctx context.Context, stdin io.Reader, bin string, args ...string) ([]byte, []byte, error) {
	return runEnv(ctx, nil, stdin, bin, args...)
}

// runEnv is run with env added to the test's environment.
func runEnv(ctx context.Context, env []string, stdin io.Reader, bin string, args ...string) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		// Whatever the command left behind in its group (chromium's
		// helpers) goes with it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, tail(stderr.String(), 4000))
	}
	return stdout.Bytes(), stderr.Bytes(), err
}

// ------------------------------------------------------------- MASKSTREAM

// daemon is a `maskstream run` process with its HTTP server on addr.
type daemon struct {
	*proc
	addr string
}

// startDaemon writes cfgYAML (checked with the config package first, so a
// mistake in the test's config reads as one) and runs `maskstream run`
// until /readyz answers 200.
func startDaemon(t *testing.T, ctx context.Context, bin, cfgYAML, httpAddr string) *daemon {
	t.Helper()
	path := filepath.Join(t.TempDir(), "maskstream.yaml")
	if err := os.WriteFile(path, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path); err != nil {
		t.Fatalf("the test's config does not validate: %v\n%s", err, cfgYAML)
	}
	d := &daemon{addr: httpAddr}
	d.proc = start(t, "maskstream run", bin, []string{"run", "-c", path}, "MASKSTREAM_RUN_SECRET="+runSecret)
	waitReady(t, ctx, d.proc, "http://"+httpAddr+"/readyz", 30*time.Second)
	return d
}

// waitReady polls url until it answers 200, failing if p exits first.
func waitReady(t *testing.T, ctx context.Context, p *proc, url string, limit time.Duration) {
	t.Helper()
	var last string
	waitFor(t, ctx, limit, p.name+" to answer 200 on "+url, func() bool {
		if p.exited() {
			t.Fatalf("%s exited before it was ready: %v", p.name, p.err)
		}
		code, body, err := httpGet(url)
		if err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("%d %s", code, strings.TrimSpace(string(body)))
		return code == http.StatusOK
	}, func() string { return "last answer: " + last })
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

func httpGet(url string) (int, []byte, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, b, err
}

// waitFor polls cond every 200ms until it holds, or limit passes, or ctx
// ends (the test's own time limit); the failure message adds detail()
// when given.
func waitFor(t *testing.T, ctx context.Context, limit time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, limit = d, time.Until(d)
	}
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("timed out after %v waiting for %s", limit, what)
			for _, d := range detail {
				msg += "; " + d()
			}
			t.Fatal(msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// metric returns the value of the sample of name whose labels include
// every label of want, from a Prometheus text exposition.
func metric(exposition []byte, name string, want map[string]string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		labels := ""
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			if end < 0 {
				continue
			}
			labels, rest = rest[1:end], rest[end+1:]
		} else if !strings.HasPrefix(rest, " ") {
			continue // a longer name with the same prefix
		}
		ok := true
		for k, v := range want {
			if !strings.Contains(","+labels+",", ","+k+"="+strconv.Quote(v)+",") {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.Fields(rest)[0]), 64)
		if err != nil {
			continue
		}
		return f, true
	}
	return 0, false
}
