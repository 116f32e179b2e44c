package engine

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/maskstream/maskstream/engine/textscan"
	"github.com/maskstream/maskstream/rulesets"
)

// credit_card replaces a card number with a generated one of the same
// length, Luhn-valid, from the same issuer (a Visa stays a Visa, with a
// prefix drawn from the issuer's ranges), keeping the separators where
// they were and the JSON type. With pan_format it hides the digits between
// the first six and the last four behind pan_character, as PCI DSS
// truncation shows a card; with generate_card_number: false that is all it
// does.

func init() { register("credit_card", newCreditCard) }

type creditCardParams struct {
	GenerateCardNumber *bool  `yaml:"generate_card_number"`
	PanFormat          bool   `yaml:"pan_format"`
	PanCharacter       string `yaml:"pan_character"`
	GenerateLuhn       *bool  `yaml:"generate_luhn"`
	// RetainPrefixLength is a number of leading digits to keep, or
	// "automatic" to keep the issuer's prefix. Left out, the prefix is
	// drawn from the same issuer's ranges.
	RetainPrefixLength *rulesets.Scalar `yaml:"retain_prefix_length"`
}

type creditCardMask struct {
	generate bool
	pan      bool
	panChar  string
	luhn     bool
	// keep is the number of leading digits kept; keepAuto keeps the
	// issuer prefix; keepIssuer (the default) draws a prefix of the same
	// issuer.
	keep       int
	keepAuto   bool
	keepIssuer bool
}

// Card numbers are 8 to 19 digits (ISO/IEC 7812).
const (
	xfCardMinDigits = 8
	xfCardMaxDigits = 19
)

func newCreditCard(p *Params) (Mask, error) {
	ps := creditCardParams{PanCharacter: "#"}
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	m := &creditCardMask{generate: true, pan: ps.PanFormat, panChar: ps.PanCharacter, keepIssuer: true}
	if ps.GenerateCardNumber != nil {
		m.generate = *ps.GenerateCardNumber
	}
	if !m.generate && !m.pan {
		return nil, p.ErrorAt(p.Param("generate_card_number"), "credit_card with generate_card_number: false and no pan_format would mask nothing; set pan_format: true or leave generate_card_number out")
	}
	if utf8.RuneCountInString(ps.PanCharacter) != 1 {
		return nil, p.ErrorAt(p.Param("pan_character"), "pan_character must be exactly one character, such as \"#\"")
	}
	if c := ps.PanCharacter[0]; c >= '0' && c <= '9' {
		return nil, p.ErrorAt(p.Param("pan_character"), "pan_character must not be a digit: hidden digits must not look real")
	}
	m.luhn = !m.pan
	if ps.GenerateLuhn != nil {
		m.luhn = *ps.GenerateLuhn
	}
	if r := ps.RetainPrefixLength; r != nil {
		at := p.Param("retain_prefix_length")
		if !m.generate {
			return nil, p.ErrorAt(at, "retain_prefix_length only applies when a card number is generated")
		}
		m.keepIssuer = false
		switch {
		case r.Tag == "!!str" && r.Text == "automatic":
			m.keepAuto = true
		case r.Tag == "!!int":
			n, err := strconv.Atoi(r.Text)
			if err != nil || n < 0 || n > xfCardMaxDigits-2 {
				return nil, p.ErrorAt(at, "retain_prefix_length must be automatic or a whole number from 0 to %d", xfCardMaxDigits-2)
			}
			m.keep = n
		default:
			return nil, p.ErrorAt(at, "retain_prefix_length must be automatic or a whole number from 0 to %d", xfCardMaxDigits-2)
		}
	}
	return m, nil
}

var errXfNotCard = errors.New("credit_card takes a card number of 8 to 19 digits, optionally grouped with spaces, dashes or dots")

// xfDigitsOf returns the digits of a number written with separators, or
// false if it holds anything but digits and the given separators.
func xfDigitsOf(s, seps string) ([]byte, bool) {
	return xfAppendDigits(make([]byte, 0, len(s)), s, seps)
}

// xfAppendDigits is xfDigitsOf appending to d.
func xfAppendDigits(d []byte, s, seps string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case xfContainsByte(seps, c):
		default:
			return nil, false
		}
	}
	return d, true
}

func xfContainsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// xfRegroup writes out's characters where orig had digits, keeping orig's
// separators.
func xfRegroup(c *Ctx, orig string, out []byte) string {
	b := append(c.room(len(orig)), orig...)
	j := 0
	for i := range b {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = out[j]
			j++
		}
	}
	return c.str(b)
}

func (m *creditCardMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String && v.Kind != Number {
		return Value{}, errXfNotCard
	}
	var dbuf, obuf [32]byte
	digits, ok := xfAppendDigits(dbuf[:0], v.S, " -.")
	if !ok || len(digits) < xfCardMinDigits || len(digits) > xfCardMaxDigits {
		return Value{}, errXfNotCard
	}
	out := digits
	if m.generate {
		var err error
		if out, err = m.generateCard(c.Rand(), digits, obuf[:len(digits)]); err != nil {
			return Value{}, err
		}
	}
	text := xfRegroup(c, v.S, out)
	if m.pan {
		if len(digits) <= 10 {
			if !m.generate {
				return Value{}, errors.New("a card of 10 digits or fewer has no middle digits for pan_format to hide")
			}
		} else {
			if v.Kind == Number {
				return Value{}, errors.New("pan_format hides digits behind a character, which a JSON number cannot hold; typecast the value to a string first")
			}
			text = xfPanHide(text, m.panChar)
		}
	}
	return xfSameKind(v, text)
}

// xfPanHide replaces the digits between the first six and the last four.
func xfPanHide(s, ch string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	out := make([]byte, 0, len(s)+n*(len(ch)-1))
	k := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			if k >= 6 && k < n-4 {
				out = append(out, ch...)
				k++
				continue
			}
			k++
		}
		out = append(out, c)
	}
	return string(out)
}

// generateCard draws a new number of the same length, never the original,
// into out (len(digits) long).
func (m *creditCardMask) generateCard(r *Rand, digits, out []byte) ([]byte, error) {
	n := len(digits)
	var pbuf [20]byte
	for range xfMaxRedraws {
		prefix := m.prefix(r, digits, pbuf[:0])
		free := n - len(prefix)
		if m.luhn {
			free--
		}
		if free < 1 {
			return nil, errors.New("retain_prefix_length keeps all the digits that could change; lower it")
		}
		copy(out, prefix)
		for i := len(prefix); i < n; i++ {
			out[i] = byte('0' + r.IntN(10))
		}
		if m.luhn {
			out[n-1] = textscan.LuhnDigit(out[:n-1])
		}
		if string(out) != string(digits) {
			return out, nil
		}
	}
	return nil, errors.New("could not draw a number different from the original; lower retain_prefix_length")
}

// prefix returns the leading digits the new number starts with: a part of
// digits, or a drawn prefix appended to dst.
func (m *creditCardMask) prefix(r *Rand, digits, dst []byte) []byte {
	switch {
	case m.keepAuto:
		if _, w := xfIssuerOf(digits); w > 0 {
			return digits[:w]
		}
		return digits[:1]
	case !m.keepIssuer:
		if m.keep > 0 {
			return digits[:min(m.keep, len(digits))]
		}
		// Nothing kept: a prefix from any issuer.
		return xfDrawPrefix(dst, r, &xfIssuers[r.IntN(len(xfIssuers))])
	}
	if iss, _ := xfIssuerOf(digits); iss != nil {
		return xfDrawPrefix(dst, r, iss)
	}
	// An unknown issuer keeps its major industry identifier.
	return digits[:1]
}

// xfIssuer is a card scheme and the prefix ranges (IIN ranges) its
// numbers start with; both ends of a range have the same digit count.
type xfIssuer struct {
	name   string
	ranges [][2]int
}

