package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// typecast changes a value's JSON type: the one mask meant to. Null stays
// null (a missing value has no type to change); objects and arrays can only
// become strings (their JSON text).
//
// A date or datetime is a string in JSON, so typecast_as date or datetime
// rewrites a date in a layout rather than changing a type: DataMasque's
// date_format is the layout a string is read with (when it is written in
// it) and the layout written; our input_date_format reads another layout.

func init() { register("typecast", newTypecast) }

type typecastParams struct {
	TypecastAs string `yaml:"typecast_as" ms:"required"`
	// DateFormat is the layout a date or datetime is written in, and
	// read in when the value is written so (DataMasque's reading).
	DateFormat string `yaml:"date_format"`
	// InputDateFormat (ours) is the layout the value is read with; by
	// default a value in date_format's layout is read with it, other
	// common forms are recognised and numbers are Unix seconds.
	InputDateFormat string `yaml:"input_date_format"`
}

type typecastMask struct {
	to  string
	out dateFormat
	// outGiven is false when the output layout follows the input's
	// (zone shown only when the input had one).
	outGiven bool
	in       xfDateIO
	// dateString is typecast_as: string with a date_format: the value is
	// read as a date and written in that layout.
	dateString bool
}

var (
	xfISODate        = mustDateFormat("%Y-%m-%d")
	xfISODateTime    = mustDateFormat("%Y-%m-%dT%H:%M:%S")
	xfISODateTimeOff = mustDateFormat("%Y-%m-%dT%H:%M:%S%:z")
)

func newTypecast(p *Params) (Mask, error) {
	var ps typecastParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	m := &typecastMask{to: ps.TypecastAs}
	dates := ps.TypecastAs == "date" || ps.TypecastAs == "datetime"
	if ps.TypecastAs == "string" && ps.DateFormat != "" {
		// DataMasque formats a datetime as a string with date_format (its
		// pattern for editing a date as text). A JSON date is a string
		// already, so this rewrites it in that layout, as datetime does.
		dates, m.dateString = true, true
	}
	switch {
	case dates:
		if ps.DateFormat != "" {
			f, err := parseDateFormat(ps.DateFormat)
			if err != nil {
				return nil, p.ErrorAt(p.Param("date_format"), "%s", xfTrimEnginePrefix(err))
			}
			m.out, m.outGiven = f, true
		}
		var in xfDateIO
		if ps.InputDateFormat != "" {
			f, err := parseDateFormat(ps.InputDateFormat)
			if err != nil {
				return nil, p.ErrorAt(p.Param("input_date_format"), "%s", xfTrimEnginePrefix(err))
			}
			in = xfDateIO{f: f, given: true}
		}
		m.in = in
	case ps.TypecastAs == "string" && ps.InputDateFormat != "":
		return nil, p.ErrorAt(p.Param("input_date_format"), "input_date_format on typecast_as: string needs date_format, the layout the date is written in")
	case ps.TypecastAs == "string", ps.TypecastAs == "integer", ps.TypecastAs == "float", ps.TypecastAs == "decimal", ps.TypecastAs == "boolean":
		if ps.DateFormat != "" || ps.InputDateFormat != "" {
			key := "date_format"
			if ps.DateFormat == "" {
				key = "input_date_format"
			}
			return nil, p.ErrorAt(p.Param(key), "%s only applies to typecast_as: date, datetime or string", key)
		}
	default:
		return nil, p.ErrorAt(p.Param("typecast_as"), "typecast_as must be one of string, integer, float, decimal, boolean, date or datetime")
	}
	return m, nil
}

func (m *typecastMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind == Null || v.Kind == Missing {
		return v, nil
	}
	if m.to == "string" && !m.dateString {
		return Str(v.Text()), nil
	}
	if !v.IsScalar() {
		return Value{}, fmt.Errorf("typecast_as %s cannot take %s; only typecast_as string can", m.to, v.Kind)
	}
	switch m.to {
	case "integer":
		return xfToInteger(v)
	case "float":
		return xfToFloat(v)
	case "decimal":
		return xfToDecimal(c, v)
	case "boolean":
		return xfToBool(v)
	}
	if v.Kind == Bool {
		return Value{}, fmt.Errorf("typecast_as %s cannot take a boolean", m.to)
	}
	f, t, err := m.read(v)
	if err != nil {
		return Value{}, err
	}
	out := m.out
	if !m.outGiven {
		switch {
		case m.to == "date":
			out = xfISODate
		case f.hasZone && !f.epoch:
			out = xfISODateTimeOff
		default:
			out = xfISODateTime
		}
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return Value{}, errors.New("the date falls outside the years 1 to 9999")
	}
	return Str(out.Format(t)), nil
}

