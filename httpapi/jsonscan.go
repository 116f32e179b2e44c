package httpapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/maskstream/maskstream/engine"
)

// The request envelopes are read by a small strict scanner rather than
// unmarshalled: it validates the whole body once, hands the data entries to
// the engine as sub-slices of the body (no copy, no interface{} round trip),
// rejects duplicate and unknown keys, trailing data and nesting beyond the
// limit, and reports every problem with its byte offset. Its messages may
// name a key of the envelope but never quote a value.

// syntaxError is malformed JSON: a 400 naming the byte offset.
type syntaxError struct {
	Offset int
	Msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte offset %d: %s", e.Offset, e.Msg)
}

// fieldError is well-formed JSON with a wrong, missing or unknown field:
// 422 on /ifm, 400 on /v1.
type fieldError struct {
	Offset int
	Msg    string
}

func (e *fieldError) Error() string {
	if e.Offset < 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s (byte offset %d)", e.Msg, e.Offset)
}

// tooLargeError is a body beyond the limit: a 413.
type tooLargeError struct{ Limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the request body is larger than the limit of %d bytes; send fewer records per request", e.Limit)
}

// tooManyError is a top-level array with more entries than
// Config.MaxRecords: a 413. Each entry costs a span and, for data, a call
// of the engine, which a body of tiny entries (2 bytes each) would
// multiply beyond what the body budget accounts for.
type tooManyError struct {
	Field string
	Limit int
}

func (e *tooManyError) Error() string {
	what := "entries"
	if e.Field == "data" || e.Field == "hash_values" {
		what = "records"
	}
	return fmt.Sprintf("field %s has more than %d %s, the limit of one request (http.max_records); send fewer records per request, or raise http.max_records", strconv.Quote(e.Field), e.Limit, what)
}

// span is a value's bytes within the body: buf[start:end].
type span struct{ start, end int }

// member is one key of a top-level object with its value.
type member struct {
	key    string
	keyOff int
	val    span
	// elems holds the element spans when the value is an array.
	elems []span
}

type scanner struct {
	buf      []byte
	pos      int
	maxDepth int
	// maxElems caps the entries of a top-level member's array (0: no
	// cap), checked as they are scanned so no span is kept beyond it.
	maxElems int
}

func (s *scanner) fail(format string, args ...any) error {
	return &syntaxError{Offset: s.pos, Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) ws() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// object parses the body as one JSON object and returns its members,
// appending to ms. Array values of top-level members get their element
// spans. Anything after the object but whitespace is an error.
func (s *scanner) object(ms []member) ([]member, error) {
	s.ws()
	if s.pos == len(s.buf) {
		return ms, &syntaxError{Offset: 0, Msg: "the body is empty; send a JSON object"}
	}
	if s.buf[s.pos] != '{' {
		return ms, &fieldError{Offset: s.pos, Msg: "the body must be a JSON object"}
	}
	s.pos++
	s.ws()
	if s.pos < len(s.buf) && s.buf[s.pos] == '}' {
		s.pos++
		return ms, s.end()
	}
	for {
		s.ws()
		if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
			return ms, s.fail("expected a quoted key")
		}
		koff := s.pos
		kspan, esc, err := s.str()
		if err != nil {
			return ms, err
		}
		key := decodeKey(s.buf[kspan.start:kspan.end], esc)
		for i := range ms {
			if ms[i].key == key {
				return ms, &syntaxError{Offset: koff, Msg: fmt.Sprintf("duplicate key %q", key)}
			}
		}
		s.ws()
		if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
			return ms, s.fail("expected ':' after a key")
		}
		s.pos++
		s.ws()
		m := member{key: key, keyOff: koff}
		start := s.pos
		if s.pos < len(s.buf) && s.buf[s.pos] == '[' {
			if m.elems, err = s.array(2, m.elems, key); err != nil {
				return ms, err
			}
		} else if err := s.value(2); err != nil {
			return ms, err
		}
		m.val = span{start, s.pos}
		ms = append(ms, m)
		s.ws()
		if s.pos >= len(s.buf) {
			return ms, s.fail("the object is not closed: expected ',' or '}'")
		}
		switch s.buf[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return ms, s.end()
		default:
			return ms, s.fail("expected ',' or '}' after a value")
		}
	}
}

// end accepts only whitespace after the top-level value.
func (s *scanner) end() error {
	s.ws()
	if s.pos != len(s.buf) {
		return s.fail("unexpected data after the JSON object")
	}
	return nil
}

// array parses an array at depth. For a top-level member (key != "") it
// appends each element's span, at most maxElems of them; a nested array's
// elements are only validated: keeping their spans would cost 16 bytes per
// 2-byte element for nothing.
func (s *scanner) array(depth int, elems []span, key string) ([]span, error) {
	if depth > s.maxDepth {
		return elems, s.fail("nesting deeper than %d levels", s.maxDepth-2)
	}
	s.pos++ // '['
	s.ws()
	if s.pos < len(s.buf) && s.buf[s.pos] == ']' {
		s.pos++
		return elems, nil
	}
	for {
		s.ws()
		start := s.pos
		if err := s.value(depth + 1); err != nil {
			return elems, err
		}
		if key != "" {
			if s.maxElems > 0 && len(elems) >= s.maxElems {
				return elems, &tooManyError{Field: key, Limit: s.maxElems}
			}
			elems = append(elems, span{start, s.pos})
		}
		s.ws()
		if s.pos >= len(s.buf) {
			return elems, s.fail("the array is not closed: expected ',' or ']'")
		}
		switch s.buf[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return elems, nil
		default:
			return elems, s.fail("expected ',' or ']' after an array element")
		}
	}
}

