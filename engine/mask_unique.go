package engine

import (
	"fmt"
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
// The permutation is keyed by the run secret and the mask's parameters
// only (see fpe): it does not read hash_sources, which would break
// uniqueness, and it takes none. seed (optional, any text) namespaces the
// permutation, as in DataMasque: two imitate_unique masks with different
// seeds map the same value differently.
//
// A number stays a valid number of the same shape (an integer part of two
// or more digits keeps a non-zero first digit; the exponent is kept). null
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
		return Str(uniqueString(c, &m.keys, v.S)), nil
	case Number:
		return Num(uniqueNumber(c, &m.keys, v.S)), nil
	}
	return Value{}, fmt.Errorf("imitate_unique takes a string or a number, got %s", v.Kind)
}

// uniqueString permutes the ASCII letters and digits of s among all strings
// with the same characters elsewhere and the same kind of character at
// each replaced position.
func uniqueString(c *Ctx, kc *fpeKeyCache, s string) string {
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
		default:
			tweak = append(tweak, 0, ch)
		}
	}
	sc.digits, sc.tweak = ds, tweak
	if len(ds) == 0 {
		return s
	}
	b := append(c.room(len(s)), s...)
	fpeMixed(c.permCached(kc, tweak), b, ds)
	return c.str(b)
}

// uniqueNumber permutes the digits of a JSON number literal's integer and
// fraction parts, keeping it a valid number of the same shape.
func uniqueNumber(c *Ctx, kc *fpeKeyCache, b string) string {
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
		return b
	}
	out := append(c.room(len(b)), b...)
	fpeMixed(c.permCached(kc, tweak), out, ds)
	return c.str(out)
}
