package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// Defaults of Config.
const (
	DefaultListen            = ":8080"
	DefaultTokenRPS          = 100
	DefaultTokenBurst        = 200
	DefaultBodyFactor        = 4 // MaxBodyBytes = factor × MaxRecordBytes + 64 KiB
	DefaultMaxRulesetBytes   = 1 << 20
	DefaultMaxInflightBytes  = 64 << 20
	DefaultMaxInflightWait   = time.Second
	DefaultMaxRecords        = 10_000
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 15 * time.Second
)

// Scopes a token may carry.
const (
	ScopeMask  = "mask"  // POST /v1/mask/{name}, POST /ifm/ruleset-plans/{name}/mask/
	ScopeAdmin = "admin" // create, change and delete rulesets and plans; read them
	ScopeRead  = "read"  // read rulesets and plans; /metrics and / under protect_read
)

// Config is the HTTP server's configuration (the daemon config's http:
// section plus the record limits). The zero value, with tokens added, is a
// working server on :8080.
type Config struct {
	// Listen is the address ListenAndServe binds. This overrides the
	// default of ":8080".
	Listen string
	// TLS serves HTTPS (TLS 1.2 or newer) when set.
	TLS *TLSConfig
	// Tokens are the bearer tokens the API accepts.
	Tokens []Token
	// RateLimit is every token's limit unless the token sets its own.
	// This overrides the default of 100 requests/s, burst 200.
	RateLimit RateLimit
	// AllowRequestSecret lets a mask request carry its own run_secret.
	// Without it such a request is refused with 403.
	AllowRequestSecret bool
	// ProtectRead makes /metrics and the status page at / require a token
	// with scope read (or admin).
	ProtectRead bool
	// InsecureNoAuth serves every endpoint without a token. The server
	// then refuses any listen address that is not loopback.
	InsecureNoAuth bool

	// MaxRecordBytes is the largest record (one data entry). This
	// overrides the default of 1 MiB.
	MaxRecordBytes int
	// MaxDepth is the deepest nesting of a record. This overrides the
	// default of 128.
	MaxDepth int
	// MaxBodyBytes is the largest mask request body (413 beyond). This
	// overrides the default of 4 × MaxRecordBytes + 64 KiB.
	MaxBodyBytes int64
	// MaxRecords is the most records (data entries, and hash_values
	// entries) one mask request may carry (413 beyond). The body limit
	// alone lets a body of 2-byte records hold two million of them, and
	// each costs memory and an engine call the in-flight byte budget does
	// not count; 10,000 keeps that per-record state (16 bytes a span,
	// tens of bytes of output framing) well under the body's own size
	// while leaving room for any batch of records of 400 bytes or more to
	// reach the body limit first. This overrides the default of 10,000.
	MaxRecords int
	// MaxRulesetBytes is the largest ruleset upload. This overrides the
	// default of 1 MiB.
	MaxRulesetBytes int64
	// MaxInflightBytes caps the mask-request body bytes the server holds
	// at once, over every token: a request takes its Content-Length (a
	// chunked one MaxBodyBytes) before reading its body and gives it back
	// when answered. One larger than the whole budget runs alone. This
	// overrides the default of 64 MiB.
	MaxInflightBytes int64
	// MaxInflightWait is how long a mask request waits for room in the
	// budget before the server answers 503 with Retry-After. This
	// overrides the default of 1s.
	MaxInflightWait time.Duration

	// Timeouts of the http.Server; ShutdownTimeout bounds how long
	// in-flight requests may take to finish once Serve's context ends.
	// Each overrides its Default* constant.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration

	// PublicURL is the http(s)://host[:port][/prefix] clients reach the
	// server at, the start of the url fields of responses: set it behind
	// a TLS-terminating proxy. By default they take the request's scheme
	// and Host header.
	PublicURL string
}

// TLSConfig is the server certificate, read when New is called.
type TLSConfig struct {
	CertFile string
	KeyFile  string
	// ClientCAFile, when set, requires client certificates signed by it.
	ClientCAFile string
}

