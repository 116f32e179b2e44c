package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// imitate_unique (DataMasque): like imitate, replaces letters with letters
// and digits with digits, keeping every other character, but as a keyed
// permutation: the same input always gives the same output, and two
// different inputs never give the same output, so masked keys stay unique
// and joins between topics survive.
//
//	masks:
//	  - type: imitate_unique
//
// Each letter or digit is a symbol of its alphabet (alphabets.go): A-Z,
// a-z, 0-9, or beyond ASCII its script, block and case, or its set of
// ten digits. The output has the same alphabet at each position and every
// other character where it was, so it has the input's shape, and the
// permutation of each shape is a bijection: no two inputs meet. A letter
// or digit in no alphabet cannot be permuted, and is not kept either: the
// value is refused with an error naming its kind and script (never the
// character), and becomes a dead letter.
//
// The permutation is keyed by the run secret and the mask's parameters
// only (see fpe): it does not read hash_sources, which would break
// uniqueness, and it takes none. seed (optional, any text) namespaces the
// permutation, as in DataMasque: two imitate_unique masks with different
// seeds map the same value differently.
//
// A value of two or more letters and digits whose first is a digit keeps
// whether that digit is 0: "0123" stays zero-led, "12345" never becomes
// zero-led. A number without an exponent masks as its text does as a
// string, so an id joins whether a producer writes 12345 or "12345"; the
// rule above keeps it a valid number of the same shape. A number with an
// exponent keeps its exponent and has a permutation of its own. null
// stays null and the empty string stays empty: a value with nothing to
// replace is its own image.
func init() { register("imitate_unique", newImitateUnique) }

type imitateUniqueParams struct {
	Seed string `yaml:"seed"`
}

type imitateUnique struct {
	keys fpeKeyCache
}

func newImitateUnique(p *Params) (Mask, error) {
	var prm imitateUniqueParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	// seed changes the mask's identity, and so Ctx.Key: nothing else to do.
	return &imitateUnique{}, nil
}

func (m *imitateUnique) Apply(c *Ctx, v Value) (Value, error) {
	switch v.Kind {
	case Null:
		return v, nil
	case String:
		s, err := uniqueString(c, &m.keys, v.S)
		if err != nil {
			return Value{}, err
		}
		return Str(s), nil
	case Number:
		n, err := uniqueNumber(c, &m.keys, v.S)
		if err != nil {
			return Value{}, err
		}
		return Num(n), nil
	}
	return Value{}, fmt.Errorf("imitate_unique takes a string or a number, got %s", v.Kind)
}

// maxUniqueChars bounds the characters one imitate_unique value may have
// replaced. A permutation over the whole value converts between its digits
// and one big number, a cost that grows with the square of the length: a
// million-digit id took five minutes, stalling its lane or HTTP worker.
// Identifiers are far shorter; a longer value is a mask error.
const maxUniqueChars = 1024

var errUniqueTooLong = fmt.Errorf("imitate_unique permutes at most %d letters and digits in one value; mask a longer value with imitate, hash or from_random_text instead", maxUniqueChars)

// errUniqueLeadWalk is fpeMixedLead's cut-short walk: never seen in
// practice (see maxLeadWalk), and still an error rather than an output
// that could collide with another value's.
var errUniqueLeadWalk = fmt.Errorf("imitate_unique could not keep the value's first digit other than 0 within %d steps; mask this field with imitate or hash instead", maxLeadWalk)

// keepsLead reports whether a value whose first replaced character is
// first, among n replaced ones, keeps whether that character is 0: when
// it is a digit and not alone. A leading zero is part of an identifier's
// format ("0123"), and a number of two or more digits must not gain one;
// a lone digit has no leading zero to keep, so it takes any digit, as
// the number 7 may become 0.
//
// A zero-led value keeps its 0, and its other characters are permuted in
// a domain of their own (the tweak ends in zeroLedMark). Any other value
// keeps a first digit other than 0 by cycle-walking the whole value's
// permutation (fpeMixedLead), about 1.1 encipherings on average, which
// leaves nine in ten of their outputs as they were before leading zeros
// were kept. Walking a zero-led value back to a zero-led output would
// take about ten.
func keepsLead(first charKind, n int) bool { return first == charDigit && n >= 2 }

