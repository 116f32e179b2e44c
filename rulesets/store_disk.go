package rulesets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// reloadDir brings the file-backed entries in line with the rulesets dir.
// Callers hold mu.
func (s *Store[T]) reloadDir() (LoadError, error) {
	if s.cfg.Dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("rulesets: reading the rulesets dir: %w; check rulesets_dir", err)
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
		if ferr := s.reloadFile(name, path); ferr != nil {
			errs = append(errs, ferr)
		}
	}
	for _, e := range s.List() {
		if e.Source == SourceFile && !seen[e.Name] {
			s.publish(e.Name, nil, e)
		}
	}
	return errs, nil
}

// reloadFile loads one ruleset file, unless its bytes are what is already
// serving. On failure the previous version keeps serving with an error log;
// a file put back to the serving bytes after that gets an info log.
func (s *Store[T]) reloadFile(name, path string) *FileError {
	old, exists := s.Get(name)
	fail := func(err error) *FileError {
		if exists && old.Source == SourceFile {
			e := *old
			e.Logs = s.appendLog(old.Logs, LogError, s.cfg.Now().UTC(),
				fmt.Sprintf("reload failed, still serving serial %d: %v", old.Serial, err))
			s.publish(name, &e, old)
		}
		return &FileError{Name: name, Path: path, Err: err}
	}
	if !ValidName(name) {
		return fail(ErrBadName)
	}
	if exists && old.Source != SourceFile {
		return fail(fmt.Errorf("the name %q is taken by an uploaded plan; rename the file or delete the plan", name))
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	if exists && old.Path == path && bytes.Equal(old.Ruleset.Source, src) {
		if n := len(old.Logs); n > 0 && old.Logs[n-1].Level == LogError {
			// The file was put back after a failed reload: without a
			// newer log the ruleset would go on showing that failure
			// (the status page reads the last log) though nothing is
			// wrong any more. The serial stays: nothing was recompiled.
			e := *old
			e.Logs = s.appendLog(old.Logs, LogInfo, s.cfg.Now().UTC(),
				fmt.Sprintf("reloaded from %s: the file is back to the version serving (serial %d)", filepath.Base(path), old.Serial))
			s.publish(name, &e, old)
		}
		return nil
	}
	rs, c, err := s.build(name, path, src)
	if err != nil {
		return fail(err)
	}
	now := s.cfg.Now().UTC()
	e := &Entry[T]{
		Name: name, Ruleset: rs, Compiled: c, Serial: s.nextSerial(),
		Created: now, Modified: now, Source: SourceFile, Path: path, Options: DefaultOptions(),
	}
	msg := fmt.Sprintf("loaded from %s: %d rules", filepath.Base(path), len(rs.Rules))
	if exists {
		e.Created, e.Logs = old.Created, old.Logs
		msg = fmt.Sprintf("reloaded from %s: %d rules", filepath.Base(path), len(rs.Rules))
	}
	e.Logs = s.appendLog(e.Logs, LogInfo, now, msg)
	s.publish(name, e, old)
	return nil
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
