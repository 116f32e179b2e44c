package status_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi/status"
)

var (
	t0    = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock = func() time.Time { return t0.Add(90 * time.Second) }
)

func sample() status.Snapshot {
	return status.Snapshot{
		Version:   "1.2.3",
		Mode:      "run",
		StartedAt: t0,
		Routes: []status.Route{{
			Name: "orders", State: "running",
			Source: "kafka prod: orders,payments", Sink: "kafka dev: {topic}.masked", DeadLetter: "kafka prod: maskstream.dlq",
			Ruleset: "orders", RulesetSerial: 7, Lanes: 4,
			RecordsIn: 1200, RecordsOut: 1190, DeadLetters: 3,
			DeadLettersByReason: map[string]uint64{"not_json": 2, "too_deep": 1},
			InRate:              41.5, OutRate: 40.25,
			Lag:        12,
			Partitions: []status.Partition{{Topic: "orders", Partition: 0, Lag: 5}, {Topic: "orders", Partition: 1, Lag: 7}},
			LagTime:    t0.Add(80 * time.Second),
		}},
		Rulesets: []status.Ruleset{{
			Name: "orders", Serial: 7, Source: "file", Rules: 14, Enabled: true,
			Modified: t0, LastReload: t0.Add(60 * time.Second), LastResult: status.ReloadFailed,
			Problems: []status.Problem{{Line: 3, Col: 9, Message: "unknown mask type \"imitat\"; did you mean imitate?"}},
		}},
	}
}

type response struct {
	code   int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{rec.Code, rec.Result().Header, string(b)}
}

func TestHandlerRoutes(t *testing.T) {
	h := status.Handler(status.SourceFunc(sample), status.WithClock(clock))
	tests := []struct {
		name, method, path string
		code               int
		contentType        string
		contains           []string
	}{
		{name: "page", method: "GET", path: "/", code: 200, contentType: "text/html; charset=utf-8",
			contains: []string{`<html lang="en">`, `id="routes-body"`, `id="rulesets-body"`, `data-refresh-ms="2000"`, `href="status.json"`, "never shows a record value"}},
		{name: "page HEAD", method: "HEAD", path: "/", code: 200, contentType: "text/html; charset=utf-8"},
		{name: "json", method: "GET", path: "/status.json", code: 200, contentType: "application/json", contains: []string{`"routes":[`}},
		{name: "script", method: "GET", path: "/static/app.js", code: 200, contentType: "text/javascript; charset=utf-8", contains: []string{"textContent", "status.json"}},
		{name: "style", method: "GET", path: "/static/app.css", code: 200, contentType: "text/css; charset=utf-8", contains: []string{"prefers-color-scheme"}},
		{name: "unknown path", method: "GET", path: "/static/other.js", code: 404},
		{name: "no directory listing", method: "GET", path: "/static/", code: 404},
		{name: "template not served", method: "GET", path: "/static/index.html", code: 404},
		{name: "post refused", method: "POST", path: "/status.json", code: 405},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			r := get(t, h, test.method, test.path, nil)
			if r.code != test.code {
				t.Fatalf("status %d, want %d; body %q", r.code, test.code, r.body)
			}
			if test.contentType != "" && r.header.Get("Content-Type") != test.contentType {
				t.Errorf("Content-Type %q, want %q", r.header.Get("Content-Type"), test.contentType)
			}
			if r.code == 200 && r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("X-Content-Type-Options: nosniff missing")
			}
			for _, want := range test.contains {
				if !strings.Contains(r.body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
			if test.method == "HEAD" && (r.body != "" || r.header.Get("Content-Length") == "") {
				t.Errorf("HEAD: body %d bytes, Content-Length %q", len(r.body), r.header.Get("Content-Length"))
			}
			if test.code == 405 && r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

// The page must run under default-src 'self': no inline script, no inline
// style, no event handler attribute, no javascript: URL, nothing loaded
// from another origin.
func TestPageRunsUnderStrictCSP(t *testing.T) {
	h := status.Handler(status.SourceFunc(sample))
	page := get(t, h, "GET", "/", nil)
	if got := page.header.Get("Content-Security-Policy"); got != status.ContentSecurityPolicy {
		t.Errorf("CSP %q, want %q", got, status.ContentSecurityPolicy)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`(?i)<style\b`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"(?:https?:)?//`),
		regexp.MustCompile(`(?i)@import|url\(\s*["']?https?:`),
	} {
		if loc := bad.FindStringIndex(page.body); loc != nil {
			t.Errorf("page has %q (matched %v), which a strict CSP blocks", page.body[loc[0]:min(loc[1]+20, len(page.body))], bad)
		}
	}
	scripts := regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(page.body, -1)
	if len(scripts) != 1 || !strings.Contains(scripts[0], ` src="static/app.js?v=`) {
		t.Errorf("page has script elements %q, want exactly the external app.js", scripts)
	}
	js := get(t, h, "GET", "/static/app.js", nil).body
	css := get(t, h, "GET", "/static/app.css", nil).body
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", ".style.", "setAttribute(\"style\"", "http://", "https://"} {
		if bad == "http://" && strings.Contains(js, "http://www.w3.org/2000/svg") {
			// The SVG namespace is an identifier, not a request.
			if strings.Count(js, "http://") == 1 {
				continue
			}
		}
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %q", bad)
		}
	}
	for _, bad := range []string{"@import", "url(http", "url(//", "@font-face"} {
		if strings.Contains(css, bad) {
			t.Errorf("app.css uses %q: the page loads nothing from elsewhere", bad)
		}
	}
}

// When the HTTP server already set a policy (httpapi does for GET /), the
// handler keeps it.
func TestPageKeepsServerCSP(t *testing.T) {
	const serverCSP = "default-src 'self'; frame-ancestors 'none'"
	inner := status.Handler(status.SourceFunc(sample))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", serverCSP)
		inner.ServeHTTP(w, r)
	})
	if got := get(t, h, "GET", "/", nil).header.Get("Content-Security-Policy"); got != serverCSP {
		t.Errorf("CSP %q, want the server's %q", got, serverCSP)
	}
}

