package processor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// TestPoisonRecords sends every kind of record the engine refuses between
// good ones: each lands in the dead-letter topic, byte for byte, with its
// reason and origin, and the records around it flow on in order.
func TestPoisonRecords(t *testing.T) {
	e := newEnv(t, 2048, 8)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "people", "people.masked", "people.dlq"); err != nil {
		t.Fatal(err)
	}
	poison := []struct {
		reason string
		value  []byte
		secret string // a piece of the value that must not show in headers
	}{
		{"not_json", []byte(`this is not json: secret-a`), "secret-a"},
		{"invalid_utf8", []byte("{\"email\":\"secret-b\xff\xfe@x\"}"), "secret-b"},
		{"too_deep", []byte(`{"email":"secret-c","a":[[[[[[[[[[1]]]]]]]]]]}`), "secret-c"},
		{"too_large", []byte(`{"email":"secret-d","pad":"` + strings.Repeat("x", 3000) + `"}`), "secret-d"},
		{"mask_error", []byte(`{"seq":-1,"email":"secret-e@x","dob":"1980-13-45 secret-e"}`), "secret-e"},
	}
	var recs []*kgo.Record
	seq := 0
	for _, p := range poison {
		for range 3 {
			recs = append(recs, &kgo.Record{Topic: "people", Value: personJSON(seq)})
			seq++
		}
		recs = append(recs, &kgo.Record{Topic: "people", Key: []byte("poison"), Value: p.value, Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte(p.reason)}}})
	}
	for range 3 {
		recs = append(recs, &kgo.Record{Topic: "people", Value: personJSON(seq)})
		seq++
	}
	produce(t, kafkaClient(t, k), recs...)

	var logs testenv.LogBuffer
	e.log = slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, &logs), nil))
	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-poison")
	cfg.Sink = kafkaSink(t, k)
	cfg.DeadLetterTopic = mustTemplate("{topic}.dlq")
	e.start(cfg)

	out := consume(t, k, "people.masked", seq, 30*time.Second)
	dlq := consume(t, k, "people.dlq", len(poison), 30*time.Second)
	if len(out) != seq || len(dlq) != len(poison) {
		t.Fatalf("got %d masked and %d dead letters, want %d and %d", len(out), len(dlq), seq, len(poison))
	}
	for i, r := range out {
		if got := checkMasked(t, r.Value); got != i {
			t.Fatalf("masked record %d has seq %d: order broken", i, got)
		}
	}
	for i, p := range poison {
		t.Run(p.reason, func(t *testing.T) {
			d := dlq[i]
			if !bytes.Equal(d.Value, p.value) || string(d.Key) != "poison" {
				t.Errorf("dead letter holds %q (key %q), want the original bytes", d.Value, d.Key)
			}
			hs := map[string]string{}
			for _, h := range d.Headers {
				hs[h.Key] = string(h.Value)
				if strings.Contains(string(h.Value), p.secret) && h.Key != "trace" {
					t.Errorf("header %s quotes the record: %q", h.Key, h.Value)
				}
			}
			wantOrigin := fmt.Sprintf("people/0/%d", 3+4*i)
			if !strings.HasPrefix(hs[processor.HeaderError], p.reason+": ") || hs[processor.HeaderOrigin] != wantOrigin ||
				hs[processor.HeaderRuleset] != "people" || hs[processor.HeaderRoute] != "people" || hs["trace"] != p.reason {
				t.Errorf("headers %v; want error %q..., origin %s, ruleset and route people, trace kept", hs, p.reason, wantOrigin)
			}
			// The count follows the sink's acknowledgement, which may
			// come after a consumer already sees the record.
			waitFor(t, 10*time.Second, "dead_letters_total{reason="+p.reason+"} = 1", func() bool {
				return counterValue(e.metrics.DeadLetters.WithLabelValues("people", p.reason)) == 1
			})
			// The log says why too, naming the reason and never the record.
			log := logs.String()
			if !strings.Contains(log, "records sent to the dead letters") || !strings.Contains(log, "reason="+p.reason) {
				t.Errorf("no log line names dead letters of reason %s", p.reason)
			}
			if strings.Contains(log, p.secret) {
				t.Errorf("the log quotes the record (%s)", p.secret)
			}
		})
	}
}

