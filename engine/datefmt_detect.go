package engine

import (
	"fmt"
	"time"
)

// detectDate recognises the common date and datetime forms when a mask has
// no date_format, and returns the format that writes a masked date back in
// the same form. It recognises:
//
//   - ISO 8601 / RFC 3339: 2024-03-01, 2024-03-01T10:20:30, with a space
//     instead of T, without seconds, with a fraction of 1 to 9 digits (kept
//     at its width), and with Z, +hh:mm or +hhmm (kept as written);
//   - 2024/03/01 and 20240301 (8 digits, years 1800 to 2199 only, so that
//     ordinary numbers are not read as dates);
//   - day and month with the year last, separated by /, - or . (01/03/2024,
//     1-3-24, 01.03.2024), optionally followed by " 10:20" or " 10:20:30".
//     The dotted form is day first (the European convention). For / and -
//     the order is read from the value: a first number above 12 means day
//     first, a second number above 12 means month first, and when both are
//     12 or less the value is read month first (US, as Python's dateutil
//     does) and the format is marked ambiguous: masks that draw a date
//     then keep its day at 12 or less, so the output is a real date read
//     either way. Data written day first should still say so with
//     date_format ("%d/%m/%Y"): an age or a shift is computed on the
//     month-first reading;
//   - named months: 1 Mar 2024, 1 March 2024, 01-MAR-2024 (Oracle), Mar 1,
//     2024, March 1, 2024, RFC 1123 (Fri, 01 Mar 2024 10:20:30 GMT or
//     +0000) and ctime (Fri Mar  1 10:20:30 2024). A name written in
//     capitals is written back in capitals.
//
// Anything else is not detected: the mask then needs a date_format. Numbers
// are not detected here; date masks read a JSON number as a Unix time in
// seconds (see numberDate).
func detectDate(s string) (dateFormat, time.Time, bool) {
	if len(s) < 6 || len(s) > 64 {
		return dateFormat{}, time.Time{}, false
	}
	if dfDigit(s[0]) {
		if f, ok := dfDetectISO(s); ok {
			return dfTryDetected(f, s)
		}
		if f, ok := dfDetectDMY(s); ok {
			return dfTryDetected(f, s)
		}
		if len(s) == 8 && dfAllDigits(s) && (s[:2] == "18" || s[:2] == "19" || s[:2] == "20" || s[:2] == "21") {
			return dfTryDetected(dfCompact, s)
		}
	}
	if !dfLetter(s[0]) && !dfDigit(s[0]) {
		return dateFormat{}, time.Time{}, false
	}
	upper := dfUpperOnly(s)
	for _, c := range dfNamed {
		f := c.normal
		if upper {
			f = c.upper
		}
		if f, t, ok := dfTryDetected(f, s); ok {
			return f, t, true
		}
	}
	return dateFormat{}, time.Time{}, false
}

// dfTryDetected accepts a candidate only when it writes the value back
// exactly as it came: the promise of detection is that a masked date keeps
// the original's form, so a reading that would change padding, case or
// zone style is not a match.
func dfTryDetected(f dateFormat, s string) (dateFormat, time.Time, bool) {
	t, err := f.Parse(s)
	if err != nil {
		return dateFormat{}, time.Time{}, false
	}
	var buf [80]byte
	if string(f.AppendFormat(buf[:0], t)) != s {
		return dateFormat{}, time.Time{}, false
	}
	return f, t, true
}

func dfLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func dfDigit(c byte) bool { return c >= '0' && c <= '9' }

func dfAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !dfDigit(s[i]) {
			return false
		}
	}
	return true
}

func dfDigitsAt(s string, i, n int) bool {
	return i+n <= len(s) && dfAllDigits(s[i:i+n])
}

// dfUpperOnly reports whether s has ASCII letters and all are capitals.
func dfUpperOnly(s string) bool {
	upper := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			return false
		case c >= 'A' && c <= 'Z':
			upper = true
		}
	}
	return upper
}

// Zone styles of the ISO forms.
const (
	dfISOZoneNone = iota
	dfISOZoneZ
	dfISOZoneBasic // +hhmm
	dfISOZoneColon // +hh:mm
	dfISOZones
)

// dfISOKey indexes the precompiled ISO layouts.
type dfISOKey struct {
	slash   bool // 2024/03/01
	sep     byte // 0 (date only), 'T' or ' '
	seconds bool
	frac    int // 0, or the fraction's digit count
	zone    int
}

var (
	dfISOFormats = map[dfISOKey]dateFormat{}
	dfDMYFormats = map[dfDMYKey]dateFormat{}
	dfCompact    = mustDateFormat("%Y%m%d")
	dfNamed      []dfNamedLayout
)

type dfNamedLayout struct{ normal, upper dateFormat }

// dfDMYKey indexes the precompiled numeric day/month/year layouts.
type dfDMYKey struct {
	dayFirst bool
	sep      byte
	noPad    bool
	year2    bool
	time     int // 0 none, 1 " %H:%M", 2 " %H:%M:%S"
}

func mustDateFormat(layout string) dateFormat {
	f, err := parseDateFormat(layout)
	if err != nil {
		panic(err)
	}
	return f
}

