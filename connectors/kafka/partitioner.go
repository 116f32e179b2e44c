package kafka

import (
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// errPartitionOutOfRange is a record asking for a partition the
// destination topic does not have (keep_partition onto a topic with fewer
// partitions): a configuration mistake no retry fixes.
var errPartitionOutOfRange = errors.New("kafka: destination partition does not exist: give the destination topic at least as many partitions as the source, or drop keep_partition")

// partitionCounts remembers the partition count the partitioner last saw
// per topic, so a failed record can be told apart as out of range.
type partitionCounts struct{ m sync.Map }

func newPartitionCounts() *partitionCounts { return &partitionCounts{} }

func (p *partitionCounts) set(topic string, n int) { p.m.Store(topic, n) }

func (p *partitionCounts) get(topic string) (int, bool) {
	v, ok := p.m.Load(topic)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

// keepPartitioner honors Record.Partition when it is >= 0 and otherwise
// uses kgo's sticky key partitioner (murmur2 of the key, the Java client's
// choice, so keyed records land where other clients would put them).
type keepPartitioner struct {
	inner kgo.Partitioner
	parts *partitionCounts
}

func newPartitioner(parts *partitionCounts) kgo.Partitioner {
	return keepPartitioner{inner: kgo.StickyKeyPartitioner(nil), parts: parts}
}

func (k keepPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return &keepTopicPartitioner{topic: topic, inner: k.inner.ForTopic(topic), parts: k.parts}
}

type keepTopicPartitioner struct {
	topic string
	inner kgo.TopicPartitioner
	parts *partitionCounts
}

var _ kgo.TopicPartitionerOnNewBatch = (*keepTopicPartitioner)(nil)

// RequiresConsistency is true for a fixed partition, so kgo maps the
// choice over every partition (index = partition number) and waits for a
// partition that is briefly down instead of moving the record.
func (p *keepTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return r.Partition >= 0 || p.inner.RequiresConsistency(r)
}

func (p *keepTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 {
		// Store only a change: a sync.Map store per record cost 3% of a
		// pass-through route's CPU, a load next to nothing. Comparing with
		// the map rather than a copy of our own means a count the solo
		// client's partitioner stored is corrected on our next record.
		if have, ok := p.parts.get(p.topic); !ok || have != n {
			p.parts.set(p.topic, n)
		}
		if int(r.Partition) >= n {
			return -1 // kgo fails the record; Sink.classify names the cause
		}
		return int(r.Partition)
	}
	return p.inner.Partition(r, n)
}

func (p *keepTopicPartitioner) OnNewBatch() {
	if nb, ok := p.inner.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}
