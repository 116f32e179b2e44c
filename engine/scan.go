package engine

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// lexer holds the validating primitives every scan of a document shares:
// the masking scan, lookups in the original record, the validation of mask
// outputs. It never allocates and never panics on any input: a malformed
// document ends in a *MaskError naming the byte offset.
type lexer struct {
	src      []byte
	i        int
	depth    int
	maxDepth int
}

// class of each byte inside a string: 0 passes through, 1 needs a look
// ('"', '\\', a control byte or the start of a multi-byte sequence).
var strStop = func() (t [256]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'] = 1
	t['\\'] = 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 1
	}
	return
}()

var isSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (l *lexer) ws() {
	for l.i < len(l.src) && isSpace[l.src[l.i]] {
		l.i++
	}
}

func (l *lexer) notJSON(msg string) error {
	return &MaskError{Reason: ReasonNotJSON, Where: "offset " + strconv.Itoa(l.i), Msg: msg}
}

func (l *lexer) unexpected(what string) error {
	if l.i >= len(l.src) {
		return l.notJSON("unexpected end of input; expected " + what)
	}
	return l.notJSON("unexpected " + describeByte(l.src[l.i]) + "; expected " + what)
}

// describeByte names a byte without quoting record content beyond one
// structural character.
func describeByte(c byte) string {
	switch {
	case c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',' || c == '"':
		return "'" + string(c) + "'"
	case c >= '0' && c <= '9' || c == '-':
		return "a number"
	case c >= 0x80:
		return "a non-ASCII byte"
	case c < 0x20:
		return "a control character"
	}
	return "a character"
}

func (l *lexer) tooDeep() error {
	return &MaskError{Reason: ReasonTooDeep, Where: "offset " + strconv.Itoa(l.i),
		Msg: "nesting deeper than " + strconv.Itoa(l.maxDepth) + " levels; raise limits.max_depth if such records are expected"}
}

const (
	hi8  = 0x8080808080808080
	lo8  = 0x0101010101010101
	quo8 = 0x2222222222222222
	bsl8 = 0x5c5c5c5c5c5c5c5c
	ctl8 = 0x2020202020202020
)

// plainStop flags (bit 7 of each byte) the bytes of w, eight string
// bytes read little-endian, that end a run of plain ASCII: '"', '\\', a
// control byte or a byte >= 0x80. The lowest flag is exact (a borrow only
// flags bytes above a real hit), so it is where a scan stops.
func plainStop(w uint64) uint64 {
	q := w ^ quo8
	b := w ^ bsl8
	return (((q - lo8) & ^q) | ((b - lo8) & ^b) | (w - ctl8) | w) & hi8
}

// shortStr returns the offset of the closing quote of the string whose
// body starts at j (after its opening quote) when that body is plain
// ASCII ending within the next 8 bytes; 0 when it cannot tell (str then
// scans it). Most member names and many values are that short, and the
// check inlines: no call.
func shortStr(src []byte, j int) int {
	if j+8 <= len(src) {
		if stop := plainStop(binary.LittleEndian.Uint64(src[j:])); stop != 0 {
			if k := j + bits.TrailingZeros64(stop)>>3; src[k] == '"' {
				return k
			}
		}
	}
	return 0
}

