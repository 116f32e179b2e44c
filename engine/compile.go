package engine

import (
	"errors"
	"slices"
	"strconv"

	"github.com/maskstream/maskstream/rulesets"
)

// Compile turns a parsed ruleset into a Masker: every mask's parameters
// decoded and checked, seed files read, paths compiled into one automaton.
// The error is a rulesets.ErrorList with every problem found, each at its
// position in the ruleset.
func Compile(rs *rulesets.Ruleset, opts Options) (*Masker, error) {
	if rs == nil {
		return nil, errors.New("engine: Compile needs a ruleset; parse one with rulesets.Parse")
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Seeds == nil {
		dir := rs.Dir
		opts.Seeds = func(name string) (*rulesets.SeedFile, error) { return rulesets.OpenSeed(dir, name) }
	}
	c := &compiler{opts: opts, redact: rs.RedactSecrets, skip: rs.SkipDefaults}
	b := &progBuilder{c: c}
	b.add(rs.Rules, nil)
	prog := b.finish(rs.SkipDefaults, rs.RedactSecrets)
	errs := b.errs

	m := &Masker{name: rs.Name, prog: prog}
	for _, r := range prog.rules {
		m.names = append(m.names, r.name)
	}
	if rs.Key != nil {
		pipe, err := c.pipeline(rs.Key.Masks)
		if err != nil {
			errs = append(errs, rulesets.Errors(err)...)
		}
		kb := &progBuilder{c: c}
		kb.rules = []crule{{name: "key", pipe: pipe, whole: true, onMissing: rulesets.ActionSkip, onNull: rulesets.ActionSkip}}
		kb.paths = []mpath{{rule: 0}}
		// A key that parses as JSON is a document like the value: its
		// credentials are redacted too.
		m.key = kb.finish(rs.SkipDefaults, rs.RedactSecrets)
		errs = append(errs, kb.errs...)
	}
	for _, h := range rs.Headers {
		pipe, err := c.pipeline(h.Masks)
		if err != nil {
			errs = append(errs, rulesets.Errors(err)...)
			continue
		}
		m.headers = append(m.headers, cheader{name: h.Name, pipe: pipe})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

// progBuilder flattens rules into a program.
type progBuilder struct {
	c     *compiler
	rules []crule
	paths []mpath
	conds []ccond
	srcs  map[string]int // hash source path text -> id
	errs  rulesets.ErrorList
}

// add flattens rules; guard is the conditions they sit under.
func (b *progBuilder) add(rules []rulesets.Rule, guard []guardTerm) {
	for i := range rules {
		r := &rules[i]
		if r.IsConditional() {
			cc, err := compileConds(r.If)
			if err != nil {
				b.errs = append(b.errs, rulesets.Errors(err)...)
			}
			idx := len(b.conds)
			b.conds = append(b.conds, cc)
			b.add(r.Rules, append(guard[:len(guard):len(guard)], guardTerm{idx, true}))
			b.add(r.ElseRules, append(guard[:len(guard):len(guard)], guardTerm{idx, false}))
			continue
		}
		pipe, err := b.c.pipeline(r.Masks)
		if err != nil {
			b.errs = append(b.errs, rulesets.Errors(err)...)
		}
		name := r.Name
		if name == "" {
			name = strconv.Itoa(len(b.rules))
		}
		cr := crule{name: name, pipe: pipe, onMissing: r.OnMissing, onNull: r.OnNull, guard: guard}
		b.addRule(cr, r.Paths, r.HashSources)
	}
}

// addRule appends one masking rule with its paths (none: the whole value)
// and hash sources.
func (b *progBuilder) addRule(cr crule, paths, sources []rulesets.Path) {
	ri := len(b.rules)
	first := int32(len(b.paths))
	if len(paths) == 0 {
		cr.whole = true
		b.paths = append(b.paths, mpath{rule: ri})
	}
	for _, p := range paths {
		b.paths = append(b.paths, mpath{rule: ri, segs: p.Segments})
	}
	for _, src := range sources {
		if b.srcs == nil {
			b.srcs = map[string]int{}
		}
		key := rulesets.FormatPath(src.Segments)
		id, ok := b.srcs[key]
		if !ok {
			id = len(b.srcs)
			b.srcs[key] = id
		}
		hs := hsource{path: src, id: id}
		for pi := first; pi < int32(len(b.paths)); pi++ {
			if k := bindPrefix(b.paths[pi].segs, src.Segments); k > 0 {
				if hs.shared == nil {
					hs.shared = map[int32]int{}
				}
				hs.shared[pi] = k
				cr.bound = true
			}
		}
		cr.sources = append(cr.sources, hs)
	}
	b.rules = append(b.rules, cr)
}

func (b *progBuilder) finish(skip []rulesets.Scalar, redact bool) *program {
	p := &program{
		rules:    b.rules,
		paths:    b.paths,
		conds:    b.conds,
		nsrc:     len(b.srcs),
		redact:   redact,
		maxDepth: b.c.opts.MaxDepth,
		maxBytes: b.c.opts.MaxBytes,
	}
	p.setSkip(skip)
	for _, r := range p.rules {
		if len(r.guard) > 0 {
			p.hasGuards = true
		}
	}
	root, err := buildAutomaton(p.paths)
	if err != nil {
		b.errs = append(b.errs, rulesets.Errorf(rulesets.Pos{}, "%v", err))
	}
	p.root = root
	p.markCaptures()
	return p
}

// markCaptures gives each hash source whose path is all member names to
// the automaton node that path leads to by those names, if the rules make
// one, so the scan can capture its value (scanner.capture).
func (p *program) markCaptures() {
	p.srcPaths = make([][]rulesets.Segment, p.nsrc)
	for r := range p.rules {
		for _, hs := range p.rules[r].sources {
			p.srcPaths[hs.id] = hs.path.Segments
		}
	}
	for id, segs := range p.srcPaths {
		n := p.root
		for _, seg := range segs {
			if n == nil || seg.Kind != rulesets.SegKey {
				n = nil
				break
			}
			j := n.index([]byte(seg.Key))
			if j < 0 {
				n = nil
				break
			}
			n = n.kids[j]
		}
		if n != nil && len(segs) > 0 && !slices.Contains(n.capture, int32(id)) {
			n.capture = append(n.capture, int32(id))
		}
	}
}
