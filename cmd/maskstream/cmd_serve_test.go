package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/testenv"
)

// serveTestBuffer collects output while goroutines write.
type serveTestBuffer = testenv.LogBuffer

const (
	serveTestSecret = "serve-test-secret-0123456789"
	serveTestToken  = "serve-test-token-0123456789"
	serveTestYAML   = `version: "1.0"
rules:
  - path: "$.name"
    masks: [ { type: from_fixed, value: "REDACTED" } ]
`
)

// listenRE finds the listen address in text or JSON log lines.
var listenRE = regexp.MustCompile(`msg="http server listening" addr=(\S+)|"msg":"http server listening","addr":"([^"]+)"`)

// startServe runs `maskstream serve args...` in-process and returns the
// server's base URL, its stderr and a func that stops it and returns the
// exit code.
func startServe(t *testing.T, vars map[string]string, args ...string) (string, *serveTestBuffer, func() int) {
	t.Helper()
	stderr := &serveTestBuffer{}
	env := &cliEnv{
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return vars[k] },
	}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- runMain(ctx, env, append([]string{"serve"}, args...)) }()
	var once sync.Once
	exit := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return exit
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(stderr.String()); m != nil {
			t.Cleanup(func() { stop() })
			return "http://" + m[1] + m[2], stderr, stop
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited with %d before listening:\n%s", c, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start listening:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func serveRequest(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeServeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "rules", "people.yaml"), serveTestYAML)
	vars := map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret, "TOK": serveTestToken}
	base, stderr, stop := startServe(t, vars,
		"-rulesets", filepath.Join(dir, "rules"), "-data", filepath.Join(dir, "data"),
		"-listen", "127.0.0.1:0", "-token-env", "TOK")

	if code, body := serveRequest(t, "POST", base+"/v1/mask/people", "", `{"data":[]}`); code != 401 {
		t.Fatalf("without a token: %d %s", code, body)
	}
	code, body := serveRequest(t, "POST", base+"/v1/mask/people", serveTestToken, `{"data":[{"name":"Ann"}],"request_id":"r"}`)
	if code != 200 || !strings.Contains(body, `"data":[{"name":"REDACTED"}]`) {
		t.Fatalf("mask: %d %s", code, body)
	}
	if code, body := serveRequest(t, "PUT", base+"/v1/rulesets/uploaded", serveTestToken, serveTestYAML); code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "plans", "uploaded.json")); err != nil {
		t.Fatalf("the upload was not persisted: %v", err)
	}
	for _, secret := range []string{serveTestSecret, serveTestToken, "Ann"} {
		if strings.Contains(stderr.String(), secret) {
			t.Fatalf("stderr holds %q:\n%s", secret, stderr.String())
		}
	}
}

func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "rules", "people.yaml"), serveTestYAML)
	writeServeFile(t, filepath.Join(dir, "secret"), serveTestSecret+"\n")
	writeServeFile(t, filepath.Join(dir, "maskstream.yaml"), `rulesets_dir: ./rules
data_dir: ./data
run_secret_file: ./secret
limits: { max_record_bytes: 64 }
http:
  listen: "127.0.0.1:0"
  tokens:
    - { name: ops, token_env: OPS_TOKEN, scopes: [mask, admin] }
`)
	base, stderr, stop := startServe(t, map[string]string{"OPS_TOKEN": serveTestToken}, "-c", filepath.Join(dir, "maskstream.yaml"))
	code, body := serveRequest(t, "POST", base+"/ifm/ruleset-plans/people/mask/", serveTestToken, `{"data":[{"name":"Ann"}]}`)
	if code != 200 || !strings.Contains(body, "REDACTED") {
		t.Fatalf("mask: %d %s", code, body)
	}
	// limits.max_record_bytes reaches the server.
	code, body = serveRequest(t, "POST", base+"/v1/mask/people", serveTestToken, `{"data":[{"name":"`+strings.Repeat("a", 100)+`"}]}`)
	if code != 400 || !strings.Contains(body, "too_large") {
		t.Fatalf("a record over max_record_bytes: %d %s", code, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr.String())
	}
}

func TestServeReloadsOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a signal to the test process")
	}
	// Polled once an hour: only the signal can load more.yaml.
	setPollInterval(t, time.Hour)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeServeFile(t, filepath.Join(rules, "people.yaml"), serveTestYAML)
	base, _, _ := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret, "TOK": serveTestToken},
		"-rulesets", rules, "-listen", "127.0.0.1:0", "-token-env", "TOK")
	writeServeFile(t, filepath.Join(rules, "more.yaml"), serveTestYAML)
	p, _ := os.FindProcess(os.Getpid())
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := serveRequest(t, "GET", base+"/v1/rulesets/more", serveTestToken, "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("more.yaml not served after SIGHUP: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeStartErrors(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "rules", "good.yaml"), serveTestYAML)
	writeServeFile(t, filepath.Join(dir, "broken", "bad.yaml"), "version: 1.0\n")
	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"no config", nil, nil, 1, "give the config file with -c"},
		{"no secret", nil, []string{"-rulesets", filepath.Join(dir, "rules")}, 1, "no run secret"},
		{"short secret", map[string]string{"MASKSTREAM_RUN_SECRET": "short"}, []string{"-rulesets", filepath.Join(dir, "rules")}, 1, "16 to 256 characters"},
		{"broken ruleset", map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret}, []string{"-rulesets", filepath.Join(dir, "broken")}, 1, "bad.yaml:1:10"},
		{"missing dir", map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret}, []string{"-rulesets", filepath.Join(dir, "nope")}, 1, "not a readable folder"},
		{"insecure on all interfaces", map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret}, []string{"-rulesets", filepath.Join(dir, "rules"), "-insecure-no-auth", "-listen", ":0"}, 1, "loopback only"},
		{"bad log format", nil, []string{"-log-format", "xml"}, 2, "use text or json"},
		{"bad flag", nil, []string{"-nope"}, 2, "flag provided but not defined"},
		{"stray argument", nil, []string{"extra"}, 2, "unexpected argument"},
		{"help", nil, []string{"-h"}, 0, "usage: maskstream serve"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			stderr := &serveTestBuffer{}
			env := &cliEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr,
				getenv: func(k string) string { return test.vars[k] }}
			// Every case must fail before serving: one that serves after
			// all (a check that broke) stops here instead of running
			// to the go test timeout, and fails on its exit status.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := runMain(ctx, env, append([]string{"serve"}, test.args...))
			if code != test.code || !strings.Contains(stderr.String(), test.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant %d with %q", code, stderr.String(), test.code, test.want)
			}
		})
	}
}

