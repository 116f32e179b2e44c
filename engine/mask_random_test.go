package engine

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestFromRandomText(t *testing.T) {
	tests := []struct {
		src      string
		re       string
		min, max int
	}{
		{`{type: from_random_text, max: 8}`, `^[a-zA-Z]+$`, 1, 8},
		{`{type: from_random_text, min: 5, max: 5, case: upper}`, `^[A-Z]+$`, 5, 5},
		{`{type: from_random_text, min: 3, max: 6, case: lower}`, `^[a-z]+$`, 3, 6},
		{`{type: from_random_text, min: 4, max: 4, case: mixed}`, `^[a-zA-Z]+$`, 4, 4},
		{`{type: from_random_text, min: 0, max: 2, characters: "0-9_\\-"}`, `^[0-9_-]*$`, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			re := regexp.MustCompile(tt.re)
			lengths := map[int]bool{}
			for i := range 200 {
				out := genKit.must(t, pl, Str(fmt.Sprint("v", i)))
				if out.Kind != String || !re.MatchString(out.S) || len(out.S) < tt.min || len(out.S) > tt.max {
					t.Fatalf("output %+v is outside %s of length %d..%d", out, tt.re, tt.min, tt.max)
				}
				lengths[len(out.S)] = true
			}
			if len(lengths) != tt.max-tt.min+1 {
				t.Errorf("saw %d lengths, want all of %d..%d", len(lengths), tt.min, tt.max)
			}
		})
	}
	genKit.checkDeterminism(t, genKit.testMask(t, `{type: from_random_text, max: 10}`), Str("a"), Str("b"))
	if _, err := genKit.run(genKit.testMask(t, `{type: from_random_text, max: 3}`), genSecret, Num("7"), nil); err == nil {
		t.Error("letters replaced a number without an error")
	}
}

func TestFromRandomTextErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing max", `{type: from_random_text, min: 2}`, "1:1", `missing required key "max"`},
		{"max zero", "type: from_random_text\nmax: 0\n", "2:6", "max must be between 1 and 65536"},
		{"max huge", "type: from_random_text\nmax: 1000000\n", "2:6", "max must be between"},
		{"negative min", "type: from_random_text\nmax: 3\nmin: -1\n", "3:6", "min must not be negative"},
		{"min above max", "type: from_random_text\nmax: 3\nmin: 4\n", "3:6", "min (4) is greater than max (3)"},
		{"bad case", "type: from_random_text\nmax: 3\ncase: title\n", "3:7", "case must be lower, upper or mixed"},
		{"case and characters", "type: from_random_text\nmax: 3\ncase: lower\ncharacters: a-c\n", "4:13", "not both"},
		{"bad characters", "type: from_random_text\nmax: 3\ncharacters: z-a\n", "3:13", "characters: at byte 0: the range z-a runs backwards"},
		{"bracket in characters", "type: from_random_text\nmax: 3\ncharacters: a]b\n", "3:13", "escaped"},
		{"max not a number", "type: from_random_text\nmax: ten\n", "2:6", "whole number"},
	})
}

