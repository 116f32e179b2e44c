package engine

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseGenFormat(t *testing.T) {
	tests := []struct {
		format   string
		re       string // every output must match
		min, max int
	}{
		{"{[a-z],8}.{[a-z],6}@example.com", `^[a-z]{8}\.[a-z]{6}@example\.com$`, 27, 27},
		{"{[0-9],3}", `^[0-9]{3}$`, 3, 3},
		{"{[A-Z0-9],4}", `^[A-Z0-9]{4}$`, 4, 4},
		{"{[A-Z]}", `^[A-Z]$`, 1, 1},
		{"+64 {[2-9]}{[0-9],6}", `^\+64 [2-9][0-9]{6}$`, 11, 11},
		{"{[a-f0-9_],2-5}", `^[a-f0-9_]{2,5}$`, 2, 5},
		{"{[a-z],0,3}x", `^[a-z]{0,3}x$`, 1, 4},
		{"{[a-z], 2 - 3 }", `^[a-z]{2,3}$`, 2, 3},
		{"{{{[0-9],2}}}", `^\{[0-9]{2}\}$`, 4, 4},
		{"{[-a]}{[a-]}", `^[-a][-a]$`, 2, 2},
		{`{[\]\\\-]}`, `^[\]\\\-]$`, 1, 1},
		{"{[ -~],5}", `^[ -~]{5}$`, 5, 5},
		{"{[αβγ]}-ü", `^[αβγ]-ü$`, 3, 3},
		{"{[0-9],0}end", `^end$`, 3, 3},
		{"no groups", `^no groups$`, 9, 9},
		{"", `^$`, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f, err := parseGenFormat(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if f.minLen != tt.min || f.maxLen != tt.max {
				t.Errorf("length bounds %d..%d, want %d..%d", f.minLen, f.maxLen, tt.min, tt.max)
			}
			re := regexp.MustCompile(tt.re)
			var r Rand
			r.seed([32]byte{1, 2, 3})
			lengths := map[int]bool{}
			for range 200 {
				out := string(f.generate(&r, nil))
				if !re.MatchString(out) {
					t.Fatalf("output %q does not match %s", out, tt.re)
				}
				lengths[utf8.RuneCountInString(out)] = true
			}
			if len(lengths) != tt.max-tt.min+1 {
				t.Errorf("200 outputs had %d different lengths, want every length in %d..%d", len(lengths), tt.min, tt.max)
			}
		})
	}
}

