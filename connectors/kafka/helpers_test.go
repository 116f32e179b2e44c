package kafka_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// testLogger logs warnings to the test output while the test runs and
// drops them after (kgo goroutines may outlive a test by a moment).
func testLogger(t *testing.T) *slog.Logger {
	w := &tlogWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	level := slog.LevelError
	if testing.Verbose() || os.Getenv("MASKSTREAM_TEST_LOG") != "" {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tlogWriter struct {
	t    *testing.T
	done atomic.Bool
}

func (w *tlogWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(string(p))
	}
	return len(p), nil
}

var _ io.Writer = (*tlogWriter)(nil)

// defaultWait bounds every wait on the broker: a deadline against hangs,
// not a performance assertion.
const defaultWait = 30 * time.Second

var names atomic.Int64

// unique returns a name no other test of this process uses.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, names.Add(1)) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// produce writes recs synchronously with a plain client, honoring
// Record.Partition.
func produce(t *testing.T, k *testenv.Kafka, topic string, recs ...*connectors.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		hs := make([]kgo.RecordHeader, len(r.Headers))
		for j, h := range r.Headers {
			hs[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
		krs[i] = &kgo.Record{Topic: topic, Partition: max(r.Partition, 0), Key: r.Key, Value: r.Value, Headers: hs, Timestamp: r.Timestamp}
	}
	if err := cl.ProduceSync(ctxT(t, defaultWait), krs...).FirstErr(); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

// consume reads n records of topic from the start (read_committed),
// failing t if they do not come in time.
func consume(t *testing.T, k *testenv.Kafka, topic string, n int) []*connectors.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(k.Brokers()...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, defaultWait)
	var out []*connectors.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s before the deadline", len(out), n, topic)
		}
		fs.EachRecord(func(r *kgo.Record) {
			hs := make([]connectors.Header, len(r.Headers))
			for j, h := range r.Headers {
				hs[j] = connectors.Header{Key: h.Key, Value: h.Value}
			}
			out = append(out, &connectors.Record{
				Key: r.Key, Value: r.Value, Headers: hs, Timestamp: r.Timestamp,
				Origin: connectors.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset},
			})
		})
	}
	return out
}

func newSource(t *testing.T, k *testenv.Kafka, topic, group string) *kafka.Source {
	t.Helper()
	src, err := kafka.NewSource(k.ClusterConfig(), kafka.SourceConfig{
		Topics: []string{topic}, Group: group,
		FetchMaxRecords: 50, StopTimeout: 5 * time.Second, CommitInterval: 200 * time.Millisecond,
	}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func newSink(t *testing.T, k *testenv.Kafka, cfg kafka.SinkConfig) *kafka.Sink {
	t.Helper()
	sink, err := kafka.NewSink(k.ClusterConfig(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	return sink
}
