package processor

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/engine"
)

// Dead-letter reasons beyond the engine's (engine.Reason values).
const (
	// ReasonMaxDeliveries: the broker delivered the record more than
	// limits.max_deliveries times (it keeps failing or timing out).
	ReasonMaxDeliveries = "max_deliveries"
	// ReasonSinkRejected: the sink refused the masked record for good
	// (connectors.ErrPermanent: too large, not authorized).
	ReasonSinkRejected = "sink_rejected"
	// ReasonBadSourceRecord: the source could not read the message
	// faithfully (connectors.Record.Malformed: NATS key headers that
	// disagree or do not decode), so it is not masked.
	ReasonBadSourceRecord = "bad_source_record"
)

// deadLetterReasons is every reason a route dead-letters with: the
// engine's (engine.ReasonOf) and the processor's. Each route exports its
// dead_letters_total series at 0 for all of them (Metrics.forRoute), since
// a series born at its first Inc() hides that first dead letter from
// increase() and so from the alert. TestDeadLetterReasonsComplete fails
// when a Reason constant is missing here.
var deadLetterReasons = [...]string{
	string(engine.ReasonNotJSON),
	string(engine.ReasonInvalidUTF8),
	string(engine.ReasonTooDeep),
	string(engine.ReasonTooLarge),
	string(engine.ReasonMissing),
	string(engine.ReasonMask),
	ReasonSinkRejected,
	ReasonMaxDeliveries,
	ReasonBadSourceRecord,
}

// DeadLetterReasons returns every value the dead_letters_total{reason}
// label and the maskstream-error header's prefix can take.
func DeadLetterReasons() []string { return slices.Clone(deadLetterReasons[:]) }

// chunk is up to chunkSize consecutive records of one lane, masked as a
// unit by a worker or by the lane's writer, whichever claims it first.
// Chunks are not reused: a stale pointer to one may sit in the worker
// queue after the writer has claimed and finished it.
type chunk struct {
	recs  []*connectors.Record
	claim atomic.Bool
	done  chan struct{} // closed by a worker once it has masked the chunk
	// ruleset names the ruleset version that masked the chunk, for the
	// dead letters' maskstream-ruleset header.
	ruleset string
	// res is set by whoever claims the chunk, from resultsPool; the
	// writer gives it back once it has written the chunk.
	res *[chunkSize]result
}

// result is one record's masking outcome.
type result struct {
	out connectors.Record // the masked record (destination set later)
	buf *[]byte           // pooled buffer holding out.Value, if any
	// reason is set when the record goes to the dead letters; msg says
	// why (never a record value).
	reason string
	msg    string
}

// resultsPool recycles chunks' result arrays (about 12KB each): one per
// 64 records would otherwise be most of a lane's garbage.
var resultsPool = sync.Pool{New: func() any { return new([chunkSize]result) }}

// putResults gives res back to resultsPool; every buffer in it must have
// been handed on or released.
func putResults(res *[chunkSize]result) {
	clear(res[:]) // drop references to records and buffers
	resultsPool.Put(res)
}

func newChunk(recs []*connectors.Record) *chunk {
	return &chunk{recs: recs, done: make(chan struct{})}
}

// maskChunk masks every record of c with the route's current ruleset.
// Loading the ruleset once per chunk is what makes a reload atomic for
// every record: each is masked entirely by one version.
func (r *Route) maskChunk(c *chunk) {
	cp := r.ruleset.load()
	c.ruleset = cp.name
	var counts, found []uint32
	if cp.nrules > 0 {
		both := make([]uint32, 2*cp.nrules)
		counts = both[:cp.nrules:cp.nrules]
		if !cp.unmatched.judged.Load() {
			found = both[cp.nrules:]
		}
	}
	opts := engine.CallOptions{Counts: counts, Found: found}
	c.res = resultsPool.Get().(*[chunkSize]result)
	// One clock reading per record: each record's masking ends when the
	// next one's starts.
	t := time.Now()
	for i, rec := range c.recs {
		t = r.maskOne(cp, rec, &c.res[i], &opts, t)
	}
	for i, n := range counts {
		if n > 0 {
			cp.counters[i].Add(float64(n))
		}
	}
	if found != nil {
		// Only masked records count: a stream that starts with poison
		// must not make every rule look unmatched.
		masked := 0
		for i := range c.recs {
			if c.res[i].reason == "" {
				masked++
			}
		}
		cp.unmatched.add(found, masked, cp.name, r.log)
	}
}

