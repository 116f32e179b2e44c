package engine

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// typecast changes a value's JSON type: the one mask meant to. Null stays
// null (a missing value has no type to change); objects and arrays can only
// become strings (their JSON text).

func init() { register("typecast", newTypecast) }

type typecastParams struct {
	TypecastAs string `yaml:"typecast_as" ms:"required"`
	// DateFormat is the layout a date or datetime is written in.
	DateFormat string `yaml:"date_format"`
	// InputDateFormat (ours) is the layout the value is read with; by
	// default common forms are recognised and numbers are Unix seconds.
	InputDateFormat string `yaml:"input_date_format"`
}

type typecastMask struct {
	to  string
	out dateFormat
	// outGiven is false when the output layout follows the input's
	// (zone shown only when the input had one).
	outGiven bool
	in       xfDateIO
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
	switch ps.TypecastAs {
	case "string", "integer", "float", "boolean":
		if ps.DateFormat != "" || ps.InputDateFormat != "" {
			key := "date_format"
			if ps.DateFormat == "" {
				key = "input_date_format"
			}
			return nil, p.ErrorAt(p.Param(key), "%s only applies to typecast_as: date or datetime", key)
		}
	case "date", "datetime":
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
	default:
		return nil, p.ErrorAt(p.Param("typecast_as"), "typecast_as must be one of string, integer, float, boolean, date or datetime")
	}
	return m, nil
}

func (m *typecastMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind == Null || v.Kind == Missing {
		return v, nil
	}
	if m.to == "string" {
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
	case "boolean":
		return xfToBool(v)
	}
	if v.Kind == Bool {
		return Value{}, fmt.Errorf("typecast_as %s cannot take a boolean", m.to)
	}
	f, t, err := m.in.read(v)
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

var errXfNoInteger = errors.New("typecast_as integer takes a number, numeric text or a boolean")

// xfToInteger truncates toward zero, as Python's int() does. Whole numbers
// of any size keep every digit.
func xfToInteger(v Value) (Value, error) {
	if v.Kind == Bool {
		if v.S == "true" {
			return Int(1), nil
		}
		return Int(0), nil
	}
	s := strings.TrimSpace(v.S)
	if !isJSONNumber(s) {
		s = strings.TrimPrefix(s, "+")
		if !isJSONNumber(s) {
			return Value{}, errXfNoInteger
		}
	}
	if !strings.ContainsAny(s, ".eE") {
		// Normalise "-0" and keep big integers exact.
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return Value{}, errXfNoInteger
		}
		return Num(n.String()), nil
	}
	f, _, err := big.ParseFloat(s, 10, 256, big.ToZero)
	if err != nil || f.IsInf() {
		return Value{}, errXfNoInteger
	}
	n, _ := f.Int(nil)
	return Num(n.String()), nil
}

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
		s := strings.TrimSpace(v.S)
		var err error
		x, err = strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(x) || math.IsInf(x, 0) {
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
