package kafka

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// TestTxnGuardFenceHint: a fence after the transaction was open for the
// transaction timeout is the broker's timeout, and says what the records
// waited for; a fence sooner is another instance with the same id.
func TestTxnGuardFenceHint(t *testing.T) {
	g := &txnGuard{timeout: time.Minute, describe: func() string { return "destination topics that do not exist: orders.dlq" }}
	if g.fenceHint(kgo.ErrClientClosed) != nil {
		t.Error("a closed client is not a fence")
	}
	for _, fenced := range []error{kerr.InvalidProducerEpoch, kerr.ProducerFenced} {
		g.began.Store(time.Now().Add(-2 * time.Minute).UnixNano())
		err := g.fenceHint(fenced)
		if msg := fmt.Sprint(err); !strings.Contains(msg, "timed out") || !strings.Contains(msg, "orders.dlq") || strings.Contains(msg, "MASKSTREAM_INSTANCE_ID") {
			t.Errorf("fence after the timeout: %v; want the timeout and what waited, not another instance", err)
		}
		if !errors.Is(err, fenced) {
			t.Errorf("%v does not wrap %v", err, fenced)
		}
		g.began.Store(time.Now().UnixNano())
		if err := g.fenceHint(fenced); !strings.Contains(fmt.Sprint(err), "MASKSTREAM_INSTANCE_ID") {
			t.Errorf("fence in a young transaction: %v; want the hint about another instance", err)
		}
	}
}

// TestTxnGuardHold: held records are finished once, by release, with an
// error that is not permanent (a lane still running must stop the route,
// not dead-letter a good record).
func TestTxnGuardHold(t *testing.T) {
	woken := 0
	g := &txnGuard{wake: func() { woken++ }}
	var got []error
	for range 3 {
		g.hold(func(err error) { got = append(got, err) })
	}
	if g.refused() != 3 || woken != 3 || len(got) != 0 {
		t.Fatalf("after 3 holds: %d refused, %d wakes, %d finished; want 3, 3, 0", g.refused(), woken, len(got))
	}
	g.release()
	g.release()
	if g.refused() != 0 || len(got) != 3 {
		t.Fatalf("after release: %d refused, %d finished; want 0, 3", g.refused(), len(got))
	}
	for _, err := range got {
		if !errors.Is(err, errTxnAborted) || errors.Is(classifyProduceErr("t", 0, err), connectors.ErrPermanent) {
			t.Errorf("held record finished with %v, want errTxnAborted, not permanent", err)
		}
	}
}

// TestRefusedAlone: only a MESSAGE_TOO_LARGE for a record bigger than the
// batch cap kgo was given is the record's own verdict.
func TestRefusedAlone(t *testing.T) {
	rec := func(n int) *kgo.Record {
		return &kgo.Record{Key: []byte("k"), Value: make([]byte, n), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}}
	}
	tooLarge := fmt.Errorf("%w (uncompressed_bytes=1)", kerr.MessageTooLarge)
	tests := []struct {
		name string
		r    *kgo.Record
		err  error
		want bool
	}{
		{"bigger than the cap", rec(2000), tooLarge, true},
		{"fits the cap: batched", rec(500), tooLarge, false},
		{"at the cap, counting key and headers", rec(998), tooLarge, true},
		{"another batch refusal", rec(2000), kerr.InvalidRecord, false},
	}
	for _, tt := range tests {
		if got := refusedAlone(tt.r, tt.err, 1000); got != tt.want {
			t.Errorf("%s: refusedAlone = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTopicLimitsGiven: the cap a record is judged against is the largest
// kgo was given for its topic, even after the topic's own limit is known.
func TestTopicLimitsGiven(t *testing.T) {
	l := newTopicLimits(0, nil)
	if got := l.givenMax("t"); got != kgoDefaultBatchMaxBytes {
		t.Errorf("givenMax before kgo asked = %d, want the producer's cap %d", got, kgoDefaultBatchMaxBytes)
	}
	l.batchMax("t") // a partition loaded before the limit was known
	l.known.Store("t", int32(2000))
	if got := l.batchMax("t"); got != 2000 {
		t.Errorf("batchMax = %d, want the known 2000", got)
	}
	if got := l.givenMax("t"); got != kgoDefaultBatchMaxBytes {
		t.Errorf("givenMax = %d, want %d: a partition still batches under the cap it was given first", got, kgoDefaultBatchMaxBytes)
	}
	l.known.Store("u", int32(2000))
	l.batchMax("u")
	if got := l.givenMax("u"); got != 2000 {
		t.Errorf("givenMax = %d, want 2000", got)
	}
}

// TestTxnBatchAcked: a transaction's batch counts as acked only once the
// last record polled on every partition is: acking up to the one before
// it must not let End commit offsets past a record not yet produced. An
// ack arriving late for older records does not move a partition back.
func TestTxnBatchAcked(t *testing.T) {
	recs := func(topic string, partition int32, offsets ...int64) []*kgo.Record {
		var out []*kgo.Record
		for _, o := range offsets {
			out = append(out, &kgo.Record{Topic: topic, Partition: partition, Offset: o})
		}
		return out
	}
	p0, p1 := recs("t", 0, 10, 11, 12), recs("t", 1, 5)
	fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "t", Partitions: []kgo.FetchPartition{
		{Partition: 0, Records: p0}, {Partition: 1, Records: p1},
	}}}}}
	s := &TxnSource{progress: make(chan struct{}, 1)}
	s.expect(fetches)
	// Each Ack is one lane's (one partition's) records in order.
	steps := []struct {
		what string
		ack  []*kgo.Record
		want bool
	}{
		{"nothing acked", nil, false},
		{"t[1] acked", p1, false},
		{"t[0] acked up to the one before its last", p0[:2], false},
		{"an older t[0] ack arriving late", p0[:1], false},
		{"t[0]'s last acked", p0[2:], true},
		{"an older t[0] ack after the last", p0[1:2], true},
	}
	for _, st := range steps {
		var batch []*connectors.Record
		for _, kr := range st.ack {
			batch = append(batch, &connectors.Record{Token: kr})
		}
		if err := s.Ack(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		if got := s.allAcked(); got != st.want {
			t.Fatalf("%s: allAcked = %v, want %v", st.what, got, st.want)
		}
	}
}
