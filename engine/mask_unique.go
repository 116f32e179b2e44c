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

type imitateUnique struct{}

func newImitateUnique(p *Params) (Mask, error) {
	var prm imitateUniqueParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	// seed changes the mask's identity, and so Ctx.Key: nothing else to do.
	return imitateUnique{}, nil
}

func (imitateUnique) Apply(c *Ctx, v Value) (Value, error) {
	switch v.Kind {
	case Null:
		return v, nil
	case String:
		return Str(uniqueString(c.Key(), v.S)), nil
	case Number:
		return Num(uniqueNumber(c.Key(), v.S)), nil
	}
	return Value{}, fmt.Errorf("imitate_unique takes a string or a number, got %s", v.Kind)
}

// uniqueString permutes the ASCII letters and digits of s among all strings
// with the same characters elsewhere and the same kind of character at
// each replaced position.
func uniqueString(key [32]byte, s string) string {
	b := []byte(s)
	ds := make([]fpeDigit, 0, len(b))
	// The tweak is the value's shape: each kept byte as itself, each
	// replaced one as a zero byte and its kind, so "ab-1" and "cd-2" share
	// a permutation and "ab-1" and "ab1-" do not.
	tweak := make([]byte, 0, len("imitate_unique/s")+2*len(b))
	tweak = append(tweak, "imitate_unique/s"...)
	for i, ch := range b {
		switch {
		case ch >= '0' && ch <= '9':
			ds = append(ds, fpeDigit{pos: i, radix: 10, base: '0'})
			tweak = append(tweak, 0, '9')
		case ch >= 'a' && ch <= 'z':
			ds = append(ds, fpeDigit{pos: i, radix: 26, base: 'a'})
			tweak = append(tweak, 0, 'a')
		case ch >= 'A' && ch <= 'Z':
			ds = append(ds, fpeDigit{pos: i, radix: 26, base: 'A'})
			tweak = append(tweak, 0, 'A')
		case ch == 0:
			tweak = append(tweak, 0, 0)
		default:
			tweak = append(tweak, ch)
		}
	}
	if len(ds) == 0 {
		return s
	}
	fpeMixed(newFPE(key, tweak), b, ds)
	return string(b)
}

// uniqueNumber permutes the digits of a JSON number literal's integer and
// fraction parts, keeping it a valid number of the same shape.
func uniqueNumber(key [32]byte, s string) string {
	b := []byte(s)
	ds := make([]fpeDigit, 0, len(b))
	tweak := append(make([]byte, 0, len("imitate_unique/n")+len(b)), "imitate_unique/n"...)
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
	if len(ds) == 0 {
		return s
	}
	fpeMixed(newFPE(key, tweak), b, ds)
	return string(b)
}
