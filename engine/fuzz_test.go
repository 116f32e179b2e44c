package engine

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/maskstream/maskstream/rulesets"
)

// FuzzMask feeds arbitrary bytes to a Masker whose rules use every path
// form, drops, container results, redaction and the json mask.
//
// Invariants: MaskValue never panics; its error is always a *MaskError;
// input that encoding/json rejects is never accepted; valid JSON with valid
// UTF-8 within the depth limit is masked into valid JSON (a mask may still
// reject a value, as test_fail does, with reason mask_error); and the
// scanner never rejects such input as not_json.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `"x"`, `12.5e-3`, `true`,
		`{"a":"x","b":[1,2,{"c":"y"}],"email":"e@x"}`,
		`{"items":[{"sku":"a","name":"n"},{"sku":"b"}],"d":{"x":{"email":"q"}}}`,
		`[{"email":"a"},{"email":"b","password":"p"}]`,
		`{"drop":1,"keep":2,"drop":3}`,
		`{"doc":"{\"a\":\"x\"}","obj":{"inner":1}}`,
		`{"s":"\u00e9\ud83d\ude00\n\"","t":"\ud800"}`,
		`{"a":[[[[[[[[]]]]]]]]}`,
		`{"a":1,}`, `{"a" 1}`, `[1,2`, `"\xff"`, ` {"a":"b"} `,
	} {
		f.Add([]byte(s))
	}
	src := []byte(`version: "1.0"
rules:
  - {path: "$.a", masks: [{type: test_upper}]}
  - {path: "$.items[*].name", hash_sources: ["$.items[*].sku"], masks: [{type: test_seed}]}
  - {path: "$..email", masks: [{type: test_tag}]}
  - {path: "$[*].email", masks: [{type: test_upper}]}
  - {path: "$.b[-1]", masks: [{type: test_num}]}
  - {path: "$.drop", masks: [{type: test_drop}]}
  - {path: "$.obj", masks: [{type: test_obj}]}
  - {path: "$.obj.inner", masks: [{type: test_upper}]}
  - {path: "$.doc", masks: [{type: json, fallback_masks: [{type: test_tag}], transforms: [{path: [a], on_missing: skip, masks: [{type: test_upper}]}]}]}
  - {path: "$.s", masks: [{type: test_tag}]}
`)
	rs, err := rulesets.Parse("fuzz", "", src)
	if err != nil {
		f.Fatal(err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		f.Fatal(err)
	}
	small, err := Compile(rs, Options{MaxDepth: 4})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, mk := range []*Masker{m, small} {
			out, err := mk.MaskValue(nil, testSecret, in, nil)
			valid := json.Valid(in)
			if err != nil {
				var me *MaskError
				if !errors.As(err, &me) {
					t.Fatalf("error %v is not a *MaskError", err)
				}
				if valid && me.Reason == ReasonNotJSON {
					t.Fatalf("valid JSON rejected as not_json: %v", err)
				}
				if valid && utf8.Valid(in) && me.Reason == ReasonInvalidUTF8 {
					t.Fatalf("valid UTF-8 rejected: %v", err)
				}
				continue
			}
			if !valid {
				t.Fatalf("invalid JSON accepted: %q -> %q", in, out)
			}
			if !json.Valid(out) {
				t.Fatalf("output is not valid JSON: %q -> %q", in, out)
			}
		}
	})
}
