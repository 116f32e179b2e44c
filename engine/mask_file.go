package engine

import (
	"strings"
)

// from_file (DataMasque): picks a value from a column of a seed file.
//
//	masks:
//	  - type: from_file
//	    seed_file: DataMasque_firstNames_mixed.csv
//	    seed_column: firstname-mixed
//
// seed_file names a built-in file or a CSV beside the ruleset (see
// rulesets.OpenSeed); it is read when the ruleset loads. seed_column may be
// left out when the file has a single column. Empty cells are skipped. A
// number stays a number, so a number needs a column of numbers.
func init() { register("from_file", newFromFile) }

type fromFileParams struct {
	SeedFile   string `yaml:"seed_file" ms:"required"`
	SeedColumn string `yaml:"seed_column"`
}

type fromFile struct {
	vals  []string
	space float64 // distinct values, for genAvoid
}

func newFromFile(p *Params) (Mask, error) {
	var prm fromFileParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	seed, err := p.Seed(prm.SeedFile)
	if err != nil {
		return nil, p.ErrorAt(p.Param("seed_file"), "seed_file: %s", strings.TrimPrefix(err.Error(), "rulesets: "))
	}
	col := prm.SeedColumn
	if col == "" {
		if len(seed.Columns) != 1 {
			return nil, p.ErrorAt(p.Param("seed_file"), "seed file %s has %d columns (%s); name one with seed_column", seed.Name, len(seed.Columns), strings.Join(seed.Columns, ", "))
		}
		col = seed.Columns[0]
	}
	all, err := seed.Column(col)
	if err != nil {
		return nil, p.ErrorAt(p.Param("seed_column"), "seed_column: %s", strings.TrimPrefix(err.Error(), "rulesets: "))
	}
	m := fromFile{vals: make([]string, 0, len(all))}
	distinct := make(map[string]struct{}, len(all))
	for _, v := range all {
		if v != "" {
			m.vals = append(m.vals, v)
			distinct[v] = struct{}{}
		}
	}
	if len(m.vals) == 0 {
		return nil, p.ErrorAt(p.Param("seed_column"), "column %s of seed file %s has only empty cells", col, seed.Name)
	}
	m.space = float64(len(distinct))
	return m, nil
}

func (m fromFile) Apply(c *Ctx, v Value) (Value, error) {
	r := c.Rand()
	out := genAvoid(c, v.Text(), m.space, func() string { return m.vals[r.IntN(len(m.vals))] })
	return genText(v, out, "a number needs a seed_column of numbers")
}
