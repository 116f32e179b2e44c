package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/httpapi/status"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run the stream processor (routes, HTTP server) from a config file",
		order:   10,
		run:     runRun,
	})
}

const runUsage = `usage: maskstream run [-c maskstream.yaml] [-log-format text|json] [-log-level info]

Runs the daemon: every route of the config (source → mask → sink, with dead
letters and ordered commits) and, when the config has an http: section, the
HTTP server (mask endpoint, /metrics, status page at /).

The run secret comes from MASKSTREAM_RUN_SECRET or the config's
run_secret_file; without one the daemon refuses to start.

SIGHUP reloads the rulesets (they are also reloaded when their files
change). SIGINT/SIGTERM stop fetching, let the routes finish and commit what
they hold within drain_timeout, and exit 0; a second signal exits at once
(records not yet committed are read again by the next run: nothing is lost).

Flags:
`

// forceExit ends the process on a second signal or a stuck shutdown.
// Tests replace it.
var forceExit = func(code int) { os.Exit(code) }

// rulesetsPollInterval is how often the rulesets dir is polled for changed
// files (0: processor.DefaultReloadInterval). Tests set it long so that
// only SIGHUP can cause a reload.
var rulesetsPollInterval time.Duration

// stuckMargin is how far past twice drain_timeout a shutdown may run
// before it is forced: sources give lanes drain_timeout, sinks as long
// again to flush, and the margin absorbs a slow commit. Tests shorten it.
var stuckMargin = 10 * time.Second

type runFlags struct {
	config, logFormat, logLevel string
}

func runRun(ctx context.Context, env *cliEnv, args []string) int {
	var f runFlags
	fs := newCmdFlags(env, "run", runUsage, false)
	fs.StringVar(&f.config, "c", "maskstream.yaml", "the daemon's config `file`")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if !fs.noArgs() {
		return 2
	}
	log, err := newLogger(env.stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintln(env.stderr, "maskstream run:", err)
		return 2
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		fmt.Fprintln(env.stderr, "maskstream run: the config has errors (listed above); fix them (maskstream validate-config) and start again")
		return 1
	}
	sec, secFrom, err := readRunSecret(env, cfg.RunSecretFile)
	if err != nil {
		fmt.Fprintln(env.stderr, "maskstream run:", err)
		return 1
	}
	log.Info("run secret loaded", "from", secFrom, "fingerprint", sec.Fingerprint())
	if err := runDaemon(ctx, env, daemon{cfg: cfg, secret: sec, log: log, mode: "run"}); err != nil {
		fmt.Fprintln(env.stderr, "maskstream run:", err)
		return 1
	}
	return 0
}

// newLogger builds the structured logger: text or JSON lines on w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: use text or json", format)
}

// daemon is what runDaemon runs: `run` fills it from the config file,
// `demo` from its generated config.
type daemon struct {
	cfg    *config.Config
	secret *engine.Secret
	log    *slog.Logger
	mode   string // run or demo: shown on the status page
	// started, when set, is called with the processor once every route
	// runs (the demo's progress display).
	started func(*processor.Processor)
}

