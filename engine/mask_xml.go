package engine

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// xml (DataMasque's document mask): masks element text and attributes
// inside XML held in a string, selected by XPath (see mask_xml_path.go for
// the subset), and leaves every other byte of the document as it was: the
// declaration, comments, whitespace, attribute order and quoting, prefixes
// and namespace declarations, entity references outside masked values.
//
//	masks:
//	  - type: xml
//	    transforms:
//	      - path: /order/customer/email      # element text
//	        masks: [ {type: from_format_string, value_format: "{[a-z],8}@example.com"} ]
//	      - path: //payment/@card             # an attribute
//	        masks: [ {type: credit_card} ]
//	      - path: //customer                  # DataMasque's form
//	        node_transforms:
//	          - { type: text, masks: [...] }
//	          - { type: attribute, attributes: [id, ref], masks: [...] }
//	        on_missing: skip                  # default error, as DataMasque; or skip
//	        on_null: skip                     # empty text or value: skip (default), mask or error
//	    fallback_masks: [ {type: from_fixed, value: "<redacted/>"} ]   # for a value that is not XML
//
// Element text is the character data of a leaf element (one without child
// elements); selecting an element that has children for its text is an
// error. A masked text is written escaped, or as CDATA when the original
// was one CDATA section; comments inside a masked leaf are dropped with its
// old text. Transforms apply in order, each to the output of the ones
// before.
func init() { register("xml", newXMLMask) }

type xmlParams struct {
	Transforms    []xmlTransformParams `yaml:"transforms" ms:"required"`
	FallbackMasks *yaml.Node           `yaml:"fallback_masks"`
}

type xmlTransformParams struct {
	Path           yaml.Node           `yaml:"path" ms:"required"`
	Masks          *yaml.Node          `yaml:"masks"`
	NodeTransforms []xmlNodeTransParam `yaml:"node_transforms"`
	OnMissing      string              `yaml:"on_missing"`
	OnNull         string              `yaml:"on_null"`
	// ForceConsistency is DataMasque's; equal values under the same masks
	// and hash input always get equal outputs here, so it is accepted and
	// always in effect.
	ForceConsistency bool `yaml:"force_consistency"`
}

type xmlNodeTransParam struct {
	Type       string     `yaml:"type" ms:"required"`
	Attributes *yaml.Node `yaml:"attributes"`
	Masks      yaml.Node  `yaml:"masks" ms:"required"`
}

// xmlTarget is one thing a transform masks: the text of the elements path
// selects, or one attribute of them.
type xmlTarget struct {
	path      *xmlPath
	attr      *xmlName // nil: the element text
	pipe      Pipeline
	onMissing string
	onNull    string
	what      string // "transform 2 (//a/@id)" for messages
}

type xmlMask struct {
	targets  []xmlTarget
	fallback Pipeline
}

// xmlMaxDepth bounds element nesting, as the engine bounds JSON nesting.
const xmlMaxDepth = 512

