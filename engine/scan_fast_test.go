package engine

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The scanner's fast paths (eight bytes at a time in lexer.str,
// AppendJSONString and shortStr; the member loop's shortcut for strings
// no rule masks; a value the masks leave alone kept as written) must agree
// with the plain byte-at-a-time forms below on every input.

// refStr is lexer.str one byte at a time: the reference the SWAR loop and
// shortStr are checked against.
func refStr(l *lexer) (esc bool, err error) {
	src := l.src
	i := l.i + 1
	for {
		for i < len(src) && strStop[src[i]] == 0 {
			i++
		}
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
			if r, n := utf8.DecodeRune(src[i:]); r == utf8.RuneError && n <= 1 {
				l.i = i
				return esc, &MaskError{Reason: ReasonInvalidUTF8, Where: "offset " + strconv.Itoa(i), Msg: "a string holds bytes that are not UTF-8"}
			}
			_, n := utf8.DecodeRune(src[i:])
			i += n
		}
	}
}

// refAppendJSONString is AppendJSONString one byte at a time.
func refAppendJSONString(dst []byte, s string, jsSafe bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !needsEscape[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
			case jsSafe && (r == '\u2028' || r == '\u2029'):
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			default:
				i += n
				continue
			}
			i += n
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// checkStr compares str, shortStr and refStr on the string opening at
// src[0] (a '"').
func checkStr(t *testing.T, src []byte) {
	t.Helper()
	a := lexer{src: src, maxDepth: 8}
	b := lexer{src: src, maxDepth: 8}
	escA, errA := a.str()
	escB, errB := refStr(&b)
	if escA != escB || a.i != b.i || (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
		t.Fatalf("str(%q) = %v, %d, %v; byte at a time: %v, %d, %v", src, escA, a.i, errA, escB, b.i, errB)
	}
	if k := shortStr(src, 1); k != 0 && (errB != nil || escB || b.i != k+1) {
		t.Fatalf("shortStr(%q) = %d; byte at a time: %v, %d, %v", src, k, escB, b.i, errB)
	}
}

func checkAppend(t *testing.T, s string) {
	t.Helper()
	for _, js := range []bool{false, true} {
		if got, want := AppendJSONString(nil, s, js), refAppendJSONString(nil, s, js); string(got) != string(want) {
			t.Fatalf("AppendJSONString(%q, %v) = %s, byte at a time %s", s, js, got, want)
		}
	}
}

// strAlphabet leans on the bytes the fast paths stop at, at every offset
// within a word.
var strAlphabet = []string{"a", "b", "\"", "\\", "\\\"", "\\u00e9", "\\uD83D\\uDE00", "\\x", "\x01", "\x1f", " ", "\x7f",
	"é", "€", "😀", "\u2028", "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "0123456789", "~"}

func randomStr(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(24); n > 0; n-- {
		b.WriteString(strAlphabet[r.IntN(len(strAlphabet))])
	}
	return b.String()
}

func TestStrFastPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		body := randomStr(r)
		checkStr(t, []byte(`"`+body))
		checkStr(t, []byte(`"`+body+`"`))
		checkStr(t, []byte(`"`+body+`"`+randomStr(r)))
		checkAppend(t, body)
	}
}

func FuzzStrFastPaths(f *testing.F) {
	for _, s := range []string{``, `abc"`, `abcdefg"x`, `abcdefgh"`, `a\"b"`, "a\x01\"", `\u00e9"`, "\xff\"", "é€😀\"", "\u2028\"", `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkStr(t, append([]byte{'"'}, body...))
		checkAppend(t, string(body))
	})
}

// TestUnchangedValuesKeptAsWritten: a value the masks hand back untouched
// is not rewritten, and one they do rewrite (or an escaped string, which
// is decoded) comes out as AppendJSONString writes it.
func TestUnchangedValuesKeptAsWritten(t *testing.T) {
	m := mustCompile(t, header+`rules:
  - {path: "$.a", masks: [{type: do_nothing}]}
  - {path: "$.b", masks: [{type: do_nothing}]}
  - {path: "$.c", masks: [{type: do_nothing}]}
  - {path: "$.d", masks: [{type: do_nothing}]}
  - {path: "$.e", masks: [{type: do_nothing}]}
`)
	for in, want := range map[string]string{
		`{"a":"plain","b":1.50e+3,"c":true,"d":null,"e":""}`: `{"a":"plain","b":1.50e+3,"c":true,"d":null,"e":""}`,
		`{"a":"\u00e9\/x","b":-0,"c":false}`:                 `{"a":"é/x","b":-0,"c":false}`,
		`{ "a" : "é😀\u2028" , "e" : "x" }`:                   `{ "a" : "é😀` + "\u2028" + `" , "e" : "x" }`,
	} {
		if got, err := maskString(t, m, in); err != nil || got != want {
			t.Errorf("mask(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}
