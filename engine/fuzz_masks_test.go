package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/maskstream/maskstream/rulesets"
)

// fuzzMaskSpecs are the value-taking masks FuzzMaskTypes runs, each on a
// member of its own name (and as a header and a key of that name), with
// the parameters the docs give them. Several masks appear more than once
// with different parameters where the parameters change which code runs.
var fuzzMaskSpecs = []struct{ name, masks string }{
	{"imitate", `[{type: imitate}]`},
	{"imitate_fc", `[{type: imitate, force_change: true, uppercase: false}]`},
	{"substitute", `[{type: substitute}]`},
	{"imitate_unique", `[{type: imitate_unique}]`},
	{"imitate_unique_seed", `[{type: imitate_unique, seed: tracking}]`},
	{"imitate_uuid", `[{type: imitate_uuid}]`},
	{"imitate_nz_ird", `[{type: imitate_nz_ird}]`},
	{"credit_card", `[{type: credit_card}]`},
	{"credit_card_pan", `[{type: credit_card, pan_format: true, generate_card_number: false}]`},
	{"credit_card_prefix", `[{type: credit_card, retain_prefix_length: 6, generate_luhn: false}]`},
	{"date_shift", `[{type: date_shift, min_days: -30, max_days: 400, date_format: "%d/%m/%Y %H:%M"}]`},
	{"date_shift_auto", `[{type: date_shift, max_days: 366000}]`},
	{"retain_age", `[{type: retain_age}]`},
	{"retain_age_fmt", `[{type: retain_age, date_format: "%Y%m%d"}]`},
	{"retain_date_component", `[{type: retain_date_component, month: true, day: true}]`},
	{"retain_date_component_time", `[{type: retain_date_component, year: true, hour: true, date_format: "%Y-%m-%dT%H:%M:%S.%3f%:z"}]`},
	{"retain_year", `[{type: retain_year}]`},
	{"retain_year_fmt", `[{type: retain_year, date_format: "%b %e %Y %I:%M %p"}]`},
	{"hash", `[{type: hash, length: 16, prefix: "h_"}]`},
	{"hash_b64", `[{type: hash, format: base64url}]`},
	{"unstructured_text", `[{type: unstructured_text, preset: pii}]`},
	{"mask_characters", `[{type: mask_characters, keep_first: 1, keep_last: 2, skip_characters: " -"}]`},
	{"mask_characters_digit", `[{type: mask_characters, keep_last: 3, character: "0"}]`},
	{"numeric_bucket", `[{type: numeric_bucket, buckets: [0, 18, 30.5, 120]}]`},
	{"numeric_bucket_labels", `[{type: numeric_bucket, buckets: [-1e6, 0.001, 0.002, 1e18], labels: [neg, tiny, small, big, huge]}]`},
	{"replace_regex", `[{type: replace_regex, regex: '(?P<d>\d+)', group: d, masks: [{type: imitate}]}]`},
	{"replace_regex_value", `[{type: replace_regex, regex: '(?i)[aeiou]+|\b', value: "*"}]`},
	{"replace_substring", `[{type: replace_substring, start_index: 1, end_index: -1, masks: [{type: imitate_unique}]}]`},
	{"take_substring", `[{type: take_substring, start_index: -5, end_index: -1}]`},
	{"transform_case", `[{type: transform_case, case: title}]`},
	{"transform_case_cap", `[{type: transform_case, case: capitalize}]`},
	{"typecast_string", `[{type: typecast, typecast_as: string}]`},
	{"typecast_integer", `[{type: typecast, typecast_as: integer}]`},
	{"typecast_float", `[{type: typecast, typecast_as: float}]`},
	{"typecast_decimal", `[{type: typecast, typecast_as: decimal}]`},
	{"typecast_boolean", `[{type: typecast, typecast_as: boolean}]`},
	{"typecast_date", `[{type: typecast, typecast_as: date, date_format: "%d/%m/%Y"}]`},
	{"typecast_datetime", `[{type: typecast, typecast_as: datetime, input_date_format: "%s"}]`},
	{"set_checksum_luhn", `[{type: set_checksum, algorithm: luhn}]`},
	{"set_checksum_nz_ird", `[{type: set_checksum, algorithm: nz_ird}]`},
	{"set_checksum_cpf", `[{type: set_checksum, algorithm: brazilian_cpf}]`},
	{"set_checksum_gtin", `[{type: set_checksum, algorithm: gtin}]`},
	{"set_checksum_isbn10", `[{type: set_checksum, algorithm: isbn10}]`},
	{"set_checksum_iban", `[{type: set_checksum, algorithm: iban}]`},
	{"brazilian_cpf", `[{type: brazilian_cpf}]`},
	{"social_security_number", `[{type: social_security_number}]`},
	{"json", `[{type: json, transforms: [
		{path: [a], on_missing: skip, masks: [{type: imitate}]},
		{path: "$.items[*].sku", on_missing: skip, on_null: mask, masks: [{type: hash, length: 8}]},
		{path: ["*"], on_missing: skip, hash_sources: [[id]], masks: [{type: date_shift, max_days: 10}]}]}]`},
	{"json_fallback", `[{type: json, fallback_masks: [{type: imitate}], transforms: [
		{path: "$..email", on_missing: skip, masks: [{type: unstructured_text, preset: contact}]}]}]`},
	{"xml", `[{type: xml, transforms: [
		{path: "//a", on_missing: skip, masks: [{type: imitate}]},
		{path: "//@id", on_missing: skip, on_null: mask, masks: [{type: hash, length: 8}]}]}]`},
	{"xml_fallback", `[{type: xml, fallback_masks: [{type: from_fixed, value: "<r/>"}], transforms: [
		{path: "/r/*[1]", on_missing: skip, node_transforms: [{type: text, masks: [{type: mask_characters}]}]}]}]`},
	{"chain", `[{type: chain, masks: [{type: imitate}, {type: transform_case, case: upper}, {type: take_substring, end_index: 12}]}]`},
	{"concat", `[{type: concat, glue: "-", masks: [{type: take_substring, end_index: 2}, {type: hash, length: 8}, {type: imitate_unique}]}]`},
	{"pipeline_date", `[{type: retain_age}, {type: typecast, typecast_as: date, date_format: "%d/%m/%Y"}]`},
}

