package rulesets

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixtures parses every testdata/*.good.yaml (which must parse) and
// *.bad.yaml, whose leading "# error: <substring>" comments list the
// errors Parse must report: each substring matches a different error of
// the file, and there are no others.
func TestFixtures(t *testing.T) {
	good, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := filepath.Glob("testdata/*.bad.yaml")
	files := append(good, bad...)
	if len(files) < 20 {
		t.Fatalf("found %d fixtures; testdata is missing files", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			rs, err := ParseFile(file)
			if strings.HasSuffix(file, ".good.yaml") {
				if err != nil {
					t.Fatalf("want no error, got:\n%v", err)
				}
				if rs.Name != strings.TrimSuffix(filepath.Base(file), ".yaml") || rs.Dir != "testdata" || len(rs.Source) == 0 {
					t.Errorf("Name %q Dir %q len(Source) %d", rs.Name, rs.Dir, len(rs.Source))
				}
				return
			}
			want := expectedErrors(t, file)
			if len(want) == 0 {
				t.Fatal("a .bad.yaml fixture must start with # error: lines")
			}
			if err == nil {
				t.Fatalf("want %d errors, got none", len(want))
			}
			got := Errors(err)
			used := make([]bool, len(got))
			for _, w := range want {
				found := false
				for i, e := range got {
					if !used[i] && strings.Contains(e.Error(), w) {
						used[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("no error contains %q", w)
				}
			}
			for i, e := range got {
				if e.Pos.File != file || e.Pos.Line <= 0 || e.Pos.Col <= 0 {
					t.Errorf("error without a full position: %v", e)
				}
				if !used[i] {
					t.Errorf("unexpected error: %v", e)
				}
			}
			if t.Failed() {
				t.Logf("all errors:\n%v", err)
			}
		})
	}
}

func expectedErrors(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if rest, ok := strings.CutPrefix(line, "# error: "); ok {
			want = append(want, rest)
		}
	}
	return want
}
