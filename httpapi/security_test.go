package httpapi_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/httpapi/status"
)

// tinyRecords is a mask body of n records of one byte each.
func tinyRecords(n int) string {
	return `{"data":[` + strings.TrimSuffix(strings.Repeat("0,", n), ",") + `]}`
}

// TestMaxRecords: a request with more records than http.max_records is
// refused with 413 in both API shapes, naming the limit and the key.
func TestMaxRecords(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxRecords = 5 })
	for _, path := range []string{"/v1/mask/customer", "/ifm/ruleset-plans/customer/mask/"} {
		if r := e.do("POST", path, maskToken, tinyRecords(5)); r.status != 200 {
			t.Fatalf("%s with 5 records: %d %s", path, r.status, r.body)
		}
		for _, body := range []string{
			tinyRecords(6),
			`{"data":[0],"hash_values":[1,2,3,4,5,6]}`,
			`{"junk":[1,2,3,4,5,6],"data":[0]}`,
		} {
			r := e.do("POST", path, maskToken, body)
			if r.status != 413 || !strings.Contains(string(r.body), "more than 5 ") || !strings.Contains(string(r.body), "http.max_records") {
				t.Fatalf("%s %.40s: %d %s", path, body, r.status, r.body)
			}
			m := r.json(t)
			if strings.HasPrefix(path, "/ifm/") && m["detail"] == nil || strings.HasPrefix(path, "/v1/") && m["error"] == nil {
				t.Fatalf("%s: error body in the wrong shape: %s", path, r.body)
			}
		}
	}
	// Only the envelope's arrays count: a record may be a long array.
	if r := e.do("POST", "/v1/mask/customer", maskToken, `{"data":[[1,2,3,4,5,6,7,8,9]]}`); r.status != 200 {
		t.Fatalf("one record holding an array: %d %s", r.status, r.body)
	}

	def := newEnv(t)
	if r := def.do("POST", "/v1/mask/customer", maskToken, tinyRecords(httpapi.DefaultMaxRecords)); r.status != 200 {
		t.Fatalf("%d records by default: %d %.200s", httpapi.DefaultMaxRecords, r.status, r.body)
	}
	r := def.do("POST", "/v1/mask/customer", maskToken, tinyRecords(httpapi.DefaultMaxRecords+1))
	if r.status != 413 || !strings.Contains(string(r.body), strconv.Itoa(httpapi.DefaultMaxRecords)) {
		t.Fatalf("%d records by default: %d %s", httpapi.DefaultMaxRecords+1, r.status, r.body)
	}
}

