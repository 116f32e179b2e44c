package rulesets

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

//go:generate go run ./seeds/gen -out seeds

// The built-in seed files, generated from gofakeit's word lists (see
// seeds/NOTICE for the source and licence).
//
//go:embed seeds/*.csv
var seedFS embed.FS

// MaxSeedFileBytes bounds a user seed file: it is held in memory for as
// long as its ruleset is loaded.
const MaxSeedFileBytes = 32 << 20

// builtinSeed is one built-in name: an embedded file, possibly under
// DataMasque's name with DataMasque's column names.
type builtinSeed struct {
	file string
	// columns renames the file's columns (ours → DataMasque's); nil keeps
	// them.
	columns map[string]string

	once sync.Once
	seed *SeedFile
	err  error
}

// builtinSeeds maps every built-in name to its data. Each is parsed on
// first use and then shared read-only by every ruleset that names it.
//
// DataMasque's built-in names are accepted where we can fill them honestly
// from our data. DataMasque documents the column of its first-name file
// (firstname-mixed) but not the others', so those keep our column names;
// an unknown column is an error that lists the columns there are.
var builtinSeeds = map[string]*builtinSeed{
	"first_names.csv":   {file: "first_names.csv"},
	"last_names.csv":    {file: "last_names.csv"},
	"streets.csv":       {file: "streets.csv"},
	"cities.csv":        {file: "cities.csv"},
	"states.csv":        {file: "states.csv"},
	"countries.csv":     {file: "countries.csv"},
	"companies.csv":     {file: "companies.csv"},
	"email_domains.csv": {file: "email_domains.csv"},
	"job_titles.csv":    {file: "job_titles.csv"},

	"DataMasque_firstNames_mixed.csv":    {file: "first_names.csv", columns: map[string]string{"first_name": "firstname-mixed"}},
	"DataMasque_lastNames_v2.csv":        {file: "last_names.csv"},
	"DataMasque_companies.csv":           {file: "companies.csv"},
	"DataMasque_fake_email_suffixes.csv": {file: "email_domains.csv"},
	"DataMasque_country_codes.csv":       {file: "countries.csv"},
	"DataMasque_occupations.csv":         {file: "job_titles.csv"},
}

// embedded holds each embedded file parsed once, shared by its names.
var embedded sync.Map // file name → *embeddedSeed

type embeddedSeed struct {
	once sync.Once
	seed *SeedFile
	err  error
}

// BuiltinSeeds lists the names of the built-in seed files, sorted.
func BuiltinSeeds() []string {
	names := make([]string, 0, len(builtinSeeds))
	for n := range builtinSeeds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// OpenSeed opens a seed file by name: a built-in one (our names such as
// first_names.csv, or DataMasque's such as DataMasque_firstNames_mixed.csv),
// else a CSV file at name relative to dir, whose first line names the
// columns.
//
// dir is the ruleset's folder; an empty dir (an uploaded ruleset) may use
// only built-in files. name must stay inside dir: an absolute path, a ".."
// that climbs out, or a symbolic link that leads out is refused.
//
// A built-in SeedFile is shared by every caller and must not be modified.
// A user file is read anew on every call, so a ruleset reload sees edits.
func OpenSeed(dir, name string) (*SeedFile, error) {
	if name == "" {
		return nil, errors.New("rulesets: the seed file name is empty; name a built-in seed file such as first_names.csv or a CSV file beside the ruleset")
	}
	if b, ok := builtinSeeds[name]; ok {
		b.once.Do(func() { b.seed, b.err = b.load(name) })
		return b.seed, b.err
	}
	if dir == "" {
		return nil, fmt.Errorf("rulesets: seed file %q is not built in, and an uploaded ruleset may use only the built-in seed files: %s", name, strings.Join(BuiltinSeeds(), ", "))
	}
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("rulesets: seed file %q must be a path inside the ruleset's folder, without a leading / or a .. that leaves it", name)
	}
	f, err := os.OpenInRoot(dir, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rulesets: seed file %q is neither built in nor found beside the ruleset in %s; the built-in files are %s: %w", name, dir, strings.Join(BuiltinSeeds(), ", "), err)
		}
		return nil, fmt.Errorf("rulesets: seed file %q: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSeedFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("rulesets: seed file %q: %w", name, err)
	}
	if len(b) > MaxSeedFileBytes {
		return nil, fmt.Errorf("rulesets: seed file %q is larger than %d MiB; split it or keep only the column the ruleset uses", name, MaxSeedFileBytes>>20)
	}
	return ParseSeedCSV(name, b)
}