// zeroLedMark ends the tweak of a zero-led value's other characters: no
// other token of a tweak begins with it (see uniqueString, uniqueText).
const zeroLedMark = 2

// uniqueString permutes the letters and digits of s among all strings
// with the same characters elsewhere, the same alphabet at each replaced
// position and, for a value led by a digit, a first digit that is 0 as
// s's is or is not (keepsLead).
func uniqueString(c *Ctx, kc *fpeKeyCache, s string) (string, error) {
	sc := c.scratch()
	ds := sc.digits[:0]
	// The tweak is the value's shape: each replaced byte as its kind
	// ('9', 'a' or 'A'), each kept one as a zero byte and itself, so
	// "ab-1" and "cd-2" share a permutation and "ab-1" and "ab1-" do not.
	// Kept bytes take two so that replaced ones, the common case, take
	// one: the tweak of a short identifier fits one AES block.
	tweak := append(sc.tweak[:0], "u/s"...)
	for i := range len(s) {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			ds = append(ds, fpeDigit{pos: i, radix: 10, base: '0'})
			tweak = append(tweak, '9')
		case ch >= 'a' && ch <= 'z':
			ds = append(ds, fpeDigit{pos: i, radix: 26, base: 'a'})
			tweak = append(tweak, 'a')
		case ch >= 'A' && ch <= 'Z':
			ds = append(ds, fpeDigit{pos: i, radix: 26, base: 'A'})
			tweak = append(tweak, 'A')
		case ch >= utf8.RuneSelf:
			sc.digits, sc.tweak = ds, tweak
			return uniqueText(c, kc, s)
		default:
			tweak = append(tweak, 0, ch)
		}
	}
	sc.digits, sc.tweak = ds, tweak
	if len(ds) == 0 {
		return s, nil
	}
	if len(ds) > maxUniqueChars {
		return "", errUniqueTooLong
	}
	keep := keepsLead(asciiKind(ds[0].base), len(ds))
	if keep && s[ds[0].pos] == '0' {
		tweak = append(tweak, zeroLedMark)
		sc.tweak = tweak
		ds, keep = ds[1:], false
	}
	b := append(c.room(len(s)), s...)
	if !fpeMixedLead(c.permCached(kc, tweak), b, ds, keep) {
		return "", errUniqueLeadWalk
	}
	return c.str(b), nil
}

// asciiKind is the kind of uniqueString's replaced character with base.
func asciiKind(base byte) charKind {
	switch base {
	case '0':
		return charDigit
	case 'a':
		return charLower
	}
	return charUpper
}