// TestTinyRecordsMemory: a body at the size limit made of 2-byte entries
// (two million of them), at the top level or in one record, costs the
// server about its own size, not 16 bytes and more per entry.
func TestTinyRecordsMemory(t *testing.T) {
	e := newEnv(t)
	h := e.srv.Handler()
	n := (4<<20 + 64<<10 - 16) / 2
	for name, body := range map[string]string{
		"top level":    tinyRecords(n),
		"in one array": `{"data":[[` + strings.TrimSuffix(strings.Repeat("0,", n-4), ",") + `]]}`,
	} {
		t.Run(name, func(t *testing.T) {
			raw := []byte(body)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			req := httptest.NewRequest("POST", "/v1/mask/customer", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Bearer "+maskToken)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			runtime.ReadMemStats(&after)
			if w.Code != 413 && w.Code != 400 {
				t.Fatalf("answer %d %.200s", w.Code, w.Body)
			}
			// Reading the body costs about four times its size as its
			// buffer grows; a span per entry would add 32 MiB and more.
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(6*len(raw)); got > limit {
				t.Fatalf("one request allocated %d bytes for a body of %d; want at most %d", got, len(raw), limit)
			}
		})
	}
}

// TestInsecureNoAuthBrowserOrigins: without tokens, a page of another site
// cannot drive the server, by a cross-site POST or by DNS rebinding, while
// its own status page and clients without an Origin header still work.
func TestInsecureNoAuthBrowserOrigins(t *testing.T) {
	srv, err := httpapi.New(httpapi.Config{InsecureNoAuth: true}, httpapi.Deps{Store: newStore(t), Secret: testSecretValue()})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := serveLoopback(t, srv, "http")
	port := base[strings.LastIndex(base, ":")+1:]
	plan := `{"name":"p%d","ruleset_yaml":` + strconv.Quote(customerYAML) + `}`
	tests := []struct {
		name, host, origin string
		want               int
	}{
		{"no origin", "", "", 201},
		{"same origin", "", base, 201},
		{"localhost", "localhost:" + port, "http://localhost:" + port, 201},
		{"ipv6 loopback", "[::1]:" + port, "", 201},
		{"other loopback address", "127.0.0.2:" + port, "", 201},
		{"cross-site page", "", "http://evil.example", 403},
		{"cross-site page on this port", "", "http://evil.example:" + port, 403},
		{"https origin", "", "https://127.0.0.1:" + port, 403},
		{"sandboxed page", "", "null", 403},
		{"dns rebinding", "rebind.evil.example:" + port, "", 421},
		{"dns rebinding, its own origin", "rebind.evil.example:" + port, "http://rebind.evil.example:" + port, 421},
		{"a LAN name", "myhost:" + port, "", 421},
		// Private, link-local and unspecified addresses are other
		// machines (or a rebinding page resolving there), not loopback.
		{"private IPv4 10/8", "10.1.2.3:" + port, "", 421},
		{"private IPv4 192.168/16", "192.168.0.10:" + port, "", 421},
		{"private IPv4 172.16/12", "172.16.0.1:" + port, "", 421},
		{"unique local IPv6", "[fd00::1]:" + port, "", 421},
		{"link-local", "169.254.1.1:" + port, "", 421},
		{"unspecified", "0.0.0.0:" + port, "", 421},
		// A browser sends one Origin: a second one, in either order,
		// must not get another site through.
		{"own origin, then another", "", base + "\nhttp://evil.example", 403},
		{"another, then own origin", "", "http://evil.example\n" + base, 403},
	}
	for i, test := range tests {
		req, err := http.NewRequest("POST", base+"/ifm/ruleset-plans/", strings.NewReader(strings.Replace(plan, "%d", strconv.Itoa(i), 1)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain")
		if test.host != "" {
			req.Host = test.host
		}
		if test.origin != "" {
			for o := range strings.SplitSeq(test.origin, "\n") {
				req.Header.Add("Origin", o)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != test.want {
			t.Errorf("%s: %d %s; want %d", test.name, resp.StatusCode, b, test.want)
		}
	}
	if r, _ := http.Get(base + "/ifm/ruleset-plans/p5/"); r != nil && r.StatusCode != 404 {
		t.Errorf("the cross-site POST created a plan: %d", r.StatusCode)
	}
	// The status page, as a browser on localhost loads it.
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Host = "localhost:" + port
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status page on localhost: %v %v", resp, err)
	}
}

// TestTokenEnvNewline: a token from a variable or a file may end in a
// newline (a Kubernetes secretKeyRef keeps it); other blanks are refused.
func TestTokenEnvNewline(t *testing.T) {
	vars := map[string]string{"NL": maskToken + "\n", "CRLF": adminToken + "\r\n", "SPACE": " " + readToken, "TAB": readToken + "\t\n"}
	getenv := func(k string) string { return vars[k] }
	dir := t.TempDir()
	file := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		c.Tokens = []httpapi.Token{
			{Name: "nl", Env: "NL", Scopes: []string{"mask"}},
			{Name: "crlf", Env: "CRLF", Scopes: []string{"mask"}},
			{Name: "file", File: file("tok", allToken+"\n"), Scopes: []string{"mask"}},
		}
		d.Getenv = getenv
	})
	for _, tok := range []string{maskToken, adminToken, allToken} {
		if r := e.do("POST", "/v1/mask/customer", tok, maskBody); r.status != 200 {
			t.Fatalf("token %.5s…: %d %s", tok, r.status, r.body)
		}
	}
	for _, tok := range []httpapi.Token{
		{Name: "x", Env: "SPACE", Scopes: []string{"mask"}},
		{Name: "x", Env: "TAB", Scopes: []string{"mask"}},
		{Name: "x", File: file("sp", readToken+" \n"), Scopes: []string{"mask"}},
	} {
		_, err := httpapi.New(httpapi.Config{Tokens: []httpapi.Token{tok}}, httpapi.Deps{Store: newStore(t), Secret: testSecretValue(), Getenv: getenv})
		if err == nil || !strings.Contains(err.Error(), "blank at either end") || strings.Contains(err.Error(), readToken) {
			t.Fatalf("%+v: %v", tok, err)
		}
	}
}

// TestTLSCipherSuites: TLS 1.2 is served with AEAD suites only.
func TestTLSCipherSuites(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.TLS = &httpapi.TLSConfig{CertFile: certFile, KeyFile: keyFile}
	})
	base, _ := serveLoopback(t, e.srv, "https")
	get := func(suite uint16) error {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}}}
		resp, err := c.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	// The test certificate is ECDSA.
	if err := get(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Fatalf("TLS 1.2 with AES-GCM: %v", err)
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA} {
		if err := get(suite); err == nil {
			t.Errorf("a TLS 1.2 client offering only %s was served", tls.CipherSuiteName(suite))
		}
	}
}

// TestStaticAssetsPrivateUnderProtectRead: the status page's versioned
// assets may be cached for a year, but under protect_read only by the
// browser that asked with a token, never by a shared cache.
func TestStaticAssetsPrivateUnderProtectRead(t *testing.T) {
	src := status.SourceFunc(func() status.Snapshot { return status.Snapshot{Mode: "serve"} })
	for _, protect := range []bool{false, true} {
		e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
			c.ProtectRead = protect
			d.StatusHandler = status.Handler(src)
		})
		page := e.do("GET", "/", readToken, nil)
		m := regexp.MustCompile(`static/app\.js\?v=[^"]+`).Find(page.body)
		if page.status != 200 || m == nil {
			t.Fatalf("status page: %d %.300s", page.status, page.body)
		}
		cc := e.do("GET", "/"+string(m), readToken, nil).header.Get("Cache-Control")
		want := "public"
		if protect {
			want = "private"
		}
		if !strings.HasPrefix(cc, want+",") || !strings.Contains(cc, "immutable") {
			t.Errorf("protect_read %v: versioned app.js Cache-Control %q; want %s, …, immutable", protect, cc, want)
		}
	}
}
