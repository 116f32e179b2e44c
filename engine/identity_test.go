package engine

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// idKit compiles masks for the identity tests, with a user seed file of
// two columns beside the ruleset.
func idKit(t *testing.T) maskKit {
	t.Helper()
	dir := t.TempDir()
	csv := "Name,Code\nAroha,A1\nBeatrix,B2\nCasimir,C3\nDmitri,D4\n"
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return maskKit{secret: "identity-secret-0123456789abcdef", other: "identity-other-0123456789abcdef",
		now: time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC), seedDir: dir}
}

// idSamples are the values every mask of these tests is applied to: text,
// a date, a card number, numbers, JSON and XML in strings.
var idSamples = []Value{
	Str("Alice Smith 42"), Str("2020-02-29"), Str("1985-07-04 13:45:12"), Str("4111111111111111"),
	Str("49091850"), Str("123e4567-e89b-12d3-a456-426614174000"), Num("12345"), Num("3.5"),
	Str(`{"a":"Hello 12","b":[1,2]}`), Str("<a>Hello 12</a>"), Str("X9245326"),
}

// outputs applies pl to every sample, with two secrets, each value hashing
// itself and under a hash input: what a user of the mask can observe.
func (k maskKit) outputs(pl Pipeline) []string {
	var out []string
	for _, sec := range []string{k.secret, k.other} {
		for _, h := range [][]byte{nil, []byte("customer-7")} {
			for _, v := range idSamples {
				got, err := k.runDoc(pl, sec, v, `{"a":"hello","n":[1,2]}`, h)
				if err != nil {
					out = append(out, "error: "+err.Error())
				} else {
					out = append(out, fmt.Sprintf("%v %q", got.Kind, got.S))
				}
			}
		}
	}
	return out
}

// sameMask checks that two mask snippets compile to the same identity and
// mask every sample alike.
func (k maskKit) sameMask(t *testing.T, a, b string) {
	t.Helper()
	pa, err := k.tryMask(a)
	if err != nil {
		t.Fatalf("compile %s: %v", a, err)
	}
	pb, err := k.tryMask(b)
	if err != nil {
		t.Fatalf("compile %s: %v", b, err)
	}
	if pa[0].id != pb[0].id {
		t.Errorf("%s and %s have different identities", a, b)
	}
	oa, ob := k.outputs(pa), k.outputs(pb)
	for i := range oa {
		if oa[i] != ob[i] {
			t.Errorf("%s and %s mask sample %d differently: %s vs %s", a, b, i, oa[i], ob[i])
			return
		}
	}
}

// idBases are masks that compile, with %s where a parameter is added
// (", key: value"), for every type with defaults in idParams. A key
// "type.param" is the base for that parameter alone.
var idBases = map[string]string{
	"imitate":                          `{type: imitate%s}`,
	"imitate_unique":                   `{type: imitate_unique%s}`,
	"imitate_uuid":                     `{type: imitate_uuid%s}`,
	"imitate_nz_ird":                   `{type: imitate_nz_ird%s}`,
	"from_json_path":                   `{type: from_json_path, json_path: "$.missing"%s}`,
	"from_random_text":                 `{type: from_random_text, max: 8%s}`,
	"from_random_number":               `{type: from_random_number, max: 1000%s}`,
	"retain_date_component":            `{type: retain_date_component, date_format: "%%Y-%%m-%%d %%H:%%M:%%S", year: true%s}`,
	"retain_date_component.year":       `{type: retain_date_component, date_format: "%%Y-%%m-%%d %%H:%%M:%%S", month: true%s}`,
	"take_substring":                   `{type: take_substring, end_index: 3%s}`,
	"replace_substring":                `{type: replace_substring, end_index: 3, masks: [{type: imitate}]%s}`,
	"mask_characters":                  `{type: mask_characters, keep_last: 2%s}`,
	"mask_characters.keep_last":        `{type: mask_characters, keep_first: 2%s}`,
	"concat":                           `{type: concat, masks: [{type: imitate}, {type: from_fixed, value: x}]%s}`,
	"hash":                             `{type: hash%s}`,
	"credit_card":                      `{type: credit_card%s}`,
	"credit_card.pan_character":        `{type: credit_card, pan_format: true%s}`,
	"credit_card.generate_card_number": `{type: credit_card, pan_format: true%s}`,
	"json":                             `{type: json, transforms: [{path: [a], masks: [{type: imitate}]%s}]}`,
	"xml":                              `{type: xml, transforms: [{path: /a, masks: [{type: imitate}]%s}]}`,
}