// runDaemon loads the rulesets, starts the routes, the rulesets watcher
// and the HTTP server, and runs until ctx ends (then drains) or a route
// fails.
func runDaemon(ctx context.Context, env *cliEnv, d daemon) error {
	cfg, log := d.cfg, d.log
	startedAt := time.Now()
	// Subscribe before the slow start (rulesets, connectors): a SIGHUP
	// sent meanwhile would otherwise kill the daemon, as SIGHUP's default
	// action does. The "maskstream starting" log line comes after this.
	sigs := notifySignals()
	defer sigs.release()
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}
	secErr := cfg.CheckSecrets(env.getenv)
	if cfg.HTTP != nil {
		secErr = errors.Join(secErr, httpapi.CheckTokens(httpapiConfigFrom(cfg), env.getenv))
	}
	if secErr != nil {
		return fmt.Errorf("the config's secrets or HTTP tokens cannot be used:\n%w", secErr)
	}
	store, err := loadStore(cfg, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := processor.RegisterSecretInfo(reg, d.secret); err != nil {
		return err
	}
	proc, err := processor.New(cfg, processor.Deps{
		Rulesets: store, Secret: d.secret, Registerer: reg, Logger: log, Getenv: env.getenv,
	})
	if err != nil {
		return err
	}
	logSummary(log, cfg, proc, store)

	var srv *httpapi.Server
	if cfg.HTTP != nil {
		src := status.SourceFunc(func() status.Snapshot { return snapshot(d.mode, startedAt, proc, store) })
		srv, err = httpapi.New(httpapiConfigFrom(cfg), httpapi.Deps{
			Store: store, Secret: d.secret, Registerer: reg, Gatherer: reg, Logger: log, Getenv: env.getenv,
			StatusHandler: status.Handler(src),
			Ready:         func() error { return ready(proc) },
		})
		if err != nil {
			return err
		}
	}

	// The helpers (watcher, HTTP server, signal watch) end with the
	// routes: runCtx is canceled when Run returns.
	runCtx, stopHelpers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopHelpers()
	watcher := processor.NewWatcher(store, cfg.RulesetsDir, rulesetsPollInterval, proc.Metrics(), log)
	wg.Go(func() { watcher.Run(runCtx) })
	wg.Go(func() { watchSignals(runCtx, ctx, sigs, watcher, cfg.DrainTimeout, log) })
	httpErr := make(chan error, 1)
	if srv != nil {
		// The server logs "http server listening" with the address it got.
		wg.Go(func() { httpErr <- srv.ListenAndServe(runCtx) })
	}

	procCtx, stopProc := context.WithCancel(ctx)
	defer stopProc()
	procErr := make(chan error, 1)
	wg.Go(func() { procErr <- proc.Run(procCtx) })
	if d.started != nil {
		d.started(proc)
	}
	var runErr error
	select {
	case runErr = <-procErr:
	case err := <-httpErr:
		// The HTTP server could not start (port taken, bad TLS files):
		// stop the routes and report it.
		log.Error("http server stopped; stopping the routes", "err", err)
		stopProc()
		runErr = errors.Join(fmt.Errorf("http server: %w", err), <-procErr)
		httpErr <- nil
	}
	stopHelpers()
	if srv != nil {
		if err := <-httpErr; err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("http server", "err", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	log.Info("stopped", "uptime", time.Since(startedAt).Round(time.Second).String())
	return nil
}

// runSignals are the daemon's signal subscriptions: hup for reloads, stop
// for SIGINT/SIGTERM. main's stopOnSignal turns the first stop
// signal into the end of ctx; watchSignals only counts them.
type runSignals struct {
	hup, stop <-chan os.Signal
	release   func()
}

func notifySignals() runSignals {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	return runSignals{hup: hup, stop: stop, release: func() {
		signal.Stop(hup)
		signal.Stop(stop)
	}}
}

// watchSignals reloads the rulesets on SIGHUP and, once shutdown has
// begun (ctx done), exits at once on a second SIGINT/SIGTERM (not the
// first one repeated at once: stopCount) or when the drain takes far
// longer than its deadline.
func watchSignals(runCtx, ctx context.Context, sigs runSignals, w interface{ Trigger() }, drain time.Duration, log *slog.Logger) {
	var count stopCount
	var deadline <-chan time.Time
	done := ctx.Done()
	for {
		select {
		case <-runCtx.Done():
			return
		case <-sigs.hup:
			log.Info("SIGHUP: reloading rulesets")
			w.Trigger()
		case <-done:
			done = nil
			log.Info("shutting down: draining the routes", "deadline", drain.String())
			deadline = time.After(2*drain + stuckMargin)
		case s := <-sigs.stop:
			if count.second(s, signalNow()) {
				log.Error("second signal: exiting now; records not yet committed are read again by the next run")
				forceExit(1)
				return
			}
		case <-deadline:
			log.Error("shutdown took far longer than drain_timeout; exiting now")
			forceExit(1)
			return
		}
	}
}

// loadStore loads the rulesets dir (and any uploaded plans in data_dir).
// A broken file in the rulesets dir refuses the start, as a broken config
// does; a stored plan that no longer loads is logged.
func loadStore(cfg *config.Config, log *slog.Logger) (*rulesets.Store[*engine.Masker], error) {
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: cfg.RulesetsDir, DataDir: cfg.DataDir},
		processor.Compiler(cfg.Limits.MaxRecordBytes, cfg.Limits.MaxDepth))
	err := store.Load()
	var le rulesets.LoadError
	switch {
	case err == nil:
	case !errors.As(err, &le):
		return nil, err
	default:
		fatal := false
		for _, fe := range le {
			if isUnder(fe.Path, cfg.DataDir) {
				log.Warn("a stored ruleset plan could not be loaded; upload it again", "plan", fe.Name, "errors", rulesetErrors(fe.Err))
				continue
			}
			fatal = true
			log.Error("ruleset has errors", "ruleset", fe.Name, "file", fe.Path, "errors", rulesetErrors(fe.Err))
		}
		if fatal {
			return nil, errors.New("rulesets_dir has rulesets with errors (logged above); fix them (maskstream validate) and start again")
		}
	}
	for _, name := range cfg.Rulesets() {
		e, ok := store.Get(name)
		if !ok {
			return nil, fmt.Errorf("a route uses ruleset %q, but rulesets_dir (%s) has no %s.yaml", name, cfg.RulesetsDir, name)
		}
		if e.Source != rulesets.SourceFile {
			return nil, fmt.Errorf("a route uses ruleset %q, which is a plan uploaded over the HTTP API (in %s), not a file: routes mask only with files of rulesets_dir; put %s.yaml in %s and delete the plan", name, cfg.DataDir, name, cfg.RulesetsDir)
		}
	}
	return store, nil
}

