package engine

import (
	"regexp"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/engine/textscan"
	"github.com/maskstream/maskstream/rulesets"
)

// hash_sources on unstructured_text: DataMasque's deterministic unstructured
// masking (self: entity, label: NAME), checked on its own table of use
// cases: same name same mask, same doctor same mask, and the two combined
// with the rule's hash input.

// txtHashMask is a note mask with doctors and patients; sources is the
// hash_sources line ("" for none). The replacement draws ten capitals, so
// two different seeds never meet by chance.
func txtHashMask(t *testing.T, sources string) Pipeline {
	t.Helper()
	return txtKit.testMask(t, `
type: unstructured_text
matchers:
  regex:
    - {label: DOCTOR, pattern: 'Dr\. ([A-Z][a-z]+)', group: 1}
    - {label: PATIENT, pattern: 'Patient ([A-Z][a-z]+)', group: 1}
masks:
  - {label: DOCTOR, masks: [{type: from_format_string, value_format: "{[A-Z],10}"}]}
  - {label: PATIENT, masks: [{type: from_format_string, value_format: "{[A-Z],10}"}]}
`+sources)
}

// txtHashRun masks a note under an optional rule hash input and returns
// the replacements, in order, of its "Dr. X" and "Patient X".
func txtHashRun(t *testing.T, pl Pipeline, note string, hash []byte) []string {
	t.Helper()
	out, err := txtKit.run(pl, txtSecret, Str(note), hash)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	var got []string
	for _, m := range txtHashNames.FindAllStringSubmatch(out.S, -1) {
		got = append(got, m[1])
	}
	return got
}

var txtHashNames = regexp.MustCompile(`(?:Dr\.|Patient) ([A-Z]{10})\b`)

func TestUnstructuredTextHashSourcesSelfEntity(t *testing.T) {
	def := txtHashMask(t, "")
	self := txtHashMask(t, "hash_sources: [ {self: entity} ]")

	// Without a rule hash input, self: entity is the default spelled out:
	// the same output, byte for byte.
	note := "Dr. Smith saw Patient John and Patient Jane; Patient John again."
	a, b := txtMust(t, def, note), txtMust(t, self, note)
	if a != b {
		t.Errorf("self: entity changed the default output:\n%s\n%s", a, b)
	}

	// Same patient id (the rule's hash input): by default every patient
	// of the record masks alike, as DataMasque's hash_columns row says...
	p1 := []byte("patient-001")
	got := txtHashRun(t, def, "Patient John. Patient Jane.", p1)
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("default under a hash input: got %q, want John and Jane alike", got)
	}
	// ...and with self: entity each name keeps its own mask within it,
	// while the hash input still keys it (DataMasque's combined row).
	got = txtHashRun(t, self, "Patient John. Patient Jane. Patient John.", p1)
	if len(got) != 3 || got[0] == got[1] || got[0] != got[2] {
		t.Errorf("self: entity under a hash input: got %q, want John, Jane, John", got)
	}
	other := txtHashRun(t, self, "Patient John.", []byte("patient-002"))
	if len(other) != 1 || other[0] == got[0] {
		t.Errorf("John under two hash inputs: %q and %q, want them to differ", got[0], other)
	}
	// The same name in two texts of one hash input masks alike.
	again := txtHashRun(t, self, "Follow-up: Patient John is better.", p1)
	if len(again) != 1 || again[0] != got[0] {
		t.Errorf("John in two texts: %q then %q", got[0], again)
	}

	// Built-in replacements are keyed by the entity already: self: entity
	// leaves them as they were, with or without a hash input.
	bi := txtKit.testMask(t, "{type: unstructured_text, preset: pii}")
	biSelf := txtKit.testMask(t, "{type: unstructured_text, preset: pii, hash_sources: [{self: entity}]}")
	for _, h := range [][]byte{nil, p1} {
		x, _ := txtKit.run(bi, txtSecret, Str(txtNote), h)
		y, _ := txtKit.run(biSelf, txtSecret, Str(txtNote), h)
		if x.S != y.S || x.S == txtNote {
			t.Errorf("hash input %q: self: entity moved the built-in replacements:\n%s\n%s", h, x.S, y.S)
		}
	}
}

