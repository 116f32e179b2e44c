package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestIRDCheckDigit(t *testing.T) {
	valid := []int{49091850, 35901981, 49098576, 136410132}
	invalid := []int{136410133, 9125568, 150000000, 49091851, 10000000}
	for _, n := range valid {
		if !irdValid(n) {
			t.Errorf("%d should be a valid IRD number", n)
		}
	}
	for _, n := range invalid {
		if irdValid(n) {
			t.Errorf("%d should not be a valid IRD number", n)
		}
	}
}

func TestImitateNZIRD(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_nz_ird}`)
	tests := []struct {
		in Value
		re string
	}{
		{Str("49-091-850"), `^\d\d-\d\d\d-\d\d\d$`},
		{Str("49091850"), `^\d{8}$`},
		{Str("049-091-850"), `^0\d\d-\d\d\d-\d\d\d$`},
		{Str("136 410 132"), `^1\d\d \d\d\d \d\d\d$`},
		{Num("35901981"), `^\d{8}$`},
		{Num("136410132"), `^1\d{8}$`},
	}
	for _, tt := range tests {
		t.Run(tt.in.S, func(t *testing.T) {
			out := genKit.must(t, pl, tt.in)
			if out.Kind != tt.in.Kind || !regexp.MustCompile(tt.re).MatchString(out.S) {
				t.Fatalf("%s → %+v, want the shape %s", tt.in.S, out, tt.re)
			}
			n, _ := strconv.Atoi(strings.NewReplacer("-", "", " ", "").Replace(out.S))
			if !irdValid(n) {
				t.Errorf("%s → %s is not a valid IRD number", tt.in.S, out.S)
			}
			if out.S == tt.in.S {
				t.Errorf("%s came back unchanged", tt.in.S)
			}
		})
	}
	genKit.checkDeterminism(t, pl, Str("49-091-850"), Num("136410132"))
	t.Run("injective", func(t *testing.T) {
		var in []Value
		for base := 4_000_000; base < 4_030_000; base++ {
			if n, ok := irdComplete(base); ok {
				in = append(in, Str(fmt.Sprintf("%08d", n)))
			}
		}
		for base := 14_990_000; base < 15_000_000; base++ {
			if n, ok := irdComplete(base); ok {
				in = append(in, Str(strconv.Itoa(n)))
			}
		}
		genInjective(t, pl, in, func(in, out Value) error {
			n, err := strconv.Atoi(out.S)
			if err != nil || !irdValid(n) || len(out.S) != len(in.S) || (len(in.S) == 9) != (n >= 100_000_000) {
				return fmt.Errorf("not a valid IRD number of the same form")
			}
			return nil
		})
	})
	t.Run("invalid input", func(t *testing.T) {
		for _, in := range []Value{Str("49-091-851"), Str("1234567"), Str("1234567890"), Str("49/091/850"), Num("49091850.0"), Num("150000006"), Boolean(true)} {
			if _, err := genKit.run(pl, genSecret, in, nil); err == nil || !strings.Contains(err.Error(), "valid NZ IRD number") {
				t.Errorf("%+v: err = %v", in, err)
			}
		}
		if out := genKit.must(t, pl, NullValue); out.Kind != Null {
			t.Errorf("null → %+v", out)
		}
	})
}
