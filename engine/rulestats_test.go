package engine

import (
	"slices"
	"testing"
)

// TestFound: CallOptions.Found counts the values each rule's paths reach,
// masked or not, so that a caller can tell a rule whose path fits no field
// (a typo, a case slip, a missing [*]) from one that only met nulls.
func TestFound(t *testing.T) {
	m := mustCompile(t, header+`skip_defaults: [null, ""]
rules:
  - {path: "$.email", masks: [{type: test_upper}]}
  - {path: "$.emial", masks: [{type: test_upper}]}
  - {path: "$.items.name", masks: [{type: test_upper}]}
  - {path: "$.note", masks: [{type: test_upper}]}
  - if: [{path: "$.country", equals: NZ}]
    rules: [{path: "$.email", masks: [{type: test_upper}]}]
    else_rules: [{path: "$.email", masks: [{type: test_upper}]}]
`)
	found, counts := make([]uint32, m.NumRules()), make([]uint32, m.NumRules())
	for range 2 {
		in := []byte(`{"email":"a@b.c","items":[{"name":"x"}],"note":null,"country":"AU"}`)
		if _, err := m.MaskValue(nil, testSecret, in, &CallOptions{Found: found, Counts: counts}); err != nil {
			t.Fatal(err)
		}
	}
	// The null note is reached but not masked; the if does not hold, so
	// only its else rule reaches the email.
	if want := []uint32{2, 0, 0, 2, 0, 2}; !slices.Equal(found, want) {
		t.Errorf("found %v, want %v", found, want)
	}
	if want := []uint32{2, 0, 0, 0, 0, 2}; !slices.Equal(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}

	// A slice of the wrong length is left alone, as Counts is.
	short := make([]uint32, 1)
	if _, err := m.MaskValue(nil, testSecret, []byte(`{"email":"a"}`), &CallOptions{Found: short}); err != nil || short[0] != 0 {
		t.Errorf("a short Found slice was written: %v, %v", short, err)
	}
}