func TestUnstructuredTextHashSourcesLabel(t *testing.T) {
	pl := txtHashMask(t, "hash_sources: [ {label: DOCTOR} ]")

	// Same doctor, same mask: every entity of a note seeds from its first
	// doctor, so John and Jane mask alike under Dr. Smith...
	smith := txtHashRun(t, pl, "Dr. Smith: Patient John and Patient Jane.", nil)
	if len(smith) != 3 || smith[1] != smith[2] {
		t.Fatalf("under Dr. Smith: got %q, want John and Jane alike", smith)
	}
	// ...in any note of Dr. Smith's, whoever the patient...
	smith2 := txtHashRun(t, pl, "Patient Ahmed, seen by Dr. Smith.", nil)
	if len(smith2) != 2 || smith2[0] != smith[1] || smith2[1] != smith[0] {
		t.Errorf("another note of Dr. Smith's: got %q, want %q for the patient and %q for the doctor", smith2, smith[1], smith[0])
	}
	// ...and otherwise under Dr. Jones.
	jones := txtHashRun(t, pl, "Dr. Jones: Patient John.", nil)
	if len(jones) != 2 || jones[1] == smith[1] || jones[0] == smith[0] {
		t.Errorf("under Dr. Jones: got %q, want other masks than %q", jones, smith)
	}

	// The first doctor of the note is the source: a second one masks as
	// the first does.
	two := txtHashRun(t, pl, "Dr. Smith, then Dr. Jones: Patient John.", nil)
	if len(two) != 3 || two[0] != smith[0] || two[1] != smith[0] || two[2] != smith[1] {
		t.Errorf("Dr. Smith then Dr. Jones: got %q, want every mask of Dr. Smith's (%q)", two, smith)
	}

	// The source is the doctor's text alone, encoded as a rule's one hash
	// source is: the patient's mask is what the same masks give a
	// patient field whose rule hashes on a doctor field holding "Smith".
	field := txtKit.testMask(t, `{type: from_format_string, value_format: "{[A-Z],10}"}`)
	f, err := txtKit.run(field, txtSecret, Str("Ahmed"), []byte("Smith"))
	if err != nil || f.S != smith[1] {
		t.Errorf("a field hashed on Smith masks to %q (%v), want the note's %q", f.S, err, smith[1])
	}

	// A note with no doctor: its entities seed as a missing hash source
	// does, all alike, and alike in every such note.
	none := txtHashRun(t, pl, "Patient John and Patient Jane.", nil)
	none2 := txtHashRun(t, pl, "Patient Ahmed.", nil)
	if len(none) != 2 || len(none2) != 1 || none[0] != none[1] || none2[0] != none[0] {
		t.Errorf("no doctor: got %q and %q, want one mask for all", none, none2)
	}
	m, _ := txtKit.run(field, txtSecret, Str("John"), hashMissing1)
	if m.S != none[0] {
		t.Errorf("no doctor masks to %q, want a missing hash source's %q", none[0], m.S)
	}

	// The rule's hash input joins the doctor.
	h1 := txtHashRun(t, pl, "Dr. Smith: Patient John.", []byte("ward-1"))
	h2 := txtHashRun(t, pl, "Dr. Smith: Patient John.", []byte("ward-2"))
	if len(h1) != 2 || len(h2) != 2 || h1[1] == h2[1] || h1[1] == smith[1] {
		t.Errorf("Dr. Smith under two hash inputs: %q and %q (none: %q), want three masks", h1, h2, smith)
	}

	// Both sources: names differ within a doctor's note, and a name
	// differs between doctors.
	both := txtHashMask(t, "hash_sources: [ {label: DOCTOR}, {self: entity} ]")
	b1 := txtHashRun(t, both, "Dr. Smith: Patient John and Patient Jane.", nil)
	b2 := txtHashRun(t, both, "Dr. Jones: Patient John.", nil)
	b3 := txtHashRun(t, both, "Dr. Smith: Patient John.", nil)
	if len(b1) != 3 || len(b2) != 2 || len(b3) != 2 || b1[1] == b1[2] || b1[1] == b2[1] || b1[1] != b3[1] {
		t.Errorf("doctor and entity: got %q, %q, %q", b1, b2, b3)
	}
}

