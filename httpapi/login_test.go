package httpapi_test

import (
	"strings"
	"testing"
)

// TestDataMasqueLogin: DataMasque's dm CLI logs in with a username and
// password at /api/auth/jwt/login/ before any call. maskstream has no
// login, so that answers 501 in DataMasque's {"detail": ...} shape saying
// to use a bearer token, under a fixed route label, and the password in
// the body goes nowhere.
func TestDataMasqueLogin(t *testing.T) {
	e := newEnv(t)
	const password = "dm-cli-password-4711"
	body := `{"username":"admin","password":"` + password + `"}`
	for _, path := range []string{"/api/auth/jwt/login/", "/api/auth/jwt/login"} {
		t.Run(path, func(t *testing.T) {
			r := e.do("POST", path, "", body)
			if r.status != 501 || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			m := r.json(t)
			d, ok := m["detail"].(string)
			if len(m) != 1 || !ok {
				t.Fatalf("not DataMasque's {\"detail\": ...}: %s", r.body)
			}
			for _, want := range []string{"bearer token", "token_source", "ifm_base_url", "dm CLI"} {
				if !strings.Contains(d, want) {
					t.Errorf("detail lacks %q: %s", want, d)
				}
			}
		})
	}
	metrics := string(e.do("GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`maskstream_http_requests_total{code="501",route="POST /api/auth/jwt/login/{$}"} 1`,
		`maskstream_http_requests_total{code="501",route="POST /api/auth/jwt/login"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(e.logs.String(), password) || strings.Contains(metrics, password) {
		t.Error("the login password reached the log or the metrics")
	}
}
