package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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
					if err := imitated(in, out.S, force); err != nil {
						t.Fatalf("%q → %q: %v", in, out.S, err)
					}
				}
			})
		}
	}
	genKit.checkDeterminism(t, genKit.testMask(t, `{type: imitate}`), Str("ABC-123"), Str("xyz"), Str("Иван Петров"))
}

// imitated checks out against in, character by character: a character of
// an alphabet became one of the same alphabet (another one if force), a
// letter or digit of none became an ASCII one of its kind, and every
// other character was kept.
func imitated(in, out string, force bool) error {
	if !utf8.ValidString(out) && utf8.ValidString(in) {
		return fmt.Errorf("not valid UTF-8")
	}
	for i := 0; i < len(in); {
		r, n := utf8.DecodeRuneInString(in[i:])
		o, m := utf8.DecodeRuneInString(out)
		if len(out) == 0 {
			return fmt.Errorf("output ends before the character at byte %d", i)
		}
		if a, _, ok := alphabetOf(r); ok {
			if b, _, _ := alphabetOf(o); b != a {
				return fmt.Errorf("%U became %U, outside %s", r, o, a.name)
			}
			if force && o == r {
				return fmt.Errorf("force_change kept %U", r)
			}
		} else if k, letter := kindOf(r); letter {
			want := map[charKind]string{charDigit: "0123456789", charUpper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[k]
			if want == "" {
				want = "abcdefghijklmnopqrstuvwxyz"
			}
			if m != 1 || !strings.ContainsRune(want, o) {
				return fmt.Errorf("%U (%s) became %U, not an ASCII one of its kind", r, describeChar(r), o)
			}
		} else if out[:m] != in[i:i+n] {
			return fmt.Errorf("kept character %q became %q", in[i:i+n], out[:m])
		}
		i += n
		out = out[m:]
	}
	if out != "" {
		return fmt.Errorf("%q left over", out)
	}
	return nil
}

// TestImitateBeyondASCII: letters and digits of every script are replaced
// from their own alphabet (force_change: by another character), never
// kept; marks, spaces and punctuation are. The inputs are the privacy
// audit's and one name or number per script the docs list.
func TestImitateBeyondASCII(t *testing.T) {
	inputs := []string{
		"Zoë Ångström-Łukasz", "Иван Петров", "王小明", "ÇÄÑÄŔŸ",
		"Ștefan Nguyễn Văn Đức Hawaiʻi Nº5", "Γιώργος Παπαδόπουλος", "محمد عبد الله پژوهش", "דוד כהן",
		"राहुल शर्मा", "สมชาย ใจดี", "佐々木 さくら カタカナー ｶﾀｶﾅ", "김민준 ㅋㅋ", "ＡＢＣｄｅｆ",
		"٠١٢-٣٤٥ ۶۷ ०१२ ০১২ ๐๑๒ ０１２ 𝟎𝟏", "Ünïcode ok 42",
	}
	for _, force := range []bool{false, true} {
		pl := genKit.testMask(t, fmt.Sprintf(`{type: imitate, force_change: %v}`, force))
		for _, in := range inputs {
			for i := range 20 {
				out, err := genKit.run(pl, fmt.Sprint(genSecret, i), Str(in), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(out.S) != len(in) || out.S == in {
					t.Fatalf("force_change=%v: %q → %q: length changed or value kept", force, in, out.S)
				}
				if err := imitated(in, out.S, force); err != nil {
					t.Fatalf("force_change=%v: %q → %q: %v", force, in, out.S, err)
				}
			}
		}
	}
}

// TestImitateOtherScripts: a letter or digit in no alphabet is replaced by
// an ASCII one of its kind rather than kept.
func TestImitateOtherScripts(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate, force_change: true}`)
	for _, in := range []string{"ᏣᎳᎩ", "ⵜⴰⵎⴰⵣⵉⵖⵜ", "𝐀𝐛𝐜", "ꓐꓳ-7"} {
		out := genKit.must(t, pl, Str(in))
		if err := imitated(in, out.S, true); err != nil {
			t.Errorf("%q → %q: %v", in, out.S, err)
		}
		for _, r := range out.S {
			if r >= utf8.RuneSelf && unicode.IsLetter(r) {
				t.Errorf("%q → %q: a letter beyond ASCII is left", in, out.S)
			}
		}
	}
}

// TestImitateKeepsASCIIOutputs: values whose only characters beyond
// ASCII are kept (symbols, marks, numerals that are not decimal digits,
// invalid bytes) mask exactly as before alphabets beyond ASCII were
// replaced. The outputs were taken from that version.
func TestImitateKeepsASCIIOutputs(t *testing.T) {
	in := []string{"Price: 5€ — №7 😀 ok", "«AB-12»", "x\u00a0y 3½", "²³ m² 4℃", "→ A1 ← ©2024", "ab\xffcd", "a\ufffdb9", "e\u0301Z", "Ⅻ-9 ⓐ", "BZF123"}
	for _, tc := range []struct {
		mask string
		want []string
	}{
		{`{type: imitate}`, []string{
			"Yithz: 3\u20ac \u2014 \u21169 \U0001f600 gb", "\u00abYF-17\u00bb", "x\u00a0j 7\u00bd", "\u00b2\u00b3 t\u00b2 3\u2103",
			"\u2192 Y6 \u2190 \u00a99745", "qi\xffpy", "u\ufffdq5", "g\u0301X", "\u216b-5 \u24d0", "ZKP084",
		}},
		{`{type: imitate, force_change: true}`, []string{
			"Gklns: 2\u20ac \u2014 \u21164 \U0001f600 ae", "\u00abRC-51\u00bb", "u\u00a0l 7\u00bd", "\u00b2\u00b3 f\u00b2 0\u2103",
			"\u2192 Y8 \u2190 \u00a94716", "oa\xffwe", "m\ufffdi8", "t\u0301K", "\u216b-3 \u24d0", "GWX254",
		}},
		// substitute masks as imitate does (the identity names the
		// canonical type): these are imitate's outputs with uppercase off.
		{`{type: substitute, uppercase: false}`, []string{
			"Pgrsc: 1\u20ac \u2014 \u21167 \U0001f600 rq", "\u00abAB-62\u00bb", "g\u00a0t 2\u00bd", "\u00b2\u00b3 v\u00b2 7\u2103",
			"\u2192 A0 \u2190 \u00a93317", "cb\xffps", "u\ufffdh4", "p\u0301Z", "\u216b-2 \u24d0", "BZF008",
		}},
	} {
		pl := genKit.testMask(t, tc.mask)
		for i, s := range in {
			if got := genKit.must(t, pl, Str(s)).S; got != tc.want[i] {
				t.Errorf("%s: %+q → %+q, want %+q as before", tc.mask, s, got, tc.want[i])
			}
		}
	}
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

// TestImitateTogglesBeyondASCII: uppercase and lowercase govern letters of
// every script with case; letters without case follow either; digits
// governs every digit set.
func TestImitateTogglesBeyondASCII(t *testing.T) {
	in := "ÅИë王ᏣⵣЖ٣"
	for _, tc := range []struct {
		mask string
		kept []bool // per character of in
	}{
		{`{type: imitate, force_change: true, uppercase: false}`, []bool{true, true, false, false, true, false, true, false}},
		{`{type: imitate, force_change: true, lowercase: false}`, []bool{false, false, true, false, false, false, false, false}},
		{`{type: imitate, force_change: true, uppercase: false, lowercase: false}`, []bool{true, true, true, true, true, true, true, false}},
		{`{type: imitate, force_change: true, digits: false}`, []bool{false, false, false, false, false, false, false, true}},
	} {
		out := []rune(genKit.must(t, genKit.testMask(t, tc.mask), Str(in)).S)
		for i, r := range []rune(in) {
			if (out[i] == r) != tc.kept[i] {
				t.Errorf("%s: %q → %q: character %d kept=%v, want %v", tc.mask, in, string(out), i, out[i] == r, tc.kept[i])
			}
		}
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

// FuzzImitateText feeds arbitrary text to imitate (with and without
// force_change) and imitate_unique.
//
// Invariants: no panic; valid UTF-8 stays valid UTF-8; imitate replaces
// each letter and digit as imitated describes and keeps the rest;
// imitate_unique either keeps the value's shape and length, and gives the
// same output again, or refuses a value holding a letter or digit of no
// alphabet, and only such a value.
func FuzzImitateText(f *testing.F) {
	for _, s := range []string{
		"", "BZF123", "Zoë Ångström-Łukasz", "Иван Петров", "王小明", "ÇÄÑÄŔŸ", "ᏣᎳᎩ", "佐々木 カタカナー",
		"٠١٢-۴۵", "e\u0301", "a\xffb\xc3", "\U0001d7ce\U0001d400", "Price: 5€ — №7 😀", "ǅ ß ŉ ſ ʻ",
	} {
		f.Add(s)
	}
	plain := genKit.testMask(f, `{type: imitate}`)
	force := genKit.testMask(f, `{type: substitute, force_change: true}`)
	unique := genKit.testMask(f, `{type: imitate_unique}`)
	f.Fuzz(func(t *testing.T, in string) {
		for _, tc := range []struct {
			pl    Pipeline
			force bool
		}{{plain, false}, {force, true}} {
			out, err := genKit.run(tc.pl, genSecret, Str(in), nil)
			if err != nil {
				t.Fatalf("imitate %q: %v", in, err)
			}
			if err := imitated(in, out.S, tc.force); err != nil {
				t.Fatalf("imitate force_change=%v %q → %q: %v", tc.force, in, out.S, err)
			}
		}
		out, err := genKit.run(unique, genSecret, Str(in), nil)
		unlisted := false
		for _, r := range in {
			if _, _, ok := alphabetOf(r); !ok {
				if _, letter := kindOf(r); letter {
					unlisted = true
				}
			}
		}
		if err != nil {
			if !unlisted {
				t.Fatalf("imitate_unique %q: %v", in, err)
			}
			return
		}
		if unlisted {
			t.Fatalf("imitate_unique %q → %q: a letter of no alphabet got through", in, out.S)
		}
		if len(out.S) != len(in) || shapeOf(out.S) != shapeOf(in) || utf8.ValidString(in) && !utf8.ValidString(out.S) {
			t.Fatalf("imitate_unique %q → %q: the shape changed", in, out.S)
		}
		again, err := genKit.run(unique, genSecret, Str(in), nil)
		if err != nil || again.S != out.S {
			t.Fatalf("imitate_unique %q: %q then %q (%v)", in, out.S, again.S, err)
		}
	})
}
