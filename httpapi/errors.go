package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/maskstream/maskstream/rulesets"
)

// api is which of the two APIs a route belongs to: they differ in their
// error bodies and in the status of a wrongly typed field.
type api uint8

const (
	// apiV1 errors are {"error": {"code", "message"}}; every client
	// mistake is a 400.
	apiV1 api = iota
	// apiIFM errors are DataMasque's {"detail": "..."}; a field of the
	// wrong type, a missing or an unknown field is a 422.
	apiIFM
)

// Error codes of /v1 error bodies.
const (
	codeBadJSON       = "bad_json"
	codeBadRequest    = "bad_request"
	codeBadName       = "bad_name"
	codeNotFound      = "not_found"
	codeMethod        = "method_not_allowed"
	codeConflict      = "conflict"
	codeReadOnly      = "read_only"
	codeInvalid       = "invalid_ruleset"
	codeTooLarge      = "too_large"
	codeNotMasked     = "record_not_masked"
	codeSecretRefused = "request_secret_not_allowed"
	codeDisabled      = "plan_disabled"
	codeInternal      = "internal"
	codeMisdirected   = "misdirected_request"
	codeCrossOrigin   = "cross_origin"
)

// writeError writes an error body in the style of a. Messages never hold a
// record value or a secret: they name fields, offsets and rulesets.
func (s *Server) writeError(w http.ResponseWriter, a api, status int, code, msg string) {
	var body []byte
	if a == apiIFM {
		body = append(body, `{"detail":`...)
		body = appendString(body, msg)
		body = append(body, '}')
	} else {
		body = append(body, `{"error":{"code":`...)
		body = appendString(body, code)
		body = append(body, `,"message":`...)
		body = appendString(body, msg)
		body = append(body, `}}`...)
	}
	writeJSON(w, status, append(body, '\n'))
}

// writeFieldError answers a request body with a field of the wrong type,
// a missing field or an unknown one: 422 on /ifm (DataMasque), 400 on /v1.
func (s *Server) writeFieldError(w http.ResponseWriter, a api, msg string) {
	status := http.StatusBadRequest
	if a == apiIFM {
		status = http.StatusUnprocessableEntity
	}
	s.writeError(w, a, status, codeBadRequest, msg)
}

// writeBodyError answers a request body that could not be read or parsed.
func (s *Server) writeBodyError(w http.ResponseWriter, a api, err error) {
	switch e := err.(type) {
	case *tooLargeError:
		s.writeError(w, a, http.StatusRequestEntityTooLarge, codeTooLarge, e.Error())
	case *rulesetTooLargeError:
		s.writeError(w, a, http.StatusRequestEntityTooLarge, codeTooLarge, e.Error())
	case *tooManyError:
		s.writeError(w, a, http.StatusRequestEntityTooLarge, codeTooLarge, e.Error())
	case *fieldError:
		s.writeFieldError(w, a, e.Error())
	case *syntaxError:
		s.writeError(w, a, http.StatusBadRequest, codeBadJSON, e.Error())
	default:
		s.writeError(w, a, http.StatusBadRequest, codeBadRequest, "the request body could not be read")
	}
}

// rulesetTooLargeError is a ruleset upload beyond Config.MaxRulesetBytes:
// a 413 whose advice fits an upload (a mask body's is to send fewer
// records).
type rulesetTooLargeError struct{ Limit int64 }

func (e *rulesetTooLargeError) Error() string {
	msg := "the ruleset is larger than the upload limit of " + strconv.FormatInt(e.Limit, 10) + " bytes"
	if e.Limit < rulesets.MaxRulesetBytes {
		// No daemon setting raises the upload limit; a file of the
		// rulesets dir has the parser's larger one.
		msg += "; shorten it, or put it in a file of the rulesets dir (up to " + strconv.Itoa(rulesets.MaxRulesetBytes) + " bytes) and reload"
	} else {
		msg += "; shorten it"
	}
	return msg
}

// uploadError turns readBody's too-large error on a ruleset upload into
// the upload's own.
func uploadError(err error, limit int64) error {
	if _, ok := err.(*tooLargeError); ok {
		return &rulesetTooLargeError{limit}
	}
	return err
}

// rulesetProblem is one ruleset error with its position, for clients to
// point at the line.
type rulesetProblem struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// writeRulesetErrors answers an upload that does not parse or compile
// with every problem and its line:col.
func (s *Server) writeRulesetErrors(w http.ResponseWriter, a api, err error) {
	errs := rulesets.Errors(err)
	probs := make([]rulesetProblem, len(errs))
	for i, e := range errs {
		probs[i] = rulesetProblem{Line: e.Pos.Line, Column: e.Pos.Col, Message: e.Msg}
	}
	msg := "the ruleset is not valid: " + strconv.Itoa(len(errs)) + " problem"
	if len(errs) != 1 {
		msg += "s"
	}
	msg += ":\n" + err.Error()
	var v any
	if a == apiIFM {
		v = struct {
			Detail string           `json:"detail"`
			Errors []rulesetProblem `json:"errors"`
		}{msg, probs}
	} else {
		type inner struct {
			Code    string           `json:"code"`
			Message string           `json:"message"`
			Details []rulesetProblem `json:"details"`
		}
		v = struct {
			Error inner `json:"error"`
		}{inner{codeInvalid, msg, probs}}
	}
	b, _ := json.Marshal(v)
	writeJSON(w, http.StatusBadRequest, append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

// writeValue marshals v with encoding/json (management endpoints; the mask
// endpoint writes its body by hand).
func (s *Server) writeValue(w http.ResponseWriter, a api, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, a, http.StatusInternalServerError, codeInternal, "the response could not be encoded")
		return
	}
	writeJSON(w, status, append(b, '\n'))
}
