package engine

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/engine/textscan"
)

// xfDigitsOnly strips everything but digits.
func xfDigitsOnly(s string) string {
	return regexp.MustCompile(`\D`).ReplaceAllString(s, "")
}

// xfShape replaces digits with 9: two numbers in one format have one shape.
func xfShape(s string) string {
	return regexp.MustCompile(`\d`).ReplaceAllString(s, "9")
}

func TestCreditCard(t *testing.T) {
	pl := xfKit.testMask(t, `{type: credit_card}`)
	tests := []struct {
		in     Value
		issuer string
	}{
		{Str("4111111111111111"), "visa"},
		{Str("4111 1111 1111 1111"), "visa"},
		{Str("4222222222222"), "visa"},
		{Str("5500-0000-0000-0004"), "mastercard"},
		{Str("2221000000000009"), "mastercard"},
		{Str("3782 822463 10005"), "amex"},
		{Str("6011111111111117"), "discover"},
		{Str("30569309025904"), "diners"},
		{Str("3530111333300000"), "jcb"},
		{Str("6200000000000005"), "unionpay"},
		{Str("6759649826438453"), "maestro"},
		{Str("2200123456789010"), "mir"},
		{Str("9999999999999995"), ""}, // unknown issuer: keeps its first digit
		{Num("4012888888881881"), "visa"},
	}
	for _, tc := range tests {
		t.Run(tc.in.S, func(t *testing.T) {
			out := xfKit.must(t, pl, tc.in)
			if out.Kind != tc.in.Kind {
				t.Fatalf("%v became %v", tc.in.Kind, out.Kind)
			}
			if out.S == tc.in.S {
				t.Fatal("returned the original")
			}
			if xfShape(out.S) != xfShape(tc.in.S) {
				t.Errorf("format %q became %q", tc.in.S, out.S)
			}
			d := []byte(xfDigitsOnly(out.S))
			if !textscan.LuhnValid(d) {
				t.Errorf("%q fails the Luhn check", out.S)
			}
			iss, _ := xfIssuerOf(d)
			switch {
			case tc.issuer == "" && d[0] != tc.in.S[0]:
				t.Errorf("unknown issuer: first digit changed in %q", out.S)
			case tc.issuer != "" && (iss == nil || iss.name != tc.issuer):
				t.Errorf("%q is not a %s number", out.S, tc.issuer)
			}
		})
	}
	t.Run("retain_prefix_length", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: credit_card, retain_prefix_length: 6}`)
		out := xfKit.must(t, pl, Str("4532 0151 1283 0366"))
		if !strings.HasPrefix(out.S, "4532 01") || !textscan.LuhnValid([]byte(xfDigitsOnly(out.S))) {
			t.Errorf("got %q", out.S)
		}
		pl = xfKit.testMask(t, `{type: credit_card, retain_prefix_length: automatic}`)
		out = xfKit.must(t, pl, Str("6011000990139424"))
		if !strings.HasPrefix(out.S, "6011") {
			t.Errorf("automatic kept no issuer prefix: %q", out.S)
		}
		pl = xfKit.testMask(t, `{type: credit_card, retain_prefix_length: 0}`)
		out = xfKit.must(t, pl, Str("6011000990139424"))
		if iss, _ := xfIssuerOf([]byte(out.S)); iss == nil || !textscan.LuhnValid([]byte(out.S)) {
			t.Errorf("no prefix kept gave %q", out.S)
		}
		pl = xfKit.testMask(t, `{type: credit_card, retain_prefix_length: 15}`)
		if _, err := xfKit.run(pl, xfSecret, Str("4111111111111111"), nil); err == nil {
			t.Error("keeping every free digit gave no error")
		}
	})
	t.Run("pan_format", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: credit_card, pan_format: true, generate_card_number: false}`)
		if got := xfKit.must(t, pl, Str("4111-1111-1111-1111")); got.S != "4111-11##-####-1111" {
			t.Errorf("got %q", got.S)
		}
		pl = xfKit.testMask(t, `{type: credit_card, pan_format: true, pan_character: "*"}`)
		got := xfKit.must(t, pl, Str("4111111111111111"))
		if !regexp.MustCompile(`^4\d{5}\*{6}\d{4}$`).MatchString(got.S) || got.S[12:] == "1111" && got.S[:6] == "411111" {
			t.Errorf("got %q", got.S)
		}
		if _, err := xfKit.run(pl, xfSecret, Num("4111111111111111"), nil); err == nil {
			t.Error("pan_format on a number gave no error")
		}
	})
	t.Run("generate_luhn false", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: credit_card, generate_luhn: false}`)
		valid := 0
		for i := 0; i < 50; i++ {
			out, _ := xfKit.run(pl, xfSecret, Str("4111111111111111"), []byte{byte(i)})
			if textscan.LuhnValid([]byte(out.S)) {
				valid++
			}
		}
		if valid > 20 {
			t.Errorf("%d of 50 random numbers pass Luhn", valid)
		}
	})
	t.Run("not a card", func(t *testing.T) {
		for _, in := range []Value{Str("1234"), Str("4111-1111-1111-111a"), Str("41111111111111111111"), Boolean(true)} {
			_, err := xfKit.run(pl, xfSecret, in, nil)
			if err == nil {
				t.Errorf("%q: no error", in.S)
			} else if in.S != "" && strings.Contains(err.Error(), in.S) {
				t.Errorf("error quotes the value")
			}
		}
	})
	t.Run("determinism", func(t *testing.T) {
		xfKit.checkDeterminism(t, pl, Str("4111111111111111"), Str("5500 0000 0000 0004"))
	})
	xfKit.checkBad(t, []maskBadCase{
		{"masks nothing", "type: credit_card\ngenerate_card_number: false", "2:23", "would mask nothing"},
		{"pan char", "type: credit_card\npan_format: true\npan_character: '##'", "3:16", "exactly one character"},
		{"pan digit", "type: credit_card\npan_format: true\npan_character: '7'", "3:16", "must not be a digit"},
		{"prefix word", "type: credit_card\nretain_prefix_length: auto", "2:23", "automatic or a whole number"},
		{"prefix range", "type: credit_card\nretain_prefix_length: 30", "2:23", "from 0 to 17"},
		{"prefix without generate", "type: credit_card\npan_format: true\ngenerate_card_number: false\nretain_prefix_length: 6", "4:23", "only applies when"},
		{"old name", "type: credit_card\nvalidate_luhn: true", "2:1", "validate_luhn"},
	})
}

// FuzzCreditCard checks that any 8 to 19 digits (grouped or not) give a
// Luhn-valid number of the same length and grouping that differs from the
// input, that anything else is an error, and that nothing panics.
func FuzzCreditCard(f *testing.F) {
	f.Add("4111111111111111")
	f.Add("3782 822463 10005")
	f.Add("0000000000000000000")
	f.Add("12345678")
	f.Add("1234567")
	f.Add("9-9-9-9-9-9-9-9-9")
	pl, err := xfKit.tryMask(`{type: credit_card}`)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := xfKit.run(pl, xfSecret, Str(in), nil)
		digits, ok := xfDigitsOf(in, " -.")
		valid := ok && len(digits) >= xfCardMinDigits && len(digits) <= xfCardMaxDigits
		if !valid {
			if err == nil {
				t.Fatalf("%q: no error", in)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		d := []byte(xfDigitsOnly(out.S))
		if len(d) != len(digits) || !textscan.LuhnValid(d) || xfShape(out.S) != xfShape(in) || out.S == in {
			t.Fatalf("%q gave %q", in, out.S)
		}
	})
}

// TestXfIssuerOfByFirstDigit: the lookup through the first digit's ranges
// finds what the scan over every range finds, for every prefix of up to
// six digits and for longer random numbers.
func TestXfIssuerOfByFirstDigit(t *testing.T) {
	check := func(d []byte) {
		var lead [10]int
		for w := 1; w < len(lead) && w <= len(d); w++ {
			lead[w] = lead[w-1]*10 + int(d[w-1]-'0')
		}
		gi, gw := xfIssuerOf(d)
		wi, ww := xfIssuerOfAll(d, &lead)
		if gi != wi || gw != ww {
			t.Fatalf("%s: issuer %v/%d, the full scan says %v/%d", d, gi, gw, wi, ww)
		}
	}
	for n := 1; n <= 6; n++ {
		lim := 1
		for range n {
			lim *= 10
		}
		for v := range lim {
			check(fmt.Appendf(nil, "%0*d", n, v))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		d := make([]byte, r.IntN(20))
		for k := range d {
			d[k] = byte('0' + r.IntN(10))
			if r.IntN(20) == 0 {
				d[k] = byte(r.IntN(256)) // a stray byte: the full scan's answer still
			}
		}
		check(d)
	}
}
