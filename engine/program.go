package engine

import (
	"sync"

	"github.com/maskstream/maskstream/rulesets"
)

// program is a compiled list of masking rules over one document: a ruleset's
// rules, or a json mask's transforms. It is immutable and shared by every
// call.
type program struct {
	rules []crule
	root  *mnode
	paths []mpath
	conds []ccond
	// nsrc counts the distinct hash source paths: each is read at most
	// once per record (unless bound to a rule's [*]).
	nsrc int
	// srcPaths are the distinct hash source paths, by hsource.id.
	srcPaths [][]rulesets.Segment
	// hasGuards: some rule depends on a condition.
	hasGuards bool

	skip      []rulesets.Scalar
	skipNull  bool // skip_defaults holds null
	skipEmpty bool // skip_defaults holds ""
	skipOther []rulesets.Scalar
	redact    bool
	maxDepth  int
	maxBytes  int
}

// On-null actions beyond rulesets' skip and null.
const onNullError = "error"

// crule is one flattened masking rule.
type crule struct {
	name      string
	pipe      Pipeline
	whole     bool // no path: the rule masks the root value
	sources   []hsource
	onMissing string
	onNull    string
	// guard lists the conditions this rule sits under: cond index and
	// the outcome it needs (the else branch needs false).
	guard []guardTerm
	// advance, when non-empty, is appended to the hash input (a json
	// transform's advance_hash).
	advance []byte
	// bound: some hash source shares a wildcard with a path of the rule,
	// so its value depends on where the rule matched.
	bound bool
}

type guardTerm struct {
	cond int
	want bool
}

// hsource is one hash source of a rule.
type hsource struct {
	path rulesets.Path
	id   int // index of the distinct path, for the per-record cache
	// shared[p] is, for each path p of the rule (index into program.paths),
	// how many leading segments the source shares with it when that prefix
	// holds a wildcard to bind; 0 means no binding.
	shared map[int32]int
}

// bindPrefix returns how many leading segments src shares with rule path
// rp when that shared prefix binds at least one wildcard, else 0. A
// descendant segment ends the prefix: its depth is not fixed.
func bindPrefix(rp, src []rulesets.Segment) int {
	n, wild := 0, false
	for n < len(rp) && n < len(src) {
		a, b := rp[n], src[n]
		if a.Kind == rulesets.SegDescendant || a.Kind != b.Kind || a.Key != b.Key || a.Index != b.Index {
			break
		}
		if a.Kind == rulesets.SegWildcard {
			wild = true
		}
		n++
	}
	if !wild {
		return 0
	}
	// Trim to the last wildcard: the rest is looked up relative to it.
	for n > 0 && rp[n-1].Kind != rulesets.SegWildcard {
		n--
	}
	return n
}

// call is the per-record state of one program run, pooled.
type call struct {
	p   *program
	ctx *Ctx
	own Ctx

	// doc is the document hash sources and conditions read: the original
	// record (or the json mask's document).
	doc []byte
	// override replaces every rule's hash input (CallOptions.HashValue).
	override []byte
	// inherit is the hash input of rules without hash_sources: nil at the
	// top, the enclosing rule's inside a json mask.
	inherit []byte

	found  []uint32 // values each rule's paths reached
	masked []uint32 // values each rule masked
	active []bool   // per rule: its conditions hold
	// memo caches each unbound rule's hash input for the record.
	memo    [][]byte
	memoSet []bool
	// src caches hash source values by hsource.id: 0 unread, 1 found, 2
	// missing.
	srcVal   []Value
	srcState []uint8
	// noCapture: the scan passed over a part of the record without
	// reading it (a masked container, a redacted member, an escaped
	// name on the way), so a source it captures from now on might not be
	// the first match a lookup would find: they are looked up.
	noCapture bool

	arena   []byte // decoded strings live here until the call ends
	scratch []byte // decoded member names (reused per name)
	enc     []byte // hash input being built
	path    []pstep
	lk      lexer
}

// pstep is one step of the concrete path to the value being scanned. A
// scan keeps one per open container and rewrites it for each member or
// element, so it holds offsets rather than slices.
type pstep struct {
	src    []byte // the source of the scanner that took this step
	ks, ke int    // a member's name, escaped as written: src[ks:ke]
	esc    bool   // the name holds an escape
	idx    int    // an element's index; -1 for a member
	start  int    // offset of the value in src
}

// key is a member step's raw name (nil for an element).
func (st *pstep) key() []byte {
	if st.idx >= 0 {
		return nil
	}
	return st.src[st.ks:st.ke]
}

var callPool = sync.Pool{New: func() any { return new(call) }}

func (p *program) getCall(ctx *Ctx, doc []byte) *call {
	c := callPool.Get().(*call)
	c.p = p
	if ctx == nil {
		c.own.reset()
		ctx = &c.own
	}
	c.ctx = ctx
	c.doc = doc
	c.override, c.inherit = nil, nil
	n := len(p.rules)
	c.found = resize(c.found, n)
	c.masked = resize(c.masked, n)
	c.memoSet = resizeBool(c.memoSet, n)
	if cap(c.memo) < n {
		c.memo = make([][]byte, n)
	}
	c.memo = c.memo[:n]
	if cap(c.srcVal) < p.nsrc {
		c.srcVal = make([]Value, p.nsrc)
		c.srcState = make([]uint8, p.nsrc)
	}
	c.srcVal, c.srcState = c.srcVal[:p.nsrc], c.srcState[:p.nsrc]
	clear(c.srcState)
	c.noCapture = false
	c.active = resizeBool(c.active, n)
	for i := range c.active {
		c.active[i] = true
	}
	c.arena = c.arena[:0]
	c.path = c.path[:0]
	return c
}

func (c *call) release() {
	if cap(c.arena) > 1<<20 {
		c.arena = nil
	}
	if cap(c.scratch) > 1<<16 {
		c.scratch = nil
	}
	c.p, c.ctx, c.doc, c.override, c.inherit = nil, nil, nil, nil, nil
	c.own.reset() // keep the buffers
	clear(c.memo)
	clear(c.srcVal)
	callPool.Put(c)
}

func resize(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func resizeBool(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// run masks the document src (already checked for size), appending the
// result to dst.
func (c *call) run(dst, src []byte) ([]byte, error) {
	p := c.p
	if p.hasGuards {
		c.evalGuards()
	}
	s := scanner{c: c, lo: 0, hi: len(p.rules), orig: true}
	s.src = src
	s.maxDepth = p.maxDepth
	s.out = dst
	if err := s.document(p.root); err != nil {
		return dst, err
	}
	for r := range p.rules {
		if c.found[r] == 0 && c.active[r] && p.rules[r].onMissing == rulesets.ActionError {
			return dst, &MaskError{Reason: ReasonMissing, Where: p.ruleWhere(r), Msg: "rule " + p.rules[r].name + " found no value and has on_missing: error"}
		}
	}
	return s.out, nil
}

// ruleWhere names a rule's first path for errors.
func (p *program) ruleWhere(r int) string {
	for _, mp := range p.paths {
		if mp.rule == r {
			return rulesets.FormatPath(mp.segs)
		}
	}
	return "$"
}

// evalGuards evaluates every condition once against the original document
// and marks the rules whose guards fail inactive.
func (c *call) evalGuards() {
	p := c.p
	var buf [16]bool
	vals := buf[:0]
	for i := range p.conds {
		vals = append(vals, c.evalCond(&p.conds[i]))
	}
	for r := range p.rules {
		for _, g := range p.rules[r].guard {
			if vals[g.cond] != g.want {
				c.active[r] = false
				break
			}
		}
	}
}
