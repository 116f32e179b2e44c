package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// xfDateInputs are dates in the forms detectDate knows, as strings and as
// Unix seconds.
var xfDateInputs = []Value{
	Str("1985-02-28"),
	Str("2000-02-29"),
	Str("1970-12-31T23:59:59Z"),
	Str("1962-07-04 08:30:00"),
	Str("2011-11-11T11:11:11.123+13:00"),
	Str("03/04/1990"),
	Str("25/12/1975"),
	Str("1 Mar 1999"),
	Str("01-MAR-1999"),
	Str("19991231"),
	Num("483667200"),
	Num("-31536000.25"),
}

// xfReadBack parses a masked value the way the mask read the original,
// and checks it has the original's form.
func xfReadBack(t *testing.T, in, out Value, layout string) time.Time {
	t.Helper()
	if out.Kind != in.Kind {
		t.Fatalf("%v became a %s", in.Kind, out.Kind)
	}
	var f dateFormat
	var got time.Time
	var err error
	switch {
	case layout != "":
		f, _ = parseDateFormat(layout)
		got, err = f.Parse(out.S)
	case in.Kind == Number:
		f, got, err = (xfDateIO{}).read(out)
	default:
		// The output must read in the layout the input was recognised
		// in (reading it afresh could pick another: "7 Mar" and "17 Mar"
		// are %-d and %d alike).
		var ok bool
		f, _, ok = detectDate(in.S)
		if !ok {
			t.Fatalf("input %q is not a recognised date", in.S)
		}
		got, err = f.Parse(out.S)
		if f.dayMonthAmbiguous && err == nil && got.Day() > 12 {
			t.Errorf("ambiguous input %q gave %q, which is no date read day first", in.S, out.S)
		}
	}
	if err != nil {
		t.Fatalf("output %q does not read back: %v", out.S, err)
	}
	if f.Format(got) != out.S {
		t.Errorf("output %q is not in canonical form %q", out.S, f.Format(got))
	}
	return got
}

func TestRetainAge(t *testing.T) {
	pl := xfKit.testMask(t, `{type: retain_age}`)
	for _, in := range xfDateInputs {
		t.Run(in.S, func(t *testing.T) {
			out := xfKit.must(t, pl, in)
			if out.S == in.S {
				t.Fatalf("returned the original")
			}
			_, orig, err := (xfDateIO{}).read(in)
			if err != nil {
				t.Fatal(err)
			}
			got := xfReadBack(t, in, out, "")
			now := xfNow.In(orig.Location())
			if a, b := xfAge(orig, now), xfAge(got.In(orig.Location()), now); a != b {
				t.Errorf("age %d became %d (%q)", a, b, out.S)
			}
		})
	}
	t.Run("birthdays cover the age window exactly, around 29 February too", func(t *testing.T) {
		for _, now := range []time.Time{
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
			time.Date(2023, 2, 28, 0, 0, 0, 0, time.UTC),
			time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		} {
			ny, nm, nd := now.Date()
			for _, age := range []int{-2, 0, 1, 3, 4, 40, 99} {
				// Every date of that age, by brute force.
				want := map[time.Time]bool{}
				for d := now.AddDate(-age-2, 0, 0); d.Before(now.AddDate(-age+2, 0, 0)); d = d.AddDate(0, 0, 1) {
					if xfAge(d, now) == age {
						want[d] = true
					}
				}
				got := map[time.Time]bool{}
				for k := range 366 {
					y, m, d, ok := xfAgeBirthday(k, age, ny, nm, nd)
					if !ok {
						continue
					}
					b := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
					if b.Day() != d || got[b] {
						t.Fatalf("now %s age %d: birthday %d gave %d-%d-%d twice or not a date", now.Format(time.DateOnly), age, k, y, m, d)
					}
					got[b] = true
				}
				if len(got) != len(want) {
					t.Errorf("now %s age %d: %d birth dates drawn, %d have that age", now.Format(time.DateOnly), age, len(got), len(want))
				}
				for b := range got {
					if !want[b] {
						t.Errorf("now %s age %d: %s has age %d", now.Format(time.DateOnly), age, b.Format(time.DateOnly), xfAge(b, now))
					}
				}
			}
		}
	})
	t.Run("date_format", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: retain_age, date_format: "%d.%m.%Y"}`)
		in := Str("17.05.1980")
		out := xfKit.must(t, pl, in)
		got := xfReadBack(t, in, out, "%d.%m.%Y")
		if xfAge(got, xfNow) != xfAge(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), xfNow) {
			t.Errorf("age changed: %q", out.S)
		}
	})
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, pl, xfDateInputs...) })
	t.Run("ambiguous day and month", func(t *testing.T) {
		// 03/04/1990 may be 3 April or March 4: every output must be a
		// date read either way.
		for i := 1; i <= 12; i++ {
			in := Str(fmt.Sprintf("%02d/%02d/1990", i, 13-i))
			out := xfKit.must(t, pl, in)
			xfReadBack(t, in, out, "")
			if _, err := time.Parse("02/01/2006", out.S); err != nil {
				t.Errorf("%q became %q, which is no date read day first", in.S, out.S)
			}
		}
	})
	t.Run("hash sources", func(t *testing.T) {
		a, _ := xfKit.run(pl, xfSecret, Str("1980-01-01"), []byte("cust-1"))
		b, _ := xfKit.run(pl, xfSecret, Str("1980-01-01"), []byte("cust-1"))
		c, _ := xfKit.run(pl, xfSecret, Str("1980-01-01"), []byte("cust-2"))
		if a.S != b.S {
			t.Errorf("same hash source gave %q and %q", a.S, b.S)
		}
		if a.S == c.S {
			t.Errorf("different hash sources gave the same %q", a.S)
		}
	})
}

func TestRetainYear(t *testing.T) {
	pl := xfKit.testMask(t, `{type: retain_year}`)
	for _, in := range xfDateInputs {
		t.Run(in.S, func(t *testing.T) {
			out := xfKit.must(t, pl, in)
			if out.S == in.S {
				t.Fatalf("returned the original")
			}
			_, orig, _ := (xfDateIO{}).read(in)
			got := xfReadBack(t, in, out, "")
			if got.In(orig.Location()).Year() != orig.Year() {
				t.Errorf("year %d became %d", orig.Year(), got.Year())
			}
		})
	}
	t.Run("month only", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: retain_year, date_format: "%Y-%m"}`)
		for i := 1; i <= 12; i++ {
			in := Str(fmt.Sprintf("2020-%02d", i))
			out := xfKit.must(t, pl, in)
			if out.S == in.S || !strings.HasPrefix(out.S, "2020-") {
				t.Errorf("%q became %q", in.S, out.S)
			}
		}
	})
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, pl, xfDateInputs...) })
}

