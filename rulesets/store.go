package rulesets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source says where a stored ruleset came from.
type Source string

const (
	// SourceFile is a *.yaml file of the rulesets dir. It is read-only
	// over the HTTP API: edit the file and reload instead.
	SourceFile Source = "file"
	// SourceUpload is a ruleset plan uploaded over the HTTP API and
	// persisted in the data dir.
	SourceUpload Source = "upload"
)

// Log levels of plan logs and mask requests (DataMasque's log_level values).
const (
	LogDebug   = "debug"
	LogInfo    = "info"
	LogWarning = "warning"
	LogError   = "error"
	// LogCritical is accepted as a request's or plan's level because
	// DataMasque's clients offer it (the dm CLI's --log-level CRITICAL);
	// maskstream writes no log at this level.
	LogCritical = "critical"
)

// NormalizeLogLevel returns the canonical form of a log level (debug, info,
// warning, error, critical; "warn" and any letter case accepted), and false
// for anything else.
func NormalizeLogLevel(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return LogDebug, true
	case "info":
		return LogInfo, true
	case "warning", "warn":
		return LogWarning, true
	case "error":
		return LogError, true
	case "critical":
		return LogCritical, true
	}
	return "", false
}

// LogLevelRank orders log levels: debug < info < warning < error <
// critical. An unknown level ranks as error.
func LogLevelRank(level string) int {
	switch level {
	case LogDebug:
		return 0
	case LogInfo:
		return 1
	case LogWarning:
		return 2
	case LogCritical:
		return 4
	}
	return 3
}

// Log is one message about a stored ruleset (a reload that failed, an
// update), shown with the plan. It never quotes a record value.
type Log struct {
	Level   string    `json:"log_level"`
	Time    time.Time `json:"timestamp"`
	Message string    `json:"message"`
}

// Options are a ruleset plan's defaults (DataMasque's plan options).
type Options struct {
	// Enabled false makes mask requests to the plan fail until it is
	// enabled again; routes keep using it.
	Enabled bool `json:"enabled"`
	// DefaultLogLevel is the log_level of a mask request that gives none.
	DefaultLogLevel string `json:"default_log_level"`
	// DefaultEncoding and DefaultCharset are accepted for DataMasque
	// compatibility; only json and utf-8 exist.
	DefaultEncoding string `json:"default_encoding"`
	DefaultCharset  string `json:"default_charset"`
}

// DefaultOptions are the options of a ruleset file and of a plan uploaded
// without options.
func DefaultOptions() Options {
	return Options{Enabled: true, DefaultLogLevel: LogWarning, DefaultEncoding: "json", DefaultCharset: "utf-8"}
}

// Normalize fills empty fields with their defaults and checks the rest,
// returning the canonical options.
func (o Options) Normalize() (Options, error) {
	d := DefaultOptions()
	if o.DefaultLogLevel == "" {
		o.DefaultLogLevel = d.DefaultLogLevel
	}
	lvl, ok := NormalizeLogLevel(o.DefaultLogLevel)
	if !ok {
		return o, fmt.Errorf("%w: default_log_level %q is not a log level; use debug, info, warning, error or critical", ErrOptions, o.DefaultLogLevel)
	}
	o.DefaultLogLevel = lvl
	if o.DefaultEncoding == "" {
		o.DefaultEncoding = d.DefaultEncoding
	}
	if !strings.EqualFold(o.DefaultEncoding, "json") {
		return o, fmt.Errorf("%w: default_encoding %q is not supported; the only encoding is json", ErrOptions, o.DefaultEncoding)
	}
	o.DefaultEncoding = "json"
	if o.DefaultCharset == "" {
		o.DefaultCharset = d.DefaultCharset
	}
	if c := strings.ToLower(o.DefaultCharset); c != "utf-8" && c != "utf8" {
		return o, fmt.Errorf("%w: default_charset %q is not supported; the only charset is utf-8", ErrOptions, o.DefaultCharset)
	}
	o.DefaultCharset = "utf-8"
	return o, nil
}

