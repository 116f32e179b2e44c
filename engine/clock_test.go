package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

// The clock-dependent masks read "today" as the current UTC day when they
// mask (dayClock). These tests pin what that promises: the same output in
// every process on one UTC day, whatever the hour or time zone; a small
// fraction of outputs moving from one day to the next; a compiled Masker
// that follows the calendar.

// nowRuleset has every clock-dependent mask, each on its own field.
const nowRuleset = `version: "1.0"
rules:
  - path: "$.dob"
    masks: [ { type: retain_age } ]
  - path: "$.past"
    masks: [ { type: from_random_date, min: "1950-01-01", max: today } ]
  - path: "$.future"
    masks: [ { type: from_random_date, min: today, max: "2100-01-01" } ]
  - path: "$.stamp"
    masks: [ { type: from_random_datetime, min: "2000-01-01T00:00:00Z", max: now } ]
  - path: "$.birthday"
    masks: [ { type: retain_date_component, month: true, day: true } ]
`

var nowSecret = MustSecret("clock-test-secret-0123456789")

func nowCompile(t testing.TB, src string, o Options) *Masker {
	t.Helper()
	rs, err := rulesets.Parse("now", "now.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// nowRecords are n records with birth dates spread over 1940 to 2008
// (every day of the year about as often), one in eight with a zone.
func nowRecords(n int) [][]byte {
	recs := make([][]byte, n)
	base := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		d := base.AddDate(0, 0, (i*7919)%25000).Format(time.DateOnly)
		dob := d
		if i%8 == 0 {
			dob = d + "T23:30:00-05:00"
		}
		recs[i] = fmt.Appendf(nil, `{"dob":%q,"past":"p%d","future":"f%d","stamp":"s%d","birthday":%q}`, dob, i, i, i, d)
	}
	return recs
}

// nowMask masks every record, field by field.
func nowMask(t testing.TB, m *Masker, recs [][]byte) []map[string]string {
	t.Helper()
	out := make([]map[string]string, len(recs))
	for i, rec := range recs {
		b, err := m.MaskValue(nil, nowSecret, rec, nil)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// nowDiff counts, per field, the records whose outputs differ.
func nowDiff(a, b []map[string]string) map[string]int {
	n := map[string]int{}
	for i := range a {
		for k, v := range a[i] {
			if b[i][k] != v {
				n[k]++
			}
		}
	}
	return n
}

func TestNowSameUTCDaySameOutput(t *testing.T) {
	recs := nowRecords(2000)
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	want := nowMask(t, nowCompile(t, nowRuleset, Options{Now: day}), recs)
	for _, now := range []time.Time{
		day.Add(time.Second),
		day.Add(8*time.Hour + 123456789),
		day.Add(24*time.Hour - time.Nanosecond),
		day.Add(20 * time.Hour).In(time.FixedZone("NZDT", 13*3600)),    // 24 November there
		day.Add(time.Hour).In(time.FixedZone("NST", -(3*3600 + 1800))), // 22 November there
	} {
		got := nowMask(t, nowCompile(t, nowRuleset, Options{Now: now}), recs)
		if d := nowDiff(want, got); len(d) > 0 {
			t.Errorf("now %s: outputs differ from 00:00 UTC the same day: %v", now.Format(time.RFC3339Nano), d)
		}
	}
	t.Run("now in a datetime bound is 00:00 UTC", func(t *testing.T) {
		// A range of half a day up to now: the hour of now would show.
		src := `version: "1.0"
rules:
  - path: "$.stamp"
    masks: [ { type: from_random_datetime, min: "2026-11-22T12:00:00Z", max: now } ]
`
		early := nowMask(t, nowCompile(t, src, Options{Now: day.Add(time.Second)}), recs)
		late := nowMask(t, nowCompile(t, src, Options{Now: day.Add(23 * time.Hour)}), recs)
		if d := nowDiff(early, late); len(d) > 0 {
			t.Errorf("00:00:01 and 23:00 UTC differ: %v", d)
		}
		for _, o := range late {
			if s, err := time.Parse(time.RFC3339, o["stamp"]); err != nil || !s.Before(day) {
				t.Fatalf("%q is not before 00:00 UTC today", o["stamp"])
			}
		}
	})
}

func TestNowNextDayMovesFewOutputs(t *testing.T) {
	recs := nowRecords(2000)
	for _, day := range []time.Time{
		time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC), // to 29 February
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), // to a new year
	} {
		a := nowMask(t, nowCompile(t, nowRuleset, Options{Now: day}), recs)
		b := nowMask(t, nowCompile(t, nowRuleset, Options{Now: day.AddDate(0, 0, 1)}), recs)
		d := nowDiff(a, b)
		for _, f := range []string{"dob", "past", "future", "stamp", "birthday"} {
			if d[f]*50 > len(recs) {
				t.Errorf("%s to the next day: %d of %d %s outputs moved (at most 2%% may)", day.Format(time.DateOnly), d[f], len(recs), f)
			}
		}
		if day.Year() == day.AddDate(0, 0, 1).Year() && d["birthday"] != 0 {
			t.Errorf("%s: retain_date_component moved %d outputs within one year", day.Format(time.DateOnly), d["birthday"])
		}
		t.Logf("%s to the next day, outputs moved per field: %v", day.Format(time.DateOnly), d)
	}
}

// TestNowOutputsInRange checks the documented ranges on days far apart,
// with the stable draws of a moving "today".
func TestNowOutputsInRange(t *testing.T) {
	recs := nowRecords(400)
	for _, day := range []time.Time{
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2039, 9, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		out := nowMask(t, nowCompile(t, nowRuleset, Options{Now: day.Add(17 * time.Hour)}), recs)
		for i, o := range out {
			var in map[string]string
			if err := json.Unmarshal(recs[i], &in); err != nil {
				t.Fatal(err)
			}
			// retain_age: the same age today (UTC), each date read in
			// its own zone.
			_, orig, err := (xfDateIO{}).read(Str(in["dob"]))
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := (xfDateIO{}).read(Str(o["dob"]))
			if err != nil {
				t.Fatalf("dob %q: %v", o["dob"], err)
			}
			if xfAge(got, day) != xfAge(orig, day) || got.Location().String() != orig.Location().String() {
				t.Fatalf("%s: dob %s (age %d) became %s (age %d)", day.Format(time.DateOnly), in["dob"], xfAge(orig, day), o["dob"], xfAge(got, day))
			}
			past, _ := time.Parse(time.DateOnly, o["past"])
			if past.Before(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)) || !past.Before(day) {
				t.Fatalf("%s: from_random_date max today gave %q", day.Format(time.DateOnly), o["past"])
			}
			future, _ := time.Parse(time.DateOnly, o["future"])
			if future.Before(day) || !future.Before(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("%s: from_random_date min today gave %q", day.Format(time.DateOnly), o["future"])
			}
			stamp, err := time.Parse(time.RFC3339, o["stamp"])
			if err != nil || stamp.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) || !stamp.Before(day) {
				t.Fatalf("%s: from_random_datetime max now gave %q", day.Format(time.DateOnly), o["stamp"])
			}
			bd, _ := time.Parse(time.DateOnly, o["birthday"])
			ob, _ := time.Parse(time.DateOnly, in["birthday"])
			if bd.Month() != ob.Month() || bd.Day() != ob.Day() || bd.Year() > day.Year() || bd.Year() < day.Year()-xfDrawnYears-4 {
				t.Fatalf("%s: retain_date_component gave %q for %q", day.Format(time.DateOnly), o["birthday"], in["birthday"])
			}
		}
	}
}

