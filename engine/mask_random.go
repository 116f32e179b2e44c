package engine

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// from_random_text, from_random_number and from_random_boolean
// (DataMasque): random values from a range. Like every generator here they
// are deterministic: "random" means drawn from the mask's seeded
// generator, so the same input and run secret give the same output.

func init() {
	register("from_random_text", newFromRandomText)
	register("from_random_number", newFromRandomNumber)
	register("from_random_boolean", newFromRandomBoolean)
}

// from_random_text: a random string of letters.
//
//	masks:
//	  - type: from_random_text
//	    min: 5
//	    max: 12
//	    case: lower
//
// max (required) and min (default 1) bound the length. case is lower, upper
// or mixed (the default). characters (ours) gives the set to draw from
// instead, in the set syntax of from_format_string without brackets
// ("a-z0-9_"); it cannot be combined with case.
type fromRandomTextParams struct {
	Max        int    `yaml:"max" ms:"required"`
	Min        *int   `yaml:"min"`
	Case       string `yaml:"case"`
	Characters string `yaml:"characters"`
}

const genRandomTextMax = 65536

type fromRandomText struct{ f *genFormat }

func newFromRandomText(p *Params) (Mask, error) {
	var prm fromRandomTextParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	lo := 1
	if prm.Min != nil {
		lo = *prm.Min
	}
	switch {
	case prm.Max < 1 || prm.Max > genRandomTextMax:
		return nil, p.ErrorAt(p.Param("max"), "max must be between 1 and %d", genRandomTextMax)
	case lo < 0:
		return nil, p.ErrorAt(p.Param("min"), "min must not be negative")
	case lo > prm.Max:
		return nil, p.ErrorAt(p.Param("min"), "min (%d) is greater than max (%d)", lo, prm.Max)
	}
	set := "a-zA-Z"
	switch prm.Case {
	case "", "mixed":
	case "lower":
		set = "a-z"
	case "upper":
		set = "A-Z"
	default:
		return nil, p.ErrorAt(p.Param("case"), "case must be lower, upper or mixed")
	}
	if prm.Characters != "" {
		if prm.Case != "" {
			return nil, p.ErrorAt(p.Param("characters"), "give case or characters, not both")
		}
		set = prm.Characters
	}
	cs, next, err := parseGenCharset("["+set+"]", 0)
	if err == nil && next != len(set)+2 {
		err = &genFormatError{next - 1, "a ] inside characters must be escaped as \\]"}
	}
	if err != nil {
		fe := err.(*genFormatError)
		return nil, p.ErrorAt(p.Param("characters"), "characters: at byte %d: %s", max(fe.Offset-1, 0), fe.Msg)
	}
	f := &genFormat{pieces: []genPiece{{set: cs, min: lo, max: prm.Max}}, minLen: lo, maxLen: prm.Max}
	f.space = math.Pow(float64(cs.size), float64(prm.Max))
	return fromRandomText{f: f}, nil
}

func (m fromRandomText) Apply(c *Ctx, v Value) (Value, error) {
	out := genAvoidFormat(c, m.f, v)
	return genText(v, out, "give characters: \"0-9\" for digits")
}

// from_random_number: a random number between min and max.
//
//	masks:
//	  - type: from_random_number
//	    min: 1
//	    max: 200
//	    decimal_places: 2
//
// max is required; min defaults to 0. decimal_places (default 0) is the
// number of digits after the point, always written (12.50). mode, when
// given, draws from a triangular distribution peaking there instead of a
// uniform one. The result is a JSON number, or its text when the value
// was a string.
type fromRandomNumberParams struct {
	Max           *yaml.Node `yaml:"max" ms:"required"`
	Min           *yaml.Node `yaml:"min"`
	Mode          *yaml.Node `yaml:"mode"`
	DecimalPlaces int        `yaml:"decimal_places"`
}

const genMaxDecimalPlaces = 15

type fromRandomNumber struct {
	// lo and hi are the bounds in units of 10^-dp.
	lo, hi int64
	dp     int
	// mode, in the same units, is used when triangular is set.
	mode       float64
	triangular bool
}

