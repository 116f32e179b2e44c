package engine

import (
	"fmt"
	"unicode/utf8"
)

// imitate (DataMasque): replaces each letter and digit with a random one of
// the same kind and keeps every other character, so a value keeps its
// shape:
//
//	masks:
//	  - type: imitate
//	    force_change: true
//
// A-Z, a-z and 0-9 are replaced from A-Z, a-z and 0-9. Any other letter or
// decimal digit is replaced from its alphabet (alphabets.go): its script,
// block and case, such as a Cyrillic capital for a Cyrillic capital or a
// Latin-1 or Latin Extended-A lower-case letter for ë. A letter or digit in
// none of them is replaced by an ASCII one (a capital for a capital, a
// small letter for any other letter), never kept. Marks, punctuation,
// symbols and other numerals (², Ⅻ) are kept.
//
// Parameters: force_change (default false) never picks the same character
// again, so a value with a letter or digit it replaces always changes;
// uppercase, lowercase and digits (default true each) turn the replacement
// of that kind off. Letters without case (Han, Arabic...) are replaced
// unless uppercase and lowercase are both off.
//
// A number stays a valid number: its digits are replaced, its sign, point
// and exponent kept, and an integer part of two or more digits never gains
// a leading zero. null stays null. substitute is DataMasque's deprecated
// name for the same mask.
func init() {
	register("imitate", newImitate)
	register("substitute", newImitate)
}

type imitateParams struct {
	ForceChange bool  `yaml:"force_change"`
	Uppercase   *bool `yaml:"uppercase"`
	Lowercase   *bool `yaml:"lowercase"`
	Digits      *bool `yaml:"digits"`
}

type imitate struct {
	force, upper, lower, digits bool
}

func newImitate(p *Params) (Mask, error) {
	var prm imitateParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	on := func(b *bool) bool { return b == nil || *b }
	m := imitate{force: prm.ForceChange, upper: on(prm.Uppercase), lower: on(prm.Lowercase), digits: on(prm.Digits)}
	if !m.upper && !m.lower && !m.digits {
		return nil, p.Errorf("uppercase, lowercase and digits are all false, so the mask would change nothing; turn one on")
	}
	return m, nil
}

func (m imitate) Apply(c *Ctx, v Value) (Value, error) {
	switch v.Kind {
	case Null:
		return v, nil
	case String:
		return Str(m.imitateString(c, c.Rand(), v.S)), nil
	case Number:
		return Num(m.imitateNumber(c, c.Rand(), v.S)), nil
	}
	return Value{}, fmt.Errorf("imitate takes a string or a number, got %s", v.Kind)
}

func (m imitate) imitateString(c *Ctx, r *Rand, s string) string {
	// ASCII letters and digits are replaced byte for byte; the first byte
	// beyond ASCII hands the rest to imitateText.
	b := append(c.room(len(s)), s...)
	for i, ch := range b {
		switch {
		case m.upper && ch >= 'A' && ch <= 'Z':
			b[i] = m.pick(r, ch, 'A', 26)
		case m.lower && ch >= 'a' && ch <= 'z':
			b[i] = m.pick(r, ch, 'a', 26)
		case m.digits && ch >= '0' && ch <= '9':
			b[i] = m.pick(r, ch, '0', 10)
		case ch >= utf8.RuneSelf:
			return c.str(m.imitateText(r, b[:i], s[i:]))
		}
	}
	return c.str(b)
}

// imitateText appends s to b character by character, replacing letters
// and digits. An ASCII one draws as imitateString would (pickIndex is
// pick). The output is never longer than s (a character of an alphabet is
// replaced by one of the same length, any other by one ASCII byte or
// itself), so b, built in room for s, does not move.
func (m imitate) imitateText(r *Rand, b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c, size := rune(s[i]), 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRuneInString(s[i:]) // an invalid byte is U+FFFD, kept
		}
		if a, v, ok := alphabetOf(c); ok {
			if m.on(a.kind) {
				b = utf8.AppendRune(b, a.at(m.pickIndex(r, v, a.size)))
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		// A letter or digit of no alphabet becomes an ASCII one of its kind.
		switch k, letter := kindOf(c); {
		case !letter || !m.on(k):
			b = append(b, s[i:i+size]...)
		case k == charDigit:
			b = append(b, '0'+byte(r.IntN(10)))
		case k == charUpper:
			b = append(b, 'A'+byte(r.IntN(26)))
		default:
			b = append(b, 'a'+byte(r.IntN(26)))
		}
		i += size
	}
	return b
}

// on reports whether the mask replaces characters of kind k.
func (m imitate) on(k charKind) bool {
	switch k {
	case charDigit:
		return m.digits
	case charUpper:
		return m.upper
	case charLower:
		return m.lower
	}
	return m.upper || m.lower
}

// pickIndex draws an index below n, other than v when force_change is on.
func (m imitate) pickIndex(r *Rand, v, n uint32) uint32 {
	if !m.force {
		return uint32(r.IntN(int(n)))
	}
	k := uint32(r.IntN(int(n) - 1))
	if k >= v {
		k++
	}
	return k
}

// imitateNumber replaces the digits of a JSON number literal's integer and
// fraction parts. The exponent is kept, so the magnitude (and any float
// range a consumer relies on) is kept too.
func (m imitate) imitateNumber(c *Ctx, r *Rand, s string) string {
	if !m.digits {
		return s
	}
	b := append(c.room(len(s)), s...)
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	intLen := i - start
	for j := start; j < start+intLen; j++ {
		if j == start && intLen > 1 {
			b[j] = m.pick(r, b[j], '1', 9) // no leading zero
			continue
		}
		b[j] = m.pick(r, b[j], '0', 10)
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			b[i] = m.pick(r, b[i], '0', 10)
		}
	}
	return c.str(b)
}

// pick draws a character from the n characters starting at base, other
// than orig when force_change is on (and orig is one of them).
func (m imitate) pick(r *Rand, orig, base byte, n int) byte {
	if !m.force || orig < base || int(orig-base) >= n || n < 2 {
		return base + byte(r.IntN(n))
	}
	k := byte(r.IntN(n - 1))
	if base+k >= orig {
		k++
	}
	return base + k
}
