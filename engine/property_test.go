package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// Properties of masking the generated customer records with
// rulesets/examples/customer-record.yaml, over 100,000 records (5,000 with
// -short, 10,000 under -race):
//   - determinism: two Masker instances compiled from the same file give
//     byte-identical output for the same secret;
//   - secret sensitivity: another secret gives other values;
//   - irreversibility: no masked field equals its original, nor contains
//     it (names excepted: "Jacklyn" may replace "Jack"). The names are
//     drawn by customer_id (hash_sources), so they depend on it alone and
//     equal the original by chance, as often as any other name: that is
//     counted and bounded rather than refused (Ctx.redraws says why);
//   - validity: the output is valid JSON, each masked field keeps its JSON
//     type and shape (an email stays an email, a date a date), and the
//     fields no rule names are untouched.

func loadExample(t testing.TB, name string) *Masker {
	t.Helper()
	rs, err := rulesets.ParseFile(filepath.Join("..", "rulesets", "examples", name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m, err := Compile(rs, Options{Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestPropertiesCustomerRecords(t *testing.T) {
	n := 100_000
	switch {
	case testing.Short():
		n = 5_000
	case raceEnabled:
		n = 10_000
	}
	m1 := loadExample(t, "customer-record.yaml")
	m2 := loadExample(t, "customer-record.yaml")
	sec1 := MustSecret("property-secret-one-0123456789")
	sec2 := MustSecret("property-secret-two-0123456789")

	masked := []string{"customer_id", "first_name", "last_name", "email", "date_of_birth", "account_balance", "phone"}
	kept := []string{"account_status"}
	sameUnderOtherSecret, sameAsOriginal := map[string]int{}, map[string]int{}
	g := testenv.NewGen(2026)
	var out1, out2, out3 []byte
	for i := range n {
		in := g.Customer()
		var err error
		if out1, err = m1.MaskValue(out1[:0], sec1, in, nil); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if out2, err = m2.MaskValue(out2[:0], sec1, in, nil); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(out1, out2) {
			t.Fatalf("record %d: two Maskers disagree:\n%s\n%s", i, out1, out2)
		}
		if out3, err = m1.MaskValue(out3[:0], sec2, in, nil); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		var orig, got, other map[string]any
		for _, d := range []struct {
			b []byte
			v *map[string]any
		}{{in, &orig}, {out1, &got}, {out3, &other}} {
			dec := json.NewDecoder(bytes.NewReader(d.b))
			dec.UseNumber()
			if err := dec.Decode(d.v); err != nil {
				t.Fatalf("record %d: output is not valid JSON: %v\n%s", i, err, d.b)
			}
		}
		for _, f := range masked {
			o, m := text(orig[f]), text(got[f])
			if fmt.Sprintf("%T", orig[f]) != fmt.Sprintf("%T", got[f]) {
				t.Fatalf("record %d: %s changed type: %T -> %T", i, f, orig[f], got[f])
			}
			// A name may sit inside a realistic substitute by chance
			// ("Jack" in "Jacklyn", "Williams" in "Williamson"): for
			// names only equality counts.
			isName := f == "first_name" || f == "last_name"
			if isName && m == o {
				sameAsOriginal[f]++
			} else if m == o || !isName && strings.Contains(m, o) {
				t.Fatalf("record %d: masked %s equals or contains the original (%q -> %q)", i, f, o, m)
			}
			if text(other[f]) == m {
				sameUnderOtherSecret[f]++
			}
		}
		for _, f := range kept {
			if text(orig[f]) != text(got[f]) {
				t.Fatalf("record %d: %s changed but no rule names it", i, f)
			}
		}
		if c := got["customer_id"].(string); len(c) != len(orig["customer_id"].(string)) {
			t.Fatalf("record %d: customer_id changed length", i)
		}
		if e := got["email"].(string); strings.Count(e, "@") != 1 || !strings.Contains(e[strings.Index(e, "@"):], ".") {
			t.Fatalf("record %d: masked email %q is not an email", i, e)
		}
		if _, err := time.Parse("2006-01-02", got["date_of_birth"].(string)); err != nil {
			t.Fatalf("record %d: masked date_of_birth is not a date: %v", i, err)
		}
		oa, ga := orig["address"].(map[string]any), got["address"].(map[string]any)
		if oa["city"] != ga["city"] || oa["street"] == ga["street"] {
			t.Fatalf("record %d: address: only street is masked", i)
		}
	}
	for f, same := range sameUnderOtherSecret {
		if same > n/100 {
			t.Errorf("%s: %d of %d records got the same value under another secret", f, same, n)
		}
	}
	// A seed list of a few hundred names matches the original about as
	// often as another secret's draw does.
	for f, same := range sameAsOriginal {
		t.Logf("%s: %d of %d records drew their original by chance", f, same, n)
		if same > n/100 {
			t.Errorf("%s: %d of %d records kept the original: more than chance", f, same, n)
		}
	}
}

// text is a decoded JSON scalar's text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// TestHashSourceConsistency: the same customer_id gets the same fake name
// and email in any record, whatever its real name.
func TestHashSourceConsistency(t *testing.T) {
	m := loadExample(t, "customer-record.yaml")
	a := []byte(`{"customer_id":"C1234567","first_name":"Ann","last_name":"Lee","email":"ann@x.nz","account_status":"active"}`)
	b := []byte(`{"email":"annie@y.nz","first_name":"Annie","last_name":"Kim","customer_id":"C1234567"}`)
	oa, err := m.MaskValue(nil, testSecret, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := m.MaskValue(nil, testSecret, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var va, vb map[string]any
	if json.Unmarshal(oa, &va) != nil || json.Unmarshal(ob, &vb) != nil {
		t.Fatalf("invalid output %s %s", oa, ob)
	}
	for _, f := range []string{"customer_id", "first_name", "last_name", "email"} {
		if va[f] != vb[f] {
			t.Errorf("%s: %v vs %v for the same customer_id", f, va[f], vb[f])
		}
	}
}
