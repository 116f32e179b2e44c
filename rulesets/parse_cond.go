package rulesets

import (
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Condition operators, in the order the docs list them.
var operators = []string{
	"equals", "not_equals", "matches",
	"less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal",
	"is_null", "is_missing", "in",
}

var (
	combinators   = []string{"and", "or", "not"}
	conditionKeys = slices.Concat([]string{"path", "json_path"}, operators, combinators)
)

// conditionList reads a list of conditions, all of which must hold (if:,
// and:, or: and a not: given a list).
func (p *parser) conditionList(n *yaml.Node, key string) []Condition {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s takes a list of conditions, as in %s: [ {path: \"$.country\", equals: NZ} ], not %s", key, key, describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "%s is empty; give at least one condition", key)
		return nil
	}
	out := make([]Condition, 0, len(n.Content))
	for _, e := range n.Content {
		if c, ok := p.condition(e); ok {
			out = append(out, c)
		}
	}
	return out
}

// condition reads one condition: a leaf {path, <operator>: value} or a
// combinator {and: [...]}, {or: [...]}, {not: {...}}.
func (p *parser) condition(n *yaml.Node) (Condition, bool) {
	c := Condition{Pos: nodePos(p.file, n)}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "a condition is a mapping such as {path: \"$.country\", equals: NZ}, not %s", describe(n))
		return c, false
	}
	var kvs []pair
	for _, kv := range pairs(p.file, n, &p.errs) {
		if !slices.Contains(conditionKeys, kv.key.Value) {
			p.errs = append(p.errs, p.unknown(kv.key, "a condition", conditionKeys))
			continue
		}
		kvs = append(kvs, kv)
	}
	var comb, ops, paths []pair
	for _, kv := range kvs {
		switch k := kv.key.Value; {
		case slices.Contains(combinators, k):
			comb = append(comb, kv)
		case slices.Contains(operators, k):
			ops = append(ops, kv)
		default:
			paths = append(paths, kv)
		}
	}
	if len(comb) > 0 {
		if len(kvs) > 1 {
			p.errorf(n, "%s stands alone in its condition; write {%s: [...]} and put paths and operators in the conditions inside it", comb[0].key.Value, comb[0].key.Value)
			return c, false
		}
		return p.combinator(c, comb[0])
	}
	ok := true
	switch len(paths) {
	case 0:
		p.errorf(n, "this condition has no path; add path: \"$.field\" (the value to test)")
		ok = false
	case 1:
		path, err := PathFromNode(paths[0].val, p.file)
		if err != nil {
			p.add(err)
			ok = false
		}
		c.Path = path
	default:
		p.errorf(paths[1].key, "a condition takes one of path or json_path, not both")
		ok = false
	}
	switch len(ops) {
	case 0:
		p.errorf(n, "this condition has no operator; add one of %s", strings.Join(operators, ", "))
		return c, false
	case 1:
	default:
		p.errorf(ops[1].key, "one operator per condition; to test more, list several conditions (all must hold) or use and: / or:")
		return c, false
	}
	if !p.operand(&c, ops[0]) || !ok {
		return c, false
	}
	return c, true
}

func (p *parser) combinator(c Condition, kv pair) (Condition, bool) {
	switch kv.key.Value {
	case "and":
		c.And = p.conditionList(kv.val, "and")
		return c, len(c.And) > 0
	case "or":
		c.Or = p.conditionList(kv.val, "or")
		return c, len(c.Or) > 0
	}
	// not: one condition, or a list that must hold together.
	if kv.val.Kind == yaml.SequenceNode {
		and := p.conditionList(kv.val, "not")
		if len(and) == 0 {
			return c, false
		}
		c.Not = &Condition{And: and, Pos: nodePos(p.file, kv.val)}
		return c, true
	}
	inner, ok := p.condition(kv.val)
	if !ok {
		return c, false
	}
	c.Not = &inner
	return c, true
}

// operand reads an operator's value into c.
func (p *parser) operand(c *Condition, kv pair) bool {
	op, v := kv.key.Value, kv.val
	c.Op = op
	switch op {
	case "equals", "not_equals":
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "%s compares with a single value (a string, number, boolean or null), not %s; use in: for a list", op, describe(v))
			return false
		}
		c.Value = scalarOf(v)
	case "less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal":
		tag := v.ShortTag()
		if v.Kind != yaml.ScalarNode || tag == nullTag || tag == boolTag {
			p.errorf(v, "%s compares with a number or a string (dates compare as text), not %s", op, describe(v))
			return false
		}
		c.Value = scalarOf(v)
	case "matches":
		pattern, ok := p.text(v, "matches")
		if !ok {
			return false
		}
		if _, err := regexp.Compile(pattern); err != nil {
			p.errorf(v, "matches: bad regular expression: %s (Go RE2 syntax: no lookaround or backreferences)", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return false
		}
		c.Pattern = pattern
		c.Value = scalarOf(v)
	case "is_null", "is_missing":
		b, ok := p.boolean(v, op)
		if !ok {
			return false
		}
		c.Value = Scalar{Text: "false", Tag: boolTag}
		if b {
			c.Value.Text = "true"
		}
	case "in":
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			p.errorf(v, "in takes a non-empty list of values, as in in: [NZ, AU], not %s", describe(v))
			return false
		}
		c.Values = p.scalarList(v, "in", false)
		return len(c.Values) == len(v.Content)
	}
	return true
}
