package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// codeBusy is the /v1 error code of a mask request refused because the
// in-flight budget stayed full.
const codeBusy = "server_busy"

// takeBudget takes the request's weight from the in-flight budget: its
// declared body size, or the body limit when it declares none (chunked).
// A body always fits the budget: one larger than the whole budget takes
// all of it. When no room comes within MaxInflightWait it answers 503 with
// Retry-After and reports false; so it does when the client leaves while
// waiting (no one reads that answer, but the metrics and log see it).
func (s *Server) takeBudget(w http.ResponseWriter, r *http.Request, a api) (int64, bool) {
	n := r.ContentLength
	if n < 0 {
		n = s.cfg.MaxBodyBytes
	}
	n = s.inflight.clamp(n)
	p := principalFrom(r.Context())
	if p != nil && !p.takeShare(n, s.inflight.size/2) {
		// Slow bodies from one token must not hold the whole budget and
		// turn every other caller away.
		w.Header().Set("Retry-After", "1")
		s.writeError(w, a, http.StatusTooManyRequests, "rate_limited",
			"this token's mask requests in flight already hold half the server's in-flight body budget (http.max_inflight_bytes); retry after 1s, when some have finished")
		return 0, false
	}
	err := s.inflight.acquire(r.Context(), n, s.cfg.MaxInflightWait)
	if err == nil {
		return n, true
	}
	if p != nil {
		p.inflight.Add(-n)
	}
	if !errors.Is(err, errBusy) {
		s.log.Debug("mask request abandoned by its client while waiting for the in-flight budget", "route", routeOf(r))
	}
	secs := max(int((s.cfg.MaxInflightWait+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, a, http.StatusServiceUnavailable, codeBusy,
		"the server is busy: mask requests already hold its in-flight body budget (http.max_inflight_bytes, "+
			strconv.FormatInt(s.inflight.size, 10)+" bytes); retry after "+strconv.Itoa(secs)+"s, or send smaller requests")
	return 0, false
}

// takeShare reserves n of the caller's share of the in-flight budget: at
// most share at once, except that a caller holding nothing may always take
// one request (a body larger than the share still runs, alone). It reports
// whether it did; giveBudget returns it.
func (p *principal) takeShare(n, share int64) bool {
	for {
		held := p.inflight.Load()
		if held > 0 && held+n > share {
			return false
		}
		if p.inflight.CompareAndSwap(held, held+n) {
			return true
		}
	}
}

// giveBudget returns what takeBudget took for r.
func (s *Server) giveBudget(r *http.Request, n int64) {
	s.inflight.release(n)
	if p := principalFrom(r.Context()); p != nil {
		p.inflight.Add(-n)
	}
}
