package engine

import (
	"errors"
	"fmt"
	"time"
)

// The date masks: retain_age, retain_year, retain_date_component and
// date_shift. Each reads the value with its date_format, or recognises it
// (detectDate) when there is none, and writes the result back in the same
// form, so the output is a real calendar date that looks like the input.
// A JSON number is a Unix time in seconds (see xfDateIO.read) unless a
// date_format says otherwise.

func init() {
	register("retain_age", newRetainAge)
	register("retain_year", newRetainYear)
	register("retain_date_component", newRetainDateComponent)
	register("date_shift", newDateShift)
}

// xfDateIO reads and writes the dates of one mask.
type xfDateIO struct {
	f     dateFormat
	given bool
}

// xfCompileDateFormat compiles an optional date_format parameter.
func xfCompileDateFormat(p *Params, layout string) (xfDateIO, error) {
	if layout == "" {
		if p.Param("date_format") != nil {
			return xfDateIO{}, p.ErrorAt(p.Param("date_format"), "date_format is empty; leave it out to recognise common forms, or give a layout such as \"%%Y-%%m-%%d\"")
		}
		return xfDateIO{}, nil
	}
	f, err := parseDateFormat(layout)
	if err != nil {
		return xfDateIO{}, p.ErrorAt(p.Param("date_format"), "%s", xfTrimEnginePrefix(err))
	}
	return xfDateIO{f: f, given: true}, nil
}

func xfTrimEnginePrefix(err error) string {
	s := err.Error()
	const pre = "engine: "
	if len(s) > len(pre) && s[:len(pre)] == pre {
		return s[len(pre):]
	}
	return s
}

// xfEpochFormats read JSON numbers: whole seconds, or seconds with a
// fraction of 1 to 9 digits (kept at its width).
var xfEpochFormats = func() (fs [10]dateFormat) {
	fs[0] = mustDateFormat("%s")
	for i := 1; i <= 9; i++ {
		fs[i] = mustDateFormat(fmt.Sprintf("%%s.%%%df", i))
	}
	return fs
}()

// xfRecognisedForms names the forms detectDate recognises, for errors.
const xfRecognisedForms = "ISO 8601, RFC 3339, 2006-01-02 15:04:05, 01/02/2006, 2 Jan 2006..."

// errXfNotDate is what the date masks say of a string they cannot read.
// typecast says errTypecastNotDate instead: there date_format is also the
// layout written.
var errXfNotDate = errors.New("the value is not a date in a recognised form (" + xfRecognisedForms + "); set date_format to its layout, for example \"%d/%m/%Y\"")

// read parses v: a string with the date_format or by recognition, a number
// as a Unix time in seconds (or with the date_format when one is given).
func (d xfDateIO) read(v Value) (dateFormat, time.Time, error) {
	switch v.Kind {
	case String:
		if d.given {
			t, err := d.f.Parse(v.S)
			return d.f, t, err
		}
		f, t, ok := detectDate(v.S)
		if !ok {
			return dateFormat{}, time.Time{}, errXfNotDate
		}
		return f, t, nil
	case Number:
		if d.given {
			t, err := d.f.Parse(v.S)
			return d.f, t, err
		}
		s := v.S
		frac := 0
		for i := 0; i < len(s); i++ {
			if s[i] == '.' {
				frac = len(s) - i - 1
				break
			}
		}
		if frac > 9 {
			return dateFormat{}, time.Time{}, errors.New("a number read as a Unix time may have at most 9 decimals")
		}
		f := xfEpochFormats[frac]
		t, err := f.Parse(s)
		if err != nil {
			return dateFormat{}, time.Time{}, errors.New("a number given to a date mask is read as a Unix time in seconds and must be written plainly (1700000000 or 1700000000.5); set date_format (\"%Q\" for milliseconds) for other forms")
		}
		return f, t, nil
	}
	return dateFormat{}, time.Time{}, fmt.Errorf("expected a date string or a number, got %s", v.Kind)
}

// xfWriteDate writes t in f as a value of orig's kind, and returns t too
// for the checks of xfRedraw.
func xfWriteDate(c *Ctx, orig Value, f dateFormat, t time.Time) (Value, time.Time, error) {
	if t.Year() < 1 || t.Year() > 9999 {
		return Value{}, t, errors.New("the masked date falls outside the years 1 to 9999")
	}
	out, err := xfSameKind(orig, c.str(f.AppendFormat(c.room(len(f.layout)+16), t)))
	return out, t, err
}

// xfTimeOfDay returns a random time of day, or t's own when the format
// shows no time (so a date-only value stays at its midnight).
func xfTimeOfDay(r *Rand, f dateFormat, t time.Time) (h, m, s, ns int) {
	if !f.hasTime {
		h, m, s = t.Clock()
		return h, m, s, t.Nanosecond()
	}
	sec := r.IntN(86400)
	return sec / 3600, (sec / 60) % 60, sec % 60, r.IntN(1e9)
}

