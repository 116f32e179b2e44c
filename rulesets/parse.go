package rulesets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Version is the ruleset schema version, DataMasque's only one.
const Version = "1.0"

// MaxRulesetBytes is the longest ruleset text Parse reads.
const MaxRulesetBytes = 4 << 20

// Top-level keys of a ruleset. mask_definitions and rule_definitions are
// DataMasque's places for YAML anchors (&name) that masks and rules then
// reuse with aliases (*name or <<: *name); they mean nothing by themselves.
var topKeys = []string{"version", "skip_defaults", "redact_secrets", "key", "headers", "rules", "mask_definitions", "rule_definitions"}

// Parse reads a ruleset. name is the ruleset's name (its file name without
// .yaml, or the name it was uploaded under) and file the name errors give
// (empty for an upload). Every problem is reported at once, as an ErrorList
// in file order whose errors read "file:line:col: what is wrong, and how to
// fix it". On error the Ruleset is nil.
func Parse(name, file string, src []byte) (*Ruleset, error) {
	p := &parser{file: file, names: map[string]ruleName{}}
	rs := p.parse(src)
	sortErrors(p.errs)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	rs.Name = name
	rs.Source = bytes.Clone(src)
	return rs, nil
}

// parser collects errors while it reads one ruleset.
type parser struct {
	file  string
	errs  ErrorList
	names map[string]ruleName
}

// ruleName is a rule's metrics label and where the rule is, to report two
// rules with one name.
type ruleName struct {
	line     int
	explicit bool
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, Errorf(nodePos(p.file, n), format, args...))
}

func (p *parser) add(err error) {
	p.errs = append(p.errs, Errors(err)...)
}

func (p *parser) parse(src []byte) *Ruleset {
	at1 := Pos{File: p.file, Line: 1, Col: 1}
	if len(src) > MaxRulesetBytes {
		p.errs = append(p.errs, Errorf(at1, "the ruleset is %d bytes; the limit is %d (split it, or move seed values into a CSV file)", len(src), MaxRulesetBytes))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs = append(p.errs, Errorf(at1, "the ruleset is empty; it needs at least version: \"1.0\" and rules:"))
		} else {
			p.errs = append(p.errs, yamlError(p.file, src, err))
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.errorf(&extra, "the file holds a second YAML document (after ---); a ruleset is one document, so remove it or move it to its own file")
	case !errors.Is(err, io.EOF):
		p.errs = append(p.errs, yamlError(p.file, src, err))
	}
	tree, errs := expandTree(p.file, &doc)
	if len(errs) > 0 {
		p.errs = append(p.errs, errs...)
		return nil
	}
	root := resolveAlias(tree)
	if root == nil || root.Kind == yaml.ScalarNode && root.ShortTag() == nullTag {
		p.errs = append(p.errs, Errorf(at1, "the ruleset is empty; it needs at least version: \"1.0\" and rules:"))
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "a ruleset is a mapping with version:, rules: and the other top-level keys, not %s", describe(root))
		return nil
	}
	return p.top(root)
}

