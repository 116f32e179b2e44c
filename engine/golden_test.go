package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite engine/testdata/golden from the current engine (only when an output change is intended and announced)")

// TestGoldenOutputs pins what the example rulesets make of generated
// records. Consistency is promised across processes and days: with the
// same secret, a value masks the same way in every release, so any change
// here is a breaking change for users who join masked data across runs.
// The first records are kept in full (a readable diff); the digest covers
// many more.
func TestGoldenOutputs(t *testing.T) {
	sec := MustSecret("golden-secret-0123456789abcdef")
	for _, tc := range []struct {
		ruleset string
		records func(seed uint64, n int) [][]byte
	}{
		{"orders", testenv.Orders},
		{"customer-record", testenv.Customers},
	} {
		t.Run(tc.ruleset, func(t *testing.T) {
			rs, err := rulesets.ParseFile(filepath.Join("..", "rulesets", "examples", tc.ruleset+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Compile(rs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			const shown, digested = 20, 5000
			var full bytes.Buffer
			h := sha256.New()
			for i, rec := range tc.records(7, digested) {
				out, err := m.MaskValue(nil, sec, rec, nil)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				h.Write(out)
				h.Write([]byte{'\n'})
				if i < shown {
					full.Write(out)
					full.WriteByte('\n')
				}
			}
			full.WriteString("sha256 of all " + strconv.Itoa(digested) + " outputs: " + hex.EncodeToString(h.Sum(nil)) + "\n")
			path := filepath.Join("testdata", "golden", tc.ruleset+".out")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, full.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./engine -run TestGoldenOutputs -update-golden once to create it)", err)
			}
			if !bytes.Equal(full.Bytes(), want) {
				got := bytes.Split(full.Bytes(), []byte{'\n'})
				for i, w := range bytes.Split(want, []byte{'\n'}) {
					if i >= len(got) || !bytes.Equal(got[i], w) {
						var g []byte
						if i < len(got) {
							g = got[i]
						}
						t.Fatalf("%s line %d changed: masked outputs must stay the same across releases (if testenv's generator changed instead, regenerate with -update-golden)\n got: %s\nwant: %s", path, i+1, g, w)
					}
				}
				t.Fatalf("%s: output has more lines than the golden file", path)
			}
		})
	}
}
