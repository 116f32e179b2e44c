//go:build interop

package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/processor"
)

// TestPromtoolCheckConfig checks deploy/prometheus/prometheus.yml with
// Debian's promtool. The file names its rules where docker-compose mounts
// them (/etc/prometheus/alerts.yml); a temporary copy points at the repo's
// file instead, so promtool checks the rules it includes as well.
func TestPromtoolCheckConfig(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	root := repoRoot(t)
	ctx := testCtx(t, 30*time.Second)
	src, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	files, _ := doc["rule_files"].([]any)
	if len(files) == 0 {
		t.Fatal("prometheus.yml has no rule_files: the alert rules would never load")
	}
	for i, f := range files {
		s, _ := f.(string)
		if s != "/etc/prometheus/alerts.yml" {
			t.Fatalf("rule_files[%d] = %q; docker-compose.yml mounts the rules at /etc/prometheus/alerts.yml", i, s)
		}
		files[i] = filepath.Join(root, "deploy", "prometheus", "alerts.yml")
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(ctx, nil, promtool, "check", "config", tmp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stdout), "SUCCESS") {
		t.Errorf("promtool check config said:\n%s", stdout)
	}
}

// TestPromtoolCheckRules checks the alert rules with promtool, and that
// they use only documented metrics and label values the code emits.
func TestPromtoolCheckRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	root := repoRoot(t)
	ctx := testCtx(t, 30*time.Second)
	path := filepath.Join(root, "deploy", "prometheus", "alerts.yml")
	stdout, _, err := run(ctx, nil, promtool, "check", "rules", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stdout), "SUCCESS") {
		t.Errorf("promtool check rules said:\n%s", stdout)
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(src, &rules); err != nil {
		t.Fatal(err)
	}
	known := documentedMetrics(t, root)
	known["up"] = true // Prometheus's own, per scrape target
	reloadResults := processor.ReloadResults()
	resultMatcher := regexp.MustCompile(`maskstream_ruleset_reloads_total\{[^}]*result\s*=\s*"([^"]*)"`)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, name := range metricNames(r.Expr) {
				if !known[name] {
					t.Errorf("alert %s uses metric %q, which docs/metrics.md does not list", r.Alert, name)
				}
			}
			for _, m := range resultMatcher.FindAllStringSubmatch(r.Expr, -1) {
				if !slices.Contains(reloadResults, m[1]) {
					t.Errorf("alert %s matches ruleset_reloads_total{result=%q}, but the processor only emits %q: the alert can never fire", r.Alert, m[1], reloadResults)
				}
			}
		}
	}
}

// TestPromtoolTestRules runs the alert rules' unit tests,
// deploy/prometheus/alerts_test.yml: the first dead letter and the first
// failed reload fire their alerts, given series that start at 0 as the
// processor exports them (processor.TestCountersExportedAtZero), and the
// lag alert counts a JetStream consumer's pending once however many
// instances report it.
func TestPromtoolTestRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	root := repoRoot(t)
	ctx := testCtx(t, 30*time.Second)
	// promtool reads the test's rule_files relative to the test file.
	stdout, _, err := run(ctx, nil, promtool, "test", "rules", filepath.Join(root, "deploy", "prometheus", "alerts_test.yml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout) // the failed expectations: on stderr (in err), or on stdout
	}
	if !strings.Contains(string(stdout), "SUCCESS") {
		t.Errorf("promtool test rules said:\n%s", stdout)
	}
}

// TestGrafanaDashboard parses the dashboard, checks that every panel's
// query uses only documented metrics and names the provisioned data
// source, and has promtool parse every query (as recording rules).
func TestGrafanaDashboard(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	root := repoRoot(t)
	ctx := testCtx(t, 30*time.Second)
	src, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "dashboards", "maskstream.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash dashboard
	if err := json.Unmarshal(src, &dash); err != nil {
		t.Fatalf("maskstream.json is not valid JSON: %v", err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Errorf("dashboard uid %q title %q: both are needed for provisioning", dash.UID, dash.Title)
	}
	uids := provisionedDatasources(t, root)
	known := documentedMetrics(t, root)

	type query struct{ record, expr string }
	var queries []query
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" || p.Type == "text" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %d %q has no queries", p.ID, p.Title)
			}
			for _, ds := range append([]*datasource{p.Datasource}, targetsDS(p.Targets)...) {
				if ds != nil && ds.UID != "" && !uids[ds.UID] {
					t.Errorf("panel %d %q uses data source uid %q, which deploy/grafana/provisioning does not define", p.ID, p.Title, ds.UID)
				}
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %d %q query %s has no expr", p.ID, p.Title, tg.RefID)
					continue
				}
				names := metricNames(tg.Expr)
				if len(names) == 0 {
					t.Errorf("panel %d %q query %s reads no metric", p.ID, p.Title, tg.RefID)
				}
				for _, name := range names {
					if !known[name] && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
						t.Errorf("panel %d %q uses metric %q, which docs/metrics.md does not list", p.ID, p.Title, name)
					}
				}
				queries = append(queries, query{fmt.Sprintf("dashboard:panel_%d_%s", p.ID, tg.RefID), grafanaVars.ReplaceAllString(tg.Expr, "5m")})
			}
		}
	}
	walk(dash.Panels)
	if len(queries) == 0 {
		t.Fatal("the dashboard has no queries")
	}

	// promtool parses PromQL through `check rules`: one recording rule per
	// query.
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for _, q := range queries {
		exprJSON, _ := json.Marshal(q.expr) // a JSON string is a valid YAML scalar
		fmt.Fprintf(&b, "      - record: %s\n        expr: %s\n", q.record, exprJSON)
	}
	tmp := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(ctx, nil, promtool, "check", "rules", tmp); err != nil {
		t.Errorf("a dashboard query is not valid PromQL: %v", err)
	}
}

