package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFromRandomDate(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		name   string
		src    string
		in     Value
		layout string // Go layout the output must parse with
		lo, hi time.Time
		kind   Kind
	}{
		{"default ISO date", `{type: from_random_date, min: "1950-01-01", max: "2005-12-31"}`, NullValue, time.DateOnly, day("1950-01-01"), day("2005-12-30"), String},
		{"unquoted YAML dates", "type: from_random_date\nmin: 2000-01-01\nmax: 2000-01-03\n", NullValue, time.DateOnly, day("2000-01-01"), day("2000-01-02"), String},
		{"date_format", `{type: from_random_date, min: "2020-01-01", max: "2020-02-01", date_format: "%d/%m/%Y"}`, Str("x"), "02/01/2006", day("2020-01-01"), day("2020-01-31"), String},
		{"kept form of the original", `{type: from_random_date, min: "2020-01-01", max: "2021-01-01"}`, Str("03-MAR-2019"), "02-Jan-2006", day("2020-01-01"), day("2020-12-31"), String},
		{"number is a Unix time", `{type: from_random_date, min: "2020-01-01", max: "2021-01-01"}`, Num("1500000000"), "unix", day("2020-01-01"), day("2020-12-31"), Number},
		{"number with a numeric format", `{type: from_random_date, min: "2020-01-01", max: "2021-01-01", date_format: "%Y%m%d"}`, Num("20190101"), "20060102", day("2020-01-01"), day("2020-12-31"), Number},
		{"max now", `{type: from_random_date, min: "2025-03-01", max: now}`, NullValue, time.DateOnly, day("2025-03-01"), day("2025-03-09"), String},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			seen := map[string]bool{}
			for i := range 200 {
				out, err := genKit.run(pl, fmt.Sprint(genSecret, i), tt.in, nil)
				if err != nil {
					t.Fatal(err)
				}
				var d time.Time
				if tt.layout == "unix" {
					n, err := strconv.ParseInt(out.S, 10, 64)
					if err != nil {
						t.Fatalf("%q is not a Unix time", out.S)
					}
					d = time.Unix(n, 0).UTC()
				} else if d, err = time.Parse(tt.layout, out.S); err != nil {
					t.Fatalf("%q does not parse as %s", out.S, tt.layout)
				}
				if out.Kind != tt.kind || d.Before(tt.lo) || d.After(tt.hi) || d.Hour() != 0 || d.Minute() != 0 {
					t.Fatalf("%+v is not a %s date in [%s, %s]", out, tt.kind, tt.lo.Format(time.DateOnly), tt.hi.Format(time.DateOnly))
				}
				if tt.name == "kept form of the original" && out.S != strings.ToUpper(out.S) {
					t.Fatalf("%q lost the original's capitals", out.S)
				}
				seen[out.S] = true
			}
			if len(seen) < 2 {
				t.Errorf("200 draws gave %d dates", len(seen))
			}
		})
	}
	genKit.checkDeterminism(t, genKit.testMask(t, `{type: from_random_date, min: "1900-01-01", max: "2100-01-01"}`), Str("1985-02-01"), Str("1999-12-31"))
}

