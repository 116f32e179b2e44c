package engine

import (
	"math/big"
	"strconv"
	"strings"
	"testing"
)

func TestTypecast(t *testing.T) {
	tests := []struct {
		params string
		in     Value
		want   Value
	}{
		{"typecast_as: string", Num("123"), Str("123")},
		{"typecast_as: string", Boolean(true), Str("true")},
		{"typecast_as: string", Value{Kind: Object, Raw: []byte(`{"a":1}`)}, Str(`{"a":1}`)},
		{"typecast_as: string", NullValue, NullValue},
		{"typecast_as: integer", Str(" 42 "), Num("42")},
		{"typecast_as: integer", Num("1e3"), Num("1000")},
		{"typecast_as: integer", Str("123456789012345678901234567890"), Num("123456789012345678901234567890")},
		{"typecast_as: integer", Str("+5"), Num("5")},
		{"typecast_as: integer", Boolean(true), Num("1")},
		{"typecast_as: float", Str("3"), Num("3.0")},
		{"typecast_as: float", Num("2.50"), Num("2.5")},
		{"typecast_as: float", Str("1e20"), Num("1e+20")},
		{"typecast_as: float", Boolean(false), Num("0.0")},
		// Underscores between digits, as Python's int, float and Decimal
		// read them.
		{"typecast_as: integer", Str("1_000"), Num("1000")},
		// Zero-padded text, as Python's int reads it.
		{"typecast_as: integer", Str("007"), Num("7")},
		{"typecast_as: integer", Str("-0_7"), Num("-7")},
		{"typecast_as: integer", Str("000"), Num("0")},
		{"typecast_as: integer", Str("00.0"), Num("0")},
		{"typecast_as: decimal", Str("-1_000.000_5"), Num("-1000.0005")},
		{"typecast_as: decimal", Str("_1__0_"), Num("10")}, // Decimal takes any
		{"typecast_as: float", Str("1_000"), Num("1000.0")},
		{"typecast_as: boolean", Str("Yes"), Boolean(true)},
		{"typecast_as: boolean", Str("0"), Boolean(false)},
		{"typecast_as: boolean", Num("0.0"), Boolean(false)},
		{"typecast_as: boolean", Num("-2"), Boolean(true)},
		{"typecast_as: date", Str("2024-03-01T10:20:30Z"), Str("2024-03-01")},
		{"typecast_as: date", Num("0"), Str("1970-01-01")},
		{"typecast_as: date, date_format: '%d/%m/%Y'", Str("2024-03-01"), Str("01/03/2024")},
		{"typecast_as: datetime", Str("2024-03-01"), Str("2024-03-01T00:00:00")},
		{"typecast_as: datetime", Str("2024-03-01 10:20:30+13:00"), Str("2024-03-01T10:20:30+13:00")},
		{"typecast_as: datetime, input_date_format: '%d%m%Y'", Str("01032024"), Str("2024-03-01T00:00:00")},
		{"typecast_as: datetime, date_format: '%s'", Str("1970-01-02"), Str("86400")},
	}
	for _, tc := range tests {
		t.Run(tc.params+"/"+tc.in.Text(), func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: typecast, "+tc.params+"}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, tc.want) {
				t.Errorf("got %v %q, want %v %q", got.Kind, got.S, tc.want.Kind, tc.want.S)
			}
		})
	}
	bad := []struct {
		params string
		in     Value
	}{
		{"typecast_as: integer", Str("abc")},
		{"typecast_as: integer", Value{Kind: Array, Raw: []byte(`[]`)}},
		{"typecast_as: float", Str("nan")},
		// Python reads neither: Go's hexadecimal floats, and underscores
		// not between two digits.
		{"typecast_as: float", Str("0x1p-2")},
		{"typecast_as: float", Str("0x10")},
		{"typecast_as: integer", Str("1__000")},
		{"typecast_as: float", Str("1_.5")},
		{"typecast_as: integer", Str("1_")},
		{"typecast_as: boolean", Str("maybe")},
		{"typecast_as: date", Str("someday")},
		{"typecast_as: date", Boolean(true)},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.params+"/"+tc.in.Text(), func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: typecast, "+tc.params+"}")
			if _, err := xfKit.run(pl, xfSecret, tc.in, nil); err == nil {
				t.Error("no error")
			}
		})
	}
	xfKit.checkBad(t, []maskBadCase{
		{"missing", "type: typecast", "1:1", "missing required key \"typecast_as\""},
		{"unknown type", "type: typecast\ntypecast_as: money", "2:14", "must be one of"},
		{"format on integer", "type: typecast\ntypecast_as: integer\ndate_format: '%Y'", "3:14", "only applies to typecast_as: date"},
		{"bad format", "type: typecast\ntypecast_as: date\ndate_format: '%Q.%f'", "3:14", "takes no fraction"},
		{"bad input format", "type: typecast\ntypecast_as: date\ninput_date_format: '%'", "3:20", "unfinished"},
	})
}

