package rulesets

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML short tags, as yaml.Node.ShortTag returns them.
const (
	nullTag      = "!!null"
	boolTag      = "!!bool"
	strTag       = "!!str"
	intTag       = "!!int"
	floatTag     = "!!float"
	timestampTag = "!!timestamp"
	mergeTag     = "!!merge"
)

// Limits on what aliases may expand to: YAML anchors let a few lines
// stand for a huge tree ("billion laughs"), and a ruleset is read from
// uploads too.
const (
	maxExpandedNodes = 200_000
	maxNesting       = 1000
)

func nodePos(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

// resolveAlias follows aliases to the node they stand for. Cycles are
// caught by expand; here a bound keeps a raw tree from looping.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolveAlias(n.Content[0])
	}
	return n
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	n = resolveAlias(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case nullTag:
			return "null"
		case boolTag:
			return "a boolean (" + n.Value + ")"
		case intTag, floatTag:
			return "a number (" + n.Value + ")"
		case timestampTag:
			return "a date (" + n.Value + ")"
		case strTag:
			return "a string"
		}
		return "a " + n.ShortTag() + " value"
	}
	return "an alias"
}

// expander copies a YAML tree with every alias replaced by (a copy of) the
// node it names and every merge key (<<) folded into its mapping, so the
// rest of the package reads plain trees. Positions are kept: a node that
// came through an alias carries the position where its text is.
type expander struct {
	file   string
	budget int
	active map[*yaml.Node]bool
	errs   ErrorList
	failed bool
}

// expandTree returns the expanded copy of n, or errors when aliases loop
// or expand past the limits.
func expandTree(file string, n *yaml.Node) (*yaml.Node, ErrorList) {
	x := &expander{file: file, budget: maxExpandedNodes, active: map[*yaml.Node]bool{}}
	out := x.expand(n, 0)
	return out, x.errs
}

func (x *expander) fail(n *yaml.Node, format string, args ...any) *yaml.Node {
	if !x.failed {
		x.errs = append(x.errs, Errorf(nodePos(x.file, n), format, args...))
	}
	x.failed = true
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: nullTag, Value: "~", Line: n.Line, Column: n.Column}
}

func (x *expander) expand(n *yaml.Node, depth int) *yaml.Node {
	if n == nil {
		return nil
	}
	if x.failed {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: nullTag, Value: "~", Line: n.Line, Column: n.Column}
	}
	x.budget--
	if x.budget < 0 {
		return x.fail(n, "the ruleset expands to more than %d YAML nodes through its aliases; use fewer or flatter anchors", maxExpandedNodes)
	}
	if depth > maxNesting {
		return x.fail(n, "the ruleset nests deeper than %d levels", maxNesting)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return x.fail(n, "alias *%s names no anchor; define &%s before using it", n.Value, n.Value)
		}
		return x.expand(n.Alias, depth+1)
	}
	if n.Anchor != "" {
		if x.active[n] {
			return x.fail(n, "anchor &%s is used inside itself; an alias cannot refer to a node that contains it", n.Anchor)
		}
		x.active[n] = true
		defer delete(x.active, n)
	}
	c := *n
	c.Alias = nil
	c.Content = nil
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		c.Content = make([]*yaml.Node, 0, len(n.Content))
		for _, e := range n.Content {
			c.Content = append(c.Content, x.expand(e, depth+1))
		}
	case yaml.MappingNode:
		c.Content = x.mapping(n, depth)
	}
	return &c
}

// mapping expands a mapping's content, folding merge keys in: keys written
// in the mapping win over merged ones, and an earlier merged mapping wins
// over a later one (YAML's merge key rules).
func (x *expander) mapping(n *yaml.Node, depth int) []*yaml.Node {
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !isMergeKey(k) {
			explicit[k.Value] = true
		}
	}
	merged := map[string]bool{}
	out := make([]*yaml.Node, 0, len(n.Content))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			out = append(out, x.expand(k, depth+1), x.expand(v, depth+1))
			continue
		}
		var sources []*yaml.Node
		switch ev := x.expand(v, depth+1); ev.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{ev}
		case yaml.SequenceNode:
			sources = ev.Content
		default:
			if !x.failed {
				x.errs = append(x.errs, Errorf(nodePos(x.file, v), "<< merges a mapping: give an alias such as *name or a list of them, not %s", describe(ev)))
			}
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				if !x.failed {
					x.errs = append(x.errs, Errorf(nodePos(x.file, src), "<< merges mappings only, not %s", describe(src)))
				}
				continue
			}
			for j := 0; j+1 < len(src.Content); j += 2 {
				mk := src.Content[j]
				if explicit[mk.Value] || merged[mk.Value] {
					continue
				}
				merged[mk.Value] = true
				out = append(out, mk, src.Content[j+1])
			}
		}
	}
	return out
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == mergeTag
}

// pair is one key and value of a mapping.
type pair struct {
	key, val *yaml.Node
}

// pairs lists the entries of mapping n whose keys are strings, reporting
// other keys and keys given twice. It expects an expanded tree but copes
// with a raw one.
func pairs(file string, n *yaml.Node, errs *ErrorList) []pair {
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolveAlias(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.ShortTag() == nullTag {
			*errs = append(*errs, Errorf(nodePos(file, n.Content[i]), "a key here must be a name, not %s", describe(k)))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			*errs = append(*errs, Errorf(nodePos(file, k), "key %q is given twice (first at line %d); keep one", k.Value, first.Line))
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	return out
}

// unknownKey is the error for a key that has no meaning where it is.
func unknownKey(file string, k *yaml.Node, where string, allowed []string) *Error {
	msg := fmt.Sprintf("unknown key %q", k.Value)
	if where != "" {
		msg += " in " + where
	}
	msg += "; the keys allowed here are " + strings.Join(allowed, ", ")
	if s := suggest(k.Value, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return Errorf(nodePos(file, k), "%s", msg)
}

// suggest returns the allowed word closest to w when it is close enough to
// be a likely typo, or "".
func suggest(w string, allowed []string) string {
	best, bestD := "", 1<<30
	lw := strings.ToLower(w)
	for _, a := range allowed {
		d := editDistance(lw, strings.ToLower(a))
		if d < bestD {
			best, bestD = a, d
		}
	}
	limit := 1
	if len(w) >= 4 {
		limit = 2
	}
	if len(w) >= 10 {
		limit = 3
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
