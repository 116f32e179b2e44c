package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// scopeSet is a set of scopes as bits.
type scopeSet uint8

const (
	bitMask scopeSet = 1 << iota
	bitAdmin
	bitRead
	allScopes = bitMask | bitAdmin | bitRead
)

func scopeBit(name string) scopeSet {
	switch name {
	case ScopeMask:
		return bitMask
	case ScopeAdmin:
		return bitAdmin
	case ScopeRead:
		return bitRead
	}
	return 0
}

// scopes returns the set of the named scopes; a request needs any one.
func scopes(names ...string) scopeSet {
	var s scopeSet
	for _, n := range names {
		s |= scopeBit(n)
	}
	return s
}

// names lists the scopes in a fixed order.
func (s scopeSet) names() []string {
	var out []string
	for _, n := range []string{ScopeMask, ScopeAdmin, ScopeRead} {
		if s&scopeBit(n) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// principal is an authenticated caller.
type principal struct {
	name    string
	scopes  scopeSet
	limiter *rate.Limiter
	// inflight is the mask-request body bytes this caller holds of the
	// server's budget (takeBudget), so that one token cannot hold it all.
	inflight atomic.Int64
}

type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// authenticator checks bearer tokens. It holds only their SHA-256.
type authenticator struct {
	insecure bool
	hashes   [][32]byte
	tokens   []*principal
	anon     *principal
}

// CheckTokens reports what would stop a server with cfg's tokens from
// starting: a token that cannot be read, a blank in it, a duplicate, a
// bad scope or rate limit. It reads tokens the way the server does, so
// `validate-config -secrets` agrees with `serve` and `run`.
func CheckTokens(cfg Config, getenv func(string) string) error {
	_, err := newAuthenticator(cfg, getenv)
	return err
}

func newAuthenticator(cfg Config, getenv func(string) string) (*authenticator, error) {
	a := &authenticator{insecure: cfg.InsecureNoAuth}
	a.anon = &principal{name: "anonymous", scopes: allScopes, limiter: newLimiter(cfg.RateLimit)}
	var errs []error
	seen := map[[32]byte]string{}
	for i, t := range cfg.Tokens {
		what := fmt.Sprintf("token %d", i+1)
		if t.Name != "" {
			what = fmt.Sprintf("token %q", t.Name)
		}
		sum, err := tokenHash(t, getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("httpapi: %s: %w", what, err))
			continue
		}
		if prev, dup := seen[sum]; dup {
			errs = append(errs, fmt.Errorf("httpapi: %s is the same token as %s; give each client its own token", what, prev))
			continue
		}
		seen[sum] = what
		var set scopeSet
		for _, sc := range t.Scopes {
			b := scopeBit(sc)
			if b == 0 {
				errs = append(errs, fmt.Errorf("httpapi: %s: unknown scope %q; scopes are mask, admin and read", what, sc))
			}
			set |= b
		}
		if len(t.Scopes) == 0 {
			errs = append(errs, fmt.Errorf("httpapi: %s has no scopes; give it mask, admin or read", what))
		}
		rl := cfg.RateLimit
		if t.RateLimit != nil {
			rl = *t.RateLimit
			if rl.PerTokenRPS <= 0 || rl.Burst <= 0 {
				errs = append(errs, fmt.Errorf("httpapi: %s: rate_limit needs per_token_rps > 0 and burst > 0", what))
				continue
			}
		}
		a.hashes = append(a.hashes, sum)
		a.tokens = append(a.tokens, &principal{name: t.Name, scopes: set, limiter: newLimiter(rl)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

func newLimiter(rl RateLimit) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(rl.PerTokenRPS), rl.Burst)
}

// tokenHash returns the SHA-256 of a configured token, reading it from
// its variable or file. The token itself is not kept.
func tokenHash(t Token, getenv func(string) string) ([32]byte, error) {
	var zero [32]byte
	n := 0
	for _, v := range []string{t.SHA256, t.Value, t.Env, t.File} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return zero, errors.New("give exactly one of sha256, token_env or token_file")
	}
	var raw string
	switch {
	case t.SHA256 != "":
		b, err := hex.DecodeString(strings.TrimSpace(t.SHA256))
		if err != nil || len(b) != sha256.Size {
			return zero, errors.New("sha256 must be 64 hex digits (printf %s \"$TOKEN\" | sha256sum)")
		}
		copy(zero[:], b)
		return zero, nil
	case t.Value != "":
		raw = t.Value
	case t.Env != "":
		var err error
		if raw, err = readToken(getenv(t.Env), "environment variable "+t.Env); err != nil {
			return zero, err
		}
	default:
		b, err := os.ReadFile(t.File)
		if err != nil {
			return zero, fmt.Errorf("reading the token file: %w", err)
		}
		if raw, err = readToken(string(b), "token file "+t.File); err != nil {
			return zero, err
		}
	}
	if len(raw) < 16 {
		return zero, errors.New("the token is shorter than 16 characters; use a long random one (openssl rand -hex 32)")
	}
	return sha256.Sum256([]byte(raw)), nil
}

// readToken is the token held by a variable or file: less its trailing
// newlines (a Kubernetes secretKeyRef and echo keep one), which a
// presented token, trimmed, can never carry. Other blanks at either end
// are refused rather than trimmed, as the run secret's are: they are
// more likely a paste gone wrong than part of the token.
func readToken(v, from string) (string, error) {
	v = strings.TrimRight(v, "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s is empty or unset; put the token in it", from)
	}
	if strings.TrimSpace(v) != v {
		// Never the token: only where it came from.
		return "", fmt.Errorf("the token in %s has a space, tab or other blank at either end; remove it (only a trailing newline is dropped)", from)
	}
	return v, nil
}

// authenticate finds the caller of r. ok is false with a reason when the
// request has no token or an unknown one.
func (a *authenticator) authenticate(r *http.Request) (p *principal, bad bool) {
	if a.insecure {
		return a.anon, false
	}
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if h == "" {
		return nil, false
	}
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, true
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	// Compare against every configured hash, without stopping at a match,
	// so timing says nothing about which token (if any) matched.
	match := -1
	for i := range a.hashes {
		if subtle.ConstantTimeCompare(sum[:], a.hashes[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, true
	}
	return a.tokens[match], false
}

// guard wraps h with authentication, the rate limit and a scope check.
// need == 0 leaves the endpoint open.
func (s *Server) guard(a api, need scopeSet, h http.Handler) http.Handler {
	return s.guardWith(a, need, false, h)
}

// guardWith is guard; withPrincipal puts the caller in the request's
// context (a request copy, so only for the handlers that read it).
func (s *Server) guardWith(a api, need scopeSet, withPrincipal bool, h http.Handler) http.Handler {
	if need == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, bad := s.auth.authenticate(r)
		if p == nil {
			challenge := `Bearer realm="maskstream"`
			msg := "this endpoint needs a bearer token: send Authorization: Bearer <token>"
			if bad {
				challenge += `, error="invalid_token"`
				msg = "the bearer token is not valid"
			}
			w.Header().Set("WWW-Authenticate", challenge)
			s.writeError(w, a, http.StatusUnauthorized, "unauthorized", msg)
			return
		}
		now := s.now()
		res := p.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); !res.OK() || d > 0 {
			res.CancelAt(now)
			secs := int(math.Ceil(d.Seconds()))
			if secs < 1 {
				secs = 1
			}
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.writeError(w, a, http.StatusTooManyRequests, "rate_limited", "too many requests for this token; retry after "+strconv.Itoa(secs)+"s")
			return
		}
		if p.scopes&need == 0 {
			s.writeError(w, a, http.StatusForbidden, "forbidden", "this token lacks the scope this endpoint needs (one of: "+strings.Join(need.names(), ", ")+")")
			return
		}
		if withPrincipal {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		h.ServeHTTP(w, r)
	})
}
