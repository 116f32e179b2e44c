package rulesets

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

func ExampleParse() {
	src := `version: 1.0
rules:
  - path: "$.customer.email"
    masks: [ { type: from_column } ]
  - pahts: [ "$.phone" ]
    masks: [ { type: imitate } ]
`
	_, err := Parse("orders", "orders.yaml", []byte(src))
	for _, e := range Errors(err) {
		fmt.Println(e)
	}
	// Output:
	// orders.yaml:1:10: version must be a quoted string: write version: "1.0" (unquoted, YAML reads 1.0 as a number)
	// orders.yaml:4:14: mask type from_column cannot apply to a message: it copies another database column; to copy another field of the message use from_json_path
	// orders.yaml:5:5: unknown key "pahts" in rule 1; the keys allowed here are name, path, paths, hash_sources, masks, on_missing, on_null, if, rules, else_rules (did you mean "paths"?)
}

func ExampleDecodeParams() {
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte("type: take_substring\nfrom: 2\nlenght: 4\n"), &doc)
	var params struct {
		From   int  `yaml:"from" ms:"required"`
		Length *int `yaml:"length"`
	}
	err := DecodeParams(doc.Content[0], "orders.yaml", &params, "type")
	fmt.Println(params.From, params.Length == nil)
	fmt.Println(err)
	// Output:
	// 2 true
	// orders.yaml:3:1: mask take_substring: unknown key "lenght"; the keys allowed here are from, length (did you mean "length"?)
}