func TestPageReferencesServedAssets(t *testing.T) {
	h := status.Handler(status.SourceFunc(sample), status.WithRefresh(750*time.Millisecond))
	page := get(t, h, "GET", "/", nil)
	if !strings.Contains(page.body, `data-refresh-ms="750"`) {
		t.Error("WithRefresh did not reach the page")
	}
	refs := regexp.MustCompile(`(?:src|href)="(static/[^"]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(refs) != 2 {
		t.Fatalf("page references %d static assets, want app.js and app.css: %v", len(refs), refs)
	}
	for _, ref := range refs {
		r := get(t, h, "GET", "/"+ref[1], nil)
		if r.code != 200 {
			t.Errorf("%s: status %d", ref[1], r.code)
		}
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: versioned asset has Cache-Control %q, want immutable", ref[1], cc)
		}
		etag := r.header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", ref[1])
		}
		if nm := get(t, h, "GET", "/"+ref[1], map[string]string{"If-None-Match": etag}); nm.code != http.StatusNotModified || nm.body != "" {
			t.Errorf("%s: If-None-Match answered %d with %d bytes", ref[1], nm.code, len(nm.body))
		}
	}
	if cc := get(t, h, "GET", "/static/app.js", nil).header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("unversioned asset Cache-Control %q, want no-cache", cc)
	}
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page Cache-Control %q, want no-store", cc)
	}
}

func TestStatusJSONShape(t *testing.T) {
	h := status.Handler(status.SourceFunc(sample), status.WithClock(clock))
	r := get(t, h, "GET", "/status.json", nil)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	checkKeys(t, "snapshot", got, "version", "mode", "started_at", "generated_at", "uptime_seconds", "routes", "rulesets")
	if got["uptime_seconds"] != 90.0 || got["generated_at"] != "2025-03-01T12:01:30Z" {
		t.Errorf("uptime %v generated_at %v: the handler's clock was not used", got["uptime_seconds"], got["generated_at"])
	}
	route := got["routes"].([]any)[0].(map[string]any)
	checkKeys(t, "route", route, "name", "state", "source", "sink", "dead_letter", "ruleset", "ruleset_serial", "lanes",
		"records_in", "records_out", "dead_letters", "dead_letters_by_reason", "in_rate", "out_rate", "lag", "partitions", "lag_time")
	checkKeys(t, "partition", route["partitions"].([]any)[1].(map[string]any), "topic", "partition", "lag")
	rs := got["rulesets"].([]any)[0].(map[string]any)
	checkKeys(t, "ruleset", rs, "name", "serial", "source", "rules", "enabled", "modified", "last_reload", "last_result", "problems")
	checkKeys(t, "problem", rs["problems"].([]any)[0].(map[string]any), "line", "col", "message")
	if route["out_rate"] != 40.25 || route["dead_letters_by_reason"].(map[string]any)["not_json"] != 2.0 {
		t.Errorf("route values changed on the way: %v", route)
	}
}

func checkKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing", what, k)
		}
	}
	for k := range m {
		if !want[k] {
			t.Errorf("%s: unexpected key %q", what, k)
		}
	}
}

func TestStatusJSONEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		snap  status.Snapshot
		check func(t *testing.T, m map[string]any)
	}{
		{
			name: "empty lists are arrays, not null",
			snap: status.Snapshot{Version: "dev"},
			check: func(t *testing.T, m map[string]any) {
				if r, ok := m["routes"].([]any); !ok || len(r) != 0 {
					t.Errorf("routes = %#v, want []", m["routes"])
				}
				if r, ok := m["rulesets"].([]any); !ok || len(r) != 0 {
					t.Errorf("rulesets = %#v, want []", m["rulesets"])
				}
				if _, ok := m["started_at"]; ok || m["uptime_seconds"] != 0.0 {
					t.Errorf("no start time: started_at %v, uptime %v", m["started_at"], m["uptime_seconds"])
				}
			},
		},
		{
			name: "rates that are not finite become 0",
			snap: status.Snapshot{Routes: []status.Route{{Name: "a", InRate: math.NaN(), OutRate: math.Inf(1)}, {Name: "b", InRate: -3}}},
			check: func(t *testing.T, m map[string]any) {
				for _, r := range m["routes"].([]any) {
					r := r.(map[string]any)
					if r["in_rate"] != 0.0 || r["out_rate"] != 0.0 {
						t.Errorf("route %v: rates %v %v, want 0", r["name"], r["in_rate"], r["out_rate"])
					}
				}
			},
		},
		{
			name: "a clock before the start gives uptime 0",
			snap: status.Snapshot{StartedAt: clock().Add(time.Hour)},
			check: func(t *testing.T, m map[string]any) {
				if m["uptime_seconds"] != 0.0 {
					t.Errorf("uptime %v", m["uptime_seconds"])
				}
			},
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			h := status.Handler(status.SourceFunc(func() status.Snapshot { return test.snap }), status.WithClock(clock))
			r := get(t, h, "GET", "/status.json", nil)
			if r.code != 200 {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(r.body), &m); err != nil {
				t.Fatal(err)
			}
			test.check(t, m)
		})
	}
}

// Mounted under a prefix, the page still finds its data and assets: it
// refers to them relatively.
func TestHandlerUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ops/status/", http.StripPrefix("/ops/status", status.Handler(status.SourceFunc(sample))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// Without the trailing slash the page's relative links would miss the
	// prefix: the handler redirects to it.
	h := http.StripPrefix("/ops/status", status.Handler(status.SourceFunc(sample)))
	if r := get(t, h, "GET", "/ops/status", nil); r.code != http.StatusMovedPermanently || r.header.Get("Location") != "status/" {
		t.Errorf("GET /ops/status: %d Location %q, want 301 to status/", r.code, r.header.Get("Location"))
	}
	for _, p := range []string{"/ops/status/", "/ops/status/status.json", "/ops/status/static/app.js", "/ops/status/static/app.css"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
	}
}
