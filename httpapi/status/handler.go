package status

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// ContentSecurityPolicy is the policy the page is written for: everything
// from the page's own origin, no inline script or style, no frames. The
// HTTP server should send it with GET /; Handler sends it itself when the
// response has no Content-Security-Policy yet.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// DefaultRefresh is how often the page polls /status.json.
const DefaultRefresh = 2 * time.Second

// Paths the handler serves, relative to where it is mounted. The page
// refers to the others relatively, so it also works under a prefix
// (http.StripPrefix("/status", h) serves /status/).
const (
	PathPage   = "/"
	PathJSON   = "/status.json"
	PathScript = "/static/app.js"
	PathStyle  = "/static/app.css"
)

//go:embed web
var webFS embed.FS

type config struct {
	refresh time.Duration
	now     func() time.Time
}

// Option configures Handler.
type Option func(*config)

// WithRefresh sets how often the page polls /status.json. This overrides
// the default of 2s; values under 500ms are raised to 500ms.
func WithRefresh(d time.Duration) Option {
	return func(c *config) { c.refresh = max(d, 500*time.Millisecond) }
}

// WithClock sets the clock for generated_at and uptime. This overrides the
// default of time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

type handler struct {
	src    Source
	cfg    config
	page   []byte
	assets map[string]asset
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the status page at /, its data at /status.json and the
// page's script and style at /static/app.js and /static/app.css. It
// answers GET and HEAD only, and 404 for any other path.
//
// The page is static HTML that a script fills from /status.json every 2
// seconds (WithRefresh); the rates it shows are the Source's. It builds
// its DOM with textContent only, so a route or ruleset name can never
// become markup, and it needs no inline script or style: it runs under
// ContentSecurityPolicy.
func Handler(src Source, opts ...Option) http.Handler {
	cfg := config{refresh: DefaultRefresh, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	h := &handler{src: src, cfg: cfg, assets: map[string]asset{}}
	for path, ct := range map[string]string{
		PathScript: "text/javascript; charset=utf-8",
		PathStyle:  "text/css; charset=utf-8",
	} {
		b, err := fs.ReadFile(webFS, "web"+strings.TrimPrefix(path, "/static"))
		if err != nil {
			panic("status: embedded asset missing: " + err.Error()) // a build mistake, caught by the tests
		}
		sum := sha256.Sum256(b)
		h.assets[path] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	h.page = renderPage(cfg.refresh, h.assets)
	return h
}

var pageTmpl = template.Must(template.ParseFS(webFS, "web/index.html"))

// renderPage fills the page's template once: the refresh interval and the
// assets' versions, so a new binary's script is never mixed with an old
// cached page.
func renderPage(refresh time.Duration, assets map[string]asset) []byte {
	var b bytes.Buffer
	err := pageTmpl.Execute(&b, map[string]any{
		"RefreshMS":  refresh.Milliseconds(),
		"ScriptVer":  strings.Trim(assets[PathScript].etag, `"`),
		"StyleVer":   strings.Trim(assets[PathStyle].etag, `"`),
		"JSONPath":   strings.TrimPrefix(PathJSON, "/"),
		"ScriptPath": strings.TrimPrefix(PathScript, "/"),
		"StylePath":  strings.TrimPrefix(PathStyle, "/"),
	})
	if err != nil {
		panic("status: rendering the page template: " + err.Error())
	}
	return b.Bytes()
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the status page is read-only", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	switch p := r.URL.Path; p {
	case "":
		// Mounted under a prefix and asked without the trailing slash
		// (http.StripPrefix leaves ""): the page's relative links need
		// it, so redirect to the same path with one, relative to the
		// original request so the prefix stays.
		orig, _, _ := strings.Cut(r.RequestURI, "?")
		hdr.Set("Location", path.Base(orig)+"/")
		w.WriteHeader(http.StatusMovedPermanently)
	case PathPage:
		if hdr.Get("Content-Security-Policy") == "" {
			hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
		}
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Cache-Control", "no-store")
		write(w, r, h.page)
	case PathJSON:
		h.serveJSON(w, r)
	case PathScript, PathStyle:
		a := h.assets[p]
		hdr.Set("Content-Type", a.contentType)
		hdr.Set("ETag", a.etag)
		// The page asks for ?v=<etag>, so a cached copy is always the
		// right one; without it, revalidate.
		if r.URL.Query().Get("v") == strings.Trim(a.etag, `"`) {
			hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			hdr.Set("Cache-Control", "no-cache")
		}
		if r.Header.Get("If-None-Match") == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		write(w, r, a.body)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) serveJSON(w http.ResponseWriter, r *http.Request) {
	s := h.src.Status()
	now := h.cfg.now()
	s.GeneratedAt = now.UTC()
	if !s.StartedAt.IsZero() {
		s.UptimeSeconds = math.Max(0, now.Sub(s.StartedAt).Seconds())
	}
	normalize(&s)
	b, err := json.Marshal(&s)
	if err != nil {
		http.Error(w, "status: the snapshot could not be encoded", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	write(w, r, append(b, '\n'))
}

// normalize makes the snapshot encodable and its shape stable: lists are
// [] rather than null, and rates that are not finite (a division by a
// zero interval) are 0, which encoding/json could not write otherwise.
func normalize(s *Snapshot) {
	if s.Routes == nil {
		s.Routes = []Route{}
	}
	if s.Rulesets == nil {
		s.Rulesets = []Ruleset{}
	}
	for i := range s.Routes {
		r := &s.Routes[i]
		r.InRate, r.OutRate = finite(r.InRate), finite(r.OutRate)
	}
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

func write(w http.ResponseWriter, r *http.Request, b []byte) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(b)
}
