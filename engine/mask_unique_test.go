package engine

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maskstream/maskstream/rulesets"
)

// genInjective applies pl to every input and fails on two inputs with one
// output; check validates each output against its input.
func genInjective(t *testing.T, pl Pipeline, inputs []Value, check func(in, out Value) error) {
	t.Helper()
	seen := make(map[string]string, len(inputs))
	for _, in := range inputs {
		out := genKit.must(t, pl, in)
		if err := check(in, out); err != nil {
			t.Fatalf("%q → %q: %v", in.S, out.S, err)
		}
		if prev, dup := seen[out.S]; dup {
			t.Fatalf("%q and %q both gave %q", prev, in.S, out.S)
		}
		seen[out.S] = in.S
	}
}

func genSameShape(in, out Value) error {
	if in.Kind != out.Kind || len(in.S) != len(out.S) {
		return fmt.Errorf("kind or length changed")
	}
	for i := 0; i < len(in.S); i++ {
		if genClass(in.S[i]) != genClass(out.S[i]) {
			return fmt.Errorf("byte %d changed kind", i)
		}
	}
	return nil
}

func TestImitateUniqueInjective(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	t.Run("every 4-digit string", func(t *testing.T) {
		var in []Value
		for i := range 10000 {
			in = append(in, Str(fmt.Sprintf("%04d", i)))
		}
		genInjective(t, pl, in, genSameShape)
	})
	t.Run("every 4-digit number", func(t *testing.T) {
		var in []Value
		for i := 1000; i < 10000; i++ {
			in = append(in, Int(int64(i)))
		}
		genInjective(t, pl, in, func(in, out Value) error {
			if out.Kind != Number || len(out.S) != 4 || out.S[0] == '0' {
				return fmt.Errorf("not a 4-digit number")
			}
			return nil
		})
	})
	t.Run("every letter-digit-letter string", func(t *testing.T) {
		var in []Value
		for a := 'a'; a <= 'z'; a++ {
			for d := '0'; d <= '9'; d++ {
				for b := 'A'; b <= 'Z'; b++ {
					in = append(in, Str(fmt.Sprintf("%c%c-%c", a, d, b)))
				}
			}
		}
		genInjective(t, pl, in, genSameShape)
	})
	t.Run("single characters", func(t *testing.T) {
		var in []Value
		for c := '0'; c <= '9'; c++ {
			in = append(in, Str(string(c)))
		}
		genInjective(t, pl, in, genSameShape)
	})
	t.Run("every Cyrillic capital and small letter", func(t *testing.T) {
		var in []Value
		for a := 'А'; a <= 'Я'; a++ {
			for b := 'а'; b <= 'я'; b++ {
				in = append(in, Str(fmt.Sprintf("%c%c", a, b)))
			}
		}
		genInjective(t, pl, in, sameAlphabets)
	})
	t.Run("every pair of hiragana", func(t *testing.T) {
		var in []Value
		hira := &alphabets[alphabetID(t, "Hiragana letters")]
		for a := range hira.size {
			for b := range hira.size {
				in = append(in, Str(string([]rune{hira.at(a), hira.at(b)})))
			}
		}
		genInjective(t, pl, in, sameAlphabets)
	})
	t.Run("every string of one mixed shape", func(t *testing.T) {
		// Five alphabets at once, small and large, ASCII and not, with a
		// kept character: 2·10·2·10·48 = 19200 values, the whole domain.
		var in []Value
		for _, g := range "ʹͺ" {
			for _, d := range "٠١٢٣٤٥٦٧٨٩" {
				for _, o := range "ªº" {
					for e := '0'; e <= '9'; e++ {
						for c := 'А'; c <= 'Я'; c++ {
							in = append(in, Str(fmt.Sprintf("%c%c%c-%c%c", g, d, o, e, c)))
						}
					}
				}
			}
		}
		genInjective(t, pl, in, sameAlphabets)
	})
	t.Run("every character of every alphabet, alone", func(t *testing.T) {
		for i := range alphabets {
			a := &alphabets[i]
			in := make([]Value, 0, a.size)
			for v := range a.size {
				in = append(in, Str(string(a.at(v))))
			}
			genInjective(t, pl, in, sameAlphabets)
		}
	})
	t.Run("long Han names", func(t *testing.T) {
		// 8 ideographs: a domain of about 2^115, beyond 64 bits.
		var in []Value
		for i := range 2000 {
			x := uint64(i) * 0x9e3779b97f4a7c15
			var rs []rune
			for range 8 {
				rs = append(rs, 0x4e00+rune(x%20992))
				x /= 20992
			}
			in = append(in, Str(string(rs)))
		}
		genInjective(t, pl, in, sameAlphabets)
	})
	t.Run("long identifiers", func(t *testing.T) {
		// 40 characters: a domain of about 2^200, beyond 64 bits.
		var in []Value
		for i := range 3000 {
			in = append(in, Str(fmt.Sprintf("CUST-%08d-abcdefghij-%016x", i, uint64(i)*0x9e3779b97f4a7c15)))
		}
		genInjective(t, pl, in, genSameShape)
	})
}

