package processor_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
)

// ssnRuleset is a ruleset of three rules, the SSN's last, with comment
// blocks between them: a prefix of the file cut inside a comment is a
// valid ruleset that leaves the SSN unmasked.
func ssnRuleset(version string) string {
	var b strings.Builder
	b.WriteString("version: \"1.0\"\nrules:\n")
	b.WriteString("  - path: \"$.name\"\n    masks: [ { type: from_fixed, value: \"" + version + "\" } ]\n")
	for i := range 40 {
		fmt.Fprintf(&b, "# note %02d on the email rule below, which keeps the domain example.com\n", i)
	}
	b.WriteString("  - path: \"$.email\"\n    masks: [ { type: from_fixed, value: \"x@example.com\" } ]\n")
	for i := range 40 {
		fmt.Fprintf(&b, "# note %02d on the ssn rule below, which masks US social security numbers\n", i)
	}
	b.WriteString("  - path: \"$.ssn\"\n    masks: [ { type: from_fixed, value: \"000-00-0000\" } ]\n")
	return b.String()
}

// writeInPlace rewrites path the way cp and most scripts do: truncate, then
// write in pieces, each of which a reader may see alone.
func writeInPlace(t *testing.T, path, src string, piece int, pause time.Duration) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < len(src); i += piece {
		if _, err := f.WriteString(src[i:min(i+piece, len(src))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
	}
}

// age makes path look untouched for two hours, as a file written long ago.
func age(t *testing.T, path string) {
	t.Helper()
	long := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(path, long, long); err != nil {
		t.Fatal(err)
	}
}

// recordingReloader passes reloads to the store and keeps what each did.
type recordingReloader struct {
	store   *rulesets.Store[*engine.Masker]
	mu      sync.Mutex
	results []rulesets.ReloadResult
}

func (r *recordingReloader) ReloadSettled() (rulesets.ReloadResult, error) {
	res, err := r.store.ReloadSettled()
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
	return res, err
}

func (r *recordingReloader) calls() []rulesets.ReloadResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rulesets.ReloadResult(nil), r.results...)
}

// reloadEnv is a rulesets dir holding people.yaml, its store and what its
// watcher reloads and counts.
type reloadEnv struct {
	dir, path string
	store     *rulesets.Store[*engine.Masker]
	rec       *recordingReloader
	metrics   *processor.Metrics
}

// newReloadEnv loads a rulesets dir of files (people.yaml and any other
// file, by path), all written long ago. settle is the store's; with an
// hour, only a file the test ages settles.
func newReloadEnv(t *testing.T, settle time.Duration, files map[string]string) *reloadEnv {
	t.Helper()
	dir := t.TempDir()
	e := &reloadEnv{dir: dir, path: filepath.Join(dir, "people.yaml")}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		age(t, p)
	}
	e.store = rulesets.NewStore(rulesets.StoreConfig{Dir: dir, Settle: settle}, processor.Compiler(0, 0))
	if err := e.store.Load(); err != nil {
		t.Fatal(err)
	}
	e.rec = &recordingReloader{store: e.store}
	e.metrics, _ = processor.NewMetrics(nil)
	return e
}

