package engine

import "fmt"

// imitate (DataMasque): replaces each letter and digit with a random one of
// the same kind (A-Z for A-Z, a-z for a-z, 0-9 for 0-9) and keeps every
// other character, so a value keeps its shape:
//
//	masks:
//	  - type: imitate
//	    force_change: true
//
// Parameters: force_change (default false) never picks the same character
// again; uppercase, lowercase and digits (default true each) turn the
// replacement of that kind off. Letters outside A-Z and a-z are kept.
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
	// Letters and digits are ASCII: byte replacement keeps UTF-8 intact.
	b := append(c.room(len(s)), s...)
	for i, ch := range b {
		switch {
		case m.upper && ch >= 'A' && ch <= 'Z':
			b[i] = m.pick(r, ch, 'A', 26)
		case m.lower && ch >= 'a' && ch <= 'z':
			b[i] = m.pick(r, ch, 'a', 26)
		case m.digits && ch >= '0' && ch <= '9':
			b[i] = m.pick(r, ch, '0', 10)
		}
	}
	return c.str(b)
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