func TestFromRandomNumber(t *testing.T) {
	tests := []struct {
		src    string
		in     Value
		re     string
		lo, hi string // inclusive bounds
		kind   Kind
	}{
		{`{type: from_random_number, min: 1, max: 200}`, Num("30"), `^[0-9]+$`, "1", "200", Number},
		{`{type: from_random_number, max: 5}`, Num("3"), `^[0-5]$`, "0", "5", Number},
		{`{type: from_random_number, min: 1, max: 200, decimal_places: 2}`, Num("10.00"), `^[0-9]+\.[0-9]{2}$`, "1", "200", Number},
		{`{type: from_random_number, min: -1.5, max: 1.5, decimal_places: 1}`, Num("0"), `^-?[0-9]\.[0-9]$`, "-1.5", "1.5", Number},
		{`{type: from_random_number, min: 0.001, max: 0.009, decimal_places: 3}`, Num("0"), `^0\.00[1-9]$`, "0.001", "0.009", Number},
		{`{type: from_random_number, min: 1.2, max: 3.8}`, Num("2"), `^[23]$`, "2", "3", Number},
		{`{type: from_random_number, min: 10, max: 99}`, Str("42"), `^[0-9]{2}$`, "10", "99", String},
		{`{type: from_random_number, min: 1, max: 100, mode: 1}`, NullValue, `^[0-9]+$`, "1", "100", Number},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			re := regexp.MustCompile(tt.re)
			lo, _ := new(big.Rat).SetString(tt.lo)
			hi, _ := new(big.Rat).SetString(tt.hi)
			for i := range 300 {
				out, err := genKit.run(pl, fmt.Sprint(genSecret, i), tt.in, nil)
				if err != nil {
					t.Fatal(err)
				}
				v, ok := new(big.Rat).SetString(out.S)
				if out.Kind != tt.kind || !re.MatchString(out.S) || !ok || v.Cmp(lo) < 0 || v.Cmp(hi) > 0 {
					t.Fatalf("output %+v is outside [%s, %s] or not like %s", out, tt.lo, tt.hi, tt.re)
				}
			}
		})
	}
	t.Run("mode skews the draws", func(t *testing.T) {
		pl := genKit.testMask(t, `{type: from_random_number, min: 1, max: 100, mode: 1}`)
		low := 0
		for i := range 1000 {
			out := genKit.must(t, pl, Int(int64(i)))
			if len(out.S) == 1 {
				low++
			}
		}
		// A triangular distribution peaking at 1 puts about 17% of the
		// draws below 10, a uniform one 9%.
		if low < 130 {
			t.Errorf("%d of 1000 draws below 10, want about 170", low)
		}
	})
	genKit.checkDeterminism(t, genKit.testMask(t, `{type: from_random_number, max: 1000000}`), Num("1"), Num("2"))
}

func TestFromRandomNumberErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing max", `{type: from_random_number, min: 1}`, "1:1", `missing required key "max"`},
		{"max not a number", "type: from_random_number\nmax: lots\n", "2:6", "max must be a number"},
		{"quoted max", "type: from_random_number\nmax: \"10\"\n", "2:6", "max must be a number"},
		{"min above max", "type: from_random_number\nmin: 10\nmax: 5\n", "3:6", "no number with 0 decimal places"},
		{"empty integer range", "type: from_random_number\nmin: 1.2\nmax: 1.8\n", "3:6", "no number with 0 decimal places"},
		{"mode outside", "type: from_random_number\nmax: 5\nmode: 6\n", "3:7", "mode must lie between min and max"},
		{"decimal places", "type: from_random_number\nmax: 5\ndecimal_places: 16\n", "3:17", "decimal_places must be between 0 and 15"},
		{"too big", "type: from_random_number\nmax: 1e30\n", "1:1", "within ±9.2e18"},
	})
}

func TestFromRandomBoolean(t *testing.T) {
	pl := genKit.testMask(t, `{type: from_random_boolean}`)
	tests := []struct {
		in   Value
		kind Kind
		vals string
	}{
		{Boolean(true), Bool, "true false"},
		{NullValue, Bool, "true false"},
		{Num("1"), Number, "0 1"},
		{Str("yes"), String, "true false"},
	}
	for _, tt := range tests {
		seen := map[string]bool{}
		for i := range 40 {
			out, err := genKit.run(pl, fmt.Sprint(genSecret, i), tt.in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if out.Kind != tt.kind || !strings.Contains(tt.vals, out.S) {
				t.Fatalf("%+v → %+v", tt.in, out)
			}
			seen[out.S] = true
		}
		if len(seen) != 2 {
			t.Errorf("%+v: 40 secrets gave only %v", tt.in, seen)
		}
	}
	genKit.checkBad(t, []maskBadCase{{"no parameters", "type: from_random_boolean\nmax: 1\n", "2:1", "max"}})
}