// TestUnstructuredTextHashSourcesBuiltIn: a label source reaches the
// built-in replacements too, which then seed from the doctor, not the
// entity.
func TestUnstructuredTextHashSourcesBuiltIn(t *testing.T) {
	pl := txtKit.testMask(t, `
type: unstructured_text
preset: contact
matchers:
  regex: [{label: DOCTOR, pattern: 'Dr\. ([A-Z][a-z]+)', group: 1, masks: [{type: from_fixed, value: X}]}]
hash_sources: [{label: DOCTOR}]`)
	email := func(note string) string {
		out := txtMust(t, pl, note)
		ms := textscan.Find(out, textscan.SetOf(textscan.Email), nil)
		if len(ms) != 1 {
			t.Fatalf("%q: want one email in the output", out)
		}
		return out[ms[0].Start:ms[0].End]
	}
	s1 := email("Dr. Smith: write to jane@corp.example.com")
	s2 := email("Dr. Smith: write to john@corp.example.com")
	j1 := email("Dr. Jones: write to jane@corp.example.com")
	if s1 != s2 || s1 == j1 || strings.Contains(s1, "corp.example.com") {
		t.Errorf("emails under Dr. Smith %q and %q, under Dr. Jones %q: want the doctor alone to key them", s1, s2, j1)
	}
}

func TestUnstructuredTextHashSourcesInRuleset(t *testing.T) {
	// DataMasque's form (audit probe ut2) with a name list, and the
	// rule's hash_sources combined with the mask's.
	rs, err := rulesets.Parse("ut-hash", "ut-hash.yaml", []byte(`version: "1.0"
rules:
  - path: "$.notes"
    hash_sources: ["$.patient_id"]
    masks:
      - type: unstructured_text
        hash_sources:
          - self: entity
        matchers:
          seed_files:
            - label: "FIRST_NAME"
              seed_file: DataMasque_firstNames_mixed.csv
              seed_column: firstname-mixed
              case_sensitive: true
        masks:
          - label: "FIRST_NAME"
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
	sec := MustSecret(txtSecret)
	mask := func(id, notes string) []string {
		out, err := m.MaskValue(nil, sec, []byte(`{"patient_id":"`+id+`","notes":"`+notes+`"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return regexp.MustCompile(`seen ([^ ,"]+)`).FindAllStringSubmatch(string(out), -1)[0][1:]
	}
	j1 := mask("001", "seen John")
	j1b := mask("001", "later, seen John")
	n1 := mask("001", "seen Jane")
	j2 := mask("002", "seen John")
	if j1[0] == "John" || j1[0] != j1b[0] || j1[0] == n1[0] || j1[0] == j2[0] {
		t.Errorf("patient 001: John %q, %q, Jane %q; patient 002: John %q", j1, j1b, n1, j2)
	}
}

func TestUnstructuredTextHashSourcesBad(t *testing.T) {
	const head = "type: unstructured_text\nmatchers:\n  regex: [{label: DOCTOR, pattern: 'Dr\\. \\w+'}]\nfallback_masks: [{type: do_nothing}]\n"
	txtKit.checkBad(t, []maskBadCase{
		{"scalar", head + "hash_sources: entity", "5:15", "hash_sources is a non-empty list of {self: entity}"},
		{"empty", head + "hash_sources: []", "5:15", "non-empty list"},
		{"record path", head + "hash_sources: [\"$.patient_id\"]", "5:16", "give hash_sources on the rule"},
		{"self not entity", head + "hash_sources: [{self: text}]", "5:23", `self takes entity (self: entity seeds each entity from its own text), not "text"`},
		{"unknown label", head + "hash_sources: [{label: NURSE}]", "5:24", `no matcher produces label "NURSE"; the labels are DOCTOR`},
		{"label list", head + "hash_sources: [{label: [DOCTOR]}]", "5:24", "label takes the name of a label"},
		{"unknown key", head + "hash_sources: [{column: doctor}]", "5:17", `unknown hash source "column"`},
		{"two keys", head + "hash_sources: [{self: entity, label: DOCTOR}]", "5:31", "a hash source has one key"},
		{"twice", head + "hash_sources: [{label: DOCTOR}, {label: DOCTOR}]", "5:34", "label: DOCTOR is listed twice"},
		{"on a label entry", "type: unstructured_text\npreset: contact\nmasks:\n  - {label: EMAIL, hash_sources: [{self: entity}], masks: [{type: do_nothing}]}", "4:20", "hash_sources"},
	})
}
