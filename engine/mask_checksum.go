package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maskstream/maskstream/engine/textscan"
)

// set_checksum recomputes the check digit(s) of a value after other masks
// changed its digits (imitate on an account number, say), so the result
// passes validation again. Separators stay where they are. It changes only
// the check digits, except for nz_ird where some digit strings admit no
// check digit: then the digit before it is stepped until one exists.

func init() { register("set_checksum", newSetChecksum) }

type setChecksumParams struct {
	Algorithm string `yaml:"algorithm" ms:"required"`
}

type xfChecksum struct {
	// fix returns the characters with valid check digits; chars holds
	// only the value's digits and letters.
	fix  func(chars []byte) ([]byte, error)
	seps string
	// letters is true for algorithms over letters and digits (IBAN).
	letters bool
}

var xfChecksums = map[string]xfChecksum{
	"luhn":          {fix: xfFixLuhn, seps: " -."},
	"nz_ird":        {fix: xfFixIRD, seps: " -"},
	"brazilian_cpf": {fix: xfFixCPF, seps: " .-/"},
	"gtin":          {fix: xfFixGTIN, seps: " -"},
	"isbn10":        {fix: xfFixISBN10, seps: " -"},
	"iban":          {fix: xfFixIBAN, seps: " ", letters: true},
}

type setChecksumMask struct {
	name string
	alg  xfChecksum
}

func newSetChecksum(p *Params) (Mask, error) {
	var ps setChecksumParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	alg, ok := xfChecksums[ps.Algorithm]
	if !ok {
		names := make([]string, 0, len(xfChecksums))
		for n := range xfChecksums {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, p.ErrorAt(p.Param("algorithm"), "algorithm must be one of %s", strings.Join(names, ", "))
	}
	return &setChecksumMask{name: ps.Algorithm, alg: alg}, nil
}

func (m *setChecksumMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String && v.Kind != Number {
		return Value{}, fmt.Errorf("set_checksum takes a string or a number, got %s", v.Kind)
	}
	chars := make([]byte, 0, len(v.S))
	for i := 0; i < len(v.S); i++ {
		ch := v.S[i]
		switch {
		case ch >= '0' && ch <= '9':
			chars = append(chars, ch)
		case m.alg.letters && (ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z'):
			chars = append(chars, ch)
		case m.name == "isbn10" && (ch == 'X' || ch == 'x') && i == xfLastAlnum(v.S):
			chars = append(chars, 'X')
		case xfContainsByte(m.alg.seps, ch):
		default:
			return Value{}, fmt.Errorf("%s: the value holds a character that is neither a digit nor a separator (%q)", m.name, m.alg.seps)
		}
	}
	fixed, err := m.alg.fix(chars)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", m.name, err)
	}
	// Write the fixed characters back where the digits and letters were.
	out := []byte(v.S)
	j := 0
	for i := range out {
		if !xfContainsByte(m.alg.seps, out[i]) {
			out[i] = fixed[j]
			j++
		}
	}
	return xfSameKind(v, string(out))
}

func xfLastAlnum(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != ' ' && s[i] != '-' {
			return i
		}
	}
	return -1
}

func xfNeedDigits(d []byte, lo, hi int, what string) error {
	if len(d) < lo || len(d) > hi {
		if lo == hi {
			return fmt.Errorf("%s has %d digits", what, lo)
		}
		return fmt.Errorf("%s has %d to %d digits", what, lo, hi)
	}
	return nil
}

func xfFixLuhn(d []byte) ([]byte, error) {
	if err := xfNeedDigits(d, 2, 64, "a Luhn-checked number"); err != nil {
		return nil, err
	}
	d[len(d)-1] = textscan.LuhnDigit(d[:len(d)-1])
	return d, nil
}

func xfFixCPF(d []byte) ([]byte, error) {
	if err := xfNeedDigits(d, 11, 11, "a CPF"); err != nil {
		return nil, err
	}
	d[9], d[10] = xfCPFDigits(d[:9])
	return d, nil
}

// xfFixGTIN sets the mod-10 check digit of EAN-8, UPC-A, EAN-13 (and
// ISBN-13) and GTIN-14: weights 3 and 1 alternating from the right.
func xfFixGTIN(d []byte) ([]byte, error) {
	if err := xfNeedDigits(d, 8, 14, "a GTIN (EAN-8, UPC-A, EAN-13, ISBN-13, GTIN-14)"); err != nil {
		return nil, err
	}
	sum := 0
	for i, k := len(d)-2, 0; i >= 0; i, k = i-1, k+1 {
		w := 3
		if k%2 == 1 {
			w = 1
		}
		sum += int(d[i]-'0') * w
	}
	d[len(d)-1] = byte('0' + (10-sum%10)%10)
	return d, nil
}

// xfFixISBN10 sets the mod-11 check character, X standing for 10.
func xfFixISBN10(d []byte) ([]byte, error) {
	if err := xfNeedDigits(d, 10, 10, "an ISBN-10"); err != nil {
		return nil, err
	}
	sum := 0
	for i := 0; i < 9; i++ {
		if d[i] == 'X' {
			return nil, errors.New("only the last character of an ISBN-10 may be X")
		}
		sum += int(d[i]-'0') * (10 - i)
	}
	switch c := (11 - sum%11) % 11; c {
	case 10:
		d[9] = 'X'
	default:
		d[9] = byte('0' + c)
	}
	return d, nil
}

// xfFixIRD sets a New Zealand IRD number's check digit. Some bases admit
// none; then the digit before the check digit is stepped (deterministically)
// until one does.
func xfFixIRD(d []byte) ([]byte, error) {
	if err := xfNeedDigits(d, 8, 9, "an IRD number"); err != nil {
		return nil, err
	}
	n := len(d) - 1
	for step := 0; step < 10; step++ {
		base := 0
		for _, c := range d[:n] {
			base = base*10 + int(c-'0')
		}
		if c, ok := irdCheckDigit(base); ok {
			d[n] = byte('0' + c)
			return d, nil
		}
		d[n-1] = byte('0' + (int(d[n-1]-'0')+1)%10)
	}
	return nil, errors.New("no check digit fits these digits")
}

// xfFixIBAN sets the two check digits after the country code (ISO 13616:
// mod 97 of the rearranged number equals 1).
func xfFixIBAN(d []byte) ([]byte, error) {
	if len(d) < 5 || len(d) > 34 {
		return nil, errors.New("an IBAN has 5 to 34 letters and digits")
	}
	for i := 0; i < 2; i++ {
		if d[i] >= 'a' && d[i] <= 'z' {
			d[i] -= 'a' - 'A'
		}
		if d[i] < 'A' || d[i] > 'Z' {
			return nil, errors.New("an IBAN starts with a two-letter country code")
		}
	}
	rem := 0
	add := func(c byte) {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		case c >= 'a' && c <= 'z':
			rem = (rem*100 + int(c-'a') + 10) % 97
		}
	}
	for _, c := range d[4:] {
		add(c)
	}
	add(d[0])
	add(d[1])
	add('0')
	add('0')
	xfPutDigits(d[2:4], 98-rem)
	return d, nil
}
