package processor_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/testenv"
)

// TestRedactSecretsHeaders: under redact_secrets (on by default) a
// ruleset with no header rules still redacts the headers named like
// credentials, and a record without headers still comes out masked.
func TestRedactSecretsHeaders(t *testing.T) {
	const canary = "CANARY-L5H-7f3a9"
	e := newEnv(t, 0, 0)
	rs := "version: \"1.0\"\nrules:\n  - name: email\n    path: \"$.email\"\n    masks: [ { type: from_fixed, value: \"x@example.com\" } ]\n"
	e.addRuleset(t, "redacting", rs)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "creds", "creds.masked"); err != nil {
		t.Fatal(err)
	}
	produce(t, kafkaClient(t, k),
		&kgo.Record{Topic: "creds", Key: []byte("k1"), Value: []byte(`{"email":"a@real.test","password2":"` + canary + `"}`),
			Headers: []kgo.RecordHeader{
				{Key: "Authorization", Value: []byte("Bearer " + canary)},
				{Key: "trace", Value: []byte("t1")},
				{Key: "Cookie", Value: []byte("session=" + canary)},
			}},
		&kgo.Record{Topic: "creds", Key: []byte("k2"), Value: []byte(`{"email":"b@real.test","api_key":"` + canary + `"}`)},
	)
	cfg := e.routeConfig("creds", "redacting")
	kafkaRoute(t, k, &cfg, []string{"creds"}, "g-creds")
	cfg.Sink = kafkaSink(t, k)
	e.start(cfg)
	out := consume(t, k, "creds.masked", 2, 30*time.Second)
	if len(out) != 2 {
		t.Fatalf("got %d records, want 2", len(out))
	}
	for _, r := range out {
		leak := bytes.Contains(r.Key, []byte(canary)) || bytes.Contains(r.Value, []byte(canary))
		for _, h := range r.Headers {
			leak = leak || bytes.Contains(h.Value, []byte(canary))
		}
		if leak {
			t.Errorf("record %s: a credential came out in clear", r.Key)
		}
	}
	if got, want := string(out[0].Value), `{"email":"x@example.com","password2":"[REDACTED]"}`; got != want {
		t.Errorf("value %s, want %s", got, want)
	}
	if a, tr, c := headerOf(out[0], "Authorization"), headerOf(out[0], "trace"), headerOf(out[0], "Cookie"); a != "[REDACTED]" || tr != "t1" || c != "[REDACTED]" || len(out[0].Headers) != 3 {
		t.Errorf("%d headers, Authorization redacted %v, Cookie redacted %v, trace %q: want Authorization and Cookie redacted, trace kept",
			len(out[0].Headers), a == "[REDACTED]", c == "[REDACTED]", tr)
	}
	if got, want := string(out[1].Value), `{"email":"x@example.com","api_key":"[REDACTED]"}`; got != want || len(out[1].Headers) != 0 {
		t.Errorf("record without headers: value %s and %d headers, want %s and none", got, len(out[1].Headers), want)
	}
}
