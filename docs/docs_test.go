// Package docs holds no code: its tests run every YAML example of the
// Markdown documentation (docs/*.md and README.md) against the real parser,
// engine and config loader, so the reference cannot drift from the code.
//
// Each ```yaml block is checked by its shape:
//
//   - a ruleset (version:, or a top-level rules:) must parse and compile;
//   - a list of rules, one rule, a list of masks, one mask, conditions or
//     hash sources are wrapped into a ruleset that must parse and compile;
//   - a daemon config (routes:, kafka:, nats:, http:...) must pass
//     config.Load, and the rulesets its routes name (taken from
//     rulesets/examples) must compile with its limits.
//
// The line before the fence may hold one directive:
//
//	<!-- docs-test: skip (why this fragment cannot stand alone) -->
//	<!-- docs-test: error "substring the error must contain" -->
//	<!-- docs-test: input -->     on a ```json block: a record for the ruleset above
//	<!-- docs-test: output -->    on a ```json block: its masked form
//
// Masked values depend on the run secret, so an output is compared by
// shape: the same members and JSON types, values the input shows unchanged
// stay unchanged, and values the output shows changed must change.
package docs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// repoRoot is where README.md, docs/ and rulesets/examples are, seen from
// this package's folder (go test runs in it).
const repoRoot = ".."

// docSecret masks the input/output examples. Outputs are compared by
// shape, so no documented value depends on it.
const docSecret = "docs-test run secret, never a real one"

// userSeedFiles are the user CSV files the examples name, as a user would
// keep them beside the ruleset. An example naming another one fails until
// it is added here.
var userSeedFiles = map[string]string{
	"seeds/nz_suburbs.csv": "suburb,city\nPonsonby,Auckland\nKaro,Wellington\nRiccarton,Christchurch\n",
}

// block is one fenced code block of a Markdown file.
type block struct {
	file string // path from the repository root, as errors name it
	line int    // 1-based line of the opening fence
	lang string
	text string
	dir  directive
}

type directive struct {
	verb string // "", skip, error, input, output
	arg  string // skip's reason, error's substring
}

func (b *block) name() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var (
	directiveRE = regexp.MustCompile(`^<!--\s*docs-test:\s*(.*?)\s*-->$`)
	skipRE      = regexp.MustCompile(`^skip\s+\((.+)\)$`)
	errorRE     = regexp.MustCompile(`^error\s+"(.+)"$`)
)

// parseDirective reads the comment on the line before a fence; ok is false
// when the line is no docs-test comment.
func parseDirective(line string) (d directive, ok bool, err error) {
	m := directiveRE.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return directive{}, false, nil
	}
	body := m[1]
	switch {
	case body == "input" || body == "output":
		return directive{verb: body}, true, nil
	case skipRE.MatchString(body):
		return directive{verb: "skip", arg: skipRE.FindStringSubmatch(body)[1]}, true, nil
	case errorRE.MatchString(body):
		return directive{verb: "error", arg: errorRE.FindStringSubmatch(body)[1]}, true, nil
	}
	return directive{}, true, fmt.Errorf("unknown docs-test directive %q: use skip (reason), error \"substring\", input or output", body)
}

// readBlocks returns the fenced blocks of one Markdown file. Fences may be
// indented (inside a list item); the block's text loses that indentation.
func readBlocks(root, rel string) ([]block, error) {
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	var (
		out    []block
		cur    *block
		indent string
		prev   string
		body   strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			if strings.HasPrefix(trimmed, "```") {
				cur = &block{file: filepath.ToSlash(rel), line: n, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
				indent = line[:len(line)-len(trimmed)]
				d, ok, err := parseDirective(prev)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", rel, n-1, err)
				}
				if ok {
					cur.dir = d
				}
				body.Reset()
			}
			prev = line
			continue
		}
		if strings.TrimSpace(line) == "```" {
			cur.text = body.String()
			out = append(out, *cur)
			cur, prev = nil, line
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent))
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: the code block is never closed", rel, cur.line)
	}
	return out, nil
}

