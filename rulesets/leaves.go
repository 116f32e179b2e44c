package rulesets

import "strconv"

// LeafRule is a rule that masks, with where it sits in its ruleset: the
// rules of an if are flattened into their parent's list. It says where a
// rule is, never what it met in a record.
type LeafRule struct {
	// Index is the rule's place: "2", or "0.rules.1" and "0.else_rules.0"
	// inside an if.
	Index string
	Name  string
	Paths []string
	Pos   Pos
	// Conditional is set for a rule inside an if (or its else_rules),
	// which reaches no field while its condition does not hold.
	Conditional bool
}

// LeafRules lists the rules that mask, in the order engine.Compile
// numbers them: file order, an if's rules then its else_rules in place of
// the if.
func (rs *Ruleset) LeafRules() []LeafRule {
	return leafRules(nil, rs.Rules, "", false)
}

func leafRules(out []LeafRule, rules []Rule, prefix string, conditional bool) []LeafRule {
	for i := range rules {
		r := &rules[i]
		index := prefix + strconv.Itoa(i)
		if r.IsConditional() {
			out = leafRules(out, r.Rules, index+".rules.", true)
			out = leafRules(out, r.ElseRules, index+".else_rules.", true)
			continue
		}
		l := LeafRule{Index: index, Name: r.Name, Pos: r.Pos, Conditional: conditional}
		for _, p := range r.Paths {
			l.Paths = append(l.Paths, p.Text)
		}
		if len(r.Paths) > 0 {
			l.Pos = r.Paths[0].Pos
		}
		out = append(out, l)
	}
	return out
}

// Describe names the rule for a message: `rule 2 "email" ($.emial)`.
func (l LeafRule) Describe() string {
	s := "rule " + l.Index
	if l.Name != "" && l.Name != l.Index {
		s += " " + strconv.Quote(l.Name)
	}
	if len(l.Paths) > 0 {
		s += " ("
		for i, p := range l.Paths {
			if i > 0 {
				s += ", "
			}
			s += p
		}
		s += ")"
	}
	return s
}
