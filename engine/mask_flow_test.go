package engine

import (
	"strings"
	"testing"
)

func TestDoNothing(t *testing.T) {
	pl := xfKit.testMask(t, `{type: do_nothing}`)
	for _, in := range []Value{Str("x"), Num("1.50"), NullValue, Boolean(false), {Kind: Array, Raw: []byte(`[1]`)}} {
		if got := xfKit.must(t, pl, in); !sameValue(got, in) {
			t.Errorf("%v changed to %v", in, got)
		}
	}
	xfKit.checkBad(t, []maskBadCase{{"takes no parameters", "type: do_nothing\nvalue: 1", "2:1", "value"}})
}

func TestConcat(t *testing.T) {
	t.Run("every mask gets the original", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: concat, glue: "|", masks: [
			{type: take_substring, end_index: 3},
			{type: transform_case, case: upper},
			{type: take_substring, start_index: -2}]}`)
		if got := xfKit.must(t, pl, Str("abcdef")); !sameValue(got, Str("abc|ABCDEF|ef")) {
			t.Errorf("got %v %q", got.Kind, got.S)
		}
	})
	t.Run("numbers and null join as text", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: concat, masks: [{type: do_nothing}, {type: do_nothing}]}`)
		if got := xfKit.must(t, pl, Num("12")); !sameValue(got, Str("1212")) {
			t.Errorf("got %v %q", got.Kind, got.S)
		}
		if got := xfKit.must(t, pl, NullValue); !sameValue(got, Str("")) {
			t.Errorf("null gave %v %q", got.Kind, got.S)
		}
	})
	t.Run("a part that drops is an error", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: concat, masks: [{type: do_nothing}, {type: drop}]}`)
		if _, err := xfKit.run(pl, xfSecret, Str("x"), nil); err == nil || !strings.Contains(err.Error(), "mask 2 (drop)") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("parts are seeded apart", func(t *testing.T) {
		// Two identical hash masks give the same text (hash uses no
		// identity); two differently parameterised ones do not.
		pl := xfKit.testMask(t, `{type: concat, glue: "-", masks: [{type: hash, length: 8}, {type: hash, length: 9}]}`)
		got := xfKit.must(t, pl, Str("v")).S
		a, b, _ := strings.Cut(got, "-")
		if len(a) != 8 || len(b) != 9 || !strings.HasPrefix(b, a) {
			t.Errorf("got %q", got)
		}
	})
	xfKit.checkBad(t, []maskBadCase{
		{"no masks", "type: concat\nglue: x", "1:1", "missing required key \"masks\""},
		{"masks not a list", "type: concat\nmasks: {type: do_nothing}", "2:8", "non-empty list"},
		{"bad nested", "type: concat\nmasks:\n  - {type: hash, format: octal}", "3:26", "format must be"},
	})
}

func TestChain(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`{type: chain, masks: [{type: transform_case, case: upper}, {type: replace_regex, regex: '[a-z]', value: _}]}`, "ABC"},
		{`{type: chain, masks: [{type: replace_regex, regex: '[a-z]', value: _}, {type: transform_case, case: upper}]}`, "__C"},
		{`{type: concat, glue: "/", masks: [{type: chain, masks: [{type: take_substring, end_index: 1}, {type: transform_case, case: upper}]}, {type: do_nothing}]}`, "A/abC"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := xfKit.must(t, xfKit.testMask(t, tc.src), Str("abC")); got.S != tc.want {
				t.Errorf("got %q, want %q", got.S, tc.want)
			}
		})
	}
	t.Run("drop ends the chain", func(t *testing.T) {
		pl := xfKit.testMask(t, `{type: chain, masks: [{type: drop}, {type: transform_case, case: upper}]}`)
		if got := xfKit.must(t, pl, Str("x")); got.Kind != Missing {
			t.Errorf("got %v", got.Kind)
		}
	})
	xfKit.checkBad(t, []maskBadCase{{"empty", "type: chain\nmasks: []", "2:8", "non-empty list"}})
}

func TestDrop(t *testing.T) {
	pl := xfKit.testMask(t, `{type: drop}`)
	for _, in := range []Value{Str("x"), Num("1"), NullValue, {Kind: Object, Raw: []byte(`{}`)}} {
		if got := xfKit.must(t, pl, in); got.Kind != Missing {
			t.Errorf("%v gave %v", in.Kind, got.Kind)
		}
	}
	xfKit.checkBad(t, []maskBadCase{{"takes no parameters", "type: drop\nif_empty: true", "2:1", "if_empty"}})
}
