package rulesets_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// testClock is the store's clock: real time plus an offset the test moves,
// so a file "settles" when the test says so rather than after a sleep.
type testClock struct{ off atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) advance(d time.Duration) { c.off.Add(int64(d)) }
func (c *testClock) set(d time.Duration)     { c.off.Store(int64(d)) }
func settlingStore(dir string, c *testClock) *rulesets.Store[*compiled] {
	return rulesets.NewStore(rulesets.StoreConfig{Dir: dir, Now: c.now, Settle: time.Hour}, compile)
}

// peopleYAML is a ruleset with n rules, the last one masking the SSN, and
// a comment block before it: cut anywhere in the comments, the file is a
// valid ruleset with the SSN rule missing.
func peopleYAML(n int) string {
	var b strings.Builder
	b.WriteString("version: \"1.0\"\nrules:\n")
	for i := 1; i < n; i++ {
		b.WriteString("  - path: \"$.f" + string(rune('a'+i)) + "\"\n    masks: [ { type: from_fixed, value: \"x\" } ]\n")
	}
	b.WriteString(strings.Repeat("# notes on the rule below, which masks the social security number\n", 20))
	b.WriteString("  - path: \"$.ssn\"\n    masks: [ { type: from_fixed, value: \"000-00-0000\" } ]\n")
	return b.String()
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStoreReloadSettledWaitsForInPlaceWrite: a ruleset file being written
// in place reads as a shorter ruleset that is valid. ReloadSettled keeps
// the version serving, without reporting an error, until the file has been
// left alone for the settle time; Reload loads what is there.
func TestStoreReloadSettledWaitsForInPlaceWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	full := peopleYAML(2)
	writeAged(t, path, full)
	var clock testClock
	s := settlingStore(dir, &clock)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	first := mustGet(t, s, "people")

	// The writer has written everything up to the SSN rule's comments.
	writeFile(t, path, full[:strings.Index(full, "# notes")+30])
	for range 3 {
		res, err := s.ReloadSettled()
		if err != nil {
			t.Fatalf("ReloadSettled while the file is written: %v", err)
		}
		if !slices.Equal(res.Waiting, []string{path}) || res.Changed != 0 || res.RetryIn <= 0 {
			t.Fatalf("ReloadSettled while the file is written = %+v; want it waiting on %s", res, path)
		}
		if e := mustGet(t, s, "people"); e.Serial != first.Serial || e.Compiled.rules != 2 {
			t.Fatalf("serving serial %d with %d rules while the file is written; want serial %d with 2", e.Serial, e.Compiled.rules, first.Serial)
		}
	}

	// Written whole, but only just.
	v2 := peopleYAML(3)
	writeFile(t, path, v2)
	if res, err := s.ReloadSettled(); err != nil || len(res.Waiting) != 1 || mustGet(t, s, "people").Serial != first.Serial {
		t.Fatalf("ReloadSettled just after the last write = %+v, %v; want it still waiting", res, err)
	}

	clock.advance(2 * time.Hour)
	res, err := s.ReloadSettled()
	if err != nil || res.Changed != 1 || len(res.Waiting) != 0 || res.RetryIn != 0 {
		t.Fatalf("ReloadSettled once the file settled = %+v, %v; want one change, nothing waiting", res, err)
	}
	if e := mustGet(t, s, "people"); e.Serial <= first.Serial || e.Compiled.rules != 3 || string(e.Ruleset.Source) != v2 {
		t.Fatalf("after settling: serial %d, %d rules; want a new serial with 3 rules", e.Serial, e.Compiled.rules)
	}

	// Reload, for callers that know the file is whole, does not wait.
	clock.set(0)
	writeFile(t, path, full)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if e := mustGet(t, s, "people"); e.Compiled.rules != 2 {
		t.Fatalf("Reload loaded %d rules, want the 2 on disk", e.Compiled.rules)
	}
}

// TestStoreReloadSettledFutureMTime: a file whose modification time is
// ahead of the store's clock (a file server whose clock runs fast) still
// loads once the store has seen it unchanged for the settle time.
func TestStoreReloadSettledFutureMTime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	writeAged(t, path, peopleYAML(2))
	var clock testClock
	s := settlingStore(dir, &clock)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	clock.set(-3 * time.Hour)
	writeFile(t, path, peopleYAML(3))
	if res, err := s.ReloadSettled(); err != nil || len(res.Waiting) != 1 {
		t.Fatalf("first look = %+v, %v; want the file waiting", res, err)
	}
	clock.advance(30 * time.Minute)
	if res, err := s.ReloadSettled(); err != nil || len(res.Waiting) != 1 || res.RetryIn > 31*time.Minute {
		t.Fatalf("half the settle time later = %+v, %v; want it waiting 30 more minutes", res, err)
	}
	clock.advance(31 * time.Minute)
	if res, err := s.ReloadSettled(); err != nil || res.Changed != 1 {
		t.Fatalf("a settle time after the first look = %+v, %v; want the file loaded", res, err)
	}
	if e := mustGet(t, s, "people"); e.Compiled.rules != 3 {
		t.Fatalf("%d rules, want 3", e.Compiled.rules)
	}
}

