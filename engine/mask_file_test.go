package engine

import (
	"fmt"
	"slices"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
)

func TestFromFile(t *testing.T) {
	firstNames, err := rulesets.OpenSeed("", "first_names.csv")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := firstNames.Column("first_name")
	tests := []struct {
		name string
		src  string
		in   Value
		want []string // the output must be one of these
		kind Kind
	}{
		{"DataMasque name and column", `{type: from_file, seed_file: DataMasque_firstNames_mixed.csv, seed_column: firstname-mixed}`, Str("Alice"), names, String},
		{"our name, column left out", `{type: from_file, seed_file: first_names.csv}`, Str("Bob"), names, String},
		{"column name ignores case", `{type: from_file, seed_file: first_names.csv, seed_column: FIRST_NAME}`, NullValue, names, String},
		{"user file", `{type: from_file, seed_file: postcodes.csv, seed_column: suburb}`, Str("Te Aro"), []string{"Thorndon", "Kelburn", "Avondale"}, String},
		{"user file, number kept", `{type: from_file, seed_file: postcodes.csv, seed_column: postcode}`, Num("6011"), []string{"6011", "6021"}, Number},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			for i := range 50 {
				in := tt.in
				if in.Kind == String {
					in = Str(fmt.Sprint(in.S, i))
				}
				out, err := genKit.run(pl, genSecret, in, nil)
				if err != nil {
					// 0600 is no JSON number: a number may only draw the
					// other two, and one that draws it fails clearly.
					if tt.kind == Number {
						continue
					}
					t.Fatal(err)
				}
				if out.Kind != tt.kind || !slices.Contains(tt.want, out.S) {
					t.Fatalf("Apply(%+v) = %+v, want a %s from the seed column", in, out, tt.kind)
				}
			}
		})
	}
	pl := genKit.testMask(t, `{type: from_file, seed_file: last_names.csv}`)
	genKit.checkDeterminism(t, pl, Str("Smith"), Str("Jones"), Str("Ng"))
	t.Run("never the original", func(t *testing.T) {
		for _, n := range names[:300] {
			if out := genKit.must(t, genKit.testMask(t, `{type: from_file, seed_file: first_names.csv}`), Str(n)); out.S == n {
				t.Fatalf("%q came back unchanged", n)
			}
		}
	})
	t.Run("number needs a numeric column", func(t *testing.T) {
		pl := genKit.testMask(t, `{type: from_file, seed_file: cities.csv}`)
		if _, err := genKit.run(pl, genSecret, Num("42"), nil); err == nil {
			t.Error("a city name replaced a number without an error")
		}
	})
}

func TestFromFileErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing seed_file", `{type: from_file, seed_column: a}`, "1:1", `missing required key "seed_file"`},
		{"unknown file", "type: from_file\nseed_file: nope.csv\n", "2:12", "neither built in nor found"},
		{"path escape", "type: from_file\nseed_file: ../../go.mod\n", "2:12", "inside the ruleset's folder"},
		{"unknown column", "type: from_file\nseed_file: first_names.csv\nseed_column: firstname\n", "3:14", "has no column \"firstname\"; its columns are first_name"},
		{"several columns", "type: from_file\nseed_file: countries.csv\n", "2:12", "has 2 columns (country, country_code); name one with seed_column"},
		{"DataMasque's filter is not supported", "type: from_file\nseed_file: cities.csv\ntable_filter_column: state\n", "3:1", "table_filter_column"},
	})
}
