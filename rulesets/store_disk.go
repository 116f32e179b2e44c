package rulesets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// planFile is an uploaded plan as persisted in DataDir/plans/<name>.json.
// It holds the ruleset text and its metadata; never a secret.
type planFile struct {
	Name     string    `json:"name"`
	Serial   int64     `json:"serial"`
	Created  time.Time `json:"created_time"`
	Modified time.Time `json:"modified_time"`
	Options  Options   `json:"options"`
	Ruleset  string    `json:"ruleset_yaml"`
	Logs     []Log     `json:"logs"`
}

func (s *Store[T]) plansDir() string { return filepath.Join(s.cfg.DataDir, "plans") }

func (s *Store[T]) planPath(name string) string {
	return filepath.Join(s.plansDir(), name+".json")
}

// loadUploads reads every persisted plan. A plan that no longer compiles
// (an engine upgrade that rejects it) stays on disk, unserved, and is
// reported, so it can be fixed by uploading it again. Callers hold mu.
func (s *Store[T]) loadUploads() LoadError {
	ents, err := os.ReadDir(s.plansDir())
	if err != nil {
		return LoadError{{Path: s.plansDir(), Err: err}}
	}
	var errs LoadError
	for _, de := range ents {
		fn := de.Name()
		if de.IsDir() || !strings.HasSuffix(fn, ".json") || strings.HasPrefix(fn, ".") {
			continue
		}
		path := filepath.Join(s.plansDir(), fn)
		e, err := s.loadPlan(path, strings.TrimSuffix(fn, ".json"))
		if err != nil {
			errs = append(errs, &FileError{Name: strings.TrimSuffix(fn, ".json"), Path: path, Err: err})
			continue
		}
		s.serial = max(s.serial, e.Serial)
		s.publish(e.Name, e, nil)
	}
	return errs
}

func (s *Store[T]) loadPlan(path, name string) (*Entry[T], error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pf planFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("the plan file is damaged (%w); delete it and upload the plan again", err)
	}
	if pf.Name != name || !ValidName(name) {
		return nil, fmt.Errorf("the plan file names plan %q; the file must be named <plan>.json", pf.Name)
	}
	opts, err := pf.Options.Normalize()
	if err != nil {
		return nil, err
	}
	rs, c, err := s.build(name, "", []byte(pf.Ruleset))
	if err != nil {
		return nil, err
	}
	return &Entry[T]{
		Name: name, Ruleset: rs, Compiled: c, Serial: pf.Serial,
		Created: pf.Created, Modified: pf.Modified, Source: SourceUpload,
		Path: path, Options: opts, Logs: pf.Logs,
	}, nil
}

