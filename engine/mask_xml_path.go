package engine

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The XPath subset the xml mask selects with:
//
//	/a/b         child steps from the document (a is the root element)
//	a/b          the same: a relative path starts at the document
//	//b  /a//c   descendants at any depth
//	*            any element: /a/*/c
//	b[2]         the second b among its siblings (1-based); *[2] the second element
//	/a/b/@id     an attribute of the selected elements (last step only)
//	//@id        that attribute on any element
//	/a/b/text()  the element's text, same as /a/b (last step only)
//	ns:b  @ns:id a prefix as written in the document
//
// An unprefixed name matches an element of that local name whatever its
// prefix or default namespace, so documents with xmlns="..." need no
// prefixes in paths. Anything else (predicates on values, axes such as
// parent:: or .., functions other than text(), unions with |) is an error
// at compile time.

// xmlName is a name as written: prefix (or "") and local part; local "*"
// is a wildcard.
type xmlName struct {
	prefix, local string
}

func (n xmlName) String() string {
	if n.prefix == "" {
		return n.local
	}
	return n.prefix + ":" + n.local
}

// matches reports whether a name as written in the document (prefix,
// local) is selected by n.
func (n xmlName) matches(prefix, local string) bool {
	if n.local != "*" && n.local != local {
		return false
	}
	return n.prefix == "" || n.prefix == prefix
}

// xmlStep is one element step.
type xmlStep struct {
	desc  bool // reached by //: at any depth below the previous step
	name  xmlName
	index int // 1-based position among siblings; 0 for any
}

// xmlPath is a compiled XPath: element steps, then an attribute or the
// element text.
type xmlPath struct {
	src   string
	steps []xmlStep
	attr  *xmlName
}

var errXPathEmpty = errors.New("the path is empty; give an XPath such as /order/customer/email")

// parseXPath compiles an XPath of the supported subset.
func parseXPath(src string) (xmlPath, error) {
	p := xmlPath{src: src}
	s := strings.TrimSpace(src)
	if s == "" {
		return p, errXPathEmpty
	}
	if strings.Contains(s, "|") {
		return p, errors.New("unions (|) are not supported; write one transform per path")
	}
	desc := false
	switch {
	case strings.HasPrefix(s, "//"):
		desc, s = true, s[2:]
	case strings.HasPrefix(s, "/"):
		s = s[1:]
	}
	for {
		if s == "" {
			return p, errors.New("the path ends with a slash; name an element, @attribute or text() after it")
		}
		switch {
		case s[0] == '@':
			name, rest, err := xpathName(s[1:], true)
			if err != nil {
				return p, err
			}
			if rest != "" {
				return p, errors.New("an @attribute must be the last step")
			}
			if len(p.steps) == 0 || desc {
				if len(p.steps) == 0 && !desc {
					return p, errors.New("an @attribute needs an element step before it, as in /a/@id or //@id")
				}
				p.steps = append(p.steps, xmlStep{desc: true, name: xmlName{local: "*"}})
			}
			p.attr = &name
			return p, nil
		case strings.HasPrefix(s, "text()"):
			if s != "text()" {
				return p, errors.New("text() must be the last step")
			}
			if len(p.steps) == 0 || desc {
				return p, errors.New("text() needs an element step before it, as in /a/b/text()")
			}
			return p, nil
		case s[0] == '.':
			return p, errors.New("the steps . and .. are not supported; write the path from the root, as in /a/b or //b")
		}
		name, rest, err := xpathName(s, false)
		if err != nil {
			return p, err
		}
		st := xmlStep{desc: desc, name: name}
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, errors.New("a [ is not closed by ]")
			}
			n, err := strconv.Atoi(strings.TrimSpace(rest[1:end]))
			if err != nil || n < 1 {
				return p, errors.New("only position predicates such as [1] are supported (1 is the first); value tests like [@id='x'] are not")
			}
			st.index = n
			rest = rest[end+1:]
		}
		p.steps = append(p.steps, st)
		switch {
		case rest == "":
			return p, nil
		case strings.HasPrefix(rest, "//"):
			desc, s = true, rest[2:]
		case strings.HasPrefix(rest, "/"):
			desc, s = false, rest[1:]
		case strings.HasPrefix(rest, "["):
			return p, errors.New("only one position predicate per step is supported")
		default:
			return p, errors.New("unexpected text after a step; steps are separated by / or //")
		}
	}
}

