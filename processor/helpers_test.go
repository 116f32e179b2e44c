package processor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

const testSecret = "processor-test-secret-0123456789"

// scale shrinks record counts under -short.
func scale(n int) int {
	if testing.Short() {
		return max(n/10, 50)
	}
	return n
}

// env is one test's rulesets, secret and metrics.
type env struct {
	t       *testing.T
	dir     string
	store   *rulesets.Store[*engine.Masker]
	secret  *engine.Secret
	reg     *prometheus.Registry
	metrics *processor.Metrics
	log     *slog.Logger
}

// newEnv copies the test rulesets into a temp dir (so tests may edit them)
// and loads them with the given limits (0: defaults).
func newEnv(t *testing.T, maxBytes, maxDepth int) *env {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("testdata/rulesets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/rulesets", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, processor.Compiler(maxBytes, maxDepth))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	met, err := processor.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	return &env{
		t: t, dir: dir, store: store, secret: engine.MustSecret(testSecret), reg: reg, metrics: met,
		log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level})),
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// routeConfig is a RouteConfig with this env's rulesets, secret and
// metrics; the caller sets the connectors.
// addRuleset writes the ruleset file name.yaml into the env's rulesets
// dir and loads the store again.
func (e *env) addRuleset(t *testing.T, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name+".yaml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Load(); err != nil {
		t.Fatal(err)
	}
}

func (e *env) routeConfig(name, ruleset string) processor.RouteConfig {
	return processor.RouteConfig{
		Name:        name,
		Ruleset:     ruleset,
		Rulesets:    e.store,
		Secret:      e.secret,
		Metrics:     e.metrics,
		Logger:      e.log,
		LagInterval: time.Second,
	}
}

// running is a route started in the background.
type running struct {
	route  *processor.Route
	cancel context.CancelFunc
	done   chan error
}

