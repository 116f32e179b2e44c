package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// genClass is a character's kind for imitate: A, a, 9, or itself.
func genClass(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return 'A'
	case c >= 'a' && c <= 'z':
		return 'a'
	case c >= '0' && c <= '9':
		return '9'
	}
	return c
}

func TestImitate(t *testing.T) {
	inputs := []string{"+1 (555) 867-5309", "BZF123", "10-9282-9478563-00", "FD194845", "Ünïcode ok 42", "", "--"}
	for _, typ := range []string{"imitate", "substitute"} {
		for _, force := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s force_change=%v", typ, force), func(t *testing.T) {
				pl := genKit.testMask(t, fmt.Sprintf(`{type: %s, force_change: %v}`, typ, force))
				for _, in := range inputs {
					out := genKit.must(t, pl, Str(in))
					if out.Kind != String || len(out.S) != len(in) {
						t.Fatalf("%q → %+v: the shape changed", in, out)
					}
					for i := 0; i < len(in); i++ {
						if genClass(in[i]) != genClass(out.S[i]) {
							t.Fatalf("%q → %q: byte %d changed kind", in, out.S, i)
						}
						if force && genClass(in[i]) != in[i] && in[i] == out.S[i] {
							t.Fatalf("%q → %q: force_change kept byte %d", in, out.S, i)
						}
					}
				}
			})
		}
	}
	genKit.checkDeterminism(t, genKit.testMask(t, `{type: imitate}`), Str("ABC-123"), Str("xyz"))
}

func TestImitateToggles(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate, force_change: true, uppercase: false, digits: false}`)
	out := genKit.must(t, pl, Str("AbC-12d"))
	if out.S[0] != 'A' || out.S[2] != 'C' || out.S[4:6] != "12" {
		t.Errorf("AbC-12d → %q: a turned-off kind was replaced", out.S)
	}
	if out.S[1] == 'b' || out.S[6] == 'd' {
		t.Errorf("AbC-12d → %q: lower case was not replaced", out.S)
	}
}

func TestImitateNumbers(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate, force_change: true}`)
	for _, in := range []string{"0", "7", "-3", "10", "99", "123456789", "0.5", "-10.25", "1.5e10", "6.02E+23", "-0.001"} {
		for i := range 30 {
			out, err := genKit.run(pl, fmt.Sprint(genSecret, i), Num(in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if out.Kind != Number || !isJSONNumber(out.S) || !json.Valid([]byte(out.S)) {
				t.Fatalf("%s → %+v: not a valid JSON number", in, out)
			}
			if len(out.S) != len(in) {
				t.Fatalf("%s → %s: length changed", in, out.S)
			}
			// The exponent is kept.
			if e := strings.IndexAny(in, "eE"); e >= 0 && out.S[e:] != in[e:] {
				t.Fatalf("%s → %s: exponent changed", in, out.S)
			}
		}
	}
}

func TestImitateOtherKinds(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate}`)
	if out := genKit.must(t, pl, NullValue); out.Kind != Null {
		t.Errorf("null → %+v", out)
	}
	if _, err := genKit.run(pl, genSecret, Boolean(true), nil); err == nil || !strings.Contains(err.Error(), "string or a number") {
		t.Errorf("boolean: err = %v", err)
	}
}

func TestImitateErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"nothing to replace", "type: imitate\nuppercase: false\nlowercase: false\ndigits: false\n", "1:1", "all false"},
		{"force_change not a boolean", "type: imitate\nforce_change: yes please\n", "2:15", "true or false"},
		{"unknown key", "type: substitute\nforce: true\n", "2:1", "force"},
	})
}
