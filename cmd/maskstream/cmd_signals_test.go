package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitExit waits for the child started by startMain to end; a child still
// running after a minute fails the test (it ignored the signal).
func waitExit(t *testing.T, cmd *exec.Cmd, errOut *lockedBuffer) *os.ProcessState {
	t.Helper()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
		return cmd.ProcessState
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after the signal\nstderr:\n%s", errOut)
		return nil
	}
}

// TestMaskStopsOnSIGINT runs `maskstream mask` as its own process, waiting
// for input that does not come, and interrupts it: it must stop at once
// with the interrupted status, its masked records written out.
func TestMaskStopsOnSIGINT(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	t.Setenv(runSecretEnv, maskTestSecret)
	const record = `{"email":"ann@real.nz","name":"Ann"}` + "\n"

	check := func(t *testing.T, cmd *exec.Cmd, out, errOut *lockedBuffer, sig syscall.Signal, code int) {
		t.Helper()
		// The masked line shows mask is running (main caught the
		// signals before it started) and now waits for input.
		waitFor(t, time.Minute, "the masked record", func() bool { return strings.Contains(out.String(), "x@example.com") })
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		st := waitExit(t, cmd, errOut)
		if st.ExitCode() != code {
			t.Fatalf("exit status %d (%v), want %d\nstderr:\n%s", st.ExitCode(), st, code, errOut)
		}
		if n := strings.Count(out.String(), "\n"); n != 1 {
			t.Errorf("%d lines written, want the 1 masked record", n)
		}
		if !strings.Contains(errOut.String(), "interrupted: 1 records masked and written out") {
			t.Errorf("stderr lacks the interruption:\n%s", errOut)
		}
	}

	t.Run("stdin pipe, SIGINT", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close() // the writer stays open: mask waits for more
		cmd, out, errOut := startMainStdin(t, r, "mask", "-r", rs)
		if _, err := w.WriteString(record); err != nil {
			t.Fatal(err)
		}
		check(t, cmd, out, errOut, syscall.SIGINT, 130)
	})

	t.Run("fifo nobody opened, SIGTERM", func(t *testing.T) {
		// Opening a fifo waits for a writer, which never comes.
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("no fifo here: %v", err)
		}
		first := writeFile(t, dir, "first.ndjson", record)
		cmd, out, errOut := startMain(t, "mask", "-r", rs, first, fifo)
		check(t, cmd, out, errOut, syscall.SIGTERM, 143)
	})
}

// TestServeSecondSignalStops runs `maskstream serve` as its own process
// with a request in flight whose body never ends. The first SIGTERM lets
// in-flight requests finish; the second must kill the process at once
// rather than wait for the shutdown deadline.
func TestServeSecondSignalStops(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	t.Setenv(runSecretEnv, serveTestSecret)
	cmd, _, errOut := startMain(t, "serve", "-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
	var addr string
	waitFor(t, time.Minute, "serve to listen", func() bool {
		m := listenRE.FindStringSubmatch(errOut.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server answers "100 Continue" when the handler starts reading
	// the body: from then on the request is in flight.
	if _, err := conn.Write([]byte("POST /v1/mask/people HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
		"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, " 100 ") {
		t.Fatalf("want 100 Continue, got %q, %v\nstderr:\n%s", status, err, errOut)
	}
	if _, err := conn.Write([]byte(`{"data":[`)); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// serve logs this once main has given the signals back.
	waitFor(t, time.Minute, "serve to start stopping", func() bool {
		return strings.Contains(errOut.String(), "a second signal stops at once")
	})
	// The same signal again at once is taken as the first one repeated
	// (stopCount): the second comes well after.
	time.Sleep(3 * repeatWindow)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st := waitExit(t, cmd, errOut)
	// Killed by the signal, not ended by the shutdown deadline (which
	// exits 1 after cutting the request).
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("serve ended with %v, want killed by the second SIGTERM\nstderr:\n%s", st, errOut)
	}
}

// TestStopOnSignalLeavesOtherSubscribers: main gives SIGINT back after the
// first one, but a command's own subscription (run's and demo's
// notifySignals) keeps catching it, so watchSignals still sees the second
// signal and forces the exit itself.
func TestStopOnSignalLeavesOtherSubscribers(t *testing.T) {
	if testing.Short() {
		t.Skip("sends SIGINT to the test process")
	}
	sigs := notifySignals() // what runDaemon holds: the test process survives SIGINT
	defer sigs.release()
	ctx, stop := stopOnSignal(context.Background())
	defer stop()
	self, _ := os.FindProcess(os.Getpid())
	for i := 1; i <= 2; i++ {
		if err := self.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sigs.stop:
		case <-time.After(time.Minute):
			t.Fatalf("SIGINT %d did not reach the command's own subscription", i)
		}
		if i == 1 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
				t.Fatal("the first SIGINT did not end ctx")
			}
			if c := interruptedCode(ctx); c != 130 {
				t.Errorf("interrupted by SIGINT: exit status %d, want 130", c)
			}
		}
	}
}
