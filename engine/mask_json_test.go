package engine

import (
	"strings"
	"testing"
)

func TestJSONMask(t *testing.T) {
	tests := []struct {
		name   string
		masks  string
		in     string
		want   string
		errSub string
	}{
		{"object value", `[{type: json, transforms: [{path: [payment, card], masks: [{type: test_upper}]}]}]`,
			`{"payment":{"card":"abc","x":1}}`, `{"payment":{"card":"ABC","x":1}}`, ""},
		{"wildcard and index", `[{type: json, transforms: [{path: [items, "*", sku], masks: [{type: test_upper}]}, {path: [items, 0, n], masks: [{type: test_tag}]}]}]`,
			`{"items":[{"sku":"a","n":1},{"sku":"b"}]}`, `{"items":[{"sku":"A","n":"<1>"},{"sku":"B"}]}`, ""},
		{"string holding JSON", `[{type: json, transforms: [{path: [a], masks: [{type: test_upper}]}]}]`,
			`"{\"a\":\"x\",\"b\":2}"`, `"{\"a\":\"X\",\"b\":2}"`, ""},
		{"missing is an error by default", `[{type: json, transforms: [{path: [zz], masks: [{type: test_upper}]}]}]`,
			`{"a":1}`, ``, "not found"},
		{"missing skipped", `[{type: json, transforms: [{path: [zz], on_missing: skip, masks: [{type: test_upper}]}]}]`,
			`{"a":1}`, `{"a":1}`, ""},
		{"null skipped", `[{type: json, transforms: [{path: [a], masks: [{type: test_tag}]}]}]`,
			`{"a":null}`, `{"a":null}`, ""},
		{"null masked", `[{type: json, transforms: [{path: [a], on_null: mask, masks: [{type: test_tag}]}]}]`,
			`{"a":null}`, `{"a":"<>"}`, ""},
		{"null error", `[{type: json, transforms: [{path: [a], on_null: error, masks: [{type: test_tag}]}]}]`,
			`{"a":null}`, ``, "null"},
		{"not JSON string", `[{type: json, transforms: [{path: [a], masks: [{type: test_tag}]}]}]`,
			`"plain text"`, ``, "does not hold a JSON document"},
		{"fallback", `[{type: json, transforms: [{path: [a], masks: [{type: test_tag}]}], fallback_masks: [{type: test_upper}]}]`,
			`"plain text"`, `"PLAIN TEXT"`, ""},
		{"number is an error", `[{type: json, transforms: [{path: [a], masks: [{type: test_tag}]}]}]`,
			`12`, ``, "expected an object"},
		{"nested json", `[{type: json, transforms: [{path: [a], masks: [{type: json, transforms: [{path: [b], masks: [{type: test_upper}]}]}]}]}]`,
			`{"a":"{\"b\":\"x\"}"}`, `{"a":"{\"b\":\"X\"}"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, header+"rules: [{masks: "+tt.masks+"}]\n")
			got, err := maskString(t, m, tt.in)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) || ReasonOf(err) != ReasonMask {
					t.Fatalf("got %s, %v; want a mask_error containing %q", got, err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONMaskHashSources(t *testing.T) {
	m := mustCompile(t, header+`rules:
  - path: "$.doc"
    masks:
      - type: json
        transforms:
          - {path: [name], hash_sources: [[id]], masks: [{type: test_seed}]}
          - {path: [alias], hash_sources: [{json_path: [id]}], masks: [{type: test_seed}]}
`)
	a, err := maskString(t, m, `{"doc":{"id":1,"name":"a","alias":"b"}}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := maskString(t, m, `{"doc":{"name":"zz","alias":"yy","id":1}}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b, a[strings.Index(a, `"name":`):strings.Index(a, `,"alias"`)]) {
		t.Errorf("same id, different names: %s vs %s", a, b)
	}
}

func TestJSONMaskCompileErrors(t *testing.T) {
	for _, y := range []string{
		`[{type: json}]`,
		`[{type: json, transforms: []}]`,
		`[{type: json, transforms: [{path: [a], masks: [{type: nope}]}]}]`,
		`[{type: json, transforms: [{path: [a], on_missing: maybe, masks: [{type: test_upper}]}]}]`,
	} {
		rs := header + "rules: [{masks: " + y + "}]\n"
		if _, err := compileString(rs); err == nil {
			t.Errorf("%s: compiled", y)
		}
	}
}

// A ruleset's skip_defaults reach inside a json mask's document as they
// reach a path rule: a transform keeps "" rather than failing on it.
func TestJSONMaskSkipDefaults(t *testing.T) {
	m := mustCompile(t, header+`skip_defaults: [null, "", 0, N/A]
rules:
  - masks:
      - type: json
        transforms:
          - {path: [payment, card_number], masks: [{type: credit_card}]}
          - {path: [a], masks: [{type: test_tag}]}
          - {path: [b], masks: [{type: test_tag}]}
          - {path: [c], on_null: mask, masks: [{type: test_tag}]}
          - {path: [d], masks: [{type: test_tag}]}
`)
	for _, tc := range []struct{ in, want string }{
		{`{"payment":{"card_number":""},"a":0,"b":"N/A","c":null,"d":"x"}`,
			`{"payment":{"card_number":""},"a":0,"b":"N/A","c":null,"d":"<x>"}`},
		{`"{\"payment\":{\"card_number\":\"\"},\"a\":0,\"b\":\"N/A\",\"c\":null,\"d\":\"0\"}"`,
			`"{\"payment\":{\"card_number\":\"\"},\"a\":0,\"b\":\"N/A\",\"c\":null,\"d\":\"<0>\"}"`},
	} {
		got, err := maskString(t, m, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
