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
// today, which mean the time the ruleset was loaded (so the range moves
// from day to day as rulesets reload). For from_random_datetime, min and
// max both carry a time zone offset or neither does; with one the result is
// written at min's offset.
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
	// epoch, hi exclusive.
	lo, hi int64
	loc    *time.Location
	zoned  bool
	format *dateFormat
}

func newFromRandomDate(p *Params, withTime bool) (Mask, error) {
	var prm fromRandomDateParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	m := fromRandomDate{withTime: withTime, loc: time.UTC}
	minT, minZoned, minNow, err := genParseBound(prm.Min, p.Now())
	if err != nil {
		return nil, p.ErrorAt(p.Param("min"), "min: %v", err)
	}
	maxT, maxZoned, maxNow, err := genParseBound(prm.Max, p.Now())
	if err != nil {
		return nil, p.ErrorAt(p.Param("max"), "max: %v", err)
	}
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
		return nil, p.ErrorAt(p.Param("max"), "max must be after min (max is exclusive: the latest result is the %s before it)", unit)
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

// genParseBound reads a min or max: ISO 8601 or one of the words for now.
// It reports whether the bound has a zone, and whether it is now.
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

func (m fromRandomDate) Apply(c *Ctx, v Value) (Value, error) {
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
	avoid := avoids(c, float64(m.hi-m.lo))
	out, ok := "", false
	for range 64 {
		t := m.draw(r)
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

func (m fromRandomDate) draw(r *Rand) time.Time {
	n := r.Int64Range(m.lo, m.hi-1)
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
