package engine

import (
	"errors"
	"strconv"
)

// imitate_nz_ird (DataMasque): replaces a New Zealand IRD (tax) number
// with another valid one, uniquely (a keyed permutation, as
// imitate_unique), in the same form:
//
//	masks:
//	  - type: imitate_nz_ird
//
// An IRD number has 8 or 9 digits, is between 10,000,000 and 150,000,000,
// and ends with a check digit (Inland Revenue's mod-11 scheme with its
// secondary weights). The output has a correct check digit, the same number
// of digits (an 8-digit number stays below 100,000,000; a 9-digit one keeps
// its leading 0 or 1), and the input's separators (49-091-850 gives
// another nnn-nnn-nnn style value). A JSON number stays a number. A value
// that is not a valid IRD number is an error: it cannot be masked uniquely.
// seed namespaces the permutation, as for imitate_unique.
func init() { register("imitate_nz_ird", newImitateNZIRD) }

type imitateNZIRDParams struct {
	Seed string `yaml:"seed"`
}

type imitateNZIRD struct{}

func newImitateNZIRD(p *Params) (Mask, error) {
	var prm imitateNZIRDParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	return imitateNZIRD{}, nil
}

var errNotIRD = errors.New("imitate_nz_ird expects a valid NZ IRD number: 8 or 9 digits (separated by -, space or . if at all) between 10,000,000 and 150,000,000 with a correct check digit")

func (imitateNZIRD) Apply(c *Ctx, v Value) (Value, error) {
	switch v.Kind {
	case Null:
		return v, nil
	case String, Number:
	default:
		return Value{}, errNotIRD
	}
	b := []byte(v.S)
	pos := make([]int, 0, 9)
	n := 0
	for i, ch := range b {
		switch {
		case ch >= '0' && ch <= '9':
			pos = append(pos, i)
			n = n*10 + int(ch-'0')
		case v.Kind == String && (ch == '-' || ch == ' ' || ch == '.'):
		default:
			return Value{}, errNotIRD
		}
		if len(pos) > 9 {
			return Value{}, errNotIRD
		}
	}
	if len(pos) < 8 || !irdValid(n) || len(pos) == 8 && n >= 100_000_000 {
		return Value{}, errNotIRD
	}
	// Bases (the number without its check digit) of the same width class:
	// below 10,000,000 for the 8-digit form (and a 9-digit one with a
	// leading 0), from 10,000,000 for the 9-digit form from 100,000,000.
	lo, hi, class := 1_000_000, 9_999_999, byte(8)
	if n >= 100_000_000 {
		lo, hi, class = 10_000_000, 14_999_999, 9
	}
	sc := c.scratch()
	sc.tweak = append(sc.tweak[:0], 'i', 'r', 'd', '/', class)
	f := c.perm(sc.tweak)
	y := f.permute64(uint64(n/10-lo), uint64(hi-lo+1), func(y uint64) bool {
		_, ok := irdComplete(lo + int(y))
		return ok
	})
	out, _ := irdComplete(lo + int(y))
	digits := strconv.Itoa(out)
	for len(digits) < len(pos) {
		digits = "0" + digits
	}
	for i, p := range pos {
		b[p] = digits[i]
	}
	if v.Kind == Number {
		return Num(string(b)), nil
	}
	return Str(string(b)), nil
}

// irdComplete appends the check digit to an IRD base; ok is false when the
// base has no valid check digit or the number falls outside the valid range.
func irdComplete(base int) (int, bool) {
	c, ok := irdCheckDigit(base)
	if !ok {
		return 0, false
	}
	n := base*10 + c
	return n, irdInRange(n)
}

func irdInRange(n int) bool { return n > 10_000_000 && n < 150_000_000 }

// irdValid reports whether n is a valid IRD number.
func irdValid(n int) bool {
	if !irdInRange(n) {
		return false
	}
	c, ok := irdCheckDigit(n / 10)
	return ok && c == n%10
}

// irdCheckDigit computes the check digit of an IRD base (the number
// without its last digit, read as 8 digits with leading zeros): the
// weighted sum with 3,2,7,6,5,4,3,2 mod 11, subtracted from 11; a result of
// 10 is retried with 7,4,3,2,5,2,7,6, and a second 10 means the base has
// no valid check digit.
func irdCheckDigit(base int) (int, bool) {
	var d [8]int
	for i := 7; i >= 0; i-- {
		d[i] = base % 10
		base /= 10
	}
	for _, w := range [2][8]int{{3, 2, 7, 6, 5, 4, 3, 2}, {7, 4, 3, 2, 5, 2, 7, 6}} {
		sum := 0
		for i := range d {
			sum += d[i] * w[i]
		}
		r := sum % 11
		if r == 0 {
			return 0, true
		}
		if c := 11 - r; c < 10 {
			return c, true
		}
	}
	return 0, false
}