// TestNowClockCrossesMidnight runs one compiled Masker across midnight
// UTC: it must mask as one compiled on each day does, without a reload.
func TestNowClockCrossesMidnight(t *testing.T) {
	recs := nowRecords(1000)
	// A short range that today ends, so the new day visibly moves some
	// outputs.
	src := nowRuleset + `  - path: "$.recent"
    masks: [ { type: from_random_date, min: "2025-12-25", max: today } ]
`
	for i := range recs {
		recs[i] = fmt.Appendf(recs[i][:len(recs[i])-1], `,"recent":"r%d"}`, i)
	}
	day1 := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	var clock atomic.Int64
	clock.Store(day2.Add(-time.Second).UnixNano())
	m := nowCompile(t, src, Options{Clock: func() time.Time { return time.Unix(0, clock.Load()) }})
	want1 := nowMask(t, nowCompile(t, src, Options{Now: day1}), recs)
	want2 := nowMask(t, nowCompile(t, src, Options{Now: day2}), recs)
	if d := nowDiff(want1, want2); d["recent"] == 0 || d["birthday"] == 0 {
		t.Fatalf("the two days mask alike (%v): the test shows nothing", d)
	}
	if d := nowDiff(want1, nowMask(t, m, recs)); len(d) > 0 {
		t.Errorf("one second before midnight: outputs differ from day 1's: %v", d)
	}
	clock.Store(day2.Add(time.Second).UnixNano())
	if d := nowDiff(want2, nowMask(t, m, recs)); len(d) > 0 {
		t.Errorf("one second after midnight: outputs differ from day 2's: %v (the Masker kept the old day)", d)
	}
}

// TestNowUTCNotLocal: the drawn years of retain_date_component, like every
// "today", come from the UTC day, not the process's time zone.
func TestNowUTCNotLocal(t *testing.T) {
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	recs := nowRecords(300)
	inst := time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)
	var want []map[string]string
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("NZDT", 13*3600), time.FixedZone("NST", -(3*3600 + 1800))} {
		time.Local = loc
		for _, o := range []Options{{Now: inst.Local()}, {Clock: func() time.Time { return inst.Local() }}} {
			got := nowMask(t, nowCompile(t, nowRuleset, o), recs)
			if want == nil {
				want = got
				continue
			}
			if d := nowDiff(want, got); len(d) > 0 {
				t.Errorf("Local %s: outputs differ from Local UTC: %v", loc, d)
			}
		}
	}
}

