package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
)

// TestGeneratorRuleset runs the generator masks through a whole ruleset,
// from YAML to masked JSON bytes, as the daemon does.
func TestGeneratorRuleset(t *testing.T) {
	path := filepath.Join(genSeedDir, "customer.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rulesets.Parse("customer", path, src)
	if err != nil {
		t.Fatal(err)
	}
	rs.Dir = genSeedDir
	m, err := Compile(rs, Options{Now: genNow})
	if err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"customer": {"customer_id": "C-100234", "first_name": "Alice", "suburb": "Te Aro", "email": "alice@corp.test",
		"ird": "49-091-850", "session": "123e4567-e89b-42d3-a456-426614174000", "phone": "+64 21 555 0101", "tier": "gold",
		"flags": {"vip": true, "tags": ["a"]}, "born": "1980-07-14"},
		"order": {"total": 99.95, "gift": true, "bill_city": "Wellington", "ship_city": "Auckland", "note": "leave at door"}}`)
	out, err := m.MaskValue(nil, MustSecret(genSecret), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Customer map[string]any `json:"customer"`
		Order    map[string]any `json:"order"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	c, o := doc.Customer, doc.Order
	checks := []struct {
		name string
		v    any
		re   string
	}{
		{"customer_id", c["customer_id"], `^[A-Z]-[0-9]{6}$`},
		{"first_name", c["first_name"], `^[A-Z][a-z]+`},
		{"suburb", c["suburb"], `^(Thorndon|Kelburn|Avondale)$`},
		{"email", c["email"], `^[a-z]{8}\.[a-z]{6}@example\.com$`},
		{"ird", c["ird"], `^[0-9]{2}-[0-9]{3}-[0-9]{3}$`},
		{"session", c["session"], `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{"phone", c["phone"], `^\+[0-9]{2} [0-9]{2} [0-9]{3} [0-9]{4}$`},
		{"tier", c["tier"], `^(gold|silver|bronze)$`},
		{"born", c["born"], `^(19[5-9][0-9]|200[0-5])-[0-9]{2}-[0-9]{2}$`},
		{"ship_city", o["ship_city"], `^Wellington$`},
		{"note", o["note"], `^[a-z]{4,10}$`},
	}
	for _, ck := range checks {
		s, ok := ck.v.(string)
		if !ok || !regexp.MustCompile(ck.re).MatchString(s) {
			t.Errorf("%s = %#v, want a string like %s", ck.name, ck.v, ck.re)
		}
	}
	if c["customer_id"] == "C-100234" || c["phone"] == "+64 21 555 0101" || c["email"] == "alice@corp.test" {
		t.Errorf("a value came back unmasked: %s", out)
	}
	if f, ok := c["flags"].(map[string]any); !ok || f["vip"] != false {
		t.Errorf("flags = %#v, want the fixed object", c["flags"])
	}
	if total, ok := o["total"].(float64); !ok || total < 1 || total > 500 {
		t.Errorf("total = %#v, want a number in [1, 500]", o["total"])
	}
	if _, ok := o["gift"].(bool); !ok {
		t.Errorf("gift = %#v, want a boolean", o["gift"])
	}
	n, _ := strconv.Atoi(regexp.MustCompile(`-`).ReplaceAllString(c["ird"].(string), ""))
	if !irdValid(n) {
		t.Errorf("ird %v has a bad check digit", c["ird"])
	}
	again, err := m.MaskValue(nil, MustSecret(genSecret), in, nil)
	if err != nil || string(again) != string(out) {
		t.Errorf("the same record and secret masked differently:\n%s\n%s", out, again)
	}
}
