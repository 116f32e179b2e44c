package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors"
)

// Features says what a connector pair can do; the suite checks exactly
// that, and skips the checks a broker cannot support.
type Features struct {
	// Keys: record keys survive (Kafka).
	Keys bool
	// Timestamps: a written record's timestamp survives (Kafka).
	Timestamps bool
	// Tombstones: a nil value survives as nil (Kafka).
	Tombstones bool
	// Redelivery: records not acked before a restart come back (Kafka,
	// JetStream; not core NATS).
	Redelivery bool
	// Live: the source sees only records produced while it runs (core
	// NATS, at most once). The suite starts it and waits for its lane to
	// open before producing, and never produces while no source runs.
	Live bool
	// Attempts: a redelivered record has Attempt > 1 (JetStream).
	Attempts bool
	// Partitions is how many lanes Produce can spread records over
	// (Record.Partition); 1 for a single-lane source.
	Partitions int
}

// Harness is one connector pair in a fresh environment (new topics, a new
// group or durable). The suite calls the maker once per subtest.
type Harness struct {
	// NewSource builds a source over the input. Every call within one
	// Harness uses the same group or durable, so a second source resumes
	// where the first one acked.
	NewSource func(t *testing.T) connectors.Source
	// NewSink builds a sink writing to SinkTopic.
	NewSink func(t *testing.T) connectors.Sink
	// Produce writes records to the input with a plain client, honoring
	// Record.Partition (< Features.Partitions) where the broker has
	// partitions. With Features.Live it must return only once the records
	// reached the broker, so a source stopped after reading them has
	// seen all of them.
	Produce func(t *testing.T, recs ...*connectors.Record)
	// Consume reads n records from SinkTopic with a plain client, from
	// the start, failing t if they do not come within a reasonable time.
	// For a broker that keeps nothing (core NATS) the harness subscribes
	// before the sink writes, for instance with a stream capturing
	// SinkTopic.
	Consume func(t *testing.T, n int) []*connectors.Record
	// SinkTopic is the topic or subject the suite writes to.
	SinkTopic string
}

// suiteTimeout bounds each step that waits on a broker. It is a deadline
// against hangs, not a performance assertion.
const suiteTimeout = 30 * time.Second

// RunConnectorSuite checks a source/sink pair against the contract in
// connectors/connector.go: order per lane, fields kept, tombstones, acked
// records not redelivered after a restart, unacked ones redelivered,
// backpressure from a blocked lane, Stop semantics, and the sink's done
// and Flush behaviour. A Live source (core NATS) gets the same checks but
// the redelivery one, each producing only while it runs.
func RunConnectorSuite(t *testing.T, f Features, mk func(t *testing.T) Harness) {
	if f.Partitions < 1 {
		f.Partitions = 1
	}
	if f.Live && f.Redelivery {
		t.Fatal("testenv: a live source keeps nothing, so it cannot redeliver: set Live or Redelivery, not both")
	}
	s := suite{f: f, mk: mk}
	t.Run("SourceOrderPerLane", s.sourceOrder)
	t.Run("SourceKeepsFields", s.sourceFields)
	t.Run("AckedNotRedelivered", s.ackedNotRedelivered)
	if f.Redelivery {
		t.Run("UnackedRedelivered", s.unackedRedelivered)
	}
	t.Run("Backpressure", s.backpressure)
	t.Run("StopSemantics", s.stopSemantics)
	t.Run("SinkOrderAndFields", s.sinkOrder)
	t.Run("SinkCloseRefusesWrites", s.sinkClose)
}

type suite struct {
	f  Features
	mk func(t *testing.T) Harness
}

// payload is the value of every record the suite produces.
type payload struct {
	Phase string `json:"phase"`
	Seq   int    `json:"seq"`
}

func (s suite) records(phase string, n int) []*connectors.Record {
	out := make([]*connectors.Record, n)
	for i := range out {
		v, _ := json.Marshal(payload{Phase: phase, Seq: i})
		out[i] = &connectors.Record{Value: v, Partition: int32(i % s.f.Partitions)}
	}
	return out
}

func parse(t *testing.T, r *connectors.Record) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(r.Value, &p); err != nil {
		t.Fatalf("record value %q is not the suite's payload: %v", r.Value, err)
	}
	return p
}

// running is a source under Run with its collector.
type running struct {
	src    connectors.Source
	col    *collector
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func start(t *testing.T, src connectors.Source, col *collector) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{src: src, col: col, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, col.open) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// produceAndStart produces recs and starts src: in that order for a
// broker that keeps records, so the source finds a backlog; the other way
// round, once a lane is open, for a live source, which would miss them.
func (s suite) produceAndStart(t *testing.T, h Harness, col *collector, recs []*connectors.Record) *running {
	t.Helper()
	if !s.f.Live {
		h.Produce(t, recs...)
		return start(t, col.src, col)
	}
	r := start(t, col.src, col)
	waitOpened(t, ctxT(t), col)
	h.Produce(t, recs...)
	return r
}

// stop cancels Run, waits for it, closes the source and returns Run's
// error.
func (r *running) stop(t *testing.T) error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(suiteTimeout):
			t.Errorf("Run did not return within %s of its ctx ending", suiteTimeout)
			return
		}
		if err := r.src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r.err
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
	t.Cleanup(cancel)
	return ctx
}

