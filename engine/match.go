package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/maskstream/maskstream/rulesets"
)

// The paths of a ruleset compile into one deterministic automaton over the
// steps of a document (member names and element indexes). A scan keeps one
// node per depth, so matching a member costs a comparison against the few
// names the rules mention there and never allocates. A nil node is a
// subtree no rule reaches.

// mpath is one path of one rule, as the automaton sees it.
type mpath struct {
	rule int // index of the flattened rule
	segs []rulesets.Segment
}

// nstate is a state of the underlying NFA: path p has consumed pos segments.
type nstate struct {
	p, pos int32
}

// mnode is a state of the automaton.
type mnode struct {
	// accept lists the rules whose paths end here, ascending, each once.
	accept []int32
	// acceptPath is the path (index into mpaths) accepting for each rule
	// of accept: the first one, for hash source bindings.
	acceptPath []int32

	// Member transitions: a name of keys goes to kids, any other to other.
	// secret[i] is isSecretKey(keys[i]), known before any record.
	keys   []string
	kids   []*mnode
	secret []bool
	other  *mnode
	// keyMap replaces the search of keys when there are many names: the
	// index of each.
	keyMap map[string]int

	// Element transitions: an index of pos (or, counted from the end, of
	// neg) picks its node; any other element goes to elem.
	elem *mnode
	pos  []int
	neg  []int
	// idx holds the nodes for (pos, neg) pairs: idx[(a+1)*(len(neg)+1) +
	// (b+1)] with a, b the indexes in pos and neg, -1 for "none".
	idx []*mnode

	// capture lists the hash sources (hsource.id) whose path, all member
	// names, ends here: the scan reads them in passing (scanner.capture)
	// rather than looking them up from the root.
	capture []int32

	// below is the range of rule indexes with a state still short of its
	// end here (rules that may match something beneath this node).
	belowLo, belowHi int32
}

// index returns the index of member name k in n.keys, or -1: its node is
// then n.kids[i], any other name's n.other (nil: nothing below matches).
func (n *mnode) index(k []byte) int {
	if n.keyMap != nil {
		if i, ok := n.keyMap[string(k)]; ok {
			return i
		}
		return -1
	}
	for i, s := range n.keys {
		if len(s) == len(k) && s == string(k) {
			return i
		}
	}
	return -1
}

// element returns the node for element i of an array of length size (size
// is needed only when n.neg is non-empty).
func (n *mnode) element(i, size int) *mnode {
	if len(n.pos) == 0 && len(n.neg) == 0 {
		return n.elem
	}
	a := slices.Index(n.pos, i)
	b := -1
	if len(n.neg) > 0 {
		b = slices.Index(n.neg, i-size)
	}
	if a < 0 && b < 0 {
		return n.elem
	}
	return n.idx[(a+1)*(len(n.neg)+1)+(b+1)]
}

// hasBelow reports whether a rule in [lo, hi) may match beneath n.
func (n *mnode) hasBelow(lo, hi int) bool {
	return n != nil && int(n.belowLo) < hi && int(n.belowHi) >= lo
}

// maxNodes bounds the automaton: descendant paths can in theory multiply
// states, and a ruleset must not make Compile run away.
const maxNodes = 20000

type automaton struct {
	paths []mpath
	nodes map[string]*mnode
	count int
}

// buildAutomaton compiles paths into the automaton's root (nil when there
// are no paths).
func buildAutomaton(paths []mpath) (*mnode, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	a := &automaton{paths: paths, nodes: map[string]*mnode{}}
	root := make([]nstate, len(paths))
	for i := range paths {
		root[i] = nstate{int32(i), 0}
	}
	return a.node(root)
}