// fuzzWholeValue are the specs whose masks replace a whole value and so
// never give back the original (docs/masks-transforms.md,
// "Irreversibility").
var fuzzWholeValue = map[string]bool{
	"retain_age": true, "retain_age_fmt": true, "retain_year": true, "retain_year_fmt": true,
	"retain_date_component": true, "retain_date_component_time": true, "numeric_bucket": true,
	"credit_card": true, "credit_card_prefix": true, "social_security_number": true, "brazilian_cpf": true,
}

// fuzzValidReasons are the reasons docs/rulesets-format.md and
// engine/errors.go list; a record built from valid JSON may only fail
// with some of them (see FuzzMaskTypes).
var fuzzValidReasons = map[Reason]bool{
	ReasonNotJSON: true, ReasonInvalidUTF8: true, ReasonTooDeep: true,
	ReasonTooLarge: true, ReasonMissing: true, ReasonMask: true,
}

// fuzzMaskers compiles the value/header masker (one rule and one header
// per spec) and one key masker per spec.
func fuzzMaskers(f testing.TB) (*Masker, map[string]*Masker) {
	opts := Options{Now: time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)}
	flat := strings.NewReplacer("\n", " ", "\t", "")
	var b strings.Builder
	b.WriteString("version: \"1.0\"\nrules:\n")
	for _, s := range fuzzMaskSpecs {
		b.WriteString("  - {path: \"$." + s.name + "\", masks: " + flat.Replace(s.masks) + "}\n")
	}
	b.WriteString("  - {path: \"$.hs\", hash_sources: [\"$.src\"], masks: [{type: date_shift, max_days: 90}, {type: imitate}]}\n")
	b.WriteString("headers:\n")
	for _, s := range fuzzMaskSpecs {
		b.WriteString("  - {name: " + s.name + ", masks: " + flat.Replace(s.masks) + "}\n")
	}
	compile := func(src string) *Masker {
		rs, err := rulesets.Parse("fuzz", "", []byte(src))
		if err != nil {
			f.Fatalf("parse: %v\n%s", err, src)
		}
		m, err := Compile(rs, opts)
		if err != nil {
			f.Fatalf("compile: %v\n%s", err, src)
		}
		return m
	}
	all := compile(b.String())
	keys := map[string]*Masker{}
	for _, s := range fuzzMaskSpecs {
		keys[s.name] = compile("version: \"1.0\"\nkey: {masks: " + flat.Replace(s.masks) + "}\n")
	}
	return all, keys
}