func TestRetainDateComponent(t *testing.T) {
	tests := []struct {
		name, src string
		check     func(orig, got time.Time) bool
	}{
		{"year", `{type: retain_date_component, year: true}`, func(o, g time.Time) bool { return o.Year() == g.Year() }},
		{"month", `{type: retain_date_component, month: true}`, func(o, g time.Time) bool { return o.Month() == g.Month() }},
		{"day", `{type: retain_date_component, day: true}`, func(o, g time.Time) bool { return o.Day() == g.Day() }},
		{"month and day", `{type: retain_date_component, month: true, day: true}`, func(o, g time.Time) bool {
			return o.Month() == g.Month() && o.Day() == g.Day()
		}},
		{"date", `{type: retain_date_component, year: true, month: true, day: true}`, func(o, g time.Time) bool {
			return o.Year() == g.Year() && o.YearDay() == g.YearDay()
		}},
		{"hour", `{type: retain_date_component, hour: true, minute: true}`, func(o, g time.Time) bool {
			return o.Hour() == g.Hour() && o.Minute() == g.Minute()
		}},
	}
	for _, tc := range tests {
		pl := xfKit.testMask(t, tc.src)
		for _, in := range xfDateInputs {
			t.Run(tc.name+"/"+in.S, func(t *testing.T) {
				out, err := xfKit.run(pl, xfSecret, in, nil)
				if err != nil {
					// Only a date-only value with every date part kept has
					// nothing left to change.
					if tc.name == "date" && !strings.Contains(in.S, ":") && in.Kind == String {
						return
					}
					t.Fatal(err)
				}
				if out.S == in.S {
					t.Fatalf("returned the original")
				}
				_, orig, _ := (xfDateIO{}).read(in)
				got := xfReadBack(t, in, out, "").In(orig.Location())
				if !tc.check(orig, got) {
					t.Errorf("%q became %q", in.S, out.S)
				}
			})
		}
	}
	t.Run("kept 29 February", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: retain_date_component, month: true, day: true}`)
		for i := 0; i < 50; i++ {
			in := Str(fmt.Sprintf("2000-02-29T10:00:%02dZ", i))
			out := xfKit.must(t, pl, in)
			got := xfReadBack(t, in, out, "")
			if got.Month() != 2 || got.Day() != 29 || got.Year() < xfNow.Year()-xfDrawnYears-4 || got.Year() > xfNow.Year() {
				t.Fatalf("%q became %q", in.S, out.S)
			}
		}
	})
	t.Run("kept day 31", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: retain_date_component, day: true}`)
		for i := 0; i < 50; i++ {
			in := Str(fmt.Sprintf("1999-12-31 10:00:%02d", i))
			got := xfReadBack(t, in, xfKit.must(t, pl, in), "")
			if got.Day() != 31 {
				t.Fatalf("day 31 became %d", got.Day())
			}
		}
	})
	t.Run("determinism", func(t *testing.T) {
		xfKit.checkDeterminism(t, xfKit.testMask(t, `{type: retain_date_component, year: true}`), xfDateInputs...)
	})
}

