package httpapi

import (
	"io"
	"net/http"
	"strings"
)

// healthz answers 200 while the process serves: a liveness probe.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// readyz answers 200 once the rulesets are loaded (and, under run, the
// routes connected), else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(); err != nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
		return
	}
	writeText(w, http.StatusOK, "ready\n")
}

// index serves GET /: the status page when one is plugged in, else a
// plain list of the endpoints.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	if s.status != nil {
		s.status.ServeHTTP(w, r)
		return
	}
	writeText(w, http.StatusOK, indexText)
}

const indexText = `maskstream HTTP API (docs/http-api.md)

Open (unless protect_read):
  GET    /healthz                               liveness
  GET    /readyz                                readiness
  GET    /metrics                               Prometheus metrics

maskstream API (bearer token):
  POST   /v1/mask/{name}                        mask records            scope mask
  GET    /v1/rulesets                           list rulesets           scope admin, read or mask
  GET    /v1/rulesets/{name}                    one ruleset             scope admin or read
  PUT    /v1/rulesets/{name}                    upload a ruleset (YAML) scope admin
  DELETE /v1/rulesets/{name}                    delete an upload        scope admin

DataMasque in-flight API (bearer token):
  GET    /ifm/verify-token/                     the token's scopes
  GET    /ifm/ruleset-plans/?limit=&offset=     list plans              scope admin, read or mask
  POST   /ifm/ruleset-plans/                    create a plan           scope admin
  GET    /ifm/ruleset-plans/{name}/             one plan                scope admin or read
  PUT    /ifm/ruleset-plans/{name}/             replace a plan          scope admin
  PATCH  /ifm/ruleset-plans/{name}/             change a plan           scope admin
  DELETE /ifm/ruleset-plans/{name}/             delete a plan           scope admin
  POST   /ifm/ruleset-plans/{name}/mask/        mask records            scope mask
  POST   /api/auth/jwt/login/                   501: no login here; use a bearer token
`

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// ifmVerifyToken serves GET /ifm/verify-token/: the caller's scopes in
// DataMasque's form ("ifm/mask").
func (s *Server) ifmVerifyToken(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	out := []string{}
	if p != nil {
		for _, n := range p.scopes.names() {
			out = append(out, "ifm/"+n)
		}
	}
	s.writeValue(w, apiIFM, http.StatusOK, struct {
		Scopes []string `json:"scopes"`
	}{out})
}

// baseURL is where clients reach the server: Config.PublicURL or the
// request's scheme and Host.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
