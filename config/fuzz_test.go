package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks Parse's invariants on any input: it never panics; it
// returns either a Config or an ErrorList with at least one entry, never
// both; and an accepted Config has its defaults applied and every route
// complete (a source, a sink, a dead letter and valid templates).
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("routes: [ { name: &a x, from: *a } ]"))
	f.Add([]byte("http: { listen: '[::1]:0' }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var list ErrorList
			if c != nil || !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse = %v, %T %v", c, err, err)
			}
			return
		}
		if c.Limits.MaxRecordBytes <= 0 || c.Limits.MaxDepth <= 0 || c.DrainTimeout <= 0 {
			t.Fatalf("defaults missing: %+v", c.Limits)
		}
		for _, r := range c.Routes {
			if r.Name == "" || r.Ruleset == "" || r.From.Cluster() == "" || r.To.Cluster() == "" || r.DeadLetter.Cluster() == "" {
				t.Fatalf("incomplete route accepted: %+v", r)
			}
			for _, s := range []Sink{r.To, r.DeadLetter} {
				if _, err := ParseTemplate(s.Template()); err != nil || s.Template() == "" {
					t.Fatalf("route %s: bad template accepted: %q", r.Name, s.Template())
				}
			}
		}
	})
}
