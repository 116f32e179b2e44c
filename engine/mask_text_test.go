package engine

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/engine/textscan"
	"github.com/maskstream/maskstream/rulesets"
)

// Setup of the unstructured_text and xml tests: seed files are read from
// testdata/text (and the built-in ones); the helpers are maskKit's.

const (
	txtSecret      = "txt-test-secret-0123456789abcdef"
	txtOtherSecret = "txt-other-secret-fedcba9876543210"
)

var txtKit = maskKit{
	secret:  txtSecret,
	other:   txtOtherSecret,
	now:     time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC),
	seedDir: "testdata/text",
}

// txtMust applies a mask to a string that must succeed and returns the
// string.
func txtMust(t testing.TB, pl Pipeline, in string) string {
	t.Helper()
	out := txtKit.must(t, pl, Str(in))
	if out.Kind != String {
		t.Fatalf("apply returned a %s, want a string", out.Kind)
	}
	return out.S
}

// txtNote holds one entity of every built-in kind between fixed text.
const txtNote = "Customer Jane <jane.doe@corp.example.com> called from +44 20 7946 0958 (alt 415-555-2671). " +
	"Paid with 4111 1111 1111 1111, SSN 123-45-6789, refund to GB82 WEST 1234 5698 7654 32. " +
	"Seen at 203.0.113.7 and 2001:db8::8a2e:370:7334. Token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlMTIz " +
	"and key AKIAIOSFODNN7EXAMPLE; header Authorization: Bearer 0a1b2c3d4e5f6a7b8c9d. Order 482913 on 2024-03-11."

func TestUnstructuredTextPresetPII(t *testing.T) {
	pl := txtKit.testMask(t, "{type: unstructured_text, preset: pii}")
	out := txtMust(t, pl, txtNote)

	in := textscan.Find(txtNote, textscan.All, nil)
	got := textscan.Find(out, textscan.All, nil)
	if len(in) != 11 {
		t.Fatalf("the note holds %d entities, the test expects 11: %v", len(in), in)
	}
	if len(got) != len(in) {
		t.Fatalf("the output holds %d entities, want %d\nout: %s", len(got), len(in), out)
	}
	inLast, outLast := 0, 0
	for i := range in {
		// Text between entities is unchanged, byte for byte.
		if a, b := txtNote[inLast:in[i].Start], out[outLast:got[i].Start]; a != b {
			t.Errorf("text before entity %d changed: %q → %q", i, a, b)
		}
		// Each replacement is a valid entity of the same kind.
		if got[i].Kind != in[i].Kind {
			t.Errorf("entity %d: %s replaced by a %s", i, in[i].Kind, got[i].Kind)
		}
		orig, rep := txtNote[in[i].Start:in[i].End], out[got[i].Start:got[i].End]
		if orig == rep {
			t.Errorf("entity %d (%s) was not replaced", i, in[i].Kind)
		}
		// Irreversibility: no original entity survives anywhere.
		if strings.Contains(out, orig) {
			t.Errorf("the output still holds the original %s %q", in[i].Kind, orig)
		}
		inLast, outLast = in[i].End, got[i].End
	}
	if a, b := txtNote[inLast:], out[outLast:]; a != b {
		t.Errorf("text after the last entity changed: %q → %q", a, b)
	}
}

func TestUnstructuredTextKeepsPlainText(t *testing.T) {
	pl := txtKit.testMask(t, "{type: unstructured_text, preset: pii}")
	for _, in := range []string{"", "nothing to see", "order 482913 on 2024-03-11 v2.10.3", "ünïcödé “quotes” 日本語"} {
		if out := txtMust(t, pl, in); out != in {
			t.Errorf("%q changed to %q", in, out)
		}
	}
}

