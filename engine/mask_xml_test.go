package engine

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// xmlFixed builds an xml mask whose transforms replace with fixed text.
func xmlFixed(transforms string) string {
	return "type: xml\ntransforms:\n" + transforms
}

func TestXMLMask(t *testing.T) {
	tests := []struct {
		name, src, in, want string
	}{
		{"element text", xmlFixed(`  - {path: /order/customer/email, masks: [{type: from_fixed, value: "x@example.com"}]}`),
			`<order><customer><email>jane@corp.com</email><name>Jane</name></customer></order>`,
			`<order><customer><email>x@example.com</email><name>Jane</name></customer></order>`},
		{"everything else kept byte for byte", xmlFixed(`  - {path: //email, masks: [{type: from_fixed, value: "X"}]}`),
			"<?xml version='1.0' encoding='ISO-8859-1'?>\n<!DOCTYPE order>\n<!-- before -->\n<order  id = 'A&amp;1'\txmlns=\"urn:o\" >\n  <email kind=\"work\">a@b.co</email><!-- c -->\n  <?pi data?>\n</order>\n",
			"<?xml version='1.0' encoding='ISO-8859-1'?>\n<!DOCTYPE order>\n<!-- before -->\n<order  id = 'A&amp;1'\txmlns=\"urn:o\" >\n  <email kind=\"work\">X</email><!-- c -->\n  <?pi data?>\n</order>\n"},
		{"byte order mark kept", xmlFixed(`  - {path: /a, masks: [{type: from_fixed, value: "V"}]}`),
			"\ufeff<a>1</a>\n", "\ufeff<a>V</a>\n"},
		{"relative path starts at the document", xmlFixed(`  - {path: order/id, masks: [{type: from_fixed, value: "0"}]}`),
			`<order><id>7</id></order>`, `<order><id>0</id></order>`},
		{"descendants", xmlFixed(`  - {path: //name, masks: [{type: from_fixed, value: "N"}]}`),
			`<a><name>x</name><b><c><name>y</name></c></b></a>`, `<a><name>N</name><b><c><name>N</name></c></b></a>`},
		{"descendants below a step", xmlFixed(`  - {path: /a/b//name, masks: [{type: from_fixed, value: "N"}]}`),
			`<a><name>x</name><b><c><name>y</name></c><name>z</name></b></a>`, `<a><name>x</name><b><c><name>N</name></c><name>N</name></b></a>`},
		{"wildcard", xmlFixed(`  - {path: /a/*/v, masks: [{type: from_fixed, value: "V"}]}`),
			`<a><b><v>1</v></b><c><v>2</v></c><v>3</v></a>`, `<a><b><v>V</v></b><c><v>V</v></c><v>3</v></a>`},
		{"position", xmlFixed(`  - {path: "/a/item[2]/v", masks: [{type: from_fixed, value: "V"}]}`),
			`<a><item><v>1</v></item><other/><item><v>2</v></item><item><v>3</v></item></a>`,
			`<a><item><v>1</v></item><other/><item><v>V</v></item><item><v>3</v></item></a>`},
		{"wildcard position counts every element", xmlFixed(`  - {path: "/a/*[2]", masks: [{type: from_fixed, value: "V"}]}`),
			`<a><x>1</x><y>2</y><x>3</x></a>`, `<a><x>1</x><y>V</y><x>3</x></a>`},
		{"text()", xmlFixed(`  - {path: /a/b/text(), masks: [{type: transform_case, case: uppercase}]}`),
			`<a><b>hi</b></a>`, `<a><b>HI</b></a>`},
		{"attribute", xmlFixed(`  - {path: /a/b/@id, masks: [{type: from_fixed, value: "0"}]}`),
			`<a><b id="42" x='y'>t</b><b id='43'/></a>`, `<a><b id="0" x='y'>t</b><b id='0'/></a>`},
		{"attribute anywhere", xmlFixed(`  - {path: //@ssn, masks: [{type: from_fixed, value: "000-00-0000"}]}`),
			`<a ssn="1"><b><c ssn="2"/></b></a>`, `<a ssn="000-00-0000"><b><c ssn="000-00-0000"/></b></a>`},
		{"attribute escaping per quote", xmlFixed(`  - {path: //@v, masks: [{type: from_fixed, value: "a\"b'c<d&e\tf"}]}`),
			`<a v="1"><b v='2'/></a>`, `<a v="a&quot;b'c&lt;d&amp;e&#9;f"><b v='a"b&apos;c&lt;d&amp;e&#9;f'/></a>`},
		{"text escaping", xmlFixed(`  - {path: /a, masks: [{type: from_fixed, value: "x < y & z > w"}]}`),
			`<a>1 &amp; 2</a>`, `<a>x &lt; y &amp; z &gt; w</a>`},
		{"masks see decoded text", xmlFixed(`  - {path: /a, masks: [{type: transform_case, case: uppercase}]}`),
			`<a>fish &amp; chips &#233;</a>`, `<a>FISH &amp; CHIPS É</a>`},
		{"cdata kept as cdata", xmlFixed(`  - {path: /a, masks: [{type: from_fixed, value: "x]]>y"}]}`),
			`<a><![CDATA[secret <b>]]></a>`, `<a><![CDATA[x]]]]><![CDATA[>y]]></a>`},
		{"prefixed names", xmlFixed(`  - {path: /s:Envelope/s:Body/p:card, masks: [{type: from_fixed, value: "C"}]}`),
			`<s:Envelope xmlns:s="urn:s" xmlns:p="urn:p"><s:Body><p:card>4111</p:card><card>x</card></s:Body></s:Envelope>`,
			`<s:Envelope xmlns:s="urn:s" xmlns:p="urn:p"><s:Body><p:card>C</p:card><card>x</card></s:Body></s:Envelope>`},
		{"unprefixed names match any prefix", xmlFixed(`  - {path: /Envelope/Body/card, masks: [{type: from_fixed, value: "C"}]}`),
			`<s:Envelope xmlns:s="urn:s"><s:Body><card xmlns="urn:d">4111</card></s:Body></s:Envelope>`,
			`<s:Envelope xmlns:s="urn:s"><s:Body><card xmlns="urn:d">C</card></s:Body></s:Envelope>`},
		{"namespace declarations are not attributes", xmlFixed(`  - {path: //@xmlns, masks: [{type: from_fixed, value: "x"}], on_missing: skip}`),
			`<a xmlns="urn:a"/>`, `<a xmlns="urn:a"/>`},
		{"prefixed attribute", xmlFixed(`  - {path: //@xlink:href, masks: [{type: from_fixed, value: "#"}]}`),
			`<a xmlns:xlink="urn:x"><l xlink:href="http://x" href="keep"/></a>`, `<a xmlns:xlink="urn:x"><l xlink:href="#" href="keep"/></a>`},
		{"empty element skipped by default", xmlFixed(`  - {path: //v, masks: [{type: from_fixed, value: "V"}]}`),
			`<a><v/><v></v><v>1</v></a>`, `<a><v/><v></v><v>V</v></a>`},
		{"empty element masked with on_null: mask", xmlFixed(`  - {path: //v, masks: [{type: from_fixed, value: "V"}], on_null: mask}`),
			`<a><v/><v></v><p:v xmlns:p="urn:p" /></a>`, `<a><v>V</v><v>V</v><p:v xmlns:p="urn:p" >V</p:v></a>`},
		{"force_consistency accepted", xmlFixed(`  - {path: /a, masks: [{type: from_fixed, value: "V"}], force_consistency: true}`),
			`<a>1</a>`, `<a>V</a>`},
		{"missing skipped", xmlFixed(`  - {path: /a/nope, masks: [{type: from_fixed, value: "V"}], on_missing: skip}`),
			`<a>1</a>`, `<a>1</a>`},
		{"node_transforms", xmlFixed(`  - path: //customer
    node_transforms:
      - {type: attribute, attributes: [id, "@ref"], masks: [{type: from_fixed, value: "0"}]}
      - {type: attribute, attributes: id, masks: [{type: transform_case, case: uppercase}]}`),
			`<c><customer id="a1" ref="r" other="o"/></c>`, `<c><customer id="0" ref="0" other="o"/></c>`},
		{"node_transforms text", xmlFixed(`  - path: //name
    node_transforms:
      - {type: text, masks: [{type: transform_case, case: uppercase}]}
      - {type: text, masks: [{type: take_substring, start_index: 0, end_index: 2}]}`),
			`<a><name>jane</name></a>`, `<a><name>JA</name></a>`},
		{"transforms run in order on the output", xmlFixed(`  - {path: /a/b, masks: [{type: from_fixed, value: "first"}]}
  - {path: /a/b, masks: [{type: transform_case, case: uppercase}]}`),
			`<a><b>x</b></a>`, `<a><b>FIRST</b></a>`},
		{"control characters from a mask are replaced", xmlFixed(`  - {path: /a, masks: [{type: from_fixed, value: "a\u0001b"}]}`),
			`<a>x</a>`, "<a>a\ufffdb</a>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := txtKit.testMask(t, tt.src)
			got := txtMust(t, pl, tt.in)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if err := xmlWellFormed(got); err != nil {
				t.Errorf("output is not well-formed: %v", err)
			}
		})
	}
}

