package textscan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// layout replaces letters by 'a' and digits by '0', to compare shapes.
func layout(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case isDigit(c):
			b[i] = '0'
		case class[c]&cUpper != 0:
			b[i] = 'A'
		case class[c]&cLower != 0:
			b[i] = 'a'
		}
	}
	return string(b)
}

func TestFakeIsValidAndDifferent(t *testing.T) {
	tests := []struct {
		kind Kind
		orig string
		// sameLayout: the replacement has the original's shape (length,
		// separators, letters and digits in the same places).
		sameLayout bool
		// prefix the replacement keeps.
		prefix string
	}{
		{Email, "john.smith@corp.example.com", false, ""},
		{Phone, "+1 (415) 555-2671", true, "+1 (4"},
		{Phone, "+44 20 7946 0958", true, "+44 2"},
		{Phone, "+4915112345678", true, "+491"},
		{Phone, "415-555-2671", true, "4"},
		{Phone, "1-800-555-0199", true, "1-8"},
		{Phone, "020 7946 0958", true, "02"},
		{Phone, "(02) 9876 5432", true, "(02"},
		{CreditCard, "4111 1111 1111 1111", true, "41"},
		{CreditCard, "3782 822463 10005", true, "37"},
		{CreditCard, "5555-5555-5555-4444", true, "55"},
		{CreditCard, "6304000000000000000", true, "63"},
		{SSN, "123-45-6789", true, ""},
		{IBAN, "GB82 WEST 1234 5698 7654 32", true, "GB"},
		{IBAN, "DE89370400440532013000", true, "DE"},
		{IBAN, "MT84MALT011000012345MTLCAST001S", true, "MT"},
		{IPv4, "192.168.0.1", false, "192.168."},
		{IPv4, "10.1.2.3", false, "10."},
		{IPv4, "172.20.1.1", false, "172."},
		{IPv4, "8.8.8.8", false, "198.1"},
		{IPv6, "fe80::1ff:fe23:4567:890a", false, "2001:db8:"},
		{IPv6, "::1", false, "2001:db8:"},
		{JWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", false, "eyJ"},
		{APIKey, "AKIAIOSFODNN7EXAMPLE", true, "AKIA"},
		{APIKey, "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", true, "ghp_"},
		{APIKey, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", true, "xoxb-"},
		{APIKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc", true, "sk_live_"},
		{APIKey, "AIzaSyD-1234567890abcdefghijklmnopqrstu", true, "AIza"},
		{APIKey, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV", true, "github_pat_"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.orig, func(t *testing.T) {
			if !Valid(tt.kind, tt.orig) {
				t.Fatalf("the original %q is not a valid %s", tt.orig, tt.kind)
			}
			seen := map[string]bool{}
			for seed := range uint64(200) {
				src := rand.NewPCG(seed, 7)
				out := string(Fake(nil, tt.kind, tt.orig, src))
				if !Valid(tt.kind, out) {
					t.Fatalf("seed %d: Fake(%q) = %q, which is not a valid %s", seed, tt.orig, out, tt.kind)
				}
				if out == tt.orig {
					t.Fatalf("seed %d: Fake returned the original", seed)
				}
				if tt.sameLayout && layout(out) != layout(tt.orig) {
					t.Fatalf("seed %d: Fake(%q) = %q, layout %q differs from %q", seed, tt.orig, out, layout(out), layout(tt.orig))
				}
				if !strings.HasPrefix(out, tt.prefix) {
					t.Fatalf("seed %d: Fake(%q) = %q, want prefix %q", seed, tt.orig, out, tt.prefix)
				}
				seen[out] = true
			}
			if len(seen) < 50 {
				t.Errorf("only %d distinct replacements in 200 seeds", len(seen))
			}
		})
	}
}

func TestFakeBearerToken(t *testing.T) {
	orig := "0a1b2c3d4e5f6a7b8c9d"
	out := string(Fake(nil, APIKey, orig, rand.NewPCG(1, 2)))
	if got := found("Bearer "+out, SetOf(APIKey)); len(got) != 1 || got[0] != out {
		t.Errorf("Bearer %s: found %q", out, got)
	}
	if layout(out) != layout(orig) || out == orig {
		t.Errorf("Fake(%q) = %q", orig, out)
	}
}

func TestFakeDeterministic(t *testing.T) {
	for _, k := range Kinds() {
		a := Fake(nil, k, "4111 1111 1111 1111", rand.NewPCG(5, 5))
		b := Fake(nil, k, "4111 1111 1111 1111", rand.NewPCG(5, 5))
		if string(a) != string(b) {
			t.Errorf("%s: the same source gave %q and %q", k, a, b)
		}
	}
}

func TestFakeAppends(t *testing.T) {
	dst := []byte("card: ")
	out := Fake(dst, CreditCard, "4111111111111111", rand.NewPCG(1, 1))
	if !strings.HasPrefix(string(out), "card: ") || !Valid(CreditCard, string(out[6:])) {
		t.Errorf("Fake appended %q", out)
	}
}

func TestAppendCanonical(t *testing.T) {
	tests := []struct {
		kind   Kind
		a, b   string
		differ string
	}{
		{Phone, "+1 (415) 555-2671", "+1-415-555-2671", "+1 415 555 2672"},
		{CreditCard, "4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444"},
		{IBAN, "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "DE89370400440532013000"},
		{Email, "John.Smith@Example.com", "john.smith@example.com", "john.smyth@example.com"},
		{IPv6, "2001:db8::1", "2001:0DB8:0:0:0:0:0:1", "2001:db8::2"},
		{SSN, "123-45-6789", "123-45-6789", "123-45-6780"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			a, b := string(AppendCanonical(nil, tt.kind, tt.a)), string(AppendCanonical(nil, tt.kind, tt.b))
			if a != b {
				t.Errorf("%q and %q differ: %q vs %q", tt.a, tt.b, a, b)
			}
			if d := string(AppendCanonical(nil, tt.kind, tt.differ)); d == a {
				t.Errorf("%q and %q have the same canonical form %q", tt.a, tt.differ, d)
			}
		})
	}
}
