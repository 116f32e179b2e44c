package engine

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// from_format_string (DataMasque): generates text from a format string.
//
//	masks:
//	  - type: from_format_string
//	    value_format: "{[A-Z],3}-{[0-9],4}"
//
// The format string language (DataMasque's, with our extensions marked):
//
//	text          copied as written
//	{[set],n}     n characters, each drawn from set
//	{[set]}       one character from set
//	{[set],m-n}   (ours) between m and n characters; m,n is the same
//	{{  }}        (ours) a literal { or }
//
// A set lists characters and ranges: [a-z], [A-Z0-9], [a-f0-9_], [ -~].
// A backslash makes the next character literal (\], \-, \\); a - at the
// start or the end of a set is literal too.
func init() { register("from_format_string", newFromFormatString) }

type fromFormatStringParams struct {
	ValueFormat string `yaml:"value_format" ms:"required"`
}

type fromFormatString struct{ f *genFormat }

func newFromFormatString(p *Params) (Mask, error) {
	var prm fromFormatStringParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	f, err := parseGenFormat(prm.ValueFormat)
	if err != nil {
		return nil, p.ErrorAt(p.Param("value_format"), "value_format: %v", err)
	}
	return fromFormatString{f: f}, nil
}

func (m fromFormatString) Apply(c *Ctx, v Value) (Value, error) {
	out := genAvoidFormat(c, m.f, v)
	return genText(v, out, "make value_format produce a JSON number (for example start it with {[1-9]})")
}

// genAvoidFormat is genAvoid for a format: it draws into the arena (each
// redraw over the last), so a value costs no allocation.
func genAvoidFormat(c *Ctx, f *genFormat, orig Value) string {
	r := c.Rand()
	b := f.generate(r, c.room(f.maxLen))
	if avoids(c, f.space) {
		o := orig.Text()
		for i := 0; i < 16 && string(b) == o; i++ {
			b = f.generate(r, b[:0])
		}
	}
	return c.str(b)
}

// Limits that keep a format string from building huge values.
const (
	genFormatMaxCount  = 10000  // characters one {} group may produce
	genFormatMaxLength = 100000 // characters the whole format may produce
)

// genFormat is a parsed format string. It is immutable and safe for
// concurrent use.
type genFormat struct {
	pieces []genPiece
	// minLen and maxLen bound the length of an output in characters.
	minLen, maxLen int
	// space approximates how many different outputs there are (it may be
	// +Inf), for genAvoid.
	space float64
}

// genPiece is literal text (set == nil) or a group of random characters.
type genPiece struct {
	lit      string
	set      *genCharset
	min, max int
}

// genCharset is a set of characters as sorted, disjoint ranges.
type genCharset struct {
	ranges []genRuneRange
	size   int
}

type genRuneRange struct{ lo, hi rune }

// at returns the i-th character of the set.
func (s *genCharset) at(i int) rune {
	for _, r := range s.ranges {
		n := int(r.hi-r.lo) + 1
		if i < n {
			return r.lo + rune(i)
		}
		i -= n
	}
	panic("engine: charset index out of range")
}

func (s *genCharset) contains(c rune) bool {
	for _, r := range s.ranges {
		if c >= r.lo && c <= r.hi {
			return true
		}
	}
	return false
}

// genFormatError is a format string that does not parse; Offset is the
// byte where the problem is.
type genFormatError struct {
	Offset int
	Msg    string
}

