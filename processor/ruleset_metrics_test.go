package processor_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
)

// TestReloadDropsRetiredRuleSeries: fields_masked_total{ruleset,rule}
// lists the rules of the version a route masks with. A reload that
// renames a rule, or moves an unnamed one (its label is its index), must
// not leave the old series behind: a dashboard would list rules that no
// longer exist, a set more per reload.
func TestReloadDropsRetiredRuleSeries(t *testing.T) {
	const v1 = `version: "1.0"
rules:
  - name: email
    path: "$.email"
    masks: [ { type: from_fixed, value: x } ]
  - path: "$.phone"
    masks: [ { type: from_fixed, value: x } ]
`
	const v2 = `version: "1.0"
rules:
  - path: "$.ssn"
    masks: [ { type: from_fixed, value: x } ]
  - name: mail
    path: "$.email"
    masks: [ { type: from_fixed, value: x } ]
  - path: "$.phone"
    masks: [ { type: from_fixed, value: x } ]
`
	dir := t.TempDir()
	file := filepath.Join(dir, "orders.yaml")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(v1)
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, processor.Compiler(0, 0))
	if err := store.Load(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	met, err := processor.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	src, sink := idleConnectors(t)
	if _, err := processor.NewRoute(processor.RouteConfig{Name: "orders", Source: src, Sink: sink,
		Ruleset: "orders", Rulesets: store, Secret: engine.MustSecret(testSecret), Metrics: met}); err != nil {
		t.Fatal(err)
	}
	series := func() []string {
		t.Helper()
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, f := range fams {
			if f.GetName() != processor.Namespace+"_fields_masked_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "rule" {
						rules = append(rules, l.GetValue())
					}
				}
			}
		}
		slices.Sort(rules)
		return rules
	}
	before := series()
	if len(before) != 2 || !slices.Contains(before, "email") {
		t.Fatalf("series at start: %q, want email and the unnamed rule's", before)
	}

	write(v2)
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	e, _ := store.Get("orders")
	want := slices.Clone(e.Compiled.RuleNames())
	slices.Sort(want)
	if got := series(); !slices.Equal(got, want) {
		t.Errorf("series after the reload: %q, want the new version's rules only: %q", got, want)
	}
}