type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []target    `json:"targets"`
	Panels     []panel     `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func targetsDS(ts []target) []*datasource {
	out := make([]*datasource, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Datasource)
	}
	return out
}

// grafanaVars are Grafana's interval variables, replaced by a fixed range
// before promtool parses a query.
var grafanaVars = regexp.MustCompile(`\$(?:__rate_interval|__interval|__range|\{__rate_interval\}|\{__interval\}|\{__range\})`)

// provisionedDatasources are the uids deploy/grafana/provisioning defines.
func provisionedDatasources(t *testing.T, root string) map[string]bool {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(root, "deploy", "grafana", "provisioning", "datasources", "*.y*ml"))
	uids := map[string]bool{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Datasources []struct {
				UID string `yaml:"uid"`
			} `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, d := range doc.Datasources {
			uids[d.UID] = true
		}
	}
	if len(uids) == 0 {
		t.Fatal("deploy/grafana/provisioning/datasources defines no data source uid")
	}
	return uids
}

// documentedMetrics reads the metric table of docs/metrics.md: the names,
// plus _bucket, _sum and _count for histograms.
func documentedMetrics(t *testing.T, root string) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\|\\s*`([a-z_:][a-z0-9_:]*)`\\s*\\|\\s*([a-z]+)\\s*\\|")
	out := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = true
		if m[2] == "histogram" || m[2] == "summary" {
			out[m[1]+"_sum"], out[m[1]+"_count"] = true, true
			if m[2] == "histogram" {
				out[m[1]+"_bucket"] = true
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %d metrics in docs/metrics.md's table; has its format changed?", len(out))
	}
	return out
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promBraces   = regexp.MustCompile(`\{[^{}]*\}`)
	promBrackets = regexp.MustCompile(`\[[^\[\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promTokens   = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*|[0-9][0-9A-Za-z_.]*|\S`) // numbers and durations (1e, 5m) start with a digit
	promKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true,
	}
)

// metricNames returns the metric names a PromQL expression reads: every
// identifier that is not a function, a keyword, a label (inside braces or
// a grouping clause) or a duration.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promBraces.ReplaceAllString(s, " ")
	s = promBrackets.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	toks := promTokens.FindAllString(s, -1)
	var out []string
	for i, tok := range toks {
		c := tok[0]
		if !(c == '_' || c == ':' || (c|0x20) >= 'a' && (c|0x20) <= 'z') || promKeywords[strings.ToLower(tok)] {
			continue
		}
		if i+1 < len(toks) && toks[i+1] == "(" {
			continue // a function or aggregation
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// The checks above are only as good as metricNames: it must find every
// metric and nothing else.
func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum by (route) (rate(maskstream_records_in_total[1m]))`, []string{"maskstream_records_in_total"}},
		{`histogram_quantile(0.99, sum by (route, le) (rate(maskstream_end_to_end_seconds_bucket[$__rate_interval])))`, []string{"maskstream_end_to_end_seconds_bucket"}},
		{`up{job="maskstream"} == 0`, []string{"up"}},
		{"sum(rate(a_total{code=~\"5..\"}[5m])) / clamp_min(sum(rate(a_total[5m])), 1e-9) > 0.05", []string{"a_total"}},
		{`sum by (route) (x) > 1000 and sum by (route) (deriv(y[10m])) > 0`, []string{"x", "y"}},
		{`rate(x[5m] offset 1h) * on (route) group_left (reason) z`, []string{"x", "z"}},
		{`increase(r{result="error"}[15m]) > 0 unless bool q`, []string{"r", "q"}},
	}
	for _, test := range tests {
		t.Run(test.expr, func(t *testing.T) {
			if got := metricNames(test.expr); !slices.Equal(got, test.want) {
				t.Errorf("got %q, want %q", got, test.want)
			}
		})
	}
}