func (e *genFormatError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

// parseGenFormat parses a format string (see from_format_string).
func parseGenFormat(s string) (*genFormat, error) {
	if !utf8.ValidString(s) {
		return nil, &genFormatError{0, "the format is not valid UTF-8"}
	}
	f := &genFormat{space: 1}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.pieces = append(f.pieces, genPiece{lit: lit.String()})
			f.minLen += utf8.RuneCountInString(lit.String())
			f.maxLen += utf8.RuneCountInString(lit.String())
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '{':
			if strings.HasPrefix(s[i:], "{{") {
				lit.WriteByte('{')
				i += 2
				continue
			}
			flush()
			pc, next, err := parseGenGroup(s, i)
			if err != nil {
				return nil, err
			}
			f.pieces = append(f.pieces, pc)
			f.minLen += pc.min
			f.maxLen += pc.max
			if f.maxLen > genFormatMaxLength {
				return nil, &genFormatError{i, fmt.Sprintf("the format makes values of up to %d characters; the limit is %d", f.maxLen, genFormatMaxLength)}
			}
			variants := 0.0
			for n := pc.min; n <= pc.max; n++ {
				variants += math.Pow(float64(pc.set.size), float64(n))
			}
			f.space *= variants
			i = next
		case '}':
			if strings.HasPrefix(s[i:], "}}") {
				lit.WriteByte('}')
				i += 2
				continue
			}
			return nil, &genFormatError{i, "a } without its {; write }} for a literal }"}
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	flush()
	return f, nil
}

// parseGenGroup parses the group that starts with the { at s[open].
func parseGenGroup(s string, open int) (genPiece, int, error) {
	i := open + 1
	if i >= len(s) || s[i] != '[' {
		return genPiece{}, 0, &genFormatError{i, "expected [ after {, as in {[a-z],3}; write {{ for a literal {"}
	}
	set, i, err := parseGenCharset(s, i)
	if err != nil {
		return genPiece{}, 0, err
	}
	pc := genPiece{set: set, min: 1, max: 1}
	if i < len(s) && s[i] == ',' {
		i++
		start := i
		for i < len(s) && s[i] != '}' {
			i++
		}
		if i >= len(s) {
			return genPiece{}, 0, &genFormatError{open, "this { is never closed; end the group with }"}
		}
		pc.min, pc.max, err = parseGenCount(s[start:i], start)
		if err != nil {
			return genPiece{}, 0, err
		}
	}
	if i >= len(s) {
		return genPiece{}, 0, &genFormatError{open, "this { is never closed; end the group with }"}
	}
	if s[i] != '}' {
		return genPiece{}, 0, &genFormatError{i, "expected , or } after the ]"}
	}
	return pc, i + 1, nil
}

// parseGenCount parses "n", "m-n" or "m,n" (spaces allowed around).
func parseGenCount(t string, at int) (lo, hi int, err error) {
	num := func(x string, off int) (int, error) {
		x = strings.TrimSpace(x)
		n, e := strconv.Atoi(x)
		if e != nil || x == "" || x[0] == '+' || x[0] == '-' {
			return 0, &genFormatError{off, "expected a count (a whole number) after the comma, as in {[0-9],4}"}
		}
		if n > genFormatMaxCount {
			return 0, &genFormatError{off, fmt.Sprintf("a group may make at most %d characters", genFormatMaxCount)}
		}
		return n, nil
	}
	sep := strings.IndexAny(t, "-,")
	if sep < 0 {
		n, err := num(t, at)
		if err != nil {
			return 0, 0, err
		}
		return n, n, nil
	}
	if lo, err = num(t[:sep], at); err != nil {
		return 0, 0, err
	}
	if hi, err = num(t[sep+1:], at+sep+1); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, &genFormatError{at, fmt.Sprintf("the count range %d-%d runs backwards; write the smaller number first", lo, hi)}
	}
	return lo, hi, nil
}

// parseGenCharset parses the set that starts with the [ at s[open] and
// returns the index after its ].
func parseGenCharset(s string, open int) (*genCharset, int, error) {
	var rs []genRuneRange
	i := open + 1
	read := func() (rune, bool) { // one character, honouring \ escapes
		if s[i] == '\\' {
			if i+1 >= len(s) {
				return 0, false
			}
			i++
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		i += size
		return c, true
	}
	for {
		if i >= len(s) {
			return nil, 0, &genFormatError{open, "this [ is never closed; end the set with ]"}
		}
		if s[i] == ']' {
			i++
			break
		}
		at := i
		lo, ok := read()
		if !ok {
			return nil, 0, &genFormatError{at, "a \\ at the end of the format; write \\\\ for a backslash"}
		}
		hi := lo
		// A - between two characters makes a range; first or last it is
		// the character itself.
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			i++
			var ok bool
			if hi, ok = read(); !ok {
				return nil, 0, &genFormatError{at, "a \\ at the end of the format; write \\\\ for a backslash"}
			}
			if hi < lo {
				return nil, 0, &genFormatError{at, fmt.Sprintf("the range %c-%c runs backwards; write the lower character first", lo, hi)}
			}
		}
		if lo <= 0xDFFF && hi >= 0xD800 {
			return nil, 0, &genFormatError{at, "the range includes UTF-16 surrogates (U+D800 to U+DFFF), which are not characters"}
		}
		rs = append(rs, genRuneRange{lo, hi})
	}
	if len(rs) == 0 {
		return nil, 0, &genFormatError{open, "the set [] is empty; list characters such as [a-z0-9]"}
	}
	set := &genCharset{ranges: genMergeRanges(rs)}
	for _, r := range set.ranges {
		set.size += int(r.hi-r.lo) + 1
	}
	return set, i, nil
}

// genMergeRanges sorts ranges and merges the ones that overlap or touch,
// so a character listed twice is not drawn twice as often.
func genMergeRanges(rs []genRuneRange) []genRuneRange {
	slices.SortFunc(rs, func(a, b genRuneRange) int { return int(a.lo - b.lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// generate appends one output to dst, drawing from r.
func (f *genFormat) generate(r *Rand, dst []byte) []byte {
	for _, pc := range f.pieces {
		if pc.set == nil {
			dst = append(dst, pc.lit...)
			continue
		}
		n := pc.min
		if pc.max > pc.min {
			n += r.IntN(pc.max - pc.min + 1)
		}
		for range n {
			dst = utf8.AppendRune(dst, pc.set.at(r.IntN(pc.set.size)))
		}
	}
	return dst
}
