package engine

import (
	"encoding/json"
	"testing"
)

func TestFromFixed(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want Value
	}{
		{"string", `{type: from_fixed, value: "[REDACTED]"}`, Str("[REDACTED]")},
		{"quoted number is a string", `{type: from_fixed, value: "42"}`, Str("42")},
		{"integer", `{type: from_fixed, value: 42}`, Num("42")},
		{"negative integer", `{type: from_fixed, value: -7}`, Num("-7")},
		{"hex integer", `{type: from_fixed, value: 0x1F}`, Num("31")},
		{"big integer", `{type: from_fixed, value: 123456789012345678901234567890}`, Num("123456789012345678901234567890")},
		{"float as written", `{type: from_fixed, value: 1.50}`, Num("1.50")},
		{"float reformatted", `{type: from_fixed, value: .5}`, Num("0.5")},
		{"exponent", `{type: from_fixed, value: 1e3}`, Num("1e3")},
		{"boolean", `{type: from_fixed, value: true}`, Boolean(true)},
		{"null", `{type: from_fixed, value: null}`, NullValue},
		{"tilde", `{type: from_fixed, value: ~}`, NullValue},
		{"blank is empty", "type: from_fixed\nvalue:\n", Str("")},
		{"empty quotes", `{type: from_fixed, value: ''}`, Str("")},
		{"date stays text", `{type: from_fixed, value: 2010-01-01}`, Str("2010-01-01")},
		{"list", `{type: from_fixed, value: [1, "a", {b: null, c: [true]}]}`, Value{Kind: Array, Raw: []byte(`[1,"a",{"b":null,"c":[true]}]`)}},
		{"mapping keeps key order", "type: from_fixed\nvalue:\n  z: 1\n  a: \"x\\\"y\"\n", Value{Kind: Object, Raw: []byte(`{"z":1,"a":"x\"y"}`)}},
	}
	inputs := []Value{Str("Alice"), Num("3.5"), NullValue, Boolean(false)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			for _, in := range inputs {
				got := genKit.must(t, pl, in)
				if !sameValue(got, tt.want) {
					t.Errorf("Apply(%+v) = %+v, want %+v", in, got, tt.want)
				}
				if got.Raw != nil && !json.Valid(got.Raw) {
					t.Errorf("Raw %s is not valid JSON", got.Raw)
				}
			}
		})
	}
}

func TestFromFixedErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing value", `{type: from_fixed}`, "1:1", `missing required key "value"`},
		{"infinity", "type: from_fixed\nvalue: .inf\n", "2:8", "no infinity"},
		{"NaN", "type: from_fixed\nvalue: .nan\n", "2:8", "no infinity or NaN"},
		{"unknown key", "type: from_fixed\nvalue: x\nvalu: y\n", "3:1", "valu"},
	})
}