// TestStoreReloadSettledEmptyFile: a file truncated for a rewrite shows
// its new size (0) a moment before its new modification time, so an empty
// file with an old one waits like a new file: no failed reload is reported
// for a write in progress. One that stays empty fails.
func TestStoreReloadSettledEmptyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	writeAged(t, path, peopleYAML(2))
	var clock testClock
	s := settlingStore(dir, &clock)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "")
	long := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(path, long, long); err != nil {
		t.Fatal(err)
	}
	if res, err := s.ReloadSettled(); err != nil || !slices.Equal(res.Waiting, []string{path}) {
		t.Fatalf("an empty file with an old modification time = %+v, %v; want it waiting", res, err)
	}
	clock.advance(2 * time.Hour)
	var le rulesets.LoadError
	if _, err := s.ReloadSettled(); !errors.As(err, &le) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("a file empty for the settle time: %v; want a failed reload", err)
	}
	if e := mustGet(t, s, "people"); e.Compiled.rules != 2 {
		t.Fatalf("%d rules serving, want the previous 2", e.Compiled.rules)
	}
}

// TestStoreReloadSettledRemoval: a ruleset file that is gone for a moment
// (an editor's save that moves it aside) is not dropped; one that stays
// gone for the settle time is.
func TestStoreReloadSettledRemoval(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "people.yaml")
	writeFile(t, path, peopleYAML(2))
	if err := os.Chtimes(path, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var clock testClock
	s := settlingStore(dir, &clock)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+"~"); err != nil {
		t.Fatal(err)
	}
	if res, err := s.ReloadSettled(); err != nil || !slices.Equal(res.Waiting, []string{path}) {
		t.Fatalf("with the file moved aside = %+v, %v; want it waiting", res, err)
	}
	if _, ok := s.Get("people"); !ok {
		t.Fatal("a file gone for a moment was dropped")
	}
	clock.advance(2 * time.Hour)
	if res, err := s.ReloadSettled(); err != nil || res.Changed != 1 {
		t.Fatalf("with the file gone for good = %+v, %v; want it dropped", res, err)
	}
	if _, ok := s.Get("people"); ok {
		t.Fatal("a file gone for the settle time is still served")
	}
}

// seedCase is a ruleset that reads a user seed file, a record, and what
// the masked record holds with each seed file.
type seedCase struct {
	name       string
	ruleset    string
	csv        string // path of the seed file, beside the ruleset
	record     string
	v1, v2     string // seed files
	want1      string // in the masked record with v1
	want2      string // with v2
	brokenSeed string
}

var seedCases = []seedCase{
	{
		name: "from_file",
		ruleset: `version: "1.0"
rules:
  - path: "$.name"
    masks: [ { type: from_file, seed_file: names.csv, seed_column: name } ]
`,
		csv: "names.csv", record: `{"name":"Real Person"}`,
		v1: "name\nAlpha\n", v2: "name\nBravo\n", want1: `"Alpha"`, want2: `"Bravo"`,
	},
	{
		name: "from_file in a folder, in an else branch, in a json transform",
		ruleset: `version: "1.0"
rules:
  - if: [ { path: "$.country", equals: "NZ" } ]
    rules:
      - path: "$.name"
        masks: [ { type: from_fixed, value: "nz" } ]
    else_rules:
      - masks:
          - type: json
            transforms:
              - { path: [name], masks: [ { type: from_file, seed_file: lists/names.csv } ] }
`,
		csv: "lists/names.csv", record: `{"country":"AU","name":"Real Person"}`,
		v1: "name\nAlpha\n", v2: "name\nBravo\n", want1: `"Alpha"`, want2: `"Bravo"`,
	},
	{
		name: "unstructured_text seed_files",
		ruleset: `version: "1.0"
rules:
  - path: "$.note"
    masks:
      - type: unstructured_text
        matchers:
          seed_files: [ { label: DRUG, seed_file: drugs.csv, seed_column: drug } ]
        fallback_masks: [ { type: from_fixed, value: "[DRUG]" } ]
`,
		csv: "drugs.csv", record: `{"note":"takes aspirin and codeine"}`,
		v1: "drug\naspirin\n", v2: "drug\ncodeine\n", want1: `"takes [DRUG] and codeine"`, want2: `"takes aspirin and [DRUG]"`,
	},
}

func engineCompile(rs *rulesets.Ruleset) (*engine.Masker, error) {
	return engine.Compile(rs, engine.Options{})
}

