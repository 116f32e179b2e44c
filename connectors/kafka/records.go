package kafka

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// fromKgo converts a consumed record. Key, value and header values are
// shared with kgo's record, which the source never touches again. A null
// value (a tombstone) stays nil.
func fromKgo(r *kgo.Record) *connectors.Record {
	var hs []connectors.Header
	if len(r.Headers) > 0 {
		hs = make([]connectors.Header, len(r.Headers))
		for i, h := range r.Headers {
			hs[i] = connectors.Header{Key: h.Key, Value: h.Value}
		}
	}
	return &connectors.Record{
		Key:       r.Key,
		Value:     r.Value,
		Headers:   hs,
		Timestamp: r.Timestamp,
		Origin:    connectors.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset},
		Attempt:   1,
		Partition: -1,
		Token:     r,
	}
}

// toKgo builds the record to produce for rec. Partition is kept as given:
// the sink's partitioner honors it when >= 0.
func toKgo(rec *connectors.Record) *kgo.Record {
	var hs []kgo.RecordHeader
	if len(rec.Headers) > 0 {
		hs = make([]kgo.RecordHeader, len(rec.Headers))
		for i, h := range rec.Headers {
			hs[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
	}
	return &kgo.Record{
		Topic:     rec.Topic,
		Partition: rec.Partition,
		Key:       rec.Key,
		Value:     rec.Value,
		Headers:   hs,
		Timestamp: rec.Timestamp,
	}
}
