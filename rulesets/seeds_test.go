package rulesets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestOpenSeedBuiltin(t *testing.T) {
	tests := []struct {
		name    string
		columns []string
		min     int // fewest rows a useful list has
	}{
		{"first_names.csv", []string{"first_name"}, 1000},
		{"last_names.csv", []string{"last_name"}, 400},
		{"streets.csv", []string{"street_name"}, 2000},
		{"cities.csv", []string{"city"}, 90},
		{"states.csv", []string{"state", "state_code"}, 50},
		{"countries.csv", []string{"country", "country_code"}, 240},
		{"companies.csv", []string{"company"}, 1000},
		{"email_domains.csv", []string{"domain"}, 500},
		{"job_titles.csv", []string{"job_title"}, 150},
		{"DataMasque_firstNames_mixed.csv", []string{"firstname-mixed"}, 1000},
		{"DataMasque_lastNames_v2.csv", []string{"last_name"}, 400},
		{"DataMasque_companies.csv", []string{"company"}, 1000},
		{"DataMasque_fake_email_suffixes.csv", []string{"domain"}, 500},
		{"DataMasque_country_codes.csv", []string{"country", "country_code"}, 240},
		{"DataMasque_occupations.csv", []string{"job_title"}, 150},
	}
	if len(tests) != len(BuiltinSeeds()) {
		t.Fatalf("the table covers %d built-in files, BuiltinSeeds lists %d: %v", len(tests), len(BuiltinSeeds()), BuiltinSeeds())
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenSeed("", tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tt.name {
				t.Errorf("Name = %q, want %q", s.Name, tt.name)
			}
			if !slices.Equal(s.Columns, tt.columns) {
				t.Errorf("Columns = %v, want %v", s.Columns, tt.columns)
			}
			if len(s.Rows) < tt.min {
				t.Errorf("%d rows, want at least %d", len(s.Rows), tt.min)
			}
			for i, r := range s.Rows {
				if len(r) != len(s.Columns) {
					t.Fatalf("row %d has %d cells for %d columns", i, len(r), len(s.Columns))
				}
				for _, c := range r {
					if strings.TrimSpace(c) == "" {
						t.Fatalf("row %d has an empty cell", i)
					}
				}
			}
			again, err := OpenSeed("/nonexistent", tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if again != s {
				t.Error("a built-in seed file was parsed twice; it should be shared")
			}
		})
	}
}

func TestBuiltinSeedAliasesShareData(t *testing.T) {
	ours, err := OpenSeed("", "first_names.csv")
	if err != nil {
		t.Fatal(err)
	}
	dm, err := OpenSeed("", "DataMasque_firstNames_mixed.csv")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ours.Column("first_name")
	if err != nil {
		t.Fatal(err)
	}
	b, err := dm.Column("FirstName-Mixed") // column names match ignoring case
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Error("DataMasque_firstNames_mixed.csv holds different names from first_names.csv")
	}
	if _, err := dm.Column("first_name"); err == nil || !strings.Contains(err.Error(), "firstname-mixed") {
		t.Errorf("asking the DataMasque file for our column: err = %v, want one listing firstname-mixed", err)
	}
}

func TestOpenSeedConcurrent(t *testing.T) {
	// Rulesets compile in parallel (reloads, uploads): the first use of a
	// built-in file must be safe from many goroutines, and all must get
	// the one shared copy.
	names := []string{"streets.csv", "companies.csv", "DataMasque_companies.csv"}
	got := make([][]*SeedFile, 8)
	var wg sync.WaitGroup
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, n := range names {
				s, err := OpenSeed("", n)
				if err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], s)
			}
		}()
	}
	wg.Wait()
	for g := range got {
		for i := range got[g] {
			if got[g][i] != got[0][i] {
				t.Fatalf("goroutine %d got another copy of %s", g, names[i])
			}
		}
	}
	if &got[0][1].Rows[0][0] != &got[0][2].Rows[0][0] {
		t.Error("DataMasque_companies.csv does not share companies.csv's rows")
	}
}