func maskWith(t *testing.T, e *rulesets.Entry[*engine.Masker], record string) string {
	t.Helper()
	out, err := e.Compiled.MaskValue(nil, engine.MustSecret("store-reload-test-secret-0123456789"), []byte(record), nil)
	if err != nil {
		t.Fatalf("masking with serial %d: %v", e.Serial, err)
	}
	return string(out)
}

// TestStoreReloadSeedFileEdit: a ruleset is recompiled when a user seed
// file it reads changes, though its own bytes did not; a seed file that
// no longer parses is a failed reload, and the version serving stays.
func TestStoreReloadSeedFileEdit(t *testing.T) {
	for _, tc := range seedCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			seed := filepath.Join(dir, tc.csv)
			if err := os.MkdirAll(filepath.Dir(seed), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "people.yaml"), tc.ruleset)
			writeFile(t, seed, tc.v1)
			s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, engineCompile)
			if err := s.Load(); err != nil {
				t.Fatal(err)
			}
			e1 := mustGetEntry(t, s)
			if out := maskWith(t, e1, tc.record); !strings.Contains(out, tc.want1) {
				t.Fatalf("with the first seed file: %s, want %s in it", out, tc.want1)
			}

			writeFile(t, seed, tc.v2)
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			e2 := mustGetEntry(t, s)
			if e2.Serial <= e1.Serial {
				t.Fatalf("serial %d after the seed file changed, want more than %d", e2.Serial, e1.Serial)
			}
			if out := maskWith(t, e2, tc.record); !strings.Contains(out, tc.want2) {
				t.Fatalf("after the seed file changed: %s, want %s in it", out, tc.want2)
			}

			// A header without rows is not a seed file.
			writeFile(t, seed, tc.v2[:strings.Index(tc.v2, "\n")+1])
			err := s.Reload()
			var le rulesets.LoadError
			if !errors.As(err, &le) || len(le) != 1 || le[0].Name != "people" || !strings.Contains(err.Error(), "no rows") {
				t.Fatalf("Reload with a broken seed file = %v; want a LoadError for people saying the file has no rows", err)
			}
			e3 := mustGetEntry(t, s)
			if e3.Serial != e2.Serial || e3.Logs[len(e3.Logs)-1].Level != rulesets.LogError {
				t.Fatalf("after a broken seed file: serial %d (want %d still serving), last log %+v", e3.Serial, e2.Serial, e3.Logs[len(e3.Logs)-1])
			}
			if out := maskWith(t, e3, tc.record); !strings.Contains(out, tc.want2) {
				t.Fatalf("after a broken seed file: %s, want %s in it (the version serving)", out, tc.want2)
			}

			// Unchanged files keep their serial.
			writeFile(t, seed, tc.v1)
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			e4 := mustGetEntry(t, s)
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			if e5 := mustGetEntry(t, s); e5.Serial != e4.Serial {
				t.Fatalf("a reload with nothing changed moved the serial from %d to %d", e4.Serial, e5.Serial)
			}
		})
	}
}

func mustGetEntry(t *testing.T, s *rulesets.Store[*engine.Masker]) *rulesets.Entry[*engine.Masker] {
	t.Helper()
	e, ok := s.Get("people")
	if !ok {
		t.Fatal("ruleset people not in the store")
	}
	return e
}

// TestStoreReloadSettledSeedFile: a seed file written in place waits to
// settle like a ruleset file (a half-written list of names finds fewer
// names in free text).
func TestStoreReloadSettledSeedFile(t *testing.T) {
	tc := seedCases[2]
	dir := t.TempDir()
	seed := filepath.Join(dir, tc.csv)
	writeFile(t, filepath.Join(dir, "people.yaml"), tc.ruleset)
	writeAged(t, seed, tc.v1)
	// The ruleset file has not changed for long.
	long := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "people.yaml"), long, long); err != nil {
		t.Fatal(err)
	}
	var clock testClock
	s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, Now: clock.now, Settle: time.Hour}, engineCompile)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	e1 := mustGetEntry(t, s)
	writeFile(t, seed, tc.v2)
	if res, err := s.ReloadSettled(); err != nil || !slices.Equal(res.Waiting, []string{seed}) {
		t.Fatalf("just after the seed file changed = %+v, %v; want the seed file waiting", res, err)
	}
	if e := mustGetEntry(t, s); e.Serial != e1.Serial {
		t.Fatalf("serial %d while the seed file settles, want %d", e.Serial, e1.Serial)
	}
	clock.advance(2 * time.Hour)
	if res, err := s.ReloadSettled(); err != nil || res.Changed != 1 {
		t.Fatalf("once the seed file settled = %+v, %v; want a change", res, err)
	}
	if out := maskWith(t, mustGetEntry(t, s), tc.record); !strings.Contains(out, tc.want2) {
		t.Fatalf("%s, want %s in it", out, tc.want2)
	}
}

