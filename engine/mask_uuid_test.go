package engine

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestImitateUUID(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_uuid}`)
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tests := []struct {
		in string
		re string
	}{
		{"123e4567-e89b-42d3-a456-426614174000", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{"123E4567-E89B-12D3-A456-426614174000", `^[0-9A-F]{8}-[0-9A-F]{4}-1[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`},
		{"{123e4567-e89b-72d3-c456-426614174000}", `^\{[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[cd][0-9a-f]{3}-[0-9a-f]{12}\}$`},
		{"urn:uuid:123e4567-e89b-42d3-0456-426614174000", `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-7][0-9a-f]{3}-[0-9a-f]{12}$`},
		{"123e4567e89b42d3f456426614174000", `^[0-9a-f]{12}4[0-9a-f]{3}[ef][0-9a-f]{15}$`},
		{"123e4567-E89b-42d3-a456-426614174000", `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out := genKit.must(t, pl, Str(tt.in))
			if out.Kind != String || !regexp.MustCompile(tt.re).MatchString(out.S) {
				t.Errorf("%s → %+v, want the shape %s", tt.in, out, tt.re)
			}
			if strings.EqualFold(out.S, tt.in) {
				t.Errorf("%s came back unchanged", tt.in)
			}
		})
	}
	t.Run("same UUID in any form masks alike", func(t *testing.T) {
		a := genKit.must(t, pl, Str("123e4567-e89b-42d3-a456-426614174000")).S
		b := genKit.must(t, pl, Str("{123E4567-E89B-42D3-A456-426614174000}")).S
		c := genKit.must(t, pl, Str("123e4567e89b42d3a456426614174000")).S
		norm := func(s string) string {
			return strings.ToLower(strings.NewReplacer("-", "", "{", "", "}", "").Replace(s))
		}
		if norm(a) != norm(b) || norm(a) != norm(c) {
			t.Errorf("forms of one UUID gave %s, %s, %s", a, b, c)
		}
	})
	t.Run("markers kept", func(t *testing.T) {
		for _, in := range []string{"00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"} {
			if out := genKit.must(t, pl, Str(in)); out.S != in {
				t.Errorf("%s → %s, want it kept", in, out.S)
			}
		}
	})
	t.Run("injective", func(t *testing.T) {
		var in []Value
		for i := range 4000 {
			x := uint64(i) * 0x9e3779b97f4a7c15
			in = append(in, Str(fmt.Sprintf("%08x-%04x-4%03x-%x%03x-%012x", uint32(x>>32), uint16(x), i&0xfff, 8+i%4, i>>2&0xfff, x&0xffffffffffff)))
		}
		// Version-0 variant-0 values, the only ones that could be walked
		// onto the nil UUID.
		for i := 1; i < 256; i++ {
			in = append(in, Str(fmt.Sprintf("00000000-0000-0000-0000-0000000000%02x", i)))
		}
		genInjective(t, pl, in, func(_, out Value) error {
			if !canonical.MatchString(out.S) {
				return fmt.Errorf("not a UUID")
			}
			if out.S == "00000000-0000-0000-0000-000000000000" {
				return fmt.Errorf("mapped onto the nil UUID")
			}
			return nil
		})
	})
	genKit.checkDeterminism(t, pl, Str("123e4567-e89b-42d3-a456-426614174000"))
	t.Run("not a UUID", func(t *testing.T) {
		for _, in := range []Value{Str("123e4567-e89b-42d3-a456-42661417400"), Str("123e4567-e89b-42d3-a456-42661417400g"), Str("123e4567e-89b-42d3-a456-426614174000"), Num("12"), Boolean(true)} {
			if _, err := genKit.run(pl, genSecret, in, nil); err == nil || !strings.Contains(err.Error(), "expects a UUID") {
				t.Errorf("%+v: err = %v", in, err)
			}
		}
		if out := genKit.must(t, pl, NullValue); out.Kind != Null {
			t.Errorf("null → %+v", out)
		}
	})
}
