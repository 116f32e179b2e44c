package rulesets_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

const goodYAML = `version: "1.0"
rules:
  - path: "$.email"
    masks: [ { type: from_fixed, value: "x" } ]
`

const twoRulesYAML = `version: "1.0"
rules:
  - path: "$.email"
    masks: [ { type: from_fixed, value: "x" } ]
  - path: "$.name"
    masks: [ { type: from_fixed, value: "y" } ]
`

// badYAML has three problems: no rules, the unquoted version and an
// unknown key.
const badYAML = `version: 1.0
rulez: []
`

// compiled stands in for the engine's Masker: the rule count, and a
// compile error for a ruleset whose first path is $.fail.
type compiled struct{ rules int }

func compile(rs *rulesets.Ruleset) (*compiled, error) {
	if len(rs.Rules) > 0 && len(rs.Rules[0].Paths) > 0 && rs.Rules[0].Paths[0].Text == "$.fail" {
		return nil, rulesets.ErrorList{rulesets.Errorf(rs.Rules[0].Pos, "mask does not compile")}
	}
	return &compiled{rules: len(rs.Rules)}, nil
}

type fixture struct {
	dir, data string
	clock     time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), data: t.TempDir(), clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return f
}

func (f *fixture) store(t *testing.T) *rulesets.Store[*compiled] {
	t.Helper()
	return rulesets.NewStore(rulesets.StoreConfig{
		Dir: f.dir, DataDir: f.data,
		Now: func() time.Time { return f.clock },
	}, compile)
}

func (f *fixture) write(t *testing.T, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t *testing.T, s *rulesets.Store[*compiled], name string) *rulesets.Entry[*compiled] {
	t.Helper()
	e, ok := s.Get(name)
	if !ok {
		t.Fatalf("Get(%q): not found", name)
	}
	return e
}

func TestStoreLoadsFilesAndUploads(t *testing.T) {
	f := newFixture(t)
	f.write(t, "orders.yaml", goodYAML)
	f.write(t, "events.yml", twoRulesYAML)
	f.write(t, "notes.txt", "ignored")
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if !s.Loaded() {
		t.Fatal("Loaded() = false after Load")
	}
	var names []string
	for _, e := range s.List() {
		names = append(names, e.Name+":"+string(e.Source))
	}
	if got, want := strings.Join(names, ","), "events:file,orders:file"; got != want {
		t.Fatalf("List = %s, want %s", got, want)
	}
	e := mustGet(t, s, "events")
	if e.Compiled.rules != 2 || e.Ruleset.Dir != f.dir || !e.Options.Enabled {
		t.Fatalf("events entry = %+v", e)
	}
	if _, err := s.Update("orders", rulesets.Update{Source: []byte(goodYAML)}); !errors.Is(err, rulesets.ErrReadOnly) {
		t.Fatalf("Update of a file ruleset: err = %v, want ErrReadOnly", err)
	}
	if err := s.Delete("orders"); !errors.Is(err, rulesets.ErrReadOnly) {
		t.Fatalf("Delete of a file ruleset: err = %v, want ErrReadOnly", err)
	}
}