func TestParseGenFormatErrors(t *testing.T) {
	tests := []struct {
		format string
		offset int
		want   string
	}{
		{"abc{", 4, "expected [ after {"},
		{"{a-z],3}", 1, "expected [ after {"},
		{"x}", 1, "a } without its {"},
		{"{[a-z],3", 0, "never closed"},
		{"{[a-z]", 0, "never closed"},
		{"{[a-z", 1, "this [ is never closed"},
		{"{[],3}", 1, "the set [] is empty"},
		{"{[z-a]}", 2, "runs backwards"},
		{"{[a-z],x}", 7, "expected a count"},
		{"{[a-z],-1}", 7, "expected a count"},
		{"{[a-z],}", 7, "expected a count"},
		{"{[a-z],5-2}", 7, "count range 5-2 runs backwards"},
		{"{[a-z],3x}", 7, "expected a count"},
		{"{[a-z]x}", 6, "expected , or } after the ]"},
		{"{[a-z],10001}", 7, "at most 10000"},
		{"{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a-z],10000}{[a]}", 130, "the limit is 100000"},
		{`{[a\`, 3, "a \\ at the end"},
		{"{[\ud7ff-\ue000]}", 2, "surrogates"},
		{"\xff", 0, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			_, err := parseGenFormat(tt.format)
			fe, ok := err.(*genFormatError)
			if !ok {
				t.Fatalf("err = %v, want a *genFormatError", err)
			}
			if fe.Offset != tt.offset || !strings.Contains(fe.Msg, tt.want) {
				t.Errorf("error at byte %d %q, want byte %d containing %q", fe.Offset, fe.Msg, tt.offset, tt.want)
			}
		})
	}
}

func TestFromFormatString(t *testing.T) {
	pl := genKit.testMask(t, `{type: from_format_string, value_format: "{[a-z],8}.{[a-z],6}@example.com"}`)
	re := regexp.MustCompile(`^[a-z]{8}\.[a-z]{6}@example\.com$`)
	seen := map[string]bool{}
	for i := range 100 {
		out := genKit.must(t, pl, Str(fmt.Sprintf("person%d@corp.test", i)))
		if out.Kind != String || !re.MatchString(out.S) {
			t.Fatalf("output %+v does not have the format's shape", out)
		}
		seen[out.S] = true
	}
	if len(seen) < 99 {
		t.Errorf("100 inputs gave only %d different outputs", len(seen))
	}
	genKit.checkDeterminism(t, pl, Str("a@b.c"), Str("d@e.f"))

	t.Run("same hash source, same output", func(t *testing.T) {
		a, _ := genKit.run(pl, genSecret, Str("one"), []byte("customer-7"))
		b, _ := genKit.run(pl, genSecret, Str("two"), []byte("customer-7"))
		if !sameValue(a, b) {
			t.Errorf("one hash input gave %q and %q", a.S, b.S)
		}
	})
	t.Run("number stays a number", func(t *testing.T) {
		pl := genKit.testMask(t, `{type: from_format_string, value_format: "{[1-9]}{[0-9],4}"}`)
		out := genKit.must(t, pl, Num("12345"))
		if out.Kind != Number || !isJSONNumber(out.S) || len(out.S) != 5 {
			t.Errorf("got %+v, want a 5-digit number", out)
		}
	})
	t.Run("number with text is an error", func(t *testing.T) {
		pl := genKit.testMask(t, `{type: from_format_string, value_format: "{[a-z],3}"}`)
		_, err := genKit.run(pl, genSecret, Num("123"), nil)
		if err == nil || !strings.Contains(err.Error(), "not a JSON number") {
			t.Errorf("err = %v, want a not-a-number error", err)
		}
	})
	t.Run("never the original", func(t *testing.T) {
		// 2^7 = 128 outputs: enough that an input equal to one of them is
		// redrawn.
		pl := genKit.testMask(t, `{type: from_format_string, value_format: "{[ab],7}"}`)
		for i := range 128 {
			in := strings.NewReplacer("0", "a", "1", "b").Replace(fmt.Sprintf("%07b", i))
			if out := genKit.must(t, pl, Str(in)); out.S == in {
				t.Fatalf("input %q came back unchanged", in)
			}
		}
	})
}

func TestFromFormatStringErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing value_format", `{type: from_format_string}`, "1:1", `missing required key "value_format"`},
		{"bad format", "type: from_format_string\nvalue_format: \"ab{[a-z],x}\"\n", "2:15", "value_format: at byte 9: expected a count"},
		{"not a string", "type: from_format_string\nvalue_format: [a]\n", "2:15", "takes a string"},
		{"DataMasque's other key", "type: from_format_string\nformat: \"{[a-z],3}\"\n", "2:1", "format"},
	})
}

// genMatchFormat reports whether s is an output f can produce, by
// backtracking over the lengths of the variable groups.
func genMatchFormat(f *genFormat, s string) bool {
	var match func(pi int, rest string) bool
	match = func(pi int, rest string) bool {
		if pi == len(f.pieces) {
			return rest == ""
		}
		pc := f.pieces[pi]
		if pc.set == nil {
			return strings.HasPrefix(rest, pc.lit) && match(pi+1, rest[len(pc.lit):])
		}
		i := 0
		for n := 0; n <= pc.max; n++ {
			if n >= pc.min && match(pi+1, rest[i:]) {
				return true
			}
			if n == pc.max || i >= len(rest) {
				return false
			}
			c, size := utf8.DecodeRuneInString(rest[i:])
			if !pc.set.contains(c) {
				return false
			}
			i += size
		}
		return false
	}
	return match(0, s)
}

// FuzzGenFormat checks the format-string parser's invariants: it never
// panics; a format it accepts generates valid UTF-8 whose length lies in
// [minLen, maxLen] and which the format matches.
func FuzzGenFormat(f *testing.F) {
	for _, s := range []string{
		"{[a-z],8}.{[a-z],6}@example.com", "{[0-9],3}", "{[A-Z0-9],4}", "{{x}}", "{[a-c],1-3}{[b-d],2,4}",
		`{[\]\\]}`, "{[-]}", "{", "}", "{[", "{[a-z],", "{[é-ü],2}", "{[a-z],99999}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gf, err := parseGenFormat(s)
		if err != nil {
			if _, ok := err.(*genFormatError); !ok {
				t.Fatalf("error %T is not a *genFormatError", err)
			}
			return
		}
		if gf.minLen > gf.maxLen || gf.maxLen > genFormatMaxLength {
			t.Fatalf("length bounds %d..%d", gf.minLen, gf.maxLen)
		}
		var r Rand
		r.seed([32]byte{byte(len(s))})
		out := gf.generate(&r, nil)
		n := utf8.RuneCount(out)
		if !utf8.Valid(out) || n < gf.minLen || n > gf.maxLen {
			t.Fatalf("output of %d runes (valid UTF-8: %v) outside %d..%d", n, utf8.Valid(out), gf.minLen, gf.maxLen)
		}
		if gf.maxLen <= 64 && !genMatchFormat(gf, string(out)) {
			t.Fatalf("output %q does not match its format %q", out, s)
		}
	})
}