// FuzzMaskTypes runs every value-taking mask on arbitrary strings, numbers
// and booleans, as record members, headers and keys.
//
// Invariants: no panic; every error is a *MaskError with a documented
// reason, and a record of valid JSON and valid UTF-8 fails only with
// mask_error; an output is valid JSON (a value, a document key) and valid
// UTF-8 (when the input was); masking twice gives the same bytes; a
// string encoded two ways masks to the same string; imitate_unique maps
// different strings to different strings; a number, its digits as a
// string and as a bare key mask alike under imitate_unique and hash.
func FuzzMaskTypes(f *testing.F) {
	for _, s := range [][3]string{
		{"2024-03-01", "01/03/2024 10:20", "1 Mar 2024"},
		{"2024-03-01T10:20:30.123+05:30", "Fri, 01 Mar 2024 10:20:30 GMT", "20240229"},
		{"Mar  1 2024 10:20 PM", "2024-02-29T23:59:59.999Z", "Fri Mar  1 10:20:30 2024"},
		{"4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"},
		{"ann.lee@corp.example.com", "call +1 (555) 867-5309 or 415-555-2671", "IP 192.168.0.1 and 2001:db8::1"},
		{"123-45-6789", "123.456.789-09", "049-091-850"},
		{"123e4567-e89b-12d3-a456-426614174000", "{123E4567-E89B-12D3-A456-426614174000}", "urn:uuid:00000000-0000-0000-0000-000000000000"},
		{"GB82 WEST 1234 5698 7654 32", "978-0-306-40615-7", "0-306-40615-2"},
		{"Иван Петров", "Zoë Ångström 王明 ٣٤", "Ꭰ𝐀①²\u0301e\u0301"},
		{"", " ", "\x00\x1f\"\\\u2028</script>"},
		{"\xff\xfe", "a\xc3", "\xed\xa0\x80"},
		{strings.Repeat("9", 1100), strings.Repeat("a1 ", 500), strings.Repeat("é", 300)},
		{`{"a":"x","items":[{"sku":"s1"},{"sku":null}],"id":7,"d":"2024-01-01"}`, `[1,"2024-03-01",{"email":"a@b.co"}]`, `not json`},
		{`<r id="1"><a>bob</a><b x="y">t</b></r>`, `<?xml version="1.0"?><r><![CDATA[x<y]]></r>`, `<a><a/>`},
		{"12345", "012345", "-7.50"},
		{"1e3", "2.5E-7", "123456789012345678901234567890"},
		{"yes", "OFF", "nan"},
		{"P_123 Mary Ann", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "sk_live_0123456789abcdefghij"},
	} {
		f.Add(s[0], s[1], s[2], int64(1700000000), 1700000000.25)
	}
	f.Add("0", "-0", "1", int64(0), 0.0)
	f.Add("10000000", "150000000", "49091850", int64(math.MaxInt64), math.MaxFloat64)
	f.Add("x", "y", "z", int64(math.MinInt64), -1e-300)
	f.Add("17", "18", "120", int64(17), 30.49999)

	all, keys := fuzzMaskers(f)
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, n int64, x float64) {
		if len(s1)+len(s2)+len(s3) > 1<<13 {
			return
		}
		strs := []string{s1, s2, s3}
		var vals [][]byte // valid JSON, valid UTF-8
		for _, s := range strs {
			vals = append(vals, mustJSON(s))
			if isJSONNumber(s) {
				vals = append(vals, []byte(s))
			}
		}
		vals = append(vals, []byte(strconv.FormatInt(n, 10)), []byte("true"), []byte("false"),
			mustJSON(map[string]any{"a": s1, "id": n, "items": []any{map[string]any{"sku": s2}}}),
			mustJSON([]any{s3, x}))
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			vals = append(vals, mustJSON(x))
		}

		for _, spec := range fuzzMaskSpecs {
			for _, v := range vals {
				out, err := fuzzCheckValue(t, all, spec.name, v, true)
				if err == nil && fuzzWholeValue[spec.name] && sameJSON(out, v) {
					t.Errorf("%s: gave back the original %s", spec.name, v)
				}
			}
			for _, s := range strs {
				// The same string written raw (its bytes as they are,
				// invalid UTF-8 included) must mask as json.Marshal's
				// escaped form does, or be refused as invalid_utf8.
				raw, err := fuzzCheckValue(t, all, spec.name, rawJSONString(s), utf8.ValidString(s))
				if err != nil || !utf8.ValidString(s) {
					continue
				}
				esc, err := fuzzCheckValue(t, all, spec.name, mustJSON(s), true)
				if err == nil && !sameJSON(raw, esc) {
					t.Errorf("%s: a string masks differently when escaped: %q vs %q", spec.name, raw, esc)
				}
			}
			for _, s := range strs {
				fuzzCheckText(t, spec.name, "header", func() ([]byte, error) {
					hs, err := all.MaskHeaders(testSecret, []Header{{Key: spec.name, Value: []byte(s)}}, nil)
					if err != nil || len(hs) == 0 {
						return nil, err
					}
					return hs[0].Value, nil
				}, s)
				k := keys[spec.name]
				fuzzCheckText(t, spec.name, "key", func() ([]byte, error) { return k.MaskKey(testSecret, []byte(s)) }, s)
			}
		}
		// hash_sources: a date shifted by another member's value.
		fuzzCheckValue(t, all, "hs", mustJSON(s1), true)
		fuzzCheckValue(t, all, "", mustJSON(map[string]any{"hs": s1, "src": s2}), true)

		fuzzCheckUnique(t, all, s1, s2)
		fuzzCheckUnique(t, all, s1, sameShape(s1))
		fuzzCheckJoins(t, all, keys, n)
	})
}