func (a *automaton) node(set []nstate) (*mnode, error) {
	if len(set) == 0 {
		return nil, nil
	}
	slices.SortFunc(set, func(x, y nstate) int {
		if x.p != y.p {
			return int(x.p - y.p)
		}
		return int(x.pos - y.pos)
	})
	set = slices.Compact(set)
	var kb strings.Builder
	for _, s := range set {
		kb.WriteString(strconv.Itoa(int(s.p)))
		kb.WriteByte(':')
		kb.WriteString(strconv.Itoa(int(s.pos)))
		kb.WriteByte(',')
	}
	key := kb.String()
	if n, ok := a.nodes[key]; ok {
		return n, nil
	}
	a.count++
	if a.count > maxNodes {
		return nil, fmt.Errorf("the rules' paths combine into more than %d matching states; use fewer $.. (descendant) paths", maxNodes)
	}
	n := &mnode{belowLo: 1<<31 - 1, belowHi: -1}
	a.nodes[key] = n

	var names []string
	posSet, negSet := []int{}, []int{}
	for _, s := range set {
		p := a.paths[s.p]
		if int(s.pos) == len(p.segs) {
			r := int32(p.rule)
			if i, found := slices.BinarySearch(n.accept, r); !found {
				n.accept = slices.Insert(n.accept, i, r)
				n.acceptPath = slices.Insert(n.acceptPath, i, s.p)
			}
			continue
		}
		n.belowLo = min(n.belowLo, int32(p.rule))
		n.belowHi = max(n.belowHi, int32(p.rule))
		seg := p.segs[s.pos]
		switch seg.Kind {
		case rulesets.SegKey, rulesets.SegDescendant:
			if !slices.Contains(names, seg.Key) {
				names = append(names, seg.Key)
			}
		case rulesets.SegIndex:
			if seg.Index >= 0 {
				if !slices.Contains(posSet, seg.Index) {
					posSet = append(posSet, seg.Index)
				}
			} else if !slices.Contains(negSet, seg.Index) {
				negSet = append(negSet, seg.Index)
			}
		}
	}
	slices.Sort(names)
	slices.Sort(posSet)
	slices.Sort(negSet)

	var err error
	for _, k := range names {
		c, e := a.node(a.stepKey(set, k, true))
		if e != nil {
			return nil, e
		}
		n.keys = append(n.keys, k)
		n.kids = append(n.kids, c)
		n.secret = append(n.secret, isSecretKey([]byte(k)))
	}
	if n.other, err = a.node(a.stepKey(set, "", false)); err != nil {
		return nil, err
	}
	if len(n.keys) > 8 {
		n.keyMap = make(map[string]int, len(n.keys))
		for i, k := range n.keys {
			n.keyMap[k] = i
		}
	}
	if n.elem, err = a.node(a.stepElem(set, nil, nil)); err != nil {
		return nil, err
	}
	if len(posSet) > 0 || len(negSet) > 0 {
		n.pos, n.neg = posSet, negSet
		n.idx = make([]*mnode, (len(posSet)+1)*(len(negSet)+1))
		for ai := -1; ai < len(posSet); ai++ {
			for bi := -1; bi < len(negSet); bi++ {
				var pa, nb *int
				if ai >= 0 {
					pa = &posSet[ai]
				}
				if bi >= 0 {
					nb = &negSet[bi]
				}
				c, e := a.node(a.stepElem(set, pa, nb))
				if e != nil {
					return nil, e
				}
				n.idx[(ai+1)*(len(negSet)+1)+(bi+1)] = c
			}
		}
	}
	return n, nil
}

// stepKey is the NFA step on a member named k (named is false for "any
// name not mentioned here").
func (a *automaton) stepKey(set []nstate, k string, named bool) []nstate {
	var out []nstate
	for _, s := range set {
		p := a.paths[s.p]
		if int(s.pos) == len(p.segs) {
			continue
		}
		switch seg := p.segs[s.pos]; seg.Kind {
		case rulesets.SegKey:
			if named && seg.Key == k {
				out = append(out, nstate{s.p, s.pos + 1})
			}
		case rulesets.SegWildcard:
			out = append(out, nstate{s.p, s.pos + 1})
		case rulesets.SegDescendant:
			out = append(out, s)
			if named && seg.Key == k {
				out = append(out, nstate{s.p, s.pos + 1})
			}
		}
	}
	return out
}

// stepElem is the NFA step on an array element whose index equals *pos
// (counted from the start) and/or *neg (counted from the end); nil means
// "no index mentioned here".
func (a *automaton) stepElem(set []nstate, pos, neg *int) []nstate {
	var out []nstate
	for _, s := range set {
		p := a.paths[s.p]
		if int(s.pos) == len(p.segs) {
			continue
		}
		switch seg := p.segs[s.pos]; seg.Kind {
		case rulesets.SegIndex:
			if pos != nil && seg.Index == *pos || neg != nil && seg.Index == *neg {
				out = append(out, nstate{s.p, s.pos + 1})
			}
		case rulesets.SegWildcard:
			out = append(out, nstate{s.p, s.pos + 1})
		case rulesets.SegDescendant:
			out = append(out, s)
		}
	}
	return out
}
