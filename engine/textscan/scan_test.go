package textscan

import (
	"slices"
	"strings"
	"testing"
)

// found returns the texts of the matches of kinds in s.
func found(s string, kinds Set) []string {
	var out []string
	for _, m := range Find(s, kinds, nil) {
		out = append(out, s[m.Start:m.End])
	}
	return out
}

func TestFindTruePositives(t *testing.T) {
	tests := []struct {
		kind Kind
		text string
		want []string
	}{
		{Email, "mail john.smith@example.com now", []string{"john.smith@example.com"}},
		{Email, "<a+tag@sub.example.co.uk>", []string{"a+tag@sub.example.co.uk"}},
		{Email, "x_y-z%1@mail-host.io, B.Jones@Example.ORG.", []string{"x_y-z%1@mail-host.io", "B.Jones@Example.ORG"}},
		{Email, "mailto:ops@corp.example.net?subject=x", []string{"ops@corp.example.net"}},
		{Email, "“quoted@example.com”", []string{"quoted@example.com"}},
		{Phone, "call +1 415 555 2671 today", []string{"+1 415 555 2671"}},
		{Phone, "+14155552671", []string{"+14155552671"}},
		{Phone, "UK +44 20 7946 0958 or +44 (0)20 7946 0958", []string{"+44 20 7946 0958", "+44 (0)20 7946 0958"}},
		{Phone, "NZ +64-21-123-4567", []string{"+64-21-123-4567"}},
		{Phone, "+1 (415) 555-2671", []string{"+1 (415) 555-2671"}},
		{Phone, "(415) 555-2671, 415-555-2671; 415.555.2671", []string{"(415) 555-2671", "415-555-2671", "415.555.2671"}},
		{Phone, "toll free 1-800-555-0199.", []string{"1-800-555-0199"}},
		{Phone, "020 7946 0958 / 06 12 34 56 78 / (02) 9876 5432 / 07700 900123", []string{"020 7946 0958", "06 12 34 56 78", "(02) 9876 5432", "07700 900123"}},
		{CreditCard, "card 4111 1111 1111 1111 exp", []string{"4111 1111 1111 1111"}},
		{CreditCard, "4111-1111-1111-1111 and 5555555555554444", []string{"4111-1111-1111-1111", "5555555555554444"}},
		{CreditCard, "amex 3782 822463 10005, diners 3056 930902 5904", []string{"3782 822463 10005", "3056 930902 5904"}},
		{CreditCard, "13: 4222222222222 19: 6304000000000000000", []string{"4222222222222", "6304000000000000000"}},
		{CreditCard, "4111 1111 1111 1111 2 items", []string{"4111 1111 1111 1111"}},
		{CreditCard, "mc2 2223003122003222 jcb 3530111333300000", []string{"2223003122003222", "3530111333300000"}},
		{SSN, "SSN 123-45-6789.", []string{"123-45-6789"}},
		{SSN, "(078-05-1120)", []string{"078-05-1120"}},
		{IBAN, "GB82 WEST 1234 5698 7654 32 paid", []string{"GB82 WEST 1234 5698 7654 32"}},
		{IBAN, "DE89370400440532013000, FR1420041010050500013M02606", []string{"DE89370400440532013000", "FR1420041010050500013M02606"}},
		{IBAN, "NL91ABNA0417164300 BE68539007547034 CH9300762011623852957 NO9386011117947", []string{"NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957", "NO9386011117947"}},
		{IBAN, "MT84MALT011000012345MTLCAST001S", []string{"MT84MALT011000012345MTLCAST001S"}},
		{IPv4, "from 192.168.0.1:8080 via 10.0.0.1/24", []string{"192.168.0.1", "10.0.0.1"}},
		{IPv4, "0.0.0.0 255.255.255.255 8.8.8.8.", []string{"0.0.0.0", "255.255.255.255", "8.8.8.8"}},
		{IPv4, "range 10.0.0.1-10.0.0.9", []string{"10.0.0.1", "10.0.0.9"}},
		{IPv6, "at 2001:db8::1. and ::1", []string{"2001:db8::1", "::1"}},
		{IPv6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334", []string{"2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		{IPv6, "fe80::1ff:fe23:4567:890a%eth0", []string{"fe80::1ff:fe23:4567:890a"}},
		{IPv6, "[::ffff:192.0.2.128]:443 64:ff9b::192.0.2.33", []string{"::ffff:192.0.2.128", "64:ff9b::192.0.2.33"}},
		{IPv6, "fe80::", []string{"fe80::"}},
		{JWT, "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c; next",
			[]string{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"}},
		{JWT, "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln", []string{"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln"}},
		{APIKey, "aws AKIAIOSFODNN7EXAMPLE / ASIAY34FZKBOKMUTVV7A", []string{"AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"}},
		{APIKey, "gh ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", []string{"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"}},
		{APIKey, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV", []string{"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV"}},
		{APIKey, "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", []string{"xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}},
		{APIKey, "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc pk_test_TYooMQauvdEDq54NiTphI7jx", []string{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "pk_test_TYooMQauvdEDq54NiTphI7jx"}},
		{APIKey, "key=AIzaSyD-1234567890abcdefghijklmnopqrstu&x", []string{"AIzaSyD-1234567890abcdefghijklmnopqrstu"}},
		{APIKey, "glpat-abcdefghij0123456789 npm_abcdefghijklmnopqrstuvwxyz0123456789", []string{"glpat-abcdefghij0123456789", "npm_abcdefghijklmnopqrstuvwxyz0123456789"}},
		{APIKey, "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789AB", []string{"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789AB"}},
		{APIKey, "Authorization: Bearer 0a1b2c3d4e5f6a7b8c9d.", []string{"0a1b2c3d4e5f6a7b8c9d"}},
		{APIKey, "authorization: bearer  dGhpcyBpcyBhIHRva2VuIDEyMw==", []string{"dGhpcyBpcyBhIHRva2VuIDEyMw=="}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.text, func(t *testing.T) {
			if got := found(tt.text, SetOf(tt.kind)); !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q, %s) = %q, want %q", tt.text, tt.kind, got, tt.want)
			}
			// With every kind on, the same entities come out as this kind.
			ms := Find(tt.text, All, nil)
			var got []string
			for _, m := range ms {
				if m.Kind == tt.kind {
					got = append(got, tt.text[m.Start:m.End])
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q, All) gave %q as %s, want %q (all: %v)", tt.text, got, tt.kind, tt.want, ms)
			}
		})
	}
}

// TestFindFalsePositives holds text that looks like an entity but is not
// one: nothing at all may be found in it.
func TestFindFalsePositives(t *testing.T) {
	tests := []struct{ name, text string }{
		{"iso date", "on 2024-01-15 at 10:30"},
		{"slashed dates", "15/01/2024, 01/15/2024 and 2024/01/15"},
		{"dotted date", "31.12.2023"},
		{"timestamp", "2024-01-15T10:30:45.123Z"},
		{"clock", "12:30:45 and 23:59"},
		{"order number", "order 123456789012 shipped"},
		{"long order number", "ref 12345678901234567890123"},
		{"amount", "total 1,234,567.89 USD"},
		{"version", "version 2.10.3, v1.2.3.4, 1.2.3.4.5, 10.2.3.4.5.6"},
		{"luhn invalid card", "card 4111 1111 1111 1112 and 4111111111111112"},
		{"card without issuer digit", "0000 0000 0000 0000 and 9999999999999995"},
		{"card glued to letters", "X4111111111111111 4111111111111111Y"},
		{"octet over 255", "256.1.1.1 and 1.300.2.3 and 999.999.999.999"},
		{"leading zero octet", "01.2.3.4"},
		{"three octets", "1.2.3"},
		{"bad iban checksum", "GB82 WEST 1234 5698 7654 33 and DE89370400440532013001"},
		{"iban wrong length", "GB82WEST123456987654"},
		{"unknown iban country", "ZZ82WEST12345698765432"},
		{"invalid ssn area", "000-12-3456 666-12-3456 912-34-5678"},
		{"invalid ssn group or serial", "123-00-4567 123-45-0000"},
		{"mac address", "00:1a:2b:3c:4d:5e"},
		{"c++ scope", "std::vector and a::b"},
		{"bare double colon", "a :: b"},
		{"too many ipv6 groups", "1:2:3:4:5:6:7:8:9"},
		{"two double colons", "2001:db8::1::2"},
		{"five hex digits", "12345::1"},
		{"seven digit local number", "call 555-1234"},
		{"list of small numbers", "sizes 10 20 30 40 50"},
		{"plain national digits", "4155552671"},
		{"short international", "+1234 and +0 and +12 34"},
		{"at handle", "@handle and user@ and @example.com"},
		{"no tld", "john@localhost and x@y"},
		{"numeric tld", "foo@bar.123"},
		{"one letter tld", "user@example.c"},
		{"one jwt segment", "eyJhbGciOiJIUzI1NiJ9"},
		{"short jwt header", "eyJ.a.b"},
		{"short aws id", "AKIA1234"},
		{"long aws id", "AKIAIOSFODNN7EXAMPLEX"},
		{"short github token", "ghp_short"},
		{"bare stripe prefix", "sk_live_ and pk_test_x"},
		{"bearer prose", "the Bearer of bad news; bearer responsibilities"},
		{"bearer without digit", "Bearer abcdefghijklmnopqrstuvwxyz"},
		{"ip inside word", "host10.0.0.1 and 10.0.0.1x"},
		{"hex word", "deadbeef cafe:babe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ms := Find(tt.text, All, nil); len(ms) != 0 {
				var got []string
				for _, m := range ms {
					got = append(got, m.Kind.String()+":"+tt.text[m.Start:m.End])
				}
				t.Errorf("Find(%q) = %q, want nothing", tt.text, got)
			}
		})
	}
}

func TestFindKindsFilter(t *testing.T) {
	text := "a@example.com 415-555-2671 4111111111111111 123-45-6789 DE89370400440532013000 10.0.0.1 ::1"
	all := Find(text, All, nil)
	if len(all) != 7 {
		t.Fatalf("Find(All) found %d entities, want 7: %v", len(all), all)
	}
	for _, k := range Kinds() {
		ms := Find(text, SetOf(k), nil)
		for _, m := range ms {
			if m.Kind != k {
				t.Errorf("Find(%s) returned a %s", k, m.Kind)
			}
		}
	}
	if ms := Find(text, 0, nil); len(ms) != 0 {
		t.Errorf("Find with no kinds returned %v", ms)
	}
}

// TestFindEmailBeforeDigits checks that an email whose local part looks
// like a number is one email, not a number and a remainder.
func TestFindEmailBeforeDigits(t *testing.T) {
	got := found("4111111111111111@example.com 123-45-6789@example.org", All)
	want := []string{"4111111111111111@example.com", "123-45-6789@example.org"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFindNoAllocation(t *testing.T) {
	text := strings.Repeat("Nothing to see here: order 12345, version 2.10.3 on 2024-01-15 at 10:30. ", 20)
	dst := make([]Match, 0, 4)
	if n := testing.AllocsPerRun(50, func() { dst = Find(text, All, dst[:0]) }); n != 0 {
		t.Errorf("Find allocated %v times on text without entities", n)
	}
	full := "mail a@example.com or call 415-555-2671"
	dst = make([]Match, 0, 4)
	if n := testing.AllocsPerRun(50, func() { dst = Find(full, All, dst[:0]) }); n != 0 {
		t.Errorf("Find allocated %v times with room in dst", n)
	}
}

func TestKindNames(t *testing.T) {
	for _, k := range Kinds() {
		for _, name := range []string{k.String(), k.Label()} {
			if got, ok := ParseKind(name); !ok || got != k {
				t.Errorf("ParseKind(%q) = %v, %v; want %v", name, got, ok, k)
			}
		}
	}
	if _, ok := ParseKind("passport"); ok {
		t.Error("ParseKind accepted an unknown kind")
	}
	if got := Kind(42).String(); got != "kind(42)" {
		t.Errorf("Kind(42).String() = %q", got)
	}
	for _, name := range PresetNames() {
		s, ok := Preset(name)
		if !ok || s == 0 {
			t.Errorf("Preset(%q) = %v, %v", name, s, ok)
		}
	}
	if s, _ := Preset("PII"); s != All {
		t.Errorf("Preset(PII) = %b, want every kind", s)
	}
	if got := SetOf(Email, IBAN).Kinds(); !slices.Equal(got, []Kind{Email, IBAN}) {
		t.Errorf("Kinds() = %v", got)
	}
}
