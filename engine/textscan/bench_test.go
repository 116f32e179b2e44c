package textscan

import (
	"regexp"
	"strings"
	"testing"
)

// The regexp baseline: one Go regexp per kind, as a straightforward
// implementation would write them, plus the same checksum checks on their
// candidates. BenchmarkTextscan reports how many times faster Find is on the
// same text in the same run.
var baseline = []struct {
	re    *regexp.Regexp
	check func(string) bool
}{
	{re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)},
	{re: regexp.MustCompile(`\+[1-9][0-9 ().-]{6,20}[0-9]|\(?\b[2-9][0-9]{2}\)?[ .-][0-9]{3}[ .-][0-9]{4}\b|\b0[0-9]{1,4}[ -][0-9]{2,8}(?:[ -][0-9]{2,8}){0,3}\b`), check: func(s string) bool {
		n := 0
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				n++
			}
		}
		if s[0] == '+' {
			return n >= 8 && n <= 15
		}
		return n >= 9 && n <= 11
	}},
	{re: regexp.MustCompile(`\b[2-6][0-9]{3}(?:[ -]?[0-9]{4}){2}[ -]?[0-9]{1,7}\b`), check: func(s string) bool {
		var d []byte
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				d = append(d, s[i])
			}
		}
		return LuhnValid(d)
	}},
	{re: regexp.MustCompile(`\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b`), check: func(s string) bool { return ssnValid(s[0:3], s[4:6], s[7:11]) }},
	{re: regexp.MustCompile(`\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`), check: func(s string) bool {
		b := []byte(strings.ReplaceAll(s, " ", ""))
		return ibanLength(b[0], b[1]) == len(b) && ibanMod97(b) == 1
	}},
	{re: regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\b`)},
	{re: regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:[0-9a-f]{0,4}\b|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b`)},
	{re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+`)},
	{re: regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,251}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}|\bxox[abposr]-[A-Za-z0-9-]{10,}|\b[spr]k_(?:live|test)_[A-Za-z0-9]{10,}|\bAIza[A-Za-z0-9_-]{35}|(?i:bearer)\s+[A-Za-z0-9._~+/-]{16,}=*`)},
}

func baselineFind(text string) int {
	n := 0
	for _, b := range baseline {
		for _, loc := range b.re.FindAllStringIndex(text, -1) {
			if b.check == nil || b.check(text[loc[0]:loc[1]]) {
				n++
			}
		}
	}
	return n
}

// Benchmark texts: support-ticket notes as a masking route sees them.
var benchTexts = []struct{ name, text string }{
	{"clean_2KB", strings.Repeat("Customer called about the delayed order 482913; the parcel left the depot on 2024-03-11 and was scanned at 14:32. Agreed a partial refund of 12.50 EUR, ticket escalated to tier 2 (version 4.2.1). ", 10)},
	{"mixed_2KB", strings.Repeat("Customer Jane (jane.doe@example.com, +44 20 7946 0958) paid with 4111 1111 1111 1111; refund to GB82 WEST 1234 5698 7654 32 requested on 2024-03-11 from 203.0.113.7. Notes: order 482913 delayed, agent agreed 12.50 EUR credit. ", 8)},
	{"dense_1KB", strings.Repeat("a@example.com 415-555-2671 4111111111111111 123-45-6789 DE89370400440532013000 10.0.0.1 2001:db8::1 AKIAIOSFODNN7EXAMPLE ", 8)},
}

// BenchmarkTextscan runs, per text, the regexp baseline and then Find, and
// reports on Find's line how many times faster it is (x_vs_regexp). Run
// both (the default) to get the ratio.
func BenchmarkTextscan(b *testing.B) {
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			var baseNs float64
			b.Run("regexp", func(b *testing.B) {
				b.SetBytes(int64(len(bt.text)))
				b.ReportAllocs()
				for b.Loop() {
					baselineFind(bt.text)
				}
				baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run("textscan", func(b *testing.B) {
				dst := make([]Match, 0, 64)
				b.SetBytes(int64(len(bt.text)))
				b.ReportAllocs()
				for b.Loop() {
					dst = Find(bt.text, All, dst[:0])
				}
				if ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N); ns > 0 && baseNs > 0 {
					b.ReportMetric(baseNs/ns, "x_vs_regexp")
				}
			})
		})
	}
}

// TestBaselineAgrees keeps the baseline honest: on the benchmark texts it
// finds as many entities as Find does, so the comparison is like for like.
func TestBaselineAgrees(t *testing.T) {
	for _, bt := range benchTexts {
		if got, want := baselineFind(bt.text), len(Find(bt.text, All, nil)); got != want {
			t.Errorf("%s: baseline found %d entities, Find %d", bt.name, got, want)
		}
	}
}

// BenchmarkFindAdversarial runs Find on texts built to make a careless
// scanner retry the same bytes (long dotted domains, chains of JWT
// lookalikes, digit-dash runs). Compare its MB/s with BenchmarkTextscan's:
// the scan stays linear, so the rates are of the same order.
func BenchmarkFindAdversarial(b *testing.B) {
	const size = 256 << 10
	for _, bt := range []struct{ name, unit string }{
		{"dotted_domain", "a."},
		{"ats", "a@"},
		{"jwt_chain", "eyJhbGciOiJIUzI1NiJ9-"},
		{"jwt_dots", "eyJhbGciOiJIUzI1NiJ9."},
		{"digits_dashes", "1-"},
		{"hex_colons", "a:"},
		{"bearer", "Bearer "},
	} {
		text := strings.Repeat(bt.unit, size/len(bt.unit))
		if bt.name == "dotted_domain" {
			text = "x@" + text + "com"
		}
		b.Run(bt.name, func(b *testing.B) {
			dst := make([]Match, 0, 16)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				dst = Find(text, All, dst[:0])
			}
		})
	}
}