// xpathName reads a name (or *) at the start of s and returns it with the
// rest of s.
func xpathName(s string, attr bool) (xmlName, string, error) {
	if strings.HasPrefix(s, "*") {
		if attr {
			return xmlName{}, "", errors.New("@* is not supported; name the attribute")
		}
		return xmlName{local: "*"}, s[1:], nil
	}
	first, rest := xpathNCName(s)
	if first == "" {
		return xmlName{}, "", errors.New("expected an element name, *, @attribute or text()")
	}
	if strings.HasPrefix(rest, "::") {
		return xmlName{}, "", errors.New("axes such as " + first + ":: are not supported; use / and //")
	}
	if strings.HasPrefix(rest, "(") {
		return xmlName{}, "", errors.New("functions such as " + first + "() are not supported; only text() is")
	}
	if strings.HasPrefix(rest, ":") {
		local, r2 := xpathNCName(rest[1:])
		if local == "" {
			return xmlName{}, "", errors.New("a prefix must be followed by a name, as in ns:item")
		}
		return xmlName{prefix: first, local: local}, r2, nil
	}
	return xmlName{local: first}, rest, nil
}

// xpathNCName reads an XML name without a colon.
func xpathNCName(s string) (string, string) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		ok := r == '_' || unicode.IsLetter(r) || i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || unicode.IsMark(r))
		if !ok {
			break
		}
		i += size
	}
	return s[:i], s[i:]
}

// xmlFrame is one open element while the document is read.
type xmlFrame struct {
	prefix, local string
	posName       int // 1-based position among same-name siblings
	posAny        int // 1-based position among element siblings
	// children counts the child elements seen so far, by name, for their
	// positions.
	children []xmlChildCount
	// byName indexes children once there are many distinct names, so a
	// document of thousands of differently named siblings is not
	// quadratic (140k such siblings took 72 s with the list alone).
	byName map[xmlChildKey]int
	nchild int
	// The start tag's bytes are text[tagStart:tagEnd].
	tagStart, tagEnd int
	selfClosing      bool
	// text targets selecting this element, and its character data.
	targets []int
	text    []byte
	cdata   bool
	nonText bool // comments, processing instructions or child elements inside
}

type xmlChildCount struct {
	prefix, local string
	n             int
}

type xmlChildKey struct{ prefix, local string }

// match reports whether the path's element steps select the innermost of
// frames (the root first).
func (p *xmlPath) match(frames []xmlFrame) bool {
	return xmlMatchSteps(p.steps, frames)
}

func xmlMatchSteps(steps []xmlStep, frames []xmlFrame) bool {
	if len(steps) == 0 {
		return len(frames) == 0
	}
	if len(frames) == 0 || len(frames) < len(steps) {
		return false
	}
	st := &steps[0]
	if !st.desc {
		return st.selects(&frames[0]) && xmlMatchSteps(steps[1:], frames[1:])
	}
	for k := range frames {
		if len(frames)-k < len(steps) {
			break
		}
		if st.selects(&frames[k]) && xmlMatchSteps(steps[1:], frames[k+1:]) {
			return true
		}
	}
	return false
}

func (st *xmlStep) selects(f *xmlFrame) bool {
	if !st.name.matches(f.prefix, f.local) {
		return false
	}
	switch {
	case st.index == 0:
		return true
	case st.name.local == "*":
		return f.posAny == st.index
	}
	return f.posName == st.index
}