// docFiles lists README.md and every Markdown file of docs/.
func docFiles(t testing.TB) []string {
	t.Helper()
	files := []string{"README.md"}
	ms, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		rel, err := filepath.Rel(repoRoot, m)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
	}
	slices.Sort(files)
	return files
}

// The shapes a YAML example may have.
type kind int

const (
	kindUnknown kind = iota
	kindRuleset
	kindRules
	kindRule
	kindMasks
	kindMask
	kindConditions
	kindCondition
	kindConfig
)

func (k kind) String() string {
	return [...]string{"unknown", "ruleset", "list of rules", "rule", "list of masks", "mask", "list of conditions", "condition", "daemon config"}[k]
}

var (
	configKeys  = []string{"rulesets_dir", "data_dir", "run_secret_file", "limits", "drain_timeout", "kafka", "nats", "routes", "http"}
	rulesetKeys = []string{"version", "skip_defaults", "redact_secrets", "key", "headers", "rules", "mask_definitions", "rule_definitions"}
	ruleKeys    = []string{"name", "path", "paths", "masks", "hash_sources", "on_missing", "on_null", "if", "rules", "else_rules"}
	condOps     = []string{"equals", "not_equals", "less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal", "matches", "in", "is_null", "is_missing"}
)

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) == 1 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

func keysOf(n *yaml.Node) []string {
	var keys []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys
}

func hasAny(keys []string, of ...string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(of, k) })
}

func allIn(keys, set []string) bool {
	for _, k := range keys {
		if !slices.Contains(set, k) {
			return false
		}
	}
	return len(keys) > 0
}

// classify tells the shape of a mapping or of a list's entries.
func classify(n *yaml.Node) kind {
	n = resolve(n)
	if n == nil {
		return kindUnknown
	}
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return kindUnknown
		}
		first := classify(n.Content[0])
		for _, c := range n.Content[1:] {
			if classify(c) != first {
				return kindUnknown
			}
		}
		switch first {
		case kindRule:
			return kindRules
		case kindMask:
			return kindMasks
		case kindCondition:
			return kindConditions
		}
		return kindUnknown
	case yaml.MappingNode:
		keys := keysOf(n)
		switch {
		case hasAny(keys, configKeys...):
			return kindConfig
		case slices.Contains(keys, "version"), slices.Contains(keys, "rules") && !slices.Contains(keys, "if") && allIn(keys, rulesetKeys):
			return kindRuleset
		case allIn(keys, ruleKeys) && hasAny(keys, "masks", "if", "hash_sources"):
			return kindRule
		case slices.Contains(keys, "type"):
			return kindMask
		case hasAny(keys, "and", "or", "not"), hasAny(keys, "path", "json_path") && hasAny(keys, condOps...):
			return kindCondition
		}
	}
	return kindUnknown
}

// indentText shifts every non-empty line right by n spaces, which keeps the
// YAML's structure.
func indentText(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "")
}

// Fillers complete a fragment into a rule; their masks are not counted as
// documented.
const (
	fillerRules = `rules: [ { masks: [ { type: do_nothing } ] } ]`
	fillerMasks = `masks: [ { type: do_nothing } ]`
)

