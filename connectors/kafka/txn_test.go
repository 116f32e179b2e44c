package kafka_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// copyLane is a minimal processor: it writes every record to the sink
// (same partition), waits for the sink's done, then acks the batch in
// order. With ackLimit >= 0 it handles only that many records in all and
// ignores the rest (as a processor that stalls would), which leaves a
// transaction unfinished.
type copyLane struct {
	src      connectors.Source
	sink     connectors.Sink
	topic    string
	mu       *sync.Mutex
	acked    *int
	ackLimit int
}

func (l *copyLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	if l.ackLimit >= 0 {
		l.mu.Lock()
		recs = recs[:max(0, min(len(recs), l.ackLimit-*l.acked))]
		l.mu.Unlock()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(recs))
	for i, r := range recs {
		out := *r
		out.Topic, out.Partition, out.Token = l.topic, r.Origin.Partition, nil
		wg.Add(1)
		if err := l.sink.Write(ctx, &out, func(err error) { errs[i] = err; wg.Done() }); err != nil {
			return err
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	l.mu.Lock()
	*l.acked += len(recs)
	l.mu.Unlock()
	return l.src.Ack(ctx, recs)
}

func (l *copyLane) Stop(context.Context) {}

// readToSentinels appends a plain (non-transactional) sentinel to every
// partition of topic and reads until each is seen: a record committed
// before them has been read by then, so the result is everything the
// isolation level shows.
func readToSentinels(t *testing.T, k *testenv.Kafka, topic string, partitions int, isolation kgo.IsolationLevel) []seqValue {
	t.Helper()
	sentinels := make([]*connectors.Record, partitions)
	for p := range sentinels {
		sentinels[p] = &connectors.Record{Value: []byte(`{"phase":"sentinel"}`), Partition: int32(p)}
	}
	produce(t, k, topic, sentinels...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, defaultWait)
	var out []seqValue
	for seen := 0; seen < partitions; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("saw %d of %d sentinels", seen, partitions)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var v seqValue
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("bad value %q", r.Value)
			}
			if v.Phase == "sentinel" {
				seen++
				return
			}
			out = append(out, v)
		})
	}
	return out
}

func newTxnRoute(t *testing.T, k *testenv.Kafka, in, group, txnID string) (*kafka.TxnSource, *kafka.Sink) {
	t.Helper()
	src, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(),
		kafka.SourceConfig{Topics: []string{in}, Group: group, FetchMaxRecords: 40, StopTimeout: 2 * time.Second},
		kafka.SinkConfig{}, txnID, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return src, sink
}

// TestTransactionalRoute: a first run that cannot ack its whole batch
// aborts on shutdown; a second run with the same transactional id and
// group redoes it; a read_committed consumer sees every record exactly
// once, while a read_uncommitted one also sees the aborted attempt.
func TestTransactionalRoute(t *testing.T) {
	k := testenv.StartKafka(t)
	const parts, n = 2, 200
	in, out, group, txnID := unique("txin"), unique("txout"), unique("group"), unique("txn")
	if err := k.CreateTopics(ctxT(t, defaultWait), parts, in, out); err != nil {
		t.Fatal(err)
	}
	produce(t, k, in, seqRecords("txn", n, parts)...)

	// Run 1: acks 10 records only, so the first batch never completes.
	src1, sink1 := newTxnRoute(t, k, in, group, txnID)
	var (
		mu     sync.Mutex
		acked1 int
	)
	r1 := runSource(t, src1, func(connectors.LaneID) connectors.Lane {
		return &copyLane{src: src1, sink: sink1, topic: out, mu: &mu, acked: &acked1, ackLimit: 10}
	})
	waitFor(t, "run 1 to ack its 10 records", func() bool { mu.Lock(); defer mu.Unlock(); return acked1 == 10 })
	r1.stop(t)
	if err := sink1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src1.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 2: does everything.
	src2, sink2 := newTxnRoute(t, k, in, group, txnID)
	var acked2 int
	r2 := runSource(t, src2, func(connectors.LaneID) connectors.Lane {
		return &copyLane{src: src2, sink: sink2, topic: out, mu: &mu, acked: &acked2, ackLimit: -1}
	})
	waitFor(t, "run 2 to ack every record", func() bool { mu.Lock(); defer mu.Unlock(); return acked2 >= n })
	r2.stop(t)
	if err := sink2.Close(); err != nil {
		t.Fatal(err)
	}

	committed := readToSentinels(t, k, out, parts, kgo.ReadCommitted())
	count := map[int]int{}
	for _, v := range committed {
		count[v.Seq]++
	}
	for seq := range n {
		if count[seq] != 1 {
			t.Errorf("read_committed sees record %d %d times, want exactly once", seq, count[seq])
		}
	}
	if len(committed) != n {
		t.Errorf("read_committed sees %d records, want %d", len(committed), n)
	}
	if all := readToSentinels(t, k, out, parts, kgo.ReadUncommitted()); len(all) <= n {
		t.Errorf("read_uncommitted sees %d records: the first run's aborted attempt was not exercised", len(all))
	}
}

// TestTransactionalSinkOutsideTransaction: the transactional sink refuses
// records while no batch is open instead of producing them unprotected.
func TestTransactionalSinkOutsideTransaction(t *testing.T) {
	k := testenv.StartKafka(t)
	src, sink := newTxnRoute(t, k, unique("txin"), unique("g"), unique("txn"))
	defer src.Close()
	defer sink.Close()
	called := false
	err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: "x", Partition: -1, Value: []byte("{}")}, func(error) { called = true })
	if !errors.Is(err, kafka.ErrNotInTransaction) || called {
		t.Errorf("Write outside a transaction = %v (done called: %v), want ErrNotInTransaction", err, called)
	}
}