func newXMLMask(p *Params) (Mask, error) {
	var prm xmlParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	var errs []error
	fail := func(err error) { errs = append(errs, err) }
	if len(prm.Transforms) == 0 {
		return nil, p.Errorf("transforms is empty; list at least one {path: /a/b, masks: [...]}")
	}
	m := &xmlMask{}
	for i := range prm.Transforms {
		t := &prm.Transforms[i]
		if t.Path.Kind != yaml.ScalarNode || t.Path.ShortTag() != "!!str" {
			fail(p.ErrorAt(&t.Path, "transform %d: path is an XPath string such as /order/customer/email", i))
			continue
		}
		path, err := parseXPath(t.Path.Value)
		if err != nil {
			fail(p.ErrorAt(&t.Path, "transform %d: path %s: %v", i, t.Path.Value, err))
			continue
		}
		onMissing, onNull := "error", "skip"
		switch t.OnMissing {
		case "", "error":
		case "skip":
			onMissing = "skip"
		default:
			fail(p.ErrorAt(&t.Path, "transform %d: on_missing is skip or error, not %q", i, t.OnMissing))
		}
		switch t.OnNull {
		case "", "skip":
		case "mask", "error":
			onNull = t.OnNull
		default:
			fail(p.ErrorAt(&t.Path, "transform %d: on_null is skip, mask or error, not %q", i, t.OnNull))
		}
		what := "transform " + strconv.Itoa(i) + " (" + t.Path.Value + ")"
		add := func(attr *xmlName, masks *yaml.Node) {
			pl, err := p.nestedPipeline(masks, "masks", txtPipelineExample)
			if err != nil {
				fail(err)
				return
			}
			w := what
			if attr != nil && path.attr == nil {
				w = "transform " + strconv.Itoa(i) + " (" + t.Path.Value + "/@" + attr.String() + ")"
			}
			m.targets = append(m.targets, xmlTarget{path: &path, attr: attr, pipe: pl, onMissing: onMissing, onNull: onNull, what: w})
		}
		switch {
		case t.Masks != nil && len(t.NodeTransforms) > 0:
			fail(p.ErrorAt(&t.Path, "transform %d: give masks or node_transforms, not both", i))
		case t.Masks != nil:
			add(path.attr, t.Masks)
		case len(t.NodeTransforms) > 0:
			if path.attr != nil {
				fail(p.ErrorAt(&t.Path, "transform %d: a path that ends in an @attribute takes masks, not node_transforms", i))
				continue
			}
			for j := range t.NodeTransforms {
				nt := &t.NodeTransforms[j]
				switch nt.Type {
				case "text":
					if nt.Attributes != nil {
						fail(p.ErrorAt(nt.Attributes, "transform %d: node_transforms[%d]: attributes belongs to type: attribute", i, j))
						continue
					}
					add(nil, &nt.Masks)
				case "attribute":
					if nt.Attributes == nil {
						fail(p.ErrorAt(&nt.Masks, "transform %d: node_transforms[%d]: type attribute needs attributes: a name or a list of names", i, j))
						continue
					}
					names, err := xmlAttrNames(nt.Attributes)
					if err != nil {
						fail(p.ErrorAt(nt.Attributes, "transform %d: node_transforms[%d]: %v", i, j, err))
						continue
					}
					for _, a := range names {
						add(&a, &nt.Masks)
					}
				default:
					fail(p.ErrorAt(&nt.Masks, "transform %d: node_transforms[%d]: type is text or attribute, not %q", i, j, nt.Type))
				}
			}
		default:
			fail(p.ErrorAt(&t.Path, "transform %d: give masks (for the text or the @attribute the path selects) or node_transforms", i))
		}
	}
	if prm.FallbackMasks != nil {
		fb, err := p.nestedPipeline(prm.FallbackMasks, "fallback_masks", txtPipelineExample)
		if err != nil {
			fail(err)
		}
		m.fallback = fb
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// xmlAttrNames reads attributes: one name or a list of names.
func xmlAttrNames(n *yaml.Node) ([]xmlName, error) {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	}
	if len(items) == 0 {
		return nil, errors.New("attributes is a name or a non-empty list of names")
	}
	var out []xmlName
	for _, it := range items {
		name, rest, err := xpathName(strings.TrimPrefix(it.Value, "@"), true)
		if it.Kind != yaml.ScalarNode || err != nil || rest != "" {
			return nil, fmt.Errorf("%q is not an attribute name", it.Value)
		}
		out = append(out, name)
	}
	return out, nil
}

// xmlEdit replaces text[start:end] with s.
type xmlEdit struct {
	start, end int
	s          string
}

// errNotXML is the error for a value that does not parse; it never quotes
// the value.
type errNotXML struct {
	line int
	why  string
}

func (e *errNotXML) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("the value is not well-formed XML (%s, line %d); give fallback_masks to mask such values whole", e.why, e.line)
	}
	return fmt.Sprintf("the value is not well-formed XML (%s); give fallback_masks to mask such values whole", e.why)
}