func TestUnstructuredTextDeterminism(t *testing.T) {
	pl := txtKit.testMask(t, "{type: unstructured_text, preset: pii}")
	note := "mail jane.doe@corp.example.com, card 4111 1111 1111 1111"
	a := txtMust(t, pl, note)
	if b := txtMust(t, pl, note); a != b {
		t.Errorf("same secret, same note: %q then %q", a, b)
	}
	other, err := txtKit.run(pl, txtOtherSecret, Str(note), nil)
	if err != nil {
		t.Fatal(err)
	}
	if other.S == a {
		t.Errorf("another secret gave the same output %q", a)
	}

	// The same entity masks the same way in different notes, in other
	// spellings of it, and under another unstructured_text mask.
	email := func(s string) string {
		for _, m := range textscan.Find(s, textscan.SetOf(textscan.Email), nil) {
			return s[m.Start:m.End]
		}
		t.Fatalf("no email in %q", s)
		return ""
	}
	e1 := email(txtMust(t, pl, "first note: jane.doe@corp.example.com"))
	e2 := email(txtMust(t, pl, "Second, longer note (Jane.Doe@Corp.Example.com) with other words"))
	pl2 := txtKit.testMask(t, "{type: unstructured_text, preset: contact}")
	e3 := email(txtMust(t, pl2, "jane.doe@corp.example.com"))
	if e1 != e2 || e1 != e3 {
		t.Errorf("one email masked three ways: %q, %q, %q", e1, e2, e3)
	}
	// Two spellings of one phone number get the same digits.
	p1 := txtMust(t, pl, "+1 (415) 555-2671")
	p2 := txtMust(t, pl, "+1-415-555-2671")
	if d1, d2 := textscan.AppendCanonical(nil, textscan.Phone, p1), textscan.AppendCanonical(nil, textscan.Phone, p2); string(d1) != string(d2) || !strings.HasPrefix(p1, "+1 (4") {
		t.Errorf("one phone number masked two ways: %q, %q", p1, p2)
	}
	e4 := email(txtMust(t, pl, "john.roe@corp.example.com"))
	if e4 == e1 {
		t.Errorf("two emails got the same replacement %q", e1)
	}

	// A rule's hash input keys the replacements, and different entities
	// under one hash input still differ.
	h1, _ := txtKit.run(pl, txtSecret, Str("a@example.com b@example.com"), []byte("customer-1"))
	h2, _ := txtKit.run(pl, txtSecret, Str("a@example.com b@example.com"), []byte("customer-2"))
	if h1.S == h2.S {
		t.Errorf("two hash inputs gave the same output %q", h1.S)
	}
	ms := textscan.Find(h1.S, textscan.All, nil)
	if len(ms) != 2 || h1.S[ms[0].Start:ms[0].End] == h1.S[ms[1].Start:ms[1].End] {
		t.Errorf("two emails under one hash input: %q", h1.S)
	}
}

func TestUnstructuredTextPresets(t *testing.T) {
	tests := []struct {
		preset string
		kinds  textscan.Set
	}{
		{"contact", textscan.SetOf(textscan.Email, textscan.Phone)},
		{"financial", textscan.SetOf(textscan.CreditCard, textscan.IBAN)},
		{"government_id", textscan.SetOf(textscan.SSN)},
		{"network", textscan.SetOf(textscan.IPv4, textscan.IPv6)},
		{"credentials", textscan.SetOf(textscan.JWT, textscan.APIKey)},
		{"[contact, network]", textscan.SetOf(textscan.Email, textscan.Phone, textscan.IPv4, textscan.IPv6)},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			pl := txtKit.testMask(t, "{type: unstructured_text, preset: "+tt.preset+"}")
			out := txtMust(t, pl, txtNote)
			for _, m := range textscan.Find(txtNote, textscan.All, nil) {
				kept := strings.Contains(out, txtNote[m.Start:m.End])
				if tt.kinds.Has(m.Kind) == kept {
					t.Errorf("%s %q: kept=%v", m.Kind, txtNote[m.Start:m.End], kept)
				}
			}
		})
	}
}

