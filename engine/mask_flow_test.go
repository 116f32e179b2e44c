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

// TestConcatChainDictForm checks DataMasque's dictionary form of masks: the
// names are labels only, so a dictionary masks exactly as the list of its
// values, in the order written, with the same identity.
func TestConcatChainDictForm(t *testing.T) {
	const (
		a = `{type: imitate}`
		b = `{type: from_format_string, value_format: "{[a-z],6}"}`
		c = `{type: transform_case, case: upper}`
	)
	ins := []Value{Str("Ada Lovelace"), Str("x-42"), Str("1234")}
	for _, typ := range []string{"concat", "chain"} {
		t.Run(typ, func(t *testing.T) {
			list := `{type: ` + typ + `, masks: [` + a + `, ` + b + `, ` + c + `]}`
			// Names out of alphabetical order: the order written counts.
			dict := `{type: ` + typ + `, masks: {zeta: ` + a + `, alpha: ` + b + `, mid: ` + c + `}}`
			swapped := `{type: ` + typ + `, masks: {alpha: ` + b + `, zeta: ` + a + `, mid: ` + c + `}}`
			// Inside another mask, whose identity holds the nested form.
			outer := func(inner string) string { return `{type: chain, masks: [` + inner + `, {type: imitate}]}` }
			pl, pd := xfKit.testMask(t, list), xfKit.testMask(t, dict)
			if pl[0].id != pd[0].id {
				t.Error("the dictionary form has another identity than the list form")
			}
			if xfKit.testMask(t, outer(list))[0].id != xfKit.testMask(t, outer(dict))[0].id {
				t.Error("a mask holding the dictionary form has another identity than one holding the list form")
			}
			if pd[0].id == xfKit.testMask(t, swapped)[0].id {
				t.Error("the order of the named masks does not count in the identity")
			}
			ps := xfKit.testMask(t, swapped)
			orderSeen := false
			for _, in := range ins {
				got, want := xfKit.must(t, pd, in), xfKit.must(t, pl, in)
				if !sameValue(got, want) {
					t.Errorf("%v: dictionary form gave %q, list form %q", in.S, got.S, want.S)
				}
				if !sameValue(xfKit.must(t, ps, in), want) {
					orderSeen = true
				}
			}
			if !orderSeen {
				t.Error("swapping two named masks changed no output: are they run in the order written?")
			}
		})
	}
	t.Run("in a ruleset", func(t *testing.T) {
		// DataMasque's example form, block style.
		m := xfCompileRuleset(t, `
version: "1.0"
rules:
  - path: "$.name"
    masks:
      - type: concat
        glue: " "
        masks:
          first:
            type: from_fixed
            value: Bill
          last:
            type: chain
            masks:
              a: { type: from_fixed, value: smith }
              b: { type: transform_case, case: upper }
`)
		out, err := m.MaskValue(nil, MustSecret(xfSecret), []byte(`{"name":"Ada Lovelace"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != `{"name":"Bill SMITH"}` {
			t.Errorf("got %s", out)
		}
	})
	xfKit.checkBad(t, []maskBadCase{
		{"empty mapping", "type: chain\nmasks: {}", "2:8", "non-empty list"},
		{"one mask, not named", "type: concat\nmasks:\n  type: imitate", "3:3", "not a single mask"},
		{"name twice", "type: concat\nmasks:\n  a: {type: imitate}\n  a: {type: do_nothing}", "4:3", `names "a" twice`},
		{"name not a scalar", "type: chain\nmasks: {[a]: {type: imitate}}", "2:9", "takes a name for each mask"},
		{"value not a mask", "type: chain\nmasks:\n  a: imitate", "3:6", "a mask is a mapping"},
		{"inapplicable nested", "type: concat\nmasks:\n  a: {type: from_column, source_column: x}", "3:6", "cannot apply to a message"},
		{"bad nested", "type: chain\nmasks:\n  a: {type: hash, format: octal}", "3:27", "format must be"},
	})
}
