package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// from_random_date and from_random_datetime (DataMasque): a random date,
// or date and time to the second, from min (inclusive) to max (exclusive).
//
//	masks:
//	  - type: from_random_date
//	    min: "1950-01-01"
//	    max: "2005-12-31"
//	    date_format: "%d/%m/%Y"
//
// min and max are ISO 8601 ("2019-12-01", "2019-12-01T00:00:00",
// "2019-12-01T00:00+13:00"), or now / current_date_time / current_date /
// today, which all mean the start (00:00 UTC) of the current UTC day, read
// when the value is masked (dayClock): every process agrees on it, and the
// range moves a day at midnight UTC. A bound at now is drawn with
// stableOffset, so that move changes only the few outputs it must: about
// one in the range's length in days. Fixed bounds draw as they always did.
// For from_random_datetime, min and max both carry a time zone offset or
// neither does; with one the result is written at min's offset.
//
// The result is written with date_format (Python strftime codes) when
// given; else in the same form as the original when it is a recognised
// date (see detectDate); else as ISO 8601 (2006-01-02, or
// 2006-01-02T15:04:05 with +hh:mm when the bounds have a zone). A JSON
// number is a Unix time in seconds and stays one, unless date_format says
// otherwise (and then it must write a number, as %s or %Y%m%d do).
func init() {
	register("from_random_date", func(p *Params) (Mask, error) { return newFromRandomDate(p, false) })
	register("from_random_datetime", func(p *Params) (Mask, error) { return newFromRandomDate(p, true) })
}

type fromRandomDateParams struct {
	Min        string `yaml:"min" ms:"required"`
	Max        string `yaml:"max" ms:"required"`
	DateFormat string `yaml:"date_format"`
}

type fromRandomDate struct {
	withTime bool
	// lo and hi bound the draw: Unix seconds (withTime) or days since the
	// epoch, hi exclusive. A bound at now (loNow, hiNow) is read from
	// clock at mask time instead.
	lo, hi       int64
	loNow, hiNow bool
	clock        dayClock
	loc          *time.Location
	zoned        bool
	format       *dateFormat
}

func newFromRandomDate(p *Params, withTime bool) (Mask, error) {
	var prm fromRandomDateParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	m := fromRandomDate{withTime: withTime, loc: time.UTC, clock: p.clock()}
	// The range is checked on the day the ruleset compiles; a min at now
	// with a fixed max can still run out later (Apply says so).
	today := dayStart(m.clock.today())
	minT, minZoned, minNow, err := genParseBound(prm.Min, today)
	if err != nil {
		return nil, p.ErrorAt(p.Param("min"), "min: %v", err)
	}
	maxT, maxZoned, maxNow, err := genParseBound(prm.Max, today)
	if err != nil {
		return nil, p.ErrorAt(p.Param("max"), "max: %v", err)
	}
	m.loNow, m.hiNow = minNow, maxNow
	// now suits either kind of bound: it is an instant, and a bound
	// without a zone is read as UTC.
	switch {
	case minNow && !maxNow:
		minZoned = maxZoned
	case maxNow && !minNow:
		maxZoned = minZoned
	}
	if withTime {
		if minZoned != maxZoned {
			return nil, p.ErrorAt(p.Param("max"), "min and max must both have a time zone offset or both have none")
		}
		m.lo, m.hi, m.zoned = minT.Unix(), maxT.Unix(), minZoned
		if minZoned && !minNow {
			m.loc = minT.Location()
		}
	} else {
		m.lo, m.hi = genEpochDay(minT), genEpochDay(maxT)
	}
	if m.lo >= m.hi {
		unit := "date"
		if withTime {
			unit = "time, to the second"
		}
		nowIs := ""
		if minNow || maxNow {
			nowIs = "; now means 00:00 UTC today"
		}
		return nil, p.ErrorAt(p.Param("max"), "max must be after min (max is exclusive: the latest result is the %s before it%s)", unit, nowIs)
	}
	if prm.DateFormat != "" {
		f, err := parseDateFormat(prm.DateFormat)
		if err != nil {
			return nil, p.ErrorAt(p.Param("date_format"), "date_format: %s", strings.TrimPrefix(err.Error(), "engine: "))
		}
		m.format = &f
	}
	return m, nil
}

