package engine

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// TestImitateUniqueNumberJoinsString: a number without an exponent masks
// to the digits its text masks to as a string, so an id typed as 12345 by
// one producer and "12345" by another still joins; the number stays a
// valid number of its length.
func TestImitateUniqueNumberJoinsString(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	r := &Rand{}
	r.seed([32]byte{11})
	var lits []string
	for i := range 10 {
		lits = append(lits, strconv.Itoa(i), "-"+strconv.Itoa(i))
	}
	for range 3000 {
		// Up to 30 digits: beyond 2^64 (permuteBig) from 20.
		n := 1 + r.IntN(30)
		b := []byte{byte('1' + r.IntN(9))}
		for range n - 1 {
			b = append(b, byte('0'+r.IntN(10)))
		}
		lit := string(b)
		switch r.IntN(4) {
		case 0:
			lit = "-" + lit
		case 1:
			lit += "." + strconv.Itoa(r.IntN(1000))
		case 2:
			lit = "0." + lit
		}
		lits = append(lits, lit)
	}
	for _, lit := range lits {
		num := genKit.must(t, pl, Num(lit))
		str := genKit.must(t, pl, Str(lit))
		if num.Kind != Number || str.Kind != String {
			t.Fatalf("%s: kinds %s and %s", lit, num.Kind, str.Kind)
		}
		if num.S != str.S {
			t.Fatalf("number %s → %s, string %q → %q: the two forms of one id must mask alike", lit, num.S, lit, str.S)
		}
		if !isJSONNumber(num.S) || len(num.S) != len(lit) {
			t.Fatalf("number %s → %s: not a number of its length", lit, num.S)
		}
	}
	t.Run("exponents keep theirs", func(t *testing.T) {
		for _, lit := range []string{"1e3", "-10.5e3", "12E+05", "0.5e-7"} {
			out := genKit.must(t, pl, Num(lit))
			i, j := strings.IndexAny(lit, "eE"), strings.IndexAny(out.S, "eE")
			if out.Kind != Number || !isJSONNumber(out.S) || len(out.S) != len(lit) || j != i || out.S[j:] != lit[i:] {
				t.Errorf("%s → %s: want a number with the same exponent", lit, out.S)
			}
		}
	})
}

// TestImitateUniqueKeepsLeadingZero: a value led by a digit keeps whether
// that digit is 0, and stays one-to-one among the values of its length:
// every 4-digit string, and a sample of 24-digit ones (permuteBig), and
// through uniqueText's path (a kept character beyond ASCII, digits of
// another script).
func TestImitateUniqueKeepsLeadingZero(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	zeroLed := func(s string) bool {
		for _, r := range s {
			if a, v, ok := alphabetOf(r); ok {
				return a.kind == charDigit && v == 0
			}
		}
		return false
	}
	keepsLead := func(in, out Value) error {
		if err := sameAlphabets(in, out); err != nil {
			return err
		}
		if zeroLed(in.S) != zeroLed(out.S) {
			return fmt.Errorf("the leading zero came or went")
		}
		return nil
	}
	t.Run("every 4-digit string", func(t *testing.T) {
		var in []Value
		for i := range 10000 {
			in = append(in, Str(fmt.Sprintf("%04d", i)))
		}
		genInjective(t, pl, in, keepsLead)
	})
	t.Run("24-digit strings", func(t *testing.T) {
		var in []Value
		for i := range 3000 {
			in = append(in, Str(fmt.Sprintf("%024d", uint64(i)*0x9e3779b97f4a7c15%1e18)), Str(fmt.Sprintf("9%023d", i*7919)))
		}
		genInjective(t, pl, in, keepsLead)
	})
	t.Run("beyond ASCII", func(t *testing.T) {
		var in []Value
		for i := range 1000 {
			d := fmt.Sprintf("%03d", i)
			in = append(in, Str(d+"–x"), Str(strings.Map(func(r rune) rune { return r - '0' + '٠' }, d)))
		}
		genInjective(t, pl, in, keepsLead)
	})
	t.Run("a lone digit takes any digit", func(t *testing.T) {
		seen := map[string]bool{}
		for c := '0'; c <= '9'; c++ {
			seen[genKit.must(t, pl, Str(string(c))).S] = true
		}
		if len(seen) != 10 {
			t.Errorf("the ten digits gave %d outputs", len(seen))
		}
	})
	t.Run("other values mask as before", func(t *testing.T) {
		// Outputs of the release before leading zeros were kept: values
		// led by a letter, lone digits and numbers with an exponent did
		// not move.
		for _, c := range []struct {
			in   Value
			want string
		}{
			{Str("C-1001"), "E-9326"}, {Str("abc"), "okw"}, {Str("AB-0123"), "VI-6641"}, {Str("x7"), "g0"}, {Str("7"), "9"},
			{Num("-10.5e3"), "-99.8e3"}, {Num("1e3"), "2e3"},
		} {
			if got := genKit.must(t, pl, c.in).S; got != c.want {
				t.Errorf("%s %q → %q, want %q as before", c.in.Kind, c.in.S, got, c.want)
			}
		}
	})
}

