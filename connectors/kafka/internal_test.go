package kafka

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

func TestClassifyProduceErr(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"too large", kerr.MessageTooLarge, true},
		// kgo's own refusal of a record bigger than the batch cap, before
		// anything is sent (franz-go has no separate sentinel for it).
		{"too large for the producer", fmt.Errorf("%w (uncompressed_bytes=4096)", kerr.MessageTooLarge), true},
		{"batch too large", kerr.RecordListTooLarge, true},
		{"retries exhausted", kgo.ErrRecordRetries, true},
		// Never seen by this sink (Produce blocks instead), and not a
		// verdict on the record.
		{"max buffered", kgo.ErrMaxBuffered, false},
		{"aborting", kgo.ErrAborting, false},
		{"not authorized", fmt.Errorf("x: %w", kerr.TopicAuthorizationFailed), true},
		{"invalid record", kerr.InvalidRecord, true},
		{"delivery timeout", kgo.ErrRecordTimeout, true},
		{"out of range", errPartitionOutOfRange, true},
		{"client closed", kgo.ErrClientClosed, false},
		{"fenced", kerr.InvalidProducerEpoch, false},
		{"fenced (KIP-360)", kerr.ProducerFenced, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classifyProduceErr("t", 0, tt.err)
			if got := errors.Is(err, connectors.ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
		})
	}
	if classifyProduceErr("t", 0, nil) != nil {
		t.Error("nil error classified as an error")
	}
	// Two instances with one transactional id fence each other: the error
	// must name the setting that separates them.
	for _, fenced := range []error{kerr.InvalidProducerEpoch, kerr.ProducerFenced} {
		if err := classifyProduceErr("t", 0, fenced); !strings.Contains(err.Error(), "MASKSTREAM_INSTANCE_ID") {
			t.Errorf("fenced producer: %v does not say to set MASKSTREAM_INSTANCE_ID", err)
		}
	}
	if err := classifyProduceErr("t", 0, kgo.ErrClientClosed); strings.Contains(err.Error(), "MASKSTREAM_INSTANCE_ID") {
		t.Errorf("a closed client is not a fenced producer: %v", err)
	}
}

func TestIsBatchRefusal(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("%w (uncompressed_bytes=1, compressed_bytes=1)", kerr.MessageTooLarge), true},
		{kerr.InvalidRecord, true},
		{kerr.InvalidTimestamp, true},
		{kerr.CorruptMessage, true},
		// Refusals of the topic, not of one record: every record would
		// fail alone too.
		{kerr.TopicAuthorizationFailed, false},
		{kerr.PolicyViolation, false},
		{kgo.ErrRecordTimeout, false},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got := isBatchRefusal(tt.err); got != tt.want {
				t.Errorf("isBatchRefusal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTopicLimitsCap(t *testing.T) {
	tests := []struct {
		name       string
		def, limit int32
		want       int32
	}{
		{"topic lower than the producer", 0, 600, 600},
		{"producer lower than the topic", 1024, 1 << 20, 1024},
		{"kgo's default", 0, 2 << 20, kgoDefaultBatchMaxBytes},
		{"below kgo's minimum", 0, 100, kgoMinBatchMaxBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newTopicLimits(tt.def, nil).capFor(tt.limit); got != tt.want {
				t.Errorf("capFor(%d) with batch_max_bytes %d = %d, want %d", tt.limit, tt.def, got, tt.want)
			}
		})
	}
}

func TestKeepPartitioner(t *testing.T) {
	parts := newPartitionCounts()
	tp := newPartitioner(parts).ForTopic("t")
	tests := []struct {
		name      string
		rec       *kgo.Record
		n         int
		want      int
		consisten bool
	}{
		{"kept", &kgo.Record{Partition: 2}, 4, 2, true},
		{"out of range fails", &kgo.Record{Partition: 9}, 4, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tp.RequiresConsistency(tt.rec); got != tt.consisten {
				t.Errorf("RequiresConsistency = %v", got)
			}
			if got := tp.Partition(tt.rec, tt.n); got != tt.want {
				t.Errorf("Partition = %d, want %d", got, tt.want)
			}
		})
	}
	if n, ok := parts.get("t"); !ok || n != 4 {
		t.Errorf("partition count remembered as %d, %v; want 4", n, ok)
	}
	// The count is stored only when it changes; a topic grown to 6
	// partitions (or shrunk, recreated) must still be seen.
	for _, n := range []int{6, 6, 3} {
		tp.Partition(&kgo.Record{Partition: 1}, n)
		if got, _ := parts.get("t"); got != n {
			t.Errorf("after a record with %d partitions, count remembered as %d", n, got)
		}
	}
	// Keyed records without a kept partition hash like the Java client:
	// the same key always lands on the same partition.
	a := tp.Partition(&kgo.Record{Partition: -1, Key: []byte("customer-1")}, 8)
	for range 10 {
		if b := tp.Partition(&kgo.Record{Partition: -1, Key: []byte("customer-1")}, 8); b != a {
			t.Fatalf("key hashed to %d then %d", a, b)
		}
	}
}

func TestSinkConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  SinkConfig
		ok   bool
	}{
		{"defaults", SinkConfig{}, true},
		{"zstd", SinkConfig{Compression: "zstd", MaxInFlight: 10}, true},
		{"bad codec", SinkConfig{Compression: "brotli"}, false},
		{"negative", SinkConfig{MaxInFlight: -1}, false},
		{"topics", SinkConfig{Topics: []string{"orders.masked", "maskstream.dlq.orders"}}, true},
		{"empty topic", SinkConfig{Topics: []string{""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
