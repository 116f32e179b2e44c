package rulesets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func mustParseFile(t *testing.T, path string) *Ruleset {
	t.Helper()
	rs, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func pathTexts(ps []Path) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Text
	}
	return out
}

func TestParseDesign(t *testing.T) {
	rs := mustParseFile(t, "testdata/design.good.yaml")
	if rs.Name != "design.good" || rs.Version != "1.0" {
		t.Errorf("name %q version %q", rs.Name, rs.Version)
	}
	if len(rs.SkipDefaults) != 2 || !rs.SkipDefaults[0].Null || rs.SkipDefaults[1] != (Scalar{Text: "", Tag: strTag}) {
		t.Errorf("skip_defaults = %+v", rs.SkipDefaults)
	}
	if !rs.RedactSecrets || rs.Key == nil || len(rs.Key.Masks) != 1 || rs.Key.Masks[0].Type != "imitate" {
		t.Errorf("redact %v key %+v", rs.RedactSecrets, rs.Key)
	}
	if len(rs.Headers) != 1 || rs.Headers[0].Name != "Authorization" || rs.Headers[0].Masks[0].Type != "from_fixed" {
		t.Errorf("headers = %+v", rs.Headers)
	}
	tests := []struct {
		name, paths, hash, masks string
		conditional              bool
	}{
		{"0", "$.customer.customer_id", "", "imitate_unique", false},
		{"1", "$.customer.first_name", "$.customer.customer_id", "from_file", false},
		{"2", "$.customer.email,$..contact_email", "", "from_format_string", false},
		{"3", "$.note", "", "unstructured_text", false},
		{"4", "", "", "", true},
		{"5", "", "", "json", false},
	}
	if len(rs.Rules) != len(tests) {
		t.Fatalf("%d rules, want %d", len(rs.Rules), len(tests))
	}
	for i, tt := range tests {
		r := rs.Rules[i]
		var masks []string
		for _, m := range r.Masks {
			masks = append(masks, m.Type)
			if m.File != "testdata/design.good.yaml" || m.Node == nil || m.Node.Kind != yaml.MappingNode || m.Pos.Line == 0 {
				t.Errorf("rule %d mask %s: file %q node %v pos %+v", i, m.Type, m.File, m.Node, m.Pos)
			}
		}
		got := []string{r.Name, strings.Join(pathTexts(r.Paths), ","), strings.Join(pathTexts(r.HashSources), ","), strings.Join(masks, ",")}
		want := []string{tt.name, tt.paths, tt.hash, tt.masks}
		if strings.Join(got, "|") != strings.Join(want, "|") || r.IsConditional() != tt.conditional {
			t.Errorf("rule %d = %q conditional %v, want %q %v", i, got, r.IsConditional(), want, tt.conditional)
		}
		if r.OnNull != ActionSkip || !r.IsConditional() && r.OnMissing != ActionSkip && i != 4 {
			t.Errorf("rule %d defaults: on_missing %q on_null %q", i, r.OnMissing, r.OnNull)
		}
	}
	cond := rs.Rules[4]
	if len(cond.If) != 1 || cond.If[0].Op != "equals" || cond.If[0].Value != (Scalar{Text: "NZ", Tag: strTag}) || cond.If[0].Path.Text != "$.country" {
		t.Errorf("if = %+v", cond.If)
	}
	if len(cond.Rules) != 1 || cond.Rules[0].Name != "4.rules.0" || len(cond.ElseRules) != 1 || cond.ElseRules[0].Name != "4.else_rules.0" {
		t.Errorf("nested rules: %+v / %+v", cond.Rules, cond.ElseRules)
	}
	if cond.ElseRules[0].OnMissing != ActionError {
		t.Errorf("else rule on_missing = %q", cond.ElseRules[0].OnMissing)
	}
	if rs.Rules[0].Pos != (Pos{File: "testdata/design.good.yaml", Line: 10, Col: 5}) {
		t.Errorf("rule 0 at %+v", rs.Rules[0].Pos)
	}
}

