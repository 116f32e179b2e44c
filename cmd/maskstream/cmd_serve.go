package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
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
		name:    "serve",
		summary: "run only the HTTP mask endpoint",
		order:   15,
		run:     runServe,
	})
}

const serveUsage = `usage: maskstream serve -c maskstream.yaml
       maskstream serve -rulesets DIR [-data DIR] [-listen ADDR] [-insecure-no-auth | -token-env VAR]
       [-public-url URL] [-log-format text|json] [-log-level info]

Runs the HTTP server alone: the mask endpoint (POST /v1/mask/{ruleset} and
DataMasque's /ifm/ruleset-plans/{name}/mask/), ruleset uploads, /healthz,
/readyz, /metrics and the status page at / (rulesets and their last reload;
no routes). With -c it reads the daemon's config file and uses its http,
rulesets_dir, data_dir, run_secret_file and limits. The whole file is
checked as "maskstream run" checks it, routes included (a route naming an
undefined cluster stops the start), but routes are not run and no broker
is contacted. Without -c the flags describe a config-less server. Flags
given with -c override the file.

A server with no ruleset answers every mask request 404: serve warns at
start when it has none. The rulesets dir is read flat (subfolders are not
read): from the repo, name rulesets/examples, not rulesets/.

The run secret comes from MASKSTREAM_RUN_SECRET, -secret-file or the
config's run_secret_file. Without one the server starts only when requests
may bring their own (-allow-request-secret or http.allow_request_secret).

SIGHUP reloads the rulesets dir; it is also reloaded when its files change,
and maskstream_ruleset_reloads_total counts each reload. SIGINT/SIGTERM stop
the server: it stops accepting connections and lets in-flight requests
finish (for up to 15s, then cuts them); a second signal stops it at once.

Flags:
`

// serveFlags are serve's command line.
type serveFlags struct {
	config, rulesets, data, listen, secretFile, tokenEnv string
	logFormat, logLevel, publicURL                       string
	insecure, allowRequestSecret                         bool
	set                                                  map[string]bool
}

func runServe(ctx context.Context, env *cliEnv, args []string) int {
	var f serveFlags
	fs := newCmdFlags(env, "serve", serveUsage, false)
	fs.StringVar(&f.config, "c", "", "the daemon's config `file` (maskstream.yaml)")
	fs.StringVar(&f.rulesets, "rulesets", "", "rulesets `dir`: every *.yaml in it is a ruleset named after the file")
	fs.StringVar(&f.data, "data", "", "data `dir` for uploaded ruleset plans (empty: uploads are kept in memory only)")
	fs.StringVar(&f.listen, "listen", "", "listen `address` (default "+httpapi.DefaultListen+"; 127.0.0.1:8080 with -insecure-no-auth)")
	fs.StringVar(&f.secretFile, "secret-file", "", "read the run secret from this `file` (else MASKSTREAM_RUN_SECRET)")
	fs.StringVar(&f.tokenEnv, "token-env", "", "accept the bearer token held in this environment `variable`, with scopes mask, admin and read")
	fs.StringVar(&f.publicURL, "public-url", "", "the http(s):// `URL` clients reach the server at, behind a proxy (else from each request's Host)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.BoolVar(&f.insecure, "insecure-no-auth", false, "serve without tokens (loopback addresses only)")
	fs.BoolVar(&f.allowRequestSecret, "allow-request-secret", false, "let mask requests carry their own run_secret")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if !fs.noArgs() {
		return 2
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })

	log, err := newLogger(env.stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintln(env.stderr, "maskstream serve:", err)
		return 2
	}
	if err := serve(ctx, env, f, log); err != nil {
		fmt.Fprintln(env.stderr, "maskstream serve:", err)
		return 1
	}
	return 0
}

// serveSetup is what serve runs with, from the config file and the flags.
type serveSetup struct {
	http          httpapi.Config
	rulesetsDir   string
	dataDir       string
	secretFile    string
	limits        engine.Options
	configWarning []string
}