// xmlWellFormed parses a document to the end with encoding/xml's checks.
func xmlWellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestTextMasksConcurrent(t *testing.T) {
	for _, src := range []string{
		"{type: unstructured_text, preset: pii}",
		xmlFixed(`  - {path: //note, masks: [{type: unstructured_text, preset: pii}]}`),
	} {
		pl := txtKit.testMask(t, src)
		in := "<r><note>" + strings.ReplaceAll(txtNote, "<", "(") + "</note></r>"
		want := txtMust(t, pl, in)
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					out, err := txtKit.run(pl, txtSecret, Str(in), nil)
					if err != nil || out.S != want {
						errs <- fmt.Sprintf("concurrent apply: %q, %v", out.S, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}

func TestXMLMaskDeterminism(t *testing.T) {
	pl := txtKit.testMask(t, xmlFixed(`  - {path: //email, masks: [{type: hash, length: 12}]}`))
	doc := `<a><email>jane@corp.com</email><x><email>jane@corp.com</email></x><email>joe@corp.com</email></a>`
	a := txtMust(t, pl, doc)
	if b := txtMust(t, pl, doc); a != b {
		t.Errorf("same secret: %q then %q", a, b)
	}
	o, err := txtKit.run(pl, txtOtherSecret, Str(doc), nil)
	if err != nil || o.S == a {
		t.Errorf("another secret gave %q, %v", o.S, err)
	}
	if strings.Contains(a, "jane@corp.com") || strings.Contains(a, "joe@corp.com") {
		t.Errorf("an original value survived: %q", a)
	}
	var d struct {
		Email []string `xml:"email"`
		X     struct {
			Email string `xml:"email"`
		} `xml:"x"`
	}
	if err := xml.Unmarshal([]byte(a), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Email) != 2 || d.Email[0] != d.X.Email || d.Email[0] == d.Email[1] {
		t.Errorf("equal values must mask alike and different ones differently: %q", a)
	}
}

func TestXMLMaskUnstructuredInside(t *testing.T) {
	pl := txtKit.testMask(t, xmlFixed(`  - {path: //note, masks: [{type: unstructured_text, preset: pii}]}`))
	out := txtMust(t, pl, `<t><note>call 415-555-2671 &amp; mail a@corp.com</note></t>`)
	if strings.Contains(out, "415-555-2671") || strings.Contains(out, "a@corp.com") || !strings.Contains(out, " &amp; mail ") {
		t.Errorf("got %q", out)
	}
}

func TestXMLMaskErrors(t *testing.T) {
	pl := txtKit.testMask(t, xmlFixed(`  - {path: /a/b, masks: [{type: from_fixed, value: "V"}]}`))
	tests := []struct {
		name string
		in   Value
		want string
	}{
		{"not a string", Int(5), "takes a string holding an XML document, got number"},
		{"not xml", Str("secret-token not xml"), "not well-formed XML"},
		{"unclosed", Str("<a><b>secret</b>"), "an element is not closed"},
		{"mismatched", Str("<a><b>secret</c></a>"), "line 1"},
		{"two roots", Str("<a><b>1</b></a><a/>"), "more than one root element"},
		{"text outside the root", Str("<a><b>1</b></a>secret"), "text outside the root element"},
		{"empty", Str(""), "no root element"},
		{"undefined entity", Str("<a><b>&secret;</b></a>"), "syntax error"},
		{"missing", Str("<a><c>1</c></a>"), "transform 0 (/a/b) found nothing"},
		{"element with children", Str("<a><b><c>1</c></b></a>"), "has child elements"},
		{"too deep", Str(strings.Repeat("<a>", 600) + strings.Repeat("</a>", 600)), "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := txtKit.run(pl, txtSecret, tt.in, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error quotes the document: %v", err)
			}
		})
	}
	strict := txtKit.testMask(t, xmlFixed(`  - {path: //v, masks: [{type: from_fixed, value: "V"}], on_null: error}
  - {path: //@w, masks: [{type: from_fixed, value: "V"}], on_null: error}`))
	for _, in := range []string{`<a><v/></a>`, `<a><v>1</v><x w=""/></a>`} {
		if _, err := txtKit.run(strict, txtSecret, Str(in), nil); err == nil || !strings.Contains(err.Error(), "on_null") {
			t.Errorf("%s: error %v, want the on_null refusal", in, err)
		}
	}
}

