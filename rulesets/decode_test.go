package rulesets

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// upper is a yaml.Unmarshaler, to check DecodeParams hands it the node.
type upper string

func (u *upper) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "bad" {
		return errors.New("bad is not allowed")
	}
	*u = upper(strings.ToUpper(n.Value))
	return nil
}

type inner struct {
	Label string `yaml:"label" ms:"required"`
	Masks yaml.Node
}

type Common struct {
	AdvanceHash bool `yaml:"advance_hash"`
}

type params struct {
	Common
	Value    string         `yaml:"value" ms:"required"`
	Length   *int           `yaml:"length"`
	Count    uint8          `yaml:"count"`
	Ratio    float64        `yaml:"ratio"`
	Small    float32        `yaml:"small"`
	Flag     bool           `yaml:"flag"`
	Opt      *bool          `yaml:"opt"`
	Names    []string       `yaml:"names"`
	Weights  map[string]int `yaml:"weights"`
	Inner    *inner         `yaml:"inner"`
	Items    []inner        `yaml:"items"`
	Raw      *yaml.Node     `yaml:"masks"`
	Fixed    Scalar         `yaml:"fixed"`
	Up       upper          `yaml:"up"`
	Wait     time.Duration  `yaml:"wait"`
	Anything any            `yaml:"anything"`
	Ignored  string         `yaml:"-"`
	Untagged string
	hidden   string
}

func decodeYAML(t *testing.T, src string, v any, skip ...string) error {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return DecodeParams(doc.Content[0], "m.yaml", v, skip...)
}

func TestDecodeParams(t *testing.T) {
	src := `
type: from_fixed
value: 2020
length: 0
count: 255
ratio: 3
small: 1.5
flag: true
advance_hash: true
names: [a, b]
weights: {x: 1, y: 2}
inner: {label: L, masks: [ {type: imitate} ]}
items: [ {label: A}, {label: B} ]
masks: [ {type: concat} ]
fixed: ~
up: hello
wait: 1m30s
anything: {k: [1, 2]}
untagged: yes please
`
	var p params
	if err := decodeYAML(t, src, &p, "type"); err != nil {
		t.Fatal(err)
	}
	if p.Value != "2020" || p.Length == nil || *p.Length != 0 || p.Count != 255 || p.Ratio != 3 || p.Small != 1.5 || !p.Flag || !p.AdvanceHash {
		t.Errorf("scalars: %+v", p)
	}
	if p.Opt != nil {
		t.Errorf("absent pointer set: %v", *p.Opt)
	}
	if !reflect.DeepEqual(p.Names, []string{"a", "b"}) || !reflect.DeepEqual(p.Weights, map[string]int{"x": 1, "y": 2}) {
		t.Errorf("collections: %v %v", p.Names, p.Weights)
	}
	if p.Inner == nil || p.Inner.Label != "L" || p.Inner.Masks.Kind != yaml.SequenceNode || p.Inner.Masks.Line != 12 {
		t.Errorf("inner: %+v", p.Inner)
	}
	if len(p.Items) != 2 || p.Items[1].Label != "B" {
		t.Errorf("items: %+v", p.Items)
	}
	if p.Raw == nil || p.Raw.Kind != yaml.SequenceNode || p.Raw.Line != 14 {
		t.Errorf("raw node: %+v", p.Raw)
	}
	if !p.Fixed.Null || p.Up != "HELLO" || p.Wait != 90*time.Second || p.Untagged != "yes please" {
		t.Errorf("special types: %+v %q %v %q", p.Fixed, p.Up, p.Wait, p.Untagged)
	}
	if !reflect.DeepEqual(p.Anything, map[string]any{"k": []any{1, 2}}) {
		t.Errorf("any: %#v", p.Anything)
	}
}

func TestDecodeParamsErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown key with suggestion", "type: t\nvalue: x\nlenght: 3\n",
			[]string{`m.yaml:3:1: mask t: unknown key "lenght"; the keys allowed here are advance_hash, value, length, count`, `(did you mean "length"?)`}},
		{"unknown key without suggestion", "value: x\nzzz: 1\n",
			[]string{`m.yaml:2:1: unknown key "zzz"; the keys allowed here are`}},
		{"type not skipped", "type: t\nvalue: x\n", []string{`unknown key "type"`}},
		{"missing required", "length: 1\n", []string{`m.yaml:1:1: missing required key "value"; add value: ...`}},
		{"missing nested required", "value: x\ninner: {masks: []}\n", []string{`m.yaml:2:8: missing required key "label"`}},
		{"wrong scalar types", "value: true\nlength: x\ncount: 256\nratio: abc\nflag: yes\nwait: 5\nsmall: 1e40\n", []string{
			`1:8: value takes a string, got a boolean; quote it (value: "true") if you mean the text`,
			`2:9: length takes a whole number, got a string`,
			`3:8: count: 256 is out of range for an unsigned 8-bit number`,
			`4:8: ratio takes a number, got a string`,
			`5:7: flag takes true or false, got a string`,
			`6:7: wait takes a duration such as "90s"`,
			`7:8: small: 1e40 is out of range for a 32-bit float`,
		}},
		{"negative unsigned", "value: x\ncount: -1\n", []string{"count must not be negative"}},
		{"float for int", "value: x\nlength: 1.5\n", []string{"length takes a whole number, got a number (1.5)"}},
		{"null for a string", "value: ~\n", []string{"value takes a string, got null; give a value or leave the key out"}},
		{"collections", "value: x\nnames: a\nweights: [1]\nitems: {label: a}\ninner: [1]\nfixed: [1]\n", []string{
			"2:8: names takes a list, got a string; write names: [ ... ]",
			"3:10: weights takes a mapping, got a list",
			"4:8: items takes a list, got a mapping",
			"5:8: inner takes a mapping of keys, got a list",
			"6:8: fixed takes a single value, got a list",
		}},
		{"element errors", "value: x\nnames: [a, [b]]\nweights: {x: one}\nitems: [{label: a, extra: 1}]\n", []string{
			"2:12: names[1] takes a string, got a list",
			"3:14: weights.x takes a whole number, got a string",
			`4:20: unknown key "extra" in items[0]; the keys allowed here are label, masks`,
		}},
		{"duplicate key", "value: x\nvalue: y\n", []string{`2:1: key "value" is given twice (first at line 1); keep one`}},
		{"unmarshaler error", "value: x\nup: bad\n", []string{"2:5: up: bad is not allowed"}},
		{"not a mapping", "[1, 2]\n", []string{"1:1: expected a mapping of keys, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p params
			err := decodeYAML(t, tt.src, &p, skipFor(tt.name)...)
			var l ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("want an ErrorList, got %v", err)
			}
			if len(l) != len(tt.want) && !strings.Contains(tt.name, "suggestion") {
				t.Errorf("got %d errors, want %d:\n%v", len(l), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no error contains %q; got:\n%v", w, err)
				}
			}
		})
	}
}

func skipFor(name string) []string {
	if name == "unknown key with suggestion" {
		return []string{"type"}
	}
	return nil
}

func TestDecodeParamsAliasesAndMerge(t *testing.T) {
	src := `
base: &base {value: from-base, length: 3}
use:
  <<: *base
  length: 5
  names: &n [a]
  items: [ {label: *n} ]
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	var p params
	err := DecodeParams(doc.Content[0].Content[3], "m.yaml", &p)
	if err == nil || !strings.Contains(err.Error(), "6:10: items[0].label takes a string, got a list") {
		t.Fatalf("want the aliased list reported where its text is, got %v", err)
	}
	if p.Value != "from-base" || p.Length == nil || *p.Length != 5 || !reflect.DeepEqual(p.Names, []string{"a"}) {
		t.Errorf("merge: %+v", p)
	}
}

func TestDecodeParamsNilNode(t *testing.T) {
	var p struct {
		A string `yaml:"a"`
	}
	if err := DecodeParams(nil, "m.yaml", &p); err != nil {
		t.Errorf("no keys and nothing required: %v", err)
	}
	var q params
	if err := DecodeParams(nil, "m.yaml", &q); err == nil || !strings.Contains(err.Error(), `missing required key "value"`) {
		t.Errorf("want the required key reported, got %v", err)
	}
	if err := DecodeParams(nil, "m.yaml", p); err == nil || !strings.Contains(err.Error(), "needs a non-nil pointer to a struct") {
		t.Errorf("want a usage error for a non-pointer, got %v", err)
	}
}
