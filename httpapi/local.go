package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// localOnly guards a server without tokens (insecure_no_auth). Listening
// on loopback keeps other machines out, but not the browser on this one: a
// page of any site can send it a simple cross-site POST (text/plain, no
// preflight), and a DNS-rebinding page can even read the answers, its own
// name resolving to 127.0.0.1. So only requests addressed to a loopback
// name are served (a rebinding page's Host is its own name), and a request
// a browser marks with another origin is refused.
func (s *Server) localOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			s.writeError(w, apiOf(r), http.StatusMisdirectedRequest, codeMisdirected,
				"without tokens (insecure_no_auth) this server answers only requests addressed to localhost or a loopback address, such as http://127.0.0.1:PORT/; configure tokens to serve other names")
			return
		}
		if o, ok := r.Header["Origin"]; ok && (len(o) != 1 || !sameOrigin(o[0], r)) {
			s.writeError(w, apiOf(r), http.StatusForbidden, codeCrossOrigin,
				"without tokens (insecure_no_auth) this server refuses requests a browser sends from another site's page; call it from its own status page, curl or a program (which send no Origin header)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine:
// localhost or a literal loopback address (127.0.0.0/8, ::1), with any port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// sameOrigin reports whether a browser's Origin header is the server's
// own origin as this request reached it: the scheme and the Host header.
// Browsers leave a default port out of both.
func sameOrigin(origin string, r *http.Request) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+r.Host)
}

// privateCache serves h's answers with any "public" in Cache-Control made
// "private": under protect_read the status page's assets are answered
// only to a token, and a shared cache (a proxy) must not hand them to
// callers without one.
func privateCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&privateCacheWriter{ResponseWriter: w}, r)
	})
}

type privateCacheWriter struct {
	http.ResponseWriter
	wrote bool
}

func (p *privateCacheWriter) fix() {
	if p.wrote {
		return
	}
	p.wrote = true
	h := p.Header()
	if cc := h.Get("Cache-Control"); strings.Contains(cc, "public") {
		h.Set("Cache-Control", strings.Replace(cc, "public", "private", 1))
	}
}

func (p *privateCacheWriter) WriteHeader(code int) {
	p.fix()
	p.ResponseWriter.WriteHeader(code)
}

func (p *privateCacheWriter) Write(b []byte) (int, error) {
	p.fix()
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (p *privateCacheWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
