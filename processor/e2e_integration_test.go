package processor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

func TestKafkaToKafka(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 4, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	n := scale(4000)
	cl := kafkaClient(t, k, manualPartitioner())
	recs := people("people", 0, n, 4)
	// A tombstone, keyed: it must stay a tombstone, key kept (people.yaml
	// does not mask keys).
	recs = append(recs, &kgo.Record{Topic: "people", Partition: 1, Key: []byte("gone"), Value: nil})
	for i, r := range recs {
		r.Timestamp = createTime(i) // the tombstone's is createTime(n)
	}
	produce(t, cl, recs[:n/2]...)

	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-k2k")
	cfg.Sink = kafkaSink(t, k)
	cfg.KeepPartition = true
	rn := e.start(cfg)
	produce(t, cl, recs[n/2:]...)

	out := consume(t, k, "people.masked", n+1, 60*time.Second)
	if len(out) != n+1 {
		t.Fatalf("got %d records, want %d", len(out), n+1)
	}
	seen := map[int]bool{}
	tombstones := 0
	for p, seqs := range seqsByPartition(t, out) {
		for _, s := range seqs {
			if int32(s)%4 != p {
				t.Fatalf("seq %d landed on partition %d, want its source partition %d", s, p, s%4)
			}
		}
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	for _, r := range out {
		if r.Value == nil {
			tombstones++
			if string(r.Key) != "gone" || r.Partition != 1 {
				t.Errorf("tombstone came out as key %q partition %d", r.Key, r.Partition)
			}
			if !r.Timestamp.Equal(createTime(n)) {
				t.Errorf("tombstone timestamp %v, want its input's %v", r.Timestamp, createTime(n))
			}
			continue
		}
		seq := checkMasked(t, r.Value)
		if !r.Timestamp.Equal(createTime(seq)) {
			t.Errorf("seq %d: timestamp %v, want its input's %v", seq, r.Timestamp, createTime(seq))
		}
		if string(r.Key) != "k"+strconv.Itoa(seq) {
			t.Errorf("seq %d: key %q, want it kept", seq, r.Key)
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != "trace" || string(r.Headers[0].Value) != "t"+strconv.Itoa(seq) {
			t.Errorf("seq %d: headers %v, want trace kept", seq, r.Headers)
		}
	}
	if len(seen) != n || tombstones != 1 {
		t.Fatalf("distinct records %d (want %d), tombstones %d (want 1)", len(seen), n, tombstones)
	}
	waitFor(t, 10*time.Second, "status to count every record", func() bool {
		st := rn.route.Status()
		return st.RecordsIn == uint64(n+1) && st.RecordsOut == uint64(n+1)
	})
	rn.stop(t)
	if st := rn.route.Status(); st.State != "stopped" || st.DeadLetters != 0 {
		t.Errorf("after stop: %+v", st)
	}
}

func TestJetStreamToJetStream(t *testing.T) {
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := n.CreateStream(ctx, "PEOPLE", "people.>"); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "MASKED", "masked.>"); err != nil {
		t.Fatal(err)
	}
	js := natsJS(t, n)
	count := scale(3000)
	publishPeople(t, js, "people.eu", 0, count/2)

	cfg := e.routeConfig("people-js", "people")
	cfg.Source = jsSource(t, n, "PEOPLE", "maskstream", "people.>")
	cfg.Sink = jsSink(t, n)
	cfg.Topic = mustTemplate("masked.{subject}")
	e.start(cfg)
	publishPeople(t, js, "people.eu", count/2, count-count/2)
	keys := publishKeyed(t, js, "people.eu", count)
	count += len(keys)

	out := readStream(t, js, "MASKED", "masked.>", count, 60*time.Second)
	if len(out) != count {
		t.Fatalf("got %d messages, want %d", len(out), count)
	}
	seen := map[int]bool{}
	seqs := make([]int, 0, count)
	for _, m := range out {
		if m.Subject() != "masked.people.eu" {
			t.Fatalf("subject %q, want masked.people.eu", m.Subject())
		}
		seq := checkMasked(t, m.Data())
		h := m.Headers()
		if got := h.Get("trace"); got != "t"+strconv.Itoa(seq) {
			t.Fatalf("seq %d: trace header %q", seq, got)
		}
		// The sink writes the key as it is when it can, in base64 when
		// not, always under the documented names.
		plain, enc := h.Values(nats.HeaderKey), h.Values(nats.HeaderKeyBase64)
		switch key, ok := keys[seq]; {
		case !ok:
			if plain != nil || enc != nil {
				t.Fatalf("seq %d: key headers %q %q on a message without a key", seq, plain, enc)
			}
		case seq == count-2:
			if len(enc) != 1 || enc[0] != base64.StdEncoding.EncodeToString(key) || plain != nil {
				t.Fatalf("seq %d: key headers %q %q, want %s %q", seq, plain, enc, nats.HeaderKeyBase64, base64.StdEncoding.EncodeToString(key))
			}
		default:
			if len(plain) != 1 || plain[0] != string(key) || enc != nil {
				t.Fatalf("seq %d: key headers %q %q, want %s %q", seq, plain, enc, nats.HeaderKey, key)
			}
		}
		seqs = append(seqs, seq)
	}
	checkOrder(t, "stream", seqs, seen)
	if len(seen) != count {
		t.Fatalf("%d distinct records, want %d", len(seen), count)
	}
}

func TestKafkaToJetStream(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 3, "people"); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "MASKED", "masked.>"); err != nil {
		t.Fatal(err)
	}
	count := scale(3000)
	recs := people("people", 0, count, 3)
	// A keyed tombstone: NATS has no null payload, so it arrives empty,
	// with its key and headers.
	recs = append(recs, &kgo.Record{Topic: "people", Partition: 1, Key: []byte("gone"), Value: nil,
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-gone")}}})
	produce(t, kafkaClient(t, k, manualPartitioner()), recs...)

	cfg := e.routeConfig("k2js", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-k2js")
	cfg.Sink = jsSink(t, n)
	cfg.Topic = mustTemplate("masked.{topic}.p{partition}")
	e.start(cfg)

	js := natsJS(t, n)
	out := readStream(t, js, "MASKED", "masked.>", count+1, 60*time.Second)
	if len(out) != count+1 {
		t.Fatalf("got %d messages, want %d", len(out), count+1)
	}
	bySubject := map[string][]int{}
	tombstones := 0
	for _, m := range out {
		h := m.Headers()
		if len(m.Data()) == 0 {
			tombstones++
			if m.Subject() != "masked.people.p1" || h.Get(nats.HeaderKey) != "gone" || h.Get("trace") != "t-gone" {
				t.Errorf("tombstone came out on %q with headers %v, want key gone and trace kept", m.Subject(), h)
			}
			continue
		}
		seq := checkMasked(t, m.Data())
		if got := h.Get(nats.HeaderKey); got != "k"+strconv.Itoa(seq) {
			t.Fatalf("seq %d: key header %q, want k%d (headers %v)", seq, got, seq, h)
		}
		if got := h.Values("trace"); len(got) != 1 || got[0] != "t"+strconv.Itoa(seq) {
			t.Fatalf("seq %d: trace header %q, want it kept", seq, got)
		}
		if want := "masked.people.p" + strconv.Itoa(seq%3); m.Subject() != want {
			t.Fatalf("seq %d on %q, want %q", seq, m.Subject(), want)
		}
		bySubject[m.Subject()] = append(bySubject[m.Subject()], seq)
	}
	seen := map[int]bool{}
	for s, seqs := range bySubject {
		checkOrder(t, s, seqs, seen)
	}
	if len(seen) != count || tombstones != 1 {
		t.Fatalf("%d distinct records (want %d), %d tombstones (want 1)", len(seen), count, tombstones)
	}
}

func TestJetStreamToKafka(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	if err := n.CreateStream(ctx, "PEOPLE", "people.>"); err != nil {
		t.Fatal(err)
	}
	if err := k.CreateTopics(ctx, 1, "people.eu.masked"); err != nil {
		t.Fatal(err)
	}
	count := scale(3000)
	js := natsJS(t, n)
	publishPeople(t, js, "people.eu", 0, count)
	keys := publishKeyed(t, js, "people.eu", count)
	count += len(keys)

	cfg := e.routeConfig("js2k", "people")
	cfg.Source = jsSource(t, n, "PEOPLE", "maskstream", "people.>")
	cfg.Sink = kafkaSink(t, k)
	e.start(cfg)

	out := consume(t, k, "people.eu.masked", count, 60*time.Second)
	if len(out) != count {
		t.Fatalf("got %d records, want %d", len(out), count)
	}
	seen := map[int]bool{}
	seqs := make([]int, 0, count)
	for _, r := range out {
		seq := checkMasked(t, r.Value)
		if len(r.Headers) != 1 || r.Headers[0].Key != "trace" || string(r.Headers[0].Value) != "t"+strconv.Itoa(seq) {
			t.Fatalf("seq %d: headers %v, want trace kept and the key header taken out", seq, r.Headers)
		}
		if want := keys[seq]; !bytes.Equal(r.Key, want) || (r.Key == nil) != (want == nil) {
			t.Fatalf("seq %d: key %q, want %q", seq, r.Key, want)
		}
		seqs = append(seqs, seq)
	}
	checkOrder(t, "topic", seqs, seen)
	if len(seen) != count {
		t.Fatalf("%d distinct records, want %d", len(seen), count)
	}
}

// TestKeyAndHeaders masks keys and a header (keyed.yaml): both masked
// deterministically, other headers and tombstones kept.
func TestKeyAndHeaders(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "users", "users.masked"); err != nil {
		t.Fatal(err)
	}
	recs := []*kgo.Record{
		{Topic: "users", Key: []byte("alice"), Value: []byte(`{"email":"alice@real.test"}`), Headers: []kgo.RecordHeader{{Key: "x-user", Value: []byte("alice")}, {Key: "trace", Value: []byte("t1")}}},
		{Topic: "users", Key: []byte("alice"), Value: nil},
		{Topic: "users", Key: []byte("bob"), Value: []byte(`{"email":"bob@real.test"}`)},
	}
	produce(t, kafkaClient(t, k), recs...)
	cfg := e.routeConfig("users", "keyed")
	kafkaRoute(t, k, &cfg, []string{"users"}, "g-keyed")
	cfg.Sink = kafkaSink(t, k)
	e.start(cfg)
	out := consume(t, k, "users.masked", 3, 30*time.Second)
	if len(out) != 3 {
		t.Fatalf("got %d records, want 3", len(out))
	}
	if string(out[0].Key) == "alice" || len(out[0].Key) != 16 || string(out[1].Key) != string(out[0].Key) {
		t.Errorf("keys %q %q: want alice masked the same way in both", out[0].Key, out[1].Key)
	}
	if out[1].Value != nil {
		t.Errorf("tombstone came out with value %q", out[1].Value)
	}
	hs := map[string]string{}
	for _, h := range out[0].Headers {
		hs[h.Key] = string(h.Value)
	}
	if hs["x-user"] != "[REDACTED]" || hs["trace"] != "t1" {
		t.Errorf("headers %v: want x-user masked and trace kept", hs)
	}
	for _, r := range out {
		if r.Value != nil && (string(r.Value) == string(recs[0].Value) || string(r.Value) == string(recs[2].Value)) {
			t.Errorf("value passed unmasked: %s", r.Value)
		}
	}
}

// publishKeyed publishes three person records from seq from on, keyed as
// a NATS producer keys a message for maskstream: nats.HeaderKey, a binary
// key in nats.HeaderKeyBase64, and the first name in lower case (some
// clients change a header name's case). It returns their keys by seq.
func publishKeyed(t *testing.T, js jetstream.JetStream, subject string, from int) map[int][]byte {
	t.Helper()
	keys := map[int][]byte{from: []byte("k" + strconv.Itoa(from)), from + 1: {0x00, 0xff, '\n'}, from + 2: []byte("k" + strconv.Itoa(from+2))}
	names := map[int]string{from: nats.HeaderKey, from + 1: nats.HeaderKeyBase64, from + 2: "maskstream-key"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for seq := from; seq < from+3; seq++ {
		v := string(keys[seq])
		if names[seq] == nats.HeaderKeyBase64 {
			v = base64.StdEncoding.EncodeToString(keys[seq])
		}
		h := natsgo.Header{"trace": {"t" + strconv.Itoa(seq)}, names[seq]: {v}}
		if _, err := js.PublishMsg(ctx, &natsgo.Msg{Subject: subject, Data: personJSON(seq), Header: h}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	return keys
}

// createTime is the timestamp given to input record seq, distinct per
// record, so a sink that stamps its own time is caught.
func createTime(seq int) time.Time { return time.UnixMilli(1_600_000_000_000 + int64(seq)*1000) }
