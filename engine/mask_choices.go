package engine

import (
	"math"
	"slices"

	"gopkg.in/yaml.v3"
)

// from_choices (DataMasque): picks one of a list of values, optionally
// weighted.
//
//	masks:
//	  - type: from_choices
//	    choices: [Visa, Mastercard, Amex]
//	    weights: [0.5, 0.4, 0.1]
//
// Each choice keeps its YAML type, as with from_fixed: [1, 2, 3] gives
// numbers, ["1", "2"] strings. weights, when given, has one non-negative
// number per choice; they need not sum to 1. Unlike the other generators,
// from_choices may return the original value: with few choices, avoiding
// the original would give it away.
func init() { register("from_choices", newFromChoices) }

type fromChoicesParams struct {
	Choices []*yaml.Node `yaml:"choices" ms:"required"`
	Weights []float64    `yaml:"weights"`
}

type fromChoices struct {
	vals []Value
	// cum holds the running sums of the weights; nil means uniform.
	cum []float64
}

func newFromChoices(p *Params) (Mask, error) {
	var prm fromChoicesParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	if len(prm.Choices) == 0 {
		return nil, p.ErrorAt(p.Param("choices"), "choices is empty; list at least one value")
	}
	m := fromChoices{vals: make([]Value, len(prm.Choices))}
	for i, n := range prm.Choices {
		v, err := genYAMLValue(n, true)
		if err != nil {
			return nil, p.ErrorAt(n, "choices[%d]: %v", i, err)
		}
		m.vals[i] = v
	}
	if prm.Weights == nil {
		return m, nil
	}
	wn := p.Param("weights")
	if len(prm.Weights) != len(prm.Choices) {
		return nil, p.ErrorAt(wn, "weights has %d entries for %d choices; give one weight per choice", len(prm.Weights), len(prm.Choices))
	}
	m.cum = make([]float64, len(prm.Weights))
	total := 0.0
	for i, w := range prm.Weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			at := wn
			if wn != nil && i < len(wn.Content) {
				at = wn.Content[i]
			}
			return nil, p.ErrorAt(at, "weights[%d] must be a finite number of zero or more", i)
		}
		total += w
		m.cum[i] = total
	}
	if total <= 0 {
		return nil, p.ErrorAt(wn, "the weights sum to zero; give at least one choice a positive weight")
	}
	return m, nil
}

func (m fromChoices) Apply(c *Ctx, _ Value) (Value, error) {
	r := c.Rand()
	if m.cum == nil {
		return m.vals[r.IntN(len(m.vals))], nil
	}
	x := r.Float64() * m.cum[len(m.cum)-1]
	// The first running sum above x; a zero weight never wins, as its sum
	// equals the one before.
	i, _ := slices.BinarySearchFunc(m.cum, x, func(s, x float64) int {
		if s <= x {
			return -1
		}
		return 1
	})
	return m.vals[min(i, len(m.vals)-1)], nil
}
