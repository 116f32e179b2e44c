package processor

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/connectors"
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
	// valueOnly: the ruleset masks neither keys nor headers, so the
	// route masks the value into a reused buffer (MaskValue) instead of
	// MaskRecord, which allocates.
	valueOnly bool
	// noKey: the ruleset leaves keys alone, so a record without headers
	// needs only its value masked even when the ruleset may change
	// headers (redact_secrets checks every header's name: with it on, as
	// by default, valueOnly is false).
	noKey  bool
	nrules int
	// counters are fields_masked_total{ruleset,rule}, index-aligned with
	// the masker's rules.
	counters []prometheus.Counter
}

func newCompiled(e *rulesets.Entry[*engine.Masker], m *Metrics) (*compiled, error) {
	if e == nil || e.Compiled == nil {
		return nil, fmt.Errorf("processor: ruleset has no compiled form")
	}
	c := &compiled{
		name:   e.Name,
		serial: e.Serial,
		m:      e.Compiled,
		noKey:  !e.Compiled.MasksKey(),
		nrules: e.Compiled.NumRules(),
	}
	c.valueOnly = c.noKey && !e.Compiled.MasksHeaders()
	for i, n := range e.Compiled.RuleNames() {
		if n == "" {
			n = fmt.Sprintf("rule%d", i+1)
		}
		c.counters = append(c.counters, m.FieldsMasked.WithLabelValues(e.Name, n))
	}
	return c, nil
}

// valueOnlyFor reports whether rec may take the value-only path: MaskRecord
// would change nothing but its value.
func (c *compiled) valueOnlyFor(rec *connectors.Record) bool {
	return c.valueOnly || c.noKey && len(rec.Headers) == 0
}

// binding holds the ruleset a route masks with; reloads swap it without
// pausing the lanes (each chunk loads it once).
type binding struct {
	cur atomic.Pointer[compiled]
}

func (b *binding) load() *compiled { return b.cur.Load() }
