package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors/kafka"
)

// Kafka is a fake Kafka cluster (franz-go's kfake) for tests, benchmarks
// and the demo, running in this process or in its own.
type Kafka struct {
	cluster *kfake.Cluster // nil when the cluster runs in its own process
	brokers []string

	proc     *exec.Cmd // the cluster's process, if any
	procDone chan struct{}
	once     sync.Once
}

// DefaultKafkaOpts are applied before the caller's options (which win): one
// broker, four partitions per auto-created topic, topics created on first
// use. One broker keeps tests fast; pass kfake.NumBrokers(3) to test
// leadership moves.
func DefaultKafkaOpts() []kfake.Opt {
	return []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(4),
		kfake.AllowAutoTopicCreation(),
	}
}

// StartKafka starts an in-process kfake cluster closed when tb ends.
func StartKafka(tb testing.TB, opts ...kfake.Opt) *Kafka {
	tb.Helper()
	k, err := NewKafka(opts...)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(k.Close)
	return k
}

// NewKafka starts an in-process kfake cluster; Close stops it. For the
// demo, which has no testing.TB.
func NewKafka(opts ...kfake.Opt) (*Kafka, error) {
	c, err := kfake.NewCluster(append(DefaultKafkaOpts(), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("testenv: starting kfake: %w", err)
	}
	return &Kafka{cluster: c, brokers: c.ListenAddrs()}, nil
}

// Brokers are the cluster's listen addresses.
func (k *Kafka) Brokers() []string { return k.brokers }

// ClusterConfig is a kafka.ClusterConfig reaching this cluster. Metadata
// may be refreshed every 250ms, so clients recover from injected faults in
// a test's time rather than kgo's default 5s.
func (k *Kafka) ClusterConfig() kafka.ClusterConfig {
	return kafka.ClusterConfig{Brokers: k.Brokers(), ClientID: "maskstream-test", MetadataMinAge: 250 * time.Millisecond}
}

// Cluster is the in-process cluster, for fault injection (ControlKey,
// MoveTopicPartition); nil when the cluster runs in its own process.
func (k *Kafka) Cluster() *kfake.Cluster { return k.cluster }

// RefuseAutoCreate makes the in-process cluster answer as one with
// auto.create.topics.enable=false, as production clusters often are:
// metadata requests never create a topic, whatever the client asks.
func (k *Kafka) RefuseAutoCreate() {
	c := k.cluster
	c.ControlKey(kmsg.Metadata.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req.(*kmsg.MetadataRequest).AllowAutoTopicCreation = false
		return nil, nil, false // kfake answers the amended request
	})
}

// CreateTopics creates topics with the given partition count; existing
// topics are kept.
func (k *Kafka) CreateTopics(ctx context.Context, partitions int32, topics ...string) error {
	return kafka.EnsureTopics(ctx, k.ClusterConfig(), topics, partitions)
}

// Close stops the cluster (in process, or its process). It is idempotent.
func (k *Kafka) Close() {
	k.once.Do(func() {
		if k.cluster != nil {
			k.cluster.Close()
			return
		}
		if k.proc != nil {
			_ = k.proc.Process.Signal(syscall.SIGTERM)
			select {
			case <-k.procDone:
			case <-time.After(10 * time.Second):
				_ = k.proc.Process.Kill()
				<-k.procDone
			}
		}
	})
}

// KafkaProcessOptions configure StartKafkaProcess.
type KafkaProcessOptions struct {
	// Bin is a built testenv/cmd/kfake binary; when empty it is built
	// with `go build` into a temporary directory (the go command must be
	// on PATH, as it is under `go test`).
	Bin string
	// Brokers is the broker count; 1 by default.
	Brokers int
	// Partitions is the partition count of auto-created topics; 4 by
	// default.
	Partitions int
	// Topics are created at start, with Partitions partitions.
	Topics []string
	// Stderr receives the process's log; discarded when nil.
	Stderr io.Writer
}

// StartKafkaProcess runs kfake in its own process, so a benchmark's CPU
// and memory figures are maskstream's alone. The process ends when Close
// is called or ctx ends.
func StartKafkaProcess(ctx context.Context, o KafkaProcessOptions) (*Kafka, error) {
	bin := o.Bin
	if bin == "" {
		var err error
		if bin, err = buildKfake(ctx); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-brokers", fmt.Sprint(max(o.Brokers, 1)),
		"-partitions", fmt.Sprint(cmp0(o.Partitions, 4)),
	}
	if len(o.Topics) > 0 {
		args = append(args, "-topics", strings.Join(o.Topics, ","))
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = o.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("testenv: kfake process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: starting kfake process %s: %w", bin, err)
	}
	if o.Bin == "" {
		// The running process keeps its binary; the directory can go.
		_ = os.RemoveAll(filepath.Dir(bin))
	}
	k := &Kafka{proc: cmd, procDone: make(chan struct{})}
	addrs := make(chan []string, 1)
	go func() {
		// The first line names the brokers; the rest is drained so the
		// process never blocks on a full pipe.
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), kfakeReadyPrefix); ok && first {
				first = false
				addrs <- strings.Split(line, ",")
			}
		}
		close(addrs)
	}()
	go func() {
		_ = cmd.Wait()
		close(k.procDone)
	}()
	select {
	case a, ok := <-addrs:
		if !ok {
			k.Close()
			return nil, errors.New("testenv: kfake process exited before naming its brokers")
		}
		k.brokers = a
		return k, nil
	case <-time.After(30 * time.Second):
		k.Close()
		return nil, errors.New("testenv: kfake process did not start within 30s")
	}
}

// kfakeReadyPrefix starts the line testenv/cmd/kfake prints when ready.
const kfakeReadyPrefix = "KFAKE_BROKERS "

func buildKfake(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp("", "maskstream-kfake-")
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	bin := filepath.Join(dir, "kfake")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/maskstream/maskstream/testenv/cmd/kfake")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: building testenv/cmd/kfake: %w\n%s", err, out)
	}
	return bin, nil
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// ProcessCPU is the CPU time (user and system) the cluster's own process
// has used so far, read from /proc (Linux; 100 clock ticks a second, the
// kernel's USER_HZ everywhere Go runs). It is zero for an in-process
// cluster or where /proc cannot be read: a benchmark uses it to show how
// much of a shared machine the broker took.
func (k *Kafka) ProcessCPU() time.Duration {
	if k.proc == nil || k.proc.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", k.proc.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields we want follow its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	var ticks int64
	for _, s := range f[11:13] {
		var n int64
		if _, err := fmt.Sscan(s, &n); err != nil {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100)
}