func (p *parser) top(root *yaml.Node) *Ruleset {
	rs := &Ruleset{RedactSecrets: true}
	f := map[string]pair{}
	for _, kv := range pairs(p.file, root, &p.errs) {
		if !slices.Contains(topKeys, kv.key.Value) {
			p.errs = append(p.errs, p.unknown(kv.key, "the ruleset", topKeys))
			continue
		}
		f[kv.key.Value] = kv
	}

	if kv, ok := f["version"]; !ok {
		p.errorf(root, "missing version; add version: \"1.0\" at the top")
	} else if p.version(kv.val) {
		rs.Version = kv.val.Value
	}
	if kv, ok := f["skip_defaults"]; ok {
		rs.SkipDefaults = p.scalarList(kv.val, "skip_defaults", true)
	}
	if kv, ok := f["redact_secrets"]; ok {
		if b, ok := p.boolean(kv.val, "redact_secrets"); ok {
			rs.RedactSecrets = b
		}
	}
	if kv, ok := f["key"]; ok {
		rs.Key = p.keyRule(kv.val)
	}
	if kv, ok := f["headers"]; ok {
		rs.Headers = p.headers(kv.val)
	}
	for _, k := range []string{"mask_definitions", "rule_definitions"} {
		if kv, ok := f[k]; ok && kv.val.Kind != yaml.SequenceNode && !isNull(kv.val) {
			p.errorf(kv.val, "%s is a list of anchored definitions (- &name {...}), not %s", k, describe(kv.val))
		}
	}
	kv, hasRules := f["rules"]
	if hasRules && !isNull(kv.val) {
		rs.Rules = p.rules(kv.val, "")
	}
	if emptyList(kv.val) && rs.Key == nil && len(rs.Headers) == 0 {
		// A ruleset that masks nothing is a mistake, not a pass-through.
		if hasRules {
			p.errorf(kv.val, "rules is empty; list the rules, as in rules: [ {path: \"$.email\", masks: [ {type: imitate} ]} ]")
		} else {
			p.errorf(root, "missing rules; add rules: with at least one rule (or key: / headers: to mask only those)")
		}
	}
	return rs
}

func (p *parser) version(n *yaml.Node) bool {
	switch {
	case n.Kind != yaml.ScalarNode:
		p.errorf(n, "version is a quoted string; write version: \"1.0\"")
	case n.ShortTag() == intTag || n.ShortTag() == floatTag:
		p.errorf(n, "version must be a quoted string: write version: \"%s\" (unquoted, YAML reads %s as a number)", n.Value, n.Value)
	case n.ShortTag() != strTag:
		p.errorf(n, "version is a quoted string; write version: \"1.0\", not %s", describe(n))
	case n.Value != Version:
		p.errorf(n, "unsupported version %q; the ruleset schema version is \"1.0\"", n.Value)
	default:
		return true
	}
	return false
}

// scalarList reads a list of single values (skip_defaults).
func (p *parser) scalarList(n *yaml.Node, key string, nullOK bool) []Scalar {
	if isNull(n) && nullOK {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s takes a list of values, such as %s: [null, \"\"], not %s", key, key, describe(n))
		return nil
	}
	out := make([]Scalar, 0, len(n.Content))
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			p.errorf(e, "%s holds single values (strings, numbers, booleans, null), not %s", key, describe(e))
			continue
		}
		out = append(out, scalarOf(e))
	}
	return out
}

func (p *parser) boolean(n *yaml.Node, key string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == boolTag {
		var b bool
		if n.Decode(&b) == nil {
			return b, true
		}
	}
	p.errorf(n, "%s takes true or false, not %s", key, describe(n))
	return false, false
}

// text reads a non-empty single value as text (names, regexes).
func (p *parser) text(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == nullTag || n.ShortTag() == boolTag {
		p.errorf(n, "%s takes a string, not %s", key, describe(n))
		return "", false
	}
	if n.Value == "" {
		p.errorf(n, "%s is empty", key)
		return "", false
	}
	return n.Value, true
}

func (p *parser) keyRule(n *yaml.Node) *KeyRule {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "key takes a mapping with masks, as in key: {masks: [ {type: imitate} ]}, not %s", describe(n))
		return nil
	}
	kr := &KeyRule{Pos: nodePos(p.file, n)}
	var masks *pair
	for _, kv := range pairs(p.file, n, &p.errs) {
		if kv.key.Value != "masks" {
			p.errs = append(p.errs, p.unknown(kv.key, "key", []string{"masks"}))
			continue
		}
		masks = &kv
	}
	if masks == nil {
		p.errorf(n, "key has no masks; add masks: [ {type: ...} ]")
		return kr
	}
	kr.Masks = p.masks(masks.val, "key")
	return kr
}

