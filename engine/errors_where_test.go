package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
)

// Masks that return what the scan must refuse, to reach its checks of a
// mask's output.
func init() {
	register("test_badjson", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			return Value{Kind: Object, Raw: []byte(`{"a":`)}, nil
		}), nil
	})
	register("test_wrongkind", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			return Value{Kind: Object, Raw: []byte(`[1]`)}, nil
		}), nil
	})
	register("test_badbool", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			return Value{Kind: Bool, S: "yes"}, nil
		}), nil
	})
}

// canary is a member name the record supplies: it must never reach an
// error's text, which goes to stderr, HTTP responses and dead-letter
// headers.
const canary = "CANARY-7f3a9"

// TestErrorWhereHidesRecordNames checks that the place an error names keeps
// the ruleset's own member names and the indexes but writes * for every
// name the record supplied (through * or ..).
func TestErrorWhereHidesRecordNames(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		in    string
		where string // the MaskError's Where
	}{
		{"wildcard member", `[{path: "$.accounts.*.balance", masks: [{type: test_fail}]}]`,
			`{"accounts":{"CANARY-7f3a9":{"balance":1}}}`, "$.accounts.*.balance"},
		{"wildcard, name needing brackets", `[{path: "$.a.*", masks: [{type: test_fail}]}]`,
			`{"a":{"CANARY-7f3a9 it's":1}}`, "$.a.*"},
		{"wildcard, escaped name", `[{path: "$.a.*.x", masks: [{type: test_fail}]}]`,
			`{"a":{"CANARY\u002d7f3a9":{"x":1}}}`, "$.a.*.x"},
		{"descendant", `[{path: "$..email", masks: [{type: test_fail}]}]`,
			`{"byUser":{"CANARY-7f3a9":{"email":"x"}}}`, "$.*.*.email"},
		{"descendant then member", `[{path: "$..addr.city", masks: [{type: test_fail}]}]`,
			`{"CANARY-7f3a9":{"addr":{"city":"x"}}}`, "$.*.addr.city"},
		{"descendant passing over its own name", `[{path: "$..addr.city", on_null: error, masks: [{type: test_upper}]}]`,
			`{"addr":{"CANARY-7f3a9":{"addr":{"city":null}}}}`, "$.*.*.addr.city"},
		{"several descendants", `[{path: "$..a..b", masks: [{type: test_fail}]}]`,
			`{"a":{"a":{"CANARY-7f3a9":[{"a":{"b":1}}]}}}`, "$.a.*.*[0].*.b"},
		{"descendant through arrays", `[{path: "$..email", masks: [{type: test_fail}]}]`,
			`{"list":[{"n":1},{"CANARY-7f3a9":{"email":"x"}}]}`, "$.*[1].*.email"},
		{"array wildcard then member wildcard", `[{path: "$.items[*].tags.*", masks: [{type: test_fail}]}]`,
			`{"items":[{"tags":{}},{"tags":{"CANARY-7f3a9":"x"}}]}`, "$.items[1].tags.*"},
		{"root array", `[{path: "$[*].*.x", masks: [{type: test_fail}]}]`,
			`[{"CANARY-7f3a9":{"x":1}}]`, "$[0].*.x"},
		{"negative index", `[{path: "$.a[-1].*", masks: [{type: test_fail}]}]`,
			`{"a":[1,{"CANARY-7f3a9":2}]}`, "$.a[1].*"},
		{"nested wildcards", `[{path: "$.a.*.b.*.c", masks: [{type: test_fail}]}]`,
			`{"a":{"CANARY-7f3a9":{"b":{"CANARY-7f3a9-2":{"c":1}}}}}`, "$.a.*.b.*.c"},
		{"literal elsewhere in the ruleset", `[{path: "$.u.CANARY-7f3a9-not.phone", masks: [{type: test_upper}]}, {path: "$.u.*.email", masks: [{type: test_fail}]}]`,
			`{"u":{"CANARY-7f3a9":{"email":"x"}}}`, "$.u.*.email"},
		{"on_null error", `[{path: "$.a.*", on_null: error, masks: [{type: test_upper}]}]`,
			`{"a":{"CANARY-7f3a9":null}}`, "$.a.*"},
		{"invalid container from a mask", `[{path: "$.a.*", masks: [{type: test_badjson}]}]`,
			`{"a":{"CANARY-7f3a9":"x"}}`, "$.a.*"},
		{"container of another type from a mask", `[{path: "$.a.*", masks: [{type: test_wrongkind}]}]`,
			`{"a":{"CANARY-7f3a9":"x"}}`, "$.a.*"},
		{"bad number from a mask", `[{path: "$.a.*", masks: [{type: test_badnum}]}]`,
			`{"a":{"CANARY-7f3a9":"x"}}`, "$.a.*"},
		{"bad boolean from a mask", `[{path: "$..flag", masks: [{type: test_badbool}]}]`,
			`{"CANARY-7f3a9":{"flag":true}}`, "$.*.flag"},
		{"bad number, two rules", `[{path: "$.a.*", masks: [{type: test_badnum}]}, {path: "$.*.*", masks: [{type: test_upper}]}]`,
			`{"a":{"CANARY-7f3a9":"x"}}`, "$.*.*"},
		{"matched container", `[{path: "$.a.*", masks: [{type: test_fail}]}]`,
			`{"a":{"CANARY-7f3a9":{"k":1}}}`, "$.a.*"},
		{"rule inside a matched container", `[{path: "$.a.*.b", masks: [{type: test_fail}]}, {path: "$.a.*", masks: [{type: test_tag}]}]`,
			`{"a":{"CANARY-7f3a9":{"b":"x"}}}`, "$.a.*.b"},
		{"rule inside what a mask made", `[{path: "$.a.*", masks: [{type: test_obj}]}, {path: "$.a.*.inner", masks: [{type: test_fail}]}]`,
			`{"a":{"CANARY-7f3a9":"x"}}`, "$.a.*.inner"},
		{"json mask transform", `[{path: "$.p", masks: [{type: json, transforms: [{path: ["*", x], masks: [{type: test_fail}]}]}]}]`,
			`{"p":{"CANARY-7f3a9":{"x":1}}}`, "$.p"},
		{"json mask inside a wildcard", `[{path: "$.*", masks: [{type: json, transforms: [{path: ["*", x], masks: [{type: test_fail}]}]}]}]`,
			`{"CANARY-7f3a9":"{\"CANARY-7f3a9-in\":{\"x\":1}}"}`, "$.*"},
		{"literal path", `[{path: "$['credit-card'].cvv", masks: [{type: test_fail}]}]`,
			`{"credit-card":{"cvv":"x"}}`, "$.credit-card.cvv"},
		{"whole value", `[{masks: [{type: test_fail}]}]`,
			`{"CANARY-7f3a9":1}`, "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, header+"rules: "+tt.rules+"\n")
			_, err := m.MaskValue(nil, testSecret, []byte(tt.in), nil)
			var me *MaskError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *MaskError", err)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error quotes a member name of the record: %v", err)
			}
			if me.Where != tt.where {
				t.Errorf("where %q, want %q (%v)", me.Where, tt.where, err)
			}
		})
	}
}

