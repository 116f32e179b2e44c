package engine

import "testing"

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
		{"typecast_as: integer", Str("-7.9"), Num("-7")},
		{"typecast_as: integer", Num("1e3"), Num("1000")},
		{"typecast_as: integer", Str("123456789012345678901234567890"), Num("123456789012345678901234567890")},
		{"typecast_as: integer", Str("+5"), Num("5")},
		{"typecast_as: integer", Boolean(true), Num("1")},
		{"typecast_as: float", Str("3"), Num("3.0")},
		{"typecast_as: float", Num("2.50"), Num("2.5")},
		{"typecast_as: float", Str("1e20"), Num("1e+20")},
		{"typecast_as: float", Boolean(false), Num("0.0")},
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
