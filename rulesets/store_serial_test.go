package rulesets_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReservedPlanSerialSurvivesRestart: a plan that serves again once the
// file that shadowed it is gone takes the next serial (clients watch for a
// higher one), and keeps it after a restart.
func TestReservedPlanSerialSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("orders", []byte(goodYAML)); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "orders") // the upload serves
	f.write(t, "orders.yaml", twoRulesYAML)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.dir, "orders.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	served := mustGet(t, s, "orders").Serial
	s2 := f.store(t)
	if err := s2.Load(); err != nil {
		t.Fatal(err)
	}
	e := mustGet(t, s2, "orders")
	if e.Serial < served {
		t.Errorf("after restart the same plan serves with serial %d, lower than %d it served with before", e.Serial, served)
	}
}