// TestPermuteLeadClasses: permuteLead and permuteBigLead map the values
// below lead, and the others, each onto themselves, one-to-one, over
// whole domains of several sizes and lead points.
func TestPermuteLeadClasses(t *testing.T) {
	f := newFPE([32]byte{5}, []byte("lead"))
	for _, c := range []struct{ n, lead uint64 }{{10, 1}, {100, 10}, {1000, 100}, {26 * 10, 26}, {10 * 48, 48}, {9, 3}} {
		seen := make([]bool, c.n)
		for x := range c.n {
			y, ok := f.permuteLead(x, c.n, c.lead)
			if !ok || y >= c.n || seen[y] || (y < c.lead) != (x < c.lead) {
				t.Fatalf("n=%d lead=%d: %d → %d (ok %v): out of range, taken or in the other class", c.n, c.lead, x, y, ok)
			}
			seen[y] = true
		}
		// The big form (its own permutation: it encodes halves at their
		// width) keeps the classes too.
		seen = make([]bool, c.n)
		bn, bl := new(big.Int).SetUint64(c.n), new(big.Int).SetUint64(c.lead)
		for x := range c.n {
			yb, ok := f.permuteBigLead(new(big.Int).SetUint64(x), bn, bl)
			if !ok {
				t.Fatalf("n=%d lead=%d: big walk of %d cut short", c.n, c.lead, x)
			}
			y := yb.Uint64()
			if y >= c.n || seen[y] || (y < c.lead) != (x < c.lead) {
				t.Fatalf("n=%d lead=%d: big %d → %d: out of range, taken or in the other class", c.n, c.lead, x, y)
			}
			seen[y] = true
		}
	}
	// lead 0 (nil) restricts nothing: the plain permutation.
	for x := range uint64(100) {
		if y, _ := f.permuteLead(x, 100, 0); y != f.permute64(x, 100, nil) {
			t.Fatalf("lead 0 changed %d's image", x)
		}
		xb, nb := big.NewInt(int64(x)), big.NewInt(100)
		if y, _ := f.permuteBigLead(xb, nb, nil); y.Cmp(f.permuteBig(xb, nb)) != 0 {
			t.Fatalf("nil lead changed %d's big image", x)
		}
	}
}

// BenchmarkImitateUniqueDigits: the values the leading-zero walk touches,
// 1,000 of each kind in turn (a single value would measure its own walk).
// A zero-led value walks about ten times as often as another.
func BenchmarkImitateUniqueDigits(b *testing.B) {
	pl := genKit.testMask(b, `{type: imitate_unique}`)
	sec := MustSecret(genSecret)
	for _, tc := range []struct {
		name string
		in   func(i int) Value
	}{
		{"number", func(i int) Value { return Int(int64(10000000 + i*7919)) }},
		{"string", func(i int) Value { return Str(strconv.Itoa(10000000 + i*7919)) }},
		{"zero_led", func(i int) Value { return Str(fmt.Sprintf("0%07d", i*7919)) }},
		{"letter_led", func(i int) Value { return Str(fmt.Sprintf("C-%06d", i*791)) }},
	} {
		vals := make([]Value, 1000)
		for i := range vals {
			vals[i] = tc.in(i)
		}
		b.Run(tc.name, func(b *testing.B) {
			c := &Ctx{sec: sec}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.Run(pl, vals[i%len(vals)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