// maskOne masks one record into res, started at start, and returns when
// it finished (start itself when the engine did not run). A panic in the
// engine becomes a dead letter: one strange record must not take the
// daemon down.
func (r *Route) maskOne(cp *compiled, rec *connectors.Record, res *result, opts *engine.CallOptions, start time.Time) (end time.Time) {
	*res = result{}
	if rec.Malformed != nil {
		// Masking what the source could not read would mask a guess: a
		// key left among the headers, say, would pass the key rule by.
		res.reason = ReasonBadSourceRecord
		res.msg = rec.Malformed.Error()
		return start
	}
	if rec.Attempt > r.cfg.MaxDeliveries {
		res.reason = ReasonMaxDeliveries
		res.msg = fmt.Sprintf("delivered %d times, more than limits.max_deliveries (%d)", rec.Attempt, r.cfg.MaxDeliveries)
		return start
	}
	defer func() {
		if p := recover(); p != nil {
			end = time.Now()
			if res.buf != nil {
				putBuf(res.buf)
			}
			*res = result{reason: string(engine.ReasonMask), msg: "internal error while masking (a bug: please report it with the ruleset, never the record)"}
			r.log.Error("engine panicked on a record; sent to the dead letters", "topic", rec.Origin.Topic, "partition", rec.Origin.Partition, "offset", rec.Origin.Offset, "panic_type", fmt.Sprintf("%T", p))
		}
	}()
	// Value, key and headers are masked as MaskRecord would, but the value
	// into a pooled buffer the slot returns once the sink has acked it:
	// MaskRecord allocates one per record.
	var err error
	res.out = connectors.Record{Key: rec.Key, Headers: rec.Headers, Timestamp: rec.Timestamp}
	if rec.Value != nil {
		buf := getBuf()
		var v []byte
		v, err = cp.m.MaskValue((*buf)[:0], r.cfg.Secret, rec.Value, opts)
		if err != nil {
			putBuf(buf)
		} else {
			*buf = v
			res.buf = buf
			res.out.Value = v
		}
	}
	if err == nil && !cp.noKey {
		res.out.Key, err = cp.m.MaskKey(r.cfg.Secret, rec.Key)
	}
	if err == nil && cp.masksHeaders && anyHeaderMasked(cp.m, rec.Headers) {
		in := toEngineHeaders(rec.Headers)
		var out []engine.Header
		out, err = cp.m.MaskHeaders(r.cfg.Secret, in, rec.Value)
		if err == nil && (len(out) != len(in) || len(out) > 0 && &out[0] != &in[0]) {
			res.out.Headers = fromEngineHeaders(out)
		}
	}
	if err != nil && res.buf != nil {
		putBuf(res.buf)
		res.buf = nil
	}
	end = time.Now()
	r.met.mask.Observe(end.Sub(start).Seconds())
	if err != nil {
		res.out = connectors.Record{}
		res.reason = string(engine.ReasonOf(err))
		res.msg = err.Error()
	}
	return end
}

// anyHeaderMasked reports whether the ruleset may change one of hs, so
// records whose headers all pass (the common case: tracing headers under
// redact_secrets) are not converted for the engine.
func anyHeaderMasked(m *engine.Masker, hs []connectors.Header) bool {
	for _, h := range hs {
		if m.MasksHeader(h.Key) {
			return true
		}
	}
	return false
}

func toEngineHeaders(hs []connectors.Header) []engine.Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]engine.Header, len(hs))
	for i, h := range hs {
		out[i] = engine.Header{Key: h.Key, Value: h.Value}
	}
	return out
}

func fromEngineHeaders(hs []engine.Header) []connectors.Header {
	if len(hs) == 0 {
		return nil
	}
	out := make([]connectors.Header, len(hs))
	for i, h := range hs {
		out[i] = connectors.Header{Key: h.Key, Value: h.Value}
	}
	return out
}

// bufPool holds masked-value buffers: a slot returns its buffer once the
// sink has acknowledged the record, so steady state allocates none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf keeps one huge record from pinning its buffer forever.
const maxPooledBuf = 256 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