// xfRedraw calls draw until its output differs from the original text, so
// a mask that replaces a whole date never returns it, and, for a date whose
// day and month could be read either way, until the day is 12 or less (see
// detectDate). draw reads c.Rand(), so the retries are deterministic.
func xfRedraw(orig Value, f dateFormat, draw func() (Value, time.Time, error)) (Value, error) {
	tries := xfMaxRedraws
	if f.dayMonthAmbiguous {
		tries *= 2 // about 40% of draws have a day of 12 or less
	}
	for range tries {
		out, t, err := draw()
		if err != nil {
			return Value{}, err
		}
		if out.S != orig.S && (!f.dayMonthAmbiguous || t.Day() <= 12) {
			return out, nil
		}
	}
	return Value{}, errors.New("could not produce a date different from the original: the date format shows too little of the date to change; use a date_format with more components")
}

// --- retain_age ---

type retainAgeParams struct {
	DateFormat string `yaml:"date_format"`
}

type retainAgeMask struct {
	io    xfDateIO
	clock dayClock
}

func newRetainAge(p *Params) (Mask, error) {
	var ps retainAgeParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	io, err := xfCompileDateFormat(p, ps.DateFormat)
	if err != nil {
		return nil, err
	}
	if io.given && !io.f.complete {
		return nil, p.ErrorAt(p.Param("date_format"), "retain_age needs a date_format with a full date (year, month and day, or %%j), or an epoch (%%s)")
	}
	return &retainAgeMask{io: io, clock: p.clock()}, nil
}

// xfAge is the age in completed years on day now of someone born on b,
// each read in its own time zone.
func xfAge(b, now time.Time) int {
	by, bm, bd := b.Date()
	ny, nm, nd := now.Date()
	age := ny - by
	if nm < bm || nm == bm && nd < bd {
		age--
	}
	return age
}

// xfLeapYearDays[k] is the month and day of day k (0-based) of a leap
// year: the birthdays retain_age draws from.
var xfLeapYearDays = func() (t [366]struct{ m, d int8 }) {
	for k := range t {
		d := time.Date(2000, 1, 1+k, 0, 0, 0, 0, time.UTC)
		t[k].m, t[k].d = int8(d.Month()), int8(d.Day())
	}
	return t
}()

// xfAgeBirthday places birthday k (a day of a leap year) in the one year
// that makes the age on day ny-nm-nd equal age: the year before when that
// birthday is still to come. ok is false for 29 February landing in a
// common year. Over every k it gives each birth date of that age once, so
// a uniform k is a uniform date with that age, exact around 29 February.
// Tomorrow moves one birthday (tomorrow's) to the next year and leaves the
// other 365 in place: a value's output moves only when its draw is that
// birthday, or its own age changes.
func xfAgeBirthday(k, age, ny int, nm time.Month, nd int) (y int, m time.Month, d int, ok bool) {
	m, d = time.Month(xfLeapYearDays[k].m), int(xfLeapYearDays[k].d)
	y = ny - age
	if m > nm || m == nm && d > nd {
		y--
	}
	return y, m, d, m != time.February || d != 29 || xfIsLeap(y)
}

func (m *retainAgeMask) Apply(c *Ctx, v Value) (Value, error) {
	f, t, err := m.io.read(v)
	if err != nil {
		return Value{}, err
	}
	// Today is the UTC date (dayClock), whatever the value's zone: every
	// process must see the same age.
	now := dayStart(m.clock.today())
	ny, nm, nd := now.Date()
	age := xfAge(t, now)
	loc := t.Location()
	r := c.Rand()
	return xfRedraw(v, f, func() (Value, time.Time, error) {
		y, mo, d, ok := xfAgeBirthday(r.IntN(366), age, ny, nm, nd)
		for i := 0; !ok && i < 64; i++ {
			y, mo, d, ok = xfAgeBirthday(r.IntN(366), age, ny, nm, nd)
		}
		if !ok { // never in practice: 1 January always fits
			y, mo, d, _ = xfAgeBirthday(0, age, ny, nm, nd)
		}
		h, mi, s, ns := xfTimeOfDay(r, f, t)
		return xfWriteDate(c, v, f, time.Date(y, mo, d, h, mi, s, ns, loc))
	})
}

// --- retain_year ---

type retainYearParams struct {
	DateFormat string `yaml:"date_format"`
}

type retainYearMask struct{ io xfDateIO }

func newRetainYear(p *Params) (Mask, error) {
	var ps retainYearParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	io, err := xfCompileDateFormat(p, ps.DateFormat)
	if err != nil {
		return nil, err
	}
	if io.given && !io.f.epoch && !io.f.hasTime && !io.f.shows('m', 'b', 'B', 'd', 'e', 'j') {
		return nil, p.ErrorAt(p.Param("date_format"), "retain_year keeps the year, and this date_format shows nothing else to change")
	}
	return &retainYearMask{io: io}, nil
}

func (m *retainYearMask) Apply(c *Ctx, v Value) (Value, error) {
	f, t, err := m.io.read(v)
	if err != nil {
		return Value{}, err
	}
	year := t.Year()
	days := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay()
	r := c.Rand()
	return xfRedraw(v, f, func() (Value, time.Time, error) {
		d := time.Date(year, 1, 1+r.IntN(days), 0, 0, 0, 0, time.UTC)
		h, mi, s, ns := xfTimeOfDay(r, f, t)
		return xfWriteDate(c, v, f, time.Date(year, d.Month(), d.Day(), h, mi, s, ns, t.Location()))
	})
}

// shows reports whether the layout has any of the given codes.
func (f dateFormat) shows(dirs ...byte) bool {
	for _, it := range f.items {
		for _, d := range dirs {
			if it.dir == d {
				return true
			}
		}
	}
	return false
}
