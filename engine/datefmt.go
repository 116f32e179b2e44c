package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// dateFormat is a compiled strftime-style layout, the date_format parameter
// of DataMasque's date masks (Python's codes, which DataMasque documents).
// It both formats and parses, so a masked date is written back exactly as
// the original was: same codes, same padding, same zone style.
//
// Supported codes: %Y %y %m %b %h %B %d %e %j %H %I %p %M %S %f %z %Z
// %a %A %w %u %s %Q %c %x %X %D %F %T %R %n %t %%. Flags and extensions, all
// from GNU or Ruby strftime: %-d (no padding), %^b (upper case), %3f (a fraction
// of exactly 3 digits; plain %f is Python's 6), %:z (+hh:mm), %Q
// (milliseconds since the epoch, Ruby's). Week-number codes (%U %W %V %G)
// are refused: a week number cannot name a day on its own.
//
// A dateFormat is immutable once parsed and safe for concurrent use.
type dateFormat struct {
	layout string
	items  []dfItem
	// epoch is true when the layout is a Unix timestamp (%s or %Q), so a
	// JSON number can hold it.
	epoch bool
	// complete is true when the layout names a full calendar date (year,
	// month and day, or day of year, or an epoch), so Parse loses no date.
	complete bool
	hasTime  bool
	hasZone  bool
	// dayMonthAmbiguous is set by detectDate for a slashed or dashed date
	// whose first two numbers are both 12 or less: it was read month
	// first, but may be day first. Masks that draw a date keep the day at
	// 12 or less for it, so the output is a real date either way.
	dayMonthAmbiguous bool
}

type dfItem struct {
	dir   byte   // the code letter; 0 for literal text
	lit   string // literal text
	noPad bool   // %-d
	upper bool   // %^b
	colon bool   // %:z
	width int    // %3f: fraction digits; 0 means the default
}

// category groups codes that set the same field: a layout that sets one
// field twice (%H and %I, %m and %b) cannot round-trip, so it is refused.
func (it dfItem) category() string {
	switch it.dir {
	case 'Y', 'y':
		return "year"
	case 'm', 'b', 'B':
		return "month"
	case 'd', 'e':
		return "day"
	case 'j':
		return "day of year"
	case 'H', 'I':
		return "hour"
	case 'p':
		return "am/pm"
	case 'M':
		return "minute"
	case 'S':
		return "second"
	case 'f':
		return "fraction"
	case 'z', 'Z':
		return "time zone"
	case 'a', 'A', 'w', 'u':
		return "weekday"
	case 's', 'Q':
		return "epoch"
	}
	return ""
}

// dfAliases are the C-locale expansions of the composite codes.
var dfAliases = map[byte]string{
	'c': "%a %b %e %H:%M:%S %Y",
	'x': "%m/%d/%y",
	'X': "%H:%M:%S",
	'D': "%m/%d/%y",
	'F': "%Y-%m-%d",
	'T': "%H:%M:%S",
	'R': "%H:%M",
	'n': "\n",
	't': "\t",
}

const dfMaxLayoutLen = 256

// parseDateFormat compiles a DataMasque-style (Python strftime) layout.
func parseDateFormat(layout string) (dateFormat, error) {
	if layout == "" {
		return dateFormat{}, errors.New("engine: empty date_format; give a layout such as \"%Y-%m-%d\"")
	}
	if len(layout) > dfMaxLayoutLen {
		return dateFormat{}, fmt.Errorf("engine: date_format is longer than %d characters", dfMaxLayoutLen)
	}
	f := dateFormat{layout: layout}
	if err := f.compile(layout, 0); err != nil {
		return dateFormat{}, err
	}
	if err := f.checkAdjacent(); err != nil {
		return dateFormat{}, err
	}
	seen := map[string]byte{}
	var has = map[byte]bool{}
	for _, it := range f.items {
		if it.dir == 0 {
			continue
		}
		cat := it.category()
		if prev, dup := seen[cat]; dup {
			return dateFormat{}, fmt.Errorf("engine: date_format sets the %s twice (%%%c and %%%c); keep one of them", cat, prev, it.dir)
		}
		seen[cat] = it.dir
		has[it.dir] = true
	}
	if has['s'] || has['Q'] {
		for cat := range seen {
			if cat != "epoch" && cat != "fraction" {
				return dateFormat{}, errors.New("engine: date_format mixes an epoch (%s or %Q) with calendar codes; an epoch layout may only add a fraction, as in \"%s.%3f\"")
			}
		}
		f.epoch = true
		f.complete = true
		f.hasTime = true
	}
	if has['Q'] && has['f'] {
		return dateFormat{}, errors.New("engine: date_format %Q (milliseconds) takes no fraction; use \"%s.%3f\" for seconds with milliseconds")
	}
	if has['p'] && !has['I'] {
		return dateFormat{}, errors.New("engine: date_format has %p without %I; %p only means something with a 12-hour %I")
	}
	year := has['Y'] || has['y']
	f.complete = f.complete || (year && (has['j'] || (seen["month"] != 0 && seen["day"] != 0)))
	f.hasTime = f.hasTime || has['H'] || has['I'] || has['M'] || has['S'] || has['f']
	f.hasZone = has['z'] || has['Z'] || f.epoch
	return f, nil
}