// TestStoreReloadKeptSizeAndMTime: a seed file replaced by one of the same
// size with the old modification time put back (cp -p, rsync -a, tar) is
// still noticed, by the watcher's fingerprint and by the store: the inode
// or change time differ.
func TestStoreReloadKeptSizeAndMTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the inode and change time are read on Linux only")
	}
	tc := seedCases[0]
	dir := t.TempDir()
	seed := filepath.Join(dir, tc.csv)
	writeFile(t, filepath.Join(dir, "people.yaml"), tc.ruleset)
	writeFile(t, seed, tc.v1)
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(seed, old, old); err != nil {
		t.Fatal(err)
	}
	s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, engineCompile)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	e1 := mustGetEntry(t, s)
	fp1, err := rulesets.Fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}

	writeFile(t, seed, tc.v2) // same size
	if err := os.Chtimes(seed, old, old); err != nil {
		t.Fatal(err)
	}
	if fp2, err := rulesets.Fingerprint(dir); err != nil || fp2 == fp1 {
		t.Fatalf("Fingerprint = %x, %v after a same-size change with the mtime put back; want it to differ from %x", fp2, err, fp1)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	e2 := mustGetEntry(t, s)
	if e2.Serial == e1.Serial || !strings.Contains(maskWith(t, e2, tc.record), tc.want2) {
		t.Fatalf("serial %d (was %d) after a same-size change with the mtime put back; want the new seed file in use", e2.Serial, e1.Serial)
	}
}

// TestFingerprint: the fingerprint covers ruleset files and seed files in
// folders below, not hidden files.
func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "people.yaml"), goodYAML)
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o755); err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(dir, "lists", "names.csv")
	writeFile(t, seed, "name\nAlpha\n")
	fp := func() uint64 {
		t.Helper()
		v, err := rulesets.Fingerprint(dir)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	fp1 := fp()
	writeFile(t, filepath.Join(dir, ".people.yaml.swp"), "editor state")
	if fp() != fp1 {
		t.Error("a hidden file changed the fingerprint")
	}
	writeFile(t, seed, "name\nAlpha\nBravo\n")
	fp2 := fp()
	if fp2 == fp1 {
		t.Error("a seed file in a folder below changed, the fingerprint did not")
	}
	if err := os.Remove(filepath.Join(dir, "people.yaml")); err != nil {
		t.Fatal(err)
	}
	if fp() == fp2 {
		t.Error("a ruleset file was removed, the fingerprint did not change")
	}
	if _, err := rulesets.Fingerprint(filepath.Join(dir, "nope")); err == nil {
		t.Error("Fingerprint of a missing dir: no error")
	}
}

// TestBrokenFileLoggedOnce: a broken file found again, unchanged, while
// another file waits to settle (the watcher looks again at every poll)
// keeps one error log; twenty copies would push its history out.
func TestBrokenFileLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	writeAged(t, a, peopleYAML(2))
	writeAged(t, b, peopleYAML(2))
	var clock testClock
	s := settlingStore(dir, &clock)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	writeAged(t, a, "version: \"1.0\"\nrules: [ {")
	writeFile(t, b, peopleYAML(3)) // b waits to settle: every pass looks again
	for range 5 {
		if _, err := s.ReloadSettled(); err == nil {
			t.Fatal("a broken file reloaded without an error")
		}
	}
	errs := 0
	for _, l := range mustGet(t, s, "a").Logs {
		if l.Level == rulesets.LogError {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("%d error logs after 5 passes over the same broken file, want 1", errs)
	}
}

// TestRestoredFileReported: a file put back to the version serving after
// a failed reload is reported, so the watcher can log that the failure it
// logged is over (nothing is recompiled, so nothing else would say so).
func TestRestoredFileReported(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	good := peopleYAML(2)
	writeAged(t, a, good)
	var clock testClock
	s := settlingStore(dir, &clock)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	writeAged(t, a, "version: \"1.0\"\nrules: [ {")
	if res, err := s.ReloadSettled(); err == nil || len(res.Restored) != 0 {
		t.Fatalf("broken: err %v, restored %v", err, res.Restored)
	}
	writeAged(t, a, good)
	res, err := s.ReloadSettled()
	if err != nil || !slices.Equal(res.Restored, []string{"a"}) {
		t.Fatalf("put back: err %v, restored %v, want [a]", err, res.Restored)
	}
	if res, _ := s.ReloadSettled(); len(res.Restored) != 0 {
		t.Errorf("reported again on the next pass: %v", res.Restored)
	}
}

// writeAged writes a file stamped two hours ago: long settled.
func writeAged(t *testing.T, path, src string) {
	t.Helper()
	writeFile(t, path, src)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}