func (m *xmlMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String {
		return Value{}, fmt.Errorf("xml takes a string holding an XML document, got %s", v.Kind)
	}
	out, err := m.mask(c, v.S)
	var nx *errNotXML
	if errors.As(err, &nx) && m.fallback != nil {
		return c.Run(m.fallback, v)
	}
	if err != nil {
		return Value{}, err
	}
	return Str(out), nil
}

// mask applies every transform, in order, to one document.
func (m *xmlMask) mask(c *Ctx, doc string) (string, error) {
	for i := range m.targets {
		if i > 0 && m.targets[i].path == m.targets[i-1].path {
			continue // node_transforms of one path run in the same pass
		}
		end := i + 1
		for end < len(m.targets) && m.targets[end].path == m.targets[i].path {
			end++
		}
		var err error
		if doc, err = m.pass(c, doc, m.targets[i:end]); err != nil {
			return "", err
		}
	}
	return doc, nil
}

// pass reads the document once and applies the targets of one transform,
// splicing the masked values into the original bytes.
func (m *xmlMask) pass(c *Ctx, doc string, targets []xmlTarget) (string, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	// The value arrived as a JSON string, so it is already Unicode,
	// whatever the declaration says.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	found := make([]int, len(targets))
	var (
		frames []xmlFrame
		edits  []xmlEdit
		doc0   = xmlFrame{} // the document node, parent of the root
		roots  int
	)
	parent := func() *xmlFrame {
		if len(frames) == 0 {
			return &doc0
		}
		return &frames[len(frames)-1]
	}
	for {
		off0 := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", xmlSyntax(err)
		}
		off1 := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			if len(frames) == 0 {
				if roots++; roots > 1 {
					return "", &errNotXML{line: xmlLine(doc, off0), why: "more than one root element"}
				}
			}
			if len(frames) >= xmlMaxDepth {
				return "", &errNotXML{line: xmlLine(doc, off0), why: "elements nested deeper than " + strconv.Itoa(xmlMaxDepth)}
			}
			pf := parent()
			pf.nchild++
			f := xmlFrame{prefix: t.Name.Space, local: t.Name.Local, posAny: pf.nchild, tagStart: off0, tagEnd: off1}
			f.posName = pf.countChild(f.prefix, f.local)
			f.selfClosing = off1-off0 >= 2 && doc[off1-2:off1] == "/>"
			frames = append(frames, f)
			if err := m.startElement(c, doc, frames, t.Attr, targets, found, &edits); err != nil {
				return "", err
			}
		case xml.EndElement:
			if len(frames) == 0 {
				return "", &errNotXML{line: xmlLine(doc, off0), why: "an end tag without a start tag"}
			}
			f := &frames[len(frames)-1]
			if f.prefix != t.Name.Space || f.local != t.Name.Local {
				return "", &errNotXML{line: xmlLine(doc, off0), why: "an end tag does not match its start tag"}
			}
			if len(f.targets) > 0 {
				if err := m.endElement(c, doc, f, off0, targets, &edits); err != nil {
					return "", err
				}
			}
			frames = frames[:len(frames)-1]
		case xml.CharData:
			if len(frames) == 0 {
				if strings.Trim(string(t), " \t\r\n\ufeff") != "" { // whitespace, or a byte order mark
					return "", &errNotXML{line: xmlLine(doc, off0), why: "text outside the root element"}
				}
				continue
			}
			if f := &frames[len(frames)-1]; len(f.targets) > 0 {
				f.text = append(f.text, t...)
				f.cdata = f.cdata || strings.HasPrefix(doc[off0:], "<![CDATA[")
			}
		case xml.Comment, xml.ProcInst:
			if len(frames) > 0 {
				frames[len(frames)-1].nonText = true
			}
		}
	}
	if len(frames) > 0 {
		return "", &errNotXML{line: xmlLine(doc, len(doc)), why: "an element is not closed"}
	}
	if roots == 0 {
		return "", &errNotXML{why: "no root element"}
	}
	for i, t := range targets {
		if found[i] == 0 && t.onMissing == "error" {
			return "", fmt.Errorf("%s found nothing in the document; set on_missing: skip if it may be absent", t.what)
		}
	}
	return xmlSplice(doc, edits), nil
}

