package textscan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzFind checks Find's contract on any text: it never panics; matches are
// in bounds, non-empty, in order and do not overlap; each is of a requested
// kind and is found again on its own; and Fake's replacement for it is
// found as the same kind.
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"mail john.smith@example.com or call +1 (415) 555-2671",
		"card 4111 1111 1111 1111 2 items, ssn 123-45-6789",
		"GB82 WEST 1234 5698 7654 32 / DE89370400440532013000",
		"10.0.0.1:80 2001:db8::1. ::ffff:192.0.2.1 fe80::1%eth0",
		"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
		"AKIAIOSFODNN7EXAMPLE ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 xoxb-1234567890-abc",
		"2024-01-15 12:30:45 v1.2.3.4 1,234.56 00:1a:2b:3c:4d:5e",
		"+44 (0)20 7946 0958 (02) 9876 5432 1-800-555-0199",
		"a@b.co@c.de ::::1 1::2::3 +0 (((1",
		"“x@example.com”\u00a0415-555-2671",
	} {
		f.Add(s, uint16(All))
	}
	f.Fuzz(func(t *testing.T, text string, kinds uint16) {
		set := Set(kinds) & All
		ms := Find(text, set, nil)
		end := 0
		for i, m := range ms {
			if m.Start < end || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("match %d %+v out of order or bounds (previous end %d, len %d)", i, m, end, len(text))
			}
			if !set.Has(m.Kind) {
				t.Fatalf("match %d is a %s, not requested", i, m.Kind)
			}
			end = m.End
			s := text[m.Start:m.End]
			bearer := m.Kind == APIKey && !hasKeyPrefix(s)
			if !bearer && !Valid(m.Kind, s) {
				t.Fatalf("match %q (%s) is not found again on its own", s, m.Kind)
			}
			out := string(Fake(nil, m.Kind, s, rand.NewPCG(uint64(i), 1)))
			if bearer {
				out2 := "Bearer " + out
				if got := Find(out2, SetOf(APIKey), nil); len(got) != 1 || out2[got[0].Start:got[0].End] != out {
					t.Fatalf("replacement bearer token %q of %q is not found again", out, s)
				}
				continue
			}
			if !Valid(m.Kind, out) {
				t.Fatalf("replacement %q of %q is not a valid %s", out, s, m.Kind)
			}
		}
	})
}

func hasKeyPrefix(s string) bool {
	for _, k := range keyShapes {
		if strings.HasPrefix(s, k.prefix) {
			return true
		}
	}
	return false
}
