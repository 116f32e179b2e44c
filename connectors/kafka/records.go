package kafka

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// fromKgo converts a polled batch into dst (len(dst) == len(rs)). Key,
// value and header values are shared with kgo's records, which the
// source never touches again. A null value (a tombstone) stays nil. The
// records and their headers come from one allocation each per batch, not
// per record: the lane owns them all until its acker is done with them.
func fromKgo(rs []*kgo.Record, dst []*connectors.Record) {
	slab := make([]connectors.Record, len(rs))
	var nh int
	for _, r := range rs {
		nh += len(r.Headers)
	}
	var hslab []connectors.Header
	if nh > 0 {
		hslab = make([]connectors.Header, nh)
	}
	for i, r := range rs {
		var hs []connectors.Header
		if len(r.Headers) > 0 {
			hs = hslab[:len(r.Headers):len(r.Headers)]
			hslab = hslab[len(r.Headers):]
			for j, h := range r.Headers {
				hs[j] = connectors.Header{Key: h.Key, Value: h.Value}
			}
		}
		slab[i] = connectors.Record{
			Key:       r.Key,
			Value:     r.Value,
			Headers:   hs,
			Timestamp: r.Timestamp,
			Origin:    connectors.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset},
			Attempt:   1,
			Partition: -1,
			Token:     r,
		}
		dst[i] = &slab[i]
	}
}

// produced is one record in kgo's hands. It is the kgo record's Context,
// so the sink's single promise finds the caller's done without a closure
// per record. As a context it is constant and never done (nothing cancels
// a record half way): kgo may keep asking it after the promise, when the
// struct already serves another record. Reused through producedPool once
// done has been called: kgo touches a record no more after its promise.
type produced struct {
	kr   kgo.Record
	hs   []kgo.RecordHeader // kr.Headers' backing array, kept across reuse
	done func(error)
}

var _ context.Context = (*produced)(nil)

func (*produced) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*produced) Done() <-chan struct{}       { return nil }
func (*produced) Err() error                  { return nil }
func (*produced) Value(any) any               { return nil }

var producedPool = sync.Pool{New: func() any { return new(produced) }}

// maxPooledHeaders keeps a record with many headers from pinning a large
// array in the pool.
const maxPooledHeaders = 64

// getProduced builds the record to produce for rec. Partition is kept as
// given: the sink's partitioner honors it when >= 0. Key, value and
// header values are shared with rec, which the caller keeps unchanged
// until done.
func getProduced(rec *connectors.Record, done func(error)) *produced {
	p := producedPool.Get().(*produced)
	hs := p.hs[:0]
	for _, h := range rec.Headers {
		hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	p.hs = hs
	if len(hs) == 0 {
		hs = nil
	}
	p.kr = kgo.Record{
		Topic:     rec.Topic,
		Partition: rec.Partition,
		Key:       rec.Key,
		Value:     rec.Value,
		Headers:   hs,
		Timestamp: rec.Timestamp,
		Context:   p,
	}
	p.done = done
	return p
}

func putProduced(p *produced) {
	hs := p.hs
	if cap(hs) > maxPooledHeaders {
		hs = nil
	}
	clear(hs)
	*p = produced{hs: hs[:0]}
	producedPool.Put(p)
}