// TestIdentityDefaultsBehave proves idParams against the masks: for every
// default it lists, the mask with the parameter written out as that
// default masks every sample as the mask without it, and has its identity.
func TestIdentityDefaultsBehave(t *testing.T) {
	k := idKit(t)
	n := 0
	for typ, params := range idParams {
		for key, p := range params {
			if len(p.defs) == 0 && p.sub == nil {
				continue
			}
			base, ok := idBases[typ+"."+key]
			if !ok {
				base, ok = idBases[typ]
			}
			if !ok {
				t.Errorf("%s.%s has defaults but idBases has no %s mask to check them on", typ, key, typ)
				continue
			}
			cases := map[string][]string{key: p.defs}
			if p.sub != nil {
				cases = map[string][]string{}
				for sk, sp := range p.sub {
					cases[sk] = sp.defs
				}
			}
			for ck, defs := range cases {
				for _, d := range defs {
					t.Run(typ+"."+ck+"="+d, func(t *testing.T) {
						k.sameMask(t, fmt.Sprintf(base, ""), fmt.Sprintf(base, ", "+ck+": "+strings.ReplaceAll(d, "%", "%%")))
					})
					n++
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("checked %d defaults; idParams lists more", n)
	}
}

// TestIdentityEquivalentMasks: documented-equivalent spellings of a mask
// (the five the audit found, dependent defaults, number notations,
// aliases, nested masks) mask alike.
func TestIdentityEquivalentMasks(t *testing.T) {
	k := idKit(t)
	for _, tc := range [][2]string{
		// The audit's five.
		{`{type: substitute}`, `{type: imitate}`},
		{`{type: imitate, force_change: false}`, `{type: imitate}`},
		{`{type: date_shift, max_days: 30}`, `{type: date_shift, min_days: -30, max_days: 30}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 100.0}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 1e2}`},
		{`{type: from_file, seed_file: first_names.csv}`, `{type: from_file, seed_file: first_names.csv, seed_column: first_name}`},
		// Number notations, as each mask reads them.
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 0x64}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 1_00}`},
		{`{type: from_random_number, max: 144}`, `{type: from_random_number, max: 0144}`}, // big.Rat reads 0144 as 144
		{`{type: from_random_number, min: 0.5, max: 2.5, decimal_places: 2}`, `{type: from_random_number, min: .50, max: 25e-1, decimal_places: 0x2}`},
		{`{type: from_random_number, max: 50, mode: 10}`, `{type: from_random_number, max: 50, mode: 10.0}`},
		{`{type: from_random_text, max: 10}`, `{type: from_random_text, max: 0xa}`},
		{`{type: date_shift, max_days: 30}`, `{type: date_shift, max_days: 0x1e, min_days: -0x1e}`},
		{`{type: mask_characters, keep_first: 2}`, `{type: mask_characters, keep_first: 0b10}`},
		{`{type: from_choices, choices: [a, b], weights: [1, 2]}`, `{type: from_choices, choices: [a, b], weights: [1.0, 2e0]}`},
		{`{type: numeric_bucket, buckets: [0, 10, 100]}`, `{type: numeric_bucket, buckets: [0.0, 1e1, 100.]}`},
		// Text read as text.
		{`{type: imitate_unique, seed: "100"}`, `{type: imitate_unique, seed: 100}`},
		{`{type: transform_case, case: upper}`, `{type: transform_case, case: UPPER}`},
		{`{type: imitate, uppercase: true}`, `{type: imitate, uppercase: True}`},
		// Dependent defaults.
		{`{type: credit_card}`, `{type: credit_card, generate_luhn: true}`},
		{`{type: credit_card, pan_format: true}`, `{type: credit_card, pan_format: true, generate_luhn: false}`},
		{`{type: hash}`, `{type: hash, length: 64}`},
		{`{type: hash, format: base64}`, `{type: hash, format: base64, length: 44}`},
		{`{type: hash, format: base64url}`, `{type: hash, format: base64url, length: 43}`},
		{`{type: from_file, seed_file: first_names.csv}`, `{type: from_file, seed_file: first_names.csv, seed_column: FIRST_NAME}`},
		{`{type: from_file, seed_file: first_names.csv}`, `{type: from_file, seed_file: DataMasque_firstNames_mixed.csv, seed_column: firstname-mixed}`},
		{`{type: from_file, seed_file: last_names.csv}`, `{type: from_file, seed_file: DataMasque_lastNames_v2.csv}`},
		{`{type: from_file, seed_file: countries.csv, seed_column: country_code}`, `{type: from_file, seed_file: DataMasque_country_codes.csv, seed_column: Country_Code}`},
		{`{type: from_file, seed_file: people.csv, seed_column: Name}`, `{type: from_file, seed_file: people.csv, seed_column: name}`},
		// Nested masks are read the same way.
		{`{type: concat, glue: " ", masks: [{type: imitate}, {type: hash}]}`, `{type: concat, glue: " ", masks: [{type: substitute, force_change: false}, {type: hash, length: 64}]}`},
		{`{type: chain, masks: [{type: imitate}]}`, `{type: chain, masks: {first: {type: substitute}}}`},
		{`{type: json, transforms: [{path: [a], masks: [{type: imitate}]}]}`, `{type: json, transforms: [{path: [a], on_null: skip, masks: [{type: substitute, digits: true}]}]}`},
		{`{type: xml, transforms: [{path: /a, masks: [{type: imitate}]}]}`, `{type: xml, transforms: [{path: /a, on_missing: error, masks: [{type: substitute}]}]}`},
		{`{type: replace_regex, regex: "[0-9]+", masks: [{type: imitate}]}`, `{type: replace_regex, regex: "[0-9]+", masks: [{type: substitute}]}`},
		{`{type: unstructured_text, preset: pii, fallback_masks: [{type: imitate}]}`, `{type: unstructured_text, preset: pii, fallback_masks: [{type: substitute}]}`},
	} {
		t.Run(tc[0]+"~"+tc[1], func(t *testing.T) { k.sameMask(t, tc[0], tc[1]) })
	}
}

// TestIdentityDistinguishes: parameters that change what a mask does
// change its identity, including spellings a mask reads differently from
// YAML and values a mask keeps with their YAML type.
func TestIdentityDistinguishes(t *testing.T) {
	k := idKit(t)
	for _, tc := range [][2]string{
		{`{type: imitate, force_change: true}`, `{type: imitate}`},
		{`{type: substitute, force_change: true}`, `{type: imitate}`},
		{`{type: imitate, digits: false}`, `{type: imitate}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 101}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 0144}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 100, min: 1}`},
		{`{type: from_random_number, max: 100}`, `{type: from_random_number, max: 100, decimal_places: 1}`},
		{`{type: from_random_number, max: 1.5}`, `{type: from_random_number, max: 1.25}`},
		{`{type: from_fixed, value: 100}`, `{type: from_fixed, value: "100"}`},
		{`{type: from_fixed, value: 100}`, `{type: from_fixed, value: 100.0}`},
		{`{type: from_choices, choices: [100, 200]}`, `{type: from_choices, choices: ["100", "200"]}`},
		{`{type: from_choices, choices: [a, b], weights: [1, 2]}`, `{type: from_choices, choices: [a, b], weights: [1, 3]}`},
		{`{type: date_shift, max_days: 30}`, `{type: date_shift, max_days: 30, min_days: -29}`},
		{`{type: date_shift, max_days: 30}`, `{type: date_shift, max_days: 30, min_days: 30}`},
		{`{type: hash}`, `{type: hash, length: 63}`},
		{`{type: hash, format: base64}`, `{type: hash, format: base64, length: 40}`},
		{`{type: credit_card}`, `{type: credit_card, generate_luhn: false}`},
		{`{type: credit_card, pan_format: true}`, `{type: credit_card, pan_format: true, generate_luhn: true}`},
		{`{type: imitate_unique, seed: a}`, `{type: imitate_unique}`},
		{`{type: from_file, seed_file: first_names.csv}`, `{type: from_file, seed_file: last_names.csv}`},
		{`{type: from_file, seed_file: people.csv, seed_column: Name}`, `{type: from_file, seed_file: people.csv, seed_column: Code}`},
		{`{type: from_file, seed_file: countries.csv, seed_column: country}`, `{type: from_file, seed_file: countries.csv, seed_column: country_code}`},
		{`{type: concat, masks: [{type: imitate}]}`, `{type: concat, glue: " ", masks: [{type: imitate}]}`},
		{`{type: concat, masks: [{type: imitate}]}`, `{type: concat, masks: [{type: imitate, force_change: true}]}`},
		{`{type: json, transforms: [{path: [a], masks: [{type: imitate}]}]}`, `{type: json, transforms: [{path: [a], on_missing: skip, masks: [{type: imitate}]}]}`},
		{`{type: from_json_path, json_path: "$.a"}`, `{type: from_json_path, json_path: "$.a", on_missing: "null"}`},
		{`{type: mask_characters}`, `{type: mask_characters, character: "#"}`},
	} {
		t.Run(tc[0]+"!~"+tc[1], func(t *testing.T) {
			pa, pb := k.testMask(t, tc[0]), k.testMask(t, tc[1])
			if pa[0].id == pb[0].id {
				t.Errorf("%s and %s have the same identity", tc[0], tc[1])
			}
		})
	}
}

// TestIdentityKeepsCanonicalBytes: a mask written with no alias, no
// default written out and numbers in their canonical form keeps the
// identity it had before identities were canonicalised, so its outputs
// did not move. oldIdentity is the former algorithm, kept here.
func TestIdentityKeepsCanonicalBytes(t *testing.T) {
	k := idKit(t)
	for _, src := range []string{
		`{type: imitate}`,
		`{type: imitate, force_change: true}`,
		`{type: imitate_unique, seed: orders}`,
		`{type: from_random_number, min: 1, max: 400}`,
		`{type: from_random_number, min: -2.5, max: 25000, decimal_places: 2, mode: 100}`,
		`{type: from_format_string, value_format: "{[0-9],3}"}`,
		`{type: date_shift, date_format: "%Y-%m-%d", min_days: -730, max_days: 700}`,
		`{type: from_file, seed_file: people.csv, seed_column: Name}`,
		`{type: from_file, seed_file: countries.csv, seed_column: country}`,
		`{type: credit_card, pan_format: true, generate_luhn: true}`,
		`{type: hash, format: base64, length: 20, prefix: "h:"}`,
		`{type: concat, glue: " ", masks: [{type: from_random_number, min: 1, max: 400}, {type: from_file, seed_file: streets.csv}]}`,
		`{type: chain, masks: {a: {type: imitate}, b: {type: transform_case, case: upper}}}`,
		`{type: json, transforms: [{path: [a], on_missing: skip, masks: [{type: imitate, force_change: true}]}]}`,
		`{type: xml, transforms: [{path: /a, masks: [{type: hash}]}]}`,
		`{type: unstructured_text, preset: pii}`,
		`{type: from_choices, choices: [a, 1, true], weights: [0.5, 1, 2]}`,
		`{type: numeric_bucket, buckets: [0, 10.5, 100]}`,
		`{type: from_fixed, value: 1.0}`,
	} {
		pl := k.testMask(t, src)
		if want := oldIdentity(t, src); pl[0].id != want {
			t.Errorf("%s: identity changed from the former algorithm's", src)
		}
	}
}

// TestMaskAliases checks maskAliases against the registry: an alias and
// its type are registered with one factory, and two names that share a
// factory are an alias and its type.
func TestMaskAliases(t *testing.T) {
	fp := func(name string) uintptr {
		f, ok := registry[name]
		if !ok {
			t.Fatalf("%s is not a registered mask type", name)
		}
		return reflect.ValueOf(f).Pointer()
	}
	for a, typ := range maskAliases {
		if fp(a) != fp(typ) {
			t.Errorf("alias %s is not registered with %s's factory", a, typ)
		}
		if _, chained := maskAliases[typ]; chained {
			t.Errorf("alias %s names %s, itself an alias", a, typ)
		}
	}
	names := MaskTypes()
	for i, a := range names {
		for _, b := range names[i+1:] {
			if fp(a) == fp(b) && canonicalType(a) != canonicalType(b) {
				t.Errorf("%s and %s share a factory but are not an alias and its type: add one to maskAliases", a, b)
			}
		}
	}
	// Every type idParams describes exists under that (canonical) name.
	for typ := range idParams {
		if _, ok := registry[typ]; !ok || canonicalType(typ) != typ {
			t.Errorf("idParams describes %s, which is no canonical mask type", typ)
		}
	}
}

// oldIdentity is the identity as computed before canonical types and
// parameters: the YAML with keys sorted and scalars tagged (DataMasque's
// dictionary form of concat's and chain's masks read as the list).
func oldIdentity(t *testing.T, src string) [32]byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	var canon func(dst []byte, n *yaml.Node) []byte
	canon = func(dst []byte, n *yaml.Node) []byte {
		switch n.Kind {
		case yaml.ScalarNode:
			return strconv.AppendQuote(append(append(dst, n.ShortTag()...), ':'), n.Value)
		case yaml.SequenceNode:
			dst = append(dst, '[')
			for _, e := range n.Content {
				dst = append(canon(dst, e), ',')
			}
			return append(dst, ']')
		}
		idx := []int{}
		typ := ""
		for i := 0; i < len(n.Content); i += 2 {
			idx = append(idx, i)
			if n.Content[i].Value == "type" {
				typ = n.Content[i+1].Value
			}
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(n.Content[a].Value, n.Content[b].Value) })
		dst = append(dst, '{')
		for _, i := range idx {
			dst = append(strconv.AppendQuote(dst, n.Content[i].Value), ':')
			v := n.Content[i+1]
			if n.Content[i].Value == "masks" && v.Kind == yaml.MappingNode && (typ == "concat" || typ == "chain") {
				dst = append(dst, '[')
				for j := 1; j < len(v.Content); j += 2 {
					dst = append(canon(dst, v.Content[j]), ',')
				}
				dst = append(dst, ']')
			} else {
				dst = canon(dst, v)
			}
			dst = append(dst, ',')
		}
		return append(dst, '}')
	}
	return sha256.Sum256(canon(nil, doc.Content[0]))
}
