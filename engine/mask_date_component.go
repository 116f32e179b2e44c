package engine

import "time"

// retain_date_component keeps the named parts of a date and draws the
// others. A drawn year is uniform over the 101 years from a hundred years
// before the current UTC year to that year (dayClock: read when the value is
// masked, the same in every process; see xfDrawnYear); a drawn day always fits its month, and a kept day picks a
// month and year that have it (a kept 29 February moves to a leap year).

type retainDateComponentParams struct {
	DateFormat string `yaml:"date_format"`
	Year       bool   `yaml:"year"`
	Month      bool   `yaml:"month"`
	Day        bool   `yaml:"day"`
	Hour       bool   `yaml:"hour"`
	Minute     bool   `yaml:"minute"`
	Second     bool   `yaml:"second"`
}

type retainDateComponentMask struct {
	io    xfDateIO
	keep  retainDateComponentParams
	clock dayClock
}

// xfDrawnYears is how far back a drawn year reaches from "now".
const xfDrawnYears = 100

func newRetainDateComponent(p *Params) (Mask, error) {
	var ps retainDateComponentParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	io, err := xfCompileDateFormat(p, ps.DateFormat)
	if err != nil {
		return nil, err
	}
	if ps.Year && ps.Month && ps.Day && ps.Hour && ps.Minute && ps.Second {
		return nil, p.Errorf("retain_date_component keeps every component (year, month, day, hour, minute, second), so nothing would be masked; set the ones to draw to false, or use do_nothing")
	}
	if io.given && !io.f.epoch {
		var drawn []string
		for _, c := range []struct {
			keep bool
			name string
			dirs []byte
		}{
			{ps.Year, "year", []byte{'Y', 'y'}},
			{ps.Month, "month", []byte{'m', 'b', 'B', 'j'}},
			{ps.Day, "day", []byte{'d', 'e', 'j', 'a', 'A', 'w', 'u'}},
			{ps.Hour, "hour", []byte{'H', 'I', 'p'}},
			{ps.Minute, "minute", []byte{'M'}},
			{ps.Second, "second", []byte{'S', 'f'}},
		} {
			if !c.keep && io.f.shows(c.dirs...) {
				drawn = append(drawn, c.name)
			}
		}
		if len(drawn) == 0 {
			return nil, p.ErrorAt(p.Param("date_format"), "retain_date_component: every component this date_format shows is kept, so nothing would be masked")
		}
	}
	return &retainDateComponentMask{io: io, keep: ps, clock: p.clock()}, nil
}

// xfDrawnYear is the year of [hi-xfDrawnYears, hi] whose remainder by
// xfDrawnYears+1 is u, for a uniform u in [0, xfDrawnYears]: uniform over
// the range, and when a new year moves the range by one, only the draws
// of the year that left it (one in 101) move, to the new year.
func xfDrawnYear(u, hi int) int {
	const n = xfDrawnYears + 1
	lo := hi - xfDrawnYears
	return lo + ((u-lo)%n+n)%n
}

func xfIsLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func (m *retainDateComponentMask) Apply(c *Ctx, v Value) (Value, error) {
	f, t, err := m.io.read(v)
	if err != nil {
		return Value{}, err
	}
	k := m.keep
	hi := 0 // the latest year drawn; the clock is read only to draw one
	if !k.Year {
		hi = max(dayStart(m.clock.today()).Year(), 1+xfDrawnYears)
	}
	r := c.Rand()
	oy, om, od := t.Date()
	oh, omi, os := t.Clock()
	return xfRedraw(v, f, func() (Value, time.Time, error) {
		y := oy
		if !k.Year {
			y = xfDrawnYear(r.IntN(xfDrawnYears+1), hi)
		}
		mo := om
		if !k.Month {
			// Only months that have a kept day: January always does.
			var fit [12]time.Month
			n := 0
			for cand := time.January; cand <= time.December; cand++ {
				if !k.Day || dfDaysIn(cand, y) >= od {
					fit[n] = cand
					n++
				}
			}
			mo = fit[r.IntN(n)]
		} else if k.Day && od > dfDaysIn(mo, y) {
			// A kept 29 February with a drawn year: the nearest leap year
			// at or before the drawn one.
			for !xfIsLeap(y) {
				y--
			}
		}
		d := od
		if !k.Day {
			d = 1 + r.IntN(dfDaysIn(mo, y))
		}
		h, mi, s, ns := oh, omi, os, t.Nanosecond()
		if f.hasTime {
			if !k.Hour {
				h = r.IntN(24)
			}
			if !k.Minute {
				mi = r.IntN(60)
			}
			if !k.Second {
				s, ns = r.IntN(60), r.IntN(1e9)
			}
		}
		return xfWriteDate(c, v, f, time.Date(y, mo, d, h, mi, s, ns, t.Location()))
	})
}

// --- date_shift (ours) ---

// date_shift moves a date by a whole number of days drawn from
// [min_days, max_days], never zero. Seeded by the rule's hash_sources (the
// customer id, say), every date of one entity moves by the same amount, so
// intervals between them survive; the time of day is kept.

type dateShiftParams struct {
	DateFormat string `yaml:"date_format"`
	MinDays    *int   `yaml:"min_days"`
	MaxDays    int    `yaml:"max_days" ms:"required"`
}

type dateShiftMask struct {
	io       xfDateIO
	min, max int
}

// xfMaxShiftDays bounds a shift to about 1000 years, far past any real use
// and well inside time.Time's range.
const xfMaxShiftDays = 366_000

func newDateShift(p *Params) (Mask, error) {
	var ps dateShiftParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	io, err := xfCompileDateFormat(p, ps.DateFormat)
	if err != nil {
		return nil, err
	}
	lo := -ps.MaxDays
	if ps.MinDays != nil {
		lo = *ps.MinDays
	}
	switch {
	case xfAbs(lo) > xfMaxShiftDays || xfAbs(ps.MaxDays) > xfMaxShiftDays:
		return nil, p.Errorf("date_shift: min_days and max_days must be within ±%d", xfMaxShiftDays)
	case lo > ps.MaxDays:
		at := p.Param("min_days")
		if at == nil {
			at = p.Param("max_days")
		}
		return nil, p.ErrorAt(at, "date_shift: min_days (%d) is greater than max_days (%d); without min_days the range is -max_days..max_days", lo, ps.MaxDays)
	case lo == 0 && ps.MaxDays == 0:
		return nil, p.ErrorAt(p.Param("max_days"), "date_shift: the range 0..0 never moves a date; give a range such as min_days: -30, max_days: 30")
	}
	return &dateShiftMask{io: io, min: lo, max: ps.MaxDays}, nil
}

func xfAbs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// shift draws the day offset: uniform over the range without zero.
func (m *dateShiftMask) shift(r *Rand) int {
	n := m.max - m.min + 1
	hasZero := m.min <= 0 && m.max >= 0
	if hasZero {
		n--
	}
	k := m.min + r.IntN(n)
	if hasZero && k >= 0 {
		k++
	}
	return k
}

func (m *dateShiftMask) Apply(c *Ctx, v Value) (Value, error) {
	f, t, err := m.io.read(v)
	if err != nil {
		return Value{}, err
	}
	out, _, err := xfWriteDate(c, v, f, t.AddDate(0, 0, m.shift(c.Rand())))
	return out, err
}