// start runs a route until stop.
func (e *env) start(cfg processor.RouteConfig) *running {
	e.t.Helper()
	r, err := processor.NewRoute(cfg)
	if err != nil {
		e.t.Fatalf("NewRoute: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rn := &running{route: r, cancel: cancel, done: make(chan error, 1)}
	go func() { rn.done <- r.Run(ctx) }()
	e.t.Cleanup(func() { rn.stop(e.t) })
	return rn
}

// stop stops the route gracefully and fails the test if Run failed.
func (rn *running) stop(t *testing.T) {
	t.Helper()
	rn.cancel()
	select {
	case err, ok := <-rn.done:
		if ok && err != nil {
			t.Errorf("route %s: Run: %v", rn.route.Name(), err)
		}
		if ok {
			close(rn.done)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("route %s did not stop within 60s", rn.route.Name())
	}
}

// person is a test record.
type person struct {
	Seq   int    `json:"seq"`
	Email string `json:"email"`
	DOB   string `json:"dob"`
	Name  string `json:"name"`
}

func personJSON(seq int) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"email":"user%d@real.test","dob":"19%02d-0%d-1%d","name":"Real Person %d"}`, seq, seq, 50+seq%40, 1+seq%9, seq%9, seq)
}

// checkMasked fails unless v is a person record masked by people.yaml and
// returns its seq.
func checkMasked(t *testing.T, v []byte) int {
	t.Helper()
	var p person
	if err := json.Unmarshal(v, &p); err != nil {
		t.Fatalf("output is not a person record: %v", err)
	}
	if bytes.Contains(v, []byte("real.test")) || bytes.Contains(v, []byte("Real Person")) || !strings.HasSuffix(p.Email, "@example.com") || p.Name != "MASKED" {
		t.Fatalf("record %d is not masked: %s", p.Seq, v)
	}
	return p.Seq
}

// checkMaskedNoFatal is checkMasked for goroutines other than the test's:
// it returns the seq, or -1 when v is not a masked person record.
func checkMaskedNoFatal(v []byte) int {
	var p person
	if err := json.Unmarshal(v, &p); err != nil || bytes.Contains(v, []byte("real.test")) || bytes.Contains(v, []byte("Real Person")) ||
		!strings.HasSuffix(p.Email, "@example.com") || p.Name != "MASKED" {
		return -1
	}
	return p.Seq
}

// ---------------------------------------------------------------- Kafka

func kafkaClient(t *testing.T, k *testenv.Kafka, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Brokers()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produce writes recs synchronously, in order.
func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < len(recs); i += 1000 {
		if err := cl.ProduceSync(ctx, recs[i:min(i+1000, len(recs))]...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
}

// people returns n person records for topic, seq from..from+n-1, spread
// over partitions by key, each with a header.
func people(topic string, from, n int, partitions int32) []*kgo.Record {
	out := make([]*kgo.Record, n)
	for i := range n {
		seq := from + i
		out[i] = &kgo.Record{
			Topic:     topic,
			Partition: int32(seq) % partitions,
			Key:       []byte("k" + strconv.Itoa(seq)),
			Value:     personJSON(seq),
			Headers:   []kgo.RecordHeader{{Key: "trace", Value: []byte("t" + strconv.Itoa(seq))}},
		}
	}
	return out
}

// manualPartitioner produces people records to the partition they name.
func manualPartitioner() kgo.Opt { return kgo.RecordPartitioner(kgo.ManualPartitioner()) }

// consume reads topic from the start until want records arrived or the
// timeout passed; it returns what it read.
func consume(t *testing.T, k *testenv.Kafka, topic string, want int, timeout time.Duration, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := kafkaClient(t, k, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Logf("consume %s: %v", topic, err)
			}
		})
		out = append(out, fs.Records()...)
	}
	return out
}

// kafkaRoute fills cfg with a Kafka source and sinks on k.
func kafkaRoute(t *testing.T, k *testenv.Kafka, cfg *processor.RouteConfig, topics []string, group string) {
	t.Helper()
	src, err := kafka.NewSource(k.ClusterConfig(), kafka.SourceConfig{Topics: topics, Group: group, StopTimeout: 20 * time.Second, CommitInterval: 500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Source = src
}

func kafkaSink(t *testing.T, k *testenv.Kafka) connectors.Sink {
	t.Helper()
	s, err := kafka.NewSink(k.ClusterConfig(), kafka.SinkConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seqsByPartition groups output seqs by partition (after checking each
// record is masked).
func seqsByPartition(t *testing.T, recs []*kgo.Record) map[int32][]int {
	t.Helper()
	out := map[int32][]int{}
	for _, r := range recs {
		if r.Value == nil {
			continue
		}
		out[r.Partition] = append(out[r.Partition], checkMasked(t, r.Value))
	}
	return out
}

// checkOrder fails unless seqs, with repeats of earlier values removed
// (at-least-once redelivery), is increasing; it returns the distinct
// seqs seen.
func checkOrder(t *testing.T, what string, seqs []int, seen map[int]bool) {
	t.Helper()
	last := -1
	for _, s := range seqs {
		if seen[s] {
			continue
		}
		if s < last {
			t.Fatalf("%s: seq %d after %d: order broken", what, s, last)
		}
		seen[s] = true
		last = s
	}
}

func mustTemplate(s string) config.Template { return config.MustTemplate(s) }

// ---------------------------------------------------------------- NATS

func natsJS(t *testing.T, n *testenv.NATS) jetstream.JetStream {
	t.Helper()
	nc, err := natsgo.Connect(n.URL(), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func publishPeople(t *testing.T, js jetstream.JetStream, subject string, from, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	futs := make([]jetstream.PubAckFuture, 0, 256)
	for i := range n {
		seq := from + i
		msg := &natsgo.Msg{Subject: subject, Data: personJSON(seq), Header: natsgo.Header{"trace": []string{"t" + strconv.Itoa(seq)}}}
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		futs = append(futs, f)
		if len(futs) == cap(futs) || i == n-1 {
			for _, f := range futs {
				select {
				case <-f.Ok():
				case err := <-f.Err():
					t.Fatalf("publish ack: %v", err)
				case <-ctx.Done():
					t.Fatal("publish ack timed out")
				}
			}
			futs = futs[:0]
		}
	}
}

// readStream reads every message of stream (subject filter) from the
// start until want arrived or timeout.
func readStream(t *testing.T, js jetstream.JetStream, stream, subject string, want int, timeout time.Duration) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	var out []jetstream.Msg
	for len(out) < want && ctx.Err() == nil {
		b, err := c.Fetch(min(want-len(out), 500), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			continue
		}
		for m := range b.Messages() {
			out = append(out, m)
		}
	}
	return out
}

func jsSource(t *testing.T, n *testenv.NATS, stream, durable, subject string) connectors.Source {
	t.Helper()
	s, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: stream, Durable: durable, FilterSubject: subject, StopTimeout: 20 * time.Second, AckWait: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsSink(t *testing.T, n *testenv.NATS) connectors.Sink {
	t.Helper()
	s, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls cond until it holds or timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func kafkaAdmin(t *testing.T, k *testenv.Kafka) *kadm.Client {
	t.Helper()
	return kadm.NewClient(kafkaClient(t, k))
}

func ptr[T any](v T) *T { return &v }

func headerOf(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// counterValue reads a counter (or gauge) without the testutil package.
func counterValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.GetGauge().GetValue()
}

// failsAtStart runs a route built from cfg and checks that it fails
// before reading any record, with an error containing every one of wants;
// it returns that error for further checks.
func failsAtStart(t *testing.T, cfg processor.RouteConfig, wants ...string) error {
	t.Helper()
	r, err := processor.NewRoute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		t.Fatalf("the route did not fail at start; want an error with %q", wants)
	}
	for _, w := range wants {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("Run = %v, want an error with %q", err, wants)
		}
	}
	if in := r.Status().RecordsIn; in != 0 {
		t.Errorf("the route read %d records before failing, want 0", in)
	}
	return err
}
