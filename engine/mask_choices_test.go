package engine

import (
	"fmt"
	"testing"
)

func TestFromChoices(t *testing.T) {
	pl := genKit.testMask(t, `{type: from_choices, choices: [Visa, Mastercard, 3, true, null, "4"]}`)
	allowed := map[string]bool{}
	for _, v := range []Value{Str("Visa"), Str("Mastercard"), Num("3"), Boolean(true), NullValue, Str("4")} {
		allowed[fmt.Sprint(v.Kind, v.S)] = true
	}
	seen := map[string]bool{}
	for i := range 300 {
		got := genKit.must(t, pl, Str(fmt.Sprint("card-", i)))
		key := fmt.Sprint(got.Kind, got.S)
		if !allowed[key] {
			t.Fatalf("Apply gave %+v, not one of the choices (with its type)", got)
		}
		seen[key] = true
	}
	if len(seen) != len(allowed) {
		t.Errorf("300 draws picked %d of the %d choices", len(seen), len(allowed))
	}
	genKit.checkDeterminism(t, pl, Str("a"), Str("b"), Str("c"), Str("d"), Str("e"))
}

func TestFromChoicesWeights(t *testing.T) {
	pl := genKit.testMask(t, `{type: from_choices, choices: [a, b, never, c], weights: [6, 3, 0, 1]}`)
	counts := map[string]int{}
	const n = 6000
	for i := range n {
		counts[genKit.must(t, pl, Num(fmt.Sprint(i))).S]++
	}
	if counts["never"] != 0 {
		t.Errorf("a choice of weight 0 was picked %d times", counts["never"])
	}
	// The draws are deterministic, so these bounds (about 5 standard
	// deviations wide) cannot flake.
	for c, want := range map[string]float64{"a": 0.6, "b": 0.3, "c": 0.1} {
		got := float64(counts[c]) / n
		if got < want-0.04 || got > want+0.04 {
			t.Errorf("choice %s: share %.3f, want about %.2f", c, got, want)
		}
	}
}

func TestFromChoicesErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing choices", `{type: from_choices}`, "1:1", `missing required key "choices"`},
		{"empty choices", "type: from_choices\nchoices: []\n", "2:10", "choices is empty"},
		{"choices not a list", "type: from_choices\nchoices: abc\n", "2:10", "takes a list"},
		{"weights count", "type: from_choices\nchoices: [a, b]\nweights: [1]\n", "3:10", "1 entries for 2 choices"},
		{"negative weight", "type: from_choices\nchoices: [a, b]\nweights: [1, -2]\n", "3:14", "weights[1] must be a finite number of zero or more"},
		{"weights sum to zero", "type: from_choices\nchoices: [a, b]\nweights: [0, 0]\n", "3:10", "sum to zero"},
		{"weight not a number", "type: from_choices\nchoices: [a, b]\nweights: [1, x]\n", "3:14", "takes a number"},
		{"infinite choice", "type: from_choices\nchoices: [.inf]\n", "2:11", "choices[0]"},
	})
}