func serveSetupFrom(f serveFlags) (*serveSetup, error) {
	s := &serveSetup{}
	if f.config != "" {
		c, err := config.Load(f.config)
		if err != nil {
			return nil, err
		}
		if c.HTTP == nil {
			return nil, fmt.Errorf("%s has no http: section; add one (http: { listen: \":8080\", tokens: [...] }), or drop -c and give -rulesets and -listen", f.config)
		}
		s.http = httpapiConfigFrom(c)
		s.rulesetsDir, s.dataDir, s.secretFile = c.RulesetsDir, c.DataDir, c.RunSecretFile
		s.limits = engine.Options{MaxBytes: c.Limits.MaxRecordBytes, MaxDepth: c.Limits.MaxDepth}
		s.configWarning = c.Warnings
	} else if f.rulesets == "" {
		return nil, errors.New("give the config file with -c, or at least -rulesets DIR (see maskstream serve -h)")
	}
	if f.set["rulesets"] {
		s.rulesetsDir = f.rulesets
	}
	if f.set["data"] {
		s.dataDir = f.data
	}
	if f.set["secret-file"] {
		s.secretFile = f.secretFile
	}
	if f.set["insecure-no-auth"] {
		s.http.InsecureNoAuth = f.insecure
	}
	if f.set["allow-request-secret"] {
		s.http.AllowRequestSecret = f.allowRequestSecret
	}
	if f.set["public-url"] {
		s.http.PublicURL = f.publicURL
	}
	switch {
	case f.set["listen"]:
		s.http.Listen = f.listen
	case f.config == "" && s.http.InsecureNoAuth:
		s.http.Listen = "127.0.0.1:8080"
	}
	if f.tokenEnv != "" {
		s.http.Tokens = append(s.http.Tokens, httpapi.Token{
			Name: "token-env", Env: f.tokenEnv,
			Scopes: []string{httpapi.ScopeMask, httpapi.ScopeAdmin, httpapi.ScopeRead},
		})
	}
	if s.rulesetsDir != "" {
		if st, err := os.Stat(s.rulesetsDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("rulesets dir %s is not a readable folder", s.rulesetsDir)
		}
	}
	return s, nil
}

// httpapiConfigFrom maps the daemon config's http: section and limits to
// the HTTP server's config. `maskstream run` uses it too.
func httpapiConfigFrom(c *config.Config) httpapi.Config {
	h := c.HTTP
	out := httpapi.Config{
		Listen:             h.Listen,
		RateLimit:          httpapi.RateLimit{PerTokenRPS: h.RateLimit.PerTokenRPS, Burst: h.RateLimit.Burst},
		AllowRequestSecret: h.AllowRequestSecret,
		ProtectRead:        h.ProtectRead,
		InsecureNoAuth:     h.InsecureNoAuth,
		MaxInflightBytes:   int64(h.MaxInflightBytes),
		MaxRecords:         h.MaxRecords,
		PublicURL:          h.PublicURL,
		MaxRecordBytes:     c.Limits.MaxRecordBytes,
		MaxDepth:           c.Limits.MaxDepth,
	}
	if h.TLS != nil {
		out.TLS = &httpapi.TLSConfig{CertFile: h.TLS.CertFile, KeyFile: h.TLS.KeyFile, ClientCAFile: h.TLS.ClientCAFile}
	}
	for _, t := range h.Tokens {
		tok := httpapi.Token{Name: t.Name, SHA256: t.SHA256, Env: t.TokenEnv, File: t.TokenFile, Scopes: t.Scopes}
		if t.RateLimit != nil {
			tok.RateLimit = &httpapi.RateLimit{PerTokenRPS: t.RateLimit.PerTokenRPS, Burst: t.RateLimit.Burst}
		}
		out.Tokens = append(out.Tokens, tok)
	}
	return out
}