func (p *parser) headers(n *yaml.Node) []HeaderRule {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "headers takes a list, as in headers: [ {name: Authorization, masks: [...]} ], not %s", describe(n))
		return nil
	}
	seen := map[string]int{}
	out := make([]HeaderRule, 0, len(n.Content))
	for i, h := range n.Content {
		where := "header " + strconv.Itoa(i)
		if h.Kind != yaml.MappingNode {
			p.errorf(h, "%s must be a mapping {name: ..., masks: [...]}, not %s", where, describe(h))
			continue
		}
		hr := HeaderRule{Pos: nodePos(p.file, h)}
		var hasName, hasMasks bool
		for _, kv := range pairs(p.file, h, &p.errs) {
			switch kv.key.Value {
			case "name":
				hasName = true
				if s, ok := p.text(kv.val, "name"); ok {
					hr.Name = s
					if line, dup := seen[strings.ToLower(s)]; dup {
						p.errorf(kv.val, "header %q is already masked by the entry at line %d (names match case-insensitively); merge the two", s, line)
					}
					seen[strings.ToLower(s)] = kv.val.Line
				}
			case "masks":
				hasMasks = true
				hr.Masks = p.masks(kv.val, where)
			default:
				p.errs = append(p.errs, p.unknown(kv.key, where, []string{"name", "masks"}))
			}
		}
		if !hasName {
			p.errorf(h, "%s has no name; add name: <header name>", where)
		}
		if !hasMasks {
			p.errorf(h, "%s has no masks; add masks: [ {type: ...} ]", where)
		}
		out = append(out, hr)
	}
	return out
}

// dataMasqueHints explains keys of DataMasque's database rulesets that have
// a message-stream counterpart.
var dataMasqueHints = map[string]string{
	"column":       "a message has no columns: select the field with path: \"$.field\"",
	"hash_columns": "in a message, write hash_sources: [\"$.field\"]",
	"table":        "a ruleset here masks messages, not tables: list rules at the top level",
	"tasks":        "a ruleset here masks messages, not databases: list rules at the top level, without tasks",
	"where":        "select values with a rule's path and filter with if: conditions",
	"skip":         "list the values never masked in skip_defaults at the top of the ruleset",
	"json_path":    "a rule selects values with path: (\"$.a.b\" or [a, b])",
}

func (p *parser) unknown(k *yaml.Node, where string, allowed []string) *Error {
	e := unknownKey(p.file, k, where, allowed)
	if h, ok := dataMasqueHints[k.Value]; ok && !slices.Contains(allowed, k.Value) {
		e.Msg += "; " + h
	}
	return e
}

// yamlError turns a YAML syntax error into a positioned Error, with a hint
// for the usual cause in rulesets: an unquoted path with brackets inside a
// flow collection ({...} or [...]).
func yamlError(file string, src []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		line = lineOf(src, "*"+m[1])
		msg += "; define it with &" + m[1] + " before using it (a path such as $.a[*] in [...] or {...} must be quoted)"
	}
	if line <= 0 {
		line = 1
	}
	lines := bytes.Split(src, []byte("\n"))
	for l := line - 1; l >= 0 && l >= line-3 && l < len(lines); l-- {
		text := string(lines[l])
		if bracketPathRE.MatchString(text) {
			msg += fmt.Sprintf("; line %d has a path with brackets inside [...] or {...}: quote it, as in \"$.items[*].sku\"", l+1)
			break
		}
		if strings.HasPrefix(strings.TrimLeft(text, " "), "\t") {
			msg += fmt.Sprintf("; line %d is indented with a tab: YAML indents with spaces", l+1)
			break
		}
	}
	return &Error{Pos: Pos{File: file, Line: line, Col: 1}, Msg: "invalid YAML: " + msg}
}

var (
	yamlLineRE      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
	// bracketPathRE finds an unquoted $-path with a bracket in it after a
	// flow collection opens ([ or {), where YAML ends the plain scalar at
	// the bracket. In block style the same path reads fine.
	bracketPathRE = regexp.MustCompile(`[\[{][^"'#]*[\s,\[{:]\$[^\s"',{}]*\[`)
)

func lineOf(src []byte, s string) int {
	i := bytes.Index(src, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(src[:i], []byte("\n")) + 1
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag
}
