package kafka

import (
	"errors"
	"fmt"
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
		{"not authorized", fmt.Errorf("x: %w", kerr.TopicAuthorizationFailed), true},
		{"invalid record", kerr.InvalidRecord, true},
		{"delivery timeout", kgo.ErrRecordTimeout, true},
		{"out of range", errPartitionOutOfRange, true},
		{"client closed", kgo.ErrClientClosed, false},
		{"fenced", kerr.InvalidProducerEpoch, false},
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