func TestXMLMaskFallback(t *testing.T) {
	pl := txtKit.testMask(t, xmlFixed(`  - {path: /a, masks: [{type: from_fixed, value: "V"}]}
fallback_masks: [{type: from_fixed, value: "<redacted/>"}]`))
	if got := txtMust(t, pl, "not xml at all"); got != "<redacted/>" {
		t.Errorf("fallback gave %q", got)
	}
	if got := txtMust(t, pl, "<a>1</a>"); got != "<a>V</a>" {
		t.Errorf("valid XML gave %q", got)
	}
	// A path that finds nothing is not a parse failure: no fallback.
	if _, err := txtKit.run(pl, txtSecret, Str("<b/>"), nil); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("missing path: error %v", err)
	}
}

func TestXMLMaskBadParams(t *testing.T) {
	bad := func(name, path, pos, want string) maskBadCase {
		return maskBadCase{name, xmlFixed("  - {path: '" + path + "', masks: [{type: do_nothing}]}"), pos, want}
	}
	txtKit.checkBad(t, []maskBadCase{
		{"no transforms", "type: xml", "1:1", `missing required key "transforms"`},
		{"empty transforms", "type: xml\ntransforms: []", "1:1", "transforms is empty"},
		{"unknown key", "type: xml\ntransforms: [{path: /a, masks: [{type: do_nothing}], mask: x}]", "2:54", `unknown key "mask"`},
		{"path not a string", "type: xml\ntransforms: [{path: [a, b], masks: [{type: do_nothing}]}]", "2:21", "path is an XPath string"},
		bad("empty path", "", "3:12", "the path is empty"),
		bad("trailing slash", "/a/", "3:12", "ends with a slash"),
		bad("value predicate", `/a[@id="x"]`, "3:12", "only position predicates"),
		bad("zero position", "/a[0]", "3:12", "only position predicates"),
		bad("unclosed predicate", "/a[1", "3:12", "not closed"),
		bad("two predicates", "/a[1][2]", "3:12", "only one position predicate"),
		bad("parent step", "/a/../b", "3:12", "are not supported"),
		bad("self step", "./a", "3:12", "are not supported"),
		bad("axis", "/a/child::b", "3:12", "axes such as child::"),
		bad("function", "/a/count(b)", "3:12", "functions such as count()"),
		bad("union", "/a|/b", "3:12", "unions"),
		bad("attribute not last", "/a/@id/b", "3:12", "must be the last step"),
		bad("bare attribute", "@id", "3:12", "needs an element step"),
		bad("attribute wildcard", "/a/@*", "3:12", "@* is not supported"),
		bad("text not last", "/a/text()/b", "3:12", "text() must be the last step"),
		bad("bare text", "text()", "3:12", "text() needs an element step"),
		bad("garbage", "/a b", "3:12", "unexpected text after a step"),
		bad("prefix without name", "/a:", "3:12", "a prefix must be followed by a name"),
		{"masks and node_transforms", xmlFixed("  - {path: /a, masks: [{type: do_nothing}], node_transforms: [{type: text, masks: [{type: do_nothing}]}]}"), "3:12", "not both"},
		{"neither", xmlFixed("  - {path: /a}"), "3:12", "give masks"},
		{"bad on_missing", xmlFixed("  - {path: /a, masks: [{type: do_nothing}], on_missing: ignore}"), "3:12", "on_missing is skip or error"},
		{"bad on_null", xmlFixed("  - {path: /a, masks: [{type: do_nothing}], on_null: ignore}"), "3:12", "on_null is skip, mask or error"},
		{"bad node type", xmlFixed("  - {path: /a, node_transforms: [{type: comment, masks: [{type: do_nothing}]}]}"), "3:57", "type is text or attribute"},
		{"attribute without names", xmlFixed("  - {path: /a, node_transforms: [{type: attribute, masks: [{type: do_nothing}]}]}"), "3:59", "needs attributes"},
		{"bad attribute name", xmlFixed("  - {path: /a, node_transforms: [{type: attribute, attributes: ['1x'], masks: [{type: do_nothing}]}]}"), "3:64", "is not an attribute name"},
		{"attributes on text", xmlFixed("  - {path: /a, node_transforms: [{type: text, attributes: [x], masks: [{type: do_nothing}]}]}"), "3:59", "attributes belongs to type: attribute"},
		{"node_transforms on an attribute path", xmlFixed("  - {path: /a/@id, node_transforms: [{type: text, masks: [{type: do_nothing}]}]}"), "3:12", "takes masks, not node_transforms"},
		{"bad nested mask", xmlFixed("  - {path: /a, masks: [{type: no_such_mask}]}"), "3:24", "unknown mask type"},
		{"bad fallback", xmlFixed("  - {path: /a, masks: [{type: do_nothing}]}\nfallback_masks: []"), "4:17", "fallback_masks must be a non-empty list"},
	})
}