func TestFromRandomDateAmbiguous(t *testing.T) {
	pl := genKit.testMask(t, `{type: from_random_date, min: "2020-01-01", max: "2021-01-01"}`)
	for i := range 200 {
		out, err := genKit.run(pl, fmt.Sprint(genSecret, i), Str("03/04/2024"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var a, b, y int
		if _, err := fmt.Sscanf(out.S, "%2d/%2d/%4d", &a, &b, &y); err != nil || len(out.S) != 10 {
			t.Fatalf("%q is not in the original's form", out.S)
		}
		if a > 12 || b > 12 || y != 2020 {
			t.Fatalf("%q: an ambiguous date needs both day and month at 12 or less", out.S)
		}
	}
	narrow := genKit.testMask(t, `{type: from_random_date, min: "2020-01-20", max: "2020-01-25"}`)
	if _, err := genKit.run(narrow, genSecret, Str("03/04/2024"), nil); err == nil || !strings.Contains(err.Error(), "day of 12 or less") {
		t.Errorf("no possible day: err = %v", err)
	}
	epoch := genKit.testMask(t, `{type: from_random_datetime, min: "2020-01-01T00:00:00Z", max: "2021-01-01T00:00:00Z"}`)
	out := genKit.must(t, epoch, Num("1500000000.250"))
	if out.Kind != Number || len(out.S) != 14 || !strings.HasSuffix(out.S, ".000") {
		t.Errorf("a Unix time with 3 decimals gave %+v", out)
	}
}

func TestFromRandomDatetime(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		in     Value
		layout string
		lo, hi string // RFC 3339; hi exclusive
	}{
		{"zoned bounds", `{type: from_random_datetime, min: "2019-12-01T00:00+00:00", max: "2019-12-31T05:30+00:00"}`, NullValue, "2006-01-02T15:04:05-07:00", "2019-12-01T00:00:00Z", "2019-12-31T05:30:00Z"},
		{"offset kept", `{type: from_random_datetime, min: "2024-06-01T00:00:00+13:00", max: "2024-06-02T00:00:00+13:00"}`, NullValue, "2006-01-02T15:04:05-07:00", "2024-05-31T11:00:00Z", "2024-06-01T11:00:00Z"},
		{"naive bounds", `{type: from_random_datetime, min: "2024-01-01 08:00:00", max: "2024-01-01T09:00"}`, NullValue, "2006-01-02T15:04:05", "2024-01-01T08:00:00Z", "2024-01-01T09:00:00Z"},
		{"naive and now", `{type: from_random_datetime, min: "2025-03-09T12:00:00", max: current_date_time}`, NullValue, "2006-01-02T15:04:05", "2025-03-09T12:00:00Z", "2025-03-10T00:00:00Z"},
		{"kept form of the original", `{type: from_random_datetime, min: "2024-01-01T00:00:00Z", max: "2024-02-01T00:00:00Z"}`, Str("2023-05-06 07:08:09.123"), "2006-01-02 15:04:05.000", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"},
		{"date_format", `{type: from_random_datetime, min: "2024-01-01T00:00:00Z", max: "2024-02-01T00:00:00Z", date_format: "%Y/%m/%d %H.%M"}`, Str("x"), "2006/01/02 15.04", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			lo, _ := time.Parse(time.RFC3339, tt.lo)
			hi, _ := time.Parse(time.RFC3339, tt.hi)
			for i := range 200 {
				out, err := genKit.run(pl, fmt.Sprint(genSecret, i), tt.in, nil)
				if err != nil {
					t.Fatal(err)
				}
				d, err := time.Parse(tt.layout, out.S)
				if err != nil {
					t.Fatalf("%q does not parse as %s", out.S, tt.layout)
				}
				if _, off := d.Zone(); tt.name == "offset kept" && off != 13*3600 {
					t.Fatalf("%q lost the bounds' +13:00 offset", out.S)
				}
				if out.Kind != String || d.Before(lo) || !d.Before(hi) {
					t.Fatalf("%q is outside [%s, %s)", out.S, tt.lo, tt.hi)
				}
			}
		})
	}
}

func TestFromRandomDateErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing max", `{type: from_random_date, min: "2000-01-01"}`, "1:1", `missing required key "max"`},
		{"bad min", "type: from_random_date\nmin: yesterday\nmax: now\n", "2:6", "min: \"yesterday\" is not an ISO 8601 date"},
		{"max not after min", "type: from_random_date\nmin: 2000-01-02\nmax: 2000-01-02\n", "3:6", "max must be after min"},
		{"max before min", "type: from_random_datetime\nmin: 2000-01-02T00:00:00\nmax: 2000-01-01T00:00:00\n", "3:6", "max must be after min"},
		{"mixed zones", "type: from_random_datetime\nmin: 2000-01-01T00:00:00Z\nmax: 2001-01-01T00:00:00\n", "3:6", "both have a time zone offset or both have none"},
		{"bad date_format", "type: from_random_date\nmin: 2000-01-01\nmax: 2001-01-01\ndate_format: \"%Y-%U\"\n", "4:14", "date_format:"},
	})
	pl := genKit.testMask(t, `{type: from_random_date, min: "2020-01-01", max: "2021-01-01", date_format: "%d/%m/%Y"}`)
	if _, err := genKit.run(pl, genSecret, Num("20200101"), nil); err == nil || !strings.Contains(err.Error(), "not a JSON number") {
		t.Errorf("a number with a text date_format: err = %v", err)
	}
}
