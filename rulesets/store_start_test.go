package rulesets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

// startStore is a store whose Load sleeps on the test's clock: sleep moves
// the clock, then runs the test's step (what happened on disk meanwhile,
// as late as can be: just before Load looks again).
func startStore(dir string, c *testClock, step func(slept int)) *rulesets.Store[*compiled] {
	slept := 0
	return rulesets.NewStore(rulesets.StoreConfig{Dir: dir, Now: c.now, Settle: time.Hour, Sleep: func(d time.Duration) {
		slept++
		c.advance(d)
		step(slept)
	}}, compile)
}

// writeAt writes path stamped with the test clock's now: a write the
// store's clock sees as just made.
func writeAt(t *testing.T, c *testClock, path, src string) {
	t.Helper()
	writeFile(t, path, src)
	now := c.now()
	if err := os.Chtimes(path, now, now); err != nil {
		t.Fatal(err)
	}
}

// TestLoadWaitsForHalfWrittenFile: a ruleset file being written in place as
// the process starts reads as a shorter ruleset that is valid, with the
// SSN rule missing. Load serves nothing for it until the file has been left
// alone for the settle time, and then serves the whole file.
func TestLoadWaitsForHalfWrittenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	full := peopleYAML(3)
	var clock testClock
	writeAt(t, &clock, path, full[:strings.Index(full, "# notes")+30])
	var s *rulesets.Store[*compiled]
	s = startStore(dir, &clock, func(slept int) {
		if e, ok := s.Get("people"); ok {
			t.Errorf("serving %d rules while Load waits for the file to settle; want nothing served yet", e.Compiled.rules)
		}
		if slept == 1 {
			writeAt(t, &clock, path, full) // the writer finishes
		}
		if slept > 10 {
			t.Fatalf("Load slept %d times for a file written twice", slept)
		}
	})
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if e := mustGet(t, s, "people"); e.Compiled.rules != 3 || string(e.Ruleset.Source) != full {
		t.Fatalf("Load served %d rules (%d bytes); want the whole file's 3 (%d bytes)", e.Compiled.rules, len(e.Ruleset.Source), len(full))
	}
}

// TestLoadDoesNotWaitForOldFiles: files (and seed files) left alone for
// longer than the settle time load at once: a normal start never sleeps.
func TestLoadDoesNotWaitForOldFiles(t *testing.T) {
	tc := seedCases[2]
	dir := t.TempDir()
	writeAged(t, filepath.Join(dir, "people.yaml"), tc.ruleset)
	writeAged(t, filepath.Join(dir, tc.csv), tc.v1)
	writeAged(t, filepath.Join(dir, "other.yaml"), peopleYAML(2))
	s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, DataDir: t.TempDir(), Sleep: func(d time.Duration) {
		t.Fatalf("Load slept %v with every file written hours ago", d)
	}}, engineCompile)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if n := len(s.List()); n != 2 {
		t.Fatalf("%d rulesets loaded, want 2", n)
	}
}

// TestLoadFileKeepsChanging: a file written to on and on does not hold the
// start forever; after a bounded wait it is an error saying so and how to
// write ruleset files, and it is not served.
func TestLoadFileKeepsChanging(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	writeAged(t, filepath.Join(dir, "calm.yaml"), peopleYAML(2))
	var clock testClock
	writeAt(t, &clock, path, peopleYAML(2))
	s := startStore(dir, &clock, func(slept int) {
		if slept > 100 {
			t.Fatalf("Load slept %d times: its wait is not bounded", slept)
		}
		writeAt(t, &clock, path, peopleYAML(2+slept%2)) // a write every look
	})
	err := s.Load()
	var le rulesets.LoadError
	if !errors.As(err, &le) || len(le) != 1 || le[0].Path != path {
		t.Fatalf("Load = %v; want one error, for %s", err, path)
	}
	if msg := le[0].Error(); !strings.Contains(msg, "still changing") || !strings.Contains(msg, "atomically") {
		t.Errorf("error %q; want it to say the file kept changing and to write it atomically", msg)
	}
	if _, ok := s.Get("people"); ok {
		t.Error("a file that never settled is served")
	}
	mustGet(t, s, "calm")
}

// TestLoadFutureMTime: a file whose modification time is ahead of the
// store's clock (a file server whose clock runs fast) loads once seen
// unchanged for the settle time, even when the clock stands still while
// Load sleeps (stepped back, or a test's): start is not held forever.
func TestLoadFutureMTime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	writeFile(t, path, peopleYAML(2))
	ahead := time.Now().Add(24 * time.Hour)
	if err := os.Chtimes(path, ahead, ahead); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	slept := 0
	s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, Now: func() time.Time { return frozen }, Sleep: func(time.Duration) {
		if slept++; slept > 100 {
			t.Fatalf("Load slept %d times for a file dated ahead of a clock that stands still", slept)
		}
	}}, compile)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if slept == 0 {
		t.Error("Load did not wait for a file dated ahead of its clock: it cannot tell when that file was written")
	}
	mustGet(t, s, "people")
}