func newFromRandomNumber(p *Params) (Mask, error) {
	var prm fromRandomNumberParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	if prm.DecimalPlaces < 0 || prm.DecimalPlaces > genMaxDecimalPlaces {
		return nil, p.ErrorAt(p.Param("decimal_places"), "decimal_places must be between 0 and %d", genMaxDecimalPlaces)
	}
	m := fromRandomNumber{dp: prm.DecimalPlaces}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(m.dp)), nil))
	num := func(n *yaml.Node, key string) (*big.Rat, error) {
		if n == nil {
			return new(big.Rat), nil
		}
		t := n.ShortTag()
		r, ok := new(big.Rat).SetString(strings.ReplaceAll(n.Value, "_", ""))
		if n.Kind != yaml.ScalarNode || (t != "!!int" && t != "!!float") || !ok {
			return nil, p.ErrorAt(n, "%s must be a number", key)
		}
		return r.Mul(r, scale), nil
	}
	maxR, err := num(prm.Max, "max")
	if err != nil {
		return nil, err
	}
	minR, err := num(prm.Min, "min")
	if err != nil {
		return nil, err
	}
	// The bounds in grid units: min rounds up and max down, so the result
	// never leaves [min, max].
	lo, okLo := genRatToInt64(minR, true)
	hi, okHi := genRatToInt64(maxR, false)
	if !okLo || !okHi {
		return nil, p.Errorf("min and max times 10^decimal_places must be within ±9.2e18; use smaller bounds or fewer decimal places")
	}
	if lo > hi {
		return nil, p.ErrorAt(p.Param("max"), "no number with %d decimal places lies between min and max; make max at least min", m.dp)
	}
	m.lo, m.hi = lo, hi
	if prm.Mode != nil {
		modeR, err := num(prm.Mode, "mode")
		if err != nil {
			return nil, err
		}
		if modeR.Cmp(minR) < 0 || modeR.Cmp(maxR) > 0 {
			return nil, p.ErrorAt(prm.Mode, "mode must lie between min and max")
		}
		m.mode, _ = modeR.Float64()
		m.triangular = true
	}
	return m, nil
}

// genRatToInt64 rounds r up (ceil) or down to an int64.
func genRatToInt64(r *big.Rat, ceil bool) (int64, bool) {
	q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		if ceil && r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		} else if !ceil && r.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		}
	}
	return q.Int64(), q.IsInt64()
}

func (m fromRandomNumber) Apply(c *Ctx, v Value) (Value, error) {
	r := c.Rand()
	b := m.appendFormat(c.room(24), m.draw(r))
	if avoids(c, float64(m.hi-m.lo)+1) {
		o := v.Text()
		for i := 0; i < 16 && string(b) == o; i++ {
			b = m.appendFormat(b[:0], m.draw(r))
		}
	}
	out := c.str(b)
	if v.Kind == String {
		return Str(out), nil
	}
	return Num(out), nil
}

func (m fromRandomNumber) draw(r *Rand) int64 {
	if !m.triangular || m.lo == m.hi {
		return r.Int64Range(m.lo, m.hi)
	}
	// Inverse CDF of the triangular distribution on [lo, hi] with peak
	// mode, then rounded to the grid.
	a, b, c := float64(m.lo), float64(m.hi), m.mode
	u := r.Float64()
	var x float64
	if u < (c-a)/(b-a) {
		x = a + math.Sqrt(u*(b-a)*(c-a))
	} else {
		x = b - math.Sqrt((1-u)*(b-a)*(b-c))
	}
	n := int64(math.Round(x))
	return min(max(n, m.lo), m.hi)
}

// appendFormat appends n·10^-dp with exactly dp decimals.
func (m fromRandomNumber) appendFormat(dst []byte, n int64) []byte {
	u := uint64(n)
	if n < 0 {
		dst = append(dst, '-')
		u = -u
	}
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], u, 10)
	if m.dp == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= m.dp { // 0.0ddd
		dst = append(dst, '0', '.')
		for range m.dp - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	cut := len(digits) - m.dp
	dst = append(dst, digits[:cut]...)
	dst = append(dst, '.')
	return append(dst, digits[cut:]...)
}

// from_random_boolean: a random true or false. A number is replaced by 1
// or 0 (as DataMasque returns), a string by "true" or "false", anything
// else by a JSON boolean.
type fromRandomBoolean struct{}

func newFromRandomBoolean(p *Params) (Mask, error) {
	var prm struct{}
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	return fromRandomBoolean{}, nil
}

func (fromRandomBoolean) Apply(c *Ctx, v Value) (Value, error) {
	b := c.Rand().Bool()
	switch v.Kind {
	case Number:
		if b {
			return Num("1"), nil
		}
		return Num("0"), nil
	case String:
		if b {
			return Str("true"), nil
		}
		return Str("false"), nil
	}
	return Boolean(b), nil
}