// run starts a watcher polling every interval until the test ends.
func (e *reloadEnv) run(t *testing.T, interval time.Duration) *processor.Watcher {
	w := processor.NewWatcher(e.rec, e.dir, interval, e.metrics, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return w
}

func (e *reloadEnv) entry(t *testing.T) *rulesets.Entry[*engine.Masker] {
	t.Helper()
	ent, ok := e.store.Get("people")
	if !ok {
		t.Fatal("ruleset people not in the store")
	}
	return ent
}

func (e *reloadEnv) reloads(result string) float64 {
	return counterValue(e.metrics.Reloads.WithLabelValues(result))
}

// TestWatcherWaitsForInPlaceWrite: a ruleset file written in place, of
// which only a valid prefix is on disk yet, is not published however many
// polls pass: the version serving stays, nothing counts as a reload, until
// the file stops changing.
func TestWatcherWaitsForInPlaceWrite(t *testing.T) {
	v1 := ssnRuleset("V1")
	e := newReloadEnv(t, time.Hour, map[string]string{"people.yaml": v1})
	first := e.entry(t)
	e.run(t, 5*time.Millisecond)

	v2 := ssnRuleset("V2")
	cut := strings.LastIndex(v2, "# note 20 on the ssn")
	writeInPlace(t, e.path, v2[:cut], len(v2), 0)
	waiting := func() int {
		n := 0
		for _, r := range e.rec.calls() {
			if len(r.Waiting) > 0 {
				n++
			}
		}
		return n
	}
	waitFor(t, 30*time.Second, "five looks at the half-written file", func() bool {
		return waiting() >= 5 || e.entry(t).Serial != first.Serial
	})
	if ent := e.entry(t); ent.Serial != first.Serial || ent.Compiled.NumRules() != 3 {
		t.Fatalf("while the file is half-written: serial %d with %d rules, want serial %d with 3", ent.Serial, ent.Compiled.NumRules(), first.Serial)
	}
	if ok, failed := e.reloads(processor.ReloadOK), e.reloads(processor.ReloadFailed); ok != 0 || failed != 0 {
		t.Fatalf("reloads counted while the file is written: ok %v, error %v; want none", ok, failed)
	}

	writeInPlace(t, e.path, v2, len(v2), 0)
	age(t, e.path)
	waitFor(t, 30*time.Second, "the whole file published", func() bool { return e.entry(t).Serial != first.Serial })
	if ent := e.entry(t); string(ent.Ruleset.Source) != v2 || ent.Compiled.NumRules() != 3 {
		t.Fatalf("published %d rules, want the whole file's 3", ent.Compiled.NumRules())
	}
	waitFor(t, 30*time.Second, "the reload counted", func() bool { return e.reloads(processor.ReloadOK) == 1 })
}

// TestWatcherInPlaceWritesNeverPublishShortRuleset writes two versions of
// one file in turn, in place and in pieces, under a watcher polling every
// millisecond: no version it publishes has fewer rules than the file
// whole, and each version is published once the file is left alone.
func TestWatcherInPlaceWritesNeverPublishShortRuleset(t *testing.T) {
	versions := []string{ssnRuleset("A"), ssnRuleset("B")}
	e := newReloadEnv(t, time.Hour, map[string]string{"people.yaml": versions[0]})
	var mu sync.Mutex
	var published []int
	cancel := e.store.Subscribe(func(ch rulesets.Change[*engine.Masker]) {
		n := -1 // removed
		if ch.Entry != nil {
			if ch.Old != nil && ch.Entry.Serial == ch.Old.Serial {
				return // a log only
			}
			n = ch.Entry.Compiled.NumRules()
		}
		mu.Lock()
		published = append(published, n)
		mu.Unlock()
	})
	defer cancel()
	e.run(t, time.Millisecond)

	const rounds = 6
	for i := 1; i <= rounds; i++ {
		src := versions[i%2]
		writeInPlace(t, e.path, src, 700, 3*time.Millisecond)
		age(t, e.path)
		waitFor(t, 30*time.Second, fmt.Sprintf("round %d published", i), func() bool {
			return string(e.entry(t).Ruleset.Source) == src
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(published) < rounds {
		t.Fatalf("%d versions published, want at least %d", len(published), rounds)
	}
	for i, n := range published {
		if n != 3 {
			t.Fatalf("publish %d of %d had %d rules (-1: removed), want 3: a half-written file was published; all: %v", i+1, len(published), n, published)
		}
	}
}

// TestWatcherSignalReloadsSettledFilesAndRetriesOthers is SIGHUP's path,
// with a poll once an hour: a file written long ago loads at the signal's
// reload; one written just now waits and loads when it has settled, with
// no poll and no second signal.
func TestWatcherSignalReloadsSettledFilesAndRetriesOthers(t *testing.T) {
	e := newReloadEnv(t, 300*time.Millisecond, map[string]string{"people.yaml": ssnRuleset("V1")})
	path := e.path
	w := e.run(t, time.Hour)
	waitFor(t, 30*time.Second, "the watcher's first look", func() bool { return len(e.rec.calls()) == 1 })
	serial := e.entry(t).Serial

	// Written atomically, long ago (cp -p to a temp file, renamed over).
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(ssnRuleset("V2")), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, tmp)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	w.Trigger()
	waitFor(t, 30*time.Second, "the signal's reload", func() bool { return len(e.rec.calls()) == 2 })
	if res := e.rec.calls()[1]; res.Changed != 1 || len(res.Waiting) != 0 {
		t.Fatalf("the signal's reload of a settled file = %+v; want it loaded at once", res)
	}
	v2 := e.entry(t).Serial
	if v2 <= serial {
		t.Fatalf("serial %d after the signal, want more than %d", v2, serial)
	}

	// Written just now.
	if err := os.WriteFile(path, []byte(ssnRuleset("V3")), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Trigger()
	waitFor(t, 30*time.Second, "the file written just now loaded", func() bool { return e.entry(t).Serial > v2 })
	calls := e.rec.calls()
	if res := calls[2]; res.Changed != 0 || len(res.Waiting) != 1 {
		t.Fatalf("the signal's reload of a file written just now = %+v; want it waiting", res)
	}
	if res := calls[len(calls)-1]; res.Changed != 1 {
		t.Fatalf("the last reload = %+v; want the file loaded", res)
	}
	if ok, failed := e.reloads(processor.ReloadOK), e.reloads(processor.ReloadFailed); ok != 2 || failed != 0 {
		t.Errorf("reloads counted: ok %v, error %v; want ok 2 (one per loaded version), error 0", ok, failed)
	}
}

// TestWatcherReloadsAtStart: a file changed after the store loaded and
// before the watcher started is reloaded without waiting for another
// change (here, no poll comes for an hour).
func TestWatcherReloadsAtStart(t *testing.T) {
	e := newReloadEnv(t, time.Hour, map[string]string{"people.yaml": ssnRuleset("V1")})
	serial := e.entry(t).Serial
	if err := os.WriteFile(e.path, []byte(ssnRuleset("V2")), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, e.path)
	e.run(t, time.Hour)
	waitFor(t, 30*time.Second, "the file changed before the watcher started loaded", func() bool { return e.entry(t).Serial > serial })
}

// TestWatcherSeedFileChange: editing a seed file the ruleset reads, next
// to it or in a folder below, reloads the ruleset.
func TestWatcherSeedFileChange(t *testing.T) {
	const rs = `version: "1.0"
rules:
  - path: "$.name"
    masks: [ { type: from_file, seed_file: lists/names.csv } ]
`
	e := newReloadEnv(t, time.Hour, map[string]string{"people.yaml": rs, "lists/names.csv": "name\nAlpha\n"})
	seed := filepath.Join(e.dir, "lists", "names.csv")
	sec := engine.MustSecret(testSecret)
	mask := func() string {
		out, err := e.entry(t).Compiled.MaskValue(nil, sec, []byte(`{"name":"Real Person"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if got := mask(); got != `{"name":"Alpha"}` {
		t.Fatalf("masked %s with the first seed file", got)
	}
	e.run(t, 5*time.Millisecond)
	waitFor(t, 30*time.Second, "the watcher's first look", func() bool { return len(e.rec.calls()) > 0 })
	if err := os.WriteFile(seed, []byte("name\nBravo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, seed)
	waitFor(t, 30*time.Second, "the edited seed file in use", func() bool { return mask() == `{"name":"Bravo"}` })
}

// TestWatcherBusyNeighbour: another file of the rulesets dir that changes
// at every poll (a log, a heartbeat) must not hold a settled ruleset edit
// back: the watcher once waited for a poll that saw no change at all.
// heartbeat rewrites heartbeat.txt in dir every 5ms, as a log or a
// liveness file beside the rulesets would, until the returned func is
// called (which waits for it to stop).
func heartbeat(dir string) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-time.After(5 * time.Millisecond):
			}
			_ = os.WriteFile(filepath.Join(dir, "heartbeat.txt"), []byte(strings.Repeat("x", i%50)), 0o600)
		}
	}()
	return func() { close(quit); <-done }
}

func TestWatcherBusyNeighbour(t *testing.T) {
	e := newReloadEnv(t, 50*time.Millisecond, map[string]string{"people.yaml": ssnRuleset("V1"), "heartbeat.txt": "0"})
	e.run(t, 20*time.Millisecond)
	waitFor(t, 10*time.Second, "first look", func() bool { return len(e.rec.calls()) > 0 })
	defer heartbeat(e.dir)()
	if err := os.WriteFile(e.path, []byte(ssnRuleset("V2")), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, e.path)
	sec := engine.MustSecret(testSecret)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := e.entry(t).Compiled.MaskValue(nil, sec, []byte(`{"name":"n"}`), nil)
		if strings.Contains(string(out), "V2") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("V2 never loaded in 5s (250 polls) while heartbeat.txt changes; reload calls: %d", len(e.rec.calls()))
}

// TestWatcherReportsAFailureOnce: a broken file is reported (logged and
// counted in ruleset_reloads_total{result="error"}) once, although every
// change of a neighbour file (a heartbeat) runs a reload that finds it
// broken again; broken again after a fix, it is reported again.
func TestWatcherReportsAFailureOnce(t *testing.T) {
	e := newReloadEnv(t, 50*time.Millisecond, map[string]string{"people.yaml": ssnRuleset("V1"), "heartbeat.txt": "0"})
	e.run(t, 20*time.Millisecond)
	waitFor(t, 10*time.Second, "first look", func() bool { return len(e.rec.calls()) > 0 })
	broken := filepath.Join(e.dir, "broken.yaml")
	const bad = "version: \"1.0\"\nrules: [ {"
	if err := os.WriteFile(broken, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, broken)
	waitFor(t, 10*time.Second, "the failure reported", func() bool { return e.reloads(processor.ReloadFailed) >= 1 })
	stopBeat := heartbeat(e.dir)
	calls := len(e.rec.calls())
	waitFor(t, 20*time.Second, "20 reloads run by the heartbeat", func() bool { return len(e.rec.calls()) >= calls+20 })
	stopBeat()
	if n := e.reloads(processor.ReloadFailed); n != 1 {
		t.Fatalf("failed reloads = %v after %d reloads found the same broken file, want 1", n, len(e.rec.calls())-calls)
	}
	// Fixed, then broken the same way: a new failure.
	if err := os.WriteFile(broken, []byte(ssnRuleset("B")), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, broken)
	waitFor(t, 10*time.Second, "the fixed file loaded", func() bool { _, ok := e.store.Get("broken"); return ok })
	if err := os.WriteFile(broken, []byte(bad+" "), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, broken)
	waitFor(t, 10*time.Second, "the new failure reported", func() bool { return e.reloads(processor.ReloadFailed) == 2 })
}

// TestWatcherSignalReportsOnce: SIGHUP reports every failure again, once:
// the retries that wait for a just-saved file to settle, which run under
// the signal's name, do not report them again and again.
func TestWatcherSignalReportsOnce(t *testing.T) {
	e := newReloadEnv(t, 500*time.Millisecond, map[string]string{"people.yaml": ssnRuleset("V1")})
	w := e.run(t, 20*time.Millisecond)
	waitFor(t, 10*time.Second, "first look", func() bool { return len(e.rec.calls()) > 0 })
	broken := filepath.Join(e.dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("version: \"1.0\"\nrules: [ {"), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, broken)
	waitFor(t, 10*time.Second, "the failure reported", func() bool { return e.reloads(processor.ReloadFailed) >= 1 })
	// An edit just saved (it waits to settle), then SIGHUP.
	if err := os.WriteFile(e.path, []byte(ssnRuleset("V2")), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Trigger()
	waitFor(t, 10*time.Second, "V2 loaded", func() bool { return strings.Contains(string(e.entry(t).Ruleset.Source), "V2") })
	if n := e.reloads(processor.ReloadFailed); n != 2 {
		t.Errorf("failed reloads = %v, want 2: the first report and the signal's", n)
	}
}
