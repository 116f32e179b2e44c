package nats_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// defaultWait bounds every wait on the server: a deadline against hangs,
// not a performance assertion.
const defaultWait = 30 * time.Second

var names atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, names.Add(1)) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// testLogger logs warnings to the test output while the test runs.
func testLogger(t *testing.T) *slog.Logger {
	w := &tlogWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	level := slog.LevelError
	if testing.Verbose() || os.Getenv("MASKSTREAM_TEST_LOG") != "" {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tlogWriter struct {
	t    *testing.T
	done atomic.Bool
}

func (w *tlogWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func jsClient(t *testing.T, n *testenv.NATS) jetstream.JetStream {
	t.Helper()
	nc, err := natsgo.Connect(n.URL(), natsgo.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func toHeader(hs []connectors.Header) natsgo.Header {
	if len(hs) == 0 {
		return nil
	}
	h := natsgo.Header{}
	for _, x := range hs {
		h.Add(x.Key, string(x.Value))
	}
	return h
}

func fromHeader(h natsgo.Header) []connectors.Header {
	var out []connectors.Header
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, connectors.Header{Key: k, Value: []byte(v)})
		}
	}
	return out
}

// plainKey matches the keys withKey writes as they are.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)

// withKey adds key to h as a plain publisher gives a NATS message a key
// for maskstream (nats.HeaderKey, nats.HeaderKeyBase64). Written apart
// from the package's mapping, so the tests check it against the names
// documented.
func withKey(h natsgo.Header, key []byte) natsgo.Header {
	if key == nil {
		return h
	}
	if h == nil {
		h = natsgo.Header{}
	}
	if plainKey.Match(key) {
		h.Set(nats.HeaderKey, string(key))
	} else {
		h.Set(nats.HeaderKeyBase64, base64.StdEncoding.EncodeToString(key))
	}
	return h
}

// splitKey takes the key headers out of h, as a plain consumer of a
// maskstream NATS sink does.
func splitKey(t *testing.T, h natsgo.Header) ([]byte, natsgo.Header) {
	t.Helper()
	if v := h.Values(nats.HeaderKeyBase64); len(v) > 0 {
		key, err := base64.StdEncoding.DecodeString(v[0])
		if err != nil {
			t.Fatalf("%s %q: %v", nats.HeaderKeyBase64, v[0], err)
		}
		h = maps.Clone(h)
		delete(h, nats.HeaderKeyBase64)
		return key, h
	}
	if v := h.Values(nats.HeaderKey); len(v) > 0 {
		h = maps.Clone(h)
		delete(h, nats.HeaderKey)
		return []byte(v[0]), h
	}
	return nil, h
}

// publish stores recs on subject through JetStream, synchronously, keys
// as headers.
func publish(t *testing.T, js jetstream.JetStream, subject string, recs ...*connectors.Record) {
	t.Helper()
	ctx := ctxT(t, defaultWait)
	for _, r := range recs {
		if _, err := js.PublishMsg(ctx, &natsgo.Msg{Subject: subject, Data: r.Value, Header: withKey(toHeader(r.Headers), r.Key)}); err != nil {
			t.Fatalf("publishing to %s: %v", subject, err)
		}
	}
}

// readStream reads n messages of stream from the start with an ordered
// consumer, keys taken out of the headers.
func readStream(t *testing.T, js jetstream.JetStream, stream string, n int) []*connectors.Record {
	t.Helper()
	ctx := ctxT(t, defaultWait)
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*connectors.Record, 0, n)
	for len(out) < n {
		m, err := c.Next(jetstream.FetchMaxWait(defaultWait))
		if err != nil {
			t.Fatalf("read %d of %d messages from %s: %v", len(out), n, stream, err)
		}
		md, _ := m.Metadata()
		key, h := splitKey(t, m.Headers())
		out = append(out, &connectors.Record{
			Key: key, Value: m.Data(), Headers: fromHeader(h), Timestamp: md.Timestamp,
			Origin: connectors.Origin{Topic: m.Subject(), Offset: int64(md.Sequence.Stream)},
		})
	}
	return out
}

// streamCount is the number of messages stored in stream.
func streamCount(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(ctxT(t, defaultWait), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctxT(t, defaultWait))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// waitFor polls cond until it holds; the deadline guards against hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(defaultWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
