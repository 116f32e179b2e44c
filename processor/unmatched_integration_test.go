package processor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/testenv"
)

// TestRouteWarnsUnmatchedRule: a rule whose path reaches no field in a
// ruleset's first 10,000 records is named in one warning (its field would
// go downstream unmasked); rules that reach a field are not.
func TestRouteWarnsUnmatchedRule(t *testing.T) {
	e := newEnv(t, 0, 0)
	rs := `version: "1.0"
rules:
  - path: "$.email"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
  - name: typo
    path: "$.emial"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
`
	if err := os.WriteFile(filepath.Join(e.dir, "typo.yaml"), []byte(rs), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Load(); err != nil {
		t.Fatal(err)
	}
	var logs testenv.LogBuffer
	e.log = slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, &logs), &slog.HandlerOptions{Level: slog.LevelWarn}))
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 1, "typo", "typo.masked"); err != nil {
		t.Fatal(err)
	}
	const n = 10_500
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "typo", Value: fmt.Appendf(nil, `{"email":"p%d@real.test"}`, i)}
	}
	produce(t, kafkaClient(t, k), recs...)
	cfg := e.routeConfig("typo", "typo")
	kafkaRoute(t, k, &cfg, []string{"typo"}, "g-typo")
	cfg.Sink = kafkaSink(t, k)
	e.start(cfg)
	if out := consume(t, k, "typo.masked", n, 60*time.Second); len(out) != n {
		t.Fatalf("got %d records, want %d", len(out), n)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var warned []string
	for _, l := range lines {
		if strings.Contains(l, "a rule matched no field") {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], `rule="rule 1 \"typo\" ($.emial)"`) {
		t.Errorf("want one warning naming rule 1 ($.emial), got %q", warned)
	}
	if strings.Contains(logs.String(), "real.test") {
		t.Error("the log quotes a record")
	}
}
