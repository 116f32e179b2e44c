package processor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// TestJetStreamTTLNotCopied: records read from a stream that allows
// per-message TTLs carry Nats-TTL; the route's sink and dead-letter
// streams do not allow them. Every record is masked and stored, the
// poison one dead-lettered, and none carries Nats-TTL on. Before, the
// destination refused each record (err_code 10166), or would have
// expired it had it allowed TTLs.
func TestJetStreamTTLNotCopied(t *testing.T) {
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	js := natsJS(t, n)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PEOPLE", Subjects: []string{"people.>"}, AllowMsgTTL: true}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"MASKED", "DLQ"} {
		if err := n.CreateStream(ctx, s, strings.ToLower(s)+".>"); err != nil {
			t.Fatal(err)
		}
	}
	const people = 3
	ttl := natsgo.Header{"Nats-TTL": []string{"1h"}}
	for i := range people {
		if _, err := js.PublishMsg(ctx, &natsgo.Msg{Subject: "people.eu", Data: personJSON(i), Header: ttl}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.PublishMsg(ctx, &natsgo.Msg{Subject: "people.eu", Data: []byte("not json"), Header: ttl}); err != nil {
		t.Fatal(err)
	}

	cfg := e.routeConfig("ttl", "people")
	cfg.Source = jsSource(t, n, "PEOPLE", "d", "people.>")
	cfg.Sink = jsSink(t, n)
	cfg.DeadLetter = jsSink(t, n)
	cfg.Topic = mustTemplate("masked.{subject}")
	cfg.DeadLetterTopic = mustTemplate("dlq.ttl")
	rn := e.start(cfg)

	out := readStream(t, js, "MASKED", "masked.>", people, 30*time.Second)
	dl := readStream(t, js, "DLQ", "dlq.>", 1, 30*time.Second)
	if len(out) != people || len(dl) != 1 {
		st := rn.route.Status()
		t.Fatalf("%d masked and %d dead letters stored, want %d and 1 (status: error %q, dead letters %v)", len(out), len(dl), people, st.Error, st.DeadLettersByReason)
	}
	for _, m := range append(out, dl...) {
		checkNoTTL(t, m)
	}
	if got := dl[0].Headers().Get("maskstream-error"); !strings.Contains(got, "JSON") {
		t.Errorf("dead letter maskstream-error %q, want the record's own fault (not JSON), not a refusal by the stream", got)
	}
	waitFor(t, 10*time.Second, "the records counted", func() bool { return rn.route.Status().RecordsOut == people })
	if st := rn.route.Status(); st.DeadLettersByReason["sink_rejected"] != 0 {
		t.Errorf("dead letters %v: the sink refused records", st.DeadLettersByReason)
	}
}

func checkNoTTL(t *testing.T, m jetstream.Msg) {
	t.Helper()
	for k := range m.Headers() {
		if strings.EqualFold(k, "Nats-TTL") {
			t.Errorf("%s carries %s: %q", m.Subject(), k, m.Headers().Values(k))
		}
	}
}

// TestJetStreamSinkWithoutStream: a JetStream sink bound to a fixed
// subject no stream takes fails the route at start, saying which subject
// and how to fix it, and reads nothing. Before, the route read its
// records and stalled behind the sink's retries with no error.
func TestJetStreamSinkWithoutStream(t *testing.T) {
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := n.CreateStream(ctx, "PEOPLE", "people.>"); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "DLQ", "dlq.>"); err != nil {
		t.Fatal(err)
	}
	publishPeople(t, natsJS(t, n), "people.eu", 0, 10)
	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{Subjects: []string{"nostream.x"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("nostream", "people")
	cfg.Source = jsSource(t, n, "PEOPLE", "d", "people.>")
	cfg.Sink = sink
	cfg.DeadLetter = jsSink(t, n)
	cfg.Topic = mustTemplate("nostream.x")
	cfg.DeadLetterTopic = mustTemplate("dlq.nostream")
	failsAtStart(t, cfg, "sink", "subject nostream.x")
}

// TestSinkRetryingInStatus: a route whose sink stream is full and
// discards new messages keeps running, and its status says the sink is
// retrying and why; once the stream has room every record is stored and
// the error is gone. Before, the status showed no error at all.
func TestSinkRetryingInStatus(t *testing.T) {
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	js := natsJS(t, n)
	if err := n.CreateStream(ctx, "PEOPLE", "people.>"); err != nil {
		t.Fatal(err)
	}
	full := jetstream.StreamConfig{Name: "FULL", Subjects: []string{"full.>"}, MaxMsgs: 3, Discard: jetstream.DiscardNew}
	if _, err := js.CreateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	const total = 10
	publishPeople(t, js, "people.eu", 0, total)
	cfg := e.routeConfig("full", "people")
	cfg.Source = jsSource(t, n, "PEOPLE", "d", "people.>")
	cfg.Sink = jsSink(t, n)
	cfg.Topic = mustTemplate("full.x")
	rn := e.start(cfg)

	waitFor(t, 30*time.Second, "the status to say the sink is retrying", func() bool {
		return strings.HasPrefix(rn.route.Status().Error, "sink retrying: ")
	})
	st := rn.route.Status()
	if st.State != processor.StateRunning || !strings.Contains(st.Error, "full.x") || !strings.Contains(st.Error, "maximum messages") {
		t.Errorf("status %s %q, want running, naming the subject and the stream's answer", st.State, st.Error)
	}

	full.MaxMsgs = -1
	if _, err := js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every record stored once the stream has room", func() bool {
		return rn.route.Status().RecordsOut == total
	})
	waitFor(t, 10*time.Second, "the error to clear", func() bool { return rn.route.Status().Error == "" })
}