func TestParseConditions(t *testing.T) {
	rs := mustParseFile(t, "testdata/conditions.good.yaml")
	r := rs.Rules[0]
	if r.Name != "by-country" || len(r.If) != 5 {
		t.Fatalf("rule %q with %d conditions", r.Name, len(r.If))
	}
	c := r.If
	if c[1].Op != "greater_than_or_equal" || c[1].Path.Text != "$.customer.age" || c[1].Value != (Scalar{Text: "18", Tag: intTag}) {
		t.Errorf("json_path list condition: %+v", c[1])
	}
	or := c[2].Or
	if len(or) != 2 || or[0].Op != "in" || len(or[0].Values) != 2 || or[0].Values[1].Text != "platinum" || or[1].Pattern != `@example\.(com|org)$` {
		t.Errorf("or: %+v", or)
	}
	if c[3].Not == nil || c[3].Not.Op != "is_null" || c[3].Not.Value != (Scalar{Text: "false", Tag: boolTag}) {
		t.Errorf("not: %+v", c[3].Not)
	}
	and := c[4].And
	ops := []string{}
	for _, x := range and {
		ops = append(ops, x.Op)
	}
	if strings.Join(ops, ",") != "less_than,less_than_or_equal,greater_than,not_equals,is_missing" {
		t.Errorf("and ops: %v", ops)
	}
	if and[3].Value != (Scalar{Text: "2020-01-01", Tag: strTag}) {
		t.Errorf("date value: %+v", and[3].Value)
	}
	if len(r.Rules) != 2 || r.Rules[1].Name != "by-country.rules.1" && r.Rules[1].Name != "0.rules.1" {
		t.Errorf("nested names: %q", r.Rules[1].Name)
	}
	if r.Rules[1].Rules[0].Name != "0.rules.1.rules.0" {
		t.Errorf("doubly nested name %q", r.Rules[1].Rules[0].Name)
	}
	if r.ElseRules[0].OnNull != ActionError {
		t.Errorf("on_null: error -> %q", r.ElseRules[0].OnNull)
	}
	if second := rs.Rules[1]; len(second.Rules) != 0 || len(second.ElseRules) != 1 {
		t.Errorf("empty rules with else_rules: %+v", second)
	}
}

func TestParseHashSourcesAndInflight(t *testing.T) {
	rs := mustParseFile(t, "testdata/hash-sources.good.yaml")
	want := []string{"$.customer.id", "$.customer.account[0]", "$.customer.0", "$['customer']['national-id']", "$.items[*].sku"}
	if got := pathTexts(rs.Rules[0].HashSources); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hash_sources = %q, want %q", got, want)
	}
	if hs := rs.Rules[0].HashSources[2].Segments; len(hs) != 2 || hs[1] != key("0") {
		t.Errorf("a quoted \"0\" is a member name: %+v", hs)
	}
	if rs.Rules[1].HashSources != nil {
		t.Errorf("hash_sources: null = %+v", rs.Rules[1].HashSources)
	}

	rs = mustParseFile(t, "testdata/inflight.good.yaml")
	if len(rs.Rules) != 2 || len(rs.Rules[0].Paths) != 0 || rs.Rules[1].Masks[0].Type != "json" {
		t.Errorf("in-flight rules: %+v", rs.Rules)
	}
}

func TestParseAnchors(t *testing.T) {
	rs := mustParseFile(t, "testdata/anchors.good.yaml")
	if len(rs.Rules) != 3 {
		t.Fatalf("%d rules", len(rs.Rules))
	}
	if rs.Rules[0].Paths[0].Text != "$.email" || rs.Rules[1].Paths[0].Text != "$.backup_email" || rs.Rules[1].Masks[0].Type != "from_format_string" {
		t.Errorf("aliased rules: %+v / %+v", rs.Rules[0], rs.Rules[1])
	}
	m := rs.Rules[2].Masks[0]
	var p struct {
		Value string `yaml:"value"`
	}
	if err := DecodeParams(m.Node, m.File, &p, "type"); err != nil || m.Type != "from_fixed" || p.Value != "[HIDDEN]" {
		t.Errorf("merged mask %s: %+v, %v", m.Type, p, err)
	}
	for i := 0; i+1 < len(m.Node.Content); i += 2 {
		if m.Node.Content[i].Value == "<<" {
			t.Error("the mask node still holds a merge key")
		}
	}
}

func TestParseKeyHeaders(t *testing.T) {
	rs := mustParseFile(t, "testdata/key-headers.good.yaml")
	if rs.RedactSecrets || rs.SkipDefaults != nil || rs.Key == nil || len(rs.Headers) != 2 || rs.Headers[1].Name != "x-customer-email" || len(rs.Rules) != 0 {
		t.Errorf("%+v", rs)
	}
}

func TestParseUpload(t *testing.T) {
	src := []byte("version: \"1.0\"\nrules:\n  - path: \"$.a\"\n    masks: [ { type: imitate } ]\n")
	rs, err := Parse("orders", "", src)
	if err != nil {
		t.Fatal(err)
	}
	src[0] = 'X'
	if rs.Name != "orders" || rs.Dir != "" || rs.Source[0] != 'v' {
		t.Errorf("name %q dir %q source %q", rs.Name, rs.Dir, rs.Source)
	}
	_, err = Parse("orders", "", []byte("version: 1.0\nrules: []\n"))
	want := "1:10: version must be a quoted string: write version: \"1.0\" (unquoted, YAML reads 1.0 as a number)\n" +
		"2:8: rules is empty"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("upload errors carry line:col without a file: %v", err)
	}
}