// Entry is one stored ruleset with its compiled form. An Entry is never
// modified once the store has published it: a change publishes a new one.
type Entry[T any] struct {
	Name     string
	Ruleset  *Ruleset
	Compiled T
	// Serial goes up on every change of any ruleset of the store and is
	// never reused, so (Name, Serial) names one version for good.
	Serial   int64
	Created  time.Time
	Modified time.Time
	Source   Source
	// Path is the ruleset file (SourceFile) or the persisted plan
	// (SourceUpload; empty when the store has no data dir).
	Path    string
	Options Options
	// Logs are the latest messages about this ruleset, oldest first.
	Logs []Log

	// deps are the user seed files the compiled form was built from, as
	// they were then: a reload recompiles when one of them changed.
	deps []fileDep
}

// Change is one published change, given to Subscribe's callbacks.
type Change[T any] struct {
	Name string
	// Entry is the new version, nil when the ruleset was removed.
	Entry *Entry[T]
	// Old is the version it replaced, nil when the ruleset is new.
	Old *Entry[T]
}

// ----------------------------------------------------------------- ERRORS

var (
	// ErrNotFound is returned by Update, Delete and the HTTP API for a
	// name the store does not hold.
	ErrNotFound = errors.New("rulesets: no ruleset by that name")
	// ErrExists is returned by Update in CreateOnly mode when the name is
	// taken.
	ErrExists = errors.New("rulesets: a ruleset by that name already exists; pick another name or replace it")
	// ErrReadOnly is returned by Update and Delete for a ruleset that
	// comes from the rulesets dir: edit or remove its file, then reload.
	ErrReadOnly = errors.New("rulesets: the ruleset comes from a file in the rulesets dir and is read-only over the API; edit the file and reload (SIGHUP) instead")
	// ErrBadName is returned for a name that is not 1-128 letters,
	// digits, '.', '_' or '-' starting with a letter or digit.
	ErrBadName = errors.New("rulesets: a ruleset name is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit")
	// ErrOptions wraps the error of plan options that are not valid
	// (Options.Normalize, Update).
	ErrOptions = errors.New("rulesets: invalid plan options")
)

// FileError is one ruleset file or persisted plan that could not be loaded.
// Err is usually an ErrorList with every problem and its line:col.
type FileError struct {
	Name string
	Path string
	Err  error
	// Unserved is set when nothing serves Name any more: its ruleset file
	// is gone, and the plan uploaded under the name, which would serve in
	// its place, does not load (Path is the plan's). Every other failure
	// leaves the previous version serving, and readers of the error (the
	// watcher's log) must not say so here.
	Unserved bool
}

