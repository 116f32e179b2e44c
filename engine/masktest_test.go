package engine

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// Test helpers shared by the mask tests. A mask is compiled through the
// registry from a YAML snippet, as a ruleset would be, and applied through
// Ctx.Run so it gets its identity and seed.
//
// Each family of mask tests (generators, transforms, text and xml) has its
// own kit: its secrets, its "now" and its seed folder, so the outputs one
// family's tests expect do not move when another family's setup changes.

// maskKit is what one family of mask tests compiles and applies with.
type maskKit struct {
	// secret is the run secret of must and checkDeterminism; other is the
	// second secret checkDeterminism compares against.
	secret, other string
	// now is the "now" masks are compiled and applied with.
	now time.Time
	// seedDir holds the user seed files; "" means the tests read none.
	seedDir string
}

// compiler returns a compiler with the kit's options, for tests that build
// Params by hand.
func (k maskKit) compiler() *compiler {
	opts := Options{Now: k.now}
	if k.seedDir != "" {
		dir := k.seedDir
		opts.Seeds = func(name string) (*rulesets.SeedFile, error) { return rulesets.OpenSeed(dir, name) }
	}
	return &compiler{opts: opts, file: "test.yaml"}
}

// tryMask compiles one mask given as a YAML mapping.
func (k maskKit) tryMask(src string) (Pipeline, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, err
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{doc.Content[0]}}
	ms, err := rulesets.ParseMasks(seq, "test.yaml")
	if err != nil {
		return nil, err
	}
	return k.compiler().pipeline(ms)
}

// testMask compiles a mask that must compile.
func (k maskKit) testMask(t testing.TB, src string) Pipeline {
	t.Helper()
	pl, err := k.tryMask(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return pl
}

// run applies a compiled mask with a secret and an optional hash input
// (what a rule's hash_sources would give; nil: the value hashes itself).
func (k maskKit) run(pl Pipeline, secret string, v Value, hash []byte) (Value, error) {
	return k.runDoc(pl, secret, v, "", hash)
}

// runDoc is run with the original record doc (for from_json_path).
func (k maskKit) runDoc(pl Pipeline, secret string, v Value, doc string, hash []byte) (Value, error) {
	c := &Ctx{sec: MustSecret(secret), doc: []byte(doc), hash: hash}
	return c.Run(pl, v)
}

// must applies a mask that must succeed, with the kit's secret.
func (k maskKit) must(t testing.TB, pl Pipeline, v Value) Value {
	t.Helper()
	out, err := k.run(pl, k.secret, v, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return out
}

// maskBadCase is a snippet that must not compile: its error contains want
// and is at pos (line:col in test.yaml; "" skips the check).
type maskBadCase struct {
	name, src, pos, want string
}

// checkBad checks that each snippet fails to compile with an error at pos
// that contains want.
func (k maskKit) checkBad(t *testing.T, cases []maskBadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.tryMask(tc.src)
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

// checkDeterminism applies a mask to each input twice with the kit's secret
// and once with its other secret: the first two must agree, and the other
// secret must change at least one output.
func (k maskKit) checkDeterminism(t *testing.T, pl Pipeline, inputs ...Value) {
	t.Helper()
	differs := false
	for _, in := range inputs {
		a, err := k.run(pl, k.secret, in, nil)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		b, err := k.run(pl, k.secret, in, nil)
		if err != nil {
			t.Fatalf("apply again: %v", err)
		}
		if !sameValue(a, b) {
			t.Errorf("same secret, same input: %+v then %+v", a, b)
		}
		o, err := k.run(pl, k.other, in, nil)
		if err != nil {
			t.Fatalf("apply with the other secret: %v", err)
		}
		if !sameValue(a, o) {
			differs = true
		}
	}
	if !differs {
		t.Errorf("another secret gave the same outputs for all %d inputs", len(inputs))
	}
}

// sameValue compares two values (Value holds a slice, so == does not
// apply).
func sameValue(a, b Value) bool {
	return a.Kind == b.Kind && a.S == b.S && string(a.Raw) == string(b.Raw)
}
