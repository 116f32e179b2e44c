package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi"
)

// heldBody is a request body the test controls: its first Read reports
// that the handler got past the in-flight budget (it takes its weight
// before reading), then waits for release and returns the body, or err.
type heldBody struct {
	r       io.Reader
	err     error
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func newHeldBody(s string, err error) *heldBody {
	return &heldBody{r: strings.NewReader(s), err: err, started: make(chan struct{}), release: make(chan struct{})}
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	if b.err != nil {
		return 0, b.err
	}
	return b.r.Read(p)
}

// serveDirect runs one mask request through the server's handler in this
// process, so the test decides when its body arrives. length is the
// declared Content-Length (-1: none, as chunked).
func serveDirect(ctx context.Context, e *env, path string, body io.Reader, length int64) response {
	return serveDirectAs(ctx, e, maskToken, path, body, length)
}

// serveDirectAs is serveDirect with another token.
func serveDirectAs(ctx context.Context, e *env, token, path string, body io.Reader, length int64) response {
	req := httptest.NewRequest("POST", path, body).WithContext(ctx)
	req.ContentLength = length
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// padded is maskBody padded with spaces to n bytes.
func padded(t *testing.T, n int) string {
	t.Helper()
	if n < len(maskBody) {
		t.Fatalf("padded(%d) is shorter than maskBody", n)
	}
	return maskBody + strings.Repeat(" ", n-len(maskBody))
}

// TestInflightBudget: while a request holds most of a small budget, others
// are refused with 503, Retry-After and the API's error shape; the weight
// comes back after a success, an error, a broken body and a client that
// left (waiting or masking), so a request as large as the whole budget
// then runs.
func TestInflightBudget(t *testing.T) {
	const budget = 4096
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.MaxBodyBytes = budget
		c.MaxInflightBytes = budget
		c.MaxInflightWait = 10 * time.Millisecond
	})
	bg := context.Background()
	// whole takes the whole budget (chunked: the body limit), so it runs
	// only if every earlier request gave its weight back.
	whole := func(after string) {
		t.Helper()
		r := serveDirect(bg, e, "/v1/mask/customer", chunked(maskBody), -1)
		if r.status != 200 {
			t.Fatalf("after %s, a request as large as the budget: %d %s; the weight was not given back", after, r.status, r.body)
		}
	}
	// hold starts a request of 3000 declared bytes and returns once it
	// holds its weight, with the func that lets it finish.
	hold := func(b *heldBody) func() response {
		t.Helper()
		done := make(chan response, 1)
		go func() { done <- serveDirect(bg, e, "/v1/mask/customer", b, 3000) }()
		select {
		case <-b.started:
		case r := <-done:
			t.Fatalf("the held request answered before reading its body: %d %s", r.status, r.body)
		}
		return func() response { close(b.release); return <-done }
	}

	finish := hold(newHeldBody(padded(t, 3000), nil))
	for _, c := range []struct {
		name, path string
		length     int64
		wantBody   string
	}{
		{"v1", "/v1/mask/customer", 2000, `"code":"server_busy"`},
		{"v1 chunked", "/v1/mask/customer", -1, `"code":"server_busy"`},
		{"ifm", "/ifm/ruleset-plans/customer/mask/", 2000, `{"detail":"the server is busy`},
	} {
		// Another token: the held request's own would meet its share
		// first (TestInflightShare).
		r := serveDirectAs(bg, e, allToken, c.path, strings.NewReader(padded(t, 2000)), c.length)
		if r.status != 503 || r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), c.wantBody) || !json.Valid(r.body) {
			t.Errorf("%s while the budget is held: %d Retry-After=%q %s; want 503, Retry-After 1 and %s", c.name, r.status, r.header.Get("Retry-After"), r.body, c.wantBody)
		}
	}
	// One that fits beside the held request still runs.
	if r := serveDirectAs(bg, e, allToken, "/v1/mask/customer", strings.NewReader(maskBody), int64(len(maskBody))); r.status != 200 {
		t.Errorf("a request that fits beside the held one: %d %s", r.status, r.body)
	}
	if r := finish(); r.status != 200 {
		t.Fatalf("the held request: %d %s", r.status, r.body)
	}
	whole("a success")

	if r := serveDirect(bg, e, "/v1/mask/customer", strings.NewReader(padded(t, 3000)[:2999]+"x"), 3000); r.status != 400 {
		t.Fatalf("bad JSON: %d %s", r.status, r.body)
	}
	whole("a bad body")

	// The client's connection breaks mid-body.
	if r := hold(newHeldBody("", io.ErrUnexpectedEOF))(); r.status != 400 {
		t.Fatalf("broken body: %d %s", r.status, r.body)
	}
	whole("a broken body")

	// A client that left while waiting for room gives up its place.
	finish = hold(newHeldBody(padded(t, 3000), nil))
	gone, cancel := context.WithCancel(bg)
	cancel()
	if r := serveDirectAs(gone, e, allToken, "/v1/mask/customer", strings.NewReader(padded(t, 2000)), 2000); r.status != 503 {
		t.Fatalf("a request whose client left while waiting: %d %s", r.status, r.body)
	}
	if r := finish(); r.status != 200 {
		t.Fatalf("the held request: %d %s", r.status, r.body)
	}
	whole("a client that left while waiting")

	// A client that left once its body was read.
	leaving := &leavingCtx{Context: bg, after: 0}
	if r := serveDirect(leaving, e, "/v1/mask/customer", strings.NewReader(maskBody), int64(len(maskBody))); len(r.body) != 0 {
		t.Fatalf("a request whose client left was answered: %s", r.body)
	}
	whole("a client that left while its records were masked")

	metrics := string(e.do("GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`maskstream_http_requests_total{code="503",route="POST /v1/mask/{name}"} 3`,
		`maskstream_http_requests_total{code="503",route="POST /ifm/ruleset-plans/{name}/mask/{$}"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestInflightLargerThanBudget: a body larger than the whole budget, but
// within the body limit, is served when nothing else is in flight.
func TestInflightLargerThanBudget(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.MaxBodyBytes = 8192
		c.MaxInflightBytes = 1024
	})
	for _, body := range []any{padded(t, 6000), chunked(padded(t, 6000))} {
		if r := e.do("POST", "/v1/mask/customer", maskToken, body); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
}

// TestInflightShare: one token's requests in flight hold at most half the
// budget (so slow bodies from one caller cannot turn every other away);
// beyond it that token gets 429 while another token still gets in, and a
// token holding nothing may always send one request, however large.
func TestInflightShare(t *testing.T) {
	const budget = 4096
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.MaxBodyBytes = budget
		c.MaxInflightBytes = budget
		c.MaxInflightWait = 10 * time.Millisecond
	})
	bg := context.Background()
	held := newHeldBody(padded(t, 1500), nil)
	done := make(chan response, 1)
	go func() { done <- serveDirect(bg, e, "/v1/mask/customer", held, 1500) }()
	<-held.started
	// 1500 + 1000 is over the share (2048) for the same token...
	r := serveDirect(bg, e, "/v1/mask/customer", strings.NewReader(padded(t, 1000)), 1000)
	if r.status != 429 || r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "half the server's in-flight body budget") {
		t.Errorf("same token over its share: %d Retry-After=%q %s; want 429", r.status, r.header.Get("Retry-After"), r.body)
	}
	// ...and within the budget for another token.
	if r := serveDirectAs(bg, e, allToken, "/v1/mask/customer", strings.NewReader(padded(t, 1000)), 1000); r.status != 200 {
		t.Errorf("another token beside it: %d %s", r.status, r.body)
	}
	// Within the share, the same token gets in too.
	if r := serveDirect(bg, e, "/v1/mask/customer", strings.NewReader(maskBody), int64(len(maskBody))); r.status != 200 {
		t.Errorf("same token within its share: %d %s", r.status, r.body)
	}
	close(held.release)
	if r := <-done; r.status != 200 {
		t.Fatalf("the held request: %d %s", r.status, r.body)
	}
	// Holding nothing again, the token may send a body over its share.
	if r := serveDirect(bg, e, "/v1/mask/customer", chunked(padded(t, 3000)), -1); r.status != 200 {
		t.Errorf("a request over the share from a token holding nothing: %d %s", r.status, r.body)
	}
}

// leavingCtx is a request context whose client leaves after Err has been
// asked after times: the handler sees it between two records.
type leavingCtx struct {
	context.Context
	after int32
	calls atomic.Int32
}

func (c *leavingCtx) Err() error {
	if c.calls.Add(1) > c.after {
		return context.Canceled
	}
	return nil
}

// TestMaskStopsWhenClientLeaves: once the client is gone the handler stops
// between records, answers nothing (no one would read it), logs at debug
// and counts the request as 499, not 200.
func TestMaskStopsWhenClientLeaves(t *testing.T) {
	e := newEnv(t)
	const n = 50
	body := `{"data":[` + strings.TrimSuffix(strings.Repeat(`{"customer_id":"c-1","email":"a@b.example","name":"Ann"},`, n), ",") + `]}`
	// The first record is masked, then the client is gone.
	ctx := &leavingCtx{Context: context.Background(), after: 1}
	r := serveDirect(ctx, e, "/v1/mask/customer", strings.NewReader(body), int64(len(body)))
	if len(r.body) != 0 {
		t.Fatalf("answered a client that left: %d %.200s", r.status, r.body)
	}
	if !strings.Contains(e.logs.String(), "records_done=1 records=50") {
		t.Errorf("no debug line says the request stopped after its first record:\n%s", e.logs.String())
	}
	// Per record, not per field: 3 fields a record would ask far more.
	if got := ctx.calls.Load(); got > 3 {
		t.Errorf("the context was asked %d times for 2 records", got)
	}
	if !strings.Contains(string(e.do("GET", "/metrics", "", nil).body), `maskstream_http_requests_total{code="499",route="POST /v1/mask/{name}"} 1`) {
		t.Error("the abandoned request is not counted as 499")
	}
	// A client that stays gets its answer.
	if r := serveDirect(context.Background(), e, "/v1/mask/customer", strings.NewReader(body), int64(len(body))); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