// countChild counts a child element of f by name and returns its position
// among its same-name siblings.
func (f *xmlFrame) countChild(prefix, local string) int {
	if f.byName != nil {
		k := xmlChildKey{prefix, local}
		if i, ok := f.byName[k]; ok {
			f.children[i].n++
			return f.children[i].n
		}
		f.byName[k] = len(f.children)
		f.children = append(f.children, xmlChildCount{prefix: prefix, local: local, n: 1})
		return 1
	}
	for i := range f.children {
		if c := &f.children[i]; c.prefix == prefix && c.local == local {
			c.n++
			return c.n
		}
	}
	f.children = append(f.children, xmlChildCount{prefix: prefix, local: local, n: 1})
	if len(f.children) > xmlChildScan {
		f.byName = make(map[xmlChildKey]int, 2*len(f.children))
		for i, c := range f.children {
			f.byName[xmlChildKey{c.prefix, c.local}] = i
		}
	}
	return 1
}

// xmlChildScan is how many distinct child names a frame scans before it
// indexes them: a short scan beats a map for the common few.
const xmlChildScan = 16

// startElement applies attribute targets and registers text targets for
// the element just opened (the last frame).
func (m *xmlMask) startElement(c *Ctx, doc string, frames []xmlFrame, attrs []xml.Attr, targets []xmlTarget, found []int, edits *[]xmlEdit) error {
	f := &frames[len(frames)-1]
	if len(frames) > 1 {
		frames[len(frames)-2].nonText = true // it has a child element
	}
	var tag []xmlAttrSpan
	for ti := range targets {
		t := &targets[ti]
		if !t.path.match(frames) {
			continue
		}
		if t.attr == nil {
			found[ti]++
			f.targets = append(f.targets, ti)
			continue
		}
		for _, a := range attrs {
			if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" || !t.attr.matches(a.Name.Space, a.Name.Local) {
				continue
			}
			found[ti]++
			if tag == nil {
				tag = xmlAttrSpans(doc[f.tagStart:f.tagEnd])
			}
			k := slices.IndexFunc(tag, func(s xmlAttrSpan) bool { return s.prefix == a.Name.Space && s.local == a.Name.Local })
			if k < 0 {
				return &errNotXML{line: xmlLine(doc, f.tagStart), why: "an attribute could not be located"}
			}
			val := a.Value
			if tag[k].masked {
				val = tag[k].value
			}
			if val == "" && t.onNull != "mask" {
				if t.onNull == "error" {
					return fmt.Errorf("%s selects an empty attribute value; set on_null: skip or mask", t.what)
				}
				continue
			}
			out, err := c.runForText(t.pipe, txtNotText, val)
			if err != nil {
				return fmt.Errorf("%s: %w", t.what, err)
			}
			tag[k].value, tag[k].masked = out, true
		}
	}
	for _, s := range tag {
		if s.masked {
			*edits = append(*edits, xmlEdit{start: f.tagStart + s.start, end: f.tagStart + s.end, s: xmlEscapeAttr(s.value, s.quote)})
		}
	}
	return nil
}

// endElement applies the text targets of a closing element; off0 is
// where its end tag starts.
func (m *xmlMask) endElement(c *Ctx, doc string, f *xmlFrame, off0 int, targets []xmlTarget, edits *[]xmlEdit) error {
	if f.nchild > 0 {
		return fmt.Errorf("%s selects an element that has child elements; text masks apply to leaf elements, so select the children or an @attribute", targets[f.targets[0]].what)
	}
	text := string(f.text)
	changed := false
	for _, ti := range f.targets {
		t := &targets[ti]
		if text == "" && t.onNull != "mask" {
			if t.onNull == "error" {
				return fmt.Errorf("%s selects an empty element; set on_null: skip or mask", t.what)
			}
			continue
		}
		out, err := c.runForText(t.pipe, txtNotText, text)
		if err != nil {
			return fmt.Errorf("%s: %w", t.what, err)
		}
		text, changed = out, true
	}
	if !changed {
		return nil
	}
	body := xmlEscapeText(text, f.cdata && !f.nonText)
	if f.selfClosing {
		qname := f.local
		if f.prefix != "" {
			qname = f.prefix + ":" + f.local
		}
		*edits = append(*edits, xmlEdit{start: f.tagEnd - 2, end: f.tagEnd, s: ">" + body + "</" + qname + ">"})
		return nil
	}
	*edits = append(*edits, xmlEdit{start: f.tagEnd, end: off0, s: body})
	return nil
}

