package processor_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// TestWatcherRemovedFileDamagedPlan: a ruleset file is removed, and the plan
// uploaded under its name, which would serve in its place, is damaged.
// Nothing serves the name any more, and the watcher must say so (with the
// plan's path and how to fix it), not that a previous version keeps
// running.
func TestWatcherRemovedFileDamagedPlan(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "people.yaml")
	if err := os.WriteFile(file, []byte(ssnRuleset("V1")), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, file)
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, DataDir: data, Settle: 20 * time.Millisecond}, processor.Compiler(0, 0))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	// A plan under the file's name, damaged (cut short, as a full disk
	// leaves it), then the file removed.
	plan := filepath.Join(data, "plans", "people.json")
	if err := os.WriteFile(plan, []byte(`{"name": "people", "ruleset_yaml": "vers`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}

	var logs testenv.LogBuffer
	metrics, _ := processor.NewMetrics(nil)
	w := processor.NewWatcher(store, dir, 5*time.Millisecond, metrics, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	waitFor(t, 30*time.Second, "the removal's reload", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	out := logs.String()
	for _, want := range []string{"nothing serves the name", "plan=" + plan, "upload the plan again", "delete the plan file", "damaged"} {
		if !strings.Contains(out, want) {
			t.Errorf("watcher log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "keeps running") {
		t.Errorf("watcher log says a previous version keeps running, though nothing serves the name:\n%s", out)
	}
	if _, ok := store.Get("people"); ok {
		t.Error("the name is still served")
	}
	if got := counterValue(metrics.Reloads.WithLabelValues(processor.ReloadFailed)); got != 1 {
		t.Errorf("failed reloads counted %v, want 1", got)
	}
}

// TestStoreRemovedFileDamagedPlanUnserved: the store's error for that case
// is marked Unserved and says so in its text (the plan's path included);
// any other failed reload is not marked.
func TestStoreRemovedFileDamagedPlanUnserved(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	for _, name := range []string{"people", "broken"} {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(ssnRuleset("V1")), 0o600); err != nil {
			t.Fatal(err)
		}
		age(t, p)
	}
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, DataDir: data}, processor.Compiler(0, 0))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(data, "plans", "people.json")
	if err := os.WriteFile(plan, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "people.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("version: \"1.0\"\nrules: [ {"), 0o600); err != nil {
		t.Fatal(err)
	}
	var le rulesets.LoadError
	if err := store.Reload(); !errors.As(err, &le) || len(le) != 2 {
		t.Fatalf("Reload = %v; want two failures", err)
	}
	for _, fe := range le {
		switch fe.Name {
		case "people":
			if !fe.Unserved || fe.Path != plan || !strings.Contains(fe.Error(), "nothing serves it") || !strings.Contains(fe.Error(), plan) {
				t.Errorf("removed file, damaged plan: Unserved %v, path %s, %q; want Unserved, the plan's path, and the text saying nothing serves it", fe.Unserved, fe.Path, fe.Error())
			}
		case "broken":
			if fe.Unserved || strings.Contains(fe.Error(), "nothing serves") {
				t.Errorf("a broken file whose previous version serves is marked unserved: %q", fe.Error())
			}
		}
	}
}