// fuzzCheckValue masks {member: v} twice and checks the invariants.
// validUTF8 says v's strings are valid UTF-8. It returns the member's
// masked value.
func fuzzCheckValue(t *testing.T, m *Masker, member string, v []byte, validUTF8 bool) (json.RawMessage, error) {
	t.Helper()
	rec := v
	if member != "" {
		rec = append(append([]byte(`{"`+member+`":`), v...), '}')
	}
	out, err := m.MaskValue(nil, testSecret, rec, nil)
	out2, err2 := m.MaskValue(nil, testSecret, rec, nil)
	if (err == nil) != (err2 == nil) || !bytes.Equal(out, out2) {
		t.Fatalf("%s: not deterministic on %q: %q (%v) then %q (%v)", member, rec, out, err, out2, err2)
	}
	if err != nil {
		var me *MaskError
		if !errors.As(err, &me) {
			t.Fatalf("%s: error %v is not a *MaskError", member, err)
		}
		want := ReasonMask
		if !validUTF8 {
			want = ReasonInvalidUTF8
		}
		if me.Reason != want && !(me.Reason == ReasonTooLarge && len(rec) > m.MaxBytes()) {
			t.Fatalf("%s: reason %s, want %s, on %q: %v", member, me.Reason, want, rec, err)
		}
		return nil, err
	}
	if !validUTF8 {
		t.Fatalf("%s: invalid UTF-8 accepted: %q -> %q", member, rec, out)
	}
	if !json.Valid(out) || !utf8.Valid(out) {
		t.Fatalf("%s: output is not valid JSON: %q -> %q", member, rec, out)
	}
	if member == "" {
		return out, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatalf("%s: %v", member, err)
	}
	return obj[member], nil
}

