package engine

import "testing"

// BenchmarkGenMasks measures each generator mask on a typical value. The
// baseline is from_fixed, which does no work: each result's
// "x_from_fixed" metric is its cost as a multiple of that, measured in the
// same run.
func BenchmarkGenMasks(b *testing.B) {
	cases := []struct {
		name, src string
		in        Value
	}{
		{"from_fixed", `{type: from_fixed, value: x}`, Str("Alice")},
		{"from_file", `{type: from_file, seed_file: first_names.csv}`, Str("Alice")},
		{"from_format_string", `{type: from_format_string, value_format: "{[a-z],8}.{[a-z],6}@example.com"}`, Str("alice@corp.test")},
		{"from_choices", `{type: from_choices, choices: [a, b, c], weights: [1, 2, 3]}`, Str("b")},
		{"imitate", `{type: imitate}`, Str("+1 (555) 867-5309")},
		{"imitate_unique_short", `{type: imitate_unique}`, Str("C-100234")},
		{"imitate_unique_long", `{type: imitate_unique}`, Str("CUST-00001234-abcdefghij-9e3779b97f4a7c15")},
		{"imitate_uuid", `{type: imitate_uuid}`, Str("123e4567-e89b-42d3-a456-426614174000")},
		{"imitate_nz_ird", `{type: imitate_nz_ird}`, Str("49-091-850")},
		{"from_random_number", `{type: from_random_number, min: 1, max: 200, decimal_places: 2}`, Num("10.5")},
		{"from_random_date", `{type: from_random_date, min: "1950-01-01", max: "2005-12-31"}`, Str("1985-02-01")},
	}
	sec := MustSecret(genSecret)
	var base float64
	for _, tc := range cases {
		pl := genKit.testMask(b, tc.src)
		b.Run(tc.name, func(b *testing.B) {
			c := &Ctx{sec: sec}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Run(pl, tc.in); err != nil {
					b.Fatal(err)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if tc.name == "from_fixed" {
				base = ns
			}
			if base > 0 {
				b.ReportMetric(ns/base, "x_from_fixed")
			}
		})
	}
}
