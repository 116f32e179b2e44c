package engine

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/maskstream/maskstream/rulesets"
)

// ccond is a compiled `if` condition. Conditions read the original record
// and are evaluated once per record, before any rule runs.
type ccond struct {
	op   string
	path rulesets.Path
	val  rulesets.Scalar
	vals []rulesets.Scalar
	re   *regexp.Regexp
	and  []ccond
	or   []ccond
	not  *ccond
}

// compileConds compiles a list of conditions as their conjunction.
func compileConds(cs []rulesets.Condition) (ccond, error) {
	and := make([]ccond, 0, len(cs))
	var errs rulesets.ErrorList
	for i := range cs {
		c, err := compileCond(&cs[i])
		if err != nil {
			errs = append(errs, rulesets.Errors(err)...)
			continue
		}
		and = append(and, c)
	}
	if len(and) == 1 {
		return and[0], errs.Err()
	}
	return ccond{and: and}, errs.Err()
}

func compileCond(c *rulesets.Condition) (ccond, error) {
	switch {
	case len(c.And) > 0:
		return compileConds(c.And)
	case len(c.Or) > 0:
		var errs rulesets.ErrorList
		out := ccond{}
		for i := range c.Or {
			o, err := compileCond(&c.Or[i])
			if err != nil {
				errs = append(errs, rulesets.Errors(err)...)
				continue
			}
			out.or = append(out.or, o)
		}
		return out, errs.Err()
	case c.Not != nil:
		n, err := compileCond(c.Not)
		return ccond{not: &n}, err
	}
	out := ccond{op: c.Op, path: c.Path, val: c.Value, vals: c.Values}
	switch c.Op {
	case "matches":
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			return out, rulesets.Errorf(c.Pos, "if: matches: the pattern does not compile: %v", err)
		}
		out.re = re
	case "equals", "not_equals", "less_than", "less_than_or_equal", "greater_than",
		"greater_than_or_equal", "is_null", "is_missing", "in":
	default:
		return out, rulesets.Errorf(c.Pos, "if: unknown test %q; use equals, not_equals, matches, less_than, less_than_or_equal, greater_than, greater_than_or_equal, is_null, is_missing or in", c.Op)
	}
	return out, nil
}

// evalCond evaluates a compiled condition against the call's document.
func (c *call) evalCond(k *ccond) bool {
	switch {
	case k.and != nil:
		for i := range k.and {
			if !c.evalCond(&k.and[i]) {
				return false
			}
		}
		return true
	case k.or != nil:
		for i := range k.or {
			if c.evalCond(&k.or[i]) {
				return true
			}
		}
		return false
	case k.not != nil:
		return !c.evalCond(k.not)
	}
	v, ok := c.lookupRoot(k.path.Segments)
	switch k.op {
	case "is_missing":
		return !ok != isFalse(k.val)
	case "is_null":
		return (ok && v.Kind == Null) != isFalse(k.val)
	case "equals":
		return ok && scalarEqual(v, k.val)
	case "not_equals":
		return !(ok && scalarEqual(v, k.val))
	case "in":
		if !ok {
			return false
		}
		for _, s := range k.vals {
			if scalarEqual(v, s) {
				return true
			}
		}
		return false
	case "matches":
		return ok && v.IsScalar() && k.re.MatchString(v.S)
	}
	if !ok || !v.IsScalar() {
		return false
	}
	cmp, comparable := compareScalar(v, k.val)
	if !comparable {
		return false
	}
	switch k.op {
	case "less_than":
		return cmp < 0
	case "less_than_or_equal":
		return cmp <= 0
	case "greater_than":
		return cmp > 0
	case "greater_than_or_equal":
		return cmp >= 0
	}
	return false
}

// isFalse reports a scalar written as false (is_null: false).
func isFalse(s rulesets.Scalar) bool {
	return !s.Null && strings.EqualFold(s.Text, "false")
}

// scalarEqual compares a record value with a value written in the ruleset
// (an equals test or a skip_defaults entry), type included: a number
// matches a number of the same value (1.0 equals 1), a string the same
// text written as a string (so skip_defaults: [0] leaves 0 alone but masks
// "0"; write "0" for the string), null matches null only.
func scalarEqual(v Value, s rulesets.Scalar) bool {
	if s.Null {
		return v.Kind == Null
	}
	switch v.Kind {
	case String:
		return v.S == s.Text && (s.Tag == "!!str" || s.Tag == "")
	case Number:
		if v.S == s.Text {
			return true
		}
		a, err1 := strconv.ParseFloat(v.S, 64)
		b, err2 := strconv.ParseFloat(s.Text, 64)
		return err1 == nil && err2 == nil && a == b && s.Tag != "!!str"
	case Bool:
		return strings.EqualFold(v.S, s.Text) && s.Tag != "!!str"
	}
	return false
}

// compareScalar orders a record value against a ruleset value: as numbers
// when both read as numbers, else as text (ISO dates order correctly).
func compareScalar(v Value, s rulesets.Scalar) (int, bool) {
	if s.Null {
		return 0, false
	}
	a, err1 := strconv.ParseFloat(v.S, 64)
	b, err2 := strconv.ParseFloat(s.Text, 64)
	if err1 == nil && err2 == nil {
		switch {
		case a < b:
			return -1, true
		case a > b:
			return 1, true
		}
		return 0, true
	}
	return strings.Compare(v.S, s.Text), true
}

// isDefault reports a skip_defaults value. The usual entries (null and
// "") are answered without a loop: this runs for every selected value.
func (p *program) isDefault(v *Value) bool {
	switch {
	case v.Kind == Null:
		return p.skipNull
	case v.Kind == String && v.S == "":
		if p.skipEmpty {
			return true
		}
	}
	for _, s := range p.skipOther {
		if scalarEqual(*v, s) {
			return true
		}
	}
	return false
}

// setSkip splits skip_defaults into its fast and general parts.
func (p *program) setSkip(skip []rulesets.Scalar) {
	p.skip = skip
	for _, s := range skip {
		switch {
		case s.Null:
			p.skipNull = true
		case s.Text == "" && (s.Tag == "!!str" || s.Tag == ""):
			p.skipEmpty = true
		default:
			p.skipOther = append(p.skipOther, s)
		}
	}
}