// The detected layouts are compiled once: detection runs per value on the
// hot path and must not parse layouts there.
func init() {
	for _, slash := range []bool{false, true} {
		date := "%Y-%m-%d"
		if slash {
			date = "%Y/%m/%d"
		}
		dfISOFormats[dfISOKey{slash: slash}] = mustDateFormat(date)
		for _, sep := range []byte{'T', ' '} {
			for _, seconds := range []bool{false, true} {
				for frac := 0; frac <= 9; frac++ {
					if frac > 0 && !seconds {
						continue
					}
					for zone := 0; zone < dfISOZones; zone++ {
						l := date + string(sep) + "%H:%M"
						if seconds {
							l += ":%S"
						}
						if frac > 0 {
							l += fmt.Sprintf(".%%%df", frac)
						}
						l += [...]string{"", "Z", "%z", "%:z"}[zone]
						dfISOFormats[dfISOKey{slash, sep, seconds, frac, zone}] = mustDateFormat(l)
					}
				}
			}
		}
	}
	for _, dayFirst := range []bool{false, true} {
		for _, sep := range []byte{'/', '-', '.'} {
			for _, noPad := range []bool{false, true} {
				for _, year2 := range []bool{false, true} {
					for tm := 0; tm < 3; tm++ {
						d, m := "%d", "%m"
						if noPad {
							d, m = "%-d", "%-m"
						}
						y := "%Y"
						if year2 {
							y = "%y"
						}
						s := string(sep)
						l := m + s + d + s + y
						if dayFirst {
							l = d + s + m + s + y
						}
						l += [...]string{"", " %H:%M", " %H:%M:%S"}[tm]
						dfDMYFormats[dfDMYKey{dayFirst, sep, noPad, year2, tm}] = mustDateFormat(l)
					}
				}
			}
		}
	}
	for _, l := range []string{
		"%d %b %Y", "%-d %b %Y", "%d %B %Y", "%-d %B %Y", "%d-%b-%Y", "%d-%b-%y",
		"%b %d, %Y", "%b %-d, %Y", "%B %d, %Y", "%B %-d, %Y",
		"%a, %d %b %Y %H:%M:%S %Z", "%a, %d %b %Y %H:%M:%S %z", "%a %b %e %H:%M:%S %Y",
	} {
		up := ""
		for i := 0; i < len(l); i++ {
			up += string(l[i])
			if l[i] == '%' && i+1 < len(l) && (l[i+1] == 'b' || l[i+1] == 'B' || l[i+1] == 'a') {
				up += "^"
			}
		}
		dfNamed = append(dfNamed, dfNamedLayout{mustDateFormat(l), mustDateFormat(up)})
	}
}

// dfDetectISO reads the shape of an ISO 8601 value and picks its layout.
func dfDetectISO(s string) (dateFormat, bool) {
	if !dfDigitsAt(s, 0, 4) || len(s) < 10 || (s[4] != '-' && s[4] != '/') || s[7] != s[4] ||
		!dfDigitsAt(s, 5, 2) || !dfDigitsAt(s, 8, 2) {
		return dateFormat{}, false
	}
	k := dfISOKey{slash: s[4] == '/'}
	if len(s) == 10 {
		return dfISOFormats[k], true
	}
	k.sep = s[10]
	if (k.sep != 'T' && k.sep != ' ') || !dfDigitsAt(s, 11, 2) || len(s) < 16 || s[13] != ':' || !dfDigitsAt(s, 14, 2) {
		return dateFormat{}, false
	}
	i := 16
	if i < len(s) && s[i] == ':' {
		if !dfDigitsAt(s, i+1, 2) {
			return dateFormat{}, false
		}
		k.seconds = true
		i += 3
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && dfDigit(s[j]) {
				j++
			}
			k.frac = j - i - 1
			if k.frac < 1 || k.frac > 9 {
				return dateFormat{}, false
			}
			i = j
		}
	}
	switch rest := s[i:]; {
	case rest == "":
		k.zone = dfISOZoneNone
	case rest == "Z":
		k.zone = dfISOZoneZ
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		k.zone = dfISOZoneColon
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		k.zone = dfISOZoneBasic
	default:
		return dateFormat{}, false
	}
	return dfISOFormats[k], true
}

// dfDetectDMY reads day/month/year forms; see detectDate for how the
// order is chosen.
func dfDetectDMY(s string) (dateFormat, bool) {
	num := func(i int) (v, n int) {
		for n < 2 && i+n < len(s) && dfDigit(s[i+n]) {
			v = v*10 + int(s[i+n]-'0')
			n++
		}
		return v, n
	}
	a, na := num(0)
	if na == 0 || na >= len(s) {
		return dateFormat{}, false
	}
	sep := s[na]
	if sep != '/' && sep != '-' && sep != '.' {
		return dateFormat{}, false
	}
	b, nb := num(na + 1)
	i := na + 1 + nb
	if nb == 0 || i >= len(s) || s[i] != sep {
		return dateFormat{}, false
	}
	i++
	ny := 0
	for i+ny < len(s) && dfDigit(s[i+ny]) {
		ny++
	}
	if ny != 2 && ny != 4 {
		return dateFormat{}, false
	}
	k := dfDMYKey{sep: sep, year2: ny == 2, noPad: na == 1 || nb == 1}
	switch {
	case sep == '.':
		k.dayFirst = true
	case a > 12:
		k.dayFirst = true
	case b > 12:
		k.dayFirst = false
	}
	switch rest := s[i+ny:]; len(rest) {
	case 0:
	case 6:
		k.time = 1
	case 9:
		k.time = 2
	default:
		return dateFormat{}, false
	}
	f := dfDMYFormats[k]
	f.dayMonthAmbiguous = sep != '.' && a <= 12 && b <= 12
	return f, true
}
