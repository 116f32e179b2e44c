package processor

import (
	"errors"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// RulesetLister lists the stored rulesets, sorted by name;
// *rulesets.Store[*engine.Masker] implements it.
type RulesetLister interface {
	List() []*rulesets.Entry[*engine.Masker]
}

// rulesetHealth exports maskstream_ruleset_healthy{ruleset}: 1 while what
// serves is what the ruleset's file says, 0 while its file is broken (the
// last reload failed and the previous version serves) or gone while a
// route still masks with it (a plan uploaded under its name does not count:
// routes mask with files only).
//
// ruleset_reloads_total counts a failed reload once, when the file
// changes, so an alert on its increase clears after its window while the
// file is still broken, and a removed file counts as a success. A gauge
// read at scrape time stays 0 for as long as the problem lasts.
type rulesetHealth struct {
	store RulesetLister
	// inUse names the rulesets routes mask with (nil under serve).
	inUse []string
	desc  *prometheus.Desc
}

// RegisterRulesetHealth registers maskstream_ruleset_healthy on reg for
// the rulesets of store; inUse are the rulesets routes mask with, which
// report 0 when their file is gone. Registering on a registry that has
// it already is not an error (two processors may share one).
func RegisterRulesetHealth(reg prometheus.Registerer, store RulesetLister, inUse []string) error {
	c := &rulesetHealth{
		store: store,
		inUse: inUse,
		desc: prometheus.NewDesc(Namespace+"_ruleset_healthy",
			"1 while a ruleset serves what its file holds; 0 while its last reload failed (the previous version serves) or its file is gone but a route still masks with it.",
			[]string{"ruleset"}, nil),
	}
	if err := reg.Register(c); err != nil {
		if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
			return nil
		}
		return err
	}
	return nil
}

func (c *rulesetHealth) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *rulesetHealth) Collect(ch chan<- prometheus.Metric) {
	seen := make(map[string]bool)
	for _, e := range c.store.List() {
		seen[e.Name] = true
		v := healthValue(e)
		if e.Source != rulesets.SourceFile && slices.Contains(c.inUse, e.Name) {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, e.Name)
	}
	for _, name := range c.inUse {
		if !seen[name] {
			seen[name] = true
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 0, name)
		}
	}
}

// healthValue reads the entry's newest log, as the status page does: the
// store logs every load, reload and upload there, and a failed reload as
// an error while the previous version keeps serving.
func healthValue(e *rulesets.Entry[*engine.Masker]) float64 {
	if n := len(e.Logs); n > 0 && e.Logs[n-1].Level == rulesets.LogError {
		return 0
	}
	return 1
}
