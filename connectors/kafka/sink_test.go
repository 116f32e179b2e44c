package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// TestSinkOutage drops the connection of the first produce requests, as a
// broker going away would: kgo retries inside the sink, every done is nil
// and in order, and the topic holds each record once, in order.
func TestSinkOutage(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("outage")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	var failed atomic.Int32
	const failures = 4
	k.Cluster().ControlKey(kmsg.Produce.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if failed.Add(1) > failures {
			k.Cluster().DropControl()
			return nil, nil, false
		}
		k.Cluster().KeepControl()
		return failProduce(req.(*kmsg.ProduceRequest), kerr.NotLeaderForPartition.Code), nil, true
	})

	sink := newSink(t, k, kafka.SinkConfig{MaxInFlight: 64})
	ctx := ctxT(t, defaultWait)
	const n = 300
	var (
		mu    sync.Mutex
		order []int
	)
	for i := range n {
		rec := &connectors.Record{Topic: topic, Partition: -1, Key: []byte("same-key"), Value: fmt.Appendf(nil, `{"seq":%d}`, i)}
		if err := sink.Write(ctx, rec, func(err error) {
			if err != nil {
				t.Errorf("record %d: done(%v), want nil after the outage", i, err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := failed.Load(); got <= failures {
		t.Fatalf("only %d produce requests were seen; the outage was not exercised", got)
	}
	for i, got := range order {
		if got != i {
			t.Fatalf("done %d was for record %d: out of order", i, got)
		}
	}
	out := consume(t, k, topic, n)
	for i, r := range out {
		if want := fmt.Sprintf(`{"seq":%d}`, i); string(r.Value) != want {
			t.Fatalf("record %d is %s, want %s (lost, duplicated or reordered)", i, r.Value, want)
		}
	}
}

// failProduce answers every partition of req with code, as a broker that
// lost leadership (or is shutting down) does.
func failProduce(req *kmsg.ProduceRequest, code int16) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func TestSinkPermanentErrors(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("perm")
	if err := k.CreateTopics(ctxT(t, defaultWait), 2, topic); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t, k, kafka.SinkConfig{BatchMaxBytes: 1024})
	tests := []struct {
		name string
		rec  *connectors.Record
	}{
		{"too large", &connectors.Record{Topic: topic, Partition: -1, Value: make([]byte, 4096)}},
		{"partition out of range", &connectors.Record{Topic: topic, Partition: 7, Value: []byte(`{}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan error, 1)
			if err := sink.Write(ctxT(t, defaultWait), tt.rec, func(err error) { got <- err }); err != nil {
				t.Fatal(err)
			}
			if err := <-got; !errors.Is(err, connectors.ErrPermanent) {
				t.Errorf("done(%v), want an error wrapping connectors.ErrPermanent", err)
			}
		})
	}
	// A good record after the bad ones still goes through.
	got := make(chan error, 1)
	if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: topic, Partition: 1, Value: []byte(`{}`)}, func(err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("good record after permanent errors: %v", err)
	}
}

// TestSinkBackpressure: with MaxInFlight records unacknowledged (produce
// requests held by the broker), Write blocks until ctx ends, and done is
// not called for the refused record.
func TestSinkBackpressure(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("bp")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	k.Cluster().ControlKey(kmsg.Produce.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster().SleepControl(func() { <-release })
		return nil, nil, false
	})
	sink := newSink(t, k, kafka.SinkConfig{MaxInFlight: 4})
	ctx := ctxT(t, defaultWait)
	var dones atomic.Int32
	for i := range 4 {
		if err := sink.Write(ctx, &connectors.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "%d", i)}, func(error) { dones.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	refused := false
	if err := sink.Write(short, &connectors.Record{Topic: topic, Partition: 0, Value: []byte("x")}, func(error) { refused = true }); !errors.Is(err, context.Canceled) {
		t.Errorf("Write beyond MaxInFlight with a cancelled ctx = %v, want context.Canceled", err)
	}
	close(release)
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if dones.Load() != 4 || refused {
		t.Errorf("done calls: %d for the 4 accepted records (want 4), refused record called: %v", dones.Load(), refused)
	}
}
