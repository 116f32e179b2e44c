package engine

import "errors"

// social_security_number and brazilian_cpf replace national identifiers
// with generated ones that pass the same validity rules, written in the
// original's format: the digits change, the separators stay where they
// were, a number stays a number.

func init() {
	register("social_security_number", newSSN)
	register("brazilian_cpf", newCPF)
}

// --- social_security_number ---

type ssnMask struct{}

func newSSN(p *Params) (Mask, error) {
	if err := p.Decode(&xfNoParams{}); err != nil {
		return nil, err
	}
	return ssnMask{}, nil
}

var errXfNotSSN = errors.New("social_security_number takes 9 digits, optionally grouped with dashes or spaces (123-45-6789)")

// Apply draws an SSN the Social Security Administration could issue: area
// 001-899 but not 666, group 01-99, serial 0001-9999. A JSON number gets
// an area of 100 or more, as a number cannot start with 0.
func (ssnMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String && v.Kind != Number {
		return Value{}, errXfNotSSN
	}
	digits, ok := xfDigitsOf(v.S, " -")
	if !ok || len(digits) != 9 {
		return Value{}, errXfNotSSN
	}
	r := c.Rand()
	lowArea := 1
	if v.Kind == Number {
		lowArea = 100
	}
	out := make([]byte, 9)
	for range xfMaxRedraws {
		area := lowArea + r.IntN(899-lowArea) // lowArea..898, then 666 skipped
		if area >= 666 {
			area++
		}
		xfPutDigits(out[0:3], area)
		xfPutDigits(out[3:5], 1+r.IntN(99))
		xfPutDigits(out[5:9], 1+r.IntN(9999))
		if string(out) != string(digits) {
			return xfSameKind(v, xfRegroup(c, v.S, out))
		}
	}
	return Value{}, errors.New("could not draw a number different from the original")
}

// xfPutDigits writes n zero-padded into dst.
func xfPutDigits(dst []byte, n int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}

// xfSSNValid reports whether 9 digits follow the issuing rules.
func xfSSNValid(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	area := string(d[0:3])
	return area != "000" && area != "666" && d[0] != '9' && string(d[3:5]) != "00" && string(d[5:9]) != "0000"
}

// --- brazilian_cpf ---

type cpfMask struct{}

func newCPF(p *Params) (Mask, error) {
	if err := p.Decode(&xfNoParams{}); err != nil {
		return nil, err
	}
	return cpfMask{}, nil
}

var errXfNotCPF = errors.New("brazilian_cpf takes 11 digits, optionally punctuated (123.456.789-09)")

// Apply draws nine digits, never all the same (111.111.111-11 passes the
// checksum but no CPF is issued so), and appends the two check digits.
func (cpfMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String && v.Kind != Number {
		return Value{}, errXfNotCPF
	}
	digits, ok := xfDigitsOf(v.S, " .-/")
	if !ok || len(digits) != 11 {
		return Value{}, errXfNotCPF
	}
	r := c.Rand()
	out := make([]byte, 11)
	for range xfMaxRedraws {
		for i := 0; i < 9; i++ {
			out[i] = byte('0' + r.IntN(10))
		}
		if v.Kind == Number && out[0] == '0' {
			out[0] = byte('1' + r.IntN(9))
		}
		if xfAllSame(out[:9]) {
			continue
		}
		out[9], out[10] = xfCPFDigits(out[:9])
		if string(out) != string(digits) {
			return xfSameKind(v, xfRegroup(c, v.S, out))
		}
	}
	return Value{}, errors.New("could not draw a number different from the original")
}

func xfAllSame(d []byte) bool {
	for _, c := range d[1:] {
		if c != d[0] {
			return false
		}
	}
	return true
}

// xfCPFDigits returns the two check digits of a CPF's first nine digits.
func xfCPFDigits(base []byte) (byte, byte) {
	check := func(d []byte) byte {
		sum := 0
		w := len(d) + 1
		for _, c := range d {
			sum += int(c-'0') * w
			w--
		}
		r := sum % 11
		if r < 2 {
			return '0'
		}
		return byte('0' + 11 - r)
	}
	d1 := check(base)
	d2 := check(append(append(make([]byte, 0, 10), base...), d1))
	return d1, d2
}
