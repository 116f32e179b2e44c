package processor_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// TestRulesetReload changes the route's ruleset file mid-stream, then
// breaks it. The good change is picked up without losing a record, each
// record is masked wholly by one version, and the broken file is counted
// as a failed reload while the last good version keeps running.
func TestRulesetReload(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := processor.NewWatcher(e.store, e.dir, 20*time.Millisecond, e.metrics, e.log)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { w.Run(ctx) })

	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-reload")
	cfg.Sink = kafkaSink(t, k)
	cfg.KeepPartition = true
	rn := e.start(cfg)

	n := scale(9000)
	cl := kafkaClient(t, k, manualPartitioner())
	path := filepath.Join(e.dir, "people.yaml")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(string(orig), `value: "MASKED"`, `value: "MASKED-V2"`, 1)
	serial := rn.route.Status().RulesetSerial
	for i, step := range []func(){
		func() { writeFile(t, path, v2) },
		func() { writeFile(t, path, v2+"\n  - this is: [not a rule\n") },
		nil,
	} {
		produce(t, cl, people("people", i*n/3, n/3, 2)...)
		if i == 0 {
			// The first third must be masked by the first version before
			// the file changes, or (on a slow machine) the reload can win
			// the race and every record shows the second version.
			waitFor(t, 30*time.Second, "the first third masked", func() bool { return rn.route.Status().RecordsOut >= uint64(n/3) })
		}
		if step != nil {
			step()
		}
		if i == 0 {
			waitFor(t, 10*time.Second, "the new ruleset in use", func() bool { return rn.route.Status().RulesetSerial > serial })
		}
		if i == 1 {
			waitFor(t, 10*time.Second, "the failed reload counted", func() bool {
				return counterValue(e.metrics.Reloads.WithLabelValues(processor.ReloadFailed)) == 1
			})
		}
	}
	out := consume(t, k, "people.masked", n, 60*time.Second)
	seen := map[int]bool{}
	versions := map[string]int{}
	for _, r := range out {
		var p person
		if err := json.Unmarshal(r.Value, &p); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.Value), "real.test") || strings.Contains(string(r.Value), "Real Person") || !strings.HasSuffix(p.Email, "@example.com") {
			t.Fatalf("record %d not masked: %s", p.Seq, r.Value)
		}
		versions[p.Name]++
		seen[p.Seq] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
	if len(versions) != 2 || versions["MASKED"] == 0 || versions["MASKED-V2"] < n/3 {
		t.Errorf("records per version %v: want both versions, and v2 for at least the last third", versions)
	}
	if got := counterValue(e.metrics.Reloads.WithLabelValues(processor.ReloadOK)); got < 1 {
		t.Errorf("ruleset_reloads_total{result=ok} = %v", got)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestRulesetReloadOnTrigger is SIGHUP's path: the watcher polls once an
// hour, so only Trigger can make it reload. A changed ruleset then masks
// every later record; a broken one is counted as a failed reload and the
// version in use keeps masking.
func TestRulesetReloadOnTrigger(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), 2, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := processor.NewWatcher(e.store, e.dir, time.Hour, e.metrics, e.log)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { w.Run(ctx) })

	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-trigger")
	cfg.Sink = kafkaSink(t, k)
	cfg.KeepPartition = true
	rn := e.start(cfg)
	cl := kafkaClient(t, k, manualPartitioner())
	path := filepath.Join(e.dir, "people.yaml")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reloads := func(result string) float64 { return counterValue(e.metrics.Reloads.WithLabelValues(result)) }

	const batch = 200
	// nameBySeq reads everything masked so far and returns each record's
	// masked name (the version that masked it).
	nameBySeq := func(want int) map[int]string {
		t.Helper()
		out := consume(t, k, "people.masked", want, 60*time.Second)
		names := map[int]string{}
		for _, r := range out {
			var p person
			if err := json.Unmarshal(r.Value, &p); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(r.Value), "real.test") || strings.Contains(string(r.Value), "Real Person") || !strings.HasSuffix(p.Email, "@example.com") {
				t.Fatalf("record %d is not masked", p.Seq)
			}
			names[p.Seq] = p.Name
		}
		if len(names) != want {
			t.Fatalf("%d distinct masked records, want %d", len(names), want)
		}
		return names
	}
	checkBatch := func(names map[int]string, from int, want string) {
		t.Helper()
		for seq := from; seq < from+batch; seq++ {
			if names[seq] != want {
				t.Fatalf("record %d masked with name %q, want %q", seq, names[seq], want)
			}
		}
	}

	produce(t, cl, people("people", 0, batch, 2)...)
	checkBatch(nameBySeq(batch), 0, "MASKED")
	serial := rn.route.Status().RulesetSerial

	writeFile(t, path, strings.Replace(string(orig), `value: "MASKED"`, `value: "MASKED-V2"`, 1))
	w.Trigger()
	waitFor(t, 30*time.Second, "the triggered reload", func() bool { return reloads(processor.ReloadOK) == 1 })
	serialV2 := rn.route.Status().RulesetSerial
	if serialV2 <= serial {
		t.Fatalf("ruleset serial %d after the reload, want more than %d", serialV2, serial)
	}
	produce(t, cl, people("people", batch, batch, 2)...)
	checkBatch(nameBySeq(2*batch), batch, "MASKED-V2")

	writeFile(t, path, "version: \"1.0\"\nrules:\n  - this is: [not a rule\n")
	w.Trigger()
	waitFor(t, 30*time.Second, "the failed reload counted", func() bool { return reloads(processor.ReloadFailed) == 1 })
	if got := rn.route.Status().RulesetSerial; got != serialV2 {
		t.Fatalf("ruleset serial %d after a broken reload, want %d (the last good version)", got, serialV2)
	}
	produce(t, cl, people("people", 2*batch, batch, 2)...)
	names := nameBySeq(3 * batch)
	checkBatch(names, 0, "MASKED")
	checkBatch(names, batch, "MASKED-V2")
	checkBatch(names, 2*batch, "MASKED-V2")
	if got := reloads(processor.ReloadOK); got != 1 {
		t.Errorf("ruleset_reloads_total{result=ok} = %v, want 1 (one trigger, no polling)", got)
	}
}