// read reads v as a date: with input_date_format when it is given;
// otherwise with date_format when v is written in that layout (as
// DataMasque reads a string), and failing that by recognition, numbers
// as Unix seconds. The fallback keeps a date_format that only reformats
// recognised dates working as it always has.
func (m *typecastMask) read(v Value) (dateFormat, time.Time, error) {
	if m.in.given || !m.outGiven {
		f, t, err := m.in.read(v)
		if errors.Is(err, errXfNotDate) {
			err = errTypecastNotDate
		}
		return f, t, err
	}
	t, perr := m.out.Parse(v.S)
	if perr == nil {
		return m.out, t, nil
	}
	f, t, err := m.in.read(v)
	if errors.Is(err, errXfNotDate) {
		// The user gave date_format: telling them to set it would not
		// help. Say why it did not read, and what reads another layout.
		err = fmt.Errorf("%s, and is no date in a recognised form (%s) either; if the value is written in another layout than the one to write, set input_date_format to that layout", xfTrimEnginePrefix(perr), xfRecognisedForms)
	}
	return f, t, err
}

// errTypecastNotDate is typecast's errXfNotDate: its date_format is also
// the layout written, so input_date_format is the one to suggest.
var errTypecastNotDate = errors.New("the value is not a date in a recognised form (" + xfRecognisedForms + "); set input_date_format to its layout, for example \"%d/%m/%Y\", or date_format to read and write that layout")

var (
	errXfNoInteger      = errors.New("typecast_as integer takes a number, numeric text or a boolean")
	errXfIntegerFrac    = errors.New("typecast_as integer takes a whole number, and the value has a fractional part; use typecast_as decimal or float to keep it, or numeric_bucket to group it")
	errXfIntegerTooLong = errors.New("typecast_as integer: a number written with a fraction or exponent must be within a float's range (at most 309 digits); write it as plain digits to convert a longer whole number")
)

// xfMaxExpandedDigits bounds the integer a decimal point or exponent may
// spell: "1e300000000" is 11 bytes of input and would be 300 million digits
// of output. DataMasque reads such values through a float, so its limit is
// the float's range (1.8e308); plain digits keep any length, as the input
// already bounds them.
const xfMaxExpandedDigits = 309

// xfToInteger converts a whole number, as DataMasque does: 4.0 and "4.000"
// give 4, and a non-zero fraction is an error rather than a silent
// truncation. The digits are read exactly, never through a float, so
// "12345678901234567890.0" keeps every digit.
func xfToInteger(v Value) (Value, error) {
	if v.Kind == Bool {
		if v.S == "true" {
			return Int(1), nil
		}
		return Int(0), nil
	}
	s, ok := xfNumericText(v, false)
	if !ok {
		return Value{}, errXfNoInteger
	}
	if !isJSONNumber(s) {
		if t, plus := strings.CutPrefix(s, "+"); plus {
			if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
				return Value{}, errXfNoInteger // "+-7": one sign, as Python reads
			}
			s = t
		}
		s = xfDropLeadingZeros(xfPadPoint(s))
		if !isJSONNumber(s) {
			return Value{}, errXfNoInteger
		}
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	// point is where the decimal point falls in digits, counted from the
	// left; the exponent moves it.
	point := len(digits) - len(frac)
	if exp != "" {
		e, err := strconv.Atoi(exp)
		if err != nil || e > xfMaxExpandedDigits {
			if digits == "" {
				return Int(0), nil
			}
			if e < 0 {
				return Value{}, errXfIntegerFrac
			}
			return Value{}, errXfIntegerTooLong
		}
		point += e
	}
	if digits == "" {
		return Int(0), nil
	}
	if point < len(digits) {
		if point < 0 || strings.Trim(digits[point:], "0") != "" {
			return Value{}, errXfIntegerFrac
		}
		digits = digits[:point]
	}
	if (exp != "" || frac != "") && point > xfMaxExpandedDigits {
		return Value{}, errXfIntegerTooLong
	}
	var b strings.Builder
	b.Grow(point + 1)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(digits)
	for i := len(digits); i < point; i++ {
		b.WriteByte('0')
	}
	return Num(b.String()), nil
}

var errXfNoDecimal = errors.New("typecast_as decimal takes a finite number, numeric text or a boolean")

