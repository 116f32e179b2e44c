package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi"
)

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path, token, body string
		csp                       string
	}{
		{"POST", "/v1/mask/customer", maskToken, maskBody, "default-src 'none'"},
		{"GET", "/v1/rulesets", "", "", "default-src 'none'"},
		{"GET", "/healthz", "", "", "default-src 'none'"},
		{"GET", "/", "", "", "default-src 'self'"},
	}
	for _, test := range tests {
		t.Run(test.path, func(t *testing.T) {
			r := e.do(test.method, test.path, test.token, test.body)
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
				"Cache-Control":          "no-store",
			} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := r.header.Get("Content-Security-Policy"); !strings.HasPrefix(got, test.csp) || !strings.Contains(got, "frame-ancestors 'none'") {
				t.Errorf("CSP = %q", got)
			}
			if r.header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
		})
	}
}

func TestHealthReadyIndex(t *testing.T) {
	var mu sync.Mutex
	notReady := errors.New("routes are connecting")
	e := newEnv(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		d.Ready = func() error { mu.Lock(); defer mu.Unlock(); return notReady }
	})
	if r := e.do("GET", "/healthz", "", nil); r.status != 200 || string(r.body) != "ok\n" {
		t.Fatalf("/healthz: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/readyz", "", nil); r.status != 503 || !strings.Contains(string(r.body), "routes are connecting") {
		t.Fatalf("/readyz not ready: %d %s", r.status, r.body)
	}
	mu.Lock()
	notReady = nil
	mu.Unlock()
	if r := e.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("/readyz ready: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/", "", nil); r.status != 200 || !strings.Contains(string(r.body), "POST   /v1/mask/{name}") {
		t.Fatalf("/: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/nope", "", nil); r.status != 404 {
		t.Fatalf("/nope: %d", r.status)
	}

	// The status page hook replaces the index and gets its data and
	// asset paths; under protect_read they need a read token too.
	for _, protect := range []bool{false, true} {
		e2 := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
			c.ProtectRead = protect
			d.StatusHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "status "+r.URL.Path) })
		})
		for _, path := range []string{"/", "/status.json", "/static/app.js"} {
			tok := ""
			if protect {
				if r := e2.do("GET", path, "", nil); r.status != 401 {
					t.Fatalf("protect_read %s without a token: %d", path, r.status)
				}
				tok = readToken
			}
			if r := e2.do("GET", path, tok, nil); string(r.body) != "status "+path {
				t.Fatalf("status hook %s: %d %s", path, r.status, r.body)
			}
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/v1/mask/customer", maskToken, maskBody)
	e.do("POST", "/v1/mask/nope", maskToken, maskBody)
	e.do("POST", "/ifm/ruleset-plans/customer/mask/", "", maskBody)
	e.do("GET", "/no/such/path", "", nil)
	r := e.do("GET", "/metrics", "", nil)
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	body := string(r.body)
	for _, want := range []string{
		`maskstream_http_requests_total{code="200",route="POST /v1/mask/{name}"} 1`,
		`maskstream_http_requests_total{code="404",route="POST /v1/mask/{name}"} 1`,
		`maskstream_http_requests_total{code="401",route="POST /ifm/ruleset-plans/{name}/mask/{$}"} 1`,
		`maskstream_http_requests_total{code="404",route="unmatched"} 1`,
		`maskstream_http_request_seconds_count{route="POST /v1/mask/{name}"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "nope") || strings.Contains(body, "/no/such/path") {
		t.Error("a raw path value reached a metric label")
	}
}

// TestUnknownPathsAndMethods: a path or method no route takes answers in
// its API's JSON error shape (clients parse every answer as JSON), 405
// with Allow when another method would do, never the mux's plain text.
func TestUnknownPathsAndMethods(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{"GET", "/v1/nope", 404, ""},
		{"GET", "/v1", 404, ""},
		{"GET", "/v1/", 404, ""},
		{"POST", "/v1/mask/", 404, ""},
		{"POST", "/v1/mask/customer/extra", 404, ""},
		{"GET", "/v1/mask/customer", 405, "POST"},
		{"POST", "/v1/rulesets", 405, "GET, HEAD"},
		{"PATCH", "/v1/rulesets/customer", 405, "DELETE, GET, HEAD, PUT"},
		{"GET", "/ifm/nope/", 404, ""},
		{"GET", "/ifm", 404, ""},
		{"GET", "/ifm/ruleset-plans/customer/mask/extra/", 404, ""},
		{"DELETE", "/ifm/verify-token/", 405, "GET, HEAD"},
		{"GET", "/ifm/ruleset-plans/customer/mask/", 405, "POST"},
		{"GET", "/ifm/ruleset-plans/customer/mask", 405, "POST"},
		{"POST", "/ifm/ruleset-plans/customer/", 405, "DELETE, GET, HEAD, PATCH, PUT"},
		{"PUT", "/ifm/ruleset-plans", 405, "GET, HEAD, POST"},
	}
	for _, test := range tests {
		t.Run(test.method+" "+test.path, func(t *testing.T) {
			r := e.do(test.method, test.path, allToken, nil)
			if r.status != test.wantStatus || r.header.Get("Allow") != test.wantAllow {
				t.Fatalf("%d Allow %q: %s; want %d Allow %q", r.status, r.header.Get("Allow"), r.body, test.wantStatus, test.wantAllow)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q: %s", ct, r.body)
			}
			m := r.json(t)
			if strings.HasPrefix(test.path, "/ifm") {
				d, ok := m["detail"].(string)
				if len(m) != 1 || !ok || d == "" {
					t.Fatalf("not DataMasque's {\"detail\": ...}: %s", r.body)
				}
				return
			}
			errObj, ok := m["error"].(map[string]any)
			wantCode := "not_found"
			if test.wantStatus == 405 {
				wantCode = "method_not_allowed"
			}
			if len(m) != 1 || !ok || len(errObj) != 2 || errObj["code"] != wantCode || errObj["message"] == "" {
				t.Fatalf("not {\"error\": {\"code\": %q, \"message\"}}: %s", wantCode, r.body)
			}
			if test.wantStatus == 405 && !strings.Contains(errObj["message"].(string), "it takes "+test.wantAllow) {
				t.Fatalf("the message does not say which methods: %s", r.body)
			}
		})
	}

	// The routes themselves still answer, and the catch-alls count as
	// unmatched, never under the raw path.
	if r := e.do("POST", "/v1/mask/customer", maskToken, maskBody); r.status != 200 {
		t.Fatalf("mask: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/ifm/ruleset-plans/customer", readToken, nil); r.status != 200 {
		t.Fatalf("get plan: %d %s", r.status, r.body)
	}
	metrics := string(e.do("GET", "/metrics", "", nil).body)
	count := map[int]int{}
	for _, test := range tests {
		count[test.wantStatus]++
	}
	for _, want := range []string{fmt.Sprintf(`code="404",route="unmatched"} %d`, count[404]), fmt.Sprintf(`code="405",route="unmatched"} %d`, count[405])} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, "nope") || strings.Contains(metrics, `route="/v1/"`) {
		t.Error("an unknown path reached a metric label")
	}
}

func TestProtectRead(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.ProtectRead = true })
	for _, path := range []string{"/metrics", "/"} {
		t.Run(path, func(t *testing.T) {
			if r := e.do("GET", path, "", nil); r.status != 401 {
				t.Fatalf("no token: %d", r.status)
			}
			if r := e.do("GET", path, maskToken, nil); r.status != 403 {
				t.Fatalf("mask token: %d", r.status)
			}
			if r := e.do("GET", path, readToken, nil); r.status != 200 {
				t.Fatalf("read token: %d", r.status)
			}
		})
	}
	// Probes stay open.
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := e.do("GET", path, "", nil); r.status != 200 {
			t.Fatalf("%s: %d", path, r.status)
		}
	}
}

// TestNothingSensitiveInLogs masks records carrying a known secret and PII
// with debug logging on, through every path that can fail, and scans the
// whole log for them.
func TestNothingSensitiveInLogs(t *testing.T) {
	const (
		reqSecret = "Sup3r-S3cret-Run-Value-42"
		pii       = "jane.doe.4417@private.example"
		pii2      = "4111111111111111"
	)
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.AllowRequestSecret = true; c.MaxBodyBytes = 2048 })
	rec := `{"customer_id":"` + pii2 + `","email":"` + pii + `"}`
	bodies := []struct{ path, token, body string }{
		{"/v1/mask/customer", maskToken, `{"data":[` + rec + `],"run_secret":"` + reqSecret + `"}`},
		{"/ifm/ruleset-plans/customer/mask/", maskToken, `{"data":[` + rec + `],"run_secret":"` + reqSecret + `","log_level":"debug"}`},
		{"/v1/mask/strict", maskToken, `{"data":[{"email":"` + pii + `"}],"run_secret":"` + reqSecret + `"}`},
		{"/v1/mask/customer", maskToken, `{"data":[` + rec + `],"run_secret":"` + reqSecret + `","bad":1}`},
		{"/v1/mask/customer", maskToken, `{"data":[` + rec + `,],"run_secret":"` + reqSecret + `"}`},
		{"/v1/mask/customer", maskToken, `{"data":[` + rec + `],"run_secret":` + `"` + reqSecret + `"` + strings.Repeat(" ", 3000) + `}`},
		{"/v1/mask/customer", reqSecret, `{"data":[` + rec + `]}`},
		{"/v1/mask/" + pii, maskToken, `{"data":[` + rec + `]}`},
		{"/ifm/ruleset-plans/", adminToken, `{"name":"x","ruleset_yaml":"version: \"1.0\"\nrules: []\n# ` + pii + `"}`},
	}
	for _, b := range bodies {
		r := e.do("POST", b.path, b.token, b.body)
		if strings.Contains(string(r.body), reqSecret) {
			t.Fatalf("a response quotes the run secret: %s", r.body)
		}
	}
	logs := e.logs.String()
	if strings.Count(logs, "http request") != len(bodies) {
		t.Fatalf("the access log is missing; log:\n%s", logs)
	}
	for _, secret := range []string{reqSecret, pii, pii2, "jane", maskToken, adminToken, testSecret} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, logs)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if strings.Contains(line, "http request") {
			for _, k := range []string{" method=", " route=", " status=", " bytes=", " duration="} {
				if !strings.Contains(line, k) {
					t.Fatalf("access log line lacks%s: %s", k, line)
				}
			}
			if strings.Contains(line, "path=") || strings.Contains(line, "remote") || strings.Contains(line, "token") {
				t.Fatalf("access log line holds more than it should: %s", line)
			}
		}
	}
}

func TestConcurrentMasking(t *testing.T) {
	e := newEnv(t)
	want := string(e.do("POST", "/v1/mask/customer", maskToken, `{"data":[{"customer_id":"c-1","email":"a@b.example"}],"request_id":"x"}`).body)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				switch (w + i) % 4 {
				case 0:
					r := e.do("POST", "/v1/mask/customer", maskToken, `{"data":[{"customer_id":"c-1","email":"a@b.example"}],"request_id":"x"}`)
					if string(r.body) != want {
						t.Errorf("concurrent mask differs: %s vs %s", r.body, want)
						return
					}
				case 1:
					e.do("PUT", fmt.Sprintf("/v1/rulesets/u%d", w), adminToken, customerYAML)
				case 2:
					e.do("POST", fmt.Sprintf("/v1/mask/u%d", w), maskToken, maskBody)
				default:
					e.do("GET", "/ifm/ruleset-plans/", readToken, nil)
				}
			}
		}()
	}
	wg.Wait()
}

func TestInsecureNoAuth(t *testing.T) {
	store := newStore(t)
	cfg := httpapi.Config{InsecureNoAuth: true, Listen: ":0"}
	srv, err := httpapi.New(cfg, httpapi.Deps{Store: store, Secret: testSecretValue()})
	if err != nil {
		t.Fatal(err)
	}
	err = srv.ListenAndServe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Fatalf("ListenAndServe on all interfaces: %v", err)
	}
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:80"} {
		cfg.Listen = addr
		srv, _ := httpapi.New(cfg, httpapi.Deps{Store: store, Secret: testSecretValue()})
		if err := srv.ListenAndServe(context.Background()); err == nil || !strings.Contains(err.Error(), "not loopback") {
			t.Fatalf("%s: %v", addr, err)
		}
	}

	base, stop := serveLoopback(t, srv, "http")
	resp, err := http.Get(base + "/ifm/verify-token/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "ifm/admin") {
		t.Fatalf("no-auth verify-token: %d %s", resp.StatusCode, b)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		c.ShutdownTimeout = 20 * time.Second
		d.StatusHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "finished")
		})
	})
	base, stop := serveLoopback(t, e.srv, "http")
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{string(b), err}
	}()
	select {
	case <-entered:
	case r := <-got:
		t.Fatalf("the request was answered without reaching the slow handler: %q %v", r.body, r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("the request never reached the slow handler")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// New connections are refused once shutdown begins.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Fatalf("the in-flight request: %q %v", r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		c.ShutdownTimeout = 50 * time.Millisecond
		d.StatusHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			close(entered)
			<-release
		})
	})
	base, stop := serveLoopback(t, e.srv, "http")
	go func() {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	if err := stop(); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Serve after the deadline: %v", err)
	}
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.TLS = &httpapi.TLSConfig{CertFile: certFile, KeyFile: keyFile}
	})
	base, _ := serveLoopback(t, e.srv, "https")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("TLS %+v, HSTS %q", resp.TLS, resp.Header.Get("Strict-Transport-Security"))
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a TLS 1.1 client was accepted")
	}

	_, err = httpapi.New(httpapi.Config{TLS: &httpapi.TLSConfig{CertFile: certFile, KeyFile: filepath.Join(t.TempDir(), "none")}},
		httpapi.Deps{Store: newStore(t), Secret: testSecretValue()})
	if err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Fatalf("a missing key file: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and returns its files and
// a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "maskstream test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
