package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
)

// TestHashInputReachesEveryReader: masks that read the rule's hash input
// other than through Seed (unstructured_text keys each entity by it, a
// json mask hands it to its transforms) see it although it is computed
// only when first asked for.
func TestHashInputReachesEveryReader(t *testing.T) {
	rs, err := rulesets.Parse("hashinput", "hashinput.yaml", []byte(`
version: "1.0"
rules:
  - name: note
    path: "$.note"
    hash_sources: ["$.uid"]
    masks:
      - type: unstructured_text
        preset: pii
  - name: doc
    path: "$.doc"
    hash_sources: ["$.uid"]
    masks:
      - type: json
        transforms:
          - path: "$.name"
            masks:
              - type: from_file
                seed_file: DataMasque_firstNames_mixed.csv
                seed_column: firstname-mixed
`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sec := MustSecret("hash-input-secret-0123456789")
	mask := func(uid string) []byte {
		in := []byte(`{"uid":"` + uid + `","note":"write to bob.smith@example.org or call 021 555 0199","doc":{"name":"Robert"}}`)
		out, err := m.MaskValue(nil, sec, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	field := func(out []byte, name string) string {
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return fmt.Sprint(v[name])
	}
	a1, a2 := mask("u-1"), mask("u-1")
	if !bytes.Equal(a1, a2) {
		t.Fatalf("the same hash source masked two ways:\n%s\n%s", a1, a2)
	}
	// With each mask hashing its own value, every uid would give a1's
	// note and doc again.
	for _, name := range []string{"note", "doc"} {
		differs := 0
		for _, uid := range []string{"u-2", "u-3", "u-4", "u-5"} {
			if field(mask(uid), name) != field(a1, name) {
				differs++
			}
		}
		if differs == 0 {
			t.Errorf("%s: four other hash sources all gave %s: the hash input did not reach the mask", name, field(a1, name))
		}
	}
}

// TestPooledRecordsMaskAlike: records masked one after another through
// pooled calls give what each gives alone, and the same mask over the same
// hash source agrees with itself within a record (here once as a rule's
// mask, once inside a concat).
func TestPooledRecordsMaskAlike(t *testing.T) {
	s := MustSecret("pooled-test-secret-0123456789")
	m := mustCompile(t, `
version: "1.0"
rules:
  - path: "$.a"
    hash_sources: ["$.k"]
    masks: [ { type: from_random_number, min: 1, max: 1000000000 } ]
  - path: "$.b"
    hash_sources: ["$.k"]
    masks: [ { type: concat, masks: [ { type: from_random_number, min: 1, max: 1000000000 } ] } ]
`)
	mask := func(rec string) string {
		out, err := m.MaskValue(nil, s, []byte(rec), nil)
		if err != nil {
			t.Fatalf("mask %s: %v", rec, err)
		}
		return string(out)
	}
	recs := []string{`{"k":"x","a":1,"b":1}`, `{"k":"y","a":1,"b":1}`, `{"k":"x","a":1,"b":1}`}
	alone := make([]string, len(recs))
	for i, r := range recs {
		alone[i] = mask(r)
	}
	for i, r := range recs {
		if got := mask(r); got != alone[i] {
			t.Errorf("record %d: %s after other records, %s alone", i, got, alone[i])
		}
	}
	if alone[0] == alone[1] {
		t.Error("different hash sources gave the same output")
	}
	var got struct {
		A json.Number
		B string
	}
	if err := json.Unmarshal([]byte(alone[0]), &got); err != nil || string(got.A) != got.B {
		t.Errorf("the same mask over the same hash source gave %s and %q in one record (%v)", got.A, got.B, err)
	}
}
