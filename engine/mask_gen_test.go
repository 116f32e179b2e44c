package engine

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// Test helpers of the generator masks (from_fixed, from_file,
// from_format_string, from_choices, from_json_path, imitate, the unique
// masks and the from_random_* masks). A mask is compiled through the
// registry from a YAML snippet, as a ruleset would be, and applied through
// Ctx.Run so it gets its identity and seed.

const (
	genSecret      = "gen-test-secret-0123456789abcdef"
	genOtherSecret = "gen-other-secret-fedcba9876543210"
)

// genNow is the "now" every test compiles with.
var genNow = time.Date(2025, time.March, 10, 9, 30, 0, 0, time.UTC)

// genSeedDir holds the user seed files of the tests.
const genSeedDir = "testdata/gen"

// genTryMask compiles one mask given as a YAML mapping.
func genTryMask(src string) (Pipeline, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, err
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{doc.Content[0]}}
	ms, err := rulesets.ParseMasks(seq, "test.yaml")
	if err != nil {
		return nil, err
	}
	c := &compiler{opts: Options{
		Now:   genNow,
		Seeds: func(name string) (*rulesets.SeedFile, error) { return rulesets.OpenSeed(genSeedDir, name) },
	}, file: "test.yaml"}
	return c.pipeline(ms)
}

// genTestMask compiles a mask that must compile.
func genTestMask(t testing.TB, src string) Pipeline {
	t.Helper()
	pl, err := genTryMask(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return pl
}

// genRun applies a compiled mask with a secret, the original record doc
// (for from_json_path) and a hash input (nil: the value hashes itself).
func genRun(pl Pipeline, secret string, v Value, doc string, hash []byte) (Value, error) {
	c := &Ctx{sec: MustSecret(secret), now: genNow, doc: []byte(doc), hash: hash}
	return c.Run(pl, v)
}

// genApply applies a mask that must succeed, with genSecret.
func genApply(t testing.TB, pl Pipeline, v Value) Value {
	t.Helper()
	out, err := genRun(pl, genSecret, v, "", nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return out
}

type genBadCase struct {
	name string
	src  string
	pos  string // line:col in test.yaml; "" skips the check
	want string
}

// genCheckBad checks that each snippet fails to compile with an error at
// pos that contains want.
func genCheckBad(t *testing.T, cases []genBadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := genTryMask(tc.src)
			if err == nil {
				t.Fatalf("compiled, want an error containing %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if tc.pos != "" && !strings.Contains(msg, "test.yaml:"+tc.pos+":") {
				t.Errorf("error %q is not at test.yaml:%s", msg, tc.pos)
			}
		})
	}
}

// genCheckDeterminism applies a mask to each input twice with genSecret and
// once with genOtherSecret: the first two must agree, and the other secret
// must change at least one output.
func genCheckDeterminism(t *testing.T, pl Pipeline, inputs ...Value) {
	t.Helper()
	differs := false
	for _, in := range inputs {
		a, err := genRun(pl, genSecret, in, "", nil)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		b, err := genRun(pl, genSecret, in, "", nil)
		if err != nil {
			t.Fatalf("apply again: %v", err)
		}
		if !genSame(a, b) {
			t.Errorf("same secret, same input: %+v then %+v", a, b)
		}
		o, err := genRun(pl, genOtherSecret, in, "", nil)
		if err != nil {
			t.Fatalf("apply with the other secret: %v", err)
		}
		if !genSame(a, o) {
			differs = true
		}
	}
	if !differs {
		t.Errorf("another secret gave the same outputs for all %d inputs", len(inputs))
	}
}

// genSame compares two values (Value holds a slice, so == does not apply).
func genSame(a, b Value) bool {
	return a.Kind == b.Kind && a.S == b.S && string(a.Raw) == string(b.Raw)
}

func TestGenIsNumber(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"0", true}, {"-0", true}, {"12", true}, {"1.50", true}, {"-3.2e+10", true}, {"1E5", true},
		{"", false}, {"-", false}, {"01", false}, {"1.", false}, {".5", false}, {"1e", false},
		{"+1", false}, {"0x1F", false}, {"1_000", false}, {"NaN", false}, {" 1", false},
	}
	for _, tt := range tests {
		if got := genIsNumber(tt.s); got != tt.want {
			t.Errorf("genIsNumber(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