// TestTypecastInteger checks typecast_as integer against DataMasque's
// rule (a whole value converts, a fraction is an error) and that no input
// spells an unbounded number of digits.
func TestTypecastInteger(t *testing.T) {
	good := []struct {
		in   Value
		want string
	}{
		{Str("4.000"), "4"},
		{Num("4.0"), "4"},
		{Num("-0.0"), "0"},
		{Str("-0"), "0"},
		{Num("1.5e1"), "15"},
		{Num("100e-2"), "1"},
		{Num("0E+5"), "0"},
		{Num("0.0e99999999999999999999"), "0"},
		{Str("-12345678901234567890.000"), "-12345678901234567890"},
		{Num("1e308"), "1" + strings.Repeat("0", 308)},
		// A point with a digit on one side only, as float and decimal
		// read it.
		{Str("5."), "5"}, {Str(".0"), "0"}, {Str("0."), "0"}, {Str("00."), "0"},
		{Str("-.0e1"), "0"}, {Str("+5.e2"), "500"},
	}
	for _, tc := range good {
		t.Run(tc.in.Text(), func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: typecast, typecast_as: integer}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, Num(tc.want)) {
				t.Errorf("got %v %q, want %q", got.Kind, got.S, tc.want)
			}
		})
	}
	bad := []struct {
		in   Value
		want string
	}{
		{Str("-7.9"), "fractional part"},
		{Num("0.05"), "fractional part"},
		{Num("1.0000000000000000000000000000000000000000000000000000000000000000000000000000001"), "fractional part"},
		{Num("15e-1"), "fractional part"},
		{Num("1e-400"), "fractional part"},
		{Num("1e-99999999999999999999"), "fractional part"},
		{Num("1e300000000"), "float's range"},
		{Num("1.5e309"), "float's range"},
		{Num("1e99999999999999999999"), "float's range"},
		{Str("0x10"), "takes a number"},
		// One sign, as Python reads it.
		{Str("+-7"), "takes a number"}, {Str("+-007"), "takes a number"},
		{Str("++7"), "takes a number"}, {Str("-+7"), "takes a number"},
		{Str("."), "takes a number"}, {Str("-."), "takes a number"},
		{Str(".5"), "fractional part"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.in.Text(), func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: typecast, typecast_as: integer}")
			_, err := xfKit.run(pl, xfSecret, tc.in, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestTypecastDecimal checks typecast_as decimal: an exact JSON number that
// keeps the digits it was given (no float in between).
func TestTypecastDecimal(t *testing.T) {
	good := []struct {
		in   Value
		want string
	}{
		{Str("12.50"), "12.50"},
		{Num("12.50"), "12.50"},
		{Str(" -0.000100 "), "-0.000100"},
		{Str("123456789012345678901234567890.123456789012345678901"), "123456789012345678901234567890.123456789012345678901"},
		{Num("1e400"), "1e400"},
		{Str("1E+3"), "1E+3"},
		{Str("+5"), "5"},
		{Str(".5"), "0.5"},
		{Str("-.5"), "-0.5"},
		{Str("5."), "5"},
		{Str("007.10"), "7.10"},
		{Str("+1e-2"), "1e-2"},
		{Str("00"), "0"},
		{Str("-0"), "-0"},
		{Boolean(true), "1"},
		{Boolean(false), "0"},
	}
	pl := xfKit.testMask(t, "{type: typecast, typecast_as: decimal}")
	for _, tc := range good {
		t.Run(tc.in.Text(), func(t *testing.T) {
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, Num(tc.want)) {
				t.Errorf("got %v %q, want number %s", got.Kind, got.S, tc.want)
			}
		})
	}
	if got := xfKit.must(t, pl, NullValue); got.Kind != Null {
		t.Errorf("null gave %v", got.Kind)
	}
	for _, in := range []Value{Str("abc"), Str("nan"), Str("Infinity"), Str("1e"), Str("1.2.3"), Str(""), Str("."), Str("-"), Str("_"), Str("0x10"), {Kind: Array, Raw: []byte(`[1]`)}} {
		t.Run("bad/"+in.Text(), func(t *testing.T) {
			_, err := xfKit.run(pl, xfSecret, in, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "decimal") {
				t.Errorf("error %q does not name decimal", err)
			}
		})
	}
	xfKit.checkBad(t, []maskBadCase{
		{"format on decimal", "type: typecast\ntypecast_as: decimal\ndate_format: '%Y'", "3:14", "only applies to typecast_as: date"},
		{"listed", "type: typecast\ntypecast_as: money", "2:14", "float, decimal, boolean"},
	})
}

// TestTypecastDateFormatReads checks that date_format is the layout read
// as well as written, as in DataMasque, and what the errors then advise.
func TestTypecastDateFormatReads(t *testing.T) {
	tests := []struct {
		params string
		in     Value
		want   string
	}{
		// DataMasque's own example, and the audit's probe.
		{"typecast_as: datetime, date_format: '%Y-%m-%d'", Str("2010-01-01"), "2010-01-01"},
		{"typecast_as: datetime, date_format: '%Y.%m.%d'", Str("2010.01.31"), "2010.01.31"},
		// Read day first as the layout says: recognition alone would read
		// it month first and write 03/01/2024.
		{"typecast_as: date, date_format: '%d/%m/%Y'", Str("01/03/2024"), "01/03/2024"},
		{"typecast_as: date, date_format: '%d %b %Y'", Str("01/03/2024"), "03 Jan 2024"},
		// A number in the layout is read with it, not as Unix seconds.
		{"typecast_as: date, date_format: '%Y%m%d'", Num("20240131"), "20240131"},
		// Not in the layout: recognised, as before.
		{"typecast_as: date, date_format: '%d/%m/%Y'", Str("2024-03-01"), "01/03/2024"},
		{"typecast_as: date, date_format: '%Y%m%d'", Num("86400"), "19700102"},
		// input_date_format, when given, is the only layout read.
		{"typecast_as: date, date_format: '%d/%m/%Y', input_date_format: '%m/%d/%Y'", Str("01/03/2024"), "03/01/2024"},
	}
	for _, tc := range tests {
		t.Run(tc.params+"/"+tc.in.Text(), func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: typecast, "+tc.params+"}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, Str(tc.want)) {
				t.Errorf("got %v %q, want %q", got.Kind, got.S, tc.want)
			}
		})
	}
	bad := []struct {
		params, in string
		want       []string
	}{
		{"typecast_as: datetime", "2010.01.31", []string{"set input_date_format"}},
		{"typecast_as: datetime, date_format: '%Y.%m.%d'", "someday", []string{`does not match date_format "%Y.%m.%d"`, "set input_date_format"}},
		{"typecast_as: datetime, date_format: '%Y.%m.%d'", "2010.02.31", []string{"date_format", "set input_date_format"}},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.params+"/"+tc.in, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: typecast, "+tc.params+"}")
			_, err := xfKit.run(pl, xfSecret, Str(tc.in), nil)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "set date_format") && strings.Contains(tc.params, "date_format:") {
				t.Errorf("error %q tells to set the date_format that is set", msg)
			}
			if strings.Contains(msg, tc.in) {
				t.Errorf("error %q quotes the value", msg)
			}
		})
	}
}

