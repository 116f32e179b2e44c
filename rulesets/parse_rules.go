package rulesets

import (
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Keys of a rule: a masking rule uses the first group, a conditional rule
// the second; name goes with either.
var (
	maskingRuleKeys     = []string{"path", "paths", "hash_sources", "masks", "on_missing", "on_null"}
	conditionalRuleKeys = []string{"if", "rules", "else_rules"}
	ruleKeys            = slices.Concat([]string{"name"}, maskingRuleKeys, conditionalRuleKeys)
)

// rules reads a list of rules. prefix is the index path of the enclosing
// rule list ("" at the top, "2.rules." inside rule 2).
func (p *parser) rules(n *yaml.Node, prefix string) []Rule {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "rules takes a list of rules, as in rules: [ {path: \"$.email\", masks: [ {type: imitate} ]} ], not %s", describe(n))
		return nil
	}
	out := make([]Rule, 0, len(n.Content))
	for i, e := range n.Content {
		out = append(out, p.rule(e, prefix+strconv.Itoa(i)))
	}
	return out
}

// rule reads one rule; index is its index path ("3", "2.rules.0"), its
// metrics name unless it has a name.
func (p *parser) rule(n *yaml.Node, index string) Rule {
	r := Rule{Name: index, Pos: nodePos(p.file, n), OnMissing: ActionSkip, OnNull: ActionSkip}
	where := "rule " + index
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping such as {path: \"$.email\", masks: [ {type: imitate} ]}, not %s", where, describe(n))
		return r
	}
	f := map[string]pair{}
	for _, kv := range pairs(p.file, n, &p.errs) {
		if !slices.Contains(ruleKeys, kv.key.Value) {
			p.errs = append(p.errs, p.unknown(kv.key, where, ruleKeys))
			continue
		}
		f[kv.key.Value] = kv
	}

	explicit := false
	if kv, ok := f["name"]; ok {
		if s, ok := p.text(kv.val, "name"); ok {
			r.Name, explicit = s, true
		}
	}
	p.claimName(r.Name, n, explicit)

	if kv, ok := f["if"]; ok {
		p.conditional(&r, n, kv, f, where, index)
		return r
	}
	for _, k := range conditionalRuleKeys[1:] {
		if kv, ok := f[k]; ok {
			p.errorf(kv.key, "%s goes with if: in a conditional rule; add if: [conditions] to %s, or move these rules up into the list", k, where)
		}
	}

	_, hasPath := f["path"]
	if kv, ok := f["paths"]; ok && hasPath {
		p.errorf(kv.key, "%s has both path and paths; give one path: or a list under paths:", where)
	}
	if kv, ok := f["path"]; ok {
		if path, err := PathFromNode(kv.val, p.file); err != nil {
			p.add(err)
		} else {
			r.Paths = []Path{path}
		}
	} else if kv, ok := f["paths"]; ok {
		r.Paths = p.pathList(kv.val, "paths", false)
	}
	if kv, ok := f["hash_sources"]; ok {
		r.HashSources = p.hashSources(kv.val)
	}
	if kv, ok := f["masks"]; ok {
		r.Masks = p.masks(kv.val, where)
	} else {
		p.errorf(n, "%s has no masks; add masks: [ {type: ...} ] (or if: with rules: for a conditional rule)", where)
	}
	if kv, ok := f["on_missing"]; ok {
		r.OnMissing = p.action(kv.val, "on_missing", map[string]string{"skip": ActionSkip, "error": ActionError},
			"skip (leave the message as it is) or error (send it to the dead letters)")
	}
	if kv, ok := f["on_null"]; ok {
		r.OnNull = p.action(kv.val, "on_null", map[string]string{"skip": ActionSkip, "error": ActionError, "mask": ActionNull},
			"skip (leave the null), mask (pass the null to the masks) or error (send the message to the dead letters)")
	}
	return r
}

