package processor

import (
	"sync"
	"time"

	"github.com/maskstream/maskstream/connectors"
)

// deadLogEvery is how often a route logs a reason it keeps dead-lettering:
// the first dead letter of a reason is logged at once, later ones are
// summed into one line a minute, so a poison stream cannot flood the log.
const deadLogEvery = time.Minute

// deadLog tells operators why records go to the dead letters. The metric
// counts them; without a log line a route dead-lettering most of its input
// (an output topic with too few partitions, a ruleset that no longer fits
// the records) looks healthy in its log.
type deadLog struct {
	mu      sync.Mutex
	reasons map[string]*deadReason
}

type deadReason struct {
	last    time.Time
	pending uint64 // dead letters of this reason since the last line
}

// noteDead records one dead letter of reason; msg is its maskstream-error
// header value, which never holds record content (DESIGN §3.7).
func (r *Route) noteDead(reason string, msg []byte, now time.Time) {
	d := &r.deadLog
	d.mu.Lock()
	if d.reasons == nil {
		d.reasons = make(map[string]*deadReason)
	}
	e := d.reasons[reason]
	if e == nil {
		e = &deadReason{}
		d.reasons[reason] = e
	}
	e.pending++
	if !e.last.IsZero() && now.Sub(e.last) < deadLogEvery {
		d.mu.Unlock()
		return
	}
	n := e.pending
	e.last, e.pending = now, 0
	d.mu.Unlock()
	r.log.Warn("records sent to the dead letters; the dead-letter headers of each say why and where from",
		"reason", reason, "count", n, "error", string(msg), "every", deadLogEvery.String())
}

// deadLetterError is the maskstream-error header of a dead letter built by
// deadLetter, or nil.
func deadLetterError(hs []connectors.Header) []byte {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == HeaderError {
			return hs[i].Value
		}
	}
	return nil
}
