package processor_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// childEnv marks the test binary re-executed as a processor process.
const childEnv = "MASKSTREAM_PROCESSOR_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// Child modes, given in childModeEnv.
const (
	childModeEnv         = "MASKSTREAM_PROCESSOR_TEST_MODE"
	childAtLeastOnce     = "at_least_once"
	childExactlyOnce     = "exactly_once"
	childTransactionalID = "kill-eos"
)

// runChild is a processor process: one Kafka→Kafka route with the
// people ruleset, until SIGTERM (graceful) or SIGKILL. In exactly_once
// mode the route is transactional.
func runChild() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Tell the test SIGTERM is handled from now on: a signal sent before
	// this point would kill the process instead of draining it.
	if err := os.WriteFile(os.Getenv("READY_FILE"), nil, 0o600); err != nil {
		log.Error("ready file", "err", err)
		return 1
	}
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: os.Getenv("RULESETS")}, processor.Compiler(0, 0))
	if err := store.Load(); err != nil {
		log.Error("rulesets", "err", err)
		return 1
	}
	cluster := kafka.ClusterConfig{Brokers: strings.Split(os.Getenv("BROKERS"), ",")}
	srcCfg := kafka.SourceConfig{Topics: []string{"people"}, Group: "g-kill", CommitInterval: 200 * time.Millisecond,
		// The killed process stays in the group until its session times out.
		SessionTimeout: 6 * time.Second}
	var (
		src  connectors.Source
		sink connectors.Sink
		err  error
	)
	if os.Getenv(childModeEnv) == childExactlyOnce {
		// One transactional id across restarts: the successor fences the
		// transaction the killed process left open, which aborts it.
		src, sink, err = kafka.NewTransactionalRoute(cluster, srcCfg, kafka.SinkConfig{}, childTransactionalID, log)
	} else {
		if src, err = kafka.NewSource(cluster, srcCfg, log); err == nil {
			sink, err = kafka.NewSink(cluster, kafka.SinkConfig{}, log)
		}
	}
	if err != nil {
		log.Error("connectors", "err", err)
		return 1
	}
	r, err := processor.NewRoute(processor.RouteConfig{
		Name: "people", Source: src, Sink: sink, Ruleset: "people", Rulesets: store,
		Secret: engine.MustSecret(testSecret), KeepPartition: true, Logger: log,
	})
	if err != nil {
		log.Error("route", "err", err)
		return 1
	}
	if err := r.Run(ctx); err != nil {
		log.Error("run", "err", err)
		return 1
	}
	return 0
}

// TestKillAndRestart SIGKILLs a processor process in the middle of the
// stream and starts another: every record reaches the output (duplicates
// allowed), none unmasked, each partition in order.
func TestKillAndRestart(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	res := killAndRestart(t, childAtLeastOnce, n)
	t.Logf("%d records, killed after %d, %d produced in all (%d duplicates)", n, res.killedAt, res.total, res.total-n)
}

// TestKillAndRestartExactlyOnce is TestKillAndRestart with a
// transactional route: a read_committed consumer sees every record
// exactly once, although the first process died with a transaction open.
func TestKillAndRestartExactlyOnce(t *testing.T) {
	n := scale(30_000)
	res := killAndRestart(t, childExactlyOnce, n, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var dups int
	for _, c := range res.count {
		if c > 1 {
			dups++
		}
	}
	if len(res.count) != n || res.total != n || dups != 0 {
		t.Fatalf("%d records read for %d distinct, %d of them more than once; want exactly %d, each once", res.total, len(res.count), dups, n)
	}
	if extra := consume(t, res.k, "people.masked", n+1, 2*time.Second, kgo.FetchIsolationLevel(kgo.ReadCommitted())); len(extra) != n {
		t.Fatalf("a fresh read_committed consumer read %d records after the processes ended, want exactly %d", len(extra), n)
	}
	t.Logf("%d records, killed after %d", n, res.killedAt)
}

// killResult is what the output consumer saw in killAndRestart.
type killResult struct {
	k        *testenv.Kafka
	count    map[int]int // times each seq was read
	total    int
	killedAt int // distinct records the killed process had produced
}

// killAndRestart runs a child process in mode over n records, SIGKILLs it
// mid-stream, starts another that runs until every record is out, and
// stops it with SIGTERM. It checks the kill came mid-stream, every output
// record is masked and each partition is in order (repeats of earlier
// records aside), and returns what a consumer with readOpts read.
func killAndRestart(t *testing.T, mode string, n int, readOpts ...kgo.Opt) killResult {
	t.Helper()
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 4, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, n, 4)...)

	var (
		mu    sync.Mutex
		res   = killResult{k: k, count: map[int]int{}}
		parts = map[int32][]int{}
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	cl := kafkaClient(t, k, append([]kgo.Opt{kgo.ConsumeTopics("people.masked"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, readOpts...)...)
	wg.Go(func() {
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			mu.Lock()
			for _, r := range fs.Records() {
				seq := checkMaskedNoFatal(r.Value)
				if seq < 0 {
					t.Errorf("unmasked or broken record in the output: %.100q", r.Value)
					continue
				}
				res.count[seq]++
				res.total++
				parts[r.Partition] = append(parts[r.Partition], seq)
			}
			mu.Unlock()
		}
	})
	progress := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(res.count)
	}

	var logs bytes.Buffer
	first := startChild(t, k, e.dir, mode, &logs)
	waitFor(t, 60*time.Second, "a third of the records through the first process", func() bool { return progress() >= n/3 })
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	// Everything the killed process got into the log (committed, for a
	// read_committed reader): it must be part of the stream, not all of it,
	// or the restart proves nothing.
	before := map[int]bool{}
	for _, r := range consume(t, k, "people.masked", n, 3*time.Second, readOpts...) {
		before[checkMasked(t, r.Value)] = true
	}
	res.killedAt = len(before)
	if res.killedAt == 0 || res.killedAt >= n {
		t.Fatalf("the first process had produced %d of %d records when it was killed: the kill did not come mid-stream", res.killedAt, n)
	}

	second := startChild(t, k, e.dir, mode, &logs)
	waitFor(t, 120*time.Second, "every record", func() bool { return progress() == n })
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("the second process did not stop cleanly: %v\n%s", err, logs.String())
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	order := map[int]bool{}
	for p, seqs := range parts {
		checkOrder(t, fmt.Sprintf("partition %d", p), seqs, order)
	}
	return res
}

func startChild(t *testing.T, k *testenv.Kafka, rulesetsDir, mode string, logs *bytes.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	ready := filepath.Join(t.TempDir(), "ready")
	cmd.Env = append(os.Environ(), childEnv+"=1", "BROKERS="+strings.Join(k.Brokers(), ","), "RULESETS="+rulesetsDir, "READY_FILE="+ready, childModeEnv+"="+mode)
	cmd.Stderr = &syncWriter{w: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitFor(t, 30*time.Second, "the processor process to handle signals", func() bool {
		_, err := os.Stat(ready)
		return err == nil
	})
	return cmd
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