func (f *dateFormat) compile(layout string, depth int) error {
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.items = append(f.items, dfItem{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		start := i
		i++
		var it dfItem
		for i < len(layout) && (layout[i] == '-' || layout[i] == '^') {
			if layout[i] == '-' {
				it.noPad = true
			} else {
				it.upper = true
			}
			i++
		}
		for i < len(layout) && layout[i] >= '0' && layout[i] <= '9' {
			it.width = it.width*10 + int(layout[i]-'0')
			if it.width > 9 {
				return fmt.Errorf("engine: date_format code at byte %d: a fraction has at most 9 digits", start)
			}
			i++
		}
		if i < len(layout) && layout[i] == ':' {
			it.colon = true
			i++
		}
		if i >= len(layout) {
			return fmt.Errorf("engine: date_format ends with an unfinished %% code; write %%%% for a literal %%")
		}
		it.dir = layout[i]
		if alias, ok := dfAliases[it.dir]; ok {
			if it.noPad || it.upper || it.width != 0 || it.colon {
				return fmt.Errorf("engine: date_format code %%%c at byte %d takes no flags or width", it.dir, start)
			}
			if alias == "\n" || alias == "\t" {
				lit.WriteString(alias)
				continue
			}
			flush()
			if depth > 0 {
				return errors.New("engine: date_format alias nesting")
			}
			if err := f.compile(alias, depth+1); err != nil {
				return err
			}
			continue
		}
		switch it.dir {
		case '%':
			if it.noPad || it.upper || it.width != 0 || it.colon {
				return fmt.Errorf("engine: date_format code at byte %d: %%%% takes no flags", start)
			}
			lit.WriteByte('%')
			continue
		case 'h':
			it.dir = 'b'
		case 'Y', 'y', 'm', 'b', 'B', 'd', 'e', 'j', 'H', 'I', 'p', 'M', 'S', 'f', 'z', 'Z', 'a', 'A', 'w', 'u', 's', 'Q':
		case 'U', 'W', 'V', 'G', 'g':
			return fmt.Errorf("engine: date_format code %%%c (week numbers) is not supported: a week number does not name a day; use %%Y-%%m-%%d", it.dir)
		default:
			return fmt.Errorf("engine: date_format code %%%c at byte %d is not supported; see docs/masks-transforms.md for the codes", it.dir, start)
		}
		if it.noPad && strings.IndexByte("YymdejHIMSwu", it.dir) < 0 {
			return fmt.Errorf("engine: date_format code %%%c at byte %d: the - flag (no padding) only applies to numbers", it.dir, start)
		}
		if it.upper && strings.IndexByte("bBaApZ", it.dir) < 0 {
			return fmt.Errorf("engine: date_format code %%%c at byte %d: the ^ flag (capitals) only applies to names", it.dir, start)
		}
		if it.width != 0 && it.dir != 'f' {
			return fmt.Errorf("engine: date_format code %%%c at byte %d: only %%f takes a width (as in %%3f)", it.dir, start)
		}
		if it.dir == 'f' && layout[i-1] == '0' && it.width == 0 {
			return fmt.Errorf("engine: date_format code at byte %d: a fraction width is 1 to 9", start)
		}
		if it.colon && it.dir != 'z' {
			return fmt.Errorf("engine: date_format code %%%c at byte %d: only %%z takes ':' (as in %%:z)", it.dir, start)
		}
		flush()
		f.items = append(f.items, it)
	}
	flush()
	return nil
}

// checkAdjacent refuses a number of varying width (%-d, %s, %Q) directly
// followed by another number: "111" under %-m%-d could be 1/11 or 11/1, so
// such a layout cannot read back what it writes.
func (f *dateFormat) checkAdjacent() error {
	for i := 0; i+1 < len(f.items); i++ {
		a, b := f.items[i], f.items[i+1]
		_, bhi := numWidth(b)
		if bhi == 0 || b.dir == 0 {
			continue
		}
		if a.noPad || a.dir == 's' || a.dir == 'Q' {
			return fmt.Errorf("engine: date_format code %%%s%c is directly followed by %%%s%c, and without padding their digits cannot be told apart; put a separator between them or drop the - flag", flagText(a), a.dir, flagText(b), b.dir)
		}
	}
	return nil
}

func flagText(it dfItem) string {
	if it.noPad {
		return "-"
	}
	return ""
}

// String returns the layout.
func (f dateFormat) String() string { return f.layout }

var (
	dfMonthNames   = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dfWeekdayNames = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// Format writes t with the layout, in t's own location: masks keep the
// location the original was parsed in, so the offset is kept too.
func (f dateFormat) Format(t time.Time) string {
	return string(f.AppendFormat(make([]byte, 0, len(f.layout)+16), t))
}

// AppendFormat is Format appending to dst.
func (f dateFormat) AppendFormat(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	nsec := t.Nanosecond()
	// An epoch before 1970 with a fraction is written as -secs.frac of the
	// distance to the epoch, not floor(secs) plus a positive fraction.
	epochNeg, epochSec := false, t.Unix()
	if f.epoch && epochSec < 0 {
		epochNeg = true
		if nsec > 0 {
			epochSec++
			nsec = 1e9 - nsec
		}
		epochSec = -epochSec
	}
	for _, it := range f.items {
		switch it.dir {
		case 0:
			dst = append(dst, it.lit...)
		case 'Y':
			dst = dfAppendNum(dst, year, 4, it.noPad, '0')
		case 'y':
			dst = dfAppendNum(dst, ((year%100)+100)%100, 2, it.noPad, '0')
		case 'm':
			dst = dfAppendNum(dst, int(month), 2, it.noPad, '0')
		case 'b':
			dst = dfAppendName(dst, dfMonthNames[month-1][:3], it.upper)
		case 'B':
			dst = dfAppendName(dst, dfMonthNames[month-1], it.upper)
		case 'd':
			dst = dfAppendNum(dst, day, 2, it.noPad, '0')
		case 'e':
			dst = dfAppendNum(dst, day, 2, it.noPad, ' ')
		case 'j':
			dst = dfAppendNum(dst, t.YearDay(), 3, it.noPad, '0')
		case 'H':
			dst = dfAppendNum(dst, hour, 2, it.noPad, '0')
		case 'I':
			h := hour % 12
			if h == 0 {
				h = 12
			}
			dst = dfAppendNum(dst, h, 2, it.noPad, '0')
		case 'p':
			if hour < 12 {
				dst = append(dst, "AM"...)
			} else {
				dst = append(dst, "PM"...)
			}
		case 'M':
			dst = dfAppendNum(dst, min, 2, it.noPad, '0')
		case 'S':
			dst = dfAppendNum(dst, sec, 2, it.noPad, '0')
		case 'f':
			w := it.width
			if w == 0 {
				w = 6
			}
			ns := nsec
			for i := w; i < 9; i++ {
				ns /= 10
			}
			dst = dfAppendNum(dst, ns, w, false, '0')
		case 'z':
			_, off := t.Zone()
			dst = dfAppendOffset(dst, off, it.colon)
		case 'Z':
			name, off := t.Zone()
			if name == "" {
				name = "UTC"
				if off != 0 {
					dst = dfAppendOffset(dst, off, true)
					continue
				}
			}
			dst = append(dst, name...)
		case 'a':
			dst = dfAppendName(dst, dfWeekdayNames[t.Weekday()][:3], it.upper)
		case 'A':
			dst = dfAppendName(dst, dfWeekdayNames[t.Weekday()], it.upper)
		case 'w':
			dst = strconv.AppendInt(dst, int64(t.Weekday()), 10)
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			dst = strconv.AppendInt(dst, int64(wd), 10)
		case 's':
			if epochNeg {
				dst = append(dst, '-')
			}
			dst = strconv.AppendInt(dst, epochSec, 10)
		case 'Q':
			dst = strconv.AppendInt(dst, t.UnixMilli(), 10)
		}
	}
	return dst
}

func dfAppendNum(dst []byte, n, width int, noPad bool, pad byte) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	if !noPad {
		for w := dfDigitCount(n); w < width; w++ {
			dst = append(dst, pad)
		}
	}
	return strconv.AppendInt(dst, int64(n), 10)
}

func dfDigitCount(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

func dfAppendName(dst []byte, name string, upper bool) []byte {
	if upper {
		return append(dst, strings.ToUpper(name)...)
	}
	return append(dst, name...)
}

func dfAppendOffset(dst []byte, off int, colon bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign = '-'
		off = -off
	}
	dst = append(dst, sign)
	dst = dfAppendNum(dst, off/3600, 2, false, '0')
	if colon {
		dst = append(dst, ':')
	}
	dst = dfAppendNum(dst, (off/60)%60, 2, false, '0')
	if s := off % 60; s != 0 {
		if colon {
			dst = append(dst, ':')
		}
		dst = dfAppendNum(dst, s, 2, false, '0')
	}
	return dst
}

// dfFields collects what Parse read; -1 means "not given".
type dfFields struct {
	year, month, day, yday int
	hour, hour12, pm, min  int
	sec, nsec              int
	zoneSet                bool
	zoneOff                int
	zoneName               string
	t                      time.Time
	err                    error // why the last full reading was no date
	epochSet               bool
	epochNeg               bool
	epoch                  int64
	epochMilli             bool
}

// errDateMismatch never quotes the input: it becomes a dead-letter reason.
func errDateMismatch(layout string) error {
	return fmt.Errorf("engine: value does not match date_format %q", layout)
}

// Parse reads s with the layout. Fields the layout lacks default as in
// Python's strptime: year 1900, month and day 1, midnight, UTC. The result
// is a real calendar date (31 February is an error, not 3 March).
// Letters match case-insensitively; numbers without padding are accepted.
func (f dateFormat) Parse(s string) (time.Time, error) {
	if len(f.items) == 0 {
		return time.Time{}, errors.New("engine: date format not compiled")
	}
	fl := dfFields{year: -1, month: -1, day: -1, yday: -1, hour: -1, hour12: -1, pm: -1, min: -1, sec: -1, nsec: -1}
	start := fl
	steps := 0
	// First the reading the backtracking tries first (the widest number
	// at every step), without keeping state to backtrack to: a value
	// written in the layout is read so, and then the search below would
	// take the same path to the same date. Only when it fails does the
	// search run, from the start, exactly as if alone.
	if len(f.items) < dfMatchBudget && f.matchFrom(s, 0, &fl, &steps, true) {
		return fl.t, nil
	}
	fl, steps = start, 0
	if !f.matchFrom(s, 0, &fl, &steps, false) {
		if fl.err != nil {
			return time.Time{}, fl.err
		}
		return time.Time{}, errDateMismatch(f.layout)
	}
	return fl.t, nil
}

// dfDigits reads a run of ASCII digits as strconv.ParseInt would, without
// its generality: ok is false only where ParseInt fails (past int64).
func dfDigits(s string) (int64, bool) {
	if len(s) > 18 { // may not fit: let ParseInt say
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	var v int64
	for i := range len(s) {
		v = v*10 + int64(s[i]-'0')
	}
	return v, true
}

// budget bounds the backtracking of adjacent unpadded numbers (%-d%-m), so
// a hostile layout cannot make Parse slow.
const dfMatchBudget = 4096

// matchFrom matches items[i:] against s with backtracking over the widths
// of variable-width numbers. It returns true with fl filled on success.
// first follows only the first choice at every step, and leaves fl
// undefined when that fails: the caller starts again without it.
func (f dateFormat) matchFrom(s string, i int, fl *dfFields, steps *int, first bool) bool {
	*steps++
	if *steps > dfMatchBudget {
		return false
	}
	if i == len(f.items) {
		// A reading that is no calendar date (day 30 of February, or
		// year 43 day 0 where year 4 day 30 was meant) is not a match:
		// the matcher goes on to the next reading.
		if s != "" {
			return false
		}
		t, err := f.build(fl)
		fl.t, fl.err = t, err
		return err == nil
	}
	it := f.items[i]
	if it.dir == 0 {
		if len(s) < len(it.lit) || !strings.EqualFold(s[:len(it.lit)], it.lit) {
			return false
		}
		return f.matchFrom(s[len(it.lit):], i+1, fl, steps, first)
	}
	lo, hi := numWidth(it)
	if hi > 0 {
		rest := s
		if it.dir == 'e' {
			rest = strings.TrimLeft(rest, " ")
		}
		neg := false
		if (it.dir == 's' || it.dir == 'Q') && rest != "" && rest[0] == '-' {
			neg, rest = true, rest[1:]
		}
		n := 0
		for n < len(rest) && n < hi && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		var widths [16]int
		nw := 0
		// A plain %f is written with 6 digits: read 6 first, so what
		// Format wrote reads back the same even when digits follow.
		if it.dir == 'f' && it.width == 0 && n >= 6 {
			widths[0], nw = 6, 1
		}
		for w := n; w >= lo && w > 0; w-- {
			if nw == 0 || widths[0] != w {
				widths[nw] = w
				nw++
			}
		}
		if first {
			if nw == 0 {
				return false
			}
			w := widths[0]
			v, ok := dfDigits(rest[:w])
			if !ok {
				return false
			}
			if neg {
				v = -v
				fl.epochNeg = true
			}
			return fl.set(it, v, w) && f.matchFrom(rest[w:], i+1, fl, steps, true)
		}
		for _, w := range widths[:nw] {
			v, ok := dfDigits(rest[:w])
			if !ok {
				continue
			}
			saved := *fl
			if neg {
				v = -v
				fl.epochNeg = true
			}
			if fl.set(it, v, w) && f.matchFrom(rest[w:], i+1, fl, steps, false) {
				return true
			}
			*fl = saved
		}
		return false
	}
	// Names and am/pm have one reading each: no backtracking.
	if n, ok := fl.setText(it, s); ok {
		return f.matchFrom(s[n:], i+1, fl, steps, first)
	}
	if it.dir != 'z' && it.dir != 'Z' {
		return false
	}
	// Offsets (%z, and %Z for a zone without a name) may be read at
	// several lengths.
	ns, offs, count := dfOffsets(s)
	if first {
		if count == 0 {
			return false
		}
		fl.zoneSet, fl.zoneOff, fl.zoneName = true, offs[0], ""
		return f.matchFrom(s[ns[0]:], i+1, fl, steps, true)
	}
	for k := 0; k < count; k++ {
		saved := *fl
		fl.zoneSet, fl.zoneOff, fl.zoneName = true, offs[k], ""
		if f.matchFrom(s[ns[k]:], i+1, fl, steps, false) {
			return true
		}
		*fl = saved
	}
	return false
}

// numWidth is the digit count a numeric code accepts; hi is 0 for codes
// that are not numbers.
func numWidth(it dfItem) (lo, hi int) {
	switch it.dir {
	case 'Y':
		if it.noPad {
			return 1, 4
		}
		return 4, 4
	case 'y':
		if it.noPad {
			return 1, 2
		}
		return 2, 2
	case 'm', 'd', 'e', 'H', 'I', 'M', 'S':
		return 1, 2
	case 'j':
		return 1, 3
	case 'f':
		if it.width > 0 {
			return it.width, it.width
		}
		return 1, 9
	case 'w', 'u':
		return 1, 1
	case 's':
		return 1, 12
	case 'Q':
		return 1, 15
	}
	return 0, 0
}

func (fl *dfFields) set(it dfItem, v int64, width int) bool {
	n := int(v)
	switch it.dir {
	case 'Y':
		fl.year = n
	case 'y':
		// POSIX and Python: 69-99 are 1969-1999, 00-68 are 2000-2068.
		if n >= 69 {
			fl.year = 1900 + n
		} else {
			fl.year = 2000 + n
		}
	case 'm':
		fl.month = n
		return n >= 1 && n <= 12
	case 'd', 'e':
		fl.day = n
		return n >= 1 && n <= 31
	case 'j':
		fl.yday = n
		return n >= 1 && n <= 366
	case 'H':
		fl.hour = n
		return n <= 23
	case 'I':
		fl.hour12 = n
		return n >= 1 && n <= 12
	case 'M':
		fl.min = n
		return n <= 59
	case 'S':
		fl.sec = n
		return n <= 59
	case 'f':
		for w := width; w < 9; w++ {
			n *= 10
		}
		fl.nsec = n
	case 'w':
		return n <= 6
	case 'u':
		return n >= 1 && n <= 7
	case 's':
		fl.epochSet, fl.epoch = true, v
	case 'Q':
		fl.epochSet, fl.epoch, fl.epochMilli = true, v, true
	}
	return true
}

// dfZoneAbbrevs are the abbreviations %Z reads. Others are refused rather
// than guessed: an unknown abbreviation has no reliable offset.
var dfZoneAbbrevs = map[string]int{
	"UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"BST": 1 * 3600, "CET": 1 * 3600, "CEST": 2 * 3600, "EET": 2 * 3600, "EEST": 3 * 3600,
	"JST": 9 * 3600, "AEST": 10 * 3600, "AEDT": 11 * 3600, "NZST": 12 * 3600, "NZDT": 13 * 3600,
}

// setText reads a name, am/pm or zone at the start of s and returns how
// many bytes it took.
func (fl *dfFields) setText(it dfItem, s string) (int, bool) {
	switch it.dir {
	case 'b', 'B':
		for m, name := range dfMonthNames {
			if it.dir == 'b' {
				name = name[:3]
			}
			if len(s) >= len(name) && strings.EqualFold(s[:len(name)], name) {
				fl.month = m + 1
				return len(name), true
			}
		}
	case 'a', 'A':
		for _, name := range dfWeekdayNames {
			if it.dir == 'a' {
				name = name[:3]
			}
			if len(s) >= len(name) && strings.EqualFold(s[:len(name)], name) {
				return len(name), true
			}
		}
	case 'p':
		if len(s) >= 2 {
			switch strings.ToUpper(s[:2]) {
			case "AM":
				fl.pm = 0
				return 2, true
			case "PM":
				fl.pm = 1
				return 2, true
			}
		}
	case 'Z':
		n := 0
		for n < len(s) && n < 5 && (s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z') {
			n++
		}
		for ; n > 0; n-- {
			name := strings.ToUpper(s[:n])
			if off, ok := dfZoneAbbrevs[name]; ok {
				fl.zoneSet, fl.zoneOff, fl.zoneName = true, off, name
				if name == "Z" {
					fl.zoneName = "UTC"
				}
				return n, true
			}
		}
	}
	return 0, false
}

// dfOffsets lists the readings of a zone offset at the start of s, longest
// first: Z, ±hh, ±hh[:]mm and ±hh[:]mm[:]ss. A digit after a short
// offset may belong to the next code, so the matcher tries each.
func dfOffsets(s string) (ns, offs [3]int, count int) {
	if len(s) >= 1 && (s[0] == 'Z' || s[0] == 'z') {
		return [3]int{1}, [3]int{}, 1
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return ns, offs, 0
	}
	two := func(p string) (int, bool) {
		if len(p) < 2 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' {
			return 0, false
		}
		return int(p[0]-'0')*10 + int(p[1]-'0'), true
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	h, ok := two(s[1:])
	if !ok || h > 23 {
		return ns, offs, 0
	}
	var rev [3]int // readings shortest first
	var revOff [3]int
	rev[0], revOff[0], count = 3, h*3600, 1
	n, off := 3, h*3600
	for part := 0; part < 2; part++ {
		p := s[n:]
		colon := len(p) > 0 && p[0] == ':'
		if colon {
			p = p[1:]
		}
		v, ok := two(p)
		if !ok || v > 59 {
			break
		}
		if colon {
			n++
		}
		n += 2
		if part == 0 {
			off += v * 60
		} else {
			off += v
		}
		rev[count], revOff[count] = n, off
		count++
	}
	for i := 0; i < count; i++ {
		ns[i], offs[i] = rev[count-1-i], sign*revOff[count-1-i]
	}
	return ns, offs, count
}

func (f dateFormat) build(fl *dfFields) (time.Time, error) {
	if fl.epochSet {
		var t time.Time
		if fl.epochMilli {
			t = time.UnixMilli(fl.epoch).UTC()
		} else {
			t = time.Unix(fl.epoch, 0).UTC()
		}
		if fl.nsec > 0 {
			if fl.epochNeg {
				t = t.Add(-time.Duration(fl.nsec))
			} else {
				t = t.Add(time.Duration(fl.nsec))
			}
		}
		return t, nil
	}
	year, month, day := fl.year, fl.month, fl.day
	if year < 0 {
		year = 1900
	}
	if year == 0 {
		return time.Time{}, fmt.Errorf("engine: year 0 does not exist (date_format %q)", f.layout)
	}
	hour := fl.hour
	if fl.hour12 >= 0 {
		if fl.hour12 < 1 || fl.hour12 > 12 {
			return time.Time{}, fmt.Errorf("engine: hour out of range for %%I (date_format %q)", f.layout)
		}
		hour = fl.hour12 % 12
		if fl.pm == 1 {
			hour += 12
		}
	}
	clamp := func(v int) int {
		if v < 0 {
			return 0
		}
		return v
	}
	hour, min, sec, nsec := clamp(hour), clamp(fl.min), clamp(fl.sec), clamp(fl.nsec)
	if hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("engine: time of day out of range (date_format %q)", f.layout)
	}
	loc := time.UTC
	if fl.zoneSet && (fl.zoneOff != 0 || (fl.zoneName != "" && fl.zoneName != "UTC")) {
		loc = dfZone(fl.zoneName, fl.zoneOff)
	}
	if fl.yday >= 0 {
		first := time.Date(year, 1, 1, hour, min, sec, nsec, loc)
		if fl.yday < 1 || fl.yday > first.AddDate(1, 0, -1).YearDay() {
			return time.Time{}, fmt.Errorf("engine: day of year out of range (date_format %q)", f.layout)
		}
		return first.AddDate(0, 0, fl.yday-1), nil
	}
	if month < 0 {
		month = 1
	}
	if day < 0 {
		day = 1
	}
	if month < 1 || month > 12 || day < 1 || day > dfDaysIn(time.Month(month), year) {
		return time.Time{}, fmt.Errorf("engine: not a calendar date (date_format %q)", f.layout)
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc), nil
}

// Parsed zones are shared: time.FixedZone allocates, and dates are parsed
// per value on the hot path. Offsets in whole minutes (all real ones) and
// the named zones %Z reads are cached; anything else is made afresh.
var (
	dfOffsetZones [2*24*60 + 1]atomic.Pointer[time.Location]
	dfNamedZones  = func() map[string]*time.Location {
		m := make(map[string]*time.Location, len(dfZoneAbbrevs))
		for name, off := range dfZoneAbbrevs {
			m[name] = time.FixedZone(name, off)
		}
		return m
	}()
)

func dfZone(name string, off int) *time.Location {
	if name != "" {
		if z, ok := dfNamedZones[name]; ok && name != "Z" {
			return z
		}
		return time.FixedZone(name, off)
	}
	if off%60 != 0 || off < -24*3600 || off > 24*3600 {
		return time.FixedZone("", off)
	}
	slot := &dfOffsetZones[off/60+24*60]
	if z := slot.Load(); z != nil {
		return z
	}
	z := time.FixedZone("", off)
	slot.Store(z)
	return z
}

// dfDaysIn returns the number of days of a month. Parse checks every date
// with it, so the common case is arithmetic (the proleptic Gregorian rule
// time uses) rather than a time.Date; the rest, a month out of range or a
// year far from any calendar date, still asks time.Date.
func dfDaysIn(m time.Month, year int) int {
	if m < time.January || m > time.December || year < -dfFastYears || year > dfFastYears {
		return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	}
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return int(dfMonthDays[m])
}

// dfFastYears bounds the years dfDaysIn computes itself.
const dfFastYears = 1_000_000

var dfMonthDays = [13]uint8{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
