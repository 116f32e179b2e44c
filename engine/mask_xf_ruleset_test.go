package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/engine/textscan"
	"github.com/maskstream/maskstream/rulesets"
)

// These tests run the transform, date and identifier masks through a whole
// ruleset (parse, Compile, MaskValue), where hash_sources, drop and the
// JSON types meet the engine.

func xfCompileRuleset(t testing.TB, src string) *Masker {
	t.Helper()
	rs, err := rulesets.Parse("xf", "xf.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m, err := Compile(rs, Options{Now: xfNow})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return m
}

func TestTransformMasksInRuleset(t *testing.T) {
	m := xfCompileRuleset(t, `
version: "1.0"
rules:
  - paths: ["$.customer.signup", "$.orders[*].placed"]
    hash_sources: ["$.customer.id"]
    masks: [ { type: date_shift, min_days: -90, max_days: 90 } ]
  - path: "$.customer.card"
    masks: [ { type: credit_card } ]
  - path: "$.customer.internal_note"
    masks: [ { type: drop } ]
  - path: "$.customer.email"
    masks: [ { type: hash, length: 16, prefix: "h_" } ]
`)
	sec := MustSecret(xfSecret)
	rec := func(id, signup, placed string) []byte {
		return []byte(fmt.Sprintf(`{"customer":{"id":%q,"signup":%q,"card":4111111111111111,"internal_note":"vip","email":"a@b.c"},"orders":[{"placed":%q}]}`, id, signup, placed))
	}
	type doc struct {
		Customer map[string]any   `json:"customer"`
		Orders   []map[string]any `json:"orders"`
	}
	mask := func(b []byte) doc {
		out, err := m.MaskValue(nil, sec, b, nil)
		if err != nil {
			t.Fatalf("mask: %v", err)
		}
		var d doc
		dec := json.NewDecoder(strings.NewReader(string(out)))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		return d
	}
	a := mask(rec("c-1", "2020-01-10", "2020-03-05T09:00:00Z"))
	signup, _ := time.Parse("2006-01-02", a.Customer["signup"].(string))
	placed, _ := time.Parse(time.RFC3339, a.Orders[0]["placed"].(string))
	if d := placed.Sub(signup); d != time.Date(2020, 3, 5, 9, 0, 0, 0, time.UTC).Sub(time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the interval between one customer's dates changed to %v", d)
	}
	if signup.Equal(time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)) {
		t.Error("signup date not shifted")
	}
	if _, ok := a.Customer["internal_note"]; ok {
		t.Error("drop left the member in place")
	}
	if n, ok := a.Customer["card"].(json.Number); !ok || len(n) != 16 || !textscan.LuhnValid([]byte(n)) || n == "4111111111111111" {
		t.Errorf("card became %#v", a.Customer["card"])
	}
	if e := a.Customer["email"].(string); !strings.HasPrefix(e, "h_") || len(e) != 18 {
		t.Errorf("email became %q", e)
	}
	// The same customer in another record shifts by the same amount.
	b := mask(rec("c-1", "2021-06-01", "2021-06-01T00:00:00Z"))
	s2, _ := time.Parse("2006-01-02", b.Customer["signup"].(string))
	if s2.Sub(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)) != signup.Sub(time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)) {
		t.Error("one customer's dates shifted by different amounts in two records")
	}
}

func TestTransformMaskErrorsInRuleset(t *testing.T) {
	rs, err := rulesets.Parse("xf", "xf.yaml", []byte(`
version: "1.0"
rules:
  - path: "$.a"
    masks:
      - type: numeric_bucket
        buckets: [3, 1]
  - path: "$.b"
    masks:
      - { type: replace_regex, regex: "(", value: x }
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(rs, Options{Now: xfNow})
	if err == nil {
		t.Fatal("compiled")
	}
	msg := err.Error()
	for _, want := range []string{"xf.yaml:7:18: mask numeric_bucket: buckets must go up strictly", "xf.yaml:10:39: mask replace_regex: regex does not compile"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors %q lack %q", msg, want)
		}
	}
}

// Example_hashAndMaskCharacters shows two masks whose output depends only
// on the value and the run secret.
func Example_hashAndMaskCharacters() {
	rs, err := rulesets.Parse("example", "", []byte(`
version: "1.0"
rules:
  - path: "$.user_id"
    masks: [ { type: hash, length: 12, prefix: "u_" } ]
  - path: "$.card"
    masks: [ { type: mask_characters, keep_last: 4, skip_characters: " " } ]
  - path: "$.debug"
    masks: [ { type: drop } ]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sec := MustSecret("an example run secret, never a real one")
	out, err := m.MaskValue(nil, sec, []byte(`{"user_id": 1042, "card": "4111 1111 1111 1111", "debug": {"ip": "10.0.0.1"}}`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"user_id": "u_c46e9c3ae62f", "card": "**** **** **** 1111"}
}

// TestTransformDocsExamples compiles every YAML example of
// docs/masks-transforms.md (each a list of rules), so the reference cannot
// drift from the code.
func TestTransformDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/masks-transforms.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 18 {
		t.Fatalf("found %d examples; the page has more", len(blocks))
	}
	for i, b := range blocks {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			src := "version: \"1.0\"\nrules:\n" + string(b[1])
			rs, err := rulesets.Parse("doc", "masks-transforms.md", []byte(src))
			if err != nil {
				t.Fatalf("example %d does not parse: %v\n%s", i, err, b[1])
			}
			if _, err := Compile(rs, Options{Now: xfNow}); err != nil {
				t.Fatalf("example %d does not compile: %v\n%s", i, err, b[1])
			}
		})
	}
}
