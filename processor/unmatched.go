package processor

import (
	"log/slog"
	"sync/atomic"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// unmatchedAfter is how many records a ruleset version masks before its
// rules are judged: enough that a field present in most records has been
// seen, few enough that a typo is reported within seconds on a busy topic.
const unmatchedAfter = 10_000

// unmatched names, once per ruleset version and route, the rules whose
// paths reached no field in its first unmatchedAfter records. A mistyped
// path ($.emial, $.Phone, $.items.name on an array) validates and masks
// nothing, and the field it meant goes downstream unmasked: without this
// only an absent fields_masked_total series would say so.
type unmatched struct {
	rules   []rulesets.LeafRule
	found   []atomic.Uint64
	records atomic.Uint64
	judged  atomic.Bool
}

func (u *unmatched) init(rs *rulesets.Ruleset, m *engine.Masker) {
	u.found = make([]atomic.Uint64, m.NumRules())
	if rs != nil {
		u.rules = rs.LeafRules()
	}
	names := m.RuleNames()
	same := len(u.rules) == len(names)
	for i := 0; same && i < len(names); i++ {
		same = u.rules[i].Name == names[i]
	}
	if !same {
		// Described by name alone should the engine ever flatten rules
		// otherwise than LeafRules.
		u.rules = make([]rulesets.LeafRule, len(names))
		for i, n := range names {
			u.rules[i] = rulesets.LeafRule{Index: n, Name: n}
		}
	}
}

// add counts one chunk: records masked, and the values each rule reached
// (engine.CallOptions.Found). It judges once enough records were seen.
func (u *unmatched) add(found []uint32, records int, ruleset string, log *slog.Logger) {
	if u.judged.Load() {
		return
	}
	for i, n := range found {
		if n > 0 {
			u.found[i].Add(uint64(n))
		}
	}
	seen := u.records.Add(uint64(records))
	if seen < unmatchedAfter || !u.judged.CompareAndSwap(false, true) {
		return
	}
	for i := range u.found {
		if u.found[i].Load() > 0 {
			continue
		}
		r := u.rules[i]
		log.Warn("a rule matched no field in the ruleset's first records: if its path is wrong, the field it meant goes downstream unmasked; check the path against a sample record (maskstream mask -r names such rules)",
			"ruleset", ruleset, "rule", r.Describe(), "records", seen, "inside_if", r.Conditional)
	}
}
