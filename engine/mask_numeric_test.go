package engine

import (
	"strconv"
	"strings"
	"testing"
)

func TestNumericBucket(t *testing.T) {
	pl := xfKit.testMask(t, `{type: numeric_bucket, buckets: [0, 18, 65, 120]}`)
	tests := []struct {
		in     Value
		lo, hi float64 // the output's range, inclusive
		whole  bool
	}{
		{Num("5"), 0, 17, true},
		{Num("0"), 0, 17, true},
		{Num("18"), 18, 64, true},
		{Num("64"), 18, 64, true},
		{Num("65"), 65, 120, true},
		{Num("120"), 65, 120, true},
		{Num("130"), 120, 175, true}, // above the last boundary: as wide as the last bucket
		{Num("-3"), -18, -1, true},   // below the first: as wide as the first
		{Num("33.25"), 18, 65, false},
		{Str("42"), 18, 64, true},
		{Str(" 7 "), 0, 17, true},
	}
	for _, tc := range tests {
		t.Run(tc.in.S, func(t *testing.T) {
			out := xfKit.must(t, pl, tc.in)
			if out.Kind != tc.in.Kind {
				t.Fatalf("%v became %v", tc.in.Kind, out.Kind)
			}
			x, err := strconv.ParseFloat(out.S, 64)
			if err != nil {
				t.Fatalf("output %q is no number", out.S)
			}
			if x < tc.lo || x > tc.hi {
				t.Errorf("%q gave %q, outside [%v, %v]", tc.in.S, out.S, tc.lo, tc.hi)
			}
			if tc.whole && strings.ContainsAny(out.S, ".e") {
				t.Errorf("a whole number gave %q", out.S)
			}
			if !tc.whole && len(out.S)-strings.IndexByte(out.S, '.') != 3 {
				t.Errorf("two decimals gave %q", out.S)
			}
			if strings.TrimSpace(out.S) == strings.TrimSpace(tc.in.S) {
				t.Errorf("returned the original")
			}
		})
	}
	t.Run("never the original", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: numeric_bucket, buckets: [10, 12]}`)
		for _, in := range []string{"10", "11", "12"} {
			for i := 0; i < 20; i++ {
				out, _ := xfKit.run(pl, xfSecret, Num(in), []byte{byte(i)})
				if out.S == in {
					t.Fatalf("%s gave itself", in)
				}
			}
		}
	})
	t.Run("above the last boundary", func(t *testing.T) {
		// (bn, bn+w]: bn is the last bucket's, so drawing it would put a
		// value above the boundaries back inside them.
		for _, c := range []struct {
			buckets   string
			last, max float64
			from, to  int
		}{
			{"[0, 18, 30, 50, 70, 120]", 120, 170, 121, 400},
			{"[17, 18, 19]", 19, 20, 20, 40},
		} {
			pl := xfKit.testMask(t, `{type: numeric_bucket, buckets: `+c.buckets+`}`)
			for in := c.from; in <= c.to; in++ {
				for _, v := range []Value{Num(strconv.Itoa(in)), Num(strconv.Itoa(in) + ".5")} {
					out := xfKit.must(t, pl, v)
					x, err := strconv.ParseFloat(out.S, 64)
					if err != nil {
						t.Fatalf("output %q is no number", out.S)
					}
					if x <= c.last || x > c.max {
						t.Errorf("buckets %s: %s gave %s, outside (%v, %v]", c.buckets, v.S, out.S, c.last, c.max)
					}
				}
			}
		}
	})
	t.Run("exponent form of a whole number", func(t *testing.T) {
		for _, in := range []Value{Num("1e3"), Num("2.5E2"), Str("1e1")} {
			out := xfKit.must(t, pl, in)
			if strings.ContainsAny(out.S, ".eE") {
				t.Errorf("%q, a whole number, gave %q", in.S, out.S)
			}
		}
		out := xfKit.must(t, pl, Num("1.5e-1"))
		if !strings.Contains(out.S, ".") {
			t.Errorf("1.5e-1, a fraction, gave %q", out.S)
		}
	})
	t.Run("labels", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: numeric_bucket, buckets: [0, 18, 65], labels: [invalid, minor, adult, senior]}`)
		for in, want := range map[string]string{"-1": "invalid", "3": "minor", "18": "adult", "65": "adult", "66": "senior"} {
			if out := xfKit.must(t, pl, Num(in)); !sameValue(out, Str(want)) {
				t.Errorf("%s gave %v, want %q", in, out, want)
			}
		}
	})
	t.Run("not a number", func(t *testing.T) {
		for _, in := range []Value{Str("abc"), Boolean(true), Str("")} {
			if _, err := xfKit.run(pl, xfSecret, in, nil); err == nil {
				t.Errorf("%v %q: no error", in.Kind, in.S)
			}
		}
	})
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, pl, Num("5"), Num("20"), Num("70.5"), Str("100")) })
	xfKit.checkBad(t, []maskBadCase{
		{"missing buckets", "type: numeric_bucket", "1:1", "missing required key \"buckets\""},
		{"one boundary", "type: numeric_bucket\nbuckets: [5]", "2:10", "at least two boundaries"},
		{"not ascending", "type: numeric_bucket\nbuckets: [5, 5]", "2:10", "go up strictly"},
		{"not numbers", "type: numeric_bucket\nbuckets: [a, b]", "2:11", "takes a number"},
		{"labels count", "type: numeric_bucket\nbuckets: [0, 1]\nlabels: [a]", "3:9", "labels needs 3 entries"},
	})
}