// xmlAttrSpan locates one attribute value inside a raw start tag.
type xmlAttrSpan struct {
	prefix, local string
	start, end    int // the value, without its quotes
	quote         byte
	value         string
	masked        bool
}

// xmlAttrSpans lists the attributes of a start tag the decoder accepted.
func xmlAttrSpans(tag string) []xmlAttrSpan {
	var out []xmlAttrSpan
	i := 1
	for i < len(tag) && !xmlSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++ // the element name
	}
	for {
		for i < len(tag) && xmlSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			return out
		}
		ns := i
		for i < len(tag) && tag[i] != '=' && !xmlSpace(tag[i]) {
			i++
		}
		name := tag[ns:i]
		for i < len(tag) && (xmlSpace(tag[i]) || tag[i] == '=') {
			i++
		}
		if i >= len(tag) {
			return out
		}
		q := tag[i]
		i++
		vs := i
		for i < len(tag) && tag[i] != q {
			i++
		}
		s := xmlAttrSpan{local: name, start: vs, end: i, quote: q}
		if p, l, ok := strings.Cut(name, ":"); ok {
			s.prefix, s.local = p, l
		}
		out = append(out, s)
		i++
	}
}

func xmlSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// xmlEscapeText writes masked text as element content: escaped, or as
// CDATA (split around any "]]>") when the original was CDATA.
func xmlEscapeText(s string, cdata bool) string {
	s = xmlValidChars(s)
	if cdata {
		return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#13;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// xmlEscapeAttr writes a masked attribute value for the quote the original
// used; whitespace is written as references so it survives attribute
// normalization.
func xmlEscapeAttr(s string, quote byte) string {
	s = xmlValidChars(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '"' && quote == '"':
			b.WriteString("&quot;")
		case c == '\'' && quote == '\'':
			b.WriteString("&apos;")
		case c == '\t':
			b.WriteString("&#9;")
		case c == '\n':
			b.WriteString("&#10;")
		case c == '\r':
			b.WriteString("&#13;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// xmlValidChars replaces what XML 1.0 cannot hold at all (control
// characters, invalid UTF-8) with U+FFFD, so a mask's output never breaks
// the document.
func xmlValidChars(s string) string {
	ok := true
	for _, r := range s {
		if !xmlCharOK(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !xmlCharOK(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func xmlCharOK(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return false
	case r < 0x20:
		return r == '\t' || r == '\n' || r == '\r'
	case r >= 0xFFFE && r <= 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
		return false
	}
	return true
}

// xmlSplice applies edits (in order, not overlapping) to doc.
func xmlSplice(doc string, edits []xmlEdit) string {
	if len(edits) == 0 {
		return doc
	}
	var b strings.Builder
	b.Grow(len(doc) + 64)
	last := 0
	for _, e := range edits {
		b.WriteString(doc[last:e.start])
		b.WriteString(e.s)
		last = e.end
	}
	b.WriteString(doc[last:])
	return b.String()
}

// xmlSyntax turns a decoder error into one that names the line but never
// the document's content (encoding/xml quotes tag names).
func xmlSyntax(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &errNotXML{line: se.Line, why: "syntax error"}
	}
	return &errNotXML{why: "unreadable"}
}

func xmlLine(doc string, off int) int {
	return 1 + strings.Count(doc[:min(off, len(doc))], "\n")
}
