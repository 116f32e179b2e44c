package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// from_fixed (DataMasque): replaces every value with one fixed value.
//
//	masks:
//	  - type: from_fixed
//	    value: "[REDACTED]"
//
// The value keeps its YAML type: a quoted scalar is a string, 42 a number,
// true a boolean, null JSON null, and a YAML list or mapping a JSON array or
// object. As in DataMasque, a blank value (value: with nothing after it) is
// the empty string; write null for JSON null.
func init() { register("from_fixed", newFromFixed) }

type fromFixedParams struct {
	Value *yaml.Node `yaml:"value" ms:"required"`
}

type fromFixed struct{ v Value }

func newFromFixed(p *Params) (Mask, error) {
	var prm fromFixedParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	if prm.Value == nil { // Decode reports the missing key; this is belt and braces
		return nil, p.Errorf("missing required key \"value\"; add value: ...")
	}
	v, err := genYAMLValue(prm.Value, true)
	if err != nil {
		return nil, p.ErrorAt(prm.Value, "value: %v", err)
	}
	return fromFixed{v: v}, nil
}

func (m fromFixed) Apply(_ *Ctx, _ Value) (Value, error) { return m.v, nil }

// genYAMLValue converts a YAML node given in a ruleset into the JSON value
// it stands for. blankIsEmpty makes an empty plain scalar the empty string
// (DataMasque's blank value) rather than null.
func genYAMLValue(n *yaml.Node, blankIsEmpty bool) (Value, error) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if blankIsEmpty && n.Value == "" && n.Style == 0 && n.ShortTag() == "!!null" {
			return Str(""), nil
		}
		return genYAMLScalar(n)
	case yaml.SequenceNode, yaml.MappingNode:
		b, err := genAppendYAMLJSON(nil, n, 0)
		if err != nil {
			return Value{}, err
		}
		if n.Kind == yaml.SequenceNode {
			return Value{Kind: Array, Raw: b}, nil
		}
		return Value{Kind: Object, Raw: b}, nil
	}
	return Value{}, errors.New("expected a scalar, a list or a mapping")
}

// genYAMLScalar converts a YAML scalar by its resolved tag.
func genYAMLScalar(n *yaml.Node) (Value, error) {
	switch n.ShortTag() {
	case "!!null":
		return NullValue, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return Value{}, fmt.Errorf("%q is not a boolean", n.Value)
		}
		return Boolean(b), nil
	case "!!int":
		lit, err := genYAMLInt(n.Value)
		if err != nil {
			return Value{}, err
		}
		return Num(lit), nil
	case "!!float":
		lit, err := genYAMLFloat(n.Value)
		if err != nil {
			return Value{}, err
		}
		return Num(lit), nil
	}
	// !!str, and tags such as !!timestamp that JSON has no type for: the
	// text as written.
	return Str(n.Value), nil
}

// genYAMLInt writes a YAML integer (which may be hex, octal, binary, signed
// or have underscores) as a JSON integer literal.
func genYAMLInt(s string) (string, error) {
	t := strings.ReplaceAll(s, "_", "")
	neg := false
	switch {
	case strings.HasPrefix(t, "-"):
		neg, t = true, t[1:]
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(t, "0x"), strings.HasPrefix(t, "0X"):
		base, t = 16, t[2:]
	case strings.HasPrefix(t, "0o"), strings.HasPrefix(t, "0O"):
		base, t = 8, t[2:]
	case strings.HasPrefix(t, "0b"), strings.HasPrefix(t, "0B"):
		base, t = 2, t[2:]
	case len(t) > 1 && t[0] == '0':
		base = 8 // YAML 1.1 octal, which yaml.v3 still reads
	}
	z, ok := new(big.Int).SetString(t, base)
	if !ok {
		return "", fmt.Errorf("%q is not an integer", s)
	}
	if neg {
		z.Neg(z)
	}
	return z.String(), nil
}

// genYAMLFloat writes a YAML float as a JSON number: as written when that
// is already valid JSON (so 1.50 keeps its zero), else reformatted.
// Infinity and NaN have no JSON form.
func genYAMLFloat(s string) (string, error) {
	if isJSONNumber(s) {
		return s, nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("%q is not a number JSON can hold (no infinity or NaN)", s)
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

// genAppendYAMLJSON writes a YAML list or mapping as JSON, keeping the
// order of the keys as written.
func genAppendYAMLJSON(dst []byte, n *yaml.Node, depth int) ([]byte, error) {
	if depth > 64 {
		return nil, errors.New("nested deeper than 64 levels")
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, e := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = genAppendYAMLJSON(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a JSON object key must be a scalar", k.Line)
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = genAppendJSONString(dst, k.Value)
			dst = append(dst, ':')
			var err error
			if dst, err = genAppendYAMLJSON(dst, n.Content[i+1], depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case yaml.ScalarNode:
		v, err := genYAMLScalar(n)
		if err != nil {
			return nil, err
		}
		switch v.Kind {
		case String:
			return genAppendJSONString(dst, v.S), nil
		case Null:
			return append(dst, "null"...), nil
		}
		return append(dst, v.S...), nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func genAppendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}