func TestParseLimits(t *testing.T) {
	big := make([]byte, MaxRulesetBytes+1)
	if _, err := Parse("x", "x.yaml", big); err == nil || !strings.Contains(err.Error(), "x.yaml:1:1: the ruleset is") {
		t.Errorf("oversized: %v", err)
	}
	// Nine levels of tenfold aliases would expand to 10^9 nodes.
	var b strings.Builder
	b.WriteString("version: \"1.0\"\nmask_definitions:\n  - &a0 {type: imitate}\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("  - &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("rules: [ { masks: [ {type: concat, masks: *a9} ] } ]\n")
	_, err := Parse("x", "x.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("alias bomb: %v", err)
	}
}

func TestParseMasks(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // error substrings; none means it parses
		n    int
	}{
		{name: "two masks", yaml: "[ {type: imitate}, {type: hash, length: 8} ]", n: 2},
		{name: "unknown type is the engine's", yaml: "[ {type: no_such_mask} ]", n: 1},
		{name: "each inapplicable type", yaml: "[ {type: from_column}, {type: from_unique}, {type: secure_shuffle}, {type: from_blob} ]",
			want: []string{"from_column cannot apply", "from_unique cannot apply", "secure_shuffle cannot apply", "from_blob cannot apply"}},
		{name: "replace_regex masks", yaml: "[ {type: replace_regex, regex: 'a', masks: [ {type: from_column} ]} ]", want: []string{"from_column cannot apply"}},
		{name: "ai_detect in a nested unstructured_text", yaml: "[ {type: chain, masks: [ {type: unstructured_text, matchers: {ai_detect: []}} ]} ]",
			want: []string{"ai_detect matcher"}},
		{name: "matchers of another type are not checked", yaml: "[ {type: other, matchers: {ai_detect: []}} ]", n: 1},
		{name: "not a list", yaml: "{type: imitate}", want: []string{"masks takes a list of masks"}},
		{name: "empty", yaml: "[]", want: []string{"masks is empty"}},
		{name: "null", yaml: "~", want: []string{"masks takes a list of masks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			ms, err := ParseMasks(doc.Content[0], "m.yaml")
			if len(tt.want) == 0 {
				if err != nil || len(ms) != tt.n {
					t.Fatalf("got %d masks, %v; want %d", len(ms), err, tt.n)
				}
				return
			}
			if got := Errors(err); len(got) != len(tt.want) {
				t.Errorf("got %d errors, want %d: %v", len(got), len(tt.want), err)
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("no error contains %q: %v", w, err)
				}
			}
		})
	}
	if _, err := ParseMasks(nil, "m.yaml"); err == nil {
		t.Error("nil node: want an error")
	}
}

func TestParseFileErrors(t *testing.T) {
	_, err := ParseFile("testdata/no-such-file.yaml")
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "rulesets: ") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ParseFile("testdata"); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "orders.yml")
	if err := os.WriteFile(file, []byte("version: \"1.0\"\nrules: [ {masks: [ {type: imitate} ]} ]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := mustParseFile(t, file)
	if rs.Name != "orders" || rs.Dir != dir {
		t.Errorf("name %q dir %q", rs.Name, rs.Dir)
	}
}

func TestNameOf(t *testing.T) {
	for in, want := range map[string]string{
		"a/b/orders.yaml": "orders", "orders.yml": "orders", "x.y.yaml": "x.y", ".yaml": ".yaml", "noext": "noext", "a.json": "a.json",
	} {
		if got := NameOf(in); got != want {
			t.Errorf("NameOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse checks that Parse never panics, that every error it reports
// has a line, and that a ruleset it accepts has a mask in every masking
// rule and a valid path everywhere.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("version: \"1.0\"\nrules: [ {path: \"$.a\", masks: [ {type: imitate} ]} ]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rs, err := Parse("fuzz", "f.yaml", src)
		if err != nil {
			if rs != nil {
				t.Fatal("a Ruleset returned with errors")
			}
			for _, e := range Errors(err) {
				if e.Pos.Line <= 0 || e.Pos.File != "f.yaml" {
					t.Fatalf("error without a line: %v", e)
				}
			}
			return
		}
		var walk func([]Rule)
		walk = func(rules []Rule) {
			for _, r := range rules {
				if r.IsConditional() {
					walk(r.Rules)
					walk(r.ElseRules)
					continue
				}
				if len(r.Masks) == 0 {
					t.Fatalf("rule %s has no masks", r.Name)
				}
				for _, p := range append(r.Paths, r.HashSources...) {
					if back, err := ParsePath(p.Text); err != nil || len(back.Segments) != len(p.Segments) {
						t.Fatalf("path %q does not re-parse: %v", p.Text, err)
					}
				}
			}
		}
		walk(rs.Rules)
	})
}
