package httpapi

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// maxFailureLogs caps the logs of a soft failure: one per failed record.
const maxFailureLogs = 100

// reqState is the per-request scratch of the mask endpoint, pooled so a
// request allocates little beyond what the engine needs.
type reqState struct {
	body []byte
	out  []byte
	ms   []member
}

var statePool = sync.Pool{New: func() any { return &reqState{} }}

// maxPooled keeps huge buffers from staying pinned in the pool.
const maxPooled = 1 << 20

func putState(st *reqState) {
	if cap(st.body) > maxPooled || cap(st.out) > maxPooled {
		return
	}
	clear(st.ms[:cap(st.ms)])
	st.ms = st.ms[:0]
	statePool.Put(st)
}

// maskRequest is a decoded mask request envelope. data and hash values
// are spans of the body.
type maskRequest struct {
	data       []span
	hashValues []span
	hasHashes  bool
	runSecret  string
	hasSecret  bool
	requestID  string
	logLevel   string
	noInstance bool
}

func (s *Server) maskHandler(a api) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.mask(w, r, a) })
}

// mask serves POST /v1/mask/{name} and POST /ifm/ruleset-plans/{name}/mask/.
func (s *Server) mask(w http.ResponseWriter, r *http.Request, a api) {
	name := r.PathValue("name")
	e, ok := s.store.Get(name)
	if !ok {
		s.writeError(w, a, http.StatusNotFound, codeNotFound, "no ruleset plan named "+strconv.Quote(name)+"; list them with GET /v1/rulesets or GET /ifm/ruleset-plans/")
		return
	}
	if !e.Options.Enabled {
		s.writeError(w, a, http.StatusConflict, codeDisabled, "ruleset plan "+strconv.Quote(name)+" is disabled; enable it with PATCH /ifm/ruleset-plans/"+name+"/ {\"options\": {\"enabled\": true}}")
		return
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		// Refused before it takes any of the budget.
		s.writeBodyError(w, a, &tooLargeError{s.cfg.MaxBodyBytes})
		return
	}
	weight, ok := s.takeBudget(w, r, a)
	if !ok {
		return
	}
	defer s.giveBudget(r, weight)
	st := statePool.Get().(*reqState)
	defer putState(st)
	var err error
	if st.body, err = readBody(r, s.cfg.MaxBodyBytes, st.body[:0]); err != nil {
		s.writeBodyError(w, a, err)
		return
	}
	sc := scanner{buf: st.body, maxDepth: s.cfg.MaxDepth + 2, maxElems: s.cfg.MaxRecords}
	if st.ms, err = sc.object(st.ms[:0]); err != nil {
		s.writeBodyError(w, a, err)
		return
	}
	req, err := decodeMaskRequest(a, st.body, st.ms)
	if err != nil {
		s.writeBodyError(w, a, err)
		return
	}
	if req.logLevel == "" {
		req.logLevel = e.Options.DefaultLogLevel
	}
	if req.requestID == "" {
		req.requestID = newRequestID()
	}
	sec, status, code, msg := s.requestSecret(req)
	if sec == nil {
		s.writeError(w, a, status, code, msg)
		return
	}

	now := s.now().UTC()
	out := appendMaskHead(st.out[:0], req.requestID, e)
	out = append(out, `,"encoding":"json","charset":"utf-8","logs":[`...)
	if rulesets.LogLevelRank(req.logLevel) <= rulesets.LogLevelRank(rulesets.LogDebug) {
		out = appendLog(out, rulesets.LogDebug, now, "masking "+strconv.Itoa(len(req.data))+" records with ruleset plan "+strconv.Quote(e.Name)+" serial "+strconv.FormatInt(e.Serial, 10))
	}
	out = append(out, `],"data":[`...)
	var (
		failed   []int
		failures []error
		nfailed  int
		co       engine.CallOptions
	)
	ctx := r.Context()
	for i, sp := range req.data {
		// The context ends when the client goes away: no answer can
		// reach it, so stop spending CPU. Per record, not per field: a
		// record is masked in microseconds.
		if ctx.Err() != nil {
			s.log.Debug("mask request abandoned by its client", "route", routeOf(r), "records_done", i, "records", len(req.data))
			return
		}
		if i > 0 {
			out = append(out, ',')
		}
		co.HashValue = nil
		if req.hasHashes {
			hv := req.hashValues[i]
			co.HashValue = hashText(st.body[hv.start:hv.end])
		}
		mark := len(out)
		var merr error
		if n := sp.end - sp.start; n > s.cfg.MaxRecordBytes {
			merr = &engine.MaskError{Reason: engine.ReasonTooLarge, Msg: "the record is " + strconv.Itoa(n) + " bytes, more than the limit of " + strconv.Itoa(s.cfg.MaxRecordBytes) + "; raise limits.max_record_bytes if such records are expected"}
		} else {
			out, merr = e.Compiled.MaskValue(out, sec, st.body[sp.start:sp.end], &co)
		}
		if merr != nil {
			// Keep going: the answer lists every record that failed.
			out = out[:mark]
			nfailed++
			if len(failed) < maxFailureLogs {
				failed, failures = append(failed, i), append(failures, merr)
			}
		}
	}
	out = append(out, "]}\n"...)
	st.out = out
	if nfailed > 0 {
		s.writeSoftFailure(w, a, req, e, now, failed, failures, nfailed, len(req.data))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// decodeMaskRequest reads the envelope's fields strictly.
func decodeMaskRequest(a api, body []byte, ms []member) (maskRequest, error) {
	var req maskRequest
	hasData := false
	for i := range ms {
		m := &ms[i]
		v := body[m.val.start:m.val.end]
		isNull := string(v) == "null"
		switch m.key {
		case "data":
			if v[0] != '[' {
				return req, &fieldError{m.val.start, "field data must be an array of records, not " + kindOf(v)}
			}
			req.data, hasData = m.elems, true
		case "hash_values":
			if isNull {
				continue
			}
			if v[0] != '[' {
				return req, &fieldError{m.val.start, "field hash_values must be an array parallel to data, not " + kindOf(v)}
			}
			req.hashValues, req.hasHashes = m.elems, true
		case "run_secret":
			if isNull {
				continue
			}
			str, ok := stringValue(v)
			if !ok {
				// Name the type only: the value may be the secret.
				return req, &fieldError{m.val.start, "field run_secret must be a string, not " + kindOf(v)}
			}
			req.runSecret, req.hasSecret = str, true
		case "request_id":
			if isNull {
				continue
			}
			str, ok := stringValue(v)
			if !ok {
				return req, &fieldError{m.val.start, "field request_id must be a string, not " + kindOf(v)}
			}
			if len(str) > 256 {
				return req, &fieldError{m.val.start, "field request_id is longer than 256 bytes"}
			}
			req.requestID = str
		case "log_level":
			if isNull {
				continue
			}
			str, ok := stringValue(v)
			if !ok {
				return req, &fieldError{m.val.start, "field log_level must be a string, not " + kindOf(v)}
			}
			lvl, ok := rulesets.NormalizeLogLevel(str)
			if !ok {
				return req, &fieldError{m.val.start, "field log_level must be debug, info, warning, error or critical"}
			}
			req.logLevel = lvl
		case "disable_instance_secret":
			if a != apiIFM {
				return req, unknownField(a, m)
			}
			if isNull {
				continue
			}
			b, ok := boolValue(v)
			if !ok {
				return req, &fieldError{m.val.start, "field disable_instance_secret must be a boolean, not " + kindOf(v)}
			}
			req.noInstance = b
		case "ai_engine_url":
			if a == apiIFM {
				return req, &fieldError{m.keyOff, "field ai_engine_url is not supported: no detection model runs here"}
			}
			return req, unknownField(a, m)
		default:
			return req, unknownField(a, m)
		}
	}
	if !hasData {
		return req, &fieldError{-1, "field data is required: a list of the records to mask"}
	}
	if req.hasHashes && len(req.hashValues) != len(req.data) {
		return req, &fieldError{-1, "field hash_values must have one entry per data entry (" + strconv.Itoa(len(req.hashValues)) + " given for " + strconv.Itoa(len(req.data)) + " records)"}
	}
	return req, nil
}

func unknownField(a api, m *member) error {
	fields := "data, hash_values, run_secret, request_id and log_level"
	if a == apiIFM {
		fields = "data, hash_values, run_secret, request_id, log_level and disable_instance_secret"
	}
	return &fieldError{m.keyOff, "unknown field " + strconv.Quote(m.key) + "; the fields are " + fields}
}

// requestSecret picks the secret a request masks with. A nil secret comes
// with the error to answer.
func (s *Server) requestSecret(req maskRequest) (sec *engine.Secret, status int, code, msg string) {
	switch {
	case req.hasSecret:
		if !s.cfg.AllowRequestSecret {
			return nil, http.StatusForbidden, codeSecretRefused, "this server does not allow a run_secret in requests (http.allow_request_secret is false); leave run_secret out to mask with the server's secret"
		}
		sec, err := engine.NewSecret(req.runSecret)
		switch {
		case errors.Is(err, engine.ErrSecretLength):
			return nil, http.StatusBadRequest, codeBadRequest, "run_secret must be 16 to 256 characters"
		case err != nil:
			// The engine's reasons name what to remove, never the secret.
			return nil, http.StatusBadRequest, codeBadRequest, "run_secret: " + strings.TrimPrefix(err.Error(), "engine: the run secret ")
		}
		return sec, 0, "", ""
	case req.noInstance:
		// DataMasque without any secret masks randomly: a fresh secret
		// per request gives the same (unrepeatable) outputs.
		var b [32]byte
		rand.Read(b[:])
		sec, err := engine.NewSecret(hex.EncodeToString(b[:]))
		if err != nil {
			return nil, http.StatusInternalServerError, codeInternal, "could not prepare a request secret"
		}
		return sec, 0, "", ""
	case s.secret == nil:
		return nil, http.StatusBadRequest, codeBadRequest, "this server has no run secret of its own; send run_secret with the request"
	}
	return s.secret, 0, "", ""
}

// appendMaskHead writes the opening of a mask response, up to the plan.
func appendMaskHead(out []byte, requestID string, e *rulesets.Entry[*engine.Masker]) []byte {
	out = append(out, `{"request_id":`...)
	out = appendString(out, requestID)
	out = append(out, `,"ruleset_plan":{"name":`...)
	out = appendString(out, e.Name)
	out = append(out, `,"serial":`...)
	out = strconv.AppendInt(out, e.Serial, 10)
	return append(out, '}')
}

func appendLog(out []byte, level string, at time.Time, msg string) []byte {
	if out[len(out)-1] == '}' {
		out = append(out, ',')
	}
	out = append(out, `{"log_level":`...)
	out = appendString(out, level)
	out = append(out, `,"timestamp":"`...)
	out = at.AppendFormat(out, time.RFC3339Nano)
	out = append(out, `","message":`...)
	out = appendString(out, msg)
	return append(out, '}')
}

// writeSoftFailure answers a request with records that could not be
// masked: DataMasque's soft failure, a 400 with request_id, ruleset_plan
// and logs but no data, so no record leaves half-masked.
func (s *Server) writeSoftFailure(w http.ResponseWriter, a api, req maskRequest, e *rulesets.Entry[*engine.Masker], now time.Time, failed []int, errs []error, nfailed, total int) {
	out := appendMaskHead(nil, req.requestID, e)
	out = append(out, `,"logs":[`...)
	for i, idx := range failed {
		out = appendLog(out, rulesets.LogError, now, "data["+strconv.Itoa(idx)+"]: "+maskErrorText(errs[i]))
	}
	out = append(out, ']')
	if a == apiV1 {
		out = append(out, `,"error":{"code":"`+codeNotMasked+`","message":`...)
		out = appendString(out, strconv.Itoa(nfailed)+" of "+strconv.Itoa(total)+" records could not be masked; see logs")
		out = append(out, '}')
	}
	out = append(out, "}\n"...)
	writeJSON(w, http.StatusBadRequest, out)
}

// maskErrorText describes a masking error without any record value: the
// engine's MaskError says the reason, the place and the problem; anything
// else is reduced to its reason.
func maskErrorText(err error) string {
	var me *engine.MaskError
	if errors.As(err, &me) {
		return me.Error()
	}
	return "engine: " + string(engine.ReasonOf(err)) + ": the record could not be masked"
}

// readBodyStart caps readBody's first buffer: a declared Content-Length
// is only a promise, so memory is spent as bytes arrive, not before.
const readBodyStart = 64 << 10

// readBody reads r's body into buf, up to limit bytes. The buffer starts at
// min(Content-Length, 64 KiB) and doubles as the body arrives, never past
// the declared length or the limit (plus one byte to see an overrun).
func readBody(r *http.Request, limit int64, buf []byte) ([]byte, error) {
	if r.ContentLength > limit {
		return buf, &tooLargeError{limit}
	}
	if want := min(r.ContentLength, readBodyStart); want > 0 && int64(cap(buf)) < want {
		buf = make([]byte, 0, want)
	}
	for {
		if len(buf) == cap(buf) {
			buf = growBody(buf, r.ContentLength, limit)
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, &tooLargeError{limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return buf, &tooLargeError{limit}
			}
			return buf, err
		}
	}
}

// growBody doubles buf's capacity, keeping it within the declared length
// and one byte past limit.
func growBody(buf []byte, declared, limit int64) []byte {
	c := int64(max(2*cap(buf), 512))
	switch {
	case declared > int64(len(buf)):
		c = min(c, declared)
	case declared > 0:
		// All declared bytes are in: room enough to see EOF or an overrun.
		c = int64(len(buf)) + 512
	}
	c = min(c, limit+1)
	if c <= int64(len(buf)) {
		c = int64(len(buf)) + 1
	}
	nb := make([]byte, len(buf), c)
	copy(nb, buf)
	return nb
}

// newRequestID returns a random UUID (version 4). A request ID is a label,
// not a secret: the runtime's per-thread ChaCha8 generator is enough and
// needs no system call.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], mrand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], mrand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