func (e *FileError) Error() string {
	if e.Unserved {
		return fmt.Sprintf("rulesets: ruleset %s: its file is gone and the plan uploaded under its name does not load, so nothing serves it (upload the plan again, or delete %s): %v", e.Name, e.Path, e.Err)
	}
	return fmt.Sprintf("rulesets: loading %s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// LoadError is every file Load or Reload could not load. The files that
// loaded are in the store; a file that failed keeps its previous version.
type LoadError []*FileError

func (l LoadError) Error() string { return joinLines(l) }

func (l LoadError) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// ------------------------------------------------------------------ STORE

// StoreConfig says where a Store keeps its rulesets.
type StoreConfig struct {
	// Dir is the rulesets dir: every *.yaml (or *.yml) file in it is a
	// ruleset named after the file. Empty means no files.
	Dir string
	// DataDir holds uploaded plans (DataDir/plans/<name>.json) and the
	// serial counter. Empty keeps uploads in memory only: they are lost
	// on restart. The run secret is never written there.
	DataDir string
	// Now is the clock for Created/Modified. This overrides the default
	// of time.Now.
	Now func() time.Time
	// MaxLogs is how many logs an entry keeps. This overrides the
	// default of 20.
	MaxLogs int
	// Settle is how long ReloadSettled (the watcher's reloads) waits
	// after a file of the rulesets dir, or a seed file, was last written
	// before it loads it: a file written in place passes through
	// versions that are shorter but valid, and one of them must not be
	// published. Measured against the file's modification time with Now
	// (or, when that time is in the future, from when the store first
	// saw the file so). Load waits for files the same way at start. This
	// overrides the default of 1s.
	Settle time.Duration
	// Sleep is how Load waits for files to settle. This overrides the
	// default of time.Sleep (a test moves its Now instead).
	Sleep func(time.Duration)
}

// DefaultSettle is StoreConfig.Settle's default.
const DefaultSettle = time.Second

// CompileFunc turns a parsed ruleset into its compiled form (the engine's
// Masker). The store cannot import the engine, so the caller provides it.
type CompileFunc[T any] func(*Ruleset) (T, error)

// Store holds the named rulesets of a process: files of the rulesets dir
// and plans uploaded over the API, each with its compiled form.
//
// Reads (Get, List) are lock-free: they load an immutable snapshot.
// Writers (Load, Reload, Update, Delete) are serialized, and each change is
// published to subscribers in order. A Store is safe for concurrent use.
type Store[T any] struct {
	cfg     StoreConfig
	compile CompileFunc[T]

	snap   atomic.Pointer[map[string]*Entry[T]]
	loaded atomic.Bool

	// mu serializes writers, disk writes and notifications, so
	// subscribers see changes in the order they were published.
	mu      sync.Mutex
	serial  int64
	subs    map[int]func(Change[T])
	nextSub int
	// waiting holds the files ReloadSettled is waiting on, with when it
	// first saw their current version. Guarded by mu.
	waiting map[string]firstSeen
}

// NewStore returns an empty store; Load fills it. compile is called for
// every ruleset that is loaded or uploaded.
func NewStore[T any](cfg StoreConfig, compile CompileFunc[T]) *Store[T] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxLogs <= 0 {
		cfg.MaxLogs = 20
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	s := &Store[T]{cfg: cfg, compile: compile, subs: map[int]func(Change[T]){}, waiting: map[string]firstSeen{}}
	empty := map[string]*Entry[T]{}
	s.snap.Store(&empty)
	return s
}

// Load reads the persisted plans of the data dir, then the rulesets dir.
// Call it once, before serving. It returns a LoadError listing the files
// that failed (the others are loaded) or an error when a folder cannot be
// read or created.
//
// Like ReloadSettled, it loads a file (or seed file) only once it has been
// left alone for StoreConfig.Settle: a file half-written as the process
// starts reads as a shorter ruleset that is still valid, and serving it
// would pass the missing rules' fields unmasked. Unlike ReloadSettled, it
// waits for such files (sleeps), as nothing serves yet; files written
// longer ago load at once, so a normal start does not wait. A file that is
// still not left alone after maxStartSettles settle times is an error (it
// is written to on and on, or in place by something slow). A file changed
// after Load returns waits for the watcher's reload (processor.Watcher
// reloads once when it starts).
func (s *Store[T]) Load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs LoadError
	if s.cfg.DataDir != "" {
		if err := os.MkdirAll(s.plansDir(), 0o700); err != nil {
			return fmt.Errorf("rulesets: creating the data dir: %w; check data_dir and its permissions", err)
		}
		serial, err := readSerial(s.cfg.DataDir)
		if err != nil {
			return err
		}
		s.serial = max(s.serial, serial)
		errs = append(errs, s.loadUploads()...)
	}
	ferrs, err := s.loadDirSettled()
	if err != nil {
		return err
	}
	errs = append(errs, ferrs...)
	if err := s.saveSerial(); err != nil {
		return err
	}
	s.loaded.Store(true)
	return errs.err()
}

// Loaded reports whether Load has completed (for readiness checks).
func (s *Store[T]) Loaded() bool { return s.loaded.Load() }

// Reload re-reads the rulesets dir: new files are added, changed files
// recompiled, removed files dropped. A file that fails keeps its previous
// version serving and gets an error log; the LoadError lists such files.
// Files whose bytes did not change, and whose seed files did not change,
// are not recompiled and keep their serial; one put back to the serving
// bytes after a failed reload gets an info log saying so, as its newest
// log is how it shows (the status page).
//
// Reload loads files as they are now: it waits for nothing, but it does
// not publish a file (or seed file) that changed while it was read, and
// reads it again. A process that reloads on its own schedule should use
// ReloadSettled.
func (s *Store[T]) Reload() error {
	_, err := s.reload(0)
	return err
}

// ReloadResult is what ReloadSettled did.
type ReloadResult struct {
	// Changed counts the rulesets added, recompiled or removed.
	Changed int
	// Waiting lists the files (ruleset or seed files, or ruleset files
	// that disappeared) left for a later call because they changed less
	// than StoreConfig.Settle ago: the version serving stays until then.
	Waiting []string
	// RetryIn is when the first waiting file will have settled, if left
	// alone; 0 when none waits.
	RetryIn time.Duration
	// Restored names the rulesets whose file, after a failed reload, was
	// put back to the version serving: nothing is recompiled, and the
	// failure is over.
	Restored []string
}

// ReloadSettled is Reload for callers that reload on their own (the
// watcher, on a file change or SIGHUP). It loads only files left alone for
// StoreConfig.Settle: a file written in place, or half-copied, reads as a
// shorter ruleset that is still valid, and publishing it would leave the
// missing rules' fields unmasked. Files changed more recently are left as
// they are, not reported as errors, and listed in the result: call again
// after RetryIn. A ruleset file that disappears is dropped only once it
// has stayed away as long (an editor's save can remove it for a moment).
func (s *Store[T]) ReloadSettled() (ReloadResult, error) {
	return s.reload(s.cfg.Settle)
}

func (s *Store[T]) reload(settle time.Duration) (ReloadResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, errs, err := s.reloadDir(newRun(settle, s.cfg.Now()))
	if err != nil {
		return res, err
	}
	if err := s.saveSerial(); err != nil {
		return res, err
	}
	return res, errs.err()
}

// Get returns the named ruleset. It does not lock.
func (s *Store[T]) Get(name string) (*Entry[T], bool) {
	e, ok := (*s.snap.Load())[name]
	return e, ok
}

// List returns every ruleset, sorted by name. The slice is the caller's.
func (s *Store[T]) List() []*Entry[T] {
	m := *s.snap.Load()
	out := make([]*Entry[T], 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Entry[T]) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Subscribe calls fn after every published change, in order, from the
// goroutine that made the change. A change whose Entry has the Old entry's
// Serial only added a log (a failed reload: the old version keeps
// serving), so a subscriber that swaps compiled rulesets may skip it. fn must return quickly and must not call
// the store's writers (Update, Delete, Reload): it may call Get and List.
// The returned func unsubscribes.
func (s *Store[T]) Subscribe(fn func(Change[T])) (cancel func()) {
	s.mu.Lock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
	}
}

// Mode says whether Update may create, replace, or both.
type Mode int

const (
	// Upsert creates the plan or replaces it.
	Upsert Mode = iota
	// CreateOnly fails with ErrExists when the name is taken.
	CreateOnly
	// ReplaceOnly fails with ErrNotFound when the name is free.
	ReplaceOnly
)

// Update is one change to an uploaded plan.
type Update struct {
	// Source is the new ruleset YAML; nil keeps the current one
	// (required for a new plan).
	Source []byte
	// Options replaces the plan's options; nil keeps them (or the
	// defaults for a new plan). Empty fields take their defaults.
	Options *Options
	Mode    Mode
}

// Put creates or replaces an uploaded plan from YAML with default options.
// It is Update(name, Update{Source: src}).
func (s *Store[T]) Put(name string, src []byte) (*Entry[T], error) {
	return s.Update(name, Update{Source: src})
}

// Update validates, stores and publishes a change to an uploaded plan. A
// ruleset that does not parse or compile is returned as an ErrorList (every
// problem, with line:col) and nothing changes. A plan from the rulesets dir
// is read-only (ErrReadOnly).
func (s *Store[T]) Update(name string, u Update) (*Entry[T], error) {
	if !ValidName(name) {
		return nil, ErrBadName
	}
	var opts *Options
	if u.Options != nil {
		o, err := u.Options.Normalize()
		if err != nil {
			return nil, err
		}
		opts = &o
	}
	// Compile before taking the lock: it may read seed files and take a
	// while, and it does not depend on the store's state.
	var (
		rs       *Ruleset
		compiled T
	)
	if u.Source != nil {
		var err error
		if rs, compiled, err = s.build(name, "", u.Source); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	old, exists := s.Get(name)
	switch {
	case exists && old.Source == SourceFile:
		return nil, fmt.Errorf("%w (file %s)", ErrReadOnly, old.Path)
	case exists && u.Mode == CreateOnly:
		return nil, ErrExists
	case !exists && u.Mode == ReplaceOnly:
		return nil, ErrNotFound
	case !exists && rs == nil:
		return nil, errors.New("rulesets: a new ruleset plan needs its ruleset YAML")
	}
	now := s.cfg.Now().UTC()
	e := &Entry[T]{Name: name, Source: SourceUpload, Created: now, Modified: now, Options: DefaultOptions()}
	msg := "ruleset plan created"
	if exists {
		*e = *old
		e.Modified = now
		msg = "ruleset plan updated"
	}
	if rs != nil {
		e.Ruleset, e.Compiled = rs, compiled
		msg += fmt.Sprintf(": ruleset valid, %d rules", len(rs.Rules))
	} else {
		msg += ": options changed"
	}
	if opts != nil {
		e.Options = *opts
	}
	e.Serial = s.nextSerial()
	e.Logs = s.appendLog(e.Logs, LogInfo, now, msg)
	if s.cfg.DataDir != "" {
		e.Path = s.planPath(name)
		if err := s.savePlan(e); err != nil {
			return nil, err
		}
		if err := s.saveSerial(); err != nil {
			return nil, err
		}
	}
	s.publish(name, e, old)
	return e, nil
}

// Delete removes an uploaded plan and its persisted file.
func (s *Store[T]) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.Get(name)
	if !ok {
		return ErrNotFound
	}
	if old.Source == SourceFile {
		return fmt.Errorf("%w (file %s)", ErrReadOnly, old.Path)
	}
	if old.Path != "" {
		if err := os.Remove(old.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rulesets: deleting plan %s: %w", name, err)
		}
		syncDir(filepath.Dir(old.Path))
	}
	s.publish(name, nil, old)
	return nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidName reports whether name may name a ruleset: 1 to 128 letters,
// digits, '.', '_' or '-', starting with a letter or digit. Such a name is
// safe as a file name and in a URL path.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// build parses and compiles one ruleset. file is "" for an upload. Every
// problem comes back as an ErrorList, so callers tell a bad ruleset from a
// failing disk.
func (s *Store[T]) build(name, file string, src []byte) (*Ruleset, T, error) {
	var zero T
	rs, err := Parse(name, file, src)
	if err != nil {
		return nil, zero, ErrorList(Errors(err))
	}
	if rs.Source == nil {
		rs.Source = src
	}
	if file != "" && rs.Dir == "" {
		rs.Dir = filepath.Dir(file)
	}
	c, err := s.compile(rs)
	if err != nil {
		return nil, zero, ErrorList(Errors(err))
	}
	return rs, c, nil
}

// publish swaps in a snapshot with name set to e (removed when nil) and
// tells the subscribers. Callers hold mu.
func (s *Store[T]) publish(name string, e, old *Entry[T]) {
	cur := *s.snap.Load()
	next := make(map[string]*Entry[T], len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	if e == nil {
		delete(next, name)
	} else {
		next[name] = e
	}
	s.snap.Store(&next)
	for _, fn := range s.subs {
		fn(Change[T]{Name: name, Entry: e, Old: old})
	}
}

func (s *Store[T]) nextSerial() int64 {
	s.serial++
	return s.serial
}

func (s *Store[T]) appendLog(logs []Log, level string, at time.Time, msg string) []Log {
	out := make([]Log, 0, min(len(logs)+1, s.cfg.MaxLogs))
	if drop := len(logs) + 1 - s.cfg.MaxLogs; drop > 0 {
		logs = logs[drop:]
	}
	out = append(out, logs...)
	return append(out, Log{Level: level, Time: at, Message: msg})
}