func TestDateShift(t *testing.T) {
	pl := xfKit.testMask(t, `{type: date_shift, min_days: -30, max_days: 30}`)
	for _, in := range xfDateInputs {
		t.Run(in.S, func(t *testing.T) {
			out := xfKit.must(t, pl, in)
			_, orig, _ := (xfDateIO{}).read(in)
			got := xfReadBack(t, in, out, "")
			days := got.Sub(orig).Hours() / 24
			if days == 0 || days < -30 || days > 30 || days != float64(int(days)) {
				t.Errorf("shifted by %v days (%q to %q)", days, in.S, out.S)
			}
		})
	}
	t.Run("one entity, one shift", func(t *testing.T) {
		// With hash_sources every date of a customer moves by the same
		// amount, so the interval between them survives.
		a, _ := xfKit.run(pl, xfSecret, Str("2024-01-10"), []byte("customer-7"))
		b, _ := xfKit.run(pl, xfSecret, Str("2024-03-05T09:00:00Z"), []byte("customer-7"))
		ta, _ := time.Parse("2006-01-02", a.S)
		tb, _ := time.Parse(time.RFC3339, b.S)
		if d := tb.Sub(ta); d != time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC).Sub(time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("interval changed to %v (%q, %q)", d, a.S, b.S)
		}
	})
	t.Run("never zero", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: date_shift, min_days: 0, max_days: 1}`)
		for i := 0; i < 100; i++ {
			in := Str(fmt.Sprintf("2020-01-01T00:00:%02dZ", i%60))
			out, err := xfKit.run(pl, xfSecret, in, []byte(strconv.Itoa(i)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out.S, "2020-01-02") {
				t.Fatalf("%q became %q", in.S, out.S)
			}
		}
	})
	t.Run("default min is -max", func(t *testing.T) {
		m := xfKit.testMask(t, `{type: date_shift, max_days: 5}`)[0].m.(*dateShiftMask)
		if m.min != -5 || m.max != 5 {
			t.Errorf("range %d..%d", m.min, m.max)
		}
	})
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, pl, xfDateInputs...) })
}

func TestDateMaskErrors(t *testing.T) {
	pl := xfKit.testMask(t, `{type: retain_age}`)
	for _, in := range []Value{Str("hello world"), Str("2023-02-29"), Boolean(true), Num("1e9"), {Kind: Object, Raw: []byte(`{}`)}} {
		_, err := xfKit.run(pl, xfSecret, in, nil)
		if err == nil {
			t.Errorf("%v %q: no error", in.Kind, in.S)
			continue
		}
		if in.S != "" && strings.Contains(err.Error(), in.S) {
			t.Errorf("error %q quotes the value", err)
		}
	}
	t.Run("number that is not a number date", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: retain_year, date_format: "%Y-%m-%d"}`)
		if _, err := xfKit.run(pl, xfSecret, Num("20200101"), nil); err == nil {
			t.Error("a number read with a dashed format gave no error")
		}
		pl = xfKit.testMask(t, `{type: retain_year, date_format: "%Y%m%d"}`)
		out := xfKit.must(t, pl, Num("20200101"))
		if out.Kind != Number || !strings.HasPrefix(out.S, "2020") || len(out.S) != 8 {
			t.Errorf("got %v %q", out.Kind, out.S)
		}
	})
	t.Run("milliseconds", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: retain_year, date_format: "%Q"}`)
		out := xfKit.must(t, pl, Num("1700000000123"))
		ms, err := strconv.ParseInt(out.S, 10, 64)
		if err != nil || time.UnixMilli(ms).UTC().Year() != 2023 {
			t.Errorf("got %q", out.S)
		}
	})
	xfKit.checkBad(t, []maskBadCase{
		{"bad format", "type: retain_age\ndate_format: \"%Y-%q\"", "2:14", "not supported"},
		{"empty format", "type: retain_year\ndate_format: \"\"", "2:14", "date_format is empty"},
		{"age needs a full date", "type: retain_age\ndate_format: \"%Y-%m\"", "2:14", "needs a date_format with a full date"},
		{"year keeps all", "type: retain_year\ndate_format: \"%Y\"", "2:14", "nothing else to change"},
		{"unknown key", "type: retain_age\nformat: x", "2:1", "format"},
		{"all kept", "{type: retain_date_component, year: true, month: true, day: true, hour: true, minute: true, second: true}", "1:1", "keeps every component"},
		{"format shows only kept", "type: retain_date_component\nyear: true\ndate_format: \"%Y\"", "3:14", "every component this date_format shows is kept"},
		{"component not bool", "type: retain_date_component\nyear: yes please", "2:7", "true or false"},
		{"shift needs max", "type: date_shift\nmin_days: 1", "1:1", "max_days"},
		{"shift min above max", "type: date_shift\nmin_days: 5\nmax_days: 1", "2:11", "greater than max_days"},
		{"shift zero", "type: date_shift\nmax_days: 0", "2:11", "never moves a date"},
		{"shift huge", "type: date_shift\nmax_days: 100000000", "1:1", "within"},
		{"shift not int", "type: date_shift\nmax_days: 1.5", "2:11", "whole number"},
	})
}
