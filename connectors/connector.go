// Package connectors holds the contract between the processor and the
// brokers: a Source splits a stream into ordered lanes and is told when
// records are done; a Sink produces records asynchronously with bounded
// in-flight work. Implementations live in connectors/kafka and
// connectors/nats; they know brokers, never masks.
package connectors

import (
	"context"
	"errors"
	"time"
)

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Origin says where a record was read.
type Origin struct {
	// Topic is the Kafka topic or the NATS subject.
	Topic string
	// Partition is the Kafka partition; 0 for NATS.
	Partition int32
	// Offset is the Kafka offset or the JetStream stream sequence; -1 for
	// core NATS, which has none.
	Offset int64
}

// Record is one message, read from a Source or written to a Sink.
type Record struct {
	Key []byte
	// Value is nil for a Kafka tombstone (a null value).
	Value     []byte
	Headers   []Header
	Timestamp time.Time
	// Origin is where a source read the record (zero for records built
	// for a sink from scratch).
	Origin Origin
	// Attempt is the delivery count: 1 the first time, more when the
	// broker redelivers (JetStream) after a crash or timeout.
	Attempt int

	// Topic is the destination topic or subject, for a Sink.
	Topic string
	// Partition is the destination partition for a Kafka sink when >= 0
	// (keep_partition); -1 lets the sink's partitioner choose.
	Partition int32

	// Token is the source's acknowledgement handle. Only the source that
	// produced the record reads it.
	Token any

	// Malformed is set by a source that could not read the message
	// faithfully: NATS key headers that disagree or do not decode, so
	// which key the ruleset should mask is unknown. The processor sends
	// such a record to the dead letters as it came (reason
	// bad_source_record) and never masks or produces it: guessing would
	// let an original key past the key rule. Key, Value and Headers then
	// hold what the source read, the headers it could not interpret
	// among them. Its text names what is wrong and how to fix it, never a
	// record's key, value or header value.
	Malformed error
}

// LaneID names a lane: a Kafka topic partition, or a JetStream consumer
// (Topic = stream/consumer, Partition 0).
type LaneID struct {
	Topic     string
	Partition int32
}

// Lane receives the records of one partition, in order.
type Lane interface {
	// Deliver hands over records in source order. It blocks while the
	// lane is full, which is how a slow sink stops the source fetching,
	// and returns ctx.Err() if ctx ends first. The records belong to the
	// lane from then on.
	Deliver(ctx context.Context, recs []*Record) error
	// Stop is called before the source gives the lane up (a Kafka
	// revoke, the end of Run). It stops taking records, finishes or
	// abandons what it holds within ctx, and returns after its last Ack
	// or Abandon call: the source may then commit and hand the partition
	// over.
	Stop(ctx context.Context)
}

// Source reads a stream split into lanes.
type Source interface {
	// Run consumes until ctx ends or a fatal error. For every lane it
	// starts (a partition assigned to this member, a JetStream consumer)
	// it calls open once, delivers that lane's records to it in order,
	// and calls Lane.Stop before giving the lane up and before Run
	// returns. Transient broker errors are retried inside Run; the error
	// returned is fatal (bad credentials, a missing stream) or ctx's.
	Run(ctx context.Context, open func(LaneID) Lane) error
	// Ack marks records of one lane as done: they were produced or
	// dead-lettered and the sink acknowledged them. The processor calls
	// it in lane order, only for a contiguous prefix, so a Kafka source
	// can commit the last offset and a JetStream source ack each message.
	// Safe for concurrent use across lanes.
	Ack(ctx context.Context, recs []*Record) error
	// Abandon gives back records that were delivered but will not be
	// finished (shutdown past its deadline): JetStream naks them for
	// redelivery, Kafka does nothing (their offsets are not committed).
	Abandon(recs []*Record)
	// Close releases the connection. Run must have returned.
	Close() error
}

// Sink produces records.
type Sink interface {
	// Write queues rec and returns at once, unless the sink's in-flight
	// limit is reached; then it blocks (backpressure) until a slot frees
	// or ctx ends. done is called exactly once, from any goroutine, with
	// nil when the broker has acknowledged the record, or with a
	// permanent error. Transient errors are retried inside the sink in
	// order, so records written to one destination partition are
	// acknowledged in the order written.
	Write(ctx context.Context, rec *Record, done func(error)) error
	// Flush waits until every written record's done has been called, or
	// ctx ends.
	Flush(ctx context.Context) error
	// Close flushes what it can and releases the connection.
	Close() error
}

// Preflighter is implemented by sinks that can tell, before any record
// flows, that their destination refuses them for good: a TLS certificate
// it does not trust or that does not trust it, rejected credentials. Such
// a sink would otherwise retry forever and stall its route in silence.
type Preflighter interface {
	// Preflight returns that refusal as an error saying what to fix, or
	// nil when the destination answered or may still come up (a broker
	// not reachable yet is the sink's to retry). It may wait up to a few
	// seconds for an answer, or until ctx ends.
	Preflight(ctx context.Context) error
}

// PartitionCounter is implemented by connectors whose destinations or
// sources are partitioned (Kafka): it says how many partitions each named
// topic has, leaving out the topics it could not learn about.
type PartitionCounter interface {
	PartitionCounts(ctx context.Context, topics []string) (map[string]int, error)
}

// TopicLister is implemented by sources that read a fixed list of topics
// (not a pattern): the topics, known before any record.
type TopicLister interface {
	ListedTopics() []string
}

// PartitionLag is how far a consumer is behind on one partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	// Lag is the Kafka high watermark minus the committed offset, or the
	// JetStream consumer's pending count.
	Lag int64
}

// LagReporter is implemented by sources that can tell their lag.
type LagReporter interface {
	// Lag returns the current lag per partition. It may ask the broker,
	// so the processor calls it on an interval, never per record.
	Lag(ctx context.Context) ([]PartitionLag, error)
}

// ErrPermanent marks a sink error that retrying will not fix (the record
// is too large for the broker, the topic is not authorized). The processor
// sends such a record to the dead letters.
var ErrPermanent = errors.New("connectors: permanent error")