// str scans the string whose opening quote is at l.i, leaving l.i after the
// closing quote. It validates escapes, control bytes and UTF-8. esc reports
// whether the string holds an escape (so its bytes are not its text).
func (l *lexer) str() (esc bool, err error) {
	src := l.src
	i := l.i + 1
	for {
		// Eight bytes at a time while none of them needs a look.
		for i+8 <= len(src) {
			if stop := plainStop(binary.LittleEndian.Uint64(src[i:])); stop != 0 {
				i += bits.TrailingZeros64(stop) >> 3
				goto look
			}
			i += 8
		}
		for i < len(src) && strStop[src[i]] == 0 {
			i++
		}
	look:
		if i >= len(src) {
			l.i = i
			return esc, l.notJSON("unterminated string")
		}
		c := src[i]
		switch {
		case c == '"':
			l.i = i + 1
			return esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(src) {
				l.i = i
				return esc, l.notJSON("unterminated escape")
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(src) || !isHex4(src[i+2:i+6]) {
					l.i = i
					return esc, l.notJSON(`\u escape needs four hex digits`)
				}
				i += 6
			default:
				l.i = i
				return esc, l.notJSON("invalid escape in a string")
			}
		case c < 0x20:
			l.i = i
			return esc, l.notJSON("control character in a string; it must be escaped")
		default:
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				l.i = i
				return esc, &MaskError{Reason: ReasonInvalidUTF8, Where: "offset " + strconv.Itoa(i), Msg: "a string holds bytes that are not UTF-8"}
			}
			i += n
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// num scans a number at l.i by JSON's grammar.
func (l *lexer) num() error {
	src := l.src
	i := l.i
	if i < len(src) && src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	default:
		l.i = i
		return l.notJSON("invalid number")
	}
	if i < len(src) && src[i] == '.' {
		i++
		s := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		if i == s {
			l.i = i
			return l.notJSON("invalid number: digits must follow the decimal point")
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		s := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		if i == s {
			l.i = i
			return l.notJSON("invalid number: digits must follow the exponent")
		}
	}
	l.i = i
	return nil
}

// The scans of objects and arrays share open and next. Both are small
// enough for the compiler to inline (they return no error, which would
// make them too costly to inline: the caller builds it), so the masking
// scan pays no call per member.

// open enters the object or array whose opening byte is at l.i, counting
// its depth; ok is false when that is deeper than allowed (l.tooDeep).
// empty reports that close (its closing byte) follows at once: it is
// passed over too and the container is done.
func (l *lexer) open(close byte) (empty, ok bool) {
	l.depth++
	if l.depth > l.maxDepth {
		return false, false
	}
	l.i++
	l.ws()
	if l.i < len(l.src) && l.src[l.i] == close {
		l.i++
		l.depth--
		return true, true
	}
	return false, true
}

// next passes over what follows a member or an element: a ',' and the
// white space after it (more: another one follows), or close, which ends
// the container. ok is false for anything else (see l.expectedAfter).
func (l *lexer) next(close byte) (more, ok bool) {
	l.ws()
	if l.i < len(l.src) {
		switch l.src[l.i] {
		case ',':
			l.i++
			l.ws()
			return true, true
		case close:
			l.i++
			l.depth--
			return false, true
		}
	}
	return false, false
}

// expectedAfter is the error of a byte that is neither ',' nor close after
// a member or an element.
func (l *lexer) expectedAfter(close byte) error {
	if close == '}' {
		return l.unexpected("',' or '}'")
	}
	return l.unexpected("',' or ']'")
}

// countElements counts the elements of the array whose first element is at
// l.i. It works on a copy, so l does not move: negative indexes need the
// length up front.
func (l lexer) countElements() (int, error) {
	n := 0
	for {
		if err := l.skip(); err != nil {
			return 0, err
		}
		n++
		l.ws()
		if l.i < len(l.src) && l.src[l.i] == ',' {
			l.i++
			l.ws()
			continue
		}
		return n, nil // the main scan reports what else may follow
	}
}

// lit scans true, false or null at l.i.
func (l *lexer) lit(word string) error {
	if len(l.src)-l.i < len(word) || string(l.src[l.i:l.i+len(word)]) != word {
		return l.unexpected("a JSON value")
	}
	l.i += len(word)
	return nil
}

// skip validates and passes over the value at l.i (whitespace before it
// already skipped).
func (l *lexer) skip() error {
	if l.i >= len(l.src) {
		return l.unexpected("a JSON value")
	}
	switch c := l.src[l.i]; c {
	case '"':
		if k := shortStr(l.src, l.i+1); k != 0 {
			l.i = k + 1
			return nil
		}
		_, err := l.str()
		return err
	case '{':
		if empty, ok := l.open('}'); !ok {
			return l.tooDeep()
		} else if empty {
			return nil
		}
		for {
			if l.i >= len(l.src) || l.src[l.i] != '"' {
				return l.unexpected("a member name in double quotes")
			}
			if k := shortStr(l.src, l.i+1); k != 0 {
				l.i = k + 1
			} else if _, err := l.str(); err != nil {
				return err
			}
			l.ws()
			if l.i >= len(l.src) || l.src[l.i] != ':' {
				return l.unexpected("':' after a member name")
			}
			l.i++
			l.ws()
			if err := l.skip(); err != nil {
				return err
			}
			if more, ok := l.next('}'); !ok {
				return l.expectedAfter('}')
			} else if !more {
				return nil
			}
		}
	case '[':
		if empty, ok := l.open(']'); !ok {
			return l.tooDeep()
		} else if empty {
			return nil
		}
		for {
			if err := l.skip(); err != nil {
				return err
			}
			if more, ok := l.next(']'); !ok {
				return l.expectedAfter(']')
			} else if !more {
				return nil
			}
		}
	case 't':
		return l.lit("true")
	case 'f':
		return l.lit("false")
	case 'n':
		return l.lit("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return l.num()
		}
		return l.unexpected("a JSON value")
	}
}

// validJSON reports whether b is exactly one JSON value (with optional
// surrounding whitespace) within maxDepth.
func validJSON(b []byte, maxDepth int) error {
	l := lexer{src: b, maxDepth: maxDepth}
	l.ws()
	if err := l.skip(); err != nil {
		return err
	}
	l.ws()
	if l.i != len(b) {
		return l.notJSON("unexpected data after the JSON value")
	}
	return nil
}