// Token is one accepted bearer token. Exactly one of SHA256, Value, Env or
// File gives it; New reads Env and File and keeps only the SHA-256.
type Token struct {
	// Name identifies the token in logs and metrics; never the token.
	Name string
	// SHA256 is the hex SHA-256 of the token.
	SHA256 string
	// Value is the token itself (tests, programmatic use).
	Value string
	// Env names an environment variable holding the token, and File a
	// file holding it. Trailing newlines are dropped from either; other
	// blanks at either end are refused.
	Env    string
	File   string
	Scopes []string
	// RateLimit overrides Config.RateLimit for this token when non-nil.
	RateLimit *RateLimit
}

// RateLimit is a token bucket.
type RateLimit struct {
	PerTokenRPS float64
	Burst       int
}

// Deps are what the server uses but does not own.
type Deps struct {
	// Store holds the rulesets the API masks with and manages. Required.
	// The server reads it and changes uploads; the owner loads it.
	Store *rulesets.Store[*engine.Masker]
	// Secret is the instance run secret (MASKSTREAM_RUN_SECRET or
	// run_secret_file). Nil is allowed only with AllowRequestSecret:
	// every mask request must then carry its run_secret.
	Secret *engine.Secret
	// Registerer receives the http_* metrics. This overrides the default
	// of a private registry.
	Registerer prometheus.Registerer
	// Gatherer is what /metrics serves. This overrides the default of
	// Registerer when it is also a Gatherer.
	Gatherer prometheus.Gatherer
	// Logger receives the access log and server messages: never a
	// payload or a secret. This overrides the default of discarding.
	Logger *slog.Logger
	// Ready reports why the process is not ready yet (nil: ready). The
	// daemon passes "rulesets loaded and routes connected". This
	// overrides the default of "Store.Loaded()".
	Ready func() error
	// StatusHandler serves the status page at GET / and its data and
	// assets at GET /status.json and GET /static/ (httpapi/status's
	// Handler). This overrides the default of a plain index of the
	// endpoints.
	StatusHandler http.Handler
	// Getenv reads Token.Env. This overrides the default of os.Getenv.
	Getenv func(string) string
	// Now is the clock for log timestamps. This overrides the default of
	// time.Now.
	Now func() time.Time
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.RateLimit.PerTokenRPS <= 0 {
		c.RateLimit.PerTokenRPS = DefaultTokenRPS
	}
	if c.RateLimit.Burst <= 0 {
		c.RateLimit.Burst = DefaultTokenBurst
	}
	if c.MaxRecordBytes <= 0 {
		c.MaxRecordBytes = engine.DefaultMaxBytes
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = engine.DefaultMaxDepth
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = int64(c.MaxRecordBytes)*DefaultBodyFactor + 64<<10
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	if c.MaxRulesetBytes <= 0 {
		c.MaxRulesetBytes = DefaultMaxRulesetBytes
	}
	if c.MaxInflightBytes <= 0 {
		c.MaxInflightBytes = DefaultMaxInflightBytes
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.ShutdownTimeout, DefaultShutdownTimeout)
	def(&c.MaxInflightWait, DefaultMaxInflightWait)
	return c
}

// validate rejects contradictions in plain words.
func (c Config) validate(d Deps) error {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("httpapi: Deps.Store is required"))
	}
	if d.Secret == nil && !c.AllowRequestSecret {
		errs = append(errs, errors.New("httpapi: no run secret: set MASKSTREAM_RUN_SECRET or run_secret_file, or set http.allow_request_secret: true so every mask request brings its own"))
	}
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("httpapi: tls needs both cert_file and key_file"))
	}
	if c.PublicURL != "" && !validPublicURL(c.PublicURL) {
		// Not quoted: a URL given with a user or a query may hold a
		// credential.
		errs = append(errs, errors.New("httpapi: the public URL must be http:// or https://, a host, an optional port and path prefix, and no user, query or fragment, such as https://masking.example.com"))
	}
	return errors.Join(errs...)
}

// validPublicURL reports whether u can start the url fields of answers:
// the API appends its paths to it.
func validPublicURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Hostname() != "" &&
		!strings.HasSuffix(p.Host, ":") && p.User == nil && p.RawQuery == "" && !p.ForceQuery &&
		!strings.ContainsAny(u, "# \t\r\n")
}
