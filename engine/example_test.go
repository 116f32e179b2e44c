package engine_test

import (
	"fmt"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

func ExampleCompile() {
	rs, err := rulesets.Parse("example", "", []byte(`version: "1.0"
rules:
  - path: "$.customer.email"
    masks: [ { type: from_fixed, value: "someone@example.com" } ]
  - path: "$.items[*].note"
    masks: [ { type: from_fixed, value: "" } ]
`))
	if err != nil {
		panic(err)
	}
	m, err := engine.Compile(rs, engine.Options{})
	if err != nil {
		panic(err)
	}
	sec, err := engine.NewSecret("example-run-secret-0123456789")
	if err != nil {
		panic(err)
	}
	in := []byte(`{"customer": {"email": "ann@real.nz", "tier": 2}, "items": [{"note": "call Ann"}], "api_key": "k-123"}`)
	out, err := m.MaskValue(nil, sec, in, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	fmt.Println(m.NumRules(), m.RuleNames())
	// Output:
	// {"customer": {"email": "someone@example.com", "tier": 2}, "items": [{"note": ""}], "api_key": "[REDACTED]"}
	// 2 [0 1]
}

func ExampleMasker_MaskValue_errors() {
	rs, _ := rulesets.Parse("example", "", []byte(`version: "1.0"
rules:
  - path: "$.id"
    on_missing: error
    masks: [ { type: from_fixed, value: "x" } ]
`))
	m, _ := engine.Compile(rs, engine.Options{})
	sec := engine.MustSecret("example-run-secret-0123456789")
	for _, in := range []string{`{"id": 1`, `{"name": "no id"}`, "{\"id\": \"\xff\"}"} {
		_, err := m.MaskValue(nil, sec, []byte(in), nil)
		fmt.Println(engine.ReasonOf(err), "|", err)
	}
	// Output:
	// not_json | engine: not_json at offset 8: unexpected end of input; expected ',' or '}'
	// missing | engine: missing at $.id: rule 0 found no value and has on_missing: error
	// invalid_utf8 | engine: invalid_utf8 at offset 8: a string holds bytes that are not UTF-8
}

func ExampleAppendJSONString() {
	b := []byte(`{"note":`)
	b = engine.AppendJSONString(b, "line one\nline two\u2028", true)
	b = append(b, '}')
	fmt.Println(string(b))
	// Output: {"note":"line one\nline two\u2028"}
}
