package rulesets

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func key(k string) Segment  { return Segment{Kind: SegKey, Key: k} }
func idx(i int) Segment     { return Segment{Kind: SegIndex, Index: i} }
func desc(k string) Segment { return Segment{Kind: SegDescendant, Key: k} }

var wild = Segment{Kind: SegWildcard}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want []Segment
	}{
		{"$", nil},
		{"$.a", []Segment{key("a")}},
		{"$.a.b", []Segment{key("a"), key("b")}},
		{"$.customer_id", []Segment{key("customer_id")}},
		{"$.credit-card", []Segment{key("credit-card")}},
		{"$.id.$oid", []Segment{key("id"), key("$oid")}},
		{"$.naïve.ключ", []Segment{key("naïve"), key("ключ")}},
		{"$['credit-card'].cvv", []Segment{key("credit-card"), key("cvv")}},
		{`$["a b"]`, []Segment{key("a b")}},
		{`$['it\'s']`, []Segment{key("it's")}},
		{`$["say \"hi\""]`, []Segment{key(`say "hi"`)}},
		{`$['a\\b\/c\n\u00e9']`, []Segment{key("a\\b/c\né")}},
		{"$['']", []Segment{key("")}},
		{"$['a.b']", []Segment{key("a.b")}},
		{"$.items[*].sku", []Segment{key("items"), wild, key("sku")}},
		{"$.a[0]", []Segment{key("a"), idx(0)}},
		{"$.a[-1]", []Segment{key("a"), idx(-1)}},
		{"$.a[12][3]", []Segment{key("a"), idx(12), idx(3)}},
		{"$..email", []Segment{desc("email")}},
		{"$..['e-mail']", []Segment{desc("e-mail")}},
		{"$.a..b.c", []Segment{key("a"), desc("b"), key("c")}},
		{"$.*", []Segment{wild}},
		{"$[*]", []Segment{wild}},
		{"$[*].email", []Segment{wild, key("email")}},
		{"$[0]", []Segment{idx(0)}},
		{"$.a.*.b", []Segment{key("a"), wild, key("b")}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Text != tt.in || p.String() != tt.in {
				t.Errorf("Text = %q, want the input", p.Text)
			}
			if !reflect.DeepEqual(p.Segments, tt.want) {
				t.Errorf("Segments = %+v, want %+v", p.Segments, tt.want)
			}
			back, err := ParsePath(FormatPath(p.Segments))
			if err != nil || !reflect.DeepEqual(back.Segments, p.Segments) {
				t.Errorf("FormatPath = %q does not read back: %v %+v", FormatPath(p.Segments), err, back.Segments)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "the path is empty"},
		{"a.b", 0, `write "$.a.b"`},
		{".a", 0, `write "$.a"`},
		{"[0]", 0, `write "$[0]"`},
		{"$a", 1, "expected . or [ after"},
		{"$.", 2, "ends with a dot"},
		{"$.a.", 4, "ends with a dot"},
		{"$.['a']", 2, "a dot cannot come before a bracket"},
		{"$.a b", 3, `quote the name in brackets: $['a b']`},
		{"$.x.a b.c", 5, `quote the name in brackets: $.x['a b'].c`},
		{"$..it's[0]", 5, `quote the name in brackets: $..['it\'s'][0]`},
		{"$.a*", 3, "a * must stand alone"},
		{"$.a]", 3, "unexpected ] with no ["},
		{"$[", 1, "unclosed ["},
		{"$.a[0", 3, "unclosed [; add ]"},
		{"$.a[x]", 4, "unexpected 'x' in brackets"},
		{"$.a[]", 4, "empty brackets"},
		{"$.a[?(@.x)]", 4, "filter expressions"},
		{"$.a[0:2]", 5, "slices"},
		{"$.a[0,1]", 5, "unions"},
		{"$.a[01]", 4, "no leading zeros"},
		{"$.a[-0]", 4, "no leading zeros"},
		{"$.a[-]", 4, "expected digits after -"},
		{"$.a[99999999999]", 4, "out of range"},
		{"$.a[*x]", 5, "expected ] to close the [ at byte 3"},
		{"$['a", 2, "unclosed quote"},
		{`$['a\q']`, 4, `unknown escape \q`},
		{`$['\u12']`, 3, `\u needs four hex digits`},
		{`$['\ud800']`, 3, "surrogate"},
		{"$['a\tb']", 4, "control character"},
		{"$..", 1, "ends with .."},
		{"$...a", 3, "three dots"},
		{"$..*", 3, "$..* (every value at every depth) is not supported"},
		{"$..[0]", 1, "after .. give a member name"},
		{"$.a\xff", 3, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParsePath(tt.in)
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("want a *PathError, got %v", err)
			}
			if pe.Offset != tt.offset || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got offset %d %q; want offset %d containing %q", pe.Offset, pe.Msg, tt.offset, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "rulesets: path ") {
				t.Errorf("error text %q lacks the package prefix", err)
			}
		})
	}
}

