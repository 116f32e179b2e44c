package processor_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
)

// TestRulesetHealthy: maskstream_ruleset_healthy stays 0 for as long as a
// ruleset's file is broken, or gone while a route masks with it (the
// reload counter counts a failure once, and a removal as a success), and
// is 1 again once the file is good.
func TestRulesetHealthy(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/rulesets/people.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "people.yaml")
	// Files are stamped in the past so a reload never takes them for
	// being written at this moment.
	write := func(t *testing.T, src []byte) {
		t.Helper()
		if err := os.WriteFile(file, src, 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(file, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(t, good)
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, processor.Compiler(0, 0))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	// "orders" is a route's ruleset with no file at all.
	if err := processor.RegisterRulesetHealth(reg, store, []string{"people", "orders"}); err != nil {
		t.Fatal(err)
	}
	if err := processor.RegisterRulesetHealth(reg, store, nil); err != nil {
		t.Fatalf("registering twice: %v", err)
	}

	for _, step := range []struct {
		name   string
		change func(t *testing.T)
		want   map[string]float64
	}{
		{"loaded", func(*testing.T) {}, map[string]float64{"people": 1, "orders": 0}},
		{"broken", func(t *testing.T) { write(t, []byte("version: \"1.0\"\nrules: [ {\n")) }, map[string]float64{"people": 0, "orders": 0}},
		{"still broken after another reload", func(*testing.T) {}, map[string]float64{"people": 0, "orders": 0}},
		{"restored", func(t *testing.T) { write(t, good) }, map[string]float64{"people": 1, "orders": 0}},
		{"removed", func(t *testing.T) {
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
		}, map[string]float64{"people": 0, "orders": 0}},
		// Routes mask with files only: an upload under the name leaves
		// the route on the removed file's version.
		{"an upload takes the name", func(t *testing.T) {
			if _, err := store.Put("people", good); err != nil {
				t.Fatal(err)
			}
		}, map[string]float64{"people": 0, "orders": 0}},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.change(t)
			_ = store.Reload() // a broken file is an error here; the gauge is what is tested
			if got := healthGauges(t, reg); !equalGauges(got, step.want) {
				t.Errorf("maskstream_ruleset_healthy = %v, want %v", got, step.want)
			}
		})
	}
}

func healthGauges(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "maskstream_ruleset_healthy" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "ruleset" {
					got[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return got
}

func equalGauges(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