// TestMaxDeliveries: a JetStream message the broker already delivered more
// than max_deliveries times goes to the dead letters instead of being
// masked again, once: it is acked with its dead letter, so the broker does
// not bring it back.
func TestMaxDeliveries(t *testing.T) {
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	for _, s := range [][2]string{{"PEOPLE", "people.>"}, {"MASKED", "masked.>"}, {"DLQ", "dlq.>"}} {
		if err := n.CreateStream(ctx, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	js := natsJS(t, n)
	publishPeople(t, js, "people.x", 0, 1)
	// Deliver it 3 times without acking, as crashed processors would.
	cons, err := js.CreateOrUpdateConsumer(ctx, "PEOPLE", jetstream.ConsumerConfig{Durable: "maskstream", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			_ = m.Nak()
		}
	}
	publishPeople(t, js, "people.x", 1, 1)

	// A short ack wait, so a message the route failed to ack would be
	// redelivered, and dead-lettered again, within the test.
	const ackWait = 2 * time.Second
	src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "PEOPLE", Durable: "maskstream", FilterSubject: "people.>", StopTimeout: 20 * time.Second, AckWait: ackWait}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("people-js", "people")
	cfg.Source = src
	cfg.Sink = jsSink(t, n)
	cfg.Topic = mustTemplate("masked.{subject}")
	cfg.DeadLetterTopic = mustTemplate("dlq.{subject}")
	cfg.MaxDeliveries = 2
	e.start(cfg)

	dlq := readStream(t, js, "DLQ", "dlq.>", 1, 30*time.Second)
	out := readStream(t, js, "MASKED", "masked.>", 1, 30*time.Second)
	if len(dlq) != 1 || len(out) != 1 {
		t.Fatalf("got %d dead letters and %d masked, want 1 and 1", len(dlq), len(out))
	}
	if !bytes.Equal(dlq[0].Data(), personJSON(0)) || !strings.HasPrefix(dlq[0].Headers().Get(processor.HeaderError), "max_deliveries: ") {
		t.Errorf("dead letter %q with error %q", dlq[0].Data(), dlq[0].Headers().Get(processor.HeaderError))
	}
	if checkMasked(t, out[0].Data()) != 1 {
		t.Errorf("the other record did not come through")
	}

	// Both messages acked, then nothing more: an unacked one would be
	// back after the ack wait and land in the dead letters again.
	info := func() *jetstream.ConsumerInfo {
		t.Helper()
		ci, err := cons.Info(ctx)
		if err != nil {
			t.Fatalf("consumer info: %v", err)
		}
		return ci
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ci := info(); ci.NumAckPending == 0 && ci.NumPending == 0 {
			break
		}
	}
	time.Sleep(ackWait + time.Second)
	if ci := info(); ci.NumAckPending != 0 || ci.NumPending != 0 || ci.NumRedelivered != 0 {
		t.Errorf("consumer after settling: %d awaiting ack, %d pending, %d redelivered; want none", ci.NumAckPending, ci.NumPending, ci.NumRedelivered)
	}
	// The dead-letter stream deduplicates a repeated dead letter (same
	// origin, same message id), so count what the route sent too.
	if got := counterValue(e.metrics.DeadLetters.WithLabelValues("people-js", processor.ReasonMaxDeliveries)); got != 1 {
		t.Errorf("the route dead-lettered %v times, want once", got)
	}
	for stream, want := range map[string]uint64{"DLQ": 1, "MASKED": 1} {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if si, err := s.Info(ctx); err != nil {
			t.Fatal(err)
		} else if si.State.Msgs != want {
			t.Errorf("stream %s holds %d messages after settling, want %d: a record was dead-lettered or masked again", stream, si.State.Msgs, want)
		}
	}
}

// TestSinkRejects: a record the sink refuses for good (larger than the
// destination topic's max.message.bytes) is dead-lettered in its place,
// as an original, and the route goes on. Kafka refuses a whole produce
// batch for one record too large, so records batched with it may be
// dead-lettered with it: each record must come out masked or as a dead
// letter, never lost.
func TestSinkRejects(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 1, "people", "people.dlq"); err != nil {
		t.Fatal(err)
	}
	adm := kafkaAdmin(t, k)
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": ptr("600")}, "people.masked"); err != nil {
		t.Fatal(err)
	}
	big := []byte(`{"seq":1,"email":"big@real.test","name":"Real Person","pad":"` + strings.Repeat("y", 2000) + `"}`)
	cl := kafkaClient(t, k)
	produce(t, cl,
		&kgo.Record{Topic: "people", Value: personJSON(0)},
		&kgo.Record{Topic: "people", Value: big},
		&kgo.Record{Topic: "people", Value: personJSON(2)},
	)
	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-reject")
	sink, err := kafka.NewSink(k.ClusterConfig(), kafka.SinkConfig{Compression: "none"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sink = sink
	cfg.DeadLetterTopic = mustTemplate("people.dlq")
	e.start(cfg)

	seen := map[int]bool{}
	waitFor(t, 30*time.Second, "the three records as masked or dead letters", func() bool {
		clear(seen)
		for _, r := range consume(t, k, "people.masked", 3, 200*time.Millisecond) {
			seen[checkMasked(t, r.Value)] = true
		}
		for _, r := range consume(t, k, "people.dlq", 3, 200*time.Millisecond) {
			if !strings.HasPrefix(headerOf(r, processor.HeaderError), processor.ReasonSinkRejected+": ") {
				t.Fatalf("dead letter with error %q", headerOf(r, processor.HeaderError))
			}
			switch {
			case bytes.Equal(r.Value, big):
				seen[1] = true
			case bytes.Equal(r.Value, personJSON(0)):
				seen[0] = true
			case bytes.Equal(r.Value, personJSON(2)):
				seen[2] = true
			default:
				t.Fatalf("dead letter is not an original record: %.80q", r.Value)
			}
		}
		return len(seen) == 3
	})
	produce(t, cl, &kgo.Record{Topic: "people", Value: personJSON(3)})
	waitFor(t, 30*time.Second, "the record after the rejected one", func() bool {
		for _, r := range consume(t, k, "people.masked", 3, 200*time.Millisecond) {
			if checkMasked(t, r.Value) == 3 {
				return true
			}
		}
		return false
	})
}