// wrapRuleset turns a ruleset-shaped example into a whole ruleset. The text
// is padded with blank lines so the example's lines keep their line numbers
// in the Markdown file (errors then point into the page).
func wrapRuleset(b *block, k kind, root *yaml.Node) string {
	var head, tail string
	body := b.text
	var fill string
	root = resolve(root)
	if k == kindRule && root.Kind == yaml.MappingNode {
		keys := keysOf(root)
		switch {
		case slices.Contains(keys, "if") && !hasAny(keys, "rules", "else_rules"):
			fill = fillerRules
		case !hasAny(keys, "masks", "if"):
			fill = fillerMasks
		}
	}
	base := 0
	if root.Kind == yaml.MappingNode && len(root.Content) > 0 {
		base = root.Content[0].Column - 1
	}
	switch k {
	case kindRuleset:
		if !slices.Contains(keysOf(root), "version") {
			head = "version: \"1.0\"\n"
		}
	case kindRules:
		// A block sequence may sit at its key's own indentation, so a
		// list of rules needs no shift and keeps its columns too.
		head = "version: \"1.0\"\nrules:\n"
	case kindRule:
		head, body = "version: \"1.0\"\nrules:\n  -\n", indentText(body, 4)
		if fill != "" {
			tail = strings.Repeat(" ", base+4) + fill + "\n"
		}
	case kindMasks:
		head, body = "version: \"1.0\"\nrules:\n  - masks:\n", indentText(body, 6)
	case kindMask:
		head, body = "version: \"1.0\"\nrules:\n  - masks:\n      -\n", indentText(body, 8)
	case kindConditions:
		head, body = "version: \"1.0\"\nrules:\n  - "+fillerRules+"\n    if:\n", indentText(body, 6)
	case kindCondition:
		head, body = "version: \"1.0\"\nrules:\n  - "+fillerRules+"\n    if:\n      -\n", indentText(body, 8)
	}
	return padTo(b, head) + body + tail
}

// padTo puts blank lines before head so that the line after it is the
// line after the fence.
func padTo(b *block, head string) string {
	pad := b.line - strings.Count(head, "\n")
	if pad < 0 {
		pad = 0
	}
	return strings.Repeat("\n", pad) + head
}

// result is what checking one example found.
type result struct {
	kind   kind
	masker *engine.Masker
	types  map[string]bool // mask types the example itself uses
}

