package processor_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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
			continue
		}
		seq := checkMasked(t, r.Value)
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
		if got := m.Headers().Get("trace"); got != "t"+strconv.Itoa(seq) {
			t.Fatalf("seq %d: trace header %q", seq, got)
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
	produce(t, kafkaClient(t, k, manualPartitioner()), people("people", 0, count, 3)...)

	cfg := e.routeConfig("k2js", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-k2js")
	cfg.Sink = jsSink(t, n)
	cfg.Topic = mustTemplate("masked.{topic}.p{partition}")
	e.start(cfg)

	js := natsJS(t, n)
	out := readStream(t, js, "MASKED", "masked.>", count, 60*time.Second)
	if len(out) != count {
		t.Fatalf("got %d messages, want %d", len(out), count)
	}
	bySubject := map[string][]int{}
	for _, m := range out {
		seq := checkMasked(t, m.Data())
		if want := "masked.people.p" + strconv.Itoa(seq%3); m.Subject() != want {
			t.Fatalf("seq %d on %q, want %q", seq, m.Subject(), want)
		}
		bySubject[m.Subject()] = append(bySubject[m.Subject()], seq)
	}
	seen := map[int]bool{}
	for s, seqs := range bySubject {
		checkOrder(t, s, seqs, seen)
	}
	if len(seen) != count {
		t.Fatalf("%d distinct records, want %d", len(seen), count)
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
		if len(r.Headers) == 0 || r.Headers[0].Key != "trace" || string(r.Headers[0].Value) != "t"+strconv.Itoa(seq) {
			t.Fatalf("seq %d: headers %v, want trace kept", seq, r.Headers)
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