// TestTypecastStringDateFormat: DataMasque's pattern for editing a date as
// text, typecast to string with date_format, change the text, typecast
// back to datetime with date_format, loads and works: a JSON date is a
// string already, so the first step rewrites it in that layout.
func TestTypecastStringDateFormat(t *testing.T) {
	pl := xfKit.testMask(t, `{type: chain, masks: [
		{type: typecast, typecast_as: string, date_format: '%Y-%m-%d'},
		{type: replace_regex, regex: '-\d\d$', masks: [{type: from_fixed, value: '-01'}]},
		{type: typecast, typecast_as: datetime, date_format: '%Y-%m-%d'}]}`)
	for in, want := range map[string]string{"1985-07-23": "1985-07-01", "23/07/1985": "1985-07-01", "1985-07-23T10:11:12Z": "1985-07-01"} {
		if got := xfKit.must(t, pl, Str(in)); !sameValue(got, Str(want)) {
			t.Errorf("%s: got %v %q, want %q", in, got.Kind, got.S, want)
		}
	}
	one := xfKit.testMask(t, "{type: typecast, typecast_as: string, date_format: '%d %b %Y'}")
	if got := xfKit.must(t, one, Num("86400")); !sameValue(got, Str("02 Jan 1970")) {
		t.Errorf("Unix seconds: got %v %q", got.Kind, got.S)
	}
	// Without date_format a string typecast never reads a date.
	plain := xfKit.testMask(t, "{type: typecast, typecast_as: string}")
	if got := xfKit.must(t, plain, Str("1985-07-23")); !sameValue(got, Str("1985-07-23")) {
		t.Errorf("plain string: got %q", got.S)
	}
	if _, err := xfKit.run(one, xfSecret, Str("not a date"), nil); err == nil || strings.Contains(err.Error(), "not a date") {
		t.Errorf("a value that is no date: err %v (must fail, never quote it)", err)
	}
	xfKit.checkBad(t, []maskBadCase{
		{"input format without format", "type: typecast\ntypecast_as: string\ninput_date_format: '%Y'", "3:20", "needs date_format"},
		{"bad format on string", "type: typecast\ntypecast_as: string\ndate_format: '%Q.%f'", "3:14", "takes no fraction"},
	})
}

