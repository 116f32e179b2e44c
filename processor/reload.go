package processor

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

// DefaultReloadInterval is how often the Watcher looks at the rulesets
// dir.
const DefaultReloadInterval = time.Second

// Reloader re-reads a rulesets dir; *rulesets.Store implements it.
type Reloader interface {
	Reload() error
}

// Watcher reloads the rulesets when a file of the rulesets dir changes
// and when asked (SIGHUP). A ruleset that fails to load is logged with
// every error and keeps its previous version serving.
//
// It polls file names, sizes and modification times rather than using
// inotify: polling a handful of files once a second costs nothing, works
// the same on every OS and file system (NFS, overlay, Kubernetes
// ConfigMap volumes, whose files change by a symlink swap that inotify
// watchers easily miss), and needs no extra dependency.
type Watcher struct {
	store    Reloader
	dir      string
	interval time.Duration
	metrics  *Metrics
	log      *slog.Logger
	trigger  chan struct{}
}

// NewWatcher watches dir for store. interval 0 means the default of 1s; a
// nil metrics counts nothing; a nil logger discards.
func NewWatcher(store Reloader, dir string, interval time.Duration, metrics *Metrics, logger *slog.Logger) *Watcher {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	if metrics == nil {
		metrics, _ = NewMetrics(nil)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Watcher{store: store, dir: dir, interval: interval, metrics: metrics, log: logger, trigger: make(chan struct{}, 1)}
}

// Trigger asks for a reload now (SIGHUP). It never blocks.
func (w *Watcher) Trigger() { nudge(w.trigger) }

// Run polls until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	last, _ := fingerprint(w.dir)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.trigger:
			last, _ = fingerprint(w.dir)
			w.reload("signal")
		case <-t.C:
			fp, err := fingerprint(w.dir)
			if err != nil || fp == last {
				continue
			}
			last = fp
			w.reload("file change")
		}
	}
}

// reload reloads the store, logs the outcome and counts it.
func (w *Watcher) reload(why string) {
	err := w.store.Reload()
	if err == nil {
		w.metrics.Reloads.WithLabelValues(ReloadOK).Inc()
		w.log.Info("rulesets reloaded", "trigger", why)
		return
	}
	w.metrics.Reloads.WithLabelValues(ReloadFailed).Inc()
	var le rulesets.LoadError
	if !errors.As(err, &le) {
		w.log.Error("ruleset reload failed; the rulesets in use keep running", "trigger", why, "err", err)
		return
	}
	for _, fe := range le {
		w.log.Error("ruleset reload failed; its previous version keeps running", "trigger", why, "ruleset", fe.Name, "file", fe.Path, "errors", describeErrors(fe.Err))
	}
}

// describeErrors flattens a ruleset error list into one log value.
func describeErrors(err error) string {
	errs := rulesets.Errors(err)
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// fingerprint hashes the names, sizes and modification times of the
// rulesets dir's YAML files (following symlinks).
func fingerprint(dir string) (uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("processor: reading the rulesets dir: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	h := fnv.New64a()
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			fmt.Fprintf(h, "%s\x00missing\x00", n)
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", n, st.Size(), st.ModTime().UnixNano())
	}
	return h.Sum64(), nil
}