// value validates one JSON value at depth (objects and arrays count one
// level each).
func (s *scanner) value(depth int) error {
	if s.pos >= len(s.buf) {
		return s.fail("unexpected end of the body: expected a value")
	}
	switch c := s.buf[s.pos]; {
	case c == '{':
		if depth > s.maxDepth {
			return s.fail("nesting deeper than %d levels", s.maxDepth-2)
		}
		s.pos++
		s.ws()
		if s.pos < len(s.buf) && s.buf[s.pos] == '}' {
			s.pos++
			return nil
		}
		for {
			s.ws()
			if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
				return s.fail("expected a quoted key")
			}
			if _, _, err := s.str(); err != nil {
				return err
			}
			s.ws()
			if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
				return s.fail("expected ':' after a key")
			}
			s.pos++
			s.ws()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.pos >= len(s.buf) {
				return s.fail("the object is not closed: expected ',' or '}'")
			}
			switch s.buf[s.pos] {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return nil
			default:
				return s.fail("expected ',' or '}' after a value")
			}
		}
	case c == '[':
		_, err := s.array(depth, nil, "")
		return err
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	// Which byte, never the byte: the body is a record to be masked.
	return s.fail("unexpected %s: expected a JSON value", byteClass(s.buf[s.pos]))
}

// byteClass names what kind of byte c is, without quoting record content:
// JSON's own punctuation by name, anything else by class.
func byteClass(c byte) string {
	switch {
	case c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',':
		return "'" + string(c) + "'"
	case c >= 0x80:
		return "non-ASCII byte"
	case c < 0x20 || c == 0x7f:
		return "control character"
	}
	return "character"
}

func (s *scanner) literal(lit string) error {
	if len(s.buf)-s.pos < len(lit) || string(s.buf[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal: expected %s", lit)
	}
	s.pos += len(lit)
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.buf) && s.buf[s.pos] >= '0' && s.buf[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.buf[s.pos] == '-' {
		s.pos++
	}
	if s.pos < len(s.buf) && s.buf[s.pos] == '0' {
		s.pos++
	} else if s.digits() == 0 {
		return s.fail("invalid number: expected a digit")
	}
	if s.pos < len(s.buf) && s.buf[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("invalid number: expected a digit after '.'")
		}
	}
	if s.pos < len(s.buf) && (s.buf[s.pos] == 'e' || s.buf[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.buf) && (s.buf[s.pos] == '+' || s.buf[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("invalid number: expected a digit in the exponent")
		}
	}
	return nil
}

// str validates a string starting at the opening quote and returns the
// span of its contents (without quotes) and whether it holds escapes.
func (s *scanner) str() (span, bool, error) {
	s.pos++ // '"'
	start := s.pos
	esc := false
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		switch {
		case c == '"':
			sp := span{start, s.pos}
			s.pos++
			return sp, esc, nil
		case c == '\\':
			esc = true
			if s.pos+1 >= len(s.buf) {
				return span{}, esc, s.fail("unterminated escape in a string")
			}
			switch s.buf[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if len(s.buf)-s.pos < 6 || !isHex4(s.buf[s.pos+2:s.pos+6]) {
					return span{}, esc, s.fail("invalid \\u escape: expected 4 hex digits")
				}
				s.pos += 6
			default:
				return span{}, esc, s.fail("invalid escape in a string")
			}
		case c < 0x20:
			return span{}, esc, s.fail("control character in a string: escape it")
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.buf[s.pos:])
			if r == utf8.RuneError && n == 1 {
				return span{}, esc, s.fail("invalid UTF-8 in a string")
			}
			s.pos += n
		}
	}
	return span{}, esc, s.fail("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeKey returns a key's text; raw is its contents between the quotes.
func decodeKey(raw []byte, esc bool) string {
	if !esc {
		return string(raw)
	}
	return unescape(raw)
}

// unescape decodes the contents of a validated JSON string (between its
// quotes). It is off the hot path: only strings with escapes come here.
func unescape(raw []byte) string {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var out string
	if err := json.Unmarshal(q, &out); err != nil {
		return string(raw)
	}
	return out
}

// kindOf names the JSON type of a validated value, for field errors.
func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// stringValue returns a validated value's text if it is a JSON string.
func stringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' {
			return unescape(inner), true
		}
	}
	return string(inner), true
}

// boolValue returns a validated value as a boolean if it is one.
func boolValue(v []byte) (val, ok bool) {
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// hashText is the hash input of a hash_values entry: a string's decoded
// text, a number's or boolean's literal (so 123 and "123" hash alike), an
// object's or array's raw JSON; nil for null (the record keeps its own hash
// sources).
func hashText(v []byte) []byte {
	switch {
	case len(v) == 0 || v[0] == 'n':
		return nil
	case v[0] == '"':
		s, _ := stringValue(v)
		return []byte(s)
	}
	return v
}

// appendString appends s as a JSON string, JavaScript-safe (U+2028 and
// U+2029 escaped) as encoding/json writes it.
func appendString(dst []byte, s string) []byte {
	return engine.AppendJSONString(dst, s, true)
}