// genEpochDay is the day number (days since 1970-01-01) of t's calendar
// date.
func genEpochDay(t time.Time) int64 {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// genBoundLayouts are the ISO 8601 forms min and max may take, with
// whether they carry a zone.
var genBoundLayouts = []struct {
	layout string
	zoned  bool
}{
	{"2006-01-02T15:04:05.999999999Z07:00", true},
	{"2006-01-02T15:04:05.999999999Z0700", true},
	{"2006-01-02T15:04:05.999999999Z07", true},
	{"2006-01-02T15:04Z07:00", true},
	{"2006-01-02T15:04Z0700", true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02", false},
}

// genParseBound reads a min or max: ISO 8601 or one of the words for now
// (the start of the current UTC day, which the caller gives as now). It
// reports whether the bound has a zone, and whether it is now.
func genParseBound(s string, now time.Time) (t time.Time, zoned, isNow bool, err error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "now", "current_date_time", "current_date", "today":
		return now.UTC(), true, true, nil
	}
	x := strings.TrimSpace(s)
	if len(x) > 10 && x[10] == ' ' {
		x = x[:10] + "T" + x[11:]
	}
	for _, l := range genBoundLayouts {
		if v, err := time.Parse(l.layout, x); err == nil {
			return v, l.zoned, false, nil
		}
	}
	return time.Time{}, false, false, fmt.Errorf("%q is not an ISO 8601 date or date and time (such as 2019-12-01 or 2019-12-01T05:30:00+00:00) nor now", s)
}

// errRandomDateEnded is what a min at now says once today has reached a
// fixed max.
var errRandomDateEnded = errors.New("min is now (today, UTC) and max has passed, so no date is left to draw; move max later or give min a fixed date")

// bounds is the range on the current day.
func (m fromRandomDate) bounds() (lo, hi int64) {
	lo, hi = m.lo, m.hi
	if m.loNow || m.hiNow {
		d := m.clock.today()
		if m.withTime {
			d *= 86400
		}
		if m.loNow {
			lo = d
		}
		if m.hiNow {
			hi = d
		}
	}
	return lo, hi
}

func (m fromRandomDate) Apply(c *Ctx, v Value) (Value, error) {
	lo, hi := m.bounds()
	if lo >= hi {
		return Value{}, errRandomDateEnded
	}
	r := c.Rand()
	format := m.format
	if format == nil && v.Kind == String {
		if f, _, ok := detectDate(v.S); ok {
			format = &f
		}
	}
	// A recognised date whose day and month could be read either way
	// (03/04/2024) gets a day of 12 or less, so the output is a real date
	// under both readings (see detectDate).
	ambiguous := format != nil && format.dayMonthAmbiguous
	avoid := avoids(c, float64(hi-lo))
	out, ok := "", false
	for range 64 {
		t := m.draw(r, lo, hi)
		if ambiguous && t.Day() > 12 {
			continue
		}
		out, ok = m.write(t, format, v), true
		if !avoid || out != v.Text() {
			break
		}
	}
	if !ok {
		return Value{}, errors.New("no date between min and max has a day of 12 or less, which a value whose day and month could be swapped needs; set date_format to the value's layout (such as \"%d/%m/%Y\")")
	}
	if format == nil && v.Kind == Number {
		return Num(out), nil
	}
	return genText(v, out, "give a date_format that writes a number, such as %s or %Y%m%d")
}

// draw picks a time in [lo, hi). A range with a bound at now is counted
// from its fixed bound, so the outputs that stay in range as today moves
// stay put (see jumpDraw).
func (m fromRandomDate) draw(r *Rand, lo, hi int64) time.Time {
	unit := int64(1)
	if m.withTime {
		unit = 86400
	}
	var n int64
	switch {
	case m.hiNow:
		n = lo + stableOffset(r, hi-lo, unit)
	case m.loNow:
		n = hi - 1 - stableOffset(r, hi-lo, unit)
	default:
		n = r.Int64Range(lo, hi-1)
	}
	if m.withTime {
		return time.Unix(n, 0).In(m.loc)
	}
	return time.Unix(n*86400, 0).UTC()
}

func (m fromRandomDate) write(t time.Time, f *dateFormat, v Value) string {
	switch {
	case f != nil:
		return f.Format(t)
	case v.Kind == Number:
		// A Unix time, with as many (zero) decimals as the original had.
		s := strconv.FormatInt(t.Unix(), 10)
		if dot := strings.IndexByte(v.S, '.'); dot >= 0 {
			n := 0
			for i := dot + 1; i < len(v.S) && v.S[i] >= '0' && v.S[i] <= '9'; i++ {
				n++
			}
			s += "." + strings.Repeat("0", n)
		}
		return s
	case !m.withTime:
		return t.Format(time.DateOnly)
	case m.zoned:
		return t.Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05")
}

// stableOffset returns a uniform offset in [0, n), counted from a range's
// fixed bound, for a range whose other end moves by whole units (a day of
// seconds, for from_random_datetime): jumpDraw picks the unit, a plain
// draw the offset in it. The one partial unit is the first, at the fixed
// bound (an offset before the bound draws again), so the units the moving
// end adds or drops are whole: per unit the range moves, about one output
// in the number of units moves, as with jumpDraw alone, for ln(n/unit)
// steps instead of ln n.
func stableOffset(r *Rand, n, unit int64) int64 {
	if unit == 1 {
		return jumpDraw(r, n)
	}
	units := (n + unit - 1) / unit
	pad := units*unit - n
	for range 64 {
		if o := jumpDraw(r, units)*unit + int64(r.Uint64N(uint64(unit))) - pad; o >= 0 {
			return o
		}
	}
	// Only a range shorter than a few units gets here, about one draw in
	// 15 for an hour's range: still uniform.
	return jumpDraw(r, n)
}

// jumpDraw returns a uniform value in [0, n) that stays put as n moves:
// from n to n+1 it changes only for the draws that become n (one in n+1),
// and from n+1 back to n only for those that were n. It is Lamping and
// Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash
// Algorithm", 2014) run on r's stream, which also reads as many numbers
// from r for both n unless the result differs, so later draws stay put
// too. It costs about ln n steps: 10 for 60 years in days.
// A plain draw over a superset with rejection would move every output
// each time the superset had to grow.
func jumpDraw(r *Rand, n int64) int64 {
	b, j := int64(-1), int64(0)
	for j < n {
		b = j
		u := float64(r.Uint64()>>11+1) / (1 << 53) // in (0, 1]
		f := float64(b+1) / u
		if f >= float64(n) {
			break
		}
		j = int64(f)
	}
	return b
}
