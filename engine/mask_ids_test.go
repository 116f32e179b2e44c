package engine

import (
	"fmt"
	"strings"
	"testing"
)

func TestSocialSecurityNumber(t *testing.T) {
	pl := xfKit.testMask(t, `{type: social_security_number}`)
	inputs := []Value{Str("123-45-6789"), Str("123 45 6789"), Str("123456789"), Num("780511200")}
	xfCheckIDOutputs(t, pl, inputs, "a valid SSN", func(d string) bool { return xfSSNValid([]byte(d)) })
	for _, in := range []Value{Str("12-345-678"), Str("123-45-678a"), Boolean(true)} {
		if _, err := xfKit.run(pl, xfSecret, in, nil); err == nil {
			t.Errorf("%q: no error", in.S)
		}
	}
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, pl, inputs...) })
	xfKit.checkBad(t, []maskBadCase{{"no params", "type: social_security_number\nformat: x", "2:1", "format"}})
}

// xfCheckIDOutputs masks each input with 200 hash inputs: every output
// keeps the input's JSON type and shape (separators where they were),
// differs from it, is what (valid, given its digits), and a number does
// not start with 0.
func xfCheckIDOutputs(t *testing.T, pl Pipeline, inputs []Value, what string, valid func(digits string) bool) {
	t.Helper()
	for _, in := range inputs {
		t.Run(in.S, func(t *testing.T) {
			for i := 0; i < 200; i++ {
				out, err := xfKit.run(pl, xfSecret, in, []byte(fmt.Sprint(i)))
				if err != nil {
					t.Fatal(err)
				}
				if out.Kind != in.Kind || xfShape(out.S) != xfShape(in.S) || out.S == in.S {
					t.Fatalf("%q gave %v %q", in.S, out.Kind, out.S)
				}
				if !valid(xfDigitsOnly(out.S)) {
					t.Fatalf("%q is not %s", out.S, what)
				}
				if in.Kind == Number && out.S[0] == '0' {
					t.Fatalf("number %q starts with 0", out.S)
				}
			}
		})
	}
}

func TestSSNValid(t *testing.T) {
	for in, want := range map[string]bool{
		"123456789": true, "000123456": false, "666123456": false, "900123456": false,
		"123006789": false, "123450000": false, "899991234": true,
	} {
		if got := xfSSNValid([]byte(in)); got != want {
			t.Errorf("%s: %v", in, got)
		}
	}
}

// xfCPFValid checks a CPF's two check digits independently of the mask.
func xfCPFValid(d string) bool {
	if len(d) != 11 || strings.Count(d, d[:1]) == 11 {
		return false
	}
	for k := 9; k <= 10; k++ {
		sum := 0
		for i := 0; i < k; i++ {
			sum += int(d[i]-'0') * (k + 1 - i)
		}
		c := sum * 10 % 11 % 10
		if c != int(d[k]-'0') {
			return false
		}
	}
	return true
}

func TestBrazilianCPF(t *testing.T) {
	if !xfCPFValid("52998224725") || xfCPFValid("52998224724") {
		t.Fatal("reference check is wrong")
	}
	pl := xfKit.testMask(t, `{type: brazilian_cpf}`)
	inputs := []Value{Str("529.982.247-25"), Str("52998224725"), Num("52998224725"), Str("529 982 247/25")}
	xfCheckIDOutputs(t, pl, inputs, "a CPF with the right check digits", xfCPFValid)
	for _, in := range []Value{Str("529.982.247-2"), Str("abc.def.ghi-jk"), NullValue} {
		if _, err := xfKit.run(pl, xfSecret, in, nil); err == nil {
			t.Errorf("%q: no error", in.S)
		}
	}
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, pl, inputs...) })
}

func TestSetChecksum(t *testing.T) {
	tests := []struct {
		alg  string
		in   Value
		want Value
	}{
		{"luhn", Str("4111 1111 1111 1110"), Str("4111 1111 1111 1111")},
		{"luhn", Num("79927398710"), Num("79927398713")},
		{"brazilian_cpf", Str("529.982.247-00"), Str("529.982.247-25")},
		{"gtin", Str("4006381333930"), Str("4006381333931")}, // EAN-13
		{"gtin", Str("036000291450"), Str("036000291452")},   // UPC-A
		{"gtin", Str("9780306406150"), Str("9780306406157")}, // ISBN-13
		{"isbn10", Str("0-306-40615-0"), Str("0-306-40615-2")},
		{"isbn10", Str("0-8044-2957-0"), Str("0-8044-2957-X")},
		{"nz_ird", Str("49-091-850"), Str("49-091-850")},
		{"nz_ird", Str("49-091-859"), Str("49-091-850")},
		{"nz_ird", Str("136410130"), Str("136410132")},
		{"iban", Str("GB00 WEST 1234 5698 7654 32"), Str("GB82 WEST 1234 5698 7654 32")},
		{"iban", Str("de00370400440532013000"), Str("DE89370400440532013000")},
	}
	for _, tc := range tests {
		t.Run(tc.alg+"/"+tc.in.S, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: set_checksum, algorithm: "+tc.alg+"}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, tc.want) {
				t.Errorf("got %v %q, want %q", got.Kind, got.S, tc.want.S)
			}
		})
	}
	t.Run("nz_ird without a check digit steps the digit before", func(t *testing.T) {
		pl := xfKit.testMask(t, "{type: set_checksum, algorithm: nz_ird}")
		seen := 0
		for n := 10000000; n < 10000000+2000; n++ {
			in := fmt.Sprint(n*10 + 0)[1:] // 8 digits
			out := xfKit.must(t, pl, Str(in))
			base := 0
			for i := 0; i < 7; i++ {
				base = base*10 + int(out.S[i]-'0')
			}
			c, ok := irdCheckDigit(base)
			if !ok || byte('0'+c) != out.S[7] {
				t.Fatalf("%s gave %s, not a valid IRD number", in, out.S)
			}
			if out.S[:6] != in[:6] {
				t.Fatalf("%s gave %s: more than the last digits changed", in, out.S)
			}
			if out.S[6] != in[6] {
				seen++
			}
		}
		if seen == 0 {
			t.Error("no base needed stepping; the test covers nothing")
		}
	})
	bad := []struct{ alg, in string }{
		{"brazilian_cpf", "123"},
		{"isbn10", "X123456789"},
		{"iban", "12345678"},
		{"luhn", "41a1"},
		{"gtin", "1234567"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.alg+"/"+tc.in, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: set_checksum, algorithm: "+tc.alg+"}")
			if _, err := xfKit.run(pl, xfSecret, Str(tc.in), nil); err == nil {
				t.Error("no error")
			}
		})
	}
	xfKit.checkBad(t, []maskBadCase{
		{"missing", "type: set_checksum", "1:1", "missing required key \"algorithm\""},
		{"unknown", "type: set_checksum\nalgorithm: crc32", "2:12", "algorithm must be one of brazilian_cpf, gtin, iban, isbn10, luhn, nz_ird"},
	})
}
