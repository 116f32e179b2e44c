// Package sample_test keeps deploy/sample's NDJSON files, which the
// docker-compose producers replay, equal to what testenv's record
// generators make: realistic-looking, entirely fake customers and orders.
//
// Regenerate them after changing the generators:
//
//	go test ./deploy/sample -update
package sample_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/maskstream/maskstream/testenv"
)

var update = flag.Bool("update", false, "rewrite the sample files from testenv's generators")

// Lines per file and the generators' seeds: fixed, so the files only change
// when the generators do.
const (
	lines         = 50
	customersSeed = 20240101
	ordersSeed    = 20240102
)

func TestSampleFiles(t *testing.T) {
	tests := []struct {
		file string
		gen  func() [][]byte
		keys []string
	}{
		{"customers.ndjson", func() [][]byte { return testenv.Customers(customersSeed, lines) },
			[]string{"customer_id", "first_name", "last_name", "email", "date_of_birth", "phone", "address"}},
		{"orders.ndjson", func() [][]byte { return testenv.Orders(ordersSeed, lines) },
			[]string{"order_id", "customer", "items", "payment", "shipping", "note"}},
	}
	for _, test := range tests {
		t.Run(test.file, func(t *testing.T) {
			want := bytes.Join(test.gen(), []byte("\n"))
			want = append(want, '\n')
			if *update {
				if err := os.WriteFile(test.file, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(test.file)
			if err != nil {
				t.Fatalf("%v; create it with: go test ./deploy/sample -update", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from testenv's generators; regenerate it with: go test ./deploy/sample -update", test.file)
			}
			// Each line is one JSON object for `nats pub` and `kcat -P -l`:
			// no blank line, no line break inside a record.
			recs := bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n"))
			if len(recs) != lines {
				t.Fatalf("%d lines, want %d", len(recs), lines)
			}
			for i, line := range recs {
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					t.Fatalf("line %d is not a JSON object: %v", i+1, err)
				}
				for _, k := range test.keys {
					if _, ok := m[k]; !ok {
						t.Errorf("line %d lacks %q", i+1, k)
					}
				}
			}
		})
	}
}