func (b *builtinSeed) load(name string) (*SeedFile, error) {
	v, _ := embedded.LoadOrStore(b.file, &embeddedSeed{})
	e := v.(*embeddedSeed)
	e.once.Do(func() {
		raw, err := seedFS.ReadFile("seeds/" + b.file)
		if err != nil {
			e.err = fmt.Errorf("rulesets: built-in seed file %s is missing from the binary: %w", b.file, err)
			return
		}
		e.seed, e.err = ParseSeedCSV(b.file, raw)
	})
	if e.err != nil {
		return nil, e.err
	}
	s := &SeedFile{Name: name, Columns: e.seed.Columns, Rows: e.seed.Rows}
	if b.columns != nil {
		s.Columns = make([]string, len(e.seed.Columns))
		for i, c := range e.seed.Columns {
			if to, ok := b.columns[c]; ok {
				c = to
			}
			s.Columns[i] = c
		}
	}
	return s, nil
}

// ParseSeedCSV parses a seed file: RFC 4180 CSV in UTF-8 (a leading byte
// order mark is skipped), whose first record names the columns. Every row
// must have as many cells as the header, and there must be at least one
// row. name is used in errors only.
func ParseSeedCSV(name string, b []byte) (*SeedFile, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("rulesets: seed file %q is empty; its first line must name the columns, as in first_name,last_name", name)
	}
	if err != nil {
		return nil, fmt.Errorf("rulesets: seed file %q: %w", name, err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			return nil, fmt.Errorf("rulesets: seed file %q: column %d of the header line has no name; the first line must name every column", name, i+1)
		case !utf8.ValidString(h):
			return nil, fmt.Errorf("rulesets: seed file %q: the header line is not valid UTF-8; save the file as UTF-8", name)
		}
		for _, prev := range cols[:i] {
			if strings.EqualFold(prev, h) {
				return nil, fmt.Errorf("rulesets: seed file %q: column %q appears twice in the header line (names are compared ignoring case)", name, h)
			}
		}
		cols[i] = h
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rulesets: seed file %q: %w; every row needs %d cells, like the header", name, err, len(cols))
		}
		for _, cell := range rec {
			if !utf8.ValidString(cell) {
				line, _ := r.FieldPos(0)
				return nil, fmt.Errorf("rulesets: seed file %q: line %d is not valid UTF-8; save the file as UTF-8", name, line)
			}
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("rulesets: seed file %q has a header line but no rows", name)
	}
	return &SeedFile{Name: name, Columns: cols, Rows: rows}, nil
}

// userSeedPaths returns the user seed files rs names (a seed_file value
// anywhere in its masks: from_file, unstructured_text's seed_files
// matchers, masks nested in concat, chain or json), as paths under rs.Dir,
// sorted, without repeats. Built-in names, and names OpenSeed refuses, are
// left out. These are the files Compile reads through OpenSeed, so the
// store recompiles a ruleset when one of them changes; a name that is not
// a seed file after all only costs a stat.
func userSeedPaths(rs *Ruleset) []string {
	if rs.Dir == "" {
		return nil
	}
	var names []string
	// Aliases are followed (a merge key may bring seed_file in); the
	// budget stops an alias of its own parent, or aliases of aliases that
	// multiply.
	budget := 1 << 20
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
			n = n.Alias
		}
		if budget--; n == nil || budget < 0 {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; k.Value == "seed_file" && v.Kind == yaml.ScalarNode {
					names = append(names, v.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	var rules func([]Rule)
	rules = func(rs []Rule) {
		for i := range rs {
			for _, m := range rs[i].Masks {
				walk(m.Node)
			}
			rules(rs[i].Rules)
			rules(rs[i].ElseRules)
		}
	}
	rules(rs.Rules)
	if rs.Key != nil {
		for _, m := range rs.Key.Masks {
			walk(m.Node)
		}
	}
	for _, h := range rs.Headers {
		for _, m := range h.Masks {
			walk(m.Node)
		}
	}
	var paths []string
	for _, name := range names {
		if _, builtin := builtinSeeds[name]; builtin || name == "" || !filepath.IsLocal(name) {
			continue
		}
		paths = append(paths, filepath.Join(rs.Dir, name))
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}
