package processor

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// Rulesets gives a route its compiled ruleset and tells it when the
// ruleset changes. *rulesets.Store[*engine.Masker] implements it.
type Rulesets interface {
	Get(name string) (*rulesets.Entry[*engine.Masker], bool)
	Subscribe(fn func(rulesets.Change[*engine.Masker])) (cancel func())
}

var _ Rulesets = (*rulesets.Store[*engine.Masker])(nil)

// Compiler returns the store's compile function for the daemon's limits.
func Compiler(maxBytes, maxDepth int) rulesets.CompileFunc[*engine.Masker] {
	return func(rs *rulesets.Ruleset) (*engine.Masker, error) {
		return engine.Compile(rs, engine.Options{MaxBytes: maxBytes, MaxDepth: maxDepth})
	}
}

// compiled is one version of a route's ruleset with what the hot path
// needs precomputed.
type compiled struct {
	name   string
	serial int64
	m      *engine.Masker
	// noKey: the ruleset leaves keys alone; masksHeaders: it may change
	// headers (header rules, or redact_secrets checking their names).
	noKey, masksHeaders bool
	nrules              int
	// counters are fields_masked_total{ruleset,rule}, index-aligned with
	// the masker's rules.
	counters []prometheus.Counter
	// rules are the counters' rule labels.
	rules []string
	// unmatched watches for rules whose paths reach no field.
	unmatched unmatched
}

func newCompiled(e *rulesets.Entry[*engine.Masker], m *Metrics) (*compiled, error) {
	if e == nil || e.Compiled == nil {
		return nil, fmt.Errorf("processor: ruleset has no compiled form")
	}
	c := &compiled{
		name:         e.Name,
		serial:       e.Serial,
		m:            e.Compiled,
		noKey:        !e.Compiled.MasksKey(),
		masksHeaders: e.Compiled.MasksHeaders(),
		nrules:       e.Compiled.NumRules(),
	}
	for i, n := range e.Compiled.RuleNames() {
		if n == "" {
			n = fmt.Sprintf("rule%d", i+1)
		}
		c.counters = append(c.counters, m.FieldsMasked.WithLabelValues(e.Name, n))
		c.rules = append(c.rules, n)
	}
	c.unmatched.init(e.Ruleset, e.Compiled)
	return c, nil
}

// binding holds the ruleset a route masks with; reloads swap it without
// pausing the lanes (each chunk loads it once).
type binding struct {
	cur atomic.Pointer[compiled]
}

func (b *binding) load() *compiled { return b.cur.Load() }

// dropRetiredRules deletes the fields_masked_total series of old's rules
// that cur no longer has (renamed, removed, or moved: an unnamed rule's
// label is its index), so a dashboard does not list rules that stopped
// existing, one set per reload. Counts a chunk still masking with old
// adds afterwards are not exported: the rule is gone.
func dropRetiredRules(m *Metrics, old, cur *compiled) {
	if old == nil || old.name != cur.name {
		return
	}
	for _, n := range old.rules {
		if !slices.Contains(cur.rules, n) {
			m.FieldsMasked.DeleteLabelValues(old.name, n)
		}
	}
}