func rulesetErrors(err error) []string {
	var out []string
	for _, e := range rulesets.Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

// logSummary logs what the daemon runs: routes and rulesets, never a
// value or a secret.
func logSummary(log *slog.Logger, cfg *config.Config, proc *processor.Processor, store *rulesets.Store[*engine.Masker]) {
	for _, e := range store.List() {
		log.Info("ruleset", "name", e.Name, "source", string(e.Source), "serial", e.Serial, "rules", len(e.Ruleset.Rules))
	}
	for _, st := range proc.Status() {
		log.Info("route", "name", st.Name, "from", st.Source, "to", st.Sink, "dead_letter", st.DeadLetter, "ruleset", st.Ruleset)
	}
	log.Info("maskstream starting", "version", version, "routes", len(cfg.Routes), "rulesets", len(store.List()),
		"drain_timeout", cfg.DrainTimeout.String(), "max_record_bytes", cfg.Limits.MaxRecordBytes)
}

// ready is /readyz: every route running. Running is not "connected": a
// route waiting for its brokers is ready, so a broker outage does not take
// the HTTP mask endpoint out of service (docs/http-api.md says so).
func ready(p *processor.Processor) error {
	for _, st := range p.Status() {
		if st.State != processor.StateRunning {
			return fmt.Errorf("route %s is %s", st.Name, st.State)
		}
	}
	return nil
}

// snapshot is the status page's data.
func snapshot(mode string, started time.Time, p *processor.Processor, store *rulesets.Store[*engine.Masker]) status.Snapshot {
	s := status.Snapshot{Version: version, Mode: mode, StartedAt: started, Rulesets: status.FromEntries(store.List())}
	for _, r := range p.Status() {
		sr := status.Route{
			Name: r.Name, State: r.State, Error: r.Error, Source: r.Source, Sink: r.Sink, DeadLetter: r.DeadLetter,
			Ruleset: r.Ruleset, RulesetSerial: r.RulesetSerial, Lanes: r.Lanes,
			RecordsIn: r.RecordsIn, RecordsOut: r.RecordsOut, DeadLetters: r.DeadLetters, DeadLettersByReason: r.DeadLettersByReason,
			InRate: r.InRate, OutRate: r.OutRate, Lag: r.Lag, LagTime: r.LagTime,
		}
		for _, pt := range r.Partitions {
			sr.Partitions = append(sr.Partitions, status.Partition{Topic: pt.Topic, Partition: pt.Partition, Lag: pt.Lag})
		}
		s.Routes = append(s.Routes, sr)
	}
	return s
}