func countPhase(recs []*connectors.Record, phase string) map[int]int {
	seen := make(map[int]int)
	for _, r := range recs {
		var p payload
		if json.Unmarshal(r.Value, &p) == nil && p.Phase == phase {
			seen[p.Seq]++
		}
	}
	return seen
}

func hasAll(n int, phase string) func([]*connectors.Record) bool {
	return func(recs []*connectors.Record) bool { return len(countPhase(recs, phase)) >= n }
}

func checkProblems(t *testing.T, col *collector) {
	t.Helper()
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, p := range col.problems {
		t.Error(p)
	}
}

// sourceOrder: every record arrives once, and each lane sees its records
// in the order they were produced, with increasing offsets.
func (s suite) sourceOrder(t *testing.T) {
	h := s.mk(t)
	const n = 300
	col := newCollector(h.NewSource(t), true)
	r := s.produceAndStart(t, h, col, s.records("order", n))
	if err := col.wait(ctxT(t), hasAll(n, "order")); err != nil {
		t.Fatal(err)
	}
	for seq, c := range countPhase(col.records(), "order") {
		if c != 1 {
			t.Errorf("record %d delivered %d times without a restart", seq, c)
		}
	}
	for id, recs := range col.laneRecords() {
		lastSeq, lastOff := -1, int64(-1)
		for _, rec := range recs {
			p := parse(t, rec)
			if p.Seq <= lastSeq {
				t.Errorf("lane %v: record %d after %d", id, p.Seq, lastSeq)
			}
			if rec.Origin.Offset >= 0 && rec.Origin.Offset <= lastOff {
				t.Errorf("lane %v: offset %d after %d", id, rec.Origin.Offset, lastOff)
			}
			lastSeq, lastOff = p.Seq, rec.Origin.Offset
			if rec.Attempt < 1 {
				t.Errorf("lane %v: Attempt %d, want >= 1", id, rec.Attempt)
			}
		}
	}
	if s.f.Partitions > 1 && len(col.laneRecords()) != s.f.Partitions {
		t.Errorf("records arrived on %d lanes, want %d", len(col.laneRecords()), s.f.Partitions)
	}
	if err := r.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
	checkProblems(t, col)
}

// sourceFields: key, headers (repeated keys, empty values), timestamp and
// tombstones come out of the source as they went in.
func (s suite) sourceFields(t *testing.T) {
	h := s.mk(t)
	ts := time.UnixMilli(1_700_000_000_123)
	recs := s.records("fields", 2)
	for _, r := range recs {
		r.Partition = 0
		r.Key = []byte("customer-42")
		r.Timestamp = ts
		r.Headers = []connectors.Header{{Key: "a", Value: []byte("1")}, {Key: "a", Value: []byte("2")}, {Key: "b", Value: []byte{}}}
	}
	if s.f.Tombstones {
		recs = append(recs, &connectors.Record{Key: []byte("gone"), Value: nil, Timestamp: ts, Partition: 0})
	}
	col := newCollector(h.NewSource(t), true)
	r := s.produceAndStart(t, h, col, recs)
	if err := col.wait(ctxT(t), func(got []*connectors.Record) bool { return len(got) >= len(recs) }); err != nil {
		t.Fatal(err)
	}
	got := col.records()
	for i, rec := range got[:2] {
		if s.f.Keys && string(rec.Key) != "customer-42" {
			t.Errorf("record %d: key %q, want customer-42", i, rec.Key)
		}
		if s.f.Timestamps && !rec.Timestamp.Equal(ts) {
			t.Errorf("record %d: timestamp %v, want %v", i, rec.Timestamp, ts)
		}
		if rec.Timestamp.IsZero() {
			t.Errorf("record %d: zero timestamp", i)
		}
		checkHeaders(t, rec.Headers, recs[i].Headers)
		if rec.Value == nil {
			t.Errorf("record %d: nil value for a non-tombstone", i)
		}
	}
	if s.f.Tombstones {
		tomb := got[2]
		if tomb.Value != nil {
			t.Errorf("tombstone delivered with value %q, want nil", tomb.Value)
		}
		if string(tomb.Key) != "gone" {
			t.Errorf("tombstone key %q, want gone", tomb.Key)
		}
	}
	r.stop(t)
	checkProblems(t, col)
}

