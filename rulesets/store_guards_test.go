package rulesets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
)

// TestStoreReloadFileChangedDuringCompile: a ruleset file written again
// while its previous bytes compile is looked at once more after the
// compile, and the version published is the one the file holds now, not
// bytes that may have been read half-written.
func TestStoreReloadFileChangedDuringCompile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	writeAged(t, path, peopleYAML(2))
	var writeDuringCompile atomic.Bool
	s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, func(rs *rulesets.Ruleset) (*compiled, error) {
		if writeDuringCompile.CompareAndSwap(true, false) {
			writeFile(t, path, peopleYAML(4))
		}
		return compile(rs)
	})
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, peopleYAML(3))
	writeDuringCompile.Store(true)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	e := mustGet(t, s, "people")
	if got, want := string(e.Ruleset.Source), peopleYAML(4); got != want || e.Compiled.rules != 4 {
		t.Fatalf("serving %d rules (%d bytes) after a write during the compile; want the file's current %d rules (%d bytes)", e.Compiled.rules, len(got), 4, len(want))
	}
}

// TestValidNameWhole: a ruleset name is checked in full, since it becomes
// a file name in the data dir (plans/<name>.json) and a URL path segment:
// a valid start followed by a path must not pass.
func TestValidNameWhole(t *testing.T) {
	long := strings.Repeat("a", 128)
	for name, want := range map[string]bool{
		"orders":             true,
		"a.b-c_d9":           true,
		long:                 true,
		long + "a":           false,
		"":                   false,
		".hidden":            false,
		"../x":               false,
		"a/../../etc/passwd": false,
		"orders/":            false,
		"orders\n":           false,
		"orders x":           false,
		`orders\..\..\x`:     false,
		"orders\x00.json":    false,
	} {
		if got := rulesets.ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}

	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	const traversal = "x/../../../escaped"
	if _, err := s.Put(traversal, []byte(goodYAML)); !errors.Is(err, rulesets.ErrBadName) {
		t.Fatalf("Put(%q) = %v, want ErrBadName", traversal, err)
	}
	if _, err := os.Stat(filepath.Join(f.data, "..", "escaped.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Put(%q) wrote outside the data dir: %v", traversal, err)
	}
}