// FuzzXML checks the xml mask on any input: a masked document or a clean
// error, never a panic; a masked document is well-formed when the input
// was; and errors never quote the input.
func FuzzXML(f *testing.F) {
	for _, s := range []string{
		`<order id="1"><customer><email>a@b.co</email><name>Jane</name></customer></order>`,
		"<?xml version=\"1.0\"?>\n<!-- c --><a xmlns:p=\"urn:p\"><p:b p:id='x'>1</p:b><b/><![CDATA[z]]></a>",
		`<a><b>1 &amp; 2</b><b id="&lt;"/><c><b>3</b></c></a>`,
		`<a><b>`, `</a>`, `<a></b>`, `text`, ``, `<a/><a/>`, `<a b="1" b="2"/>`,
	} {
		f.Add(s)
	}
	pl, err := txtKit.tryMask(xmlFixed(`  - {path: //b, masks: [{type: from_fixed, value: "M<&>"}], on_missing: skip, on_null: mask}
  - {path: //@id, masks: [{type: hash, length: 8}], on_missing: skip}
  - {path: "/a/*[1]", masks: [{type: from_fixed, value: "z"}], on_missing: skip}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		out, err := txtKit.run(pl, txtSecret, Str(doc), nil)
		if err != nil {
			if len(doc) >= 8 && strings.Contains(err.Error(), doc) {
				t.Fatalf("the error quotes the input: %v", err)
			}
			return
		}
		if out.Kind != String {
			t.Fatalf("returned a %s", out.Kind)
		}
		if xmlWellFormed(doc) == nil {
			if err := xmlWellFormed(out.S); err != nil {
				t.Fatalf("well-formed input gave a broken output %q: %v", out.S, err)
			}
		}
	})
}

// TestXMLCountChildManyNames: a frame with many distinctly named children
// indexes them (a linear scan per child made such documents quadratic) and
// still counts positions among same-name siblings.
func TestXMLCountChildManyNames(t *testing.T) {
	for _, n := range []int{3, xmlChildScan, xmlChildScan + 1, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var f xmlFrame
			for i := range n {
				if got := f.countChild("", fmt.Sprintf("e%d", i)); got != 1 {
					t.Fatalf("first e%d counted %d", i, got)
				}
			}
			for _, i := range []int{0, n / 2, n - 1} {
				if got := f.countChild("", fmt.Sprintf("e%d", i)); got != 2 {
					t.Errorf("second e%d counted %d, want 2", i, got)
				}
			}
			if indexed := f.byName != nil; indexed != (n > xmlChildScan) {
				t.Errorf("%d names: indexed = %v", n, indexed)
			}
			if got := f.countChild("ns", "e0"); got != 1 {
				t.Errorf("ns:e0 counted %d, want 1 (another name)", got)
			}
		})
	}
}
