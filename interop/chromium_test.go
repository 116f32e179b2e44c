//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi/status"
)

// chromiumArgs are the flags of a quiet, self-contained headless run.
func chromiumArgs(t *testing.T) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}
}

// consoleLine is a line Chromium writes to stderr for a console message
// or an uncaught exception ("[...:INFO:CONSOLE:12] "msg", source: ...").
var consoleLine = regexp.MustCompile(`(?m)^.*(?::CONSOLE[:(]|Uncaught).*$`)

// loadDOM opens url in headless Chromium, lets the page's scripts run for
// budget of virtual time, and returns the DOM and every console message.
// The status page never writes to the console, so any message is a
// problem (an exception, a CSP violation, a failed load).
func loadDOM(t *testing.T, ctx context.Context, chromium, url string, budget time.Duration) (string, []string) {
	t.Helper()
	args := append(chromiumArgs(t), "--virtual-time-budget="+strconv.Itoa(int(budget.Milliseconds())), "--dump-dom", url)
	cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	stdout, stderr, err := run(cctx, nil, chromium, args...)
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v", url, err)
	}
	return string(stdout), consoleLine.FindAllString(string(stderr), -1)
}

// screenshot saves a PNG of url and returns its path, kept after the test
// in $MASKSTREAM_INTEROP_ARTIFACTS (default: maskstream-interop in the
// system's temporary folder) for a person to look at.
func screenshot(t *testing.T, ctx context.Context, chromium, url, name string) string {
	t.Helper()
	dir := os.Getenv("MASKSTREAM_INTEROP_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "maskstream-interop")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	_ = os.Remove(path)
	args := append(chromiumArgs(t), "--virtual-time-budget=5000", "--window-size=1400,1000", "--hide-scrollbars", "--screenshot="+path, url)
	cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if _, _, err := run(cctx, nil, chromium, args...); err != nil {
		t.Fatalf("chromium --screenshot: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() < 1000 {
		t.Fatalf("chromium wrote no usable screenshot at %s: %v", path, err)
	}
	t.Logf("screenshot of %s: %s", url, path)
	return path
}

var (
	domLoaded  = regexp.MustCompile(`<body[^>]*\sdata-loaded="true"`)
	domRouteTR = regexp.MustCompile(`<tr data-route="([^"]*)">(?s:(.*?))</tr>`)
	domOutRate = regexp.MustCompile(`data-field="out_rate" data-value="([^"]*)"`)
)

// routeRates returns each route row of the DOM with the out rate the page
// shows for it.
func routeRates(t *testing.T, dom string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range domRouteTR.FindAllStringSubmatch(dom, -1) {
		name := html.UnescapeString(m[1])
		r := domOutRate.FindStringSubmatch(m[2])
		if r == nil {
			t.Errorf("route row %q has no out rate cell", name)
			continue
		}
		f, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Errorf("route row %q: out rate %q is not a number", name, r[1])
		}
		out[name] = f
	}
	return out
}

// serve runs h on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// TestStatusPageInChromium loads the status handler, with the CSP the
// HTTP server sends, in headless Chromium: the script fills the page from
// status.json, a hostile route name stays text, and nothing reaches the
// console. A canary page first proves that console errors and CSP
// violations are caught at all.
func TestStatusPageInChromium(t *testing.T) {
	chromium := tool(t, "chromium", "chromium")
	ctx := testCtx(t, 60*time.Second)
	const hostile = `<img src=x onerror="document.title='pwned'">`
	var pollCount atomic.Uint64
	src := status.SourceFunc(func() status.Snapshot {
		polls := pollCount.Add(1)
		return status.Snapshot{
			Version: "interop", Mode: "run", StartedAt: time.Now().Add(-time.Hour),
			Routes: []status.Route{
				{Name: "orders", State: "running", Source: "kafka prod: orders", Sink: "kafka dev: {topic}.masked",
					Ruleset: "orders", RulesetSerial: 4, RecordsIn: 1000 * polls, RecordsOut: 990 * polls,
					InRate: 500, OutRate: 495.5, Lag: 12, Partitions: []status.Partition{{Topic: "orders", Partition: 0, Lag: 12}},
					DeadLetters: 2, DeadLettersByReason: map[string]uint64{"not_json": 2}},
				{Name: hostile, State: "reconnecting", Source: "nats main: " + hostile, Sink: hostile, Ruleset: hostile},
			},
			Rulesets: []status.Ruleset{{Name: "orders", Serial: 4, Source: "file", Rules: 14, Enabled: true, LastResult: status.ReloadFailed,
				LastReload: time.Now(), Problems: []status.Problem{{Line: 3, Col: 5, Message: hostile}}}},
		}
	})
	page := status.Handler(src)
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", status.ContentSecurityPolicy)
		page.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/canary/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", status.ContentSecurityPolicy)
		if strings.HasSuffix(r.URL.Path, ".js") {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `throw new Error("canary-uncaught");`)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><script>document.title="inline ran"</script><script src="c.js"></script>`)
	})
	base := serve(t, mux)

	_, canary := loadDOM(t, ctx, chromium, base+"/canary/", 2*time.Second)
	joined := strings.Join(canary, "\n")
	if !strings.Contains(joined, "canary-uncaught") || !strings.Contains(joined, "Content Security Policy") {
		t.Fatalf("the console capture missed the canary page's errors; this Chromium logs differently. Captured:\n%s", joined)
	}

	dom, console := loadDOM(t, ctx, chromium, base+"/", 5*time.Second)
	if len(console) > 0 {
		t.Errorf("the status page wrote to the console:\n%s", strings.Join(console, "\n"))
	}
	if !domLoaded.MatchString(dom) {
		t.Fatalf("the page never loaded status.json (body has no data-loaded=\"true\"):\n%s", tail(dom, 3000))
	}
	rates := routeRates(t, dom)
	if len(rates) != 2 || rates["orders"] != 495.5 {
		t.Errorf("route rows %v, want orders at 495.5/s and the hostile one", rates)
	}
	if _, ok := rates[hostile]; !ok {
		t.Errorf("the hostile route name did not come through as text: rows %v", rates)
	}
	if strings.Contains(dom, "<img") || strings.Contains(dom, "<title>pwned") {
		t.Error("a route name became markup")
	}
	for _, want := range []string{"495.5", "not_json: 2", "line 3, col 5", "failed, serial 4 still serving", "reconnecting", "Live"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	screenshot(t, ctx, chromium, base+"/", "status-page-fixture.png")
}

// TestStatusPageDemoInChromium runs `maskstream demo` and loads its status
// page in headless Chromium: every route of status.json is on the page,
// at least one with records flowing, and the console stays empty.
func TestStatusPageDemoInChromium(t *testing.T) {
	bin := maskstreamBin(t)
	chromium := tool(t, "chromium", "chromium")
	ctx := testCtx(t, 60*time.Second)

	help, helpErr, _ := run(ctx, nil, bin, "demo", "-h")
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-{1,2}([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(help)+string(helpErr), -1) {
		flags[m[1]] = true
	}
	addrFlag := ""
	for _, f := range []string{"http", "listen", "http-listen", "addr"} {
		if flags[f] {
			addrFlag = f
			break
		}
	}
	if addrFlag == "" {
		t.Fatalf("`maskstream demo -h` lists no flag for the HTTP address (looked for -http, -listen, -http-listen, -addr); it printed:\n%s%s", help, helpErr)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := []string{"demo", "-" + addrFlag, addr}
	if flags["duration"] {
		args = append(args, "-duration", "80s") // a backstop; the test kills it sooner
	}
	demo := start(t, "maskstream demo", bin, args, "MASKSTREAM_RUN_SECRET="+runSecret)

	base := "http://" + addr
	var snap status.Snapshot
	var last string
	waitFor(t, ctx, 40*time.Second, "the demo's status.json to show records flowing", func() bool {
		if demo.exited() {
			t.Fatalf("maskstream demo exited: %v", demo.err)
		}
		code, body, err := httpGet(base + "/status.json")
		switch {
		case err != nil:
			last = err.Error()
			return false
		case code == http.StatusNotFound:
			t.Fatalf("GET /status.json answered 404: the status handler is not mounted (httpapi must route /status.json and /static/ to Deps.StatusHandler)")
		case code != http.StatusOK:
			last = fmt.Sprintf("status %d", code)
			return false
		}
		snap = status.Snapshot{}
		if err := json.Unmarshal(body, &snap); err != nil {
			t.Fatalf("status.json is not a status snapshot: %v", err)
		}
		for _, r := range snap.Routes {
			if r.OutRate > 0 {
				return true
			}
		}
		last = fmt.Sprintf("%d routes, none with out_rate > 0", len(snap.Routes))
		return false
	}, func() string { return "last: " + last })

	dom, console := loadDOM(t, ctx, chromium, base+"/", 5*time.Second)
	if len(console) > 0 {
		t.Errorf("the status page wrote to the console:\n%s", strings.Join(console, "\n"))
	}
	if !domLoaded.MatchString(dom) {
		t.Fatalf("the page never loaded status.json:\n%s", tail(dom, 3000))
	}
	rates := routeRates(t, dom)
	flowing := false
	for _, r := range snap.Routes {
		rate, ok := rates[r.Name]
		if !ok {
			t.Errorf("route %q of status.json is not on the page", r.Name)
		}
		flowing = flowing || rate > 0
	}
	if !flowing {
		t.Errorf("no route shows a rate above 0 on the page: %v", rates)
	}
	for _, rs := range snap.Rulesets {
		if !strings.Contains(dom, `data-ruleset="`+html.EscapeString(rs.Name)+`"`) {
			t.Errorf("ruleset %q of status.json is not on the page", rs.Name)
		}
	}
	screenshot(t, ctx, chromium, base+"/", "status-page-demo.png")
	if err := demo.stop(20 * time.Second); err != nil {
		t.Errorf("maskstream demo after SIGTERM: %v, want exit status 0", err)
	}
}