func TestStoreUploadValidation(t *testing.T) {
	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		plan    string
		u       rulesets.Update
		wantErr error
		// wantPositions lists "line:col" every returned ruleset error has.
		wantPositions []string
	}{
		{name: "bad name", plan: "../x", u: rulesets.Update{Source: []byte(goodYAML)}, wantErr: rulesets.ErrBadName},
		{name: "parse errors", plan: "p", u: rulesets.Update{Source: []byte(badYAML)}, wantPositions: []string{"1:1", "1:10", "2:1"}},
		{name: "compile error", plan: "p", u: rulesets.Update{Source: []byte(strings.Replace(goodYAML, "$.email", "$.fail", 1))}, wantPositions: []string{"3:5"}},
		{name: "bad options", plan: "p", u: rulesets.Update{Source: []byte(goodYAML), Options: &rulesets.Options{DefaultLogLevel: "loud"}}, wantErr: rulesets.ErrOptions},
		{name: "new plan without yaml", plan: "p", u: rulesets.Update{}, wantErr: errors.New("")},
		{name: "replace missing", plan: "p", u: rulesets.Update{Source: []byte(goodYAML), Mode: rulesets.ReplaceOnly}, wantErr: rulesets.ErrNotFound},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := s.Update(test.plan, test.u)
			if err == nil {
				t.Fatal("Update succeeded")
			}
			if test.wantErr != nil && test.wantErr.Error() != "" && !errors.Is(err, test.wantErr) {
				t.Fatalf("err = %v, want %v", err, test.wantErr)
			}
			if test.wantPositions != nil {
				var el rulesets.ErrorList
				if !errors.As(err, &el) {
					t.Fatalf("err = %T %v, want an ErrorList", err, err)
				}
				var got []string
				for _, e := range el {
					got = append(got, fmt.Sprintf("%d:%d", e.Pos.Line, e.Pos.Col))
				}
				if strings.Join(got, " ") != strings.Join(test.wantPositions, " ") {
					t.Fatalf("positions = %v, want %v (errors: %v)", got, test.wantPositions, err)
				}
			}
			if _, ok := s.Get(test.plan); ok {
				t.Fatal("a failed update left a plan behind")
			}
		})
	}
}

