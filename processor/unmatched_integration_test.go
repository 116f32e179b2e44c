package processor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/testenv"
)

// TestRouteWarnsUnmatchedRule: a rule whose path reaches no field in a
// ruleset's first 10,000 masked records is named in one warning (its field
// would go downstream unmasked); rules that reach a field are not, and
// records that could not be masked (poison) do not count.
func TestRouteWarnsUnmatchedRule(t *testing.T) {
	const n = 10_500
	t.Run("typo", func(t *testing.T) {
		logs := runUnmatched(t, n, func(i int) []byte { return fmt.Appendf(nil, `{"email":"p%d@real.test"}`, i) }, "typo.masked")
		var warned []string
		for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
			if strings.Contains(l, "a rule matched no field") {
				warned = append(warned, l)
			}
		}
		if len(warned) != 1 || !strings.Contains(warned[0], `rule="rule 1 \"typo\" ($.emial)"`) {
			t.Errorf("want one warning naming rule 1 ($.emial), got %q", warned)
		}
		if strings.Contains(logs, "real.test") {
			t.Error("the log quotes a record")
		}
	})
	t.Run("poison does not count", func(t *testing.T) {
		logs := runUnmatched(t, n, func(i int) []byte { return fmt.Appendf(nil, "not json %d", i) }, "maskstream.dlq.typo")
		if strings.Contains(logs, "a rule matched no field") {
			t.Errorf("rules judged on records that were never masked:\n%s", logs)
		}
	})
}

// runUnmatched runs a route with a ruleset of one good rule ($.email) and
// one mistyped ($.emial) over n records made by value, waits for all n in
// wait (the output or the dead letters), and returns the route's log.
func runUnmatched(t *testing.T, n int, value func(int) []byte, wait string) string {
	e := newEnv(t, 0, 0)
	rs := `version: "1.0"
rules:
  - path: "$.email"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
  - name: typo
    path: "$.emial"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
`
	e.addRuleset(t, "typo", rs)
	var logs testenv.LogBuffer
	e.log = slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, &logs), &slog.HandlerOptions{Level: slog.LevelWarn}))
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "typo", "typo.masked", "maskstream.dlq.typo"); err != nil {
		t.Fatal(err)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "typo", Value: value(i)}
	}
	produce(t, kafkaClient(t, k), recs...)
	cfg := e.routeConfig("typo", "typo")
	kafkaRoute(t, k, &cfg, []string{"typo"}, "g-typo")
	cfg.Sink = kafkaSink(t, k)
	e.start(cfg)
	if out := consume(t, k, wait, n, 60*time.Second); len(out) != n {
		t.Fatalf("got %d records in %s, want %d", len(out), wait, n)
	}
	return logs.String()
}
