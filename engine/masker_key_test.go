package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMaskKeyJoinsValueAndHeader: a key that is not a JSON object, array
// or string (bare digits from a string serializer, true, null, a number
// with spaces) masks as its text does in a value string or a header, and
// comes back bare: the same id joins across key, value and headers.
func TestMaskKeyJoinsValueAndHeader(t *testing.T) {
	for _, mask := range []string{"imitate_unique", "hash", "imitate"} {
		t.Run(mask, func(t *testing.T) {
			m := mustCompile(t, fmt.Sprintf(`version: "1.0"
key: {masks: [{type: %[1]s}]}
headers: [{name: X-Id, masks: [{type: %[1]s}]}]
rules: [{path: "$.id", masks: [{type: %[1]s}]}]
`, mask))
			for _, k := range []string{"12345", "0123", "-7", "1.50", "1e3", "true", "null", " 123", "123 ", "abc", "C-1001"} {
				key, err := m.MaskKey(testSecret, []byte(k))
				if err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
				doc, _ := json.Marshal(map[string]string{"id": k})
				val, err := m.MaskValue(nil, testSecret, doc, nil)
				if err != nil {
					t.Fatalf("value %q: %v", k, err)
				}
				var got map[string]string
				if err := json.Unmarshal(val, &got); err != nil {
					t.Fatalf("value %q: %s: %v", k, val, err)
				}
				hs, err := m.MaskHeaders(testSecret, []Header{{Key: "X-Id", Value: []byte(k)}}, nil)
				if err != nil {
					t.Fatalf("header %q: %v", k, err)
				}
				if string(key) != got["id"] || string(key) != string(hs[0].Value) {
					t.Errorf("%q: key → %q, value string → %q, header → %q: want one output", k, key, got["id"], hs[0].Value)
				}
				if strings.Contains(string(key), `"`) {
					t.Errorf("%q: key → %q, want it bare", k, key)
				}
			}
		})
	}
	t.Run("digits join a number in the value", func(t *testing.T) {
		m := mustCompile(t, `version: "1.0"
key: {masks: [{type: imitate_unique}]}
rules: [{path: "$.id", masks: [{type: imitate_unique}]}]
`)
		key, err := m.MaskKey(testSecret, []byte("12345"))
		if err != nil {
			t.Fatal(err)
		}
		val, err := m.MaskValue(nil, testSecret, []byte(`{"id":12345}`), nil)
		if err != nil || string(val) != `{"id":`+string(key)+`}` {
			t.Errorf("key 12345 → %s, value {\"id\":12345} → %s (%v): want the same digits", key, val, err)
		}
	})
}