// TestErrorWhereKeyAndHeaders checks the errors of a record's key (a JSON
// document or text) and headers: they name the key or the header (a name
// the ruleset configures), never a member name of the key.
func TestErrorWhereKeyAndHeaders(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		rec   Record
		where string
	}{
		{"key document", "key: {masks: [{type: json, transforms: [{path: [users, \"*\", email], masks: [{type: test_fail}]}]}]}\n",
			Record{Key: []byte(`{"users":{"CANARY-7f3a9":{"email":"x"}}}`)}, "key"},
		{"key document, on_null error", "key: {masks: [{type: json, transforms: [{path: [users, \"*\"], on_null: error, masks: [{type: test_upper}]}]}]}\n",
			Record{Key: []byte(`{"users":{"CANARY-7f3a9":null}}`)}, "key"},
		{"key text", "key: {masks: [{type: test_fail}]}\n",
			Record{Key: []byte(canary)}, "key"},
		{"header", "headers: [{name: X-User, masks: [{type: test_fail}]}]\n",
			Record{Headers: []Header{{Key: "X-User", Value: []byte(canary)}}}, "header X-User"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, header+tt.yaml+"rules: []\n")
			_, err := m.MaskRecord(testSecret, tt.rec, nil)
			var me *MaskError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *MaskError", err)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error quotes the record: %v", err)
			}
			if me.Where != tt.where {
				t.Errorf("where %q, want %q (%v)", me.Where, tt.where, err)
			}
		})
	}
}

// TestFormatStepsFallback checks the place written when the concrete path
// does not fit the pattern given (or none is): every member name is *.
func TestFormatStepsFallback(t *testing.T) {
	src := []byte(`{"a":{"CANARY-7f3a9":[1]}}`)
	steps := []pstep{
		{src: src, ks: 2, ke: 3, idx: -1},
		{src: src, ks: 7, ke: 7 + len(canary), idx: -1},
		{src: src, idx: 0},
	}
	for _, segs := range [][]rulesets.Segment{
		nil,
		{{Kind: rulesets.SegKey, Key: "a"}, {Kind: rulesets.SegKey, Key: "b"}, {Kind: rulesets.SegIndex, Index: 0}},
	} {
		if got := formatSteps(steps, segs); got != "$.*.*[0]" {
			t.Errorf("%v: got %q, want $.*.*[0]", segs, got)
		}
	}
	fits := []rulesets.Segment{{Kind: rulesets.SegKey, Key: "a"}, {Kind: rulesets.SegWildcard}, {Kind: rulesets.SegIndex, Index: -1}}
	if got := formatSteps(steps, fits); got != "$.a.*[0]" {
		t.Errorf("got %q, want $.a.*[0]", got)
	}
}