// TestNowRangeRunsOut: a min at now with a fixed max runs out once today
// reaches max; the value then fails (a dead letter), and says why.
func TestNowRangeRunsOut(t *testing.T) {
	src := `version: "1.0"
rules:
  - path: "$.d"
    masks: [ { type: from_random_date, min: today, max: "2026-01-10" } ]
`
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 9, 12, 0, 0, 0, time.UTC).Unix())
	m := nowCompile(t, src, Options{Clock: func() time.Time { return time.Unix(clock.Load(), 0) }})
	out, err := m.MaskValue(nil, nowSecret, []byte(`{"d":"1999-12-31"}`), nil)
	if err != nil || string(out) != `{"d":"2026-01-09"}` {
		t.Fatalf("last day: %s, %v", out, err)
	}
	clock.Store(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC).Unix())
	_, err = m.MaskValue(nil, nowSecret, []byte(`{"d":"1999-12-31"}`), nil)
	if ReasonOf(err) != ReasonMask || !strings.Contains(fmt.Sprint(err), "max has passed") || strings.Contains(fmt.Sprint(err), "1999") {
		t.Errorf("after max: err = %v", err)
	}
}

func nowRand(i int) *Rand {
	var r Rand
	r.seed(sha256.Sum256(binary.LittleEndian.AppendUint64(nil, uint64(i))))
	return &r
}

func TestJumpDrawUniform(t *testing.T) {
	for _, n := range []int64{1, 2, 7, 100} {
		counts := make([]int, n)
		const draws = 70000
		for i := range draws {
			b := jumpDraw(nowRand(i), n)
			if b < 0 || b >= n {
				t.Fatalf("n %d: drew %d", n, b)
			}
			counts[b]++
		}
		exp := float64(draws) / float64(n)
		for b, c := range counts {
			if d := float64(c) - exp; d > exp/5 || d < -exp/5 {
				t.Errorf("n %d: bucket %d drawn %d times, expected about %.0f", n, b, c, exp)
			}
		}
	}
}

// TestJumpDrawStable: from n to n+1, a draw moves only to the new value n,
// and the stream after it is where it was, so later draws stay too.
func TestJumpDrawStable(t *testing.T) {
	for _, n := range []int64{1, 5, 365, 27000, 2_000_000_000} {
		moved := 0
		for i := range 5000 {
			ra, rb := nowRand(i), nowRand(i)
			a, b := jumpDraw(ra, n), jumpDraw(rb, n+1)
			if a == b {
				if ra.Uint64() != rb.Uint64() {
					t.Fatalf("n %d seed %d: same draw, stream read to different places", n, i)
				}
				continue
			}
			if b != n {
				t.Fatalf("n %d seed %d: %d became %d, not the new value %d", n, i, a, b, n)
			}
			moved++
		}
		if n >= 365 && moved*50 > 5000 {
			t.Errorf("n %d: %d of 5000 draws moved", n, moved)
		}
	}
}

// TestStableOffset: uniform over [0, n) with a partial last unit, and
// when n grows by a unit only about one draw in the number of units moves.
func TestStableOffset(t *testing.T) {
	const unit, n, draws = 10, 35, 70000
	counts := make([]int, n)
	moved := 0
	for i := range draws {
		a := stableOffset(nowRand(i), n, unit)
		if a < 0 || a >= n {
			t.Fatalf("drew %d", a)
		}
		counts[a]++
		if stableOffset(nowRand(i), n+unit, unit) != a {
			moved++
		}
	}
	for o, c := range counts {
		if exp := float64(draws) / n; float64(c) > exp*1.2 || float64(c) < exp*0.8 {
			t.Errorf("offset %d drawn %d times, expected about %.0f", o, c, exp)
		}
	}
	// From 4 units to 5: one in 5 moves.
	if moved > draws/4 || moved < draws/6 {
		t.Errorf("%d of %d draws moved when the range grew by a unit", moved, draws)
	}
	// Shorter than a unit: still in range.
	for i := range 1000 {
		if o := stableOffset(nowRand(i), 3, 86400); o < 0 || o >= 3 {
			t.Fatalf("drew %d in [0, 3)", o)
		}
	}
}

// TestNowBoundErrorSaysMidnight: a range that ends at now before it
// starts says what now is (genNow is 09:30 UTC, after min).
func TestNowBoundErrorSaysMidnight(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"now is midnight", "type: from_random_datetime\nmin: 2025-03-10T06:00:00\nmax: now\n", "3:6", "now means 00:00 UTC today"},
	})
}