// TestMaskKeyDocuments: a key that is a JSON string, object or array is
// still masked as a document and written back as JSON; an object under
// imitate_unique is a mask error (the docs point to json transforms), and
// a json mask reaches into it.
func TestMaskKeyDocuments(t *testing.T) {
	m := mustCompile(t, `version: "1.0"
key: {masks: [{type: hash, length: 8}]}
rules: [{path: "$.id", masks: [{type: hash, length: 8}]}]
`)
	val, err := m.MaskValue(nil, testSecret, []byte(`{"id":"12345"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Whitespace around a document passes through, as in a value.
	key, err := m.MaskKey(testSecret, []byte(` "12345"`))
	if err != nil || `{"id":`+string(key)+`}` != strings.Replace(string(val), ":", ": ", 1) {
		t.Errorf(`JSON string key → %s (%v), want the value's masked string %s, quoted`, key, err, val)
	}

	whole := mustCompile(t, `version: "1.0"
key: {masks: [{type: imitate_unique}]}
rules: [{path: "$.id", masks: [{type: imitate_unique}]}]
`)
	if out, err := whole.MaskKey(testSecret, []byte(`{"id":123}`)); err == nil || ReasonOf(err) != ReasonMask {
		t.Errorf("object key under imitate_unique → %s, %v; want a mask_error", out, err)
	}
	tr := mustCompile(t, `version: "1.0"
key:
  masks:
    - type: json
      transforms: [{path: [id], masks: [{type: imitate_unique}]}]
rules: [{path: "$.id", masks: [{type: imitate_unique}]}]
`)
	key, err = tr.MaskKey(testSecret, []byte(`{"id":123}`))
	if err != nil {
		t.Fatal(err)
	}
	val, err = tr.MaskValue(nil, testSecret, []byte(`{"id":123}`), nil)
	if err != nil || string(key) != string(val) {
		t.Errorf("object key through json transforms → %s (%v), want %s as in the value", key, err, val)
	}
	// Under a whole-value hash, an array or object key is hashed as a
	// document: the result is a JSON string.
	for _, k := range []string{`[1,2]`, `{"id":123}`} {
		out, err := m.MaskKey(testSecret, []byte(k))
		if err != nil || len(out) != 10 || out[0] != '"' || out[9] != '"' {
			t.Errorf("key %s under hash → %s (%v), want a quoted hash", k, out, err)
		}
	}
}

// TestMaskKeyInvalidUTF8: a key or header masked as text that is not
// UTF-8 is refused with invalid_utf8 when its masks would keep some of its
// bytes: imitate kept the byte of a Latin-1 letter ("Jos\xe9" →
// "Xgz\xe9"). hash reads bytes: a binary key (NATS's base64 key header)
// hashes.
func TestMaskKeyInvalidUTF8(t *testing.T) {
	for _, tt := range []struct {
		mask string
		ok   bool
	}{
		{"imitate", false}, {"imitate_unique", false}, {"unstructured_text, preset: pii", false},
		// Removing what lies between two kept bytes joined them into a
		// valid é ("Jos\xc37\xa9" -> "José"); a first step that turns
		// them into U+FFFD is refused as well (by the mask, not the output).
		{`replace_regex, regex: "[0-9]", value: ""`, false},
		{"chain, masks: [{type: transform_case, case: lower}, {type: imitate}]", false},
		{"hash", true}, {"from_fixed, value: K", true},
		{"from_format_string, value_format: \"{[a-z],6}\"", true},
		{"from_choices, choices: [a, b]", true}, {"from_random_text, max: 5", true},
		{"from_random_number, max: 9", true}, {"from_random_boolean", true},
		{"from_random_date, min: 2000-01-01, max: 2001-01-01", true},
		{"from_random_datetime, min: 2000-01-01, max: 2001-01-01", true},
		// What keeps nothing at the front of a chain, or in every part of
		// a concat, keeps nothing of the whole.
		{"chain, masks: [{type: hash}, {type: transform_case, case: upper}]", true},
		{"concat, masks: [{type: from_fixed, value: A}, {type: hash}]", true},
		{"concat, masks: [{type: hash}, {type: imitate}]", false},
		{"chain, masks: [{type: chain, masks: [{type: take_substring, start_index: 1}]}, {type: hash}]", false},
		{"do_nothing", false}, {"take_substring, start_index: 1", false},
		{"transform_case, case: upper", false}, {"typecast, typecast_as: string", false},
	} {
		t.Run(tt.mask, func(t *testing.T) {
			m := mustCompile(t, fmt.Sprintf(`version: "1.0"
key: {masks: [{type: %[1]s}]}
headers: [{name: X-Name, masks: [{type: %[1]s}]}]
rules: [{path: "$.name", masks: [{type: %[1]s}]}]
`, tt.mask))
			for _, k := range []string{"Jos\xe9", "M\xfcller 12", "\xff\xfe", "Jos\xc37\xa9"} {
				key, err := m.MaskKey(testSecret, []byte(k))
				hs, herr := m.MaskHeaders(testSecret, []Header{{Key: "X-Name", Value: []byte(k)}}, nil)
				if tt.ok {
					if err != nil || herr != nil || !utf8.Valid(key) || !utf8.Valid(hs[0].Value) {
						t.Errorf("%q: key → %q, %v; header → %v, %v: want UTF-8 output", k, key, err, hs, herr)
					}
					continue
				}
				if reasonOf(err) != ReasonInvalidUTF8 || reasonOf(herr) != ReasonInvalidUTF8 {
					t.Errorf("%q: key → %q, %v; header → %v, %v: want invalid_utf8", k, key, err, hs, herr)
				}
			}
			if _, err := m.MaskKey(testSecret, []byte("José")); err != nil {
				t.Errorf("a UTF-8 key: %v", err)
			}
		})
	}
}

func reasonOf(err error) Reason {
	var me *MaskError
	if errors.As(err, &me) {
		return me.Reason
	}
	return ""
}

// TestKeepsNothingCoversEveryMask: each mask type is judged, so a new
// one cannot pass a binary key or header through by default: a type
// added to the engine must be placed in one list or the other here (and
// in keepsNothing when its output holds nothing of its input).
func TestKeepsNothingCoversEveryMask(t *testing.T) {
	keeps := []string{"brazilian_cpf", "credit_card", "date_shift", "do_nothing", "from_json_path",
		"imitate", "imitate_nz_ird", "imitate_unique", "imitate_uuid", "json", "mask_characters",
		"numeric_bucket", "replace_regex", "replace_substring", "retain_age", "retain_date_component",
		"retain_year", "set_checksum", "social_security_number", "substitute", "take_substring",
		"transform_case", "typecast", "unstructured_text", "xml"}
	nothing := []string{"drop", "from_choices", "from_file", "from_fixed", "from_format_string",
		"from_random_boolean", "from_random_date", "from_random_datetime", "from_random_number",
		"from_random_text", "hash"}
	structural := []string{"chain", "concat"} // judged by their parts (pipeKeepsNothing)
	for _, typ := range MaskTypes() {
		if strings.HasPrefix(typ, "test_") {
			continue
		}
		switch {
		case slices.Contains(nothing, typ):
			if !keepsNothing[typ] {
				t.Errorf("%s keeps nothing of its input, but keepsNothing does not list it", typ)
			}
		case slices.Contains(keeps, typ), slices.Contains(structural, typ):
			if keepsNothing[typ] {
				t.Errorf("%s keeps some of its input (or is judged by its parts), but keepsNothing lists it: a non-UTF-8 key would keep its bytes", typ)
			}
		default:
			t.Errorf("mask type %s is in no list: decide whether its output holds any of its input's text and add it", typ)
		}
	}
}
