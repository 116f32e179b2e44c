package processor

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

// DefaultReloadInterval is how often the Watcher looks at the rulesets
// dir.
const DefaultReloadInterval = time.Second

// Reloader re-reads a rulesets dir; *rulesets.Store implements it.
type Reloader interface {
	// ReloadSettled loads what changed, except files changed too
	// recently to be read whole, which it lists for a later call.
	ReloadSettled() (rulesets.ReloadResult, error)
}

var _ Reloader = (*rulesets.Store[int])(nil)

// Watcher reloads the rulesets when a file of the rulesets dir (a ruleset
// or a seed file) changes, and when asked (SIGHUP). A ruleset that fails to
// load is logged with every error and keeps its previous version serving.
//
// It polls file names, sizes, modification times, inodes and change times
// (rulesets.Fingerprint) rather than using inotify: polling a handful of
// files once a second costs nothing, works the same on every OS and file
// system (NFS, overlay, Kubernetes ConfigMap volumes, whose files change
// by a symlink swap that inotify watchers easily miss), and needs no extra
// dependency.
//
// A file written in place passes through shorter versions that are still
// valid rulesets, with rules missing. So the store loads only files left
// alone for its settle time (rulesets.StoreConfig.Settle, 1s); the others
// keep their version serving and are looked at again when they will have
// settled, without waiting for the next poll. SIGHUP works the same way.
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

// Why a reload runs, in logs. A look again at files that waited to
// settle goes by the trigger that found them.
const (
	whyStart  = "start"
	whySignal = "signal"
	whyChange = "file change"
)

// Run polls until ctx ends. It first reloads once: a file changed while
// the process started (after the store's Load, before Run), or still being
// written then, would otherwise wait for its next change.
func (w *Watcher) Run(ctx context.Context) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	st := watchState{}
	last, _ := fingerprint(w.dir)
	w.reload(whyStart, false, &st, retry)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.trigger:
			last, _ = fingerprint(w.dir)
			w.reload(whySignal, false, &st, retry)
		case <-retry.C:
			w.reload(st.why, true, &st, retry)
		case <-tick.C:
			fp, err := fingerprint(w.dir)
			switch {
			case err != nil:
			case fp != last:
				// The store loads only files left alone for its settle
				// time, so a file still being written waits there. No
				// quiet poll is waited for here: any other file of the
				// dir that keeps changing (a log, a heartbeat) would
				// hold every ruleset edit back forever.
				last = fp
				w.reload(whyChange, false, &st, retry)
			case st.waiting != "":
				w.reload(st.why, true, &st, retry)
			}
		}
	}
}

// watchState is what the watcher remembers between reloads.
type watchState struct {
	// waiting lists the files that wait to settle, "" when none does,
	// and why the reload that found them ran.
	waiting, why string
	// reported holds the failures last reported, by file ("" for one of
	// the dir itself): a reload that finds a file failing as it did is not
	// a new failure. Reloads run whenever any file of the dir changes (a
	// neighbour log or heartbeat may change every second) and while others
	// wait to settle, and ruleset_reloads_total counts a failure once.
	reported map[string]string
}

// newFailures is the failures of err not already reported as they are,
// and records err's failures as the reported ones. A signal reports every
// failure again (the operator asked what the state is), but its retries
// for files that waited to settle do not.
func (st *watchState) newFailures(err error, why string, again bool) []*rulesets.FileError {
	prev := st.reported
	st.reported = map[string]string{}
	if err == nil {
		return nil
	}
	var le rulesets.LoadError
	if !errors.As(err, &le) {
		le = rulesets.LoadError{{Err: err}}
	}
	var fresh []*rulesets.FileError
	for _, fe := range le {
		text := fe.Err.Error()
		st.reported[fe.Path] = text
		if old, ok := prev[fe.Path]; !ok || old != text || why == whySignal && !again {
			fresh = append(fresh, fe)
		}
	}
	return fresh
}

// reload reloads the store, logs the outcome and counts it. A look that
// changed nothing is no reload (unless one was asked for and nothing
// waits), and one that only found files still being written is retried
// when they will have settled. again is true for such a retry.
func (w *Watcher) reload(why string, again bool, st *watchState, retry *time.Timer) {
	res, err := w.store.ReloadSettled()
	waiting := strings.Join(res.Waiting, ", ")
	if waiting != "" {
		if !again {
			st.why = why
		}
		retry.Reset(res.RetryIn)
		if waiting != st.waiting {
			level := slog.LevelDebug
			if why == whySignal {
				level = slog.LevelInfo
			}
			w.log.Log(context.Background(), level, "ruleset files changed a moment ago: they load once left alone; the versions in use keep running",
				"trigger", why, "files", waiting, "retry_in", res.RetryIn.Round(time.Millisecond).String())
		}
	} else {
		retry.Stop()
	}
	st.waiting = waiting

	fresh := st.newFailures(err, why, again)
	switch {
	case len(fresh) > 0:
		w.metrics.Reloads.WithLabelValues(ReloadFailed).Inc()
		for _, fe := range fresh {
			if fe.Path == "" {
				w.log.Error("ruleset reload failed; the rulesets in use keep running", "trigger", why, "err", fe.Err)
				continue
			}
			if fe.Unserved {
				// No previous version: the file's removal dropped it,
				// and its stand-in failed. Saying one keeps running would
				// hide that the HTTP endpoint now answers 404 for it.
				w.log.Error("ruleset file removed and the plan uploaded under its name does not load; nothing serves the name",
					"trigger", why, "ruleset", fe.Name, "plan", fe.Path, "errors", describeErrors(fe.Err),
					"fix", "upload the plan again (it overwrites the damaged plan file) or delete the plan file; or put the ruleset file back")
				continue
			}
			w.log.Error("ruleset reload failed; its previous version keeps running", "trigger", why, "ruleset", fe.Name, "file", fe.Path, "errors", describeErrors(fe.Err))
		}
	case res.Changed > 0 || why == whySignal && err == nil && waiting == "":
		w.metrics.Reloads.WithLabelValues(ReloadOK).Inc()
		w.log.Info("rulesets reloaded", "trigger", why, "changed", res.Changed)
	}
	// The operator who saw the failure logged should see it end.
	for _, name := range res.Restored {
		w.log.Info("ruleset file back to the version in use; its failed reload is over", "trigger", why, "ruleset", name)
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

// fingerprint hashes what the rulesets dir's reload depends on.
func fingerprint(dir string) (uint64, error) { return rulesets.Fingerprint(dir) }
