package kafka

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

func TestFromKgo(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	in := []*kgo.Record{
		{Topic: "t", Partition: 2, Offset: 7, Key: []byte("k1"), Value: []byte(`{"a":1}`), Timestamp: ts,
			Headers: []kgo.RecordHeader{{Key: "h1", Value: []byte("v1")}, {Key: "h2", Value: []byte("v2")}}},
		{Topic: "t", Partition: 2, Offset: 8, Key: []byte("k2"), Value: nil, Timestamp: ts}, // a tombstone
		{Topic: "t", Partition: 2, Offset: 9, Value: []byte(`[]`), Timestamp: ts,
			Headers: []kgo.RecordHeader{{Key: "h3", Value: nil}}},
	}
	tests := []struct {
		name string
		recs []*kgo.Record
	}{
		{"batch", in},
		{"one record", in[:1]},
		{"no headers anywhere", in[1:2]},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]*connectors.Record, len(tt.recs))
			fromKgo(tt.recs, out)
			for i, r := range tt.recs {
				var hs []connectors.Header
				for _, h := range r.Headers {
					hs = append(hs, connectors.Header{Key: h.Key, Value: h.Value})
				}
				want := &connectors.Record{
					Key: r.Key, Value: r.Value, Headers: hs, Timestamp: r.Timestamp,
					Origin:  connectors.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset},
					Attempt: 1, Partition: -1, Token: r,
				}
				if !reflect.DeepEqual(out[i], want) {
					t.Errorf("record %d = %+v, want %+v", i, out[i], want)
				}
				if r.Value == nil && out[i].Value != nil {
					t.Errorf("record %d: a tombstone's value must stay nil", i)
				}
				// One record's headers never reach into the next one's:
				// appending to them must not overwrite a neighbour.
				if len(out[i].Headers) != cap(out[i].Headers) {
					t.Errorf("record %d: headers have spare capacity %d shared with the next record", i, cap(out[i].Headers)-len(out[i].Headers))
				}
			}
		})
	}
}

func TestProducedRecycling(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		rec  connectors.Record
	}{
		{"headers", connectors.Record{Topic: "out", Partition: 3, Key: []byte("k"), Value: []byte("v"), Timestamp: ts,
			Headers: []connectors.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}}}},
		{"no headers after headers", connectors.Record{Topic: "out", Partition: -1, Value: []byte("w"), Timestamp: ts}},
		{"tombstone", connectors.Record{Topic: "out", Partition: 0, Key: []byte("k")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			called := 0
			p := getProduced(&tt.rec, func(err error) { got, called = err, called+1 })
			kr := &p.kr
			if kr.Topic != tt.rec.Topic || kr.Partition != tt.rec.Partition || string(kr.Key) != string(tt.rec.Key) ||
				string(kr.Value) != string(tt.rec.Value) || !kr.Timestamp.Equal(tt.rec.Timestamp) {
				t.Errorf("kgo record = %+v, want the fields of %+v", kr, tt.rec)
			}
			if (tt.rec.Value == nil) != (kr.Value == nil) {
				t.Errorf("value nil = %v, want %v (a tombstone stays one)", kr.Value == nil, tt.rec.Value == nil)
			}
			if len(kr.Headers) != len(tt.rec.Headers) || (len(tt.rec.Headers) == 0 && kr.Headers != nil) {
				t.Fatalf("headers = %v, want %v", kr.Headers, tt.rec.Headers)
			}
			for i, h := range tt.rec.Headers {
				if kr.Headers[i].Key != h.Key || string(kr.Headers[i].Value) != string(h.Value) {
					t.Errorf("header %d = %v, want %v", i, kr.Headers[i], h)
				}
			}
			// kgo finds the record's state through its Context, which must
			// behave as a context that never ends, even once recycled.
			ctx := kr.Context
			if ctx.(*produced) != p || ctx.Done() != nil || ctx.Err() != nil || ctx.Value("x") != nil {
				t.Error("the record's Context is not its produced state, or not a background context")
			}
			s := &Sink{sem: make(chan struct{}, 1)}
			s.sem <- struct{}{}
			s.inflight.Add()
			s.promise(kr, nil)
			if called != 1 || got != nil {
				t.Errorf("done called %d times with %v, want once with nil", called, got)
			}
			if ctx.Done() != nil || ctx.Err() != nil {
				t.Error("a recycled record's Context ended")
			}
			if err := s.inflight.Wait(context.Background()); err != nil {
				t.Errorf("in flight after done: %v", err)
			}
		})
	}
}
