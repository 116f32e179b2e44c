// Command gen writes maskstream's built-in seed files (rulesets/seeds/*.csv)
// from the word lists of github.com/brianvoe/gofakeit/v7 (MIT licence; see
// rulesets/seeds/NOTICE). It is run by `go generate ./rulesets/...`; the
// generated files are committed, so a build never needs it.
//
// Lists gofakeit holds as they are (first and last names, cities, states,
// countries, occupations) are copied, de-duplicated and sorted. Lists it
// does not hold (street names, company names, e-mail domains) are composed
// from its parts with a fixed-seed generator, so every run writes the same
// bytes and a diff shows only what a gofakeit upgrade changed.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/brianvoe/gofakeit/v7/data"
)

func main() {
	out := flag.String("out", ".", "folder to write the CSV files to")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatalf("seeds/gen: %v", err)
	}
}

func run(out string) error {
	first := clean(data.Person["first"])
	last := clean(data.Person["last"])
	countries, err := pairs(data.Address["country"], data.Address["country_abr"], map[string]string{
		"NZ": "New Zealand", "US": "United States of America", "AU": "Australia", "DE": "Germany", "ZW": "Zimbabwe",
	})
	if err != nil {
		return fmt.Errorf("countries: %w", err)
	}
	// gofakeit lists the 50 states in the same order as their codes, then
	// three military codes (AA, AE, AP) that name no state.
	states, err := pairs(data.Address["state"], data.Address["state_abr"][:len(data.Address["state"])], map[string]string{
		"CA": "California", "NY": "New York", "WY": "Wyoming", "AL": "Alabama",
	})
	if err != nil {
		return fmt.Errorf("states: %w", err)
	}
	files := []struct {
		name   string
		header []string
		rows   [][]string
	}{
		{"first_names.csv", []string{"first_name"}, column(first)},
		{"last_names.csv", []string{"last_name"}, column(last)},
		{"streets.csv", []string{"street_name"}, column(streets(last, 2500))},
		{"cities.csv", []string{"city"}, column(clean(data.Address["city"]))},
		{"states.csv", []string{"state", "state_code"}, states},
		{"countries.csv", []string{"country", "country_code"}, countries},
		{"companies.csv", []string{"company"}, column(companies(last, 1500))},
		{"email_domains.csv", []string{"domain"}, column(domains(last, 600))},
		{"job_titles.csv", []string{"job_title"}, column(clean(data.Job["title"]))},
	}
	for _, f := range files {
		if err := write(filepath.Join(out, f.name), f.header, f.rows); err != nil {
			return err
		}
	}
	return nil
}

// clean trims, de-duplicates and sorts a list.
func clean(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func column(vals []string) [][]string {
	rows := make([][]string, len(vals))
	for i, v := range vals {
		rows[i] = []string{v}
	}
	return rows
}

// pairs zips two parallel lists, checking a few known pairs first so a
// reordering upstream fails here instead of shipping wrong pairs.
func pairs(names, codes []string, known map[string]string) ([][]string, error) {
	if len(names) != len(codes) {
		return nil, fmt.Errorf("%d names but %d codes", len(names), len(codes))
	}
	byCode := make(map[string]string, len(codes))
	rows := make([][]string, len(names))
	for i := range names {
		byCode[codes[i]] = names[i]
		rows[i] = []string{names[i], codes[i]}
	}
	for code, name := range known {
		if byCode[code] != name {
			return nil, fmt.Errorf("code %s pairs with %q, want %q: the upstream lists are no longer parallel", code, byCode[code], name)
		}
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return rows, nil
}

// newRand is the fixed-seed generator of the composed lists.
func newRand(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(0x6d61736b73747265, stream)) }

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// compose draws n distinct values from gen, sorted.
func compose(n int, gen func() string) []string {
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for tries := 0; len(out) < n && tries < n*50; tries++ {
		if s := gen(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// streets composes names such as "North Hartmannville Road": a surname,
// sometimes a compass or landscape prefix and a town ending, and a street
// type.
func streets(last []string, n int) []string {
	r := newRand(1)
	prefixes := clean(data.Address["street_prefix"])
	endings := clean(data.Address["street_suffix"])
	types := clean(data.Address["street_name"])
	return compose(n, func() string {
		name := pick(r, last)
		if r.IntN(4) == 0 {
			name += pick(r, endings)
		}
		if r.IntN(5) == 0 {
			name = pick(r, prefixes) + " " + name
		}
		return name + " " + pick(r, types)
	})
}

// companies composes fictitious firm names in the classic faker forms:
// "Hartmann LLC", "Kuhn-Bogan", "Hills, Mertz and Ruecker". Real company
// names (which gofakeit also lists) are left out on purpose: a masked
// record should not name a real firm.
func companies(last []string, n int) []string {
	r := newRand(2)
	suffixes := clean(data.Company["suffix"])
	return compose(n, func() string {
		a, b, c := pick(r, last), pick(r, last), pick(r, last)
		switch r.IntN(3) {
		case 0:
			return a + " " + pick(r, suffixes)
		case 1:
			return a + "-" + b
		}
		return a + ", " + b + " and " + c
	})
}

// domains composes e-mail domains under example.com, example.net and
// example.org. IANA reserves those three names and every name below them
// for documentation (RFC 2606, RFC 6761), so a masked address can look
// real yet never deliver mail to a real mailbox.
func domains(last []string, n int) []string {
	r := newRand(3)
	parents := []string{"example.com", "example.net", "example.org"}
	endings := []string{"mail", "post", "net", "web", "online", "group"}
	return compose(n, func() string {
		stem := letters(pick(r, last))
		switch r.IntN(3) {
		case 0:
			stem += letters(pick(r, endings))
		case 1:
			stem += "-" + letters(pick(r, last))
		}
		return stem + "." + pick(r, parents)
	})
}

// letters lower-cases s and keeps only ASCII letters, for host names.
func letters(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c < unicode.MaxASCII && unicode.IsLetter(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func write(path string, header []string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		f.Close()
		return err
	}
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