func TestEmailDomainsAreReserved(t *testing.T) {
	s, err := OpenSeed("", "email_domains.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Rows {
		d := r[0]
		if !strings.HasSuffix(d, ".example.com") && !strings.HasSuffix(d, ".example.net") && !strings.HasSuffix(d, ".example.org") {
			t.Errorf("domain %q is not under a name reserved by RFC 2606", d)
		}
		if strings.Trim(d, "abcdefghijklmnopqrstuvwxyz.-") != "" {
			t.Errorf("domain %q has characters outside a-z . -", d)
		}
	}
}

func TestOpenSeedUserFile(t *testing.T) {
	dir := filepath.Join("seeds", "testdata")
	s, err := OpenSeed(dir, "good.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Columns, []string{"code", "label"}) {
		t.Errorf("Columns = %q; want the byte order mark and spaces trimmed", s.Columns)
	}
	want := [][]string{{"A1", "Smith, Jones"}, {"B2", "Müller"}}
	if len(s.Rows) != len(want) {
		t.Fatalf("rows = %q, want %q", s.Rows, want)
	}
	for i := range want {
		if !slices.Equal(s.Rows[i], want[i]) {
			t.Errorf("row %d = %q, want %q", i, s.Rows[i], want[i])
		}
	}
	// A built-in name wins over a user file of the same name.
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "cities.csv"), []byte("town\nNowhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := OpenSeed(tmp, "cities.csv")
	if err != nil {
		t.Fatal(err)
	}
	if c.Columns[0] != "city" {
		t.Errorf("cities.csv beside the ruleset shadowed the built-in file")
	}
	// A user file in a sub-folder is fine.
	if err := os.MkdirAll(filepath.Join(tmp, "seeds"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "seeds", "towns.csv"), []byte("town\nNowhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSeed(tmp, "seeds/towns.csv"); err != nil {
		t.Errorf("seeds/towns.csv: %v", err)
	}
}

func TestOpenSeedErrors(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.csv"), []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "secret.csv"), filepath.Join(root, "link.csv")); err != nil {
		t.Fatal(err)
	}
	testdata := filepath.Join("seeds", "testdata")
	tests := []struct {
		name, dir, file string
		want            string
	}{
		{"empty name", testdata, "", "name is empty"},
		{"upload with a user file", "", "good.csv", "uploaded ruleset may use only the built-in"},
		{"absolute path", testdata, filepath.Join(outside, "secret.csv"), "inside the ruleset's folder"},
		{"dot-dot escape", testdata, "../../seeds.go", "inside the ruleset's folder"},
		{"symlink escape", root, "link.csv", "seed file \"link.csv\""},
		{"missing", testdata, "nope.csv", "neither built in nor found"},
		{"empty file", testdata, "empty.csv", "is empty; its first line must name the columns"},
		{"header only", testdata, "header_only.csv", "no rows"},
		{"ragged row", testdata, "ragged.csv", "wrong number of fields"},
		{"duplicate column", testdata, "dup_header.csv", "appears twice"},
		{"blank column name", testdata, "blank_header.csv", "column 2 of the header line has no name"},
		{"invalid UTF-8", testdata, "bad_utf8.csv", "line 2 is not valid UTF-8"},
		{"bad quoting", testdata, "bad_quote.csv", "seed file \"bad_quote.csv\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenSeed(tt.dir, tt.file)
			if err == nil {
				t.Fatalf("OpenSeed(%q, %q) = %v, want an error", tt.dir, tt.file, s.Columns)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "rulesets: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestOpenSeedTooLarge(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSeedFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := OpenSeed(dir, "big.csv"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want a size error", err)
	}
}

func ExampleOpenSeed() {
	s, err := OpenSeed("", "DataMasque_firstNames_mixed.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	names, _ := s.Column("firstname-mixed")
	fmt.Println(s.Columns, len(names) > 1000)
	// Output: [firstname-mixed] true
}