// checkHeaders compares header lists as multisets per key, keeping the
// order of one key's values: NATS groups headers by key.
func checkHeaders(t *testing.T, got, want []connectors.Header) {
	t.Helper()
	byKey := func(hs []connectors.Header) map[string][]string {
		m := make(map[string][]string)
		for _, h := range hs {
			m[h.Key] = append(m[h.Key], string(h.Value))
		}
		return m
	}
	g, w := byKey(got), byKey(want)
	for k, wv := range w {
		if !slices.Equal(g[k], wv) {
			t.Errorf("header %q = %q, want %q", k, g[k], wv)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok && !isBrokerHeader(k) {
			t.Errorf("unexpected header %q", k)
		}
	}
}

// isBrokerHeader tells headers a broker adds on its own (JetStream's
// Nats-Msg-Id from the sink).
func isBrokerHeader(k string) bool { return k == "Nats-Msg-Id" }

// ackedNotRedelivered: after a restart with everything acked, the new
// source sees only records produced later. Lanes are ordered, so by the
// time every new record has arrived, an old one would have come first.
func (s suite) ackedNotRedelivered(t *testing.T) {
	h := s.mk(t)
	const n = 100
	col := newCollector(h.NewSource(t), true)
	r := s.produceAndStart(t, h, col, s.records("first", n))
	if err := col.wait(ctxT(t), hasAll(n, "first")); err != nil {
		t.Fatal(err)
	}
	r.stop(t)
	checkProblems(t, col)

	col2 := newCollector(h.NewSource(t), true)
	r2 := s.produceAndStart(t, h, col2, s.records("second", n))
	if err := col2.wait(ctxT(t), hasAll(n, "second")); err != nil {
		t.Fatal(err)
	}
	if again := countPhase(col2.records(), "first"); len(again) > 0 {
		t.Errorf("%d acked records delivered again after a restart", len(again))
	}
	r2.stop(t)
	checkProblems(t, col2)
}

// unackedRedelivered: a source that acks only the first half of each lane
// and stops (abandoning the rest) leaves the second half to the next
// source, which gets all of it and none of the acked half.
func (s suite) unackedRedelivered(t *testing.T) {
	h := s.mk(t)
	const n = 100
	h.Produce(t, s.records("half", n)...)
	col := newCollector(h.NewSource(t), false)
	r := start(t, col.src, col)
	ctx := ctxT(t)
	if err := col.wait(ctx, hasAll(n, "half")); err != nil {
		t.Fatal(err)
	}
	acked := make(map[int]bool)
	col.mu.Lock()
	lanes := make([]*testLane, 0, len(col.lanes))
	for _, l := range col.lanes {
		lanes = append(lanes, l)
	}
	col.mu.Unlock()
	for _, l := range lanes {
		l.mu.Lock()
		k := len(l.pending) / 2
		for _, rec := range l.pending[:k] {
			acked[parse(t, rec).Seq] = true
		}
		l.mu.Unlock()
		if err := l.ack(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	r.stop(t)
	checkProblems(t, col)

	h.Produce(t, s.records("later", 10)...)
	col2 := newCollector(h.NewSource(t), true)
	r2 := start(t, col2.src, col2)
	want := n - len(acked)
	if err := col2.wait(ctx, func(got []*connectors.Record) bool {
		return len(countPhase(got, "half")) >= want && len(countPhase(got, "later")) >= 10
	}); err != nil {
		t.Fatalf("%v (want the %d unacked records back)", err, want)
	}
	for _, rec := range col2.records() {
		p := parse(t, rec)
		if p.Phase != "half" {
			continue
		}
		if acked[p.Seq] {
			t.Errorf("acked record %d delivered again", p.Seq)
		} else if s.f.Attempts && rec.Attempt < 2 {
			t.Errorf("redelivered record %d has Attempt %d, want >= 2", p.Seq, rec.Attempt)
		}
	}
	r2.stop(t)
	checkProblems(t, col2)
}

// backpressure: while a lane blocks in Deliver the source makes no other
// Deliver call on it, stays cancellable, and after the lane unblocks every
// record arrives in order.
func (s suite) backpressure(t *testing.T) {
	h := s.mk(t)
	const n = 500
	col := newCollector(h.NewSource(t), true)
	col.gate = make(chan struct{})
	r := s.produceAndStart(t, h, col, s.records("bp", n))
	ctx := ctxT(t)

	// Let exactly one Deliver through, then hold the lane(s) full.
	select {
	case col.gate <- struct{}{}:
	case <-ctx.Done():
		t.Fatal("no Deliver call within the suite timeout")
	}
	if err := col.wait(ctx, func(got []*connectors.Record) bool { return len(got) > 0 }); err != nil {
		t.Fatal(err)
	}
	held := len(col.records())
	if held >= n {
		t.Fatalf("the first Deliver carried all %d records; produce more to test backpressure", n)
	}
	// Release the gate for good; everything must now arrive, in order.
	close(col.gate)
	if err := col.wait(ctx, hasAll(n, "bp")); err != nil {
		t.Fatal(err)
	}
	for id, recs := range col.laneRecords() {
		last := -1
		for _, rec := range recs {
			if p := parse(t, rec); p.Seq <= last {
				t.Errorf("lane %v: record %d after %d", id, p.Seq, last)
			} else {
				last = p.Seq
			}
		}
	}
	r.stop(t)
	checkProblems(t, col)

	// A lane blocked for good does not keep Run from returning.
	col2 := newCollector(h.NewSource(t), true)
	col2.gate = make(chan struct{}) // never released
	r2 := s.produceAndStart(t, h, col2, s.records("stuck", 10))
	waitOpened(t, ctx, col2)
	if err := r2.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a blocked lane after cancel = %v, want context.Canceled", err)
	}
	checkProblems(t, col2)
}

func waitOpened(t *testing.T, ctx context.Context, col *collector) {
	t.Helper()
	for {
		col.mu.Lock()
		opened := col.opened
		col.mu.Unlock()
		if opened > 0 {
			return
		}
		select {
		case <-col.changed:
		case <-ctx.Done():
			t.Fatal("no lane opened within the suite timeout")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stopSemantics: every opened lane is stopped exactly once before Run
// returns, and nothing is delivered after.
func (s suite) stopSemantics(t *testing.T) {
	h := s.mk(t)
	col := newCollector(h.NewSource(t), true)
	r := s.produceAndStart(t, h, col, s.records("stop", 50))
	if err := col.wait(ctxT(t), hasAll(50, "stop")); err != nil {
		t.Fatal(err)
	}
	r.stop(t)
	col.mu.Lock()
	opened, stops := col.opened, col.stops
	col.mu.Unlock()
	if opened == 0 || stops != opened {
		t.Errorf("opened %d lanes, stopped %d before Run returned; want all stopped", opened, stops)
	}
	checkProblems(t, col)
}

// sinkOrder: done is called once per record, in write order, with nil;
// Flush returns after the last done; a consumer reads the records in
// order with their fields.
func (s suite) sinkOrder(t *testing.T) {
	h := s.mk(t)
	sink := h.NewSink(t)
	defer sink.Close()
	ctx := ctxT(t)
	const n = 200
	ts := time.UnixMilli(1_700_000_000_456)
	var (
		mu    sync.Mutex
		order []int
		errs  []error
	)
	recs := s.records("sink", n)
	for i, rec := range recs {
		rec.Topic = h.SinkTopic
		rec.Partition = 0
		rec.Key = []byte(fmt.Sprintf("k%d", i))
		rec.Timestamp = ts
		rec.Headers = []connectors.Header{{Key: "trace", Value: []byte(fmt.Sprint(i))}}
		if s.f.Tombstones && i == n-1 {
			rec.Value = nil
		}
		if err := sink.Write(ctx, rec, func(err error) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, i)
			if err != nil {
				errs = append(errs, err)
			}
		}); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	mu.Lock()
	if len(order) != n {
		t.Errorf("after Flush, done called %d times, want %d", len(order), n)
	}
	for i, got := range order {
		if got != i {
			t.Errorf("done call %d was for record %d: acks out of write order", i, got)
			break
		}
	}
	for _, err := range errs {
		t.Errorf("done: %v", err)
	}
	mu.Unlock()

	out := h.Consume(t, n)
	for i, rec := range out {
		if s.f.Tombstones && i == n-1 {
			if rec.Value != nil {
				t.Errorf("tombstone read back with value %q", rec.Value)
			}
			continue
		}
		if p := parse(t, rec); p.Seq != i {
			t.Errorf("record %d read back as %d: out of order", i, p.Seq)
			continue
		}
		if s.f.Keys && !bytes.Equal(rec.Key, []byte(fmt.Sprintf("k%d", i))) {
			t.Errorf("record %d key %q", i, rec.Key)
		}
		if s.f.Timestamps && !rec.Timestamp.Equal(ts) {
			t.Errorf("record %d timestamp %v, want %v", i, rec.Timestamp, ts)
		}
		checkHeaders(t, rec.Headers, recs[i].Headers)
	}
}

// sinkClose: Write after Close returns an error and never calls done.
func (s suite) sinkClose(t *testing.T) {
	h := s.mk(t)
	sink := h.NewSink(t)
	if err := sink.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	err := sink.Write(ctxT(t), &connectors.Record{Topic: h.SinkTopic, Value: []byte("{}"), Partition: -1}, func(error) { called = true })
	if err == nil {
		t.Error("Write after Close succeeded")
	}
	if called {
		t.Error("done called for a refused Write")
	}
}