// checkRuleset parses and compiles a ruleset-shaped example.
func checkRuleset(t testing.TB, b *block, k kind, root *yaml.Node) (*engine.Masker, error) {
	src := wrapRuleset(b, k, root)
	rs, err := rulesets.Parse("docs-example", b.file, []byte(src))
	if err != nil {
		return nil, fmt.Errorf("does not parse as a %s:\n%w", k, err)
	}
	dir := t.TempDir()
	for name, body := range userSeedFiles {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rs.Dir = dir
	m, err := engine.Compile(rs, engine.Options{})
	if err != nil {
		return nil, fmt.Errorf("does not compile as a %s:\n%w", k, err)
	}
	return m, nil
}

// checkConfig loads a daemon-config example from a file in a temporary
// folder, as `maskstream run -c` would, then compiles the rulesets its
// routes name (copied from rulesets/examples into its rulesets_dir when
// that is relative) and reads its secrets with every environment variable
// set to a dummy value.
func checkConfig(t testing.TB, b *block) error {
	dir := t.TempDir()
	file := filepath.Join(dir, "maskstream.yaml")
	if err := os.WriteFile(file, []byte(padTo(b, "")+b.text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		// The padding keeps the example's lines, so the temporary file's
		// positions are the page's.
		return fmt.Errorf("config.Load refuses it:\n%s", strings.ReplaceAll(err.Error(), file, b.file))
	}
	for _, w := range cfg.Warnings {
		t.Logf("config warning: %s", w)
	}
	for _, name := range cfg.Rulesets() {
		example := filepath.Join(repoRoot, "rulesets", "examples", name+".yaml")
		src, err := os.ReadFile(example)
		if err != nil {
			return fmt.Errorf("a route uses ruleset %q, which is not one of rulesets/examples; name one of those in docs examples", name)
		}
		path := example
		if rel, err := filepath.Rel(dir, cfg.RulesetsDir); err == nil && filepath.IsLocal(rel) {
			path = filepath.Join(cfg.RulesetsDir, name+".yaml")
			if err := os.MkdirAll(cfg.RulesetsDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := rulesets.ParseFile(path)
		if err == nil {
			_, err = engine.Compile(rs, engine.Options{MaxBytes: cfg.Limits.MaxRecordBytes, MaxDepth: cfg.Limits.MaxDepth})
		}
		if err != nil {
			return fmt.Errorf("ruleset %q does not compile with the config's limits:\n%w", name, err)
		}
	}
	dummy := func(string) string { return "docs-test dummy secret value" }
	if err := cfg.CheckSecrets(dummy); err != nil {
		// Secret files and creds files name places on a real host; every
		// other failure is the config's.
		for _, e := range flatten(err) {
			if !errors.Is(e, fs.ErrNotExist) {
				return fmt.Errorf("a secret cannot be read even with every environment variable set: %w", e)
			}
		}
	}
	return nil
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// checkBlock checks one YAML example and returns the mask types it uses
// (when it compiled) and its masker (for input/output examples).
func checkBlock(t testing.TB, b *block) (result, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(b.text), &doc); err != nil {
		if b.dir.verb == "error" && strings.Contains(err.Error(), b.dir.arg) {
			return result{}, nil
		}
		return result{}, fmt.Errorf("not valid YAML: %w", err)
	}
	k := classify(&doc)
	var err error
	res := result{kind: k}
	switch k {
	case kindUnknown:
		return result{}, errors.New(`cannot tell what this example is (a ruleset, rules, a rule, masks, a mask, conditions or a daemon config); ` +
			`fix it, or mark a fragment that cannot stand alone with <!-- docs-test: skip (reason) --> on the line before the fence`)
	case kindConfig:
		err = checkConfig(t, b)
	default:
		res.masker, err = checkRuleset(t, b, k, &doc)
		if err == nil {
			res.types = map[string]bool{}
			collectMaskTypes(&doc, k, res.types)
		}
	}
	if b.dir.verb == "error" {
		switch {
		case err == nil:
			return result{}, fmt.Errorf("is marked to fail with %q, but it is accepted as a %s", b.dir.arg, k)
		case !strings.Contains(err.Error(), b.dir.arg):
			return result{}, fmt.Errorf("is marked to fail with %q, but fails with:\n%v", b.dir.arg, err)
		}
		return result{kind: k}, nil
	}
	return res, err
}

// collectMaskTypes adds the type of every mask written in the example:
// entries of any masks or fallback_masks list, at any depth (concat, json
// and xml transforms, unstructured_text labels), and the example itself
// when it is a mask or a list of masks.
func collectMaskTypes(doc *yaml.Node, k kind, out map[string]bool) {
	root := resolve(doc)
	seen := map[*yaml.Node]bool{}
	switch k {
	case kindMask:
		addMask(root, out)
	case kindMasks:
		for _, c := range root.Content {
			addMask(c, out)
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		n = resolve(n)
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, v := n.Content[i].Value, resolve(n.Content[i+1])
				if (key == "masks" || key == "fallback_masks") && v != nil && v.Kind == yaml.SequenceNode {
					for _, c := range v.Content {
						addMask(c, out)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
}

// addMask records a mask mapping's type, following a merge key (<<: *m).
func addMask(n *yaml.Node, out map[string]bool) {
	for depth := 0; depth < 8; depth++ {
		n = resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		var merged *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "type":
				out[n.Content[i+1].Value] = true
				return
			case "<<":
				merged = n.Content[i+1]
			}
		}
		n = merged
	}
}

// checkExample masks an input example with the ruleset example before it
// and compares the result with the output example by shape.
func checkExample(m *engine.Masker, input, output *block) error {
	sec, err := engine.NewSecret(docSecret)
	if err != nil {
		return err
	}
	got, err := m.MaskValue(nil, sec, []byte(input.text), nil)
	if err != nil {
		return fmt.Errorf("masking the input of line %d: %w", input.line, err)
	}
	var in, want, have any
	for _, d := range []struct {
		src []byte
		dst *any
		at  string
	}{{[]byte(input.text), &in, input.name()}, {[]byte(output.text), &want, output.name()}, {got, &have, "the masked output"}} {
		dec := json.NewDecoder(bytes.NewReader(d.src))
		dec.UseNumber()
		if err := dec.Decode(d.dst); err != nil {
			return fmt.Errorf("%s is not JSON: %w", d.at, err)
		}
	}
	if err := sameShape("$", want, have, in, true); err != nil {
		return fmt.Errorf("%w\nmasked output: %s", err, got)
	}
	return nil
}

// sameShape compares the documented output want with the masked output
// have, knowing the input in (hasIn: the input has this member).
func sameShape(at string, want, have, in any, hasIn bool) error {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: the docs show an object, the mask gives %s", at, typeName(have))
		}
		i, _ := in.(map[string]any)
		for k := range h {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("%s: the mask gives member %q, which the docs' output does not show", at, k)
			}
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				return fmt.Errorf("%s: the docs show member %q, which the mask's output lacks", at, k)
			}
			iv, hasI := i[k]
			if err := sameShape(at+"."+k, wv, hv, iv, hasI && i != nil); err != nil {
				return err
			}
		}
		return nil
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return fmt.Errorf("%s: the docs show an array of %d, the mask gives %s", at, len(w), typeName(have))
		}
		i, _ := in.([]any)
		for n := range w {
			var iv any
			if n < len(i) {
				iv = i[n]
			}
			if err := sameShape(fmt.Sprintf("%s[%d]", at, n), w[n], h[n], iv, n < len(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if typeName(want) != typeName(have) {
		return fmt.Errorf("%s: the docs show %s, the mask gives %s", at, typeName(want), typeName(have))
	}
	if !hasIn {
		return nil
	}
	switch {
	case scalarEq(want, in) && !scalarEq(have, in):
		return fmt.Errorf("%s: the docs show the value unchanged, the mask changes it", at)
	case !scalarEq(want, in) && scalarEq(have, in):
		return fmt.Errorf("%s: the docs show the value masked, the mask leaves it as it was", at)
	}
	return nil
}

// scalarEq compares two decoded JSON scalars; an object or array never
// equals a scalar.
func scalarEq(a, b any) bool {
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// TestDocsExamples checks every YAML example of the docs, one subtest per
// block named file:line.
func TestDocsExamples(t *testing.T) {
	checked := 0
	for _, f := range docFiles(t) {
		blocks, err := readBlocks(repoRoot, f)
		if err != nil {
			t.Fatal(err)
		}
		var last *block
		var lastMasker *engine.Masker
		var input *block
		for i := range blocks {
			b := &blocks[i]
			switch {
			case b.lang == "json" && b.dir.verb == "input":
				if last == nil {
					t.Errorf("%s: an input example needs a ruleset example above it", b.name())
				}
				input = b
				continue
			case b.lang == "json" && b.dir.verb == "output":
				t.Run(b.name(), func(t *testing.T) {
					switch {
					case input == nil:
						t.Fatal("an output example needs an input example above it")
					case lastMasker == nil:
						t.Fatalf("the ruleset example at line %d did not compile", last.line)
					}
					if err := checkExample(lastMasker, input, b); err != nil {
						t.Fatalf("%s (ruleset at line %d, input at line %d):\n%v", b.name(), last.line, input.line, err)
					}
				})
				input = nil
				continue
			case b.dir.verb == "input" || b.dir.verb == "output":
				t.Errorf("%s: docs-test %s marks ```json blocks, not ```%s", b.name(), b.dir.verb, b.lang)
				continue
			case b.lang != "yaml" && b.lang != "yml":
				if b.dir.verb != "" {
					t.Errorf("%s: docs-test %s marks YAML examples; this block is ```%s", b.name(), b.dir.verb, b.lang)
				}
				continue
			}
			if input != nil {
				t.Errorf("%s: an input example with no output example after it", input.name())
			}
			last, lastMasker, input = b, nil, nil
			checked++
			t.Run(b.name(), func(t *testing.T) {
				if b.dir.verb == "skip" {
					t.Skipf("marked skip: %s", b.dir.arg)
				}
				res, err := checkBlock(t, b)
				if err != nil {
					t.Fatalf("%s: the example %v\n--- example ---\n%s", b.name(), err, b.text)
				}
				t.Logf("checked as a %s", res.kind)
				lastMasker = res.masker
			})
		}
		if input != nil {
			t.Errorf("%s: an input example with no output example after it", input.name())
		}
	}
	if checked < 50 {
		t.Errorf("found only %d YAML examples; is the Markdown read right?", checked)
	}
}

// TestEveryMaskTypeHasAnExample asserts that every registered mask type is
// used by at least one docs example that compiles.
func TestEveryMaskTypeHasAnExample(t *testing.T) {
	covered := map[string]bool{}
	for _, f := range docFiles(t) {
		blocks, err := readBlocks(repoRoot, f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range blocks {
			b := &blocks[i]
			if (b.lang != "yaml" && b.lang != "yml") || b.dir.verb == "skip" || b.dir.verb == "error" {
				continue
			}
			res, err := checkBlock(t, b)
			if err != nil {
				continue // TestDocsExamples reports it
			}
			for typ := range res.types {
				covered[typ] = true
			}
		}
	}
	for _, typ := range engine.MaskTypes() {
		if !covered[typ] {
			t.Errorf("mask type %s has no example in the docs that compiles; add one to its page", typ)
		}
	}
}

// TestClassify pins the shapes the examples are sorted into, so a change
// of the rules above cannot quietly stop checking a kind of example.
func TestClassify(t *testing.T) {
	tests := []struct {
		name, src string
		want      kind
	}{
		{"ruleset", "version: \"1.0\"\nrules: []\n", kindRuleset},
		{"ruleset without version", "rules:\n  - { path: \"$.a\", masks: [ { type: hash } ] }\n", kindRuleset},
		{"rules", "- path: \"$.a\"\n  masks: [ { type: hash } ]\n- { path: \"$.b\", masks: [ { type: drop } ] }\n", kindRules},
		{"indented rules", "  - if: [ { path: \"$.c\", equals: NZ } ]\n    rules: []\n", kindRules},
		{"rule", "masks:\n  - { type: from_fixed, value: x }\n", kindRule},
		{"conditions only", "if:\n  - { path: \"$.a\", is_null: true }\n", kindRule},
		{"hash sources only", "hash_sources:\n  - \"$.id\"\n", kindRule},
		{"mask", "{ type: hash, length: 12 }\n", kindMask},
		{"masks", "- { type: imitate }\n- { type: set_checksum, algorithm: luhn }\n", kindMasks},
		{"condition", "{ path: \"$.country\", equals: NZ }\n", kindCondition},
		{"combinator", "or: [ { path: \"$.a\", equals: 1 } ]\n", kindCondition},
		{"conditions", "- { path: \"$.a\", in: [1, 2] }\n- not: { path: \"$.b\", is_missing: true }\n", kindConditions},
		{"config", "http: { listen: \"127.0.0.1:8080\", insecure_no_auth: true }\n", kindConfig},
		{"config with routes", "routes: []\n", kindConfig},
		{"scalar", "hello\n", kindUnknown},
		{"mixed list", "- { type: imitate }\n- { path: \"$.a\", masks: [] }\n", kindUnknown},
		{"unknown mapping", "foo: bar\n", kindUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			if got := classify(&doc); got != tc.want {
				t.Errorf("classify = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCheckBlockRefuses makes sure the checks can fail: a broken example
// of each kind is reported, and error directives are honoured.
func TestCheckBlockRefuses(t *testing.T) {
	tests := []struct {
		name, src string
		dir       directive
		wantErr   string // "" means accepted
	}{
		{"unknown mask type", "- path: \"$.a\"\n  masks: [ { type: no_such_mask } ]\n", directive{}, "no_such_mask"},
		{"bad mask parameter", "{ type: hash, lenght: 12 }\n", directive{}, "lenght"},
		{"unquoted version", "version: 1.0\nrules: [ { masks: [ { type: drop } ] } ]\n", directive{}, "version"},
		{"config unknown key", "http: { listen: \":8080\", tokenz: [] }\n", directive{}, "tokenz"},
		{"config ruleset not an example", "kafka: { k: { brokers: [\"k:9092\"] } }\nroutes:\n  - { name: r, from: { kafka: k, topics: [a] }, to: { kafka: k }, ruleset: nope }\n", directive{}, "rulesets/examples"},
		{"unknown shape", "foo: bar\n", directive{}, "cannot tell"},
		{"error directive met", "{ type: hash, lenght: 12 }\n", directive{"error", "lenght"}, ""},
		{"error directive wrong text", "{ type: hash, lenght: 12 }\n", directive{"error", "something else"}, "but fails with"},
		{"error directive but valid", "{ type: hash }\n", directive{"error", "x"}, "accepted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &block{file: "docs/x.md", line: 10, lang: "yaml", text: tc.src, dir: tc.dir}
			_, err := checkBlock(t, b)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted; want an error with %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q lacks %q", err, tc.wantErr)
			}
		})
	}
}

// TestErrorPositionsPointIntoThePage checks the padding: an error in a
// wrapped example names the Markdown file and the example's own line.
func TestErrorPositionsPointIntoThePage(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"rules", "- path: \"$.a\"\n  masks: [ { type: hash, lenght: 3 } ]\n", "docs/x.md:42:26:"},
		{"mask", "{ type: hash, lenght: 3 }\n", "docs/x.md:41:"},
		{"config", "http:\n  listen: \"127.0.0.1:8080\"\n  insecure_no_auth: yes please\n", "docs/x.md:43:21:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &block{file: "docs/x.md", line: 40, lang: "yaml", text: tc.src}
			_, err := checkBlock(t, b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v does not point at %s", err, tc.want)
			}
		})
	}
}

// TestSameShape pins the output comparison.
func TestSameShape(t *testing.T) {
	dec := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	in := `{"id": 7, "name": "Ada", "tags": ["a"], "note": "x"}`
	tests := []struct {
		name, want, have, err string
	}{
		{"same shape", `{"id": 7, "name": "Zoe", "tags": ["a"], "note": "x"}`, `{"id": 7, "name": "Kim", "tags": ["a"], "note": "x"}`, ""},
		{"unchanged value changed", `{"id": 7, "name": "Zoe", "tags": ["a"], "note": "x"}`, `{"id": 8, "name": "Kim", "tags": ["a"], "note": "x"}`, "unchanged"},
		{"masked value left", `{"id": 7, "name": "Zoe", "tags": ["a"], "note": "x"}`, `{"id": 7, "name": "Ada", "tags": ["a"], "note": "x"}`, "leaves it"},
		{"type changed", `{"id": 7, "name": "Zoe", "tags": ["a"], "note": "x"}`, `{"id": "7", "name": "Kim", "tags": ["a"], "note": "x"}`, "a number"},
		{"dropped member", `{"id": 7, "name": "Zoe", "tags": ["a"]}`, `{"id": 7, "name": "Kim", "tags": ["a"]}`, ""},
		{"member not dropped", `{"id": 7, "name": "Zoe", "tags": ["a"]}`, `{"id": 7, "name": "Kim", "tags": ["a"], "note": "x"}`, "does not show"},
		{"array length", `{"id": 7, "name": "Zoe", "tags": ["a"], "note": "x"}`, `{"id": 7, "name": "Kim", "tags": [], "note": "x"}`, "array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sameShape("$", dec(tc.want), dec(tc.have), dec(in), true)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			}
		})
	}
}
