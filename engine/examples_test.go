package engine

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/testenv"
)

// TestExamples loads every example ruleset and masks generated records with
// it: the examples must compile with this build and mask what their
// comments say.
func TestExamples(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	t.Run("customer-record", func(t *testing.T) {
		m := loadExample(t, "customer-record.yaml")
		if m.NumRules() < 7 {
			t.Errorf("%d rules", m.NumRules())
		}
		for i, in := range testenv.Customers(5, n) {
			out, err := m.MaskValue(nil, testSecret, in, nil)
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if !json.Valid(out) {
				t.Fatalf("record %d: invalid output %s", i, out)
			}
		}
	})
	t.Run("orders", func(t *testing.T) {
		m := loadExample(t, "orders.yaml")
		if m.NumRules() < 12 {
			t.Errorf("orders.yaml has %d rules, want 12 or more", m.NumRules())
		}
		counts := make([]uint32, m.NumRules())
		namesKept := 0
		emailRE := regexp.MustCompile(`[a-z0-9._]+@[a-z.]+`)
		for i, in := range testenv.Orders(6, n) {
			out, err := m.MaskValue(nil, testSecret, in, &CallOptions{Counts: counts})
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			var o, g map[string]any
			if err := json.Unmarshal(in, &o); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &g); err != nil {
				t.Fatalf("record %d: invalid output: %v\n%s", i, err, out)
			}
			oc, gc := o["customer"].(map[string]any), g["customer"].(map[string]any)
			for _, f := range []string{"customer_id", "email", "phone", "date_of_birth"} {
				if oc[f] == gc[f] {
					t.Fatalf("record %d: customer.%s not masked", i, f)
				}
			}
			// The names are drawn by customer_id alone, so the shipping
			// name, drawn by the same masks, is the customer's fake name
			// whatever the original names were: a draw that happens to
			// be an original is kept everywhere, never redrawn in one
			// place only (which would single it out).
			name := gc["first_name"].(string) + " " + gc["last_name"].(string)
			if ship := g["shipping"].(map[string]any)["name"]; ship != name {
				t.Fatalf("record %d: shipping.name %q is not the customer's masked name %q", i, ship, name)
			}
			for _, f := range []string{"first_name", "last_name"} {
				if oc[f] == gc[f] {
					namesKept++
				}
			}
			op, gp := o["payment"].(map[string]any), g["payment"].(map[string]any)
			card := gp["card_number"].(string)
			if card == op["card_number"] || !testenv.LuhnValid(card) || len(card) != len(op["card_number"].(string)) {
				t.Fatalf("record %d: card %q not masked into a valid card of the same length", i, card)
			}
			if g["ip"] == o["ip"] || g["order_id"] == o["order_id"] {
				t.Fatalf("record %d: ip or order_id not masked", i)
			}
			note := g["note"].(string)
			for _, secret := range []string{oc["email"].(string), oc["phone"].(string), op["card_number"].(string)} {
				if strings.Contains(note, secret) {
					t.Fatalf("record %d: the note still holds an original email, phone or card:\n%s", i, note)
				}
			}
			if strings.Contains(o["note"].(string), "@") && !emailRE.MatchString(note) {
				t.Errorf("record %d: the note's email was not replaced by an email: %s", i, note)
			}
			if !bytes.Equal(mustJSON(o["items"]), mustJSON(g["items"])) || o["status"] != g["status"] || o["created_at"] != g["created_at"] {
				t.Fatalf("record %d: kept fields changed", i)
			}
		}
		for r, c := range counts {
			if c == 0 {
				t.Errorf("rule %s masked nothing in %d records", m.RuleNames()[r], n)
			}
		}
		if namesKept > n/50 {
			t.Errorf("%d of %d customer names drew their original: more than chance", namesKept, 2*n)
		}
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
