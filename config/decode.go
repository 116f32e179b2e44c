package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks the YAML node tree by hand rather than through
// yaml.Unmarshal: every problem is collected with its line:col instead of
// stopping at the first, and a key that is close to right (an inline
// password) gets a message that says what to write instead.
type decoder struct {
	file string
	errs ErrorList
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// field decodes one key's value.
type field func(v *yaml.Node)

// mapping calls fields[key] for each key of n in file order. Unknown and
// repeated keys are errors; rejected maps a key that must not be used to
// the reason (and the fix). A null n is an empty mapping. It returns false
// when n is not a mapping at all.
func (d *decoder) mapping(n *yaml.Node, what string, fields map[string]field, rejected map[string]string) bool {
	return d.mappingListing(n, what, fields, rejected, nil)
}

// mappingListing is mapping whose unknown-key errors list only the keys
// listed (all of fields when nil): a source or sink names the keys of its
// own kind, not the other broker's.
func (d *decoder) mappingListing(n *yaml.Node, what string, fields map[string]field, rejected map[string]string, listed []string) bool {
	n = resolve(n)
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping (key: value lines), not %s", what, kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain names", what)
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "%s: key %q is given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if why, ok := rejected[k.Value]; ok {
			d.errorf(k, "%s: %s", what, why)
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			known := knownKeys(fields)
			if listed != nil {
				known = strings.Join(listed, ", ")
			}
			d.errorf(k, "unknown key %q in %s; known keys: %s", k.Value, what, known)
			continue
		}
		f(v)
	}
	return true
}

func knownKeys(fields map[string]field) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unexpected node"
}

// str decodes a string. Numbers are taken as their text (a topic may be
// named 2024); booleans, lists and mappings are errors.
func (d *decoder) str(n *yaml.Node, what string) string {
	n = resolve(n)
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!bool" {
		d.errorf(n, "%s must be a string, not %s", what, kindName(n))
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	n = resolve(n)
	if isNull(n) {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.errorf(n, "%s must be true or false, not %s", what, kindName(n))
		return false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b
}

// integer decodes a non-negative int.
func (d *decoder) integer(n *yaml.Node, what string) int {
	n = resolve(n)
	if isNull(n) {
		return 0
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.errorf(n, "%s must be a whole number, not %s", what, kindName(n))
		return 0
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < 0 || v > math.MaxInt32 {
		d.errorf(n, "%s must be a whole number from 0 to %d", what, math.MaxInt32)
		return 0
	}
	return int(v)
}

func (d *decoder) float(n *yaml.Node, what string) float64 {
	n = resolve(n)
	if isNull(n) {
		return 0
	}
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		d.errorf(n, "%s must be a number, not %s", what, kindName(n))
		return 0
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		d.errorf(n, "%s must be a number of at least 0", what)
		return 0
	}
	return v
}

// duration decodes a Go duration string such as 30s or 1m30s.
func (d *decoder) duration(n *yaml.Node, what string) time.Duration {
	n = resolve(n)
	if isNull(n) {
		return 0
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errorf(n, "%s must be a duration such as 30s or 2m, not %s", what, kindName(n))
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		d.errorf(n, "%s must be a duration such as 30s or 2m", what)
		return 0
	}
	return v
}

// strings decodes a list of strings.
func (d *decoder) strings(n *yaml.Node, what string) []string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, such as [a, b], not %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		s := d.str(c, what+" entries")
		out = append(out, s)
	}
	return out
}