func TestStoreUploadsSurviveRestart(t *testing.T) {
	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	e1, err := s.Put("plan-a", []byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	f.clock = f.clock.Add(time.Hour)
	disabled := rulesets.Options{Enabled: false, DefaultLogLevel: "DEBUG"}
	e2, err := s.Update("plan-a", rulesets.Update{Source: []byte(twoRulesYAML), Options: &disabled, Mode: rulesets.ReplaceOnly})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Serial <= e1.Serial || !e2.Created.Equal(e1.Created) || !e2.Modified.After(e1.Modified) {
		t.Fatalf("after update: serial %d -> %d, created %v -> %v, modified %v -> %v", e1.Serial, e2.Serial, e1.Created, e2.Created, e1.Modified, e2.Modified)
	}
	if _, err := s.Update("plan-a", rulesets.Update{Source: []byte(goodYAML), Mode: rulesets.CreateOnly}); !errors.Is(err, rulesets.ErrExists) {
		t.Fatalf("CreateOnly on a taken name: err = %v, want ErrExists", err)
	}
	if _, err := s.Put("plan-b", []byte(goodYAML)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("plan-b"); err != nil {
		t.Fatal(err)
	}
	// Nothing but the plans and the counter is on disk, no temp files.
	files, _ := filepath.Glob(filepath.Join(f.data, "*", "*"))
	top, _ := filepath.Glob(filepath.Join(f.data, "*"))
	if got := len(files) + len(top); got != 3 { // plans/, plans/plan-a.json, serial
		t.Fatalf("data dir holds %v %v", top, files)
	}

	s2 := f.store(t)
	if err := s2.Load(); err != nil {
		t.Fatal(err)
	}
	r := mustGet(t, s2, "plan-a")
	if r.Serial != e2.Serial || r.Compiled.rules != 2 || r.Options.Enabled || r.Options.DefaultLogLevel != rulesets.LogDebug ||
		!r.Created.Equal(e1.Created) || !r.Modified.Equal(e2.Modified) || r.Source != rulesets.SourceUpload {
		t.Fatalf("after restart: %+v", r)
	}
	if _, ok := s2.Get("plan-b"); ok {
		t.Fatal("a deleted plan came back after restart")
	}
	// The serial keeps going up across the restart, past the deleted plan's.
	e3, err := s2.Put("plan-c", []byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	if e3.Serial <= e2.Serial+1 {
		t.Fatalf("serial after restart = %d, want > %d", e3.Serial, e2.Serial+1)
	}
}

func TestStoreReload(t *testing.T) {
	f := newFixture(t)
	f.write(t, "a.yaml", goodYAML)
	f.write(t, "b.yaml", goodYAML)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var changes []string
	cancel := s.Subscribe(func(c rulesets.Change[*compiled]) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case c.Entry == nil:
			changes = append(changes, "-"+c.Name)
		case c.Old == nil:
			changes = append(changes, "+"+c.Name)
		case c.Entry.Serial != c.Old.Serial:
			changes = append(changes, "~"+c.Name)
		default:
			changes = append(changes, "log "+c.Name)
		}
	})
	defer cancel()
	a1, b1 := mustGet(t, s, "a"), mustGet(t, s, "b")

	// a breaks, b is unchanged, c is new.
	f.write(t, "a.yaml", badYAML)
	f.write(t, "c.yaml", twoRulesYAML)
	err := s.Reload()
	var le rulesets.LoadError
	if !errors.As(err, &le) || len(le) != 1 || le[0].Name != "a" {
		t.Fatalf("Reload err = %v, want one LoadError for a", err)
	}
	if a := mustGet(t, s, "a"); a.Serial != a1.Serial || a.Compiled != a1.Compiled {
		t.Fatal("a broken file did not keep its previous version serving")
	} else if l := a.Logs[len(a.Logs)-1]; l.Level != rulesets.LogError || !strings.Contains(l.Message, "still serving") {
		t.Fatalf("a's last log = %+v", l)
	}
	if b := mustGet(t, s, "b"); b != b1 {
		t.Fatal("an unchanged file was recompiled")
	}

	// a is fixed, b removed.
	f.write(t, "a.yaml", twoRulesYAML)
	os.Remove(filepath.Join(f.dir, "b.yaml"))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if a := mustGet(t, s, "a"); a.Serial <= a1.Serial || a.Compiled.rules != 2 {
		t.Fatalf("fixed a: %+v", a)
	}
	if _, ok := s.Get("b"); ok {
		t.Fatal("a removed file is still served")
	}
	mu.Lock()
	got := strings.Join(changes, " ")
	mu.Unlock()
	if want := "log a +c ~a -b"; got != want {
		t.Fatalf("changes = %q, want %q", got, want)
	}
}

// TestStoreReloadRevertedFile puts a file back to the serving bytes after a
// failed reload: the ruleset must stop showing the failure (its newest log
// is what the status page reads) without being recompiled.
func TestStoreReloadRevertedFile(t *testing.T) {
	f := newFixture(t)
	f.write(t, "orders.yaml", goodYAML)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	o1 := mustGet(t, s, "orders")
	var changes []rulesets.Change[*compiled]
	defer s.Subscribe(func(c rulesets.Change[*compiled]) { changes = append(changes, c) })()

	f.write(t, "orders.yaml", goodYAML+"  - path: \"$.name\"\n    colour: red\n")
	if err := s.Reload(); err == nil {
		t.Fatal("Reload of a broken file: no error")
	}
	if l := mustGet(t, s, "orders").Logs; l[len(l)-1].Level != rulesets.LogError {
		t.Fatalf("after the failed reload, last log = %+v", l[len(l)-1])
	}

	f.write(t, "orders.yaml", goodYAML)
	f.clock = f.clock.Add(time.Minute)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	o := mustGet(t, s, "orders")
	if o.Serial != o1.Serial || o.Compiled != o1.Compiled || o.Modified != o1.Modified {
		t.Fatalf("the restored file was reloaded as a new version: serial %d (was %d)", o.Serial, o1.Serial)
	}
	last := o.Logs[len(o.Logs)-1]
	want := fmt.Sprintf("reloaded from orders.yaml: the file is back to the version serving (serial %d)", o1.Serial)
	if last.Level != rulesets.LogInfo || last.Message != want || !last.Time.Equal(f.clock) {
		t.Fatalf("last log = %+v, want info %q at %v", last, want, f.clock)
	}
	if len(changes) != 2 || changes[1].Entry != o || changes[1].Entry.Serial != changes[1].Old.Serial {
		t.Fatalf("changes = %+v, want the error log then the info log, both keeping the serial", changes)
	}

	// Once shown as fine, an unchanged file adds nothing more.
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if again := mustGet(t, s, "orders"); again != o || len(changes) != 2 {
		t.Fatal("a reload of an unchanged, healthy file published a change")
	}
}

// TestStoreFileWinsOverUpload: a file whose name an uploaded plan holds
// (uploaded while the file was briefly gone, say) takes the name over, on
// reload and at the next start, with a warning; the plan stays in the data
// dir, unserved. The files are the operator's: an upload must not keep the
// operator's next version out, nor stop the next start.
func TestStoreFileWinsOverUpload(t *testing.T) {
	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("orders", []byte(goodYAML)); err != nil {
		t.Fatal(err)
	}
	f.write(t, "orders.yaml", twoRulesYAML)
	check := func(t *testing.T, s *rulesets.Store[*compiled], what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		e := mustGet(t, s, "orders")
		if e.Source != rulesets.SourceFile || len(e.Ruleset.Rules) != 2 {
			t.Fatalf("after %s: source %s with %d rules, want the file's 2", what, e.Source, len(e.Ruleset.Rules))
		}
		if last := e.Logs[len(e.Logs)-1]; last.Level != rulesets.LogWarning || !strings.Contains(last.Message, "plan uploaded under it is not served") {
			t.Errorf("after %s: last log %+v, want a warning that the plan is not served", what, last)
		}
	}
	check(t, s, "reload", s.Reload())
	if _, err := os.Stat(filepath.Join(f.data, "plans", "orders.json")); err != nil {
		t.Errorf("the shadowed plan left the data dir: %v", err)
	}
	s2 := f.store(t)
	check(t, s2, "the next start", s2.Load())

	// The file gone, the plan serves again, as it would after a restart,
	// and can be deleted.
	if err := os.Remove(filepath.Join(f.dir, "orders.yaml")); err != nil {
		t.Fatal(err)
	}
	var served int64
	for _, st := range []*rulesets.Store[*compiled]{s, s2} {
		fileSerial := mustGet(t, st, "orders").Serial
		if err := st.Reload(); err != nil {
			t.Fatal(err)
		}
		e := mustGet(t, st, "orders")
		if e.Serial <= fileSerial {
			t.Errorf("file removed: serial %d, want more than the file's %d (every change takes the next)", e.Serial, fileSerial)
		}
		if e.Source != rulesets.SourceUpload || len(e.Ruleset.Rules) != 1 {
			t.Fatalf("file removed: source %s with %d rules, want the uploaded plan's 1", e.Source, len(e.Ruleset.Rules))
		}
		if last := e.Logs[len(e.Logs)-1]; last.Level != rulesets.LogWarning || !strings.Contains(last.Message, "serves again") {
			t.Errorf("file removed: last log %+v, want a warning that the plan serves again", last)
		}
		served = e.Serial
	}
	// Saved with that serial: a restart does not serve it with a lower one.
	if s4 := f.store(t); s4.Load() != nil || mustGet(t, s4, "orders").Serial < served {
		t.Errorf("after a restart the plan serves with serial %d, lower than the %d it served with", mustGet(t, s4, "orders").Serial, served)
	}
	if err := s.Delete("orders"); err != nil {
		t.Fatalf("deleting the plan once the file is gone: %v", err)
	}
	s3 := f.store(t)
	if err := s3.Load(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s3.Get("orders"); ok {
		t.Error("a deleted plan came back at the next start")
	}
}

func TestStoreDamagedPlanFile(t *testing.T) {
	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put("good", []byte(goodYAML)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.data, "plans", "broken.json"), []byte(`{"name":`), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := f.store(t)
	err := s2.Load()
	var le rulesets.LoadError
	if !errors.As(err, &le) || len(le) != 1 || le[0].Name != "broken" {
		t.Fatalf("Load err = %v", err)
	}
	mustGet(t, s2, "good")
	if _, err := os.Stat(filepath.Join(f.data, "plans", "broken.json")); err != nil {
		t.Fatal("a damaged plan file was removed; it must stay for the operator")
	}
}

func TestStoreConcurrentReadersAndWriters(t *testing.T) {
	f := newFixture(t)
	s := f.store(t)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				name := fmt.Sprintf("p%d", (w+i)%3)
				if _, err := s.Put(name, []byte(goodYAML)); err != nil {
					t.Error(err)
					return
				}
				if e, ok := s.Get(name); ok && e.Compiled == nil {
					t.Error("published an entry without its compiled form")
				}
				s.List()
			}
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, e := range s.List() {
		if seen[e.Serial] {
			t.Fatalf("serial %d used twice", e.Serial)
		}
		seen[e.Serial] = true
	}
}

func TestNormalizeOptions(t *testing.T) {
	tests := []struct {
		in      rulesets.Options
		want    rulesets.Options
		wantErr bool
	}{
		{in: rulesets.Options{}, want: rulesets.Options{DefaultLogLevel: "warning", DefaultEncoding: "json", DefaultCharset: "utf-8"}},
		{in: rulesets.Options{Enabled: true, DefaultLogLevel: "WARN", DefaultEncoding: "JSON", DefaultCharset: "UTF8"}, want: rulesets.Options{Enabled: true, DefaultLogLevel: "warning", DefaultEncoding: "json", DefaultCharset: "utf-8"}},
		{in: rulesets.Options{DefaultLogLevel: "CRITICAL"}, want: rulesets.Options{DefaultLogLevel: "critical", DefaultEncoding: "json", DefaultCharset: "utf-8"}},
		{in: rulesets.Options{DefaultLogLevel: "fatal"}, wantErr: true},
		{in: rulesets.Options{DefaultEncoding: "xml"}, wantErr: true},
		{in: rulesets.Options{DefaultCharset: "latin1"}, wantErr: true},
	}
	for _, test := range tests {
		t.Run(fmt.Sprintf("%+v", test.in), func(t *testing.T) {
			got, err := test.in.Normalize()
			if (err != nil) != test.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !test.wantErr && got != test.want {
				t.Fatalf("got %+v, want %+v", got, test.want)
			}
		})
	}
}

// TestLogLevelRank: critical, which DataMasque's clients offer, ranks
// above error, so a request at critical gets no debug log.
func TestLogLevelRank(t *testing.T) {
	order := []string{rulesets.LogDebug, rulesets.LogInfo, rulesets.LogWarning, rulesets.LogError, rulesets.LogCritical}
	for i := 1; i < len(order); i++ {
		if rulesets.LogLevelRank(order[i-1]) >= rulesets.LogLevelRank(order[i]) {
			t.Errorf("%s does not rank below %s", order[i-1], order[i])
		}
	}
	for _, in := range []string{"CRITICAL", "Critical", "critical"} {
		if got, ok := rulesets.NormalizeLogLevel(in); !ok || got != rulesets.LogCritical {
			t.Errorf("NormalizeLogLevel(%q) = %q, %v", in, got, ok)
		}
	}
}

// A store over a rulesets dir, with an upload and a subscriber that sees
// every change (as the processor swaps a route's compiled ruleset).
func ExampleStore() {
	dir, _ := os.MkdirTemp("", "rulesets")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "orders.yaml"), []byte(goodYAML), 0o600)

	store := rulesets.NewStore(rulesets.StoreConfig{Dir: dir}, func(rs *rulesets.Ruleset) (int, error) {
		return len(rs.Rules), nil // the engine's Compile in real use
	})
	if err := store.Load(); err != nil {
		panic(err)
	}
	store.Subscribe(func(c rulesets.Change[int]) {
		fmt.Printf("changed: %s serial %d, %d rules\n", c.Name, c.Entry.Serial, c.Entry.Compiled)
	})
	if _, err := store.Put("events", []byte(twoRulesYAML)); err != nil {
		panic(err)
	}
	for _, e := range store.List() {
		fmt.Println(e.Name, e.Source, e.Serial)
	}
	// Output:
	// changed: events serial 2, 2 rules
	// events upload 2
	// orders file 1
}