func TestServeAllowRequestSecretWithoutServerSecret(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	base, _, stop := startServe(t, nil, "-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth", "-allow-request-secret")
	code, body := serveRequest(t, "POST", base+"/v1/mask/people", "", `{"data":[{"name":"x"}],"run_secret":"`+serveTestSecret+`"}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := serveRequest(t, "POST", base+"/v1/mask/people", "", `{"data":[{"name":"x"}]}`); code != 400 || !strings.Contains(body, "send run_secret") {
		t.Fatalf("without run_secret: %d %s", code, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func setPollInterval(t *testing.T, d time.Duration) {
	old := rulesetsPollInterval
	rulesetsPollInterval = d
	t.Cleanup(func() { rulesetsPollInterval = old })
}

// serveMetric reads one series' value from /metrics ("" when absent).
func serveMetric(t *testing.T, base, series string) string {
	t.Helper()
	code, body := serveRequest(t, "GET", base+"/metrics", "", "")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	return ""
}

// TestServeMetricsAtZero: the counters the alerts read with increase()
// and rate() exist at 0 on a fresh server, so their first event counts.
func TestServeMetricsAtZero(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	base, _, _ := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret},
		"-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
	for _, series := range []string{
		`maskstream_ruleset_reloads_total{result="ok"}`,
		`maskstream_ruleset_reloads_total{result="error"}`,
		`maskstream_http_requests_total{code="500",route="POST /v1/mask/{name}"}`,
		`maskstream_http_requests_total{code="503",route="POST /v1/mask/{name}"}`,
		`maskstream_http_requests_total{code="500",route="POST /ifm/ruleset-plans/{name}/mask/{$}"}`,
		`maskstream_http_requests_total{code="503",route="GET /readyz"}`,
		`maskstream_http_requests_total{code="500",route="GET /{$}"}`,
		`maskstream_http_requests_total{code="500",route="unmatched"}`,
	} {
		if v := serveMetric(t, base, series); v != "0" {
			t.Errorf("%s = %q, want 0 on a fresh server", series, v)
		}
	}
	// The gauge the reload-failed alert also reads (1: the file loaded).
	if v := serveMetric(t, base, `maskstream_ruleset_healthy{ruleset="people"}`); v != "1" {
		t.Errorf("maskstream_ruleset_healthy{ruleset=\"people\"} = %q, want 1", v)
	}
	// The secret's fingerprint, which the secrets-differ alert compares
	// across instances.
	fp := engine.MustSecret(serveTestSecret).Fingerprint()
	if v := serveMetric(t, base, `maskstream_run_secret_info{fingerprint="`+fp+`"}`); v != "1" {
		t.Errorf("maskstream_run_secret_info{fingerprint=%q} = %q, want 1", fp, v)
	}
	// The catch-all patterns are labelled "unmatched", never by pattern.
	if v := serveMetric(t, base, `maskstream_http_requests_total{code="500",route="/v1/"}`); v != "" {
		t.Errorf("a catch-all pattern has its own series: %s", v)
	}
}

// TestServeCountsFailedReloadOnSIGHUP: a SIGHUP reload that fails counts
// in ruleset_reloads_total{result="error"} (the reload-failed alert) and
// shows on the status page, while the previous version keeps serving.
func TestServeCountsFailedReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a signal to the test process")
	}
	setPollInterval(t, time.Hour)
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	base, _, _ := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret},
		"-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
	writeServeFile(t, filepath.Join(dir, "people.yaml"), "version: 1.0\n")
	p, _ := os.FindProcess(os.Getpid())
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	errSeries := `maskstream_ruleset_reloads_total{result="error"}`
	waitFor(t, 10*time.Second, "a failed reload counted", func() bool { return serveMetric(t, base, errSeries) == "1" })
	if v := serveMetric(t, base, `maskstream_ruleset_reloads_total{result="ok"}`); v != "0" {
		t.Errorf("ok reloads = %q, want 0", v)
	}
	st := serveStatus(t, base)
	if len(st.Rulesets) != 1 || st.Rulesets[0].Name != "people" || st.Rulesets[0].LastResult != "failed" || st.Rulesets[0].Serial != 1 {
		t.Errorf("status page rulesets after a failed reload: %+v", st.Rulesets)
	}
	code, body := serveRequest(t, "POST", base+"/v1/mask/people", "", `{"data":[{"name":"Ann"}]}`)
	if code != 200 || !strings.Contains(body, "REDACTED") {
		t.Fatalf("the previous version stopped serving: %d %s", code, body)
	}
}

// TestServeReloadsOnFileChange: serve polls the rulesets dir as run does,
// and counts what it reloads.
func TestServeReloadsOnFileChange(t *testing.T) {
	setPollInterval(t, 20*time.Millisecond)
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	base, _, _ := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret},
		"-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
	writeServeFile(t, filepath.Join(dir, "more.yaml"), serveTestYAML)
	waitFor(t, 10*time.Second, "more.yaml loaded", func() bool {
		code, _ := serveRequest(t, "GET", base+"/v1/rulesets/more", "", "")
		return code == 200
	})
	if v := serveMetric(t, base, `maskstream_ruleset_reloads_total{result="ok"}`); v == "0" || v == "" {
		t.Errorf("ok reloads = %q after a file change, want at least 1", v)
	}
}

type serveStatusJSON struct {
	Mode     string            `json:"mode"`
	Routes   []json.RawMessage `json:"routes"`
	Rulesets []struct {
		Name       string `json:"name"`
		Serial     int64  `json:"serial"`
		LastResult string `json:"last_result"`
	} `json:"rulesets"`
}

func serveStatus(t *testing.T, base string) serveStatusJSON {
	t.Helper()
	code, body := serveRequest(t, "GET", base+"/status.json", "", "")
	var st serveStatusJSON
	if code != 200 {
		t.Fatalf("/status.json: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status.json: %v\n%s", err, body)
	}
	return st
}

// TestServeStatusPage: GET / is run's status page, fed with serve's
// rulesets and no routes.
func TestServeStatusPage(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	base, _, _ := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret},
		"-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), `id="routes-empty"`) {
		t.Fatalf("GET /: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	if code, _ := serveRequest(t, "GET", base+"/static/app.js", "", ""); code != 200 {
		t.Errorf("GET /static/app.js: %d", code)
	}
	st := serveStatus(t, base)
	if st.Mode != "serve" || st.Routes == nil || len(st.Routes) != 0 ||
		len(st.Rulesets) != 1 || st.Rulesets[0].Name != "people" || st.Rulesets[0].LastResult != "ok" {
		t.Fatalf("/status.json: %+v", st)
	}
}

// TestServeLogFormatJSON: -log-format json makes every log line a JSON
// object, as under run.
func TestServeLogFormatJSON(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	base, stderr, stop := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret},
		"-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth", "-log-format", "json")
	serveRequest(t, "GET", base+"/healthz", "", "")
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr.String())
	}
	lines := 0
	for line := range strings.Lines(stderr.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil {
			t.Fatalf("not a JSON log line (%v): %q", err, line)
		}
		lines++
	}
	if lines < 3 {
		t.Fatalf("only %d log lines:\n%s", lines, stderr.String())
	}
}
