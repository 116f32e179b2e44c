package processor_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// TestKeyAndHeaderMaskErrorsDeadLetter: a key or header whose mask fails
// sends the whole record to the dead letters, as a value that fails does;
// it never reaches the output with that key or header unmasked. The key is
// tried as text and as a JSON string (the engine's two key paths).
func TestKeyAndHeaderMaskErrorsDeadLetter(t *testing.T) {
	const canary = "CANARY-K7Q-2b8e"
	e := newEnv(t, 0, 0)
	rs := `version: "1.0"
key:
  masks:
    - { type: date_shift, date_format: "%Y-%m-%d", min_days: 1, max_days: 30 }
headers:
  - name: x-dob
    masks:
      - { type: date_shift, date_format: "%Y-%m-%d", min_days: 1, max_days: 30 }
rules:
  - name: email
    path: "$.email"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
`
	e.addRuleset(t, "dated", rs)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "dated", "dated.masked", "dated.dlq"); err != nil {
		t.Fatal(err)
	}
	value := func(n string) []byte { return []byte(`{"email":"` + n + `@real.test"}`) }
	dob := func(v string) []kgo.RecordHeader { return []kgo.RecordHeader{{Key: "x-dob", Value: []byte(v)}} }
	recs := []*kgo.Record{
		{Topic: "dated", Key: []byte("1980-01-02"), Value: value("a"), Headers: dob("1970-05-06")},
		{Topic: "dated", Key: []byte("key " + canary), Value: value("b"), Headers: dob("1970-05-06")},
		{Topic: "dated", Key: []byte(`"key ` + canary + `"`), Value: value("c"), Headers: dob("1970-05-06")},
		{Topic: "dated", Key: []byte("1980-01-03"), Value: value("d"), Headers: dob("dob " + canary)},
		{Topic: "dated", Key: []byte("1980-01-04"), Value: value("e"), Headers: dob("1970-05-07")},
	}
	produce(t, kafkaClient(t, k), recs...)
	cfg := e.routeConfig("dated", "dated")
	kafkaRoute(t, k, &cfg, []string{"dated"}, "g-dated")
	cfg.Sink = kafkaSink(t, k)
	cfg.DeadLetterTopic = mustTemplate("{topic}.dlq")
	e.start(cfg)

	out := consume(t, k, "dated.masked", 2, 30*time.Second)
	dlq := consume(t, k, "dated.dlq", 3, 30*time.Second)
	for _, r := range out {
		leak := bytes.Contains(r.Key, []byte(canary))
		for _, h := range r.Headers {
			leak = leak || bytes.Contains(h.Value, []byte(canary))
		}
		if leak {
			t.Errorf("a key or header whose mask failed reached the output unmasked (key %q)", r.Key)
		}
	}
	if len(out) != 2 || len(dlq) != 3 {
		t.Fatalf("got %d masked and %d dead letters, want 2 and 3", len(out), len(dlq))
	}
	for i, want := range []string{"1980-01-02", "1980-01-04"} {
		if k := string(out[i].Key); k == want || len(k) != len(want) {
			t.Errorf("masked record %d has key %q, want %s date-shifted", i, k, want)
		}
	}
	for i, src := range recs[1:4] {
		d := dlq[i]
		if !bytes.Equal(d.Key, src.Key) || !bytes.Equal(d.Value, src.Value) {
			t.Errorf("dead letter %d holds key %q value %s, want the original record", i, d.Key, d.Value)
		}
		if h := headerOf(d, processor.HeaderError); !strings.HasPrefix(h, "mask_error: ") {
			t.Errorf("dead letter %d: %s header %q, want the mask_error reason", i, processor.HeaderError, h)
		}
	}
}
