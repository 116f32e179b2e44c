package engine

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseDateFormatErrors(t *testing.T) {
	tests := []struct {
		layout, want string
	}{
		{"", "empty date_format"},
		{"%Y-%m-%", "unfinished"},
		{"%Y-%W", "week numbers"},
		{"%k", "not supported"},
		{"%H:%I", "sets the hour twice"},
		{"%m %b", "sets the month twice"},
		{"%Y %y", "sets the year twice"},
		{"%I %p %p", "am/pm twice"},
		{"%p", "%p without %I"},
		{"%s %Y", "mixes an epoch"},
		{"%Q.%3f", "takes no fraction"},
		{"%3d", "only %f takes a width"},
		{"%10f", "at most 9 digits"},
		{"%0f", "width is 1 to 9"},
		{"%:H", "only %z takes ':'"},
		{"%-z", "only applies to numbers"},
		{"%^d", "only applies to names"},
		{"%-d%-m%Y", "cannot be told apart"},
		{"%s%f", "cannot be told apart"},
		{"%-c", "takes no flags"},
		{"%-%", "takes no flags"},
		{strings.Repeat("x", 300), "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.layout, func(t *testing.T) {
			_, err := parseDateFormat(tc.layout)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseDateFormat(%q) = %v, want an error containing %q", tc.layout, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "engine: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDateFormatFormatParse(t *testing.T) {
	nz := time.FixedZone("", 13*3600)
	tests := []struct {
		layout string
		t      time.Time
		want   string
	}{
		{"%Y-%m-%d", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "2024-02-29"},
		{"%d/%m/%Y %H:%M:%S", time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC), "31/12/1999 23:59:58"},
		{"%-d/%-m/%y", time.Date(2005, 3, 7, 0, 0, 0, 0, time.UTC), "7/3/05"},
		{"%-Y", time.Date(33, 3, 7, 0, 0, 0, 0, time.UTC), "33"},
		{"%Y%m%d", time.Date(2020, 1, 31, 0, 0, 0, 0, time.UTC), "20200131"},
		{"%a, %d %b %Y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), "Fri, 01 Mar 2024"},
		{"%A %B %e", time.Date(1900, 7, 4, 0, 0, 0, 0, time.UTC), "Wednesday July  4"},
		{"%d-%^b-%Y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), "01-MAR-2024"},
		{"%I:%M %p", time.Date(1900, 1, 1, 0, 5, 0, 0, time.UTC), "12:05 AM"},
		{"%I:%M %p", time.Date(1900, 1, 1, 13, 5, 0, 0, time.UTC), "01:05 PM"},
		{"%Y-%m-%dT%H:%M:%S.%f%z", time.Date(2024, 1, 2, 3, 4, 5, 123456000, nz), "2024-01-02T03:04:05.123456+1300"},
		{"%Y-%m-%dT%H:%M:%S.%3f%:z", time.Date(2024, 1, 2, 3, 4, 5, 123000000, nz), "2024-01-02T03:04:05.123+13:00"},
		{"%Y-%m-%d %H:%M:%S %Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("PST", -8*3600)), "2024-01-02 03:04:05 PST"},
		{"%j/%Y", time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC), "365/2023"},
		{"%s", time.Unix(1700000000, 0).UTC(), "1700000000"},
		{"%s.%3f", time.Unix(-1, -500000000).UTC(), "-1.500"},
		{"%Q", time.UnixMilli(1700000000123).UTC(), "1700000000123"},
		{"%F %T", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), "2024-05-06 07:08:09"},
		{"%D", time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), "05/06/24"},
		{"100%% %Y", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "100% 2024"},
		{"%c", time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC), "Fri Mar  1 10:20:30 2024"},
	}
	for _, tc := range tests {
		t.Run(tc.layout+"="+tc.want, func(t *testing.T) {
			f, err := parseDateFormat(tc.layout)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Format(tc.t); got != tc.want {
				t.Fatalf("Format = %q, want %q", got, tc.want)
			}
			back, err := f.Parse(tc.want)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.want, err)
			}
			if got := f.Format(back); got != tc.want {
				t.Errorf("Format(Parse(%q)) = %q", tc.want, got)
			}
			if f.complete && f.hasTime && f.shows('S') && !back.Equal(tc.t) && !f.shows('f') {
				t.Errorf("Parse(%q) = %v, want %v", tc.want, back, tc.t)
			}
		})
	}
}

