// Package httpapi is maskstream's HTTP server: the mask endpoint and ruleset
// management in DataMasque's in-flight style (/v1/... and DataMasque's own
// /ifm/... paths), health, readiness, Prometheus metrics and the status
// page hook.
//
// Security is on by default: bearer tokens with scopes, stored as SHA-256
// and compared in constant time; a per-token rate limit; body, record and
// nesting limits; strict JSON; server timeouts; TLS when configured;
// security headers. Nothing sensitive leaves the process: the access log
// holds the method, the route pattern, the status, the size and the
// duration, never a path value, a payload or a secret.
package httpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// Server is the HTTP server. Build it with New, then run Serve or
// ListenAndServe, or mount Handler in your own http.Server.
type Server struct {
	cfg     Config
	store   *rulesets.Store[*engine.Masker]
	secret  *engine.Secret
	log     *slog.Logger
	now     func() time.Time
	ready   func() error
	status  http.Handler
	auth    *authenticator
	metrics *metrics
	// inflight is the budget of mask-request body bytes held at once.
	inflight *budget
	tls      *tls.Config
	handler  http.Handler
}

// New checks cfg, reads the token files and variables, the TLS certificate,
// registers the http_* metrics and builds the routes. It does not listen.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(deps); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		store:  deps.Store,
		secret: deps.Secret,
		log:    deps.Logger,
		now:    deps.Now,
		ready:  deps.Ready,
		status: deps.StatusHandler,

		inflight: newBudget(cfg.MaxInflightBytes),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ready == nil {
		s.ready = func() error {
			if !s.store.Loaded() {
				return errors.New("rulesets are not loaded yet")
			}
			return nil
		}
	}
	getenv := deps.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var err error
	if s.auth, err = newAuthenticator(cfg, getenv); err != nil {
		return nil, err
	}
	reg, gath := deps.Registerer, deps.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, gath = r, r
	}
	if gath == nil {
		g, ok := reg.(prometheus.Gatherer)
		if !ok {
			return nil, errors.New("httpapi: Deps.Gatherer is required when Deps.Registerer is not a *prometheus.Registry")
		}
		gath = g
	}
	if s.metrics, err = newMetrics(reg, gath); err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		if s.tls, err = loadTLS(cfg.TLS); err != nil {
			return nil, err
		}
	}
	if cfg.InsecureNoAuth {
		s.log.Warn("http authentication is disabled (insecure_no_auth): every endpoint answers without a token; the server listens on loopback only")
	} else if len(cfg.Tokens) == 0 {
		s.log.Warn("http: no tokens are configured: the mask and ruleset endpoints will answer 401 until http.tokens lists one")
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's handler with every middleware applied
// (security headers, access log, metrics, panic recovery, auth per route).
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe listens on Config.Listen and serves until ctx ends, then
// shuts down gracefully (see Serve).
func (s *Server) ListenAndServe(ctx context.Context) error {
	if err := s.checkListenAddr(s.cfg.Listen); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("httpapi: listening on %s: %w; is another process using the port?", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then stops accepting, lets in-flight
// requests finish within Config.ShutdownTimeout and closes the rest. It
// returns nil after a clean shutdown. Serve owns ln and closes it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.checkListenAddr(ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         s.tls,
		// The standard library logs TLS handshake failures and similar
		// with the client's address only; route them to our logger.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context {
			return context.WithoutCancel(ctx)
		},
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	s.log.Info("http server listening", "addr", ln.Addr().String(), "tls", s.tls != nil)
	select {
	case err := <-errc:
		return fmt.Errorf("httpapi: serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// The deadline passed with requests still running: cut them.
		srv.Close()
		err = fmt.Errorf("httpapi: shutdown deadline of %s passed with requests in flight; they were cut", s.cfg.ShutdownTimeout)
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("httpapi: serving: %w", serr)
	}
	s.log.Info("http server stopped")
	return err
}

// checkListenAddr refuses a non-loopback address in insecure mode.
func (s *Server) checkListenAddr(addr string) error {
	if !s.cfg.InsecureNoAuth {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("httpapi: insecure_no_auth serves without tokens, so it listens on loopback only; %q is not loopback: use 127.0.0.1:PORT, or configure tokens", addr)
}

// tls12Suites are the TLS 1.2 cipher suites served (TLS 1.3 picks its own):
// Mozilla's "intermediate" set, ECDHE with an AEAD. Go's defaults also take
// the CBC-SHA1 suites, which only clients older than TLS 1.2's AEADs need.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

func loadTLS(c *TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("httpapi: loading the TLS certificate: %w; check http.tls.cert_file and key_file", err)
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: tls12Suites, Certificates: []tls.Certificate{cert}}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("httpapi: reading the client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("httpapi: %s holds no PEM certificate", c.ClientCAFile)
		}
		t.ClientCAs, t.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return t, nil
}

// routes builds the mux. Every pattern is the route label of the metrics
// and the access log.
func (s *Server) routes() http.Handler {
	mux := newPatternMux()
	v1, ifm := apiV1, apiIFM

	// Open unless protect_read (never a record value).
	mux.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	mux.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	mux.Handle("GET /metrics", s.guard(v1, s.readScopes(), s.metrics.handler()))
	mux.Handle("GET /{$}", s.guard(v1, s.readScopes(), http.HandlerFunc(s.index)))
	if s.status != nil {
		// The status page's data and assets, mounted at the root beside
		// the page (httpapi/status serves them relative to "/").
		mux.Handle("GET /status.json", s.guard(v1, s.readScopes(), s.status))
		static := s.status
		if s.cfg.ProtectRead {
			static = privateCache(static)
		}
		mux.Handle("GET /static/", s.guard(v1, s.readScopes(), static))
	}

	// maskstream's own API.
	mux.Handle("POST /v1/mask/{name}", s.guardWith(v1, scopes(ScopeMask), true, s.maskHandler(v1)))
	mux.Handle("GET /v1/rulesets", s.guard(v1, scopes(ScopeAdmin, ScopeRead, ScopeMask), http.HandlerFunc(s.v1List)))
	mux.Handle("GET /v1/rulesets/{name}", s.guard(v1, scopes(ScopeAdmin, ScopeRead), http.HandlerFunc(s.v1Get)))
	mux.Handle("PUT /v1/rulesets/{name}", s.guard(v1, scopes(ScopeAdmin), http.HandlerFunc(s.v1Put)))
	mux.Handle("DELETE /v1/rulesets/{name}", s.guard(v1, scopes(ScopeAdmin), http.HandlerFunc(s.v1Delete)))

	// DataMasque's in-flight masking API. Its paths end with a slash;
	// the slash-less forms are accepted too.
	for _, sl := range []string{"/", ""} {
		end := sl
		if sl == "/" {
			end = "/{$}"
		}
		mux.Handle("GET /ifm/verify-token"+end, s.guardWith(ifm, scopes(ScopeAdmin, ScopeRead, ScopeMask), true, http.HandlerFunc(s.ifmVerifyToken)))
		mux.Handle("GET /ifm/ruleset-plans"+end, s.guard(ifm, scopes(ScopeAdmin, ScopeRead, ScopeMask), http.HandlerFunc(s.ifmList)))
		mux.Handle("POST /ifm/ruleset-plans"+end, s.guard(ifm, scopes(ScopeAdmin), http.HandlerFunc(s.ifmCreate)))
		mux.Handle("GET /ifm/ruleset-plans/{name}"+end, s.guard(ifm, scopes(ScopeAdmin, ScopeRead), http.HandlerFunc(s.ifmGet)))
		mux.Handle("PUT /ifm/ruleset-plans/{name}"+end, s.guard(ifm, scopes(ScopeAdmin), s.ifmUpdate(false)))
		mux.Handle("PATCH /ifm/ruleset-plans/{name}"+end, s.guard(ifm, scopes(ScopeAdmin), s.ifmUpdate(true)))
		mux.Handle("DELETE /ifm/ruleset-plans/{name}"+end, s.guard(ifm, scopes(ScopeAdmin), http.HandlerFunc(s.ifmDelete)))
		mux.Handle("POST /ifm/ruleset-plans/{name}/mask"+end, s.guardWith(ifm, scopes(ScopeMask), true, s.maskHandler(ifm)))
	}

	// DataMasque's login, open: its callers have no token yet.
	for _, p := range loginPatterns {
		mux.Handle(p, http.HandlerFunc(s.login))
	}

	// Anything else under either API answers in that API's error shape,
	// not the mux's plain text: clients parse every answer as JSON. These
	// patterns are the least specific, so they get only what no route
	// above takes.
	for _, p := range unroutedPatterns {
		a := apiV1
		if strings.HasPrefix(p, "/ifm") {
			a = apiIFM
		}
		mux.Handle(p, s.unrouted(mux.ServeMux, a))
	}
	s.metrics.zeroErrors(mux.patterns)
	var h http.Handler = mux.ServeMux
	if s.cfg.InsecureNoAuth {
		h = s.localOnly(h)
	}
	return s.observe(h)
}

// unroutedPatterns catch the paths and methods no route of the two APIs
// takes. The slash-less forms keep the mux from redirecting to a 404.
var unroutedPatterns = [...]string{"/v1/", "/v1", "/ifm/", "/ifm"}

func isUnrouted(pattern string) bool {
	for _, p := range unroutedPatterns {
		if pattern == p {
			return true
		}
	}
	return false
}

// unrouted answers a request no route takes: 405 with Allow when a route
// takes the path with another method, else 404. Neither quotes the path.
func (s *Server) unrouted(mux *http.ServeMux, a api) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow := allowedMethods(mux, r)
		if len(allow) == 0 {
			msg := "there is no endpoint at this path; the /v1/ endpoints are POST /v1/mask/{name}, GET /v1/rulesets and GET, PUT or DELETE /v1/rulesets/{name}"
			if a == apiIFM {
				msg = "there is no endpoint at this path; the /ifm/ endpoints are /ifm/verify-token/, /ifm/ruleset-plans/, /ifm/ruleset-plans/{name}/ and /ifm/ruleset-plans/{name}/mask/"
			}
			s.writeError(w, a, http.StatusNotFound, codeNotFound, msg)
			return
		}
		list := strings.Join(allow, ", ")
		w.Header().Set("Allow", list)
		s.writeError(w, a, http.StatusMethodNotAllowed, codeMethod,
			"method "+strconv.Quote(r.Method)+" is not allowed on this path; it takes "+list)
	})
}

// allowedMethods lists the methods a route takes r's path with, sorted as
// the mux's own 405 does. The mux has no call for it, so each method is
// tried; r's path is already clean (the mux redirects the others).
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range [...]string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut} {
		if _, p := mux.Handler(&http.Request{Method: m, URL: r.URL, Host: r.Host}); p != "" && !isUnrouted(p) {
			out = append(out, m)
		}
	}
	return out
}

// readScopes are the scopes /metrics and / need: none unless protect_read.
func (s *Server) readScopes() scopeSet {
	if !s.cfg.ProtectRead {
		return 0
	}
	return scopes(ScopeRead, ScopeAdmin)
}
