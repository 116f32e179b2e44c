package rulesets

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// PathError is a path that does not parse: Offset is the byte of Path where
// the problem was found, and Msg says what is wrong and how to fix it.
type PathError struct {
	Path   string
	Offset int
	Msg    string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("rulesets: path %q: at byte %d: %s", e.Path, e.Offset, e.Msg)
}

// detail is the message without the package prefix, for ruleset errors
// that carry their own position.
func (e *PathError) detail() string {
	return fmt.Sprintf("bad path %q: at byte %d: %s", e.Path, e.Offset, e.Msg)
}

// ParsePath parses maskstream's JSONPath subset:
//
//	$                     the whole value
//	$.a.b                 member b of member a
//	$['credit-card'].cvv  a member whose name needs quoting ($["a b"] too)
//	$.items[*].sku        sku of every element of items
//	$.a[0]  $.a[-1]       the first / the last element
//	$..email              every member named email, at any depth
//	$.*  $[*]             every member or element
//	$[*].email            email of every element of a top-level array
//
// Filters ([?...]), slices ([0:2]) and unions ([0,1]) are not supported.
// The error is a *PathError naming the byte offset. The returned Path keeps
// s as its Text.
func ParsePath(s string) (Path, error) {
	p := pathParser{s: s}
	segs, err := p.parse()
	if err != nil {
		return Path{}, err
	}
	return Path{Text: s, Segments: segs}, nil
}

type pathParser struct {
	s string
	i int
}