func (p *parser) conditional(r *Rule, n *yaml.Node, ifKV pair, f map[string]pair, where, index string) {
	for _, k := range maskingRuleKeys {
		if kv, ok := f[k]; ok {
			p.errorf(kv.key, "%s does not belong in a conditional rule (one with if:); put it in a rule under rules: or else_rules:", k)
		}
	}
	r.If = p.conditionList(ifKV.val, "if")
	if len(r.If) == 0 {
		// Keep IsConditional true so the rule is not taken for a masking
		// rule; the error is already reported.
		r.If = []Condition{{Pos: nodePos(p.file, ifKV.val)}}
	}
	kvRules, hasRules := f["rules"]
	kvElse, hasElse := f["else_rules"]
	if hasRules && !isNull(kvRules.val) {
		r.Rules = p.rules(kvRules.val, index+".rules.")
	}
	if hasElse && !isNull(kvElse.val) {
		r.ElseRules = p.rules(kvElse.val, index+".else_rules.")
	}
	switch {
	case !hasRules && !hasElse:
		p.errorf(n, "%s has if: but no rules:; add rules: (applied when the conditions hold) and optionally else_rules:", where)
	case emptyList(kvRules.val) && emptyList(kvElse.val):
		p.errorf(n, "%s has if: but its rules: and else_rules: are empty; give at least one rule", where)
	}
}

// emptyList reports whether n is absent, null or an empty list.
func emptyList(n *yaml.Node) bool {
	return isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0
}

// pathList reads a list of paths (paths:, hash_sources in our form).
func (p *parser) pathList(n *yaml.Node, key string, emptyOK bool) []Path {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s takes a list of paths, as in %s: [\"$.a\", \"$.b\"], not %s", key, key, describe(n))
		return nil
	}
	if len(n.Content) == 0 && !emptyOK {
		p.errorf(n, "%s is empty; list at least one path", key)
		return nil
	}
	out := make([]Path, 0, len(n.Content))
	for _, e := range n.Content {
		if path, err := PathFromNode(e, p.file); err != nil {
			p.add(err)
		} else {
			out = append(out, path)
		}
	}
	return out
}

// hashSources reads hash_sources. An entry is our JSONPath string
// ("$.customer.id"), DataMasque's list form ([customer, id]), or a mapping
// {json_path: ...} / {path: ...} as DataMasque writes hash sources.
func (p *parser) hashSources(n *yaml.Node) []Path {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "hash_sources takes a list, as in hash_sources: [\"$.customer.id\"], not %s", describe(n))
		return nil
	}
	var out []Path
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			if path, err := PathFromNode(e, p.file); err != nil {
				p.add(err)
			} else {
				out = append(out, path)
			}
			continue
		}
		var val *yaml.Node
		allowed := []string{"json_path", "path"}
		for _, kv := range pairs(p.file, e, &p.errs) {
			if !slices.Contains(allowed, kv.key.Value) {
				p.errs = append(p.errs, p.unknown(kv.key, "a hash source", allowed))
				continue
			}
			if val != nil {
				p.errorf(kv.key, "a hash source takes one of json_path or path, not both")
				continue
			}
			val = kv.val
		}
		if val == nil {
			p.errorf(e, "a hash source mapping needs json_path: [a, b] (or path: \"$.a.b\")")
			continue
		}
		if path, err := PathFromNode(val, p.file); err != nil {
			p.add(err)
		} else {
			out = append(out, path)
		}
	}
	return out
}

// action reads on_missing / on_null: the spelling given maps to one of the
// Action constants.
func (p *parser) action(n *yaml.Node, key string, values map[string]string, help string) string {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == strTag {
		if a, ok := values[n.Value]; ok {
			return a
		}
	}
	p.errorf(n, "%s takes %s", key, help)
	return ActionSkip
}

// claimName records a rule's metrics label, which must be unique.
func (p *parser) claimName(name string, n *yaml.Node, explicit bool) {
	if prev, dup := p.names[name]; dup {
		switch {
		case explicit && prev.explicit:
			p.errorf(n, "rule name %q is already used by the rule at line %d; names label metrics, so give each rule its own", name, prev.line)
		case explicit:
			p.errorf(n, "rule name %q is also the automatic name (index) of the rule at line %d; pick another name", name, prev.line)
		default:
			p.errorf(n, "this rule's automatic name %q (its index) is taken by the rule named so at line %d; rename that rule", name, prev.line)
		}
		return
	}
	p.names[name] = ruleName{line: n.Line, explicit: explicit}
}