func TestDateFormatParseRejects(t *testing.T) {
	tests := []struct{ layout, in string }{
		{"%Y-%m-%d", "2023-02-29"},
		{"%Y-%m-%d", "2024-13-01"},
		{"%Y-%m-%d", "2024-04-31"},
		{"%Y-%m-%d", "2024-04-01x"},
		{"%Y-%m-%d", "24-04-01"},
		{"%H:%M", "24:00"},
		{"%I %p", "13 PM"},
		{"%j %Y", "366 2023"},
		{"%Y-%m-%d %Z", "2024-01-01 XYZ"},
		{"%z", "+2500"},
		{"%b %Y", "Foo 2024"},
		{"%Y", ""},
	}
	for _, tc := range tests {
		t.Run(tc.layout+"|"+tc.in, func(t *testing.T) {
			f, err := parseDateFormat(tc.layout)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.in)
			}
			if tc.in != "" && strings.Contains(err.Error(), tc.in) {
				t.Errorf("error %q quotes the value", err)
			}
		})
	}
}

func TestDateFormatParseLenient(t *testing.T) {
	tests := []struct {
		layout, in string
		want       time.Time
	}{
		{"%d/%m/%Y", "1/2/2024", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"%d%m%Y", "152020", time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)},   // day 15, month 20 is no date
		{"%d%m%Y", "1112020", time.Date(2020, 1, 11, 0, 0, 0, 0, time.UTC)}, // longest day first
		{"%Y%j", "2024366", time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"%d %B %Y", "01 MARCH 2024", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"%y", "68", time.Date(2068, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"%y", "69", time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"%H:%M:%S%z", "10:00:00Z", time.Date(1900, 1, 1, 10, 0, 0, 0, time.UTC)},
		{"%H:%M:%S%z", "10:00:00-03:30", time.Date(1900, 1, 1, 13, 30, 0, 0, time.UTC)},
		{"%S.%f", "1.5", time.Date(1900, 1, 1, 0, 0, 1, 500000000, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.layout+"|"+tc.in, func(t *testing.T) {
			f, err := parseDateFormat(tc.layout)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDetectDate(t *testing.T) {
	tests := []struct {
		in, layout string
		want       time.Time
	}{
		{"2024-03-01", "%Y-%m-%d", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"2024/03/01", "%Y/%m/%d", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-03-01T10:20:30Z", "%Y-%m-%dT%H:%M:%SZ", time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)},
		{"2024-03-01T10:20Z", "%Y-%m-%dT%H:%MZ", time.Date(2024, 3, 1, 10, 20, 0, 0, time.UTC)},
		{"2024-03-01 10:20:30", "%Y-%m-%d %H:%M:%S", time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)},
		{"2024-03-01T10:20:30.5+05:30", "%Y-%m-%dT%H:%M:%S.%1f%:z", time.Date(2024, 3, 1, 4, 50, 30, 500000000, time.UTC)},
		{"2024-03-01T10:20:30.123456789-0800", "%Y-%m-%dT%H:%M:%S.%9f%z", time.Date(2024, 3, 1, 18, 20, 30, 123456789, time.UTC)},
		{"03/04/2020", "%m/%d/%Y", time.Date(2020, 3, 4, 0, 0, 0, 0, time.UTC)},
		{"25/03/2020", "%d/%m/%Y", time.Date(2020, 3, 25, 0, 0, 0, 0, time.UTC)},
		{"03/25/2020", "%m/%d/%Y", time.Date(2020, 3, 25, 0, 0, 0, 0, time.UTC)},
		{"1/5/2020 10:20", "%-m/%-d/%Y %H:%M", time.Date(2020, 1, 5, 10, 20, 0, 0, time.UTC)},
		{"31-12-99", "%d-%m-%y", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"01.02.2024", "%d.%m.%Y", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"20200131", "%Y%m%d", time.Date(2020, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"1 Mar 2024", "%-d %b %Y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"01 March 2024", "%d %B %Y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"01-MAR-2024", "%d-%^b-%Y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"Mar 1, 2024", "%b %-d, %Y", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"Fri, 01 Mar 2024 10:20:30 GMT", "%a, %d %b %Y %H:%M:%S %Z", time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)},
		{"Fri, 01 Mar 2024 10:20:30 +0100", "%a, %d %b %Y %H:%M:%S %z", time.Date(2024, 3, 1, 9, 20, 30, 0, time.UTC)},
		{"Fri Mar  1 10:20:30 2024", "%a %b %e %H:%M:%S %Y", time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			f, got, ok := detectDate(tc.in)
			if !ok {
				t.Fatalf("not detected")
			}
			if f.String() != tc.layout {
				t.Errorf("layout %q, want %q", f.String(), tc.layout)
			}
			if !got.Equal(tc.want) {
				t.Errorf("time %v, want %v", got, tc.want)
			}
			if out := f.Format(got); out != tc.in {
				t.Errorf("Format gives %q, want the input back", out)
			}
		})
	}
	for _, in := range []string{
		"", "hello", "2024-02-30", "2024-03-01T25:00:00", "2024-03-01T10:20:30+5", "12345678",
		"99991231", "1/05/2020", "mar 1, 2024", "2024-03-01 ", " 2024-03-01", "13/13/2020",
		"2024-03-01T10:20:30.1234567890Z", "1700000000",
	} {
		t.Run("not/"+in, func(t *testing.T) {
			if f, _, ok := detectDate(in); ok {
				t.Errorf("detected as %q", f.String())
			}
		})
	}
}

// FuzzDateFormat checks, for any layout that compiles and any instant:
// Format never panics; Parse never panics on any input and reads it as
// the backtracking search alone does; and Parse reads back what Format
// wrote, giving the same text again (format, parse, format is stable).
func FuzzDateFormat(f *testing.F) {
	f.Add("%Y-%m-%d", int64(0), "2024-01-02")
	f.Add("%d/%m/%Y %H:%M:%S", int64(1700000000), "01/02/2024 10:00:00")
	f.Add("%-d.%-m.%Y", int64(-86400*365*30), "1.5.2020")
	f.Add("%a, %d %^b %Y %I:%M %p %Z", int64(951782400), "Tue, 29 FEB 2000 12:00 AM UTC")
	f.Add("%Y-%m-%dT%H:%M:%S.%9f%:z", int64(123456789), "2024-01-02T03:04:05.123456789+13:00")
	f.Add("%s.%3f", int64(-1500), "-1.500")
	f.Add("%j%y%e%Q", int64(5), "%")
	f.Fuzz(func(t *testing.T, layout string, sec int64, input string) {
		df, err := parseDateFormat(layout)
		if err != nil {
			return
		}
		dfCheckFirstReading(t, df, input)
		// Instants between the years 1 and 9999, at a fixed offset.
		const span = 315537897600 - 2*86400 // seconds from year 1 to the end of 9998
		sec %= span
		if sec < 0 {
			sec += span
		}
		tm := time.Unix(sec-62135596800, sec%1e9).In(time.FixedZone("", int(sec%(14*3600))))
		out := df.Format(tm)
		dfCheckFirstReading(t, df, out)
		back, err := df.Parse(out)
		if err != nil {
			if df.shows('y', 'Z') || df.epoch && tm.Year() < 1970 {
				return // two-digit years and named zones do not always read back
			}
			t.Fatalf("layout %q: Parse(Format(t)) = %v for %q", layout, err, out)
		}
		if again := df.Format(back); again != out && df.complete && !df.shows('y') {
			t.Fatalf("layout %q: %q read back and written again as %q", layout, out, again)
		}
	})
}

// BenchmarkDetectDate measures recognising and reading a date with no
// date_format, and reports the cost against time.Parse of the same RFC 3339
// text with a known layout, measured in the same run (x-time.Parse).
func BenchmarkDetectDate(b *testing.B) {
	const in = "2024-03-01T10:20:30.123+05:30"
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := time.Parse(time.RFC3339Nano, in); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Since(start)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := detectDate(in); !ok {
			b.Fatal("not detected")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed())/float64(base), "x-time.Parse")
}

// TestDfDigitsMatchesParseInt: the matcher's digit reader agrees with
// strconv.ParseInt on every width, up to and past int64.
func TestDfDigitsMatchesParseInt(t *testing.T) {
	for _, s := range []string{"0", "7", "09", "2024", "000000001", "123456789012345678", "999999999999999999",
		"9223372036854775807", "9223372036854775808", "99999999999999999999", "0000000000000000000001"} {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := dfDigits(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("dfDigits(%q) = %d, %v; ParseInt gives %d, %v", s, got, ok, want, err)
		}
	}
}

// TestDfDaysInMatchesTime: the arithmetic month length is time's, for
// every month of the years around the fast path's bounds and the
// calendar's usual range, and for months out of range.
func TestDfDaysInMatchesTime(t *testing.T) {
	check := func(m time.Month, y int) {
		if got, want := dfDaysIn(m, y), time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(); got != want {
			t.Fatalf("month %d of %d: %d days, want %d", m, y, got, want)
		}
	}
	years := []int{-dfFastYears - 401, -dfFastYears - 1, -dfFastYears, dfFastYears, dfFastYears + 1, dfFastYears + 400}
	for y := -2100; y <= 10100; y++ {
		years = append(years, y)
	}
	for _, y := range years {
		for m := time.Month(-1); m <= 14; m++ {
			check(m, y)
		}
	}
}

// TestDateParseFirstReading: Parse, which tries the first reading before
// searching, gives what the search alone gives (the same time, or the
// same error), on layouts with variable-width numbers, names and zones,
// over values written by the layouts and mangled at random.
func TestDateParseFirstReading(t *testing.T) {
	layouts := []string{
		"%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%-d/%-m/%y", "%-Y", "%Y%m%d", "%d%m%Y", "%-d-%-m-%Y", "%e%m",
		"%a, %d %b %Y", "%A %B %e", "%I:%M %p", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S.%3f%:z",
		"%Y-%m-%d %H:%M:%S %Z", "%j/%Y", "%Y%j", "%s", "%s.%3f", "%Q", "%F %T", "%D", "%H:%M:%S%z", "%S.%f", "%c",
	}
	r := rand.New(rand.NewPCG(3, 4))
	const junk = "0123456789 -:/.+ZTaApPmM"
	for _, layout := range layouts {
		f, err := parseDateFormat(layout)
		if err != nil {
			t.Fatal(err)
		}
		for range 3000 {
			tm := time.Date(1+r.IntN(9998), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.FixedZone("", (r.IntN(49)-24)*1800))
			b := []byte(f.Format(tm))
			for range r.IntN(3) { // mangle: drop, change or add a byte
				k := r.IntN(len(b) + 1)
				switch op := r.IntN(3); {
				case op == 0 && k < len(b):
					b = append(b[:k], b[k+1:]...)
				case op == 1 && k < len(b):
					b[k] = junk[r.IntN(len(junk))]
				default:
					b = append(b[:k], append([]byte{junk[r.IntN(len(junk))]}, b[k:]...)...)
				}
			}
			s := string(b)
			dfCheckFirstReading(t, f, s)
		}
	}
}

// dfParseSearch is Parse without its first-reading shortcut: the
// backtracking search alone, the reference the shortcut must agree with.
func dfParseSearch(f dateFormat, s string) (time.Time, error) {
	fl := dfFields{year: -1, month: -1, day: -1, yday: -1, hour: -1, hour12: -1, pm: -1, min: -1, sec: -1, nsec: -1}
	steps := 0
	if !f.matchFrom(s, 0, &fl, &steps, false) {
		if fl.err != nil {
			return time.Time{}, fl.err
		}
		return time.Time{}, errDateMismatch(f.layout)
	}
	return fl.t, nil
}

// dfCheckFirstReading fails t unless Parse and the search alone agree on s.
func dfCheckFirstReading(t *testing.T, f dateFormat, s string) {
	t.Helper()
	if len(f.items) == 0 {
		return // Parse refuses an uncompiled format before reading anything
	}
	got, gerr := f.Parse(s)
	want, werr := dfParseSearch(f, s)
	if !got.Equal(want) || got.Location().String() != want.Location().String() || fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%s on %q: Parse gave %v, %v; the search alone %v, %v", f.layout, s, got, gerr, want, werr)
	}
}
