package processor_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/processor"
)

// idleSource and idleSink let a route be built without a broker.
type idleSource struct{}

func (idleSource) Run(ctx context.Context, _ func(connectors.LaneID) connectors.Lane) error {
	<-ctx.Done()
	return nil
}
func (idleSource) Ack(context.Context, []*connectors.Record) error { return nil }
func (idleSource) Abandon([]*connectors.Record)                    {}
func (idleSource) Close() error                                    { return nil }

type idleSink struct{}

func (idleSink) Write(_ context.Context, _ *connectors.Record, done func(error)) error {
	done(nil)
	return nil
}
func (idleSink) Flush(context.Context) error { return nil }
func (idleSink) Close() error                { return nil }

// exposed returns the series of metric name in e's registry, keyed by
// their labels as in /metrics (sorted by name: {reason="x",route="y"}),
// with their values. It reads the registry as /metrics would, so it never
// creates a series.
func (e *env) exposed(name string) map[string]float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			out["{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

// An alert on increase() only sees a counter rise from a sample it
// already has: every series an alert reads must be on /metrics at 0
// before its first event (deploy/prometheus/alerts_test.yml shows why).
func TestCountersExportedAtZero(t *testing.T) {
	e := newEnv(t, 0, 0)

	reloads := e.exposed("maskstream_ruleset_reloads_total")
	for _, result := range processor.ReloadResults() {
		if v, ok := reloads[`{result="`+result+`"}`]; !ok || v != 0 {
			t.Errorf("ruleset_reloads_total{result=%q} = %v (exposed %v) before any reload, want 0", result, v, ok)
		}
	}
	if len(reloads) != len(processor.ReloadResults()) {
		t.Errorf("ruleset_reloads_total series %v, want one per result %q", reloads, processor.ReloadResults())
	}
	if dead := e.exposed("maskstream_dead_letters_total"); len(dead) != 0 {
		t.Errorf("dead_letters_total series %v with no route", dead)
	}

	routes := []string{"orders", "audit"}
	for _, name := range routes {
		cfg := e.routeConfig(name, "people")
		cfg.Source, cfg.Sink = idleSource{}, idleSink{}
		if _, err := processor.NewRoute(cfg); err != nil {
			t.Fatal(err)
		}
	}
	dead := e.exposed("maskstream_dead_letters_total")
	for _, route := range routes {
		for _, reason := range processor.DeadLetterReasons() {
			if v, ok := dead[`{reason="`+reason+`",route="`+route+`"}`]; !ok || v != 0 {
				t.Errorf("dead_letters_total{route=%q,reason=%q} = %v (exposed %v) for a fresh route, want 0", route, reason, v, ok)
			}
		}
	}
	// Bounded: routes × reasons, nothing else.
	if want := len(routes) * len(processor.DeadLetterReasons()); len(dead) != want {
		t.Errorf("%d dead_letters_total series, want %d (routes × reasons): %v", len(dead), want, dead)
	}
}

// TestDeadLetterReasonsComplete keeps DeadLetterReasons the one list of
// reasons: every Reason constant of the processor and the engine must be
// in it, else that reason's first dead letter never alerts.
func TestDeadLetterReasonsComplete(t *testing.T) {
	want := map[string]string{} // value -> constant
	reasonConstants(t, ".", "processor", want)
	reasonConstants(t, filepath.Join("..", "engine"), "engine", want)
	if len(want) < 9 {
		t.Fatalf("found only %d Reason constants (%v); has the way they are declared changed?", len(want), want)
	}
	got := processor.DeadLetterReasons()
	for v, name := range want {
		if !slices.Contains(got, v) {
			t.Errorf("%s (%q) is missing from deadLetterReasons in processor/mask.go: routes would not export its dead_letters_total series at 0", name, v)
		}
	}
	for i, v := range got {
		if _, ok := want[v]; !ok {
			t.Errorf("deadLetterReasons has %q, which is no Reason constant", v)
		}
		if slices.Contains(got[:i], v) {
			t.Errorf("deadLetterReasons has %q twice", v)
		}
	}
}

// reasonConstants adds to out the exported constants of the package in
// dir that are named Reason* or typed Reason, by value.
func reasonConstants(t *testing.T, dir, pkg string, out map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			var typ ast.Expr // a spec without type or value repeats the previous one's
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Type != nil || len(vs.Values) > 0 {
					typ = vs.Type
				}
				typed := isIdent(typ, "Reason")
				for i, name := range vs.Names {
					if !name.IsExported() || !strings.HasPrefix(name.Name, "Reason") && !typed {
						continue
					}
					v, ok := stringValue(vs, i)
					if !ok {
						t.Fatalf("%s: cannot read the value of %s.%s; give it a string literal or teach this test", fset.Position(name.Pos()), pkg, name.Name)
					}
					out[v] = pkg + "." + name.Name
				}
			}
		}
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// stringValue is the value of the i-th constant of vs: a string literal,
// or one converted with Reason("...").
func stringValue(vs *ast.ValueSpec, i int) (string, bool) {
	if i >= len(vs.Values) {
		return "", false
	}
	e := vs.Values[i]
	if call, ok := e.(*ast.CallExpr); ok && isIdent(call.Fun, "Reason") && len(call.Args) == 1 {
		e = call.Args[0]
	}
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// docs/metrics.md lists the label values an operator can write alerts
// for: exactly those the code exports.
func TestMetricsDocListsLabelValues(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([a-z_0-9]+)`")
	for _, tc := range []struct {
		metric, after string
		values        []string
	}{
		{"maskstream_dead_letters_total", "one of", processor.DeadLetterReasons()},
		{"maskstream_ruleset_reloads_total", "ruleset reloads:", processor.ReloadResults()},
	} {
		row := regexp.MustCompile("(?m)^\\| `" + tc.metric + "` \\|.*$").Find(src)
		_, list, ok := strings.Cut(string(row), tc.after)
		if !ok {
			t.Errorf("docs/metrics.md has no row for %s saying %q its values", tc.metric, tc.after)
			continue
		}
		var documented []string
		for _, m := range code.FindAllStringSubmatch(list, -1) {
			documented = append(documented, m[1])
		}
		slices.Sort(documented)
		values := slices.Sorted(slices.Values(tc.values))
		if !slices.Equal(documented, values) {
			t.Errorf("docs/metrics.md lists %s values %q, the code exports %q", tc.metric, documented, values)
		}
	}
}
