package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's http_* metrics (DESIGN §8). Labels hold route
// patterns and status codes only: never a path value.
type metrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	gatherer prometheus.Gatherer
	// series caches the children by route and code: resolving label
	// values hashes them on every call, which the hot path can skip.
	series sync.Map // seriesKey -> *routeSeries
}

type seriesKey struct {
	route string
	code  int
}

type routeSeries struct {
	requests prometheus.Counter
	seconds  prometheus.Observer
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	k := seriesKey{route, code}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &routeSeries{
			requests: m.requests.WithLabelValues(route, strconv.Itoa(code)),
			seconds:  m.seconds.WithLabelValues(route),
		})
	}
	rs := v.(*routeSeries)
	rs.requests.Inc()
	rs.seconds.Observe(d.Seconds())
}

// errorCodes are the 5xx codes the server answers with: 500 when a handler
// fails or panics, 503 from /readyz. The HTTP-error alert reads their rate,
// and rate() sees no rise in a series whose first sample is already 1, so
// zeroErrors creates them at 0 before the first request.
var errorCodes = [...]string{"500", "503"}

// zeroErrors creates the errorCodes series of every route label the mux's
// patterns give, plus "unmatched": routes × 2 series, a bounded set fixed
// when the server is built. Other codes still appear with their first
// request: no alert reads them.
func (m *metrics) zeroErrors(patterns []string) {
	routes := map[string]bool{"unmatched": true}
	for _, p := range patterns {
		if !isUnrouted(p) {
			routes[p] = true
		}
	}
	for route := range routes {
		for _, code := range errorCodes {
			m.requests.WithLabelValues(route, code)
		}
	}
}

// patternMux is a ServeMux that remembers its patterns: the mux cannot
// list them, and zeroErrors needs them.
type patternMux struct {
	*http.ServeMux
	patterns []string
}

func newPatternMux() *patternMux { return &patternMux{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern and remembers the pattern.
func (m *patternMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

func newMetrics(reg prometheus.Registerer, g prometheus.Gatherer) (*metrics, error) {
	m := &metrics{gatherer: g}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "maskstream", Name: "http_requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"route", "code"})
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "maskstream", Name: "http_request_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	var err error
	if m.requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if m.seconds, err = register(reg, seconds); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (a second Server on the same registry, as after a restart in
// tests, shares the series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("httpapi: registering metrics: %w", err)
	}
	return c, nil
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// Content-Security-Policy values: the API answers nothing a browser should
// run; the status page may load its own scripts and styles.
const (
	cspAPI    = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	cspStatus = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

var (
	hdrNosniff    = []string{"nosniff"}
	hdrDeny       = []string{"DENY"}
	hdrNoReferrer = []string{"no-referrer"}
	hdrNoStore    = []string{"no-store"}
	hdrCSPAPI     = []string{cspAPI}
	hdrCSPStatus  = []string{cspStatus}
	hdrHSTS       = []string{"max-age=31536000"}
	hdrJSON       = []string{"application/json"}
)

// recorder captures the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	size   int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes flushes through (the status page may stream).
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// observe wraps the mux: security headers, panic recovery, metrics and
// the access log. The access log has the method, the route pattern, the
// status, the size and the duration: no path, query, header or body.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// Shared value slices, keys already canonical: no allocation per
		// request. Handlers replace a value with Set, never append to it.
		h := w.Header()
		h["X-Content-Type-Options"] = hdrNosniff
		h["X-Frame-Options"] = hdrDeny
		h["Referrer-Policy"] = hdrNoReferrer
		h["Cache-Control"] = hdrNoStore
		if r.URL.Path == "/" {
			h["Content-Security-Policy"] = hdrCSPStatus
		} else {
			h["Content-Security-Policy"] = hdrCSPAPI
		}
		if r.TLS != nil {
			h["Strict-Transport-Security"] = hdrHSTS
		}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				// The panic value may hold request data: log its type only.
				s.log.Error("http handler panicked", "route", routeOf(r), "panic_type", fmt.Sprintf("%T", p))
				if rec.status == 0 {
					s.writeError(rec, apiOf(r), http.StatusInternalServerError, codeInternal, "internal error")
				}
			}
			route := routeOf(r)
			status := rec.status
			switch {
			case status == 0 && r.Context().Err() != nil:
				// The handler stopped, unanswered, because the client
				// left: nginx's "client closed request", not a 200.
				status = statusClientClosed
			case status == 0:
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observe(route, status, d)
			s.log.Info("http request", "method", r.Method, "route", route, "status", status, "bytes", rec.size, "duration", d)
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusClientClosed labels, in metrics and the access log, a request the
// handler left unanswered because its client had gone. It never reaches a
// client.
const statusClientClosed = 499

// routeOf is the request's route label: the matched pattern (method and
// path pattern, no path values), or "unmatched", also for the catch-alls
// that answer unknown API paths.
func routeOf(r *http.Request) string {
	if r.Pattern == "" || isUnrouted(r.Pattern) {
		return "unmatched"
	}
	return r.Pattern
}

func apiOf(r *http.Request) api {
	if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/ifm/" {
		return apiIFM
	}
	return apiV1
}