func (p *pathParser) fail(at int, format string, args ...any) error {
	return &PathError{Path: p.s, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (p *pathParser) parse() ([]Segment, error) {
	s := p.s
	if s == "" {
		return nil, p.fail(0, "the path is empty; write $ for the whole value or $.name for a member")
	}
	if s[0] != '$' {
		hint := "$." + s
		if s[0] == '.' || s[0] == '[' {
			hint = "$" + s
		}
		return nil, p.fail(0, "a path starts with $ (the root of the message); write %q", hint)
	}
	p.i = 1
	var segs []Segment
	for p.i < len(s) {
		switch s[p.i] {
		case '.':
			if p.i+1 < len(s) && s[p.i+1] == '.' {
				seg, err := p.descendant()
				if err != nil {
					return nil, err
				}
				segs = append(segs, seg)
				continue
			}
			p.i++
			if p.i == len(s) {
				return nil, p.fail(p.i, "the path ends with a dot; name a member after it, as in $.a.b")
			}
			if s[p.i] == '*' {
				p.i++
				segs = append(segs, Segment{Kind: SegWildcard})
				continue
			}
			if s[p.i] == '[' {
				return nil, p.fail(p.i, "a dot cannot come before a bracket; write $.a['b'] or $.a[0], not $.a.['b']")
			}
			name, err := p.name()
			if err != nil {
				return nil, err
			}
			segs = append(segs, Segment{Kind: SegKey, Key: name})
		case '[':
			seg, err := p.bracket()
			if err != nil {
				return nil, err
			}
			segs = append(segs, seg)
		default:
			return nil, p.fail(p.i, "expected . or [ after %q; write $.a.b for members, $.a[0] for elements, $['a b'] for a name with other characters", s[:p.i])
		}
	}
	return segs, nil
}

// descendant parses ..name or ..['name'] at p.i (the first dot).
func (p *pathParser) descendant() (Segment, error) {
	s := p.s
	start := p.i
	p.i += 2
	if p.i == len(s) {
		return Segment{}, p.fail(start, "the path ends with ..; name the member to find at any depth, as in $..email")
	}
	switch s[p.i] {
	case '*':
		return Segment{}, p.fail(p.i, "$..* (every value at every depth) is not supported; name the member to find, as in $..email")
	case '.':
		return Segment{}, p.fail(p.i, "three dots in a row; write $..name to find a member at any depth")
	case '[':
		seg, err := p.bracket()
		if err != nil {
			return Segment{}, err
		}
		if seg.Kind != SegKey {
			return Segment{}, p.fail(start, "after .. give a member name ($..email or $..['e-mail']); indexes and [*] are not supported there")
		}
		return Segment{Kind: SegDescendant, Key: seg.Key}, nil
	}
	name, err := p.name()
	if err != nil {
		return Segment{}, err
	}
	return Segment{Kind: SegDescendant, Key: name}, nil
}

// isNameByte reports whether an ASCII byte may appear in a dot name.
// Non-ASCII letters are allowed too (checked by the caller).
func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '$' ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// name parses a dot member name at p.i.
func (p *pathParser) name() (string, error) {
	s := p.s
	start := p.i
	for p.i < len(s) {
		c := s[p.i]
		if c < utf8.RuneSelf {
			if !isNameByte(c) {
				break
			}
			p.i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[p.i:])
		if r == utf8.RuneError && size <= 1 {
			return "", p.fail(p.i, "the path is not valid UTF-8")
		}
		p.i += size
	}
	if p.i == start || p.i < len(s) && s[p.i] != '.' && s[p.i] != '[' {
		if p.i < len(s) {
			c := s[p.i]
			switch {
			case c == '*' && p.i > start:
				return "", p.fail(p.i, "a * must stand alone: write $.a.* for every member, or $['a*'] for a member named so")
			case c == ']':
				return "", p.fail(p.i, "unexpected ] with no [ before it")
			}
			return "", p.fail(p.i, "character %q cannot appear in a dot name; quote the name in brackets: %s", c, p.bracketed(start))
		}
		return "", p.fail(p.i, "expected a member name")
	}
	return s[start:p.i], nil
}

// bracketed rewrites the path with the dot name that starts at byte start
// (and runs to the next . or [) quoted in brackets, for error messages.
func (p *pathParser) bracketed(start int) string {
	s := p.s
	end := start
	for end < len(s) && s[end] != '.' && s[end] != '[' {
		end++
	}
	prefix := s[:start]
	if !strings.HasSuffix(prefix, "..") {
		prefix = strings.TrimSuffix(prefix, ".")
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('[')
	writeQuoted(&b, s[start:end])
	b.WriteByte(']')
	b.WriteString(s[end:])
	return b.String()
}

// bracket parses [*], [n] or ['name'] / ["name"] at p.i (the '[').
func (p *pathParser) bracket() (Segment, error) {
	s := p.s
	open := p.i
	p.i++
	if p.i == len(s) {
		return Segment{}, p.fail(open, "unclosed [; write [*], [0] or ['name']")
	}
	var seg Segment
	switch c := s[p.i]; {
	case c == '*':
		p.i++
		seg = Segment{Kind: SegWildcard}
	case c == '\'' || c == '"':
		key, err := p.quoted(c)
		if err != nil {
			return Segment{}, err
		}
		seg = Segment{Kind: SegKey, Key: key}
	case c == '-' || '0' <= c && c <= '9':
		start := p.i
		p.i++
		for p.i < len(s) && '0' <= s[p.i] && s[p.i] <= '9' {
			p.i++
		}
		text := s[start:p.i]
		if text == "-" {
			return Segment{}, p.fail(start, "expected digits after -; write [-1] for the last element")
		}
		if len(text) > 1 && (text[0] == '0' || strings.HasPrefix(text, "-0")) {
			return Segment{}, p.fail(start, "an index has no leading zeros (and no -0); write [%s]", trimZeros(text))
		}
		n, err := strconv.Atoi(text)
		if err != nil || n > 1<<31-1 || n < -(1<<31) {
			return Segment{}, p.fail(start, "index %s is out of range", text)
		}
		seg = Segment{Kind: SegIndex, Index: n}
	case c == '?':
		return Segment{}, p.fail(p.i, "filter expressions ([?...]) are not supported; use a rule with if: conditions instead")
	case c == ']':
		return Segment{}, p.fail(p.i, "empty brackets; write [*] for every element, [0] for one, or ['name'] for a member")
	default:
		return Segment{}, p.fail(p.i, "unexpected %q in brackets; write [*], [0], [-1] or ['name'] (quote member names)", c)
	}
	if p.i == len(s) {
		return Segment{}, p.fail(open, "unclosed [; add ]")
	}
	switch s[p.i] {
	case ']':
		p.i++
		return seg, nil
	case ':':
		return Segment{}, p.fail(p.i, "slices ([a:b]) are not supported; select one element ([0]) or every element ([*])")
	case ',':
		return Segment{}, p.fail(p.i, "unions ([a,b]) are not supported; list the paths under paths: instead")
	}
	return Segment{}, p.fail(p.i, "expected ] to close the [ at byte %d", open)
}

// quoted parses a quoted member name at p.i (the opening quote q),
// with JSON-style escapes.
func (p *pathParser) quoted(q byte) (string, error) {
	s := p.s
	open := p.i
	p.i++
	var b strings.Builder
	for p.i < len(s) {
		c := s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 == len(s) {
				return "", p.fail(p.i, "the path ends inside an escape")
			}
			e := s[p.i+1]
			p.i += 2
			switch e {
			case '\\', '\'', '"', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if p.i+4 > len(s) {
					return "", p.fail(p.i-2, `\u needs four hex digits`)
				}
				v, err := strconv.ParseUint(s[p.i:p.i+4], 16, 32)
				if err != nil {
					return "", p.fail(p.i-2, `\u needs four hex digits`)
				}
				r := rune(v)
				if !utf8.ValidRune(r) {
					return "", p.fail(p.i-2, `\u%s is not a character (surrogate halves are not supported)`, s[p.i:p.i+4])
				}
				b.WriteRune(r)
				p.i += 4
			default:
				return "", p.fail(p.i-2, "unknown escape \\%c; the escapes are \\\\ \\' \\\" \\/ \\b \\f \\n \\r \\t \\uXXXX", e)
			}
		case c < 0x20:
			return "", p.fail(p.i, "control character in a quoted name; write it as an escape such as \\t")
		default:
			r, size := utf8.DecodeRuneInString(s[p.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail(p.i, "the path is not valid UTF-8")
			}
			b.WriteString(s[p.i : p.i+size])
			p.i += size
		}
	}
	return "", p.fail(open, "unclosed quote; add %c before ]", q)
}

// PathFromList builds a Path from DataMasque's list form, as in a json
// mask's transform (path: [payment, card_number]). "*" selects every
// element or member, and an element written as a decimal integer (0, -1)
// selects an array element, as DataMasque's integer entries do; every other
// element is a member name. Text is the equivalent JSONPath.
//
// PathFromNode reads the list from YAML instead, where an integer and a
// quoted "0" member name stay apart.
func PathFromList(elems []string) Path {
	segs := make([]Segment, 0, len(elems))
	for _, e := range elems {
		switch {
		case e == "*":
			segs = append(segs, Segment{Kind: SegWildcard})
		case isIndexText(e):
			n, _ := strconv.Atoi(e)
			segs = append(segs, Segment{Kind: SegIndex, Index: n})
		default:
			segs = append(segs, Segment{Kind: SegKey, Key: e})
		}
	}
	return Path{Text: FormatPath(segs), Segments: segs}
}

func trimZeros(text string) string {
	neg := strings.HasPrefix(text, "-")
	d := strings.TrimLeft(strings.TrimPrefix(text, "-"), "0")
	if d == "" {
		return "0"
	}
	if neg {
		return "-" + d
	}
	return d
}

// isIndexText reports whether s is an index as ParsePath reads one inside
// brackets: an optional minus, then digits without leading zeros.
func isIndexText(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || s == "-0" || len(d) > 10 || len(d) > 1 && d[0] == '0' {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	n, err := strconv.Atoi(s)
	return err == nil && n <= 1<<31-1 && n >= -(1<<31)
}

// PathFromNode reads a path given in a ruleset: a JSONPath string
// ("$.a.b") or DataMasque's list form ([a, 0, b], where a YAML integer is an
// array index, "*" every element or member, and any other entry, quoted
// numbers included, a member name). Errors carry the node's position.
func PathFromNode(n *yaml.Node, file string) (Path, error) {
	n = resolveAlias(n)
	pos := nodePos(file, n)
	if n == nil {
		return Path{}, Errorf(pos, "expected a path such as \"$.a.b\" or a list such as [a, b]")
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() != strTag {
			return Path{}, Errorf(pos, "expected a path such as \"$.a.b\", got %s", describe(n))
		}
		p, err := ParsePath(n.Value)
		if err != nil {
			return Path{}, Errorf(pos, "%s", err.(*PathError).detail())
		}
		p.Pos = pos
		return p, nil
	case yaml.SequenceNode:
		var errs ErrorList
		segs := make([]Segment, 0, len(n.Content))
		for _, e := range n.Content {
			e = resolveAlias(e)
			if e.Kind != yaml.ScalarNode || e.ShortTag() == nullTag {
				errs = append(errs, Errorf(nodePos(file, e), "a path list holds member names and indexes, got %s", describe(e)))
				continue
			}
			switch tag := e.ShortTag(); {
			case tag == intTag:
				i, err := strconv.Atoi(e.Value)
				if err != nil || i > 1<<31-1 || i < -(1<<31) {
					errs = append(errs, Errorf(nodePos(file, e), "index %s is out of range", e.Value))
					continue
				}
				segs = append(segs, Segment{Kind: SegIndex, Index: i})
			case e.Value == "*":
				segs = append(segs, Segment{Kind: SegWildcard})
			default:
				segs = append(segs, Segment{Kind: SegKey, Key: e.Value})
			}
		}
		if len(errs) > 0 {
			return Path{}, errs
		}
		return Path{Text: FormatPath(segs), Segments: segs, Pos: pos}, nil
	}
	return Path{}, Errorf(pos, "expected a path such as \"$.a.b\" or a list such as [a, b], got %s", describe(n))
}

// FormatPath writes segments as a JSONPath that ParsePath reads back to the
// same segments: dot names where they are plain, quoted brackets elsewhere.
func FormatPath(segs []Segment) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range segs {
		switch s.Kind {
		case SegKey:
			if plainName(s.Key) {
				b.WriteByte('.')
				b.WriteString(s.Key)
			} else {
				b.WriteByte('[')
				writeQuoted(&b, s.Key)
				b.WriteByte(']')
			}
		case SegIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case SegWildcard:
			b.WriteString("[*]")
		case SegDescendant:
			b.WriteString("..")
			if plainName(s.Key) {
				b.WriteString(s.Key)
			} else {
				b.WriteByte('[')
				writeQuoted(&b, s.Key)
				b.WriteByte(']')
			}
		}
	}
	return b.String()
}

// plainName reports whether a member name can be written after a dot.
func plainName(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < utf8.RuneSelf && !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}
