package nats_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// wireRecords are records whose keys and headers a NATS header line
// cannot all hold as they are.
func wireRecords() []*connectors.Record {
	hdr := func(k, v string) connectors.Header { return connectors.Header{Key: k, Value: []byte(v)} }
	keys := [][]byte{nil, {}, []byte("customer-42"), []byte("ключ ü"), {0x00, 0xff, 0x80}, []byte("a\r\nb"), []byte(" padded "), []byte("k7"), []byte("gone")}
	out := make([]*connectors.Record, len(keys))
	for i, k := range keys {
		out[i] = seqRecord("wire", i)
		out[i].Key = k
		out[i].Headers = []connectors.Header{hdr("trace", "t")}
	}
	// Without a key, a header with the key header's name must not pass
	// for one.
	out[0].Headers = append(out[0].Headers, hdr("maskstream-key", "not a key"))
	out[7].Headers = []connectors.Header{
		hdr("trace", "t"), hdr("crlf", "x\r\nMaskstream-Key: evil"), hdr("bin", "\x00\x00\x00\x2a"), hdr("latin1", "caf\xe9"),
		hdr("padded", " v "), hdr("empty", ""), hdr("a:b", "1"), hdr("has space", "2"), hdr("", "3"), hdr("x\ny", "4"),
		hdr("maskstream-key", "not the key"), hdr("multi", "1"), hdr("multi", "2\n"), hdr("multi", "3"),
	}
	out[8].Value = nil // a Kafka tombstone: NATS has none, it becomes an empty payload
	return out
}

// checkWire compares what a source read with what the sink was given:
// the key byte for byte (nil stays nil, empty stays empty), the headers
// per name in order, Nats-Msg-Id (the JetStream sink's) aside.
func checkWire(t *testing.T, got, want []*connectors.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	sorted := func(hs []connectors.Header) []connectors.Header {
		hs = slices.DeleteFunc(slices.Clone(hs), func(h connectors.Header) bool { return h.Key == "Nats-Msg-Id" })
		slices.SortStableFunc(hs, func(a, b connectors.Header) int { return strings.Compare(a.Key, b.Key) })
		return hs
	}
	for i, w := range want {
		g := got[i]
		if (g.Key == nil) != (w.Key == nil) || !bytes.Equal(g.Key, w.Key) {
			t.Errorf("record %d: key %q (nil %v), want %q (nil %v)", i, g.Key, g.Key == nil, w.Key, w.Key == nil)
		}
		gh, wh := sorted(g.Headers), sorted(w.Headers)
		if !slices.EqualFunc(gh, wh, func(a, b connectors.Header) bool { return a.Key == b.Key && bytes.Equal(a.Value, b.Value) }) {
			t.Errorf("record %d: headers\n%q\nwant\n%q", i, gh, wh)
		}
		if w.Value == nil && len(g.Value) != 0 {
			t.Errorf("record %d: tombstone read back with value %q", i, g.Value)
		}
	}
}

// writeAll writes recs to subject and fails t unless every done is nil.
func writeAll(t *testing.T, sink connectors.Sink, subject string, recs []*connectors.Record) {
	t.Helper()
	ctx := ctxT(t, defaultWait)
	errs := make(chan error, len(recs))
	for _, r := range recs {
		r.Topic = subject
		if err := sink.Write(ctx, r, func(err error) { errs <- err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for range recs {
		if err := <-errs; err != nil {
			t.Errorf("done(%v): the record was refused", err)
		}
	}
}

// TestKeyOverJetStream: keys and headers survive JetStreamSink ->
// stream -> JetStreamSource, and a plain consumer finds the key header.
func TestKeyOverJetStream(t *testing.T) {
	n := testenv.StartNATS(t)
	if err := n.CreateStream(ctxT(t, defaultWait), "KW", "kw.>"); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	want := wireRecords()
	writeAll(t, sink, "kw.x", want)

	// What any NATS consumer sees.
	c, err := jsClient(t, n).OrderedConsumer(ctxT(t, defaultWait), "KW", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var raw []jetstream.Msg
	for range want {
		m, err := c.Next(jetstream.FetchMaxWait(defaultWait))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, m)
	}
	keyHeaders := func(m jetstream.Msg) [2][]string {
		return [2][]string{m.Headers().Values(nats.HeaderKey), m.Headers().Values(nats.HeaderKeyBase64)}
	}
	for i, w := range map[int][2][]string{
		0: {nil, nil},
		1: {{""}, nil},
		2: {{"customer-42"}, nil},
		4: {nil, {base64.StdEncoding.EncodeToString(want[4].Key)}},
		5: {nil, {base64.StdEncoding.EncodeToString(want[5].Key)}},
	} {
		if got := keyHeaders(raw[i]); !slices.Equal(got[0], w[0]) || !slices.Equal(got[1], w[1]) {
			t.Errorf("message %d: %s %q, %s %q; want %q, %q", i, nats.HeaderKey, got[0], nats.HeaderKeyBase64, got[1], w[0], w[1])
		}
	}
	if n := len(raw[0].Headers().Values(nats.HeaderBase64)); n != 1 {
		t.Errorf("message 0: %d encoded headers, want maskstream-key encoded", n)
	}
	if h := raw[7].Headers(); h.Get("trace") != "t" || h.Get("crlf") != "" || len(h.Values(nats.HeaderBase64)) != 12 {
		t.Errorf("message 7 headers %q: want trace as it is and the 12 unsafe values encoded", h)
	}

	src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "KW", Durable: "d", FetchWait: time.Second}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	checkWire(t, readSource(t, src, len(want), nil), want)
}

// TestKeyOverCore: keys and headers survive CoreSink -> CoreSource.
func TestKeyOverCore(t *testing.T) {
	n := testenv.StartNATS(t)
	src, err := nats.NewCoreSource(n.ServerConfig(), nats.CoreSourceConfig{Subject: "kw.>"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	want := wireRecords()
	// The core source sees only what is published once its lane is open.
	got := readSource(t, src, len(want), func() { writeAll(t, sink, "kw.x", want) })
	checkWire(t, got, want)
}

// readSource runs src until it delivered n records and returns them;
// opened, if not nil, runs once the lane is open.
func readSource(t *testing.T, src connectors.Source, n int, opened func()) []*connectors.Record {
	t.Helper()
	lane := &recordingLane{src: src}
	open := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(connectors.LaneID) connectors.Lane { close(open); return lane })
	}()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run after cancel = %v", err)
		}
		src.Close()
	}()
	select {
	case <-open:
	case <-ctxT(t, defaultWait).Done():
		t.Fatal("no lane opened")
	}
	if opened != nil {
		opened()
	}
	waitFor(t, "every record", func() bool {
		lane.mu.Lock()
		defer lane.mu.Unlock()
		return len(lane.recs) >= n
	})
	lane.mu.Lock()
	defer lane.mu.Unlock()
	return slices.Clone(lane.recs)
}
