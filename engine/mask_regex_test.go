package engine

import (
	"regexp"
	"strings"
	"testing"
)

func TestReplaceRegex(t *testing.T) {
	tests := []struct {
		name, src string
		in        Value
		want      string
	}{
		{"value", `{type: replace_regex, regex: '\d', value: "#"}`, Str("a1b22c"), "a#b##c"},
		{"masks", `{type: replace_regex, regex: '[a-z]+', masks: [{type: transform_case, case: upper}]}`, Str("abc-123-de"), "ABC-123-DE"},
		{"group by number", `{type: replace_regex, regex: '(\w+)@(\w+)', group: 1, value: x}`, Str("ann@home, bob@work"), "x@home, x@work"},
		{"group by name", `{type: replace_regex, regex: '(?P<user>\w+)@\w+', group: user, masks: [{type: transform_case, case: upper}]}`, Str("ann@home"), "ANN@home"},
		{"optional group absent", `{type: replace_regex, regex: 'a(b)?', group: 1, value: X}`, Str("a ab"), "a aX"},
		{"no match", `{type: replace_regex, regex: 'z', value: y}`, Str("abc"), "abc"},
		{"empty matches skipped", `{type: replace_regex, regex: 'x*', value: Y}`, Str("axxb"), "aYb"},
		{"number stays number", `{type: replace_regex, regex: '\d{3}$', value: "000"}`, Str("123456"), "123000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pl := xfKit.testMask(t, tc.src)
			if got := xfKit.must(t, pl, tc.in); got.S != tc.want {
				t.Errorf("got %q, want %q", got.S, tc.want)
			}
		})
	}
	t.Run("equal matches, equal replacements", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: replace_regex, regex: '\b\d{4}\b', masks: [{type: hash, length: 8}]}`)
		got := xfKit.must(t, pl, Str("1234 and 5678 and 1234"))
		parts := regexp.MustCompile(`[0-9a-f]{8}`).FindAllString(got.S, -1)
		if len(parts) != 3 || parts[0] != parts[2] || parts[0] == parts[1] || strings.Contains(got.S, "1234") {
			t.Errorf("got %q", got.S)
		}
	})
	t.Run("number", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: replace_regex, regex: '\d$', value: "0"}`)
		if got := xfKit.must(t, pl, Num("129")); !sameValue(got, Num("120")) {
			t.Errorf("got %v %q", got.Kind, got.S)
		}
		pl = xfKit.testMask(t, `{type: replace_regex, regex: '\d', value: "x"}`)
		if _, err := xfKit.run(pl, xfSecret, Num("12"), nil); err == nil {
			t.Error("a number turned to text gave no error")
		}
	})
	t.Run("determinism", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: replace_regex, regex: '\d+', masks: [{type: hash}]}`)
		xfKit.checkDeterminism(t, pl, Str("id 42"), Str("7 and 8"))
	})
	xfKit.checkBad(t, []maskBadCase{
		{"missing regex", "type: replace_regex\nvalue: x", "1:1", "missing required key \"regex\""},
		{"bad regex", "type: replace_regex\nregex: '(a'\nvalue: x", "2:8", "does not compile"},
		{"backreference", "type: replace_regex\nregex: '(a)\\1'\nvalue: x", "2:8", "does not compile"},
		{"neither", "type: replace_regex\nregex: a", "1:1", "needs masks"},
		{"both", "type: replace_regex\nregex: a\nvalue: x\nmasks: [{type: do_nothing}]", "3:8", "not both"},
		{"group out of range", "type: replace_regex\nregex: '(a)'\ngroup: 2\nvalue: x", "3:8", "does not exist"},
		{"group name", "type: replace_regex\nregex: '(a)'\ngroup: nope\nvalue: x", "3:8", "no group named"},
		{"empty regex", "type: replace_regex\nregex: ''\nvalue: x", "2:8", "regex is empty"},
	})
}
