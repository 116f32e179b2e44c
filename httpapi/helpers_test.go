package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// Tokens of the test servers. Each scope has its own token; they are
// configured in the four ways a config can give one.
const (
	maskToken  = "mask-token-0123456789abcdef"
	adminToken = "admin-token-0123456789abcdef"
	readToken  = "read-token-0123456789abcdef"
	allToken   = "all-token-0123456789abcdef"
	badToken   = "not-a-token-0123456789abcdef"

	testSecret = "test-run-secret-0123456789"
)

// customerYAML is the test ruleset of most tests.
const customerYAML = `version: "1.0"
rules:
  - path: "$.customer_id"
    masks: [ { type: imitate } ]
  - path: "$.email"
    masks: [ { type: from_format_string, value_format: "{[a-z],10}@example.com" } ]
  - path: "$.name"
    masks: [ { type: from_fixed, value: "REDACTED" } ]
`

// strictYAML requires customer_id (on_missing: error): a record without
// one cannot be masked, a soft failure.
const strictYAML = `version: "1.0"
rules:
  - path: "$.customer_id"
    on_missing: error
    masks: [ { type: imitate } ]
  - path: "$.email"
    masks: [ { type: from_format_string, value_format: "{[a-z],10}@example.com" } ]
`

func compileFunc(rs *rulesets.Ruleset) (*engine.Masker, error) {
	return engine.Compile(rs, engine.Options{})
}

// env is one test server with its store, its dirs and its log.
type env struct {
	t       *testing.T
	srv     *httpapi.Server
	ts      *httptest.Server
	store   *rulesets.Store[*engine.Masker]
	reg     *prometheus.Registry
	dir     string
	data    string
	logs    *syncBuffer
	cfg     httpapi.Config
	deps    httpapi.Deps
	secret  *engine.Secret
	baseURL string
}

type option func(*httpapi.Config, *httpapi.Deps)

// newEnv starts a test server over a rulesets dir holding customer.yaml.
func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), data: t.TempDir(), logs: &syncBuffer{}}
	for name, src := range map[string]string{"customer.yaml": customerYAML, "strict.yaml": strictYAML} {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(readToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(adminToken))
	e.cfg = httpapi.Config{
		Tokens: []httpapi.Token{
			{Name: "masker", Value: maskToken, Scopes: []string{"mask"}},
			{Name: "admin", SHA256: hex.EncodeToString(sum[:]), Scopes: []string{"admin"}},
			{Name: "reader", File: tokenFile, Scopes: []string{"read"}},
			{Name: "all", Env: "TEST_ALL_TOKEN", Scopes: []string{"mask", "admin", "read"}},
		},
	}
	e.secret = engine.MustSecret(testSecret)
	e.reg = prometheus.NewRegistry()
	e.deps = httpapi.Deps{
		Secret:     e.secret,
		Registerer: e.reg,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: func(k string) string {
			if k == "TEST_ALL_TOKEN" {
				return allToken
			}
			return ""
		},
	}
	for _, o := range opts {
		o(&e.cfg, &e.deps)
	}
	e.start()
	return e
}

// start builds a store and a server over e's dirs (again, for a restart).
func (e *env) start() {
	e.t.Helper()
	e.store = rulesets.NewStore(rulesets.StoreConfig{Dir: e.dir, DataDir: e.data}, compileFunc)
	if err := e.store.Load(); err != nil {
		e.t.Fatal(err)
	}
	deps := e.deps
	deps.Store = e.store
	srv, err := httpapi.New(e.cfg, deps)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
	if e.ts != nil {
		e.ts.Close()
	}
	e.ts = httptest.NewServer(srv.Handler())
	e.t.Cleanup(e.ts.Close)
	e.baseURL = e.ts.URL
}

// response is an answer with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.baseURL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// chunked is a body whose length the client cannot learn up front, so
// it is sent chunked, without Content-Length.
func chunked(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

// syncBuffer is a log or output destination read while goroutines write.
type syncBuffer = testenv.LogBuffer

// serveLoopback runs srv.Serve on a real loopback listener until the test
// ends, and returns its base URL and a func that stops it and returns
// Serve's error.
func serveLoopback(t *testing.T, srv *httpapi.Server, scheme string) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serr = <-done:
			case <-time.After(30 * time.Second):
				t.Error("Serve did not return after its context ended")
			}
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return scheme + "://" + ln.Addr().String(), stop
}

// doWithHeader sends a request with a raw Authorization header.
func doWithHeader(t *testing.T, e *env, method, path, authorization string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// newStore returns a loaded store with no rulesets.
func newStore(t *testing.T) *rulesets.Store[*engine.Masker] {
	t.Helper()
	s := rulesets.NewStore(rulesets.StoreConfig{}, compileFunc)
	if err := s.Load(); err != nil {
		t.Fatal(err)
	}
	return s
}

func testSecretValue() *engine.Secret { return engine.MustSecret(testSecret) }