func serve(ctx context.Context, env *cliEnv, f serveFlags, log *slog.Logger) error {
	startedAt := time.Now()
	setup, err := serveSetupFrom(f)
	if err != nil {
		return err
	}
	for _, w := range setup.configWarning {
		log.Warn(w)
	}
	// MASKSTREAM_RUN_SECRET, else the secret file; nil without either.
	sec, secFrom, err := loadSecret(env, runSecretEnv, setup.secretFile, "the run secret file", false)
	if err != nil {
		return err
	}
	if sec != nil {
		log.Info("run secret loaded", "from", secFrom, "fingerprint", sec.Fingerprint())
	}
	if sec == nil && !setup.http.AllowRequestSecret {
		return errors.New("no run secret: set MASKSTREAM_RUN_SECRET or give -secret-file (or run_secret_file in the config); or pass -allow-request-secret so every mask request brings its own run_secret")
	}
	limits := setup.limits
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: setup.rulesetsDir, DataDir: setup.dataDir},
		func(rs *rulesets.Ruleset) (*engine.Masker, error) { return engine.Compile(rs, limits) })
	if err := store.Load(); err != nil {
		var le rulesets.LoadError
		if !errors.As(err, &le) {
			return err
		}
		// A broken file of the rulesets dir stops the start, as a broken
		// config does; a stored plan that no longer loads is reported and
		// left for the operator to fix by uploading it again.
		fatal := false
		for _, fe := range le {
			if setup.dataDir != "" && isUnder(fe.Path, setup.dataDir) {
				log.Warn("a stored ruleset plan could not be loaded; upload it again", "plan", fe.Name, "error", fe.Err.Error())
				continue
			}
			fatal = true
			printRulesetErrors(env.stderr, fe)
		}
		if fatal {
			return errors.New("the rulesets dir has rulesets with errors (listed above); fix them (maskstream validate) and start again")
		}
	}
	log.Info("rulesets loaded", "count", len(store.List()))
	if len(store.List()) == 0 {
		warnNoRulesets(log, setup.rulesetsDir)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The processor's metrics without a processor: only the reload
	// counter (both results at 0) and ruleset_healthy get series, so the
	// reload-failed alert works for serve as for run; the per-route
	// families stay empty.
	metrics, err := processor.NewMetrics(reg)
	if err != nil {
		return err
	}
	if err := processor.RegisterRulesetHealth(reg, store, nil); err != nil {
		return err
	}
	if sec != nil {
		if err := processor.RegisterSecretInfo(reg, sec); err != nil {
			return err
		}
	}
	src := status.SourceFunc(func() status.Snapshot {
		return status.Snapshot{Version: version, Mode: "serve", StartedAt: startedAt,
			Routes: []status.Route{}, Rulesets: status.FromEntries(store.List())}
	})
	srv, err := httpapi.New(setup.http, httpapi.Deps{
		Store: store, Secret: sec, Registerer: reg, Gatherer: reg, Logger: log, Getenv: env.getenv,
		StatusHandler: status.Handler(src),
	})
	if err != nil {
		return err
	}

	// The watcher reloads (and counts) on file change and on SIGHUP, as
	// under run; the goroutines end with serve. The server runs on a
	// context of its own, ended only after the stop is logged: ending it
	// with the signal's would let "http server stopped" come first.
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopServer()
	watcher := processor.NewWatcher(store, setup.rulesetsDir, rulesetsPollInterval, metrics, log)
	wg.Go(func() { watcher.Run(srvCtx) })
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// main ends ctx on the first stop signal; this subscription tells a
	// second one, which kills at once, from the first one repeated.
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	served := make(chan struct{})
	wg.Go(func() {
		var count stopCount
		stopping := ctx.Done()
		for {
			select {
			case <-stopping:
				stopping = nil
				log.Info("stopping: letting in-flight requests finish; a second signal stops at once")
				stopServer()
			case s := <-stop:
				if count.second(s, signalNow()) {
					log.Error("second signal: stopping at once")
					killBy(s)
					return
				}
			case <-hup:
				log.Info("SIGHUP: reloading rulesets")
				watcher.Trigger()
			case <-served: // stopped, or the server failed
				return
			}
		}
	})
	err = srv.ListenAndServe(srvCtx)
	close(served)
	return err
}

// warnNoRulesets says why a server that just started will answer every
// mask request 404, and how to fix it. The usual cause is a folder of
// folders: the rulesets dir is read flat, so -rulesets naming the repo's
// rulesets/ (Go code, examples/ under it) finds nothing.
func warnNoRulesets(log *slog.Logger, dir string) {
	var args []any
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		args = append(args, "dir", dir)
		if sub := subdirWithRulesets(dir); sub != "" {
			args = append(args, "hint", "subfolders are not read; for the rulesets in "+filepath.Base(sub)+"/, start with -rulesets "+sub)
		}
	}
	log.Warn("no rulesets: the rulesets dir holds no *.yaml file, so every mask request answers 404; "+
		"add ruleset files there (loaded a second or two after they are written), upload one (PUT /v1/rulesets/{name}), "+
		"or name a folder of rulesets with -rulesets or rulesets_dir (the repo's are in rulesets/examples)", args...)
}

// subdirWithRulesets returns the first folder directly under dir that
// holds a ruleset file, or "".
func subdirWithRulesets(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		for _, pat := range []string{"*.yaml", "*.yml"} {
			if m, _ := filepath.Glob(filepath.Join(sub, pat)); len(m) > 0 {
				return sub
			}
		}
	}
	return ""
}

func isUnder(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