// xfToDecimal writes v as an exact JSON number with the digits it was
// given: no float in between, so "12.50" gives 12.50 and a long decimal
// keeps its every digit (as Python's Decimal does). Text is read as
// Python's Decimal reads it, then written as JSON wants: "+5" gives 5,
// ".5" 0.5, "5." 5 and "007" 7.
func xfToDecimal(c *Ctx, v Value) (Value, error) {
	switch v.Kind {
	case Bool:
		if v.S == "true" {
			return Int(1), nil
		}
		return Int(0), nil
	case Number:
		return v, nil
	}
	s, ok := xfNumericText(v, true)
	if !ok {
		return Value{}, errXfNoDecimal
	}
	if isJSONNumber(s) {
		return Num(s), nil
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	ip := i
	i = digitsEnd(s, i)
	intPart := s[ip:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		fp := i + 1
		i = digitsEnd(s, fp)
		frac = s[fp:i]
	}
	if intPart == "" && frac == "" {
		return Value{}, errXfNoDecimal
	}
	exp := s[i:]
	if exp != "" {
		j := 1
		if j < len(exp) && (exp[j] == '+' || exp[j] == '-') {
			j++
		}
		if exp[0] != 'e' && exp[0] != 'E' || j == len(exp) || digitsEnd(exp, j) != len(exp) {
			return Value{}, errXfNoDecimal
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	b := c.room(len(s) + 2)
	if neg {
		b = append(b, '-')
	}
	b = append(b, intPart...)
	if frac != "" {
		b = append(append(b, '.'), frac...)
	}
	return Num(c.str(append(b, exp...))), nil
}

// xfNumericText is a number's or a string's text as the numeric
// typecasts read it, the way Python's int and float read text: blanks
// around it dropped, and underscores that each sit between two digits
// ("1_000") taken out. ok is false for any other underscore, and for Go's
// hexadecimal floats ("0x1p-2"), which Python does not read. anyUnderscore
// takes every underscore out, as Python's Decimal does ("_1" is 1).
func xfNumericText(v Value, anyUnderscore bool) (s string, ok bool) {
	s = strings.TrimSpace(v.S)
	if v.Kind != String || strings.IndexAny(s, "_xX") < 0 {
		return s, true
	}
	if strings.ContainsAny(s, "xX") {
		return "", false
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b = append(b, s[i])
			continue
		}
		if !anyUnderscore && (i == 0 || i == len(s)-1 || !xfDigit(s[i-1]) || !xfDigit(s[i+1])) {
			return "", false
		}
	}
	return string(b), true
}

// xfDropLeadingZeros takes the zeros that pad numeric text ("007",
// "-0042.5") off, as Python's int and float read it, keeping one before a
// point or the end ("0.5", "0"), so that what is left reads as JSON.
func xfDropLeadingZeros(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	t := strings.TrimLeft(s, "0")
	if len(t) < len(s) && (t == "" || !xfDigit(t[0])) {
		t = "0" + t
	}
	return sign + t
}

// xfPadPoint writes the zero that "5." and ".5" leave out ("5.0",
// "0.5"), so that integer reads what float and decimal read; a point with
// no digit on either side is left for the caller to refuse.
func xfPadPoint(s string) string {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s
	}
	before := i > 0 && xfDigit(s[i-1])
	after := i+1 < len(s) && xfDigit(s[i+1])
	switch {
	case before && !after:
		return s[:i+1] + "0" + s[i+1:]
	case after && !before:
		return s[:i] + "0" + s[i:]
	}
	return s
}

func xfDigit(c byte) bool { return '0' <= c && c <= '9' }

// xfToFloat writes the shortest form that reads back as the same float64,
// always with a decimal point or exponent so it reads as a float.
func xfToFloat(v Value) (Value, error) {
	var x float64
	switch v.Kind {
	case Bool:
		if v.S == "true" {
			x = 1
		}
	default:
		s, ok := xfNumericText(v, false)
		var err error
		if ok {
			x, err = strconv.ParseFloat(s, 64)
		}
		if !ok || err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(x) || math.IsInf(x, 0) {
			return Value{}, errors.New("typecast_as float takes a finite number, numeric text or a boolean")
		}
	}
	if ax := math.Abs(x); ax != 0 && (ax < 1e-4 || ax >= 1e16) {
		// Where Python's repr switches to an exponent, and in its form.
		return Num(strconv.FormatFloat(x, 'g', -1, 64)), nil
	}
	out := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(out, ".") {
		out += ".0"
	}
	return Num(out), nil
}

// xfBools are the texts typecast_as boolean reads, case-insensitively.
var xfBools = map[string]bool{
	"true": true, "t": true, "yes": true, "y": true, "1": true, "on": true,
	"false": false, "f": false, "no": false, "n": false, "0": false, "off": false,
}

func xfToBool(v Value) (Value, error) {
	switch v.Kind {
	case Bool:
		return v, nil
	case Number:
		x, err := strconv.ParseFloat(v.S, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, errors.New("typecast_as boolean could not read the number")
		}
		return Boolean(x != 0), nil
	}
	b, ok := xfBools[strings.ToLower(strings.TrimSpace(v.S))]
	if !ok {
		return Value{}, errors.New("typecast_as boolean takes true/false, yes/no, y/n, t/f, on/off, 1/0 or a number")
	}
	return Boolean(b), nil
}