func TestUnstructuredTextMatchers(t *testing.T) {
	tests := []struct {
		name, src, in, want string
	}{
		{"regex with label masks", `
type: unstructured_text
matchers:
  regex:
    - {label: PATIENT_ID, pattern: 'P_\d{3}'}
masks:
  - {label: PATIENT_ID, masks: [{type: from_fixed, value: "[ID]"}]}`,
			"P_001 saw P_002, not P_1", "[ID] saw [ID], not P_1"},
		{"regex capture group by number", `
type: unstructured_text
matchers:
  regex: [{label: ACCOUNT, pattern: 'acct=(\d+)', group: 1, masks: [{type: from_fixed, value: "0"}]}]`,
			"acct=12345 x acct=9", "acct=0 x acct=0"},
		{"regex capture group by name", `
type: unstructured_text
matchers:
  regex: [{label: ACCOUNT, pattern: 'acct=(?P<n>\d+)', group: n, masks: [{type: transform_case, case: uppercase}]}]`,
			"acct=12345", "acct=12345"},
		{"list spelling", `
type: unstructured_text
matchers:
  - {type: regex, label: CODE, pattern: 'code-[a-z]+'}
masks:
  - {label: CODE, masks: [{type: transform_case, case: uppercase}]}`,
			"see code-abc.", "see CODE-ABC."},
		{"fallback masks", `
type: unstructured_text
matchers:
  regex: [{label: CODE, pattern: 'code-[a-z]+'}]
fallback_masks: [{type: from_fixed, value: "<x>"}]`,
			"code-a code-b", "<x> <x>"},
		{"seed file, case-insensitive whole words", `
type: unstructured_text
matchers:
  seed_files: [{label: MEDICATION, seed_file: medications.csv, seed_column: medication_names}]
masks:
  - {label: MEDICATION, masks: [{type: from_fixed, value: "[MED]"}]}`,
			"Prescribed aspirin, MORPHINE and Aspirinol; Ibuprofen Forte daily (ibuprofen). Zoë tabs!",
			"Prescribed [MED], [MED] and Aspirinol; [MED] daily ([MED]). [MED]!"},
		{"seed file, case-sensitive", `
type: unstructured_text
matchers:
  seed_files: [{label: MEDICATION, seed_file: medications.csv, seed_column: medication_names, case_sensitive: true}]
masks:
  - {label: MEDICATION, masks: [{type: from_fixed, value: "[MED]"}]}`,
			"aspirin Aspirin MORPHINE Morphine", "aspirin [MED] MORPHINE [MED]"},
		{"built-in seed file", `
type: unstructured_text
matchers:
  seed_files: [{label: FIRST_NAME, seed_file: DataMasque_firstNames_mixed.csv, seed_column: firstname-mixed, case_sensitive: true}]
masks:
  - {label: FIRST_NAME, masks: [{type: from_fixed, value: "NAME"}]}`,
			"Patient Aaron arrived", "Patient NAME arrived"},
		{"entities under own label with masks", `
type: unstructured_text
matchers:
  entities: [{label: WORK_EMAIL, kind: email}]
masks:
  - {label: WORK_EMAIL, masks: [{type: from_fixed, value: "x@example.com"}]}`,
			"to a@corp.com, 415-555-2671", "to x@example.com, 415-555-2671"},
		{"preset label masks override the look-alike", `
type: unstructured_text
preset: pii
masks:
  - {label: SSN, masks: [{type: from_fixed, value: "XXX-XX-XXXX"}]}`,
			"ssn 123-45-6789", "ssn XXX-XX-XXXX"},
		{"entity overrides preset label", `
type: unstructured_text
preset: contact
matchers:
  entities: [{label: WORK_EMAIL, kind: email, masks: [{type: from_fixed, value: "e"}]}]`,
			"a@corp.com", "e"},
		{"checksum luhn", `
type: unstructured_text
matchers:
  checksum: [{label: CARD, type: luhn}]
masks:
  - {label: CARD, masks: [{type: from_fixed, value: "[CARD]"}]}`,
			"4111 1111 1111 1111 / 4111 1111 1111 1112", "[CARD] / 4111 1111 1111 1112"},
		{"list spelling of checksum", `
type: unstructured_text
matchers:
  - {type: checksum, label: CARD, checksum_type: luhn}
masks:
  - {label: CARD, masks: [{type: from_fixed, value: "[CARD]"}]}`,
			"paid 4111 1111 1111 1111, not 4111 1111 1111 1112", "paid [CARD], not 4111 1111 1111 1112"},
		{"overlap: earliest start, then longest", `
type: unstructured_text
preset: contact
matchers:
  regex: [{label: DOMAIN, pattern: 'corp\.com'}, {label: MAILBOX, pattern: 'jane'}]
  seed_files: [{label: MEDICATION, seed_file: medications.csv, seed_column: medication_names}]
masks:
  - {label: EMAIL, masks: [{type: from_fixed, value: "<email>"}]}
  - {label: DOMAIN, masks: [{type: from_fixed, value: "<domain>"}]}
  - {label: MAILBOX, masks: [{type: from_fixed, value: "<mailbox>"}]}
  - {label: MEDICATION, masks: [{type: from_fixed, value: "<med>"}]}`,
			"jane@corp.com; corp.com; jane aspirin@corp.com", "<email>; <domain>; <mailbox> <email>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := txtKit.testMask(t, tt.src)
			if got := txtMust(t, pl, tt.in); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestUnstructuredTextLabelOfTwoKinds checks that entities of two kinds
// under one label each get a look-alike of their own kind.
func TestUnstructuredTextLabelOfTwoKinds(t *testing.T) {
	pl := txtKit.testMask(t, `
type: unstructured_text
matchers:
  entities: [{kind: email, label: CONTACT}, {kind: ssn, label: CONTACT}]`)
	in := "a@corp.com 123-45-6789"
	got := txtMust(t, pl, in)
	ms := textscan.Find(got, textscan.All, nil)
	if len(ms) != 2 || ms[0].Kind != textscan.Email || ms[1].Kind != textscan.SSN || got == in {
		t.Errorf("got %q, want an email and an SSN", got)
	}
}

func TestUnstructuredTextSubMaskSeeding(t *testing.T) {
	// Equal matches get equal replacements through the label's masks.
	pl := txtKit.testMask(t, `
type: unstructured_text
matchers:
  regex: [{label: CODE, pattern: 'C\d+'}]
masks:
  - {label: CODE, masks: [{type: hash, length: 8}]}`)
	out := txtMust(t, pl, "C1 C2 C1")
	parts := strings.Fields(out)
	if len(parts) != 3 || parts[0] != parts[2] || parts[0] == parts[1] {
		t.Errorf("got %q, want equal replacements for equal matches only", out)
	}
}

func TestUnstructuredTextErrors(t *testing.T) {
	pl := txtKit.testMask(t, "{type: unstructured_text, preset: pii}")
	for _, v := range []Value{Int(4111111111111111), Boolean(true), NullValue, {Kind: Object, Raw: []byte(`{"a":1}`)}} {
		_, err := txtKit.run(pl, txtSecret, v, nil)
		if err == nil || !strings.Contains(err.Error(), "takes a string, got "+v.Kind.String()) {
			t.Errorf("%s: error %v, want one naming the type", v.Kind, err)
		}
	}
	// A label mask that returns something other than text.
	bad := txtKit.testMask(t, `
type: unstructured_text
matchers:
  regex: [{label: CODE, pattern: 'C\d+', masks: [{type: from_fixed, value: {a: 1}}]}]`)
	if _, err := txtKit.run(bad, txtSecret, Str("C1"), nil); err == nil || !strings.Contains(err.Error(), "label CODE") {
		t.Errorf("error %v, want one naming label CODE", err)
	}
}

func TestUnstructuredTextBadParams(t *testing.T) {
	txtKit.checkBad(t, []maskBadCase{
		{"nothing to match", "type: unstructured_text", "1:1", "give preset: pii"},
		{"unknown preset", "type: unstructured_text\npreset: everything", "2:9", `unknown preset "everything"`},
		{"preset mapping", "type: unstructured_text\npreset: {a: 1}", "2:9", "preset is a name"},
		{"unknown key", "type: unstructured_text\npreset: pii\npresets: pii", "3:1", "presets"},
		{"matchers scalar", "type: unstructured_text\nmatchers: regex", "2:11", "matchers is a mapping"},
		{"unknown matcher type", "type: unstructured_text\nmatchers:\n  regexes: []", "3:3", "regexes"},
		{"ai_detect", "type: unstructured_text\nmatchers:\n  ai_detect: [{label: NAME}]", "3:3", "ai_detect"},
		{"context_sources", "type: unstructured_text\nmatchers:\n  context_sources: [{label: NAME, column: first_name}]", "3:20", "context_sources"},
		{"context_filters", "type: unstructured_text\nmatchers:\n  regex: [{label: A, pattern: a, context_filters: [x], masks: [{type: do_nothing}]}]", "3:51", "context_filters are not supported"},
		{"regex without label", "type: unstructured_text\nmatchers:\n  regex: [{pattern: a}]\nfallback_masks: [{type: do_nothing}]", "3:11", "needs a label"},
		{"lowercase label", "type: unstructured_text\nmatchers:\n  regex: [{label: patient, pattern: a}]\nfallback_masks: [{type: do_nothing}]", "3:11", "UPPER_CASE"},
		{"regex without pattern", "type: unstructured_text\nmatchers:\n  regex: [{label: A}]\nfallback_masks: [{type: do_nothing}]", "3:11", `missing required key "pattern"`},
		{"bad regex", "type: unstructured_text\nmatchers:\n  regex: [{label: A, pattern: 'a(b'}]\nfallback_masks: [{type: do_nothing}]", "3:11", "does not compile"},
		{"missing group", "type: unstructured_text\nmatchers:\n  regex: [{label: A, pattern: 'a(b)', group: 2}]\nfallback_masks: [{type: do_nothing}]", "3:11", "group 2 does not exist"},
		{"missing named group", "type: unstructured_text\nmatchers:\n  regex: [{label: A, pattern: 'a(b)', group: x}]\nfallback_masks: [{type: do_nothing}]", "3:11", `no group named "x"`},
		{"label without masks", "type: unstructured_text\nmatchers:\n  regex: [{label: A, pattern: a}]", "3:11", "label A has no masks"},
		{"masks for unknown label", "type: unstructured_text\npreset: contact\nmasks:\n  - {label: SSN, masks: [{type: do_nothing}]}", "4:25", `no matcher produces label "SSN"`},
		{"masks twice", "type: unstructured_text\npreset: contact\nmasks:\n  - {label: EMAIL, masks: [{type: do_nothing}]}\n  - {label: EMAIL, masks: [{type: do_nothing}]}", "5:27", "already has masks"},
		{"empty masks", "type: unstructured_text\npreset: contact\nmasks:\n  - {label: EMAIL, masks: []}", "4:27", "non-empty list of masks"},
		{"bad nested mask", "type: unstructured_text\npreset: contact\nmasks:\n  - {label: EMAIL, masks: [{type: no_such_mask}]}", "4:28", "unknown mask type"},
		{"unknown entity kind", "type: unstructured_text\nmatchers:\n  entities: [{kind: passport}]", "3:14", `unknown kind "passport"`},
		{"kind twice", "type: unstructured_text\nmatchers:\n  entities: [{kind: email, label: A}, {kind: email, label: B}]", "3:39", "already matched under label A"},
		{"unsupported checksum", "type: unstructured_text\nmatchers:\n  checksum: [{label: A, type: verhoeff}]", "3:14", `unsupported checksum type "verhoeff"`},
		{"unknown seed file", "type: unstructured_text\nmatchers:\n  seed_files: [{label: A, seed_file: nope.csv, seed_column: x}]\nfallback_masks: [{type: do_nothing}]", "3:16", "nope.csv"},
		{"unknown seed column", "type: unstructured_text\nmatchers:\n  seed_files: [{label: A, seed_file: medications.csv, seed_column: nope}]\nfallback_masks: [{type: do_nothing}]", "3:16", "no column"},
		{"unusable seed column", "type: unstructured_text\nmatchers:\n  seed_files: [{label: A, seed_file: unusable.csv, seed_column: name}]\nfallback_masks: [{type: do_nothing}]", "3:16", "no value of two characters"},
		{"list checksum without checksum_type", "type: unstructured_text\nmatchers:\n  - {type: checksum, label: A}", "3:5", "checksum_type"},
		{"list checksum, unsupported", "type: unstructured_text\nmatchers:\n  - {type: checksum, label: A, checksum_type: verhoeff}", "3:5", `unsupported checksum type "verhoeff"`},
		{"list entry without type", "type: unstructured_text\nmatchers:\n  - {label: A, pattern: a}", "3:5", "needs a type"},
	})
}

// TestUnstructuredTextFactoryRejectsAIDetect checks the factory itself,
// for a ruleset that reached it without the parser's check.
func TestUnstructuredTextFactoryRejectsAIDetect(t *testing.T) {
	var doc yaml.Node
	src := "type: unstructured_text\nmatchers:\n  ai_detect:\n    - label: NAME\n      annotation_config: {use_preset: FULL_NAME}\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	p := &Params{Mask: rulesets.Mask{Type: "unstructured_text", Node: n, Pos: rulesets.Pos{File: "test.yaml", Line: 1, Col: 1}, File: "test.yaml"}, c: txtKit.compiler()}
	_, err := registry["unstructured_text"](p)
	if err == nil || !strings.Contains(err.Error(), "ai_detect matcher cannot run here") || !strings.Contains(err.Error(), "test.yaml:4:") {
		t.Errorf("error %v, want the ai_detect refusal at its position", err)
	}
}

func TestTxtSeedIndex(t *testing.T) {
	x := newTxtSeedIndex([]string{"Ann", "Mary Ann", "O'Brien", "a", " Zoë ", "-dash"}, false)
	if x.count != 4 {
		t.Fatalf("indexed %d values, want 4 (one-letter and non-word-edged values left out)", x.count)
	}
	text := "ann, Mary Ann and O'BRIEN met Annual Zoë; mary ann's cat, ZOË"
	var got []string
	for _, s := range x.find(text, nil, 0, 0) {
		got = append(got, text[s.start:s.end])
	}
	want := []string{"ann", "Mary Ann", "O'BRIEN", "Zoë", "mary ann", "ZOË"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("found %q, want %q", got, want)
	}
}

func BenchmarkUnstructuredText(b *testing.B) {
	pl := txtKit.testMask(b, "{type: unstructured_text, preset: pii}")
	c := &Ctx{sec: MustSecret(txtSecret)}
	clean := Str(strings.Repeat("Customer called about the delayed order 482913; agreed a partial refund. ", 20))
	note := Str(txtNote)
	for _, bc := range []struct {
		name string
		v    Value
	}{{"clean", clean}, {"note", note}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.v.S)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Run(pl, bc.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTextMasksInRuleset runs both masks through a whole ruleset: parse,
// compile, mask a JSON record.
func TestTextMasksInRuleset(t *testing.T) {
	src := `version: "1.0"
rules:
  - path: "$.note"
    masks: [ {type: unstructured_text, preset: pii} ]
  - path: "$.payload"
    masks:
      - type: xml
        transforms:
          - {path: //email, masks: [{type: unstructured_text, preset: contact}]}
`
	rs, err := rulesets.Parse("text", "", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"id":7,"note":"card 4111 1111 1111 1111, mail jane@corp.com","payload":"<a><email>jane@corp.com</email></a>"}`
	out, err := m.MaskValue(nil, MustSecret(txtSecret), []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "4111 1111 1111 1111") || strings.Contains(s, "jane@corp.com") || !strings.HasPrefix(s, `{"id":7,"note":"card `) {
		t.Fatalf("got %s", s)
	}
	// The same email in the note and in the XML masks the same way.
	ms := textscan.Find(s, textscan.SetOf(textscan.Email), nil)
	if len(ms) != 2 || s[ms[0].Start:ms[0].End] != s[ms[1].Start:ms[1].End] {
		t.Errorf("the email masked two ways: %s", s)
	}

	// ai_detect is refused when the ruleset is parsed.
	bad := `version: "1.0"
rules:
  - path: "$.note"
    masks: [ {type: unstructured_text, matchers: {ai_detect: [{label: NAME}]}} ]
`
	if _, err := rulesets.Parse("bad", "", []byte(bad)); err == nil || !strings.Contains(err.Error(), "ai_detect") {
		t.Errorf("parse error %v, want the ai_detect refusal", err)
	}
}
