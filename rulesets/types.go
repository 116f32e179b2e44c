// Package rulesets reads maskstream's DataMasque-style YAML rulesets: a strict
// parse that reports every problem at once with its line:col, JSONPath-style
// paths, conditions, and the seed files masks draw from.
//
// It knows nothing of how a mask works: a mask arrives here as its type name
// and its YAML node, and the engine decodes the parameters (with DecodeParams,
// so its errors carry positions too).
package rulesets

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a place in a ruleset file. File may be empty for an upload.
type Pos struct {
	File string
	Line int
	Col  int
}

// Ruleset is one parsed ruleset file. It holds no secret and no compiled
// state: the engine compiles it into a Masker.
type Ruleset struct {
	// Name is the ruleset's name: its file name without .yaml, or the
	// name it was uploaded under.
	Name    string
	Version string
	// SkipDefaults lists values that are never masked (DataMasque's
	// skip_defaults): a null entry means JSON null.
	SkipDefaults []Scalar
	// RedactSecrets replaces the value of any key named like a credential
	// (password, api_key, token, secret, authorization, cookie...) with
	// "[REDACTED]". It defaults to true.
	RedactSecrets bool
	// Key masks the record key (Kafka key); nil leaves it alone.
	Key *KeyRule
	// Headers masks named record headers.
	Headers []HeaderRule
	Rules   []Rule
	// Dir is the folder user seed files are read from (the ruleset
	// file's own folder); empty for uploads, which may use only the
	// built-in seed files.
	Dir string
	// Source is the ruleset text as given, for plans and reloads.
	Source []byte
}

// Scalar is a YAML scalar given in a ruleset (a skip_defaults entry, an
// equals value): Null is true for null/~, otherwise Text holds the value
// and Tag its YAML tag (!!str, !!int, !!float, !!bool).
type Scalar struct {
	Null bool
	Text string
	Tag  string
}

// KeyRule masks the record key, which is treated as a JSON document when it
// parses as one and as a string otherwise.
type KeyRule struct {
	Masks []Mask
	Pos   Pos
}

// HeaderRule masks one record header, matched by name case-insensitively.
type HeaderRule struct {
	Name  string
	Masks []Mask
	Pos   Pos
}

// OnMissing and OnNull say what a rule does when its path finds nothing, or
// finds null.
const (
	ActionSkip  = "skip"
	ActionError = "error"
	ActionNull  = "null" // on_null only: pass the null to the masks (DataMasque's on_null: mask)
)

// Rule is one entry of rules: either a masking rule (Paths, possibly empty
// for the whole value, and Masks) or a conditional (If with Rules and
// ElseRules).
type Rule struct {
	// Paths selects the values to mask. Empty means the whole value
	// (DataMasque's in-flight form).
	Paths []Path
	// HashSources are read from the original record and seed every mask
	// of the rule instead of the value itself.
	HashSources []Path
	Masks       []Mask
	// OnMissing is ActionSkip (default for path rules) or ActionError.
	OnMissing string
	// OnNull is ActionSkip (default), ActionNull (DataMasque's "mask": the
	// null goes to the masks) or ActionError (dead letter).
	OnNull string

	// If holds the conditions of a conditional rule, all of which must
	// hold (a list is an implicit and).
	If        []Condition
	Rules     []Rule
	ElseRules []Rule

	// Name is the rule's label for metrics (fields_masked_total{rule}):
	// its `name:` if given, else its index path such as "3" or "2.rules.0".
	Name string
	Pos  Pos
}

// IsConditional reports whether r is an if/rules/else_rules rule.
func (r *Rule) IsConditional() bool { return len(r.If) > 0 }

// Condition is one test of an `if`. Exactly one form is set: a leaf (Path
// with one operator) or a combinator (And, Or, Not).
type Condition struct {
	Path Path
	// Op is one of "equals", "not_equals", "matches", "less_than",
	// "less_than_or_equal", "greater_than", "greater_than_or_equal",
	// "is_null", "is_missing", "in".
	Op    string
	Value Scalar
	// Values holds the list of an "in" test.
	Values []Scalar
	// Pattern holds the regular expression of "matches" (Go RE2 syntax),
	// compiled when parsed.
	Pattern string

	And []Condition
	Or  []Condition
	Not *Condition
	Pos Pos
}

// Mask is one mask of a rule: its type and its whole YAML mapping (with the
// type key), which the engine decodes.
type Mask struct {
	Type string
	Node *yaml.Node
	Pos  Pos
	// File is the ruleset file, for errors the engine reports.
	File string
}

// SegKind is the kind of one path step.
type SegKind uint8

const (
	SegKey        SegKind = iota // .name or ['name']
	SegIndex                     // [3] (negative counts from the end)
	SegWildcard                  // [*] or .* : every element or member
	SegDescendant                // ..name : name at any depth below
)

// Segment is one step of a Path.
type Segment struct {
	Kind  SegKind
	Key   string // SegKey, SegDescendant
	Index int    // SegIndex
}

// Path is a parsed JSONPath-style selector. An empty Segments selects the
// root value.
type Path struct {
	Text     string
	Segments []Segment
	Pos      Pos
}

// String returns the path as written.
func (p Path) String() string { return p.Text }

// SeedFile is a table of seed values: a built-in file shipped in the binary
// or a user CSV read when the ruleset loads. Rows all have len(Columns)
// cells.
type SeedFile struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Column returns the values of one column by name (case-insensitive), or
// an error listing the columns there are.
func (s *SeedFile) Column(name string) ([]string, error) {
	for i, c := range s.Columns {
		if strings.EqualFold(c, name) {
			out := make([]string, len(s.Rows))
			for j, r := range s.Rows {
				out[j] = r[i]
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("rulesets: seed file %s has no column %q; its columns are %s", s.Name, name, strings.Join(s.Columns, ", "))
}
