package processor_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// benchRecords is the backlog each variant of BenchmarkKafkaRoute masks;
// MASKSTREAM_BENCH_RECORDS overrides it (1000000 checks memory under a
// large backlog).
func benchRecords() int {
	if s := os.Getenv("MASKSTREAM_BENCH_RECORDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 200_000
}

type benchResult struct {
	records   int
	bytes     int64
	wall      time.Duration
	cpu       time.Duration // this process's
	brokerCPU time.Duration // the broker process's, over the same time
	peakRSS   int64         // bytes
	variant   string
}

func (r benchResult) rate() float64 { return float64(r.records) / r.wall.Seconds() }

// BenchmarkKafkaRoute masks a backlog of generated order records from one
// topic into another, with the broker in its own process so the CPU and
// memory figures are maskstream's alone. Three variants run against the
// same broker: a plain franz-go consume->produce copy (DESIGN §9's
// baseline: what the route costs beyond moving records), the route with a
// ruleset that masks nothing (the same code path, the engine's scanner
// only: the pass-through) and the route with orders.yaml; it
// reports each and the ratios. Each variant runs
// once whatever b.N is: run it with -benchtime 1x (make bench-kafka).
// MASKSTREAM_BENCH_CPUPROFILE=FILE writes a CPU profile of each variant's
// route phase to FILE.<variant>.
func BenchmarkKafkaRoute(b *testing.B) {
	n := benchRecords()
	ctx := context.Background()
	k, err := testenv.StartKafkaProcess(ctx, testenv.KafkaProcessOptions{Partitions: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	dir := b.TempDir()
	for _, f := range []string{"testdata/rulesets/passthrough.yaml", "../rulesets/examples/orders.yaml"} {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+rulesets.NameOf(f)+".yaml", src, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, processor.Compiler(0, 0))
	if err := store.Load(); err != nil {
		b.Fatal(err)
	}
	e := &env{store: store, secret: mustSecret(b), metrics: mustMetrics(b)}

	var results []benchResult
	for _, v := range []string{"copy", "passthrough", "orders"} {
		b.Run(v, func(b *testing.B) {
			var r benchResult
			if v == "copy" {
				r = runBench(b, k, v, n, copyRunner(k))
			} else {
				r = runBench(b, k, v, n, routeRunner(k, e, v))
			}
			results = append(results, r)
			b.ReportMetric(r.rate(), "records/s")
			b.ReportMetric(float64(r.bytes)/r.wall.Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(r.cpu.Nanoseconds())/float64(r.records), "cpu-ns/record")
			b.ReportMetric(float64(r.brokerCPU.Nanoseconds())/float64(r.records), "broker-cpu-ns/record")
			b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
	if len(results) == 3 {
		fmt.Println(benchTable(results, n))
	}
}

func benchTable(rs []benchResult, n int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nKafka route, %d order records backlog, broker in its own process, GOMAXPROCS=%d, %d CPUs\n", n, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(&sb, "%-12s %10s %8s %14s %14s %12s %8s\n", "variant", "records/s", "MB/s", "CPU µs/record", "broker µs/rec", "peak RSS MB", "wall s")
	for _, r := range rs {
		fmt.Fprintf(&sb, "%-12s %10.0f %8.1f %14.2f %14.2f %12.1f %8.2f\n", r.variant,
			r.rate(), float64(r.bytes)/r.wall.Seconds()/1e6,
			float64(r.cpu.Nanoseconds())/float64(r.records)/1e3,
			float64(r.brokerCPU.Nanoseconds())/float64(r.records)/1e3,
			float64(r.peakRSS)/(1<<20), r.wall.Seconds())
	}
	cp, pass, mask := rs[0], rs[1], rs[2]
	fmt.Fprintf(&sb, "orders / pass-through: %.2f throughput, %.2fx CPU per record\n", mask.rate()/pass.rate(), mask.cpu.Seconds()/pass.cpu.Seconds())
	fmt.Fprintf(&sb, "orders / plain copy:   %.2f throughput, %.2fx CPU per record\n", mask.rate()/cp.rate(), mask.cpu.Seconds()/cp.cpu.Seconds())
	return sb.String()
}

// runner drains topic in into topic out and returns once ctx ends.
type runner func(ctx context.Context, in, out string) error

// runBench fills a topic with n orders, then times run draining it into
// another topic.
func runBench(b *testing.B, k *testenv.Kafka, variant string, n int, run runner) benchResult {
	ctx := context.Background()
	in, out := "bench-"+variant, "bench-"+variant+".masked"
	if err := k.CreateTopics(ctx, 4, in, out); err != nil {
		b.Fatal(err)
	}
	bytes := fillOrders(b, k, in, n)
	// Forget the producer's memory: peak RSS is the route's.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	adm := kadm.NewClient(mustClient(b, k))
	defer adm.Close()
	if prof := os.Getenv("MASKSTREAM_BENCH_CPUPROFILE"); prof != "" {
		// A profile of the route alone, not of filling the backlog.
		f, err := os.Create(prof + "." + variant)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, broker0 := cpuTime(), k.ProcessCPU()
	start := time.Now()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(rctx, in, out) }()
	for {
		offs, err := adm.ListEndOffsets(ctx, out)
		var total int64
		if err == nil {
			offs.Each(func(o kadm.ListedOffset) { total += o.Offset })
		}
		if total >= int64(n) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wall := time.Since(start)
	cpu, brokerCPU := cpuTime()-cpu0, k.ProcessCPU()-broker0
	peak := peakRSS()
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	// kfake keeps every record in its heap: without this the variants
	// that run later would pay for a larger broker heap to collect.
	if _, err := adm.DeleteTopics(ctx, in, out); err != nil {
		b.Fatal(err)
	}
	return benchResult{records: n, bytes: bytes, wall: wall, cpu: cpu, brokerCPU: brokerCPU, peakRSS: peak, variant: variant}
}

// routeRunner runs a processor route with the ruleset named like the
// variant, as `maskstream run` would.
func routeRunner(k *testenv.Kafka, e *env, ruleset string) runner {
	return func(ctx context.Context, in, out string) error {
		src, err := kafka.NewSource(k.ClusterConfig(), kafka.SourceConfig{Topics: []string{in}, Group: "bench-" + ruleset}, nil)
		if err != nil {
			return err
		}
		sink, err := kafka.NewSink(k.ClusterConfig(), kafka.SinkConfig{}, nil)
		if err != nil {
			return err
		}
		r, err := processor.NewRoute(processor.RouteConfig{
			Name: "bench-" + ruleset, Source: src, Sink: sink, Ruleset: ruleset, Rulesets: e.store,
			Secret: e.secret, Metrics: e.metrics, KeepPartition: true,
		})
		if err != nil {
			return err
		}
		return r.Run(ctx)
	}
}

// copyRunner is the plain consume->produce copy a team would write with
// franz-go alone: a consumer group, records produced asynchronously to the
// same partition with franz-go's defaults (acks all, idempotent, snappy,
// the route's 10,000 buffered records), offsets committed once produced.
func copyRunner(k *testenv.Kafka) runner {
	return func(ctx context.Context, in, out string) error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.ConsumerGroup("bench-copy"),
			kgo.ConsumeTopics(in), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.AutoCommitMarks(), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.MaxBufferedRecords(kafka.DefaultMaxInFlight))
		if err != nil {
			return err
		}
		defer cl.Close()
		var failed atomic.Pointer[error]
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				o := &kgo.Record{Topic: out, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp}
				cl.Produce(ctx, o, func(_ *kgo.Record, err error) {
					if err != nil && ctx.Err() == nil {
						failed.CompareAndSwap(nil, &err)
						return
					}
					cl.MarkCommitRecords(r)
				})
			})
		}
		if err := failed.Load(); err != nil {
			return *err
		}
		return nil
	}
}

// fillOrders produces n generated orders to topic and returns their
// total size.
func fillOrders(b *testing.B, k *testenv.Kafka, topic string, n int) int64 {
	cl := mustClient(b, k, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(50_000))
	defer cl.Close()
	gen := testenv.NewGen(42)
	var total int64
	ctx := context.Background()
	for i := range n {
		v := gen.Order()
		total += int64(len(v))
		cl.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i % 1024)), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Errorf("filling the backlog: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return total
}

func mustClient(b *testing.B, k *testenv.Kafka, opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Brokers()...)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return cl
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's high-water mark of this process's
// resident set (Linux; ignored elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM: the largest resident set since the last reset.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mustSecret(tb testing.TB) *engine.Secret {
	s, err := engine.NewSecret(testSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustMetrics(tb testing.TB) *processor.Metrics {
	m, err := processor.NewMetrics(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