// xfIssuers are the major schemes' published IIN ranges.
var xfIssuers = []xfIssuer{
	{"visa", [][2]int{{4, 4}}},
	{"mastercard", [][2]int{{51, 55}, {2221, 2720}}},
	{"amex", [][2]int{{34, 34}, {37, 37}}},
	{"discover", [][2]int{{6011, 6011}, {644, 649}, {65, 65}}},
	{"diners", [][2]int{{300, 305}, {36, 36}, {38, 39}}},
	{"jcb", [][2]int{{3528, 3589}}},
	{"unionpay", [][2]int{{62, 62}}},
	{"maestro", [][2]int{{5018, 5018}, {5020, 5020}, {5038, 5038}, {5893, 5893}, {6304, 6304}, {6759, 6759}, {6761, 6763}}},
	{"mir", [][2]int{{2200, 2204}}},
}

// xfIssuerWidths holds the digit count of each range of xfIssuers, in the
// same order, counted once rather than per card.
var xfIssuerWidths = func() [][]int {
	ws := make([][]int, len(xfIssuers))
	for i, iss := range xfIssuers {
		for _, rg := range iss.ranges {
			w := xfDecimalWidth(rg[0])
			if w >= 10 { // xfIssuerOf reads at most 9 leading digits
				panic("engine: an IIN range of xfIssuers is longer than 9 digits")
			}
			ws[i] = append(ws[i], w)
		}
	}
	return ws
}()

// xfRangeRef names one range of xfIssuers (issuer i, range j) with its
// digit count.
type xfRangeRef struct{ i, j, w int }

// xfIssuerRanges lists, for each first digit, the ranges a number starting
// with it can fall in, in xfIssuers' order: a card is checked against a
// handful of ranges rather than all of them.
var xfIssuerRanges = func() (t [10][]xfRangeRef) {
	for i, iss := range xfIssuers {
		for j, rg := range iss.ranges {
			w := xfIssuerWidths[i][j]
			p := 1
			for range w - 1 {
				p *= 10
			}
			for d := rg[0] / p; d <= min(rg[1]/p, 9); d++ {
				t[d] = append(t[d], xfRangeRef{i, j, w})
			}
		}
	}
	return t
}()

// xfIssuerOf finds the issuer whose range matches the most leading digits,
// and how many digits matched (the first such issuer in xfIssuers' order
// among equals).
func xfIssuerOf(digits []byte) (*xfIssuer, int) {
	// lead[w] is the number the first w digits spell; IIN ranges are a
	// few digits long.
	var lead [10]int
	nonDigit := false
	for w := 1; w < len(lead) && w <= len(digits); w++ {
		lead[w] = lead[w-1]*10 + int(digits[w-1]-'0')
		nonDigit = nonDigit || digits[w-1]-'0' > 9
	}
	if len(digits) == 0 || nonDigit {
		return xfIssuerOfAll(digits, &lead)
	}
	var best *xfIssuer
	bestW := 0
	for _, r := range xfIssuerRanges[digits[0]-'0'] {
		if r.w > len(digits) || r.w <= bestW {
			continue
		}
		if v, rg := lead[r.w], xfIssuers[r.i].ranges[r.j]; v >= rg[0] && v <= rg[1] {
			best, bestW = &xfIssuers[r.i], r.w
		}
	}
	return best, bestW
}

// xfIssuerOfAll is xfIssuerOf over every range, for input whose leading
// bytes are not all digits.
func xfIssuerOfAll(digits []byte, lead *[10]int) (*xfIssuer, int) {
	var best *xfIssuer
	bestW := 0
	for i := range xfIssuers {
		for j, rg := range xfIssuers[i].ranges {
			w := xfIssuerWidths[i][j]
			if w > len(digits) || w <= bestW {
				continue
			}
			if v := lead[w]; v >= rg[0] && v <= rg[1] {
				best, bestW = &xfIssuers[i], w
			}
		}
	}
	return best, bestW
}

// xfDecimalWidth is the number of decimal digits of n >= 0.
func xfDecimalWidth(n int) int {
	w := 1
	for ; n >= 10; n /= 10 {
		w++
	}
	return w
}

// xfDrawPrefix draws one of an issuer's ranges, then a prefix inside it,
// and appends it to dst.
func xfDrawPrefix(dst []byte, r *Rand, iss *xfIssuer) []byte {
	rg := iss.ranges[r.IntN(len(iss.ranges))]
	return strconv.AppendInt(dst, int64(rg[0]+r.IntN(rg[1]-rg[0]+1)), 10)
}
