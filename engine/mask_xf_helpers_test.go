package engine

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// Test helpers of the transform, date and identifier masks. Masks are
// compiled through the registry from a YAML snippet, as a ruleset would,
// and applied through Ctx.Run, so each gets its identity and seed.

const (
	xfSecret      = "xf-test-secret-0123456789abcdef"
	xfOtherSecret = "xf-other-secret-9876543210fedcba"
)

// xfNow is the "now" every test compiles with.
var xfNow = time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC)

// xfTryMask compiles one mask given as a YAML mapping.
func xfTryMask(src string) (Pipeline, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, err
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{doc.Content[0]}}
	ms, err := rulesets.ParseMasks(seq, "test.yaml")
	if err != nil {
		return nil, err
	}
	c := &compiler{opts: Options{Now: xfNow}, file: "test.yaml"}
	return c.pipeline(ms)
}

// xfTestMask compiles a mask that must compile.
func xfTestMask(t testing.TB, src string) Pipeline {
	t.Helper()
	pl, err := xfTryMask(src)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return pl
}

// xfRun applies a compiled mask with a secret and an optional hash input
// (what a rule's hash_sources would give).
func xfRun(pl Pipeline, secret string, v Value, hash []byte) (Value, error) {
	c := &Ctx{sec: MustSecret(secret), now: xfNow, hash: hash}
	return c.Run(pl, v)
}

// xfMust applies a mask that must succeed.
func xfMust(t testing.TB, pl Pipeline, v Value) Value {
	t.Helper()
	out, err := xfRun(pl, xfSecret, v, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return out
}

// xfBadParams checks that each snippet fails to compile with an error at
// the given line:col that contains the given text.
type xfBadCase struct {
	name, src, pos, want string
}

func xfCheckBad(t *testing.T, cases []xfBadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xfTryMask(tc.src)
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

// xfCheckDeterminism applies a mask to each input twice with one secret
// and once with another: the first two must agree; across all inputs at
// least one must differ under the other secret.
func xfCheckDeterminism(t *testing.T, pl Pipeline, inputs ...Value) {
	t.Helper()
	differs := false
	for _, in := range inputs {
		a, err := xfRun(pl, xfSecret, in, nil)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		b, _ := xfRun(pl, xfSecret, in, nil)
		if !xfSame(a, b) {
			t.Errorf("same secret, same input: %v then %v", a, b)
		}
		o, err := xfRun(pl, xfOtherSecret, in, nil)
		if err != nil {
			t.Fatalf("apply with the other secret: %v", err)
		}
		if o.S != a.S {
			differs = true
		}
	}
	if !differs {
		t.Errorf("another secret gave the same outputs for all %d inputs", len(inputs))
	}
}

// xfSame compares two values (Value holds a slice, so == does not apply).
func xfSame(a, b Value) bool {
	return a.Kind == b.Kind && a.S == b.S && string(a.Raw) == string(b.Raw)
}