// savePlan persists an uploaded plan atomically.
func (s *Store[T]) savePlan(e *Entry[T]) error {
	b, err := json.MarshalIndent(planFile{
		Name: e.Name, Serial: e.Serial, Created: e.Created, Modified: e.Modified,
		Options: e.Options, Ruleset: string(e.Ruleset.Source), Logs: e.Logs,
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(e.Path, append(b, '\n')); err != nil {
		return fmt.Errorf("rulesets: saving plan %s: %w; check data_dir's free space and permissions", e.Name, err)
	}
	return nil
}

// maxStartSettles bounds Load's wait for files to settle, in settle times:
// long enough for a file written once (one settle time) and for a slow
// copy, short enough that a file written to on and on stops the start with
// an error saying so rather than holding it forever.
const maxStartSettles = 5

// loadDirSettled is Load's pass over the rulesets dir: ReloadSettled's,
// again after each file waiting would have settled, until none waits or
// maxStartSettles settle times have passed. Then a file still waiting
// with no version of it serving is an error. Callers hold mu (nothing
// serves yet, so nothing waits for it).
func (s *Store[T]) loadDirSettled() (LoadError, error) {
	settle := s.cfg.Settle
	bound := maxStartSettles * settle
	start := s.cfg.Now()
	var slept time.Duration
	for {
		// The clock never reads earlier than what was slept: one stepped
		// back during the wait (NTP), or one that stands still, must not
		// keep a file whose modification time is ahead of it, which goes
		// by when it was first seen, from ever settling.
		now := s.cfg.Now()
		if floor := start.Add(slept); now.Before(floor) {
			now = floor
		}
		run := newRun(settle, now)
		run.last = now.Sub(start) >= bound
		res, errs, err := s.reloadDir(run)
		if err != nil || len(res.Waiting) == 0 || run.last {
			return errs, err
		}
		d := min(res.RetryIn, bound-now.Sub(start))
		s.cfg.Sleep(d)
		slept += d
	}
}

// reloadDir brings the file-backed entries in line with the rulesets dir.
// A run with settle 0 loads every file as it is (Reload); see
// ReloadSettled and Load for the rest. Callers hold mu.
func (s *Store[T]) reloadDir(run *reloadRun) (ReloadResult, LoadError, error) {
	defer s.forgetUnseen(run)
	if s.cfg.Dir == "" {
		return run.res, nil, nil
	}
	ents, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return run.res, nil, fmt.Errorf("rulesets: reading the rulesets dir: %w; check rulesets_dir", err)
	}
	var errs LoadError
	seen := map[string]bool{}
	for _, de := range ents {
		fn := de.Name()
		if de.IsDir() || strings.HasPrefix(fn, ".") || !(strings.HasSuffix(fn, ".yaml") || strings.HasSuffix(fn, ".yml")) {
			continue
		}
		name := NameOf(fn)
		path := filepath.Join(s.cfg.Dir, fn)
		if seen[name] {
			errs = append(errs, &FileError{Name: name, Path: path, Err: fmt.Errorf("another file of the rulesets dir already defines ruleset %q (both .yaml and .yml?); remove one", name)})
			continue
		}
		seen[name] = true
		noted := len(run.res.Waiting)
		ferr := s.reloadFile(run, name, path)
		if ferr == nil && run.last && len(run.res.Waiting) > noted && !s.servesFile(name, path) {
			ferr = &FileError{Name: name, Path: path, Err: fmt.Errorf("the file or one of its seed files was still changing %v after the start began waiting for it to be left alone for %v; write ruleset and seed files atomically (a temp file renamed into place)", maxStartSettles*run.settle, run.settle)}
		}
		if ferr != nil {
			errs = append(errs, ferr)
		}
	}
	for _, e := range s.List() {
		if e.Source == SourceFile && !seen[e.Name] && s.settled(run, e.Path, fileStamp{missing: true}) {
			plan, err := s.shadowedPlan(e)
			if err != nil {
				errs = append(errs, err)
			}
			s.publish(e.Name, plan, e)
			run.res.Changed++
		}
	}
	slices.Sort(run.res.Waiting)
	run.res.Waiting = slices.Compact(run.res.Waiting)
	return run.res, errs, nil
}

// shadowedPlan is the plan uploaded under the name of gone, a ruleset file
// that is gone, or nil when there is none: the file had taken the name
// over (publishFile), and without it the plan serves again, as it would
// after a restart (Load reads the plans first). Routes mask with files
// only, so it serves the HTTP endpoint alone. A plan that no longer loads
// is reported and not served, as at start. Callers hold mu.
func (s *Store[T]) shadowedPlan(gone *Entry[T]) (*Entry[T], *FileError) {
	if s.cfg.DataDir == "" {
		return nil, nil
	}
	path := s.planPath(gone.Name)
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	e, err := s.loadPlan(path, gone.Name)
	if err != nil {
		return nil, &FileError{Name: gone.Name, Path: path, Err: err, Unserved: true}
	}
	// A change takes the next serial, as every change does: clients and
	// the status page watch for a higher one.
	s.serial = max(s.serial, e.Serial)
	e.Serial = s.nextSerial()
	e.Logs = s.appendLog(e.Logs, LogWarning, s.cfg.Now().UTC(), fmt.Sprintf("the file %s that held this name is gone, so the plan uploaded under it serves again (the HTTP endpoint only: routes mask with ruleset files); delete the plan if it is no longer wanted", filepath.Base(gone.Path)))
	// Saved with its new serial, so a restart does not serve it with a
	// lower one than it served with.
	if err := s.savePlan(e); err != nil {
		e.Logs = s.appendLog(e.Logs, LogWarning, s.cfg.Now().UTC(), "its new serial could not be saved, so a restart serves it with its old one: "+err.Error())
	}
	return e, nil
}

// reloadRun is the state of one reloadDir.
type reloadRun struct {
	settle time.Duration
	now    time.Time
	res    ReloadResult
	// looked holds the paths settled was asked about.
	looked map[string]bool
	// last marks Load's last pass: a file still waiting is an error.
	last bool
}

func newRun(settle time.Duration, now time.Time) *reloadRun {
	return &reloadRun{settle: settle, now: now, looked: map[string]bool{}}
}

// servesFile reports whether the ruleset file at path serves name (a
// version of it loaded earlier). Callers hold mu.
func (s *Store[T]) servesFile(name, path string) bool {
	e, ok := s.Get(name)
	return ok && e.Source == SourceFile && e.Path == path
}

// maxReads is how many times Reload reads a file that keeps changing
// while read before it reports it.
const maxReads = 5

// reloadFile loads one ruleset file, unless its bytes and seed files are
// what is already serving. On failure the previous version keeps serving
// with an error log; a file put back to the serving bytes after that gets
// an info log. A file or seed file that changed while read, or (settling)
// too recently, is not published: settling, it waits for a later run;
// otherwise it is read again.
func (s *Store[T]) reloadFile(run *reloadRun, name, path string) *FileError {
	old, exists := s.Get(name)
	fail := func(err error) *FileError {
		if exists && old.Source == SourceFile {
			msg := fmt.Sprintf("reload failed, still serving serial %d: %v", old.Serial, err)
			// The same failure found again (the watcher looks again while
			// any other file waits to settle) is not logged again: twenty
			// copies would push the ruleset's history out of its logs.
			if !lastLogIs(old.Logs, LogError, msg) {
				e := *old
				e.Logs = s.appendLog(old.Logs, LogError, s.cfg.Now().UTC(), msg)
				s.publish(name, &e, old)
			}
		}
		return &FileError{Name: name, Path: path, Err: err}
	}
	if !ValidName(name) {
		return fail(ErrBadName)
	}
	// A file wins over a plan uploaded under its name: the files are the
	// operator's, and an upload made while a file was briefly gone (an
	// editor's save) must not keep the operator's next version out, nor
	// stop the next start. The plan stays in the data dir, unserved.
	shadows := exists && old.Source != SourceFile
	for reads := 1; ; reads++ {
		noted := len(run.res.Waiting)
		src, st, stable, err := readStable(path)
		if errors.Is(err, fs.ErrNotExist) && run.settle > 0 {
			// Removed since the dir was listed: an editor's save in
			// progress, or a removal the next run sees.
			run.wait(path, run.settle)
			return nil
		}
		if err != nil {
			return fail(err)
		}
		if stable {
			if exists && old.Path == path && bytes.Equal(old.Ruleset.Source, src) && !depsChanged(old.deps) {
				s.restored(run, old, path)
				return nil
			}
			if !s.settled(run, path, st) {
				return nil
			}
			rs, c, deps, ok, err := s.buildFile(run, name, path, src)
			// Looked at again after the compile, which takes longer
			// than the read: a write that began during the read and
			// had not shown yet shows now.
			ok = ok && statStamp(path) == st
			if ok && err != nil {
				return fail(err)
			}
			if ok {
				s.publishFile(name, path, old, exists, shadows, rs, c, deps)
				run.res.Changed++
				return nil
			}
		}
		// The file or a seed file changed under us, or a seed file has
		// not settled (and is noted as waiting).
		if run.settle > 0 {
			if len(run.res.Waiting) == noted {
				run.wait(path, run.settle)
			}
			return nil
		}
		if reads == maxReads {
			return fail(errors.New("the file or one of its seed files kept changing while it was read; write ruleset and seed files atomically (a temp file renamed over the old one)"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastLogIs reports whether the newest log has this level and message.
func lastLogIs(logs []Log, level, msg string) bool {
	n := len(logs)
	return n > 0 && logs[n-1].Level == level && logs[n-1].Message == msg
}

// restored adds an info log to a ruleset whose file was put back to the
// serving bytes after a failed reload: without a newer log the ruleset
// would go on showing that failure (the status page reads the last log)
// though nothing is wrong any more. The serial stays: nothing was
// recompiled.
func (s *Store[T]) restored(run *reloadRun, old *Entry[T], path string) {
	if n := len(old.Logs); n == 0 || old.Logs[n-1].Level != LogError {
		return
	}
	run.res.Restored = append(run.res.Restored, old.Name)
	e := *old
	e.Logs = s.appendLog(old.Logs, LogInfo, s.cfg.Now().UTC(),
		fmt.Sprintf("reloaded from %s: the file is back to the version serving (serial %d)", filepath.Base(path), old.Serial))
	s.publish(old.Name, &e, old)
}

// buildFile parses and compiles a ruleset file's bytes, noting the seed
// files it names before and after the compile. ok is false when one of
// them changed during the compile (it may have been read half-written) or,
// settling, changed too recently; err is then nil.
func (s *Store[T]) buildFile(run *reloadRun, name, path string, src []byte) (rs *Ruleset, c T, deps []fileDep, ok bool, err error) {
	rs, err = Parse(name, path, src)
	if err != nil {
		return nil, c, nil, true, ErrorList(Errors(err))
	}
	if rs.Source == nil {
		rs.Source = src
	}
	if rs.Dir == "" {
		rs.Dir = filepath.Dir(path)
	}
	seeds := userSeedPaths(rs)
	deps = make([]fileDep, len(seeds))
	for i, p := range seeds {
		deps[i] = fileDep{path: p, stamp: statStamp(p)}
		if !s.settled(run, p, deps[i].stamp) {
			return nil, c, nil, false, nil
		}
	}
	c, err = s.compile(rs)
	if depsChanged(deps) {
		return nil, c, nil, false, nil
	}
	if err != nil {
		return nil, c, nil, true, ErrorList(Errors(err))
	}
	return rs, c, deps, true, nil
}

// publishFile publishes a ruleset file's new version.
// shadows: old is a plan uploaded under the file's name, which the file
// now takes over (it is logged, and the plan is no longer served).
func (s *Store[T]) publishFile(name, path string, old *Entry[T], exists, shadows bool, rs *Ruleset, c T, deps []fileDep) {
	now := s.cfg.Now().UTC()
	e := &Entry[T]{
		Name: name, Ruleset: rs, Compiled: c, Serial: s.nextSerial(),
		Created: now, Modified: now, Source: SourceFile, Path: path, Options: DefaultOptions(),
		deps: deps,
	}
	msg := fmt.Sprintf("loaded from %s: %d rules", filepath.Base(path), len(rs.Rules))
	if exists && !shadows {
		e.Created, e.Logs = old.Created, old.Logs
		msg = fmt.Sprintf("reloaded from %s: %d rules", filepath.Base(path), len(rs.Rules))
	}
	e.Logs = s.appendLog(e.Logs, LogInfo, now, msg)
	if shadows {
		e.Logs = s.appendLog(e.Logs, LogWarning, now, fmt.Sprintf("the file %s holds this name, so the plan uploaded under it is not served; delete plans/%s.json from the data dir, or rename the file", filepath.Base(path), name))
	}
	s.publish(name, e, old)
}

// fileStamp tells versions of a file apart without reading it: size and
// modification time, plus inode and change time where the OS gives them
// (stampOf).
type fileStamp struct {
	missing  bool
	size     int64
	mtime    int64 // Unix nanoseconds
	dev, ino uint64
	ctime    int64
}

// statStamp stamps the file at path, following symbolic links. A file that
// cannot be stat'ed stamps as missing: opening it fails the same way.
func statStamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return stampOf(fi)
}

// fileDep is a seed file a compiled ruleset was built from.
type fileDep struct {
	path  string
	stamp fileStamp
}

func depsChanged(deps []fileDep) bool {
	for _, d := range deps {
		if statStamp(d.path) != d.stamp {
			return true
		}
	}
	return false
}

// readStable reads the file at path and returns it with its stamp.
// stable is false when the file changed during the read (its stamp differs
// before and after: written to, or renamed over).
func readStable(path string) (src []byte, st fileStamp, stable bool, err error) {
	before, err := os.Stat(path)
	if err != nil {
		return nil, st, false, err
	}
	if src, err = os.ReadFile(path); err != nil {
		return nil, st, false, err
	}
	st = stampOf(before)
	return src, st, statStamp(path) == st, nil
}

// maxFingerprintFiles bounds the files Fingerprint looks at, for a
// rulesets_dir pointed at a big tree by mistake.
const maxFingerprintFiles = 4096

// Fingerprint hashes the version (stampOf) of every file under the
// rulesets dir: ruleset files, and seed files beside them or in folders
// below. A change of any of them changes it, so a watcher that polls it
// knows when to reload. Names starting with '.' are left out (editors'
// swap files, and Kubernetes ConfigMap volumes' ..data, whose files are
// reached through the symbolic links beside it); symbolic links are
// followed, folders to a depth of 8; past 4,096 files the rest are not
// looked at.
func Fingerprint(dir string) (uint64, error) {
	h := fnv.New64a()
	n := 0
	var walk func(dir, rel string, depth int) error
	walk = func(dir, rel string, depth int) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, de := range ents {
			if n >= maxFingerprintFiles {
				return nil
			}
			name := de.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			path, relPath := filepath.Join(dir, name), rel+name
			fi, err := os.Stat(path)
			if err != nil {
				fmt.Fprintf(h, "%s\x00missing\x00", relPath)
				continue
			}
			if fi.IsDir() {
				if depth < 8 {
					walk(path, relPath+"/", depth+1)
				}
				continue
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			n++
			st := stampOf(fi)
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00%d\x00%d\x00%d\x00", relPath, st.size, st.mtime, st.dev, st.ino, st.ctime)
		}
		return nil
	}
	if err := walk(dir, "", 0); err != nil {
		return 0, fmt.Errorf("rulesets: reading the rulesets dir: %w; check rulesets_dir", err)
	}
	return h.Sum64(), nil
}

// firstSeen is a version of a file (its stamp) and when the store first
// saw it.
type firstSeen struct {
	stamp fileStamp
	at    time.Time
}

// settled reports whether the file at path, as stamped, may be loaded:
// always when not settling; else when it was last modified at least settle
// ago, or when the store has seen this same version for that long (a
// modification time in the future, from a file server whose clock runs
// ahead, or a missing or empty file). Otherwise the file is noted as
// waiting.
// Callers hold mu.
func (s *Store[T]) settled(run *reloadRun, path string, st fileStamp) bool {
	if run.settle <= 0 {
		return true
	}
	run.looked[path] = true
	left := run.settle
	// An empty file goes by when it was first seen, like a missing one:
	// a truncation (O_TRUNC, cp) shows the new size a moment before the
	// new modification time, so an empty file may still carry the old.
	if !st.missing && st.size > 0 {
		left = run.settle - run.now.Sub(time.Unix(0, st.mtime))
	}
	if left <= 0 {
		delete(s.waiting, path)
		return true
	}
	first, ok := s.waiting[path]
	if !ok || first.stamp != st {
		first = firstSeen{stamp: st, at: run.now}
		s.waiting[path] = first
	}
	if seen := run.settle - run.now.Sub(first.at); seen <= 0 {
		delete(s.waiting, path)
		return true
	} else if seen < left {
		left = seen
	}
	run.wait(path, left)
	return false
}

// wait notes path as waiting, to be looked at again in d.
func (r *reloadRun) wait(path string, d time.Duration) {
	d = max(d, 10*time.Millisecond)
	r.res.Waiting = append(r.res.Waiting, path)
	if r.res.RetryIn == 0 || d < r.res.RetryIn {
		r.res.RetryIn = d
	}
}

// forgetUnseen drops the waiting files a settling run did not look at
// (they went away, or no ruleset names them any more), so the map stays
// as small as the dir. Callers hold mu.
func (s *Store[T]) forgetUnseen(run *reloadRun) {
	if run.settle <= 0 {
		return
	}
	for p := range s.waiting {
		if !run.looked[p] {
			delete(s.waiting, p)
		}
	}
}

const serialFile = "serial"

func readSerial(dataDir string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, serialFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rulesets: reading the serial counter: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("rulesets: %s is damaged; it must hold one non-negative number (delete it to start from the plans' highest serial)", filepath.Join(dataDir, serialFile))
	}
	return n, nil
}

// saveSerial persists the serial counter so serials keep going up across
// restarts. Callers hold mu.
func (s *Store[T]) saveSerial() error {
	if s.cfg.DataDir == "" {
		return nil
	}
	if err := writeAtomic(filepath.Join(s.cfg.DataDir, serialFile), []byte(strconv.FormatInt(s.serial, 10)+"\n")); err != nil {
		return fmt.Errorf("rulesets: saving the serial counter: %w; check data_dir's free space and permissions", err)
	}
	return nil
}

// writeAtomic replaces path with b so that a crash leaves either the old
// or the new file, never a torn one: write a temp file beside it, sync,
// rename over, sync the folder.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	syncDir(dir)
	return nil
}

// syncDir makes a rename or remove in dir durable. Errors are ignored:
// some filesystems cannot sync a folder, and the data is written anyway.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
