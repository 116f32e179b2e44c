package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// stripCaptures makes a Masker look every hash source up from the root, as
// before the scan captured them: the reference the captures must agree
// with.
func stripCaptures(m *Masker) {
	seen := map[*mnode]bool{}
	var walk func(n *mnode)
	walk = func(n *mnode) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		n.capture = nil
		for _, k := range n.kids {
			walk(k)
		}
		walk(n.other)
		walk(n.elem)
		for _, k := range n.idx {
			walk(k)
		}
	}
	walk(m.prog.root)
}

// captureRules hash by sources met before, after and beside the values
// they key, inside containers a rule masks whole, behind member names
// redact_secrets replaces, and shared by several rules.
const captureRules = `version: "1.0"
rules:
  - {path: "$.c.name", hash_sources: ["$.c.id"], masks: [{type: test_seed}]}
  - {path: "$.c.id", masks: [{type: do_nothing}]}
  - {path: "$.x", hash_sources: ["$.c.id"], masks: [{type: test_seed}]}
  - {path: "$.y", hash_sources: ["$.c.id", "$.o.k"], masks: [{type: test_seed}]}
  - {path: "$.o", masks: [{type: test_obj}]}
  - {path: "$.o.k", masks: [{type: test_upper}]}
  - {path: "$.z", hash_sources: ["$.o.k"], masks: [{type: test_seed}]}
  - {path: "$.w", hash_sources: ["$.token.id"], masks: [{type: test_seed}]}
  - {path: "$.token.v", masks: [{type: test_upper}]}
  - {path: "$.*.q", hash_sources: ["$.c.id"], masks: [{type: test_seed}]}
`

// randomCaptureDoc builds a record from the members the rules name, in a
// random order, some twice, some missing, some names escaped.
func randomCaptureDoc(r *rand.Rand) string {
	name := func(k string) string {
		if r.IntN(6) == 0 {
			return fmt.Sprintf(`"\u%04x%s"`, k[0], k[1:]) // the same name
		}
		return `"` + k + `"`
	}
	scalar := func() string {
		switch r.IntN(5) {
		case 0:
			return "null"
		case 1:
			return `""`
		case 2:
			return "12"
		}
		return `"v` + string(rune('a'+r.IntN(26))) + `"`
	}
	var obj func(keys []string, depth int) string
	obj = func(keys []string, depth int) string {
		var ms []string
		for _, k := range keys {
			if r.IntN(5) == 0 {
				continue
			}
			n := 1
			if r.IntN(6) == 0 {
				n = 2
			}
			for range n {
				v := scalar()
				if depth == 0 && r.IntN(3) == 0 {
					v = obj([]string{"id", "name", "k", "q", "v"}, 1)
				}
				ms = append(ms, name(k)+":"+v)
			}
		}
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		return "{" + strings.Join(ms, ",") + "}"
	}
	return obj([]string{"c", "x", "y", "o", "z", "w", "token", "p", "c"}, 0)
}

func TestCapturedSourcesMatchLookups(t *testing.T) {
	for _, redact := range []string{"", "redact_secrets: false\n"} {
		src := strings.Replace(captureRules, "rules:\n", redact+"rules:\n", 1)
		got := mustCompile(t, src)
		want := mustCompile(t, src)
		stripCaptures(want)
		captured := 0
		for _, k := range got.prog.root.kids {
			if k != nil {
				for _, kk := range k.kids {
					if kk != nil {
						captured += len(kk.capture)
					}
				}
			}
		}
		if captured == 0 {
			t.Fatal("no hash source is captured: the test checks nothing")
		}
		r := rand.New(rand.NewPCG(1, uint64(len(redact))))
		for range 5000 {
			doc := randomCaptureDoc(r)
			g, gerr := maskString(t, got, doc)
			w, werr := maskString(t, want, doc)
			if g != w || (gerr == nil) != (werr == nil) {
				t.Fatalf("%s\ncaptured: %s, %v\nlooked up: %s, %v", doc, g, gerr, w, werr)
			}
		}
	}
}

// TestPlainScanAgrees checks the scan of subtrees no rule reaches (plain)
// against the general one, which a descendant path forces everywhere:
// the same output, and the same error at the same offset for broken
// input.
func TestPlainScanAgrees(t *testing.T) {
	plainM := mustCompile(t, "version: \"1.0\"\nrules: [{path: \"$.zz\", masks: [{type: do_nothing}]}]\n")
	general := mustCompile(t, "version: \"1.0\"\nrules: [{path: \"$..zz\", masks: [{type: do_nothing}]}]\n")
	names := []string{`"a"`, `"password"`, `"pass\u0077ord"`, `"api_key"`, `"list"`, `"é"`, `"a\"b"`, `"token"`, `"x_long_member_name"`}
	r := rand.New(rand.NewPCG(3, 4))
	var gen func(depth int) string
	gen = func(depth int) string {
		switch n := r.IntN(9); {
		case n < 2 && depth < 5:
			var ms []string
			for range r.IntN(4) {
				ms = append(ms, names[r.IntN(len(names))]+" : "+gen(depth+1))
			}
			return "{" + strings.Join(ms, ",") + "}"
		case n < 4 && depth < 5:
			var es []string
			for range r.IntN(4) {
				es = append(es, gen(depth+1))
			}
			return "[ " + strings.Join(es, " ,") + "]"
		case n < 5:
			return `"a long plain string value"`
		case n < 6:
			return `"\u00e9\n"`
		case n < 7:
			return "-12.5e3"
		case n < 8:
			return "null"
		}
		return `"s"`
	}
	for range 20000 {
		doc := `{"list":` + gen(0) + `}`
		if r.IntN(4) == 0 {
			// Break it: cut it short or change a byte.
			b := []byte(doc)
			i := r.IntN(len(b))
			if r.IntN(2) == 0 {
				b = b[:i]
			} else {
				b[i] = ",:]}\"x\\"[r.IntN(7)]
			}
			doc = string(b)
		}
		got, gerr := maskString(t, plainM, doc)
		want, werr := maskString(t, general, doc)
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("%s\nplain: %s, %v\ngeneral: %s, %v", doc, got, gerr, want, werr)
		}
	}
}