// uniqueText is uniqueString for a value with bytes beyond ASCII. Its
// tweak extends uniqueString's: a character of an alphabet beyond ASCII is
// a 1 byte and the alphabet's id, and a kept character is each of its
// bytes after a zero byte, as before such alphabets were permuted, so a
// value whose only characters beyond ASCII are kept masks as it always did.
func uniqueText(c *Ctx, kc *fpeKeyCache, s string) (string, error) {
	sc := c.scratch()
	tweak := append(sc.tweak[:0], "u/s"...)
	// Rarely more than a name's worth: the arrays keep them off the heap.
	var symArr [32]fpeSym
	var posArr [32]uniquePos
	syms, pos := symArr[:0], posArr[:0]
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:]) // an invalid byte is U+FFFD, kept
		}
		a, v, ok := alphabetOf(r)
		switch {
		case ok && a.id < 3: // ASCII: alphabets 0, 1 and 2 are 0-9, a-z and A-Z
			tweak = append(tweak, "9aA"[a.id])
		case ok:
			tweak = append(tweak, 1, a.id)
		default:
			if _, letter := kindOf(r); letter {
				sc.tweak = tweak
				return "", fmt.Errorf("the value holds %s, which is in none of imitate_unique's alphabets, so it can be neither permuted nor kept; mask this field with imitate, hash or another mask instead", describeChar(r))
			}
			for j := i; j < i+size; j++ {
				tweak = append(tweak, 0, s[j])
			}
			i += size
			continue
		}
		syms = append(syms, fpeSym{v: v, radix: a.size})
		pos = append(pos, uniquePos{at: i, a: a})
		i += size
	}
	sc.tweak = tweak
	if len(syms) == 0 {
		return s, nil
	}
	if len(syms) > maxUniqueChars {
		return "", errUniqueTooLong
	}
	keep := keepsLead(pos[0].a.kind, len(syms))
	if keep && syms[0].v == 0 { // a digit alphabet's first character is its 0
		tweak = append(tweak, zeroLedMark)
		sc.tweak = tweak
		syms, pos, keep = syms[1:], pos[1:], false
	}
	b := append(c.room(len(s)), s...)
	if !fpeMixedSymsLead(c.permCached(kc, tweak), syms, keep) {
		return "", errUniqueLeadWalk
	}
	for k, p := range pos {
		// In place: an alphabet's characters all have one length.
		utf8.EncodeRune(b[p.at:], p.a.at(syms[k].v))
	}
	return c.str(b), nil
}

// uniquePos is where a character of uniqueText's value is, and its
// alphabet.
type uniquePos struct {
	at int
	a  *alphabet
}

// uniqueNumber permutes the digits of a JSON number literal's integer and
// fraction parts, keeping it a valid number of the same shape.
//
// Without an exponent it is uniqueString of the literal: '-' and '.' are
// kept characters, and keepsLead keeps the number valid (an integer part
// of two or more digits starts with 1-9 and keeps doing so; a zero integer
// part before a fraction stays 0; a lone digit may become any digit). So
// 12345 and "12345", or -7.50 and "-7.50", mask to the same digits, and
// ids typed differently by two producers still join.
//
// With an exponent, the string form's e would be replaced as a letter, so
// no string can match: the digits are permuted in a domain of the
// number's own shape, as they always were.
func uniqueNumber(c *Ctx, kc *fpeKeyCache, b string) (string, error) {
	if strings.IndexAny(b, "eE") < 0 {
		return uniqueString(c, kc, b)
	}
	sc := c.scratch()
	ds := sc.digits[:0]
	// The tweak is the number's shape: '1' for a leading digit that
	// stays non-zero, '0' for any other digit, '.', the exponent as
	// written and a trailing '-' for a negative number.
	tweak := append(sc.tweak[:0], "u/n"...)
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	for j := start; j < i; j++ {
		if j == start && i-start > 1 {
			ds = append(ds, fpeDigit{pos: j, radix: 9, base: '1'})
			tweak = append(tweak, '1')
			continue
		}
		ds = append(ds, fpeDigit{pos: j, radix: 10, base: '0'})
		tweak = append(tweak, '0')
	}
	if i < len(b) && b[i] == '.' {
		tweak = append(tweak, '.')
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			ds = append(ds, fpeDigit{pos: i, radix: 10, base: '0'})
			tweak = append(tweak, '0')
		}
	}
	tweak = append(tweak, b[i:]...) // the exponent is kept, and so part of the shape
	if len(b) > 0 && b[0] == '-' {
		tweak = append(tweak, '-')
	}
	sc.digits, sc.tweak = ds, tweak
	if len(ds) == 0 {
		return b, nil
	}
	if len(ds) > maxUniqueChars {
		return "", errUniqueTooLong
	}
	out := append(c.room(len(b)), b...)
	fpeMixed(c.permCached(kc, tweak), out, ds)
	return c.str(out), nil
}