func TestPathFromList(t *testing.T) {
	tests := []struct {
		in   []string
		text string
		want []Segment
	}{
		{nil, "$", []Segment{}},
		{[]string{"payment", "card_number"}, "$.payment.card_number", []Segment{key("payment"), key("card_number")}},
		{[]string{"items", "*", "sku"}, "$.items[*].sku", []Segment{key("items"), wild, key("sku")}},
		{[]string{"items", "0", "-1"}, "$.items[0][-1]", []Segment{key("items"), idx(0), idx(-1)}},
		{[]string{"a b", "it's", "01", "-0", ""}, `$['a b']['it\'s'].01.-0['']`, []Segment{key("a b"), key("it's"), key("01"), key("-0"), key("")}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			p := PathFromList(tt.in)
			if p.Text != tt.text || !reflect.DeepEqual(p.Segments, tt.want) {
				t.Errorf("got %q %+v, want %q %+v", p.Text, p.Segments, tt.text, tt.want)
			}
			back, err := ParsePath(p.Text)
			if err != nil || len(back.Segments) != len(p.Segments) || len(p.Segments) > 0 && !reflect.DeepEqual(back.Segments, p.Segments) {
				t.Errorf("Text does not read back: %v %+v", err, back.Segments)
			}
		})
	}
}

func TestPathFromNode(t *testing.T) {
	tests := []struct {
		yaml string
		text string
		want []Segment
		err  string
	}{
		{yaml: `"$.a[0]"`, text: "$.a[0]", want: []Segment{key("a"), idx(0)}},
		{yaml: `[a, 0, "0", '*', -2]`, text: "$.a[0].0[*][-2]", want: []Segment{key("a"), idx(0), key("0"), wild, idx(-2)}},
		{yaml: `[]`, text: "$", want: []Segment{}},
		{yaml: `"$.a["`, err: "3:1: bad path"},
		{yaml: `42`, err: "got a number (42)"},
		{yaml: `{a: b}`, err: "got a mapping"},
		{yaml: `[a, [b], ~]`, err: "a path list holds member names and indexes, got a list"},
		{yaml: `[a, 99999999999]`, err: "index 99999999999 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte("\n\n"+tt.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			p, err := PathFromNode(doc.Content[0], "f.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error containing %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Text != tt.text || !reflect.DeepEqual(p.Segments, tt.want) || p.Pos != (Pos{File: "f.yaml", Line: 3, Col: 1}) {
				t.Errorf("got %q %+v at %+v, want %q %+v at 3:1", p.Text, p.Segments, p.Pos, tt.text, tt.want)
			}
		})
	}
}

func ExampleParsePath() {
	p, err := ParsePath("$.orders[*]['credit-card'].number")
	if err != nil {
		panic(err)
	}
	for _, s := range p.Segments {
		switch s.Kind {
		case SegKey:
			fmt.Printf("member %q\n", s.Key)
		case SegWildcard:
			fmt.Println("every element")
		}
	}
	_, err = ParsePath("$.orders[*")
	fmt.Println(err)
	// Output:
	// member "orders"
	// every element
	// member "credit-card"
	// member "number"
	// rulesets: path "$.orders[*": at byte 8: unclosed [; add ]
}

// FuzzParsePath checks that ParsePath never panics, that a parsed path's
// Text reads back to the same segments, and that FormatPath writes a path
// that reads back to the same segments too.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"$", "$.a.b", "$['credit-card'].cvv", `$["a b"]`, "$.items[*].sku",
		"$.a[0]", "$.a[-1]", "$..email", "$.*", "$[*]", "$[*].email", `$['\u00e9\'']`, "$..['x y']", "$.a[", "a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		again, err := ParsePath(p.Text)
		if err != nil || !reflect.DeepEqual(again.Segments, p.Segments) {
			t.Fatalf("Text %q re-parses to %+v, %v; want %+v", p.Text, again.Segments, err, p.Segments)
		}
		canon := FormatPath(p.Segments)
		back, err := ParsePath(canon)
		if err != nil || !reflect.DeepEqual(back.Segments, p.Segments) {
			t.Fatalf("FormatPath %q re-parses to %+v, %v; want %+v", canon, back.Segments, err, p.Segments)
		}
	})
}
