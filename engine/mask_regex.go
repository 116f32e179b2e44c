package engine

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// replace_regex masks the parts of a string that a regular expression
// matches, leaving the rest as it was. Each match (or, with group, only
// that capture group of each match) goes through masks as a string of its
// own, so equal matches get equal replacements; or it is replaced by the
// fixed value. Patterns are Go RE2 syntax (no backreferences or
// lookaround), compiled when the ruleset loads.

func init() { register("replace_regex", newReplaceRegex) }

type replaceRegexParams struct {
	Regex string     `yaml:"regex" ms:"required"`
	Masks *yaml.Node `yaml:"masks"`
	// Value (ours) replaces every match with fixed text instead of masks.
	Value *string `yaml:"value"`
	// Group (ours) masks only this capture group of each match: its
	// number, or its name from (?P<name>...).
	Group *rulesets.Scalar `yaml:"group"`
}

type replaceRegexMask struct {
	re    *regexp.Regexp
	masks Pipeline
	value *string
	group int
}

func newReplaceRegex(p *Params) (Mask, error) {
	var ps replaceRegexParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	if ps.Regex == "" {
		return nil, p.ErrorAt(p.Param("regex"), "regex is empty; give the pattern of the parts to mask")
	}
	re, err := regexp.Compile(ps.Regex)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		return nil, p.ErrorAt(p.Param("regex"), "regex does not compile (Go RE2 syntax; no backreferences or lookaround): %s", msg)
	}
	m := &replaceRegexMask{re: re, value: ps.Value}
	switch {
	case ps.Masks != nil && ps.Value != nil:
		return nil, p.ErrorAt(p.Param("value"), "give either masks or value, not both")
	case ps.Masks == nil && ps.Value == nil:
		return nil, p.Errorf("replace_regex needs masks (the masks each match goes through) or value (fixed replacement text)")
	case ps.Masks != nil:
		if m.masks, err = p.nestedPipeline(ps.Masks, "masks", xfPipelineExample); err != nil {
			return nil, err
		}
	}
	if ps.Group != nil {
		at := p.Param("group")
		if ps.Group.Tag == "!!int" {
			g, err := strconv.Atoi(ps.Group.Text)
			if err != nil || g < 0 || g > re.NumSubexp() {
				return nil, p.ErrorAt(at, "group %s does not exist: the regex has %d capture groups", ps.Group.Text, re.NumSubexp())
			}
			m.group = g
		} else {
			g := re.SubexpIndex(ps.Group.Text)
			if g < 0 {
				return nil, p.ErrorAt(at, "the regex has no group named %q; name one with (?P<name>...)", ps.Group.Text)
			}
			m.group = g
		}
	}
	return m, nil
}

func (m *replaceRegexMask) Apply(c *Ctx, v Value) (Value, error) {
	text, err := xfTextOf(v, "replace_regex")
	if err != nil {
		return Value{}, err
	}
	matches := m.re.FindAllStringSubmatchIndex(text, -1)
	if len(matches) == 0 {
		return v, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, mt := range matches {
		lo, hi := mt[2*m.group], mt[2*m.group+1]
		// An empty match, or a group that took no part in it, has
		// nothing to mask.
		if lo < 0 || lo == hi {
			continue
		}
		rep := ""
		if m.value != nil {
			rep = *m.value
		} else if rep, err = c.runForText(m.masks, xfNotText, text[lo:hi]); err != nil {
			return Value{}, err
		}
		b.WriteString(text[last:lo])
		b.WriteString(rep)
		last = hi
	}
	b.WriteString(text[last:])
	return xfSameKind(v, b.String())
}
