package httpapi_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi"
)

const maskBody = `{"data":[{"customer_id":"c-1","email":"ann@corp.example","name":"Ann"}]}`

func TestAuthMatrix(t *testing.T) {
	e := newEnv(t)
	endpoints := []struct {
		method, path, body string
		// allowed lists the tokens with a scope the endpoint accepts.
		allowed []string
		okCode  int
	}{
		{"POST", "/v1/mask/customer", maskBody, []string{maskToken, allToken}, 200},
		{"GET", "/v1/rulesets", "", []string{maskToken, adminToken, readToken, allToken}, 200},
		{"GET", "/v1/rulesets/customer", "", []string{adminToken, readToken, allToken}, 200},
		{"PUT", "/v1/rulesets/upload", customerYAML, []string{adminToken, allToken}, 0},
		{"POST", "/ifm/ruleset-plans/customer/mask/", maskBody, []string{maskToken, allToken}, 200},
		{"GET", "/ifm/ruleset-plans/", "", []string{maskToken, adminToken, readToken, allToken}, 200},
		{"GET", "/ifm/ruleset-plans/customer/", "", []string{adminToken, readToken, allToken}, 200},
		{"GET", "/ifm/verify-token/", "", []string{maskToken, adminToken, readToken, allToken}, 200},
		{"DELETE", "/ifm/ruleset-plans/customer/", "", []string{adminToken, allToken}, 409},
	}
	tokens := []string{"", badToken, maskToken, adminToken, readToken, allToken}
	for _, ep := range endpoints {
		for _, tok := range tokens {
			name := ep.method + " " + ep.path + " token=" + strings.SplitN(tok+"none", "-", 2)[0]
			t.Run(name, func(t *testing.T) {
				r := e.do(ep.method, ep.path, tok, ep.body)
				allowed := false
				for _, a := range ep.allowed {
					allowed = allowed || a == tok
				}
				switch {
				case tok == "":
					if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="maskstream"` {
						t.Fatalf("no token: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
					}
				case tok == badToken:
					if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
						t.Fatalf("bad token: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
					}
				case !allowed:
					if r.status != 403 {
						t.Fatalf("wrong scope: %d %s", r.status, r.body)
					}
				case ep.okCode != 0 && r.status != ep.okCode:
					t.Fatalf("right scope: %d %s", r.status, r.body)
				case ep.okCode == 0 && r.status >= 300:
					t.Fatalf("right scope: %d %s", r.status, r.body)
				}
				// Error bodies follow the API's style.
				if r.status == 401 || r.status == 403 {
					m := r.json(t)
					if strings.HasPrefix(ep.path, "/ifm/") {
						if _, ok := m["detail"].(string); !ok {
							t.Fatalf("/ifm error body = %s", r.body)
						}
					} else if errObj, ok := m["error"].(map[string]any); !ok || errObj["code"] == nil || errObj["message"] == nil {
						t.Fatalf("/v1 error body = %s", r.body)
					}
				}
			})
		}
	}
}

func TestMalformedAuthorization(t *testing.T) {
	e := newEnv(t)
	for _, h := range []string{"Basic " + maskToken, "Bearer", "Bearer ", "bearer " + maskToken + "x"} {
		t.Run(h, func(t *testing.T) {
			r := doWithHeader(t, e, "GET", "/ifm/verify-token/", h)
			if r.status != 401 {
				t.Fatalf("Authorization %q: %d", h, r.status)
			}
		})
	}
	// The scheme is case-insensitive.
	if r := doWithHeader(t, e, "GET", "/ifm/verify-token/", "bearer "+maskToken); r.status != 200 {
		t.Fatalf("lower-case bearer: %d %s", r.status, r.body)
	}
}

func TestVerifyTokenScopes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		token string
		want  string
	}{
		{maskToken, "ifm/mask"},
		{adminToken, "ifm/admin"},
		{readToken, "ifm/read"},
		{allToken, "ifm/mask ifm/admin ifm/read"},
	}
	for _, test := range tests {
		t.Run(test.want, func(t *testing.T) {
			r := e.do("GET", "/ifm/verify-token/", test.token, nil)
			var got []string
			for _, s := range r.json(t)["scopes"].([]any) {
				got = append(got, s.(string))
			}
			if strings.Join(got, " ") != test.want {
				t.Fatalf("scopes = %v, want %s", got, test.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	// A frozen clock: the bucket never refills, so the test does not
	// depend on timing.
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		c.RateLimit = httpapi.RateLimit{PerTokenRPS: 0.5, Burst: 3}
		c.Tokens[0].RateLimit = &httpapi.RateLimit{PerTokenRPS: 1, Burst: 2}
		d.Now = func() time.Time { return now }
	})
	tests := []struct {
		token     string
		allowed   int
		wantRetry int
	}{
		{maskToken, 2, 1}, // its own limit: burst 2, one per second
		{allToken, 3, 2},  // the server's: burst 3, one per two seconds
	}
	for _, test := range tests {
		t.Run(strconv.Itoa(test.allowed), func(t *testing.T) {
			for i := range test.allowed {
				if r := e.do("GET", "/ifm/verify-token/", test.token, nil); r.status != 200 {
					t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
				}
			}
			r := e.do("GET", "/ifm/verify-token/", test.token, nil)
			if r.status != 429 {
				t.Fatalf("over the limit: %d %s", r.status, r.body)
			}
			if got := r.header.Get("Retry-After"); got != strconv.Itoa(test.wantRetry) {
				t.Fatalf("Retry-After = %q, want %d", got, test.wantRetry)
			}
		})
	}
	// Another token is not limited by these, and open endpoints never are.
	if r := e.do("GET", "/ifm/verify-token/", readToken, nil); r.status != 200 {
		t.Fatalf("other token: %d", r.status)
	}
	for range 10 {
		if r := e.do("GET", "/healthz", "", nil); r.status != 200 {
			t.Fatalf("/healthz: %d", r.status)
		}
	}
}

func TestTokenConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		tok  httpapi.Token
		want string
	}{
		{"no source", httpapi.Token{Name: "x", Scopes: []string{"mask"}}, "exactly one"},
		{"two sources", httpapi.Token{Name: "x", Value: maskToken, Env: "X", Scopes: []string{"mask"}}, "exactly one"},
		{"bad hex", httpapi.Token{Name: "x", SHA256: "abc", Scopes: []string{"mask"}}, "64 hex digits"},
		{"empty env", httpapi.Token{Name: "x", Env: "UNSET_VAR", Scopes: []string{"mask"}}, "UNSET_VAR is empty or unset"},
		{"missing file", httpapi.Token{Name: "x", File: "/nonexistent/token", Scopes: []string{"mask"}}, "reading the token file"},
		{"short", httpapi.Token{Name: "x", Value: "short", Scopes: []string{"mask"}}, "shorter than 16"},
		{"unknown scope", httpapi.Token{Name: "x", Value: maskToken, Scopes: []string{"root"}}, `unknown scope "root"`},
		{"no scopes", httpapi.Token{Name: "x", Value: maskToken}, "no scopes"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := httpapi.New(httpapi.Config{Tokens: []httpapi.Token{test.tok}}, httpapi.Deps{
				Store:  newStore(t),
				Secret: testSecretValue(),
				Getenv: func(string) string { return "" },
			})
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Fatalf("err = %v, want it to say %q", err, test.want)
			}
			if strings.Contains(err.Error(), maskToken) {
				t.Fatal("the error quotes the token")
			}
		})
	}
}