// fuzzCheckText checks a key or header masking of text s.
func fuzzCheckText(t *testing.T, name, what string, mask func() ([]byte, error), s string) {
	t.Helper()
	out, err := mask()
	out2, err2 := mask()
	if (err == nil) != (err2 == nil) || !bytes.Equal(out, out2) {
		t.Fatalf("%s %s: not deterministic on %q: %q (%v) then %q (%v)", name, what, s, out, err, out2, err2)
	}
	if err != nil {
		var me *MaskError
		if !errors.As(err, &me) {
			t.Fatalf("%s %s: error %v is not a *MaskError", name, what, err)
		}
		if !fuzzValidReasons[me.Reason] {
			t.Fatalf("%s %s: undocumented reason %q", name, what, me.Reason)
		}
		if me.Reason != ReasonMask && utf8.ValidString(s) {
			t.Fatalf("%s %s: reason %s on %q: %v", name, what, me.Reason, s, err)
		}
		return
	}
	if utf8.ValidString(s) && !utf8.Valid(out) {
		t.Fatalf("%s %s: output is not valid UTF-8: %q -> %q", name, what, s, out)
	}
	if what == "key" && keyIsDocument([]byte(s)) && json.Valid([]byte(s)) && utf8.ValidString(s) && !json.Valid(out) {
		t.Fatalf("%s key: a JSON key masked into invalid JSON: %q -> %q", name, s, out)
	}
}

// fuzzCheckUnique checks imitate_unique's bijection on two strings.
func fuzzCheckUnique(t *testing.T, m *Masker, a, b string) {
	t.Helper()
	if a == b || !utf8.ValidString(a) || !utf8.ValidString(b) {
		return
	}
	for _, member := range []string{"imitate_unique", "imitate_unique_seed"} {
		oa, err := fuzzCheckValue(t, m, member, mustJSON(a), true)
		if err != nil {
			continue
		}
		ob, err := fuzzCheckValue(t, m, member, mustJSON(b), true)
		if err == nil && sameJSON(oa, ob) {
			t.Fatalf("%s: %q and %q both mask to %s", member, a, b, oa)
		}
	}
}

// fuzzCheckJoins checks that n masks alike as a number, as its digits in
// a string, and as a bare-digit key (docs: the record key).
func fuzzCheckJoins(t *testing.T, m *Masker, keys map[string]*Masker, n int64) {
	t.Helper()
	digits := strconv.FormatInt(n, 10)
	for _, member := range []string{"imitate_unique", "hash"} {
		num, err1 := fuzzCheckValue(t, m, member, []byte(digits), true)
		str, err2 := fuzzCheckValue(t, m, member, mustJSON(digits), true)
		key, err3 := keys[member].MaskKey(testSecret, []byte(digits))
		if err1 != nil || err2 != nil || err3 != nil {
			if !(err1 != nil && err2 != nil && err3 != nil) {
				t.Fatalf("%s: %s fails as number/string/key: %v / %v / %v", member, digits, err1, err2, err3)
			}
			continue
		}
		var s string
		if err := json.Unmarshal(str, &s); err != nil {
			t.Fatalf("%s: %v", member, err)
		}
		if member == "imitate_unique" && string(num) != s {
			t.Fatalf("%s: %s masks to %s as a number, %q as a string", member, digits, num, s)
		}
		if string(key) != s {
			t.Fatalf("%s: %s masks to %q as a key, %q as a string", member, digits, key, s)
		}
	}
}

// sameShape changes s's first ASCII letter or digit to the next one of
// its alphabet, keeping its shape (imitate_unique's domain).
func sameShape(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= '1' && c <= '8', c >= 'a' && c <= 'y', c >= 'A' && c <= 'Y':
			b[i]++
			return string(b)
		}
	}
	return s
}

// rawJSONString quotes s escaping only what JSON requires, so its other
// bytes (invalid UTF-8 included) reach the scanner as they are.
func rawJSONString(s string) []byte {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// sameJSON compares two JSON values by what they decode to.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