// FuzzTypecastInteger checks xfToInteger against exact rational arithmetic
// (math/big.Rat) on every JSON number whose exponent Rat can afford: a
// whole value gives its digits, anything else an error.
func FuzzTypecastInteger(f *testing.F) {
	for _, s := range []string{"4.000", "-7.9", "1e3", "100e-2", "0.05e2", "-0.0", "1.5e309", "1e308", "12345678901234567890.0", "0E+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isJSONNumber(s) || len(s) > 400 {
			return
		}
		mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
		if e, err := strconv.Atoi(exp); exp != "" && (err != nil || e > 400 || e < -400) {
			return // Rat would spell it out; TestTypecastInteger covers these
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot read JSON number %q", s)
		}
		got, err := xfToInteger(Num(s))
		plain := exp == "" && !strings.Contains(mant, ".")
		want := r.Num().String()
		switch {
		case !r.IsInt():
			if err == nil {
				t.Fatalf("%q has a fraction but gave %q", s, got.S)
			}
		case !plain && len(strings.TrimPrefix(want, "-")) > xfMaxExpandedDigits:
			if err == nil {
				t.Fatalf("%q spells %d digits but gave no error", s, len(want))
			}
		case err != nil:
			t.Fatalf("%q is whole (%s) but gave %v", s, want, err)
		case got.S != want:
			t.Fatalf("%q gave %q, want %q", s, got.S, want)
		}
	})
}
