package engine

import (
	"strings"
	"testing"
)

func TestTransformCase(t *testing.T) {
	tests := []struct {
		cas  string
		in   Value
		want Value
	}{
		{"upper", Str("Hello wörld"), Str("HELLO WÖRLD")},
		{"uppercase", Str("abc"), Str("ABC")},
		{"lower", Str("Hello WÖRLD"), Str("hello wörld")},
		{"title", Str("o'neil mcDONALD-smith"), Str("O'Neil Mcdonald-Smith")},
		{"title_case", Str("ada lovelace"), Str("Ada Lovelace")},
		{"capitalize", Str("hELLO World"), Str("Hello world")},
		{"capitalize", Str(""), Str("")},
		{"upper", Num("1e5"), Num("1e5")},
		{"upper", Boolean(true), Boolean(true)},
	}
	for _, tc := range tests {
		t.Run(tc.cas+"/"+tc.in.S, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: transform_case, case: "+tc.cas+"}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, tc.want) {
				t.Errorf("got %v %q, want %v %q", got.Kind, got.S, tc.want.Kind, tc.want.S)
			}
		})
	}
	xfKit.checkBad(t, []maskBadCase{
		{"missing case", "type: transform_case", "1:1", "missing required key \"case\""},
		{"bad case", "type: transform_case\ncase: shout", "2:7", "case must be one of"},
	})
}

func TestTakeSubstring(t *testing.T) {
	tests := []struct {
		params string
		in     Value
		want   Value
	}{
		{"start_index: 0, end_index: 3", Str("abcdef"), Str("abc")},
		{"start_index: 2", Str("abcdef"), Str("cdef")},
		{"end_index: -2", Str("abcdef"), Str("abcd")},
		{"start_index: -3", Str("abcdef"), Str("def")},
		{"start_index: 1, end_index: 100", Str("héllo"), Str("éllo")},
		{"start_index: 10", Str("abc"), Str("")},
		{"start_index: 0, end_index: 4", Num("123456"), Num("1234")},
	}
	for _, tc := range tests {
		t.Run(tc.params+"/"+tc.in.S, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: take_substring, "+tc.params+"}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, tc.want) {
				t.Errorf("got %v %q, want %q", got.Kind, got.S, tc.want.S)
			}
		})
	}
	t.Run("number that stops being one", func(t *testing.T) {
		pl := xfKit.testMask(t, "{type: take_substring, start_index: 0, end_index: 3}")
		if _, err := xfKit.run(pl, xfSecret, Num("-5.5"), nil); err == nil || !strings.Contains(err.Error(), "typecast") {
			t.Errorf("error %v", err)
		}
		if _, err := xfKit.run(pl, xfSecret, Boolean(true), nil); err == nil {
			t.Error("a boolean gave no error")
		}
	})
	xfKit.checkBad(t, []maskBadCase{
		{"no range", "type: take_substring", "1:1", "needs start_index or end_index"},
		{"empty range", "type: take_substring\nstart_index: 4\nend_index: 2", "3:12", "always empty"},
		{"not int", "type: take_substring\nstart_index: one", "2:14", "whole number"},
	})
}

func TestReplaceSubstring(t *testing.T) {
	pl := xfKit.testMask(t, `{type: replace_substring, start_index: 2, end_index: 5, masks: [{type: transform_case, case: upper}]}`)
	if got := xfKit.must(t, pl, Str("abcdefg")); got.S != "abCDEfg" {
		t.Errorf("got %q", got.S)
	}
	if got := xfKit.must(t, pl, Str("a")); got.S != "a" {
		t.Errorf("out of range gave %q", got.S)
	}
	t.Run("nested masks see only the substring", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: replace_substring, start_index: -4, masks: [{type: hash, length: 8}]}`)
		a := xfKit.must(t, pl, Str("card 1234"))
		b := xfKit.must(t, pl, Str("acct 1234"))
		if !strings.HasPrefix(a.S, "card ") || a.S[5:] != b.S[5:] || len(a.S) != 13 {
			t.Errorf("got %q and %q", a.S, b.S)
		}
	})
	t.Run("number stays a number", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: replace_substring, start_index: 1, masks: [{type: mask_characters, character: "0"}]}`)
		if got := xfKit.must(t, pl, Num("98765")); !sameValue(got, Num("90000")) {
			t.Errorf("got %v %q", got.Kind, got.S)
		}
	})
	xfKit.checkBad(t, []maskBadCase{
		{"no masks", "type: replace_substring\nstart_index: 1", "1:1", "missing required key \"masks\""},
		{"empty masks", "type: replace_substring\nmasks: []", "2:8", "non-empty list"},
		{"bad nested", "type: replace_substring\nmasks: [{type: transform_case}]", "2:9", "missing required key \"case\""},
		{"unknown nested", "type: replace_substring\nmasks: [{type: nope}]", "2:9", "unknown mask type"},
	})
}

func TestMaskCharacters(t *testing.T) {
	tests := []struct {
		params string
		in     Value
		want   Value
	}{
		{"", Str("secret"), Str("******")},
		{"keep_last: 4", Str("4111111111111111"), Str("************1111")},
		{"keep_first: 1, keep_last: 1, character: '#'", Str("héllo"), Str("h###o")},
		{"keep_last: 4, skip_characters: ' -'", Str("4111-1111 1111-1111"), Str("****-**** ****-1111")},
		{"keep_first: 2, keep_last: 2", Str("abc"), Str("***")},
		{"keep_first: 1, character: '0'", Num("98765"), Num("90000")},
		// What the docs give for numbers: a non-zero digit keeps any
		// number a number, sign, fraction and exponent included.
		{"keep_last: 2, character: '9'", Num("12345"), Num("99945")},
		{"keep_last: 2, character: '9'", Num("0.0015"), Num("999915")},
		{"character: '9'", Num("-1e6"), Num("9999")},
	}
	for _, tc := range tests {
		t.Run(tc.params+"/"+tc.in.S, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: mask_characters"+map[bool]string{true: ", " + tc.params, false: ""}[tc.params != ""]+"}")
			if got := xfKit.must(t, pl, tc.in); !sameValue(got, tc.want) {
				t.Errorf("got %v %q, want %q", got.Kind, got.S, tc.want.S)
			}
		})
	}
	pl := xfKit.testMask(t, "{type: mask_characters}")
	if _, err := xfKit.run(pl, xfSecret, Num("12"), nil); err == nil {
		t.Error("masking a number with * gave no error")
	}
	// A masked first digit with "0" is a leading zero: an error, as the
	// docs say, never a number JSON refuses.
	pl = xfKit.testMask(t, "{type: mask_characters, keep_last: 1, character: '0'}")
	if got, err := xfKit.run(pl, xfSecret, Num("120"), nil); err == nil {
		t.Errorf("120 masked with 0 gave %q, want an error", got.S)
	}
	xfKit.checkBad(t, []maskBadCase{
		{"negative", "type: mask_characters\nkeep_first: -1", "2:13", "must not be negative"},
		{"negative last", "type: mask_characters\nkeep_last: -1", "2:12", "must not be negative"},
		{"two chars", "type: mask_characters\ncharacter: '**'", "2:12", "exactly one character"},
		{"skip has char", "type: mask_characters\nskip_characters: '*-'", "2:18", "must not contain"},
		{"unknown key", "type: mask_characters\nkeep: 3", "2:1", "keep"},
	})
}