// alphabetID is the id of the alphabet named name.
func alphabetID(t *testing.T, name string) int {
	t.Helper()
	for i, a := range alphabets {
		if a.name == name {
			return i
		}
	}
	t.Fatalf("no alphabet %q", name)
	return 0
}

// shapeOf is what imitate_unique keeps of a string: each character's
// alphabet, and every other character itself.
func shapeOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if a, _, ok := alphabetOf(r); ok {
			fmt.Fprintf(&b, "<%d>", a.id)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sameAlphabets: out has in's kind, length in bytes and shape.
func sameAlphabets(in, out Value) error {
	if in.Kind != out.Kind || len(in.S) != len(out.S) || !utf8.ValidString(out.S) {
		return fmt.Errorf("kind or length changed, or not UTF-8")
	}
	if shapeOf(in.S) != shapeOf(out.S) {
		return fmt.Errorf("shape %q became %q", shapeOf(in.S), shapeOf(out.S))
	}
	return nil
}

// TestImitateUniqueBeyondASCII: letters and digits beyond ASCII are
// permuted within their alphabets, deterministically, and the privacy
// audit's values no longer come back unchanged.
func TestImitateUniqueBeyondASCII(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	inputs := []string{
		"Иван Петров", "Zoë Ångström-Łukasz", "王小明", "ÇÄÑÄŔŸ", "Γιώργος-٣٤", "محمد", "דוד כהן",
		"राहुल शर्मा", "สมชาย ๑๒", "佐々木 さくら カタカナー", "김민준", "ＩＤ-０１２", "Ab-Ж9-王",
	}
	var vals []Value
	for _, in := range inputs {
		vals = append(vals, Str(in))
		out := genKit.must(t, pl, Str(in))
		if err := sameAlphabets(Str(in), out); err != nil {
			t.Errorf("%q → %q: %v", in, out.S, err)
		}
		if out.S == in {
			t.Errorf("%q came back unchanged", in)
		}
		// Every character the value had in an alphabet beyond ASCII is
		// in play: at least one of them changed.
		changed := false
		for i, r := range []rune(in) {
			if a, _, ok := alphabetOf(r); ok && a.id > 2 && []rune(out.S)[i] != r {
				changed = true
			}
		}
		if !changed {
			t.Errorf("%q → %q: no character beyond ASCII changed", in, out.S)
		}
	}
	genKit.checkDeterminism(t, pl, vals...)
	t.Run("seed namespaces", func(t *testing.T) {
		other := genKit.testMask(t, `{type: imitate_unique, seed: tracking}`)
		for _, in := range inputs {
			if genKit.must(t, pl, Str(in)).S == genKit.must(t, other, Str(in)).S {
				t.Errorf("%q masks alike under two seeds", in)
			}
		}
	})
	t.Run("ignores the hash input", func(t *testing.T) {
		a := genKit.must(t, pl, Str("Иван"))
		b, _ := genKit.run(pl, genSecret, Str("Иван"), []byte("some customer"))
		if a.S != b.S {
			t.Errorf("a hash input changed the output: %q vs %q", a.S, b.S)
		}
	})
}

// TestImitateUniqueRefusesOtherScripts: a letter or digit in no alphabet
// can be neither permuted nor kept: the value is an error (a dead letter),
// whose message names the character's kind and script but neither the
// character nor its code point.
func TestImitateUniqueRefusesOtherScripts(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	for _, tc := range []struct {
		in   string
		r    rune
		want string
	}{
		{"ID-ᏣᎳᎩ", 'Ꮳ', "an upper-case letter of the Unicode script Cherokee"},
		{"Иван ⵣ", 'ⵣ', "a letter of the Unicode script Tifinagh"},
		{"𝐀1", '𝐀', "an upper-case letter of the Unicode script Common"},
	} {
		out, err := genKit.run(pl, genSecret, Str(tc.in), nil)
		if err == nil {
			t.Errorf("%q → %q, want an error", tc.in, out.S)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "imitate_unique: ") {
			t.Errorf("%q: error %q, want it to say %q", tc.in, msg, tc.want)
		}
		hex := fmt.Sprintf("%X", tc.r)
		for _, leak := range []string{string(tc.r), hex, strings.ToLower(hex), tc.in} {
			if strings.Contains(msg, leak) {
				t.Errorf("%q: error %q quotes the value (%q)", tc.in, msg, leak)
			}
		}
	}
	// Through a ruleset, the record is refused with reason mask_error.
	rs, err := rulesets.Parse("t", "", []byte("version: \"1.0\"\nrules:\n  - {path: \"$.name\", masks: [{type: imitate_unique}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.MaskValue(nil, testSecret, []byte(`{"name":"ᏣᎳᎩ"}`), nil)
	if err == nil || ReasonOf(err) != ReasonMask || out != nil || strings.Contains(err.Error(), "ᏣᎳᎩ") {
		t.Errorf("record with a Cherokee name: out %q, err %v; want no output and a mask_error that does not quote it", out, err)
	}
}

// TestImitateUniqueKeepsASCIIOutputs: values whose only characters beyond
// ASCII are kept mask exactly as before alphabets beyond ASCII were
// permuted (uniqueText against uniqueString's former outputs).
func TestImitateUniqueKeepsASCIIOutputs(t *testing.T) {
	in := []string{"Price: 5€ — №7 😀 ok", "«AB-12»", "x\u00a0y 3½", "²³ m² 4℃", "→ A1 ← ©2024", "ab\xffcd", "a\ufffdb9", "e\u0301Z", "Ⅻ-9 ⓐ", "BZF123"}
	for _, tc := range []struct {
		mask string
		want []string
	}{
		{`{type: imitate_unique}`, []string{
			"Khfax: 8\u20ac \u2014 \u21168 \U0001f600 aa", "\u00abBF-25\u00bb", "p\u00a0n 7\u00bd", "\u00b2\u00b3 s\u00b2 2\u2103",
			"\u2192 G1 \u2190 \u00a95056", "zx\xffgk", "t\ufffde9", "c\u0301K", "\u216b-0 \u24d0", "TOD033",
		}},
		{`{type: imitate_unique, seed: tracking}`, []string{
			"Tzshx: 6\u20ac \u2014 \u21161 \U0001f600 ij", "\u00abVE-95\u00bb", "t\u00a0r 8\u00bd", "\u00b2\u00b3 z\u00b2 0\u2103",
			"\u2192 F3 \u2190 \u00a99372", "mh\xffkq", "s\ufffdk3", "o\u0301Z", "\u216b-3 \u24d0", "RXI618",
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

// TestUniqueTextMatchesUniqueString: the general path computes what the
// ASCII one does, for ASCII values (so a value masks alike whichever path
// takes it).
func TestUniqueTextMatchesUniqueString(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	c := &Ctx{sec: MustSecret(genSecret), cur: &pl[0]}
	var kc fpeKeyCache
	r := &Rand{}
	r.seed([32]byte{5})
	const chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_ ."
	for range 2000 {
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		a, err := uniqueString(c, &kc, string(b))
		if err != nil {
			t.Fatal(err)
		}
		a = strings.Clone(a)
		g, err := uniqueText(c, &kc, string(b))
		if err != nil {
			t.Fatal(err)
		}
		if a != g {
			t.Fatalf("%q: uniqueString gives %q, uniqueText %q", b, a, g)
		}
	}
}

func TestImitateUnique(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	genKit.checkDeterminism(t, pl, Str("C-1001"), Num("123456"), Str("abc"))
	t.Run("ignores the hash input", func(t *testing.T) {
		a, _ := genKit.run(pl, genSecret, Str("C-1001"), nil)
		b, _ := genKit.run(pl, genSecret, Str("C-1001"), []byte("some customer"))
		if a.S != b.S {
			t.Errorf("a hash input changed the output: %q vs %q", a.S, b.S)
		}
	})
	t.Run("seed namespaces", func(t *testing.T) {
		other := genKit.testMask(t, `{type: imitate_unique, seed: tracking}`)
		same := 0
		for i := range 50 {
			in := Str(fmt.Sprintf("ID%06d", i))
			if genKit.must(t, pl, in).S == genKit.must(t, other, in).S {
				same++
			}
		}
		if same > 2 {
			t.Errorf("%d of 50 values masked alike under different seeds", same)
		}
	})
	t.Run("numbers stay valid", func(t *testing.T) {
		for _, in := range []string{"0", "5", "-42", "0.125", "-10.5e3", "12345678901234567890123"} {
			out := genKit.must(t, pl, Num(in))
			if out.Kind != Number || !isJSONNumber(out.S) || len(out.S) != len(in) {
				t.Errorf("%s → %+v", in, out)
			}
		}
	})
	t.Run("nothing to replace", func(t *testing.T) {
		for _, in := range []Value{Str(""), Str("--/--"), NullValue} {
			if out := genKit.must(t, pl, in); !sameValue(in, out) {
				t.Errorf("%+v → %+v, want it unchanged", in, out)
			}
		}
	})
	t.Run("boolean is an error", func(t *testing.T) {
		if _, err := genKit.run(pl, genSecret, Boolean(false), nil); err == nil || !strings.Contains(err.Error(), "string or a number") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestImitateUniqueErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"unknown key", "type: imitate_unique\nhash_columns: [a]\n", "2:1", "hash_columns"},
		{"seed not a string", "type: imitate_unique\nseed: [a]\n", "2:7", "takes a string"},
	})
}

// TestImitateUniqueLengthCap: a value with more than maxUniqueChars
// replaced characters is a mask error (the permutation's cost grows with
// the square of its length); one at the cap masks, keeping its shape.
func TestImitateUniqueLengthCap(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	at, over := maxUniqueChars, maxUniqueChars+1
	ok := []Value{
		Str(strings.Repeat("7", at)),
		Str(strings.Repeat("ab-", at/2)), // kept bytes do not count
		Num("1" + strings.Repeat("0", at-1)),
		Str(strings.Repeat("é", at)),
	}
	for _, in := range ok {
		t.Run(fmt.Sprintf("%s of %d bytes", in.Kind, len(in.S)), func(t *testing.T) {
			if out := genKit.must(t, pl, in); len(out.S) != len(in.S) || out.S == in.S {
				t.Errorf("a value at the cap did not mask to one of its shape")
			}
		})
	}
	bad := []Value{
		Str(strings.Repeat("7", over)),
		Str(strings.Repeat("aZ", over/2+1)),
		Num("1" + strings.Repeat("0", over-1)),
		Num("1." + strings.Repeat("5", over)),
		Str(strings.Repeat("é", over)),
	}
	for _, in := range bad {
		t.Run(fmt.Sprintf("over/%s of %d bytes", in.Kind, len(in.S)), func(t *testing.T) {
			_, err := genKit.run(pl, genSecret, in, nil)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at most %d letters and digits", maxUniqueChars)) {
				t.Errorf("got error %v, want the length cap", err)
			}
		})
	}
}

func TestFPEPermutationSmallDomains(t *testing.T) {
	// Every domain size from 1 to 300: the permutation must be a bijection.
	f := newFPE([32]byte{9}, []byte("test"))
	for n := uint64(1); n <= 300; n++ {
		seen := make([]bool, n)
		for x := range n {
			y := f.permute64(x, n, nil)
			if y >= n || seen[y] {
				t.Fatalf("n=%d: %d → %d is out of range or taken", n, x, y)
			}
			seen[y] = true
		}
	}
}
