package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// topicMaxBytes is the max.message.bytes of the small topics below: a
// record batch (61 bytes of header plus its records) over it is refused.
const topicMaxBytes = 600

func admin(t *testing.T, k *testenv.Kafka) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func createSmallTopic(t *testing.T, adm *kadm.Client, topic string, maxBytes int) {
	t.Helper()
	v := fmt.Sprint(maxBytes)
	resp, err := adm.CreateTopic(ctxT(t, defaultWait), 1, -1, map[string]*string{"max.message.bytes": &v}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating %s: %v", topic, err)
	}
}

// padded is a record value of about n bytes that names its index.
func padded(i, n int) []byte {
	head := fmt.Sprintf(`{"seq":%d,"pad":"`, i)
	return []byte(head + strings.Repeat("p", max(n-len(head)-2, 0)) + `"}`)
}

// writeAll writes values to topic's partition 0 in one burst (a linger
// keeps them in one batch) and returns each record's done error.
func writeAll(t *testing.T, sink *kafka.Sink, topic string, values [][]byte) []error {
	t.Helper()
	ctx := ctxT(t, defaultWait)
	errs := make([]error, len(values))
	var wg sync.WaitGroup
	for i, v := range values {
		wg.Add(1)
		rec := &connectors.Record{Topic: topic, Partition: 0, Value: v}
		if err := sink.Write(ctx, rec, func(err error) { errs[i] = err; wg.Done() }); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	wg.Wait()
	return errs
}

// checkOnlyBigRefused: the big records' done is permanent and wraps
// kerr.MessageTooLarge, every other record's is nil, and the topic holds
// exactly the other records, each once.
func checkOnlyBigRefused(t *testing.T, k *testenv.Kafka, topic string, values [][]byte, errs []error, big map[int]bool) {
	t.Helper()
	want := map[string]bool{}
	for i, err := range errs {
		switch {
		case big[i]:
			if !errors.Is(err, connectors.ErrPermanent) || !errors.Is(err, kerr.MessageTooLarge) {
				t.Errorf("big record %d: done(%v), want a permanent MESSAGE_TOO_LARGE", i, err)
			}
		case err != nil:
			t.Errorf("record %d (fits the topic): done(%v), want nil: it was failed with its batch", i, err)
		default:
			want[string(values[i])] = true
		}
	}
	got := consume(t, k, topic, len(want))
	seen := map[string]int{}
	for _, r := range got {
		seen[string(r.Value)]++
	}
	for v := range want {
		if seen[v] != 1 {
			t.Errorf("record %.20s... stored %d times, want once", v, seen[v])
		}
	}
	if len(got) != len(want) {
		t.Errorf("topic holds %d records, want %d", len(got), len(want))
	}
}

// TestSinkTopicLimit: the sink reads the topic's max.message.bytes before
// producing, so batches stay under it; a record too big for the topic
// fails alone, and records that fit (several of which together exceed the
// limit) are stored, in order.
func TestSinkTopicLimit(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("limit")
	createSmallTopic(t, admin(t, k), topic, topicMaxBytes)
	sink := newSink(t, k, kafka.SinkConfig{Compression: "none", Linger: 50 * time.Millisecond})
	var values [][]byte
	for i := range 12 {
		size := 200
		if i == 5 || i == 9 {
			size = 2000
		}
		values = append(values, padded(i, size))
	}
	errs := writeAll(t, sink, topic, values)
	checkOnlyBigRefused(t, k, topic, values, errs, map[int]bool{5: true, 9: true})
	var order []string
	for i, v := range values {
		if i != 5 && i != 9 {
			order = append(order, string(v))
		}
	}
	for i, r := range consume(t, k, topic, len(order)) {
		if string(r.Value) != order[i] {
			t.Fatalf("stored record %d is %.12s..., want %.12s...: out of order", i, r.Value, order[i])
		}
	}
}

// TestSinkBatchRefused: when the broker refuses a whole batch as too large
// (here the topic's limit is lowered after the sink learnt it, so kgo
// still builds big batches), the refused records are produced again one
// by one: only the one too big for the topic fails.
func TestSinkBatchRefused(t *testing.T) {
	k := testenv.StartKafka(t)
	adm := admin(t, k)
	topic := unique("refused")
	createSmallTopic(t, adm, topic, 1<<20)
	sink := newSink(t, k, kafka.SinkConfig{Compression: "none", Linger: 50 * time.Millisecond})
	if errs := writeAll(t, sink, topic, [][]byte{padded(-1, 100)}); errs[0] != nil {
		t.Fatalf("first record: %v", errs[0])
	}
	v := fmt.Sprint(topicMaxBytes)
	resp, err := adm.AlterTopicConfigs(ctxT(t, defaultWait), []kadm.AlterConfig{{Name: "max.message.bytes", Value: &v}}, topic)
	if err == nil {
		err = resp[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	values := [][]byte{padded(-1, 100)} // already stored above
	for i := range 8 {
		size := 150
		if i == 3 {
			size = 2000
		}
		values = append(values, padded(i, size))
	}
	errs := writeAll(t, sink, topic, values[1:])
	checkOnlyBigRefused(t, k, topic, values, append([]error{nil}, errs...), map[int]bool{4: true})
	// The producer goes on after the refusal.
	if errs := writeAll(t, sink, topic, [][]byte{padded(100, 100)}); errs[0] != nil {
		t.Errorf("record after the refused batch: %v", errs[0])
	}
}

// TestSinkClientSideTooLarge: a record larger than the producer's own
// batch cap fails in the client, before it is sent, as a permanent error;
// the records around it are stored.
func TestSinkClientSideTooLarge(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("client")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t, k, kafka.SinkConfig{Compression: "none", BatchMaxBytes: 1024, Linger: 20 * time.Millisecond})
	values := [][]byte{padded(0, 100), padded(1, 4096), padded(2, 100)}
	errs := writeAll(t, sink, topic, values)
	checkOnlyBigRefused(t, k, topic, values, errs, map[int]bool{1: true})
}

// TestSinkWriteCancelledWhileLearning: a Write whose ctx ends before the
// topic's limit is known returns ctx's error and never calls done.
func TestSinkWriteCancelledWhileLearning(t *testing.T) {
	k := testenv.StartKafka(t)
	sink := newSink(t, k, kafka.SinkConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := sink.Write(ctx, &connectors.Record{Topic: unique("never"), Partition: -1, Value: []byte(`{}`)}, func(error) { called = true })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled ctx = %v, want context.Canceled", err)
	}
	if err := sink.Flush(ctxT(t, defaultWait)); err != nil {
		t.Fatal(err)
	}
	if called {
		t.Error("done was called for a refused Write")
	}
}
