package testenv

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestGenDeterministic(t *testing.T) {
	a, b := NewGen(42), NewGen(42)
	for range 50 {
		if x, y := a.Order(), b.Order(); !bytes.Equal(x, y) {
			t.Fatalf("same seed, different orders:\n%s\n%s", x, y)
		}
		if x, y := a.Customer(), b.Customer(); !bytes.Equal(x, y) {
			t.Fatalf("same seed, different customers")
		}
	}
	if bytes.Equal(NewGen(1).Order(), NewGen(2).Order()) {
		t.Error("different seeds gave the same order")
	}
}

func TestOrderShape(t *testing.T) {
	g := NewGen(7)
	total := 0
	for range 1000 {
		rec := g.Order()
		total += len(rec)
		var o struct {
			OrderID  string `json:"order_id"`
			Customer struct {
				CustomerID, FirstName, LastName, Email, DateOfBirth, Phone string
			} `json:"customer"`
			Items []struct {
				SKU   string  `json:"sku"`
				Name  string  `json:"name"`
				Qty   int     `json:"qty"`
				Price float64 `json:"price"`
			} `json:"items"`
			Payment struct {
				CardNumber string `json:"card_number"`
				Expiry     string `json:"expiry"`
				CVV        string `json:"cvv"`
			} `json:"payment"`
			Note string `json:"note"`
		}
		if err := json.Unmarshal(rec, &o); err != nil {
			t.Fatalf("invalid order JSON: %v\n%s", err, rec)
		}
		if o.OrderID == "" || len(o.Items) == 0 || len(o.Items) > 3 || o.Payment.CVV == "" {
			t.Fatalf("incomplete order: %s", rec)
		}
		if !LuhnValid(o.Payment.CardNumber) {
			t.Fatalf("card %s fails Luhn", o.Payment.CardNumber)
		}
	}
	if avg := total / 1000; avg < 600 || avg > 850 {
		t.Errorf("average order is %d bytes, want about 700", avg)
	}
}

func TestCustomerShape(t *testing.T) {
	g := NewGen(3)
	for range 500 {
		rec := g.Customer()
		var c map[string]any
		if err := json.Unmarshal(rec, &c); err != nil {
			t.Fatalf("invalid customer JSON: %v\n%s", err, rec)
		}
		for _, k := range []string{"customer_id", "first_name", "last_name", "email", "date_of_birth", "account_balance", "account_status", "phone", "address"} {
			if _, ok := c[k]; !ok {
				t.Fatalf("customer lacks %s: %s", k, rec)
			}
		}
		if _, ok := c["account_balance"].(float64); !ok {
			t.Fatalf("account_balance is not a number: %s", rec)
		}
	}
}

func TestLuhn(t *testing.T) {
	for _, tt := range []struct {
		s  string
		ok bool
	}{{"4111111111111111", true}, {"4111 1111 1111 1111", true}, {"4111111111111112", false}, {"378282246310005", true}, {"12", false}} {
		if LuhnValid(tt.s) != tt.ok {
			t.Errorf("LuhnValid(%s) != %v", tt.s, tt.ok)
		}
	}
}
