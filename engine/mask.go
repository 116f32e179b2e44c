package engine

import (
	"fmt"
	"slices"
	"unsafe"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// Mask is one compiled mask of a ruleset.
//
// Apply returns the masked form of v. It must be safe for concurrent use: a
// Mask holds only its compiled parameters and keeps all per-call state in c.
// Every random choice draws from c.Rand(), so the output is a function of the
// run secret, the mask's parameters and the hash input, nothing else.
//
// An error says what is wrong without quoting the value (it becomes a
// dead-letter reason and may be logged): "expected a date in format
// %Y-%m-%d", not "bad date 1985-02-30". Returning a Value of Kind Missing
// removes the member that held v (drop).
//
// v.S and v.Raw may be views of the record or of per-call buffers, valid
// only until Apply returns: a Mask may return them (or parts of them) but
// must not keep them anywhere that outlives the call.
type Mask interface {
	Apply(c *Ctx, v Value) (Value, error)
}

// Factory compiles one mask from its parameters. It reports every problem
// with p.Errorf (or the errors of p.Decode) so they carry the ruleset
// position.
type Factory func(p *Params) (Mask, error)

var registry = map[string]Factory{}

// register adds a mask type. Mask files call it from init.
func register(name string, f Factory) {
	if _, dup := registry[name]; dup {
		panic("engine: mask type registered twice: " + name)
	}
	registry[name] = f
}

// maskAliases maps a mask type registered under a second name (with the
// same factory) to the type it stands for: the identity names the latter,
// so both seed alike. TestMaskAliases checks it against the registry.
var maskAliases = map[string]string{
	"substitute": "imitate", // DataMasque's deprecated name
}

// canonicalType is the type a mask's identity names.
func canonicalType(typ string) string {
	if t, ok := maskAliases[typ]; ok {
		return t
	}
	return typ
}

// MaskTypes lists the registered mask type names, sorted.
func MaskTypes() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// step is a compiled mask with its identity: SHA-256 of its canonical type
// and parameters (never the ruleset name, rule index or path), so the same
// mask in two rulesets seeds the same choices.
type step struct {
	id  [32]byte
	typ string
	m   Mask
}

// Pipeline is a compiled list of masks: each gets the previous one's output.
type Pipeline []step

// Ctx is the per-call state a mask sees. It is owned by one goroutine for
// the duration of one record.
type Ctx struct {
	sec *Secret
	// doc is the original record, read by hash sources, conditions and
	// from_json_path.
	doc []byte
	// hash is the rule's hash input from its hash_sources (or the caller's
	// hash_values override); nil means each mask hashes its own input.
	hash []byte
	// owe, when not nil, is the call that owes hash: the input of its
	// rule oweRule, reached through path owePath (oweOrig: in the
	// call's original document). Seed computes it on first use, so a
	// rule whose masks never hash (do_nothing, from_fixed, redact...)
	// does not look its hash sources up.
	owe     *call
	oweRule int32
	owePath int32
	oweOrig bool

	cur    *step
	input  Value
	rng    Rand
	seeded bool
	buf    []byte
	// sc is scratch reused from record to record (a pooled call keeps
	// it): the arena mask outputs are built in, the HMAC state held for
	// the record, the permutation state of the unique masks. nil until
	// first used.
	sc *ctxScratch
}

// ctxScratch is the reusable part of a Ctx.
type ctxScratch struct {
	// arena holds the text masks return (Ctx.str): append-only while one
	// record is masked, so every string viewing it stays valid until the
	// record's output has been written; reset for the next record.
	arena  []byte
	perm   fpe
	digits []fpeDigit
	tweak  []byte
	sum    [32]byte
	rand   Rand
	// mac is an HMAC state of macSec, held while a record is masked
	// (Ctx.sum) and given back by reset.
	mac    *macState
	macSec *Secret
}

// arenaMax is the largest arena a pooled Ctx keeps between records: one
// huge record does not pin its memory forever.
const arenaMax = 1 << 20

func (c *Ctx) scratch() *ctxScratch {
	if c.sc == nil {
		c.sc = new(ctxScratch)
	}
	return c.sc
}

// reset readies a pooled Ctx for the next record, keeping its buffers.
// Strings from the previous record's arena must be dead by now: the
// masked record was copied out of them.
func (c *Ctx) reset() {
	c.done()
	sc := c.sc
	if sc != nil {
		if cap(sc.arena) > arenaMax {
			sc.arena = nil
		}
		sc.arena = sc.arena[:0]
		// A unique mask over a huge value grows these as much.
		if cap(sc.tweak) > arenaMax || cap(sc.digits) > arenaMax/16 {
			sc.tweak, sc.digits = nil, nil
		}
		if cap(sc.perm.msg) > arenaMax || cap(sc.perm.out) > arenaMax {
			sc.perm.msg, sc.perm.out = nil, nil
		}
	}
	*c = Ctx{buf: c.buf[:0], sc: sc}
}

// str returns b's text as a string that stays valid until the record is
// masked, without an allocation once the arena has grown to what a record
// needs: b is claimed in place when it was built at the arena's end (see
// room), copied there otherwise. b may be reused once str returns.
func (c *Ctx) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	sc := c.scratch()
	a := sc.arena
	n := len(a)
	if cap(a)-n >= len(b) && &a[:n+1][n] == &b[0] {
		a = a[:n+len(b)]
	} else {
		a = append(a, b...)
	}
	sc.arena = a
	return unsafe.String(&a[n], len(b))
}

// room returns an empty slice at the arena's end with room for n bytes,
// for a mask to build its output in and hand to str without a copy. The
// mask must not run other masks (Ctx.Run) or call str between room and
// str: they would write over what it is building.
func (c *Ctx) room(n int) []byte {
	sc := c.scratch()
	if cap(sc.arena)-len(sc.arena) < n {
		sc.arena = slices.Grow(sc.arena, max(n, 4096))
	}
	return sc.arena[len(sc.arena):len(sc.arena)]
}

// Rand returns the generator for the current mask, seeded on first use from
// HMAC-SHA256(secret, identity ‖ hash input).
func (c *Ctx) Rand() *Rand {
	if !c.seeded {
		c.rng.seed(c.Seed(nil))
		c.seeded = true
	}
	return &c.rng
}

// Seed returns HMAC-SHA256(secret, identity ‖ hash input ‖ extra): the
// current mask's keyed digest, for masks that need bytes rather than a
// stream.
func (c *Ctx) Seed(extra []byte) [32]byte {
	in := c.hashInput()
	if in == nil {
		in = hashText(c.input)
	}
	if extra != nil {
		c.buf = append(append(c.buf[:0], in...), extra...)
		in = c.buf
	}
	return c.sum(c.cur.id[:], in)
}

// hashState is what a rule's masks see of its hash input and document,
// saved around a nested program's rule (a json mask's transforms share the
// Ctx of the rule that holds them).
type hashState struct {
	hash             []byte
	doc              []byte
	owe              *call
	oweRule, owePath int32
	oweOrig          bool
}

func (c *Ctx) hashState() hashState {
	return hashState{c.hash, c.doc, c.owe, c.oweRule, c.owePath, c.oweOrig}
}

func (c *Ctx) setHashState(h hashState) {
	c.hash, c.doc, c.owe, c.oweRule, c.owePath, c.oweOrig = h.hash, h.doc, h.owe, h.oweRule, h.owePath, h.oweOrig
}

// hashInput is the current rule's hash input, nil when the rule has no
// hash sources (each mask then hashes its own value). It is computed when
// a mask first asks, so masks that never hash never pay for the lookup:
// masks read it through here (or Seed and Rand), never from c.hash.
func (c *Ctx) hashInput() []byte {
	if c.owe != nil {
		return c.payHash()
	}
	return c.hash
}

// redraws reports whether a generator may draw again when its output
// equals the value it replaces: only when that value is its own hash
// input. With hash_sources the output must be a function of them alone.
// A redraw would make it depend on the value as well, and the value then
// shows through wherever one entity's hash sources meet two values: a
// rule that redraws a customer's surname and a concat that joins the same
// draw into the shipping name would disagree exactly when the draw was
// the real surname, and so name it. The plain draw equals the value no
// more often than it equals any other, which tells a reader nothing.
func (c *Ctx) redraws() bool { return c.hashInput() == nil }

// payHash computes the hash input the Ctx is owed (see owe).
func (c *Ctx) payHash() []byte {
	c.hash = c.owe.hashInput(int(c.oweRule), c.owePath, c.oweOrig)
	c.owe = nil
	return c.hash
}

// Key returns HMAC-SHA256(secret, "key" ‖ identity): a per-mask key that
// does not depend on the value, for keyed permutations. The unique masks
// take it already expanded into an AES cipher from the Secret's cache
// (Ctx.perm), prepared once per secret and mask rather than per value.
func (c *Ctx) Key() [32]byte {
	return c.sum(keyLabel, c.cur.id[:])
}

// keyLabel is a variable so Key does not allocate the label per call.
var keyLabel = []byte("maskstream/key")

// HMAC returns HMAC-SHA256(secret, b), the `hash` mask's digest.
func (c *Ctx) HMAC(b []byte) [32]byte { return c.sum(nil, b) }

// sum is c.sec.Sum through an HMAC state the Ctx holds for the record, so
// a record's dozen HMACs take one state from the Secret's pool, not one
// each.
func (c *Ctx) sum(a, b []byte) [32]byte {
	sc := c.scratch()
	if sc.macSec != c.sec {
		c.done()
		sc.mac, sc.macSec = c.sec.pool.Get().(*macState), c.sec
	}
	return sc.mac.sum(a, b)
}

// done gives back what the Ctx holds of its secret (the HMAC state, to the
// Secret's pool). The Ctx stays usable.
func (c *Ctx) done() {
	if sc := c.sc; sc != nil && sc.mac != nil {
		sc.macSec.pool.Put(sc.mac)
		sc.mac, sc.macSec = nil, nil
	}
}

// Doc is the original record (read-only).
func (c *Ctx) Doc() []byte { return c.doc }

// Run applies a pipeline to v, giving each mask its own identity and seed.
// Masks that hold sub-masks (concat, chain, json) call it.
func (c *Ctx) Run(p Pipeline, v Value) (Value, error) {
	saveCur, saveIn, saveSeeded := c.cur, c.input, c.seeded
	// The caller's generator is worth keeping only once seeded: Rand
	// seeds an unseeded one afresh.
	var saveRng Rand
	if saveSeeded {
		saveRng = c.rng
	}
	for i := range p {
		c.cur, c.input, c.seeded = &p[i], v, false
		out, err := p[i].m.Apply(c, v)
		if err != nil {
			c.restore(saveCur, saveIn, &saveRng, saveSeeded)
			return Value{}, fmt.Errorf("%s: %w", p[i].typ, err)
		}
		v = out
		if v.Kind == Missing {
			break
		}
	}
	// Restored by hand, not deferred: Run is on every masked value's path.
	c.restore(saveCur, saveIn, &saveRng, saveSeeded)
	return v, nil
}

// runTop is Run for a Ctx no mask is using (a call's own, between
// rules): there is no caller's state to save and restore. *v is replaced by
// the pipeline's output; on error it is left as it was.
func (c *Ctx) runTop(p Pipeline, v *Value) error {
	cur := *v
	for i := range p {
		c.cur, c.input, c.seeded = &p[i], cur, false
		out, err := p[i].m.Apply(c, cur)
		if err != nil {
			return fmt.Errorf("%s: %w", p[i].typ, err)
		}
		cur = out
		if cur.Kind == Missing {
			break
		}
	}
	*v = cur
	return nil
}

// restore puts back the state of the mask that called Run.
func (c *Ctx) restore(cur *step, in Value, rng *Rand, seeded bool) {
	c.cur, c.input, c.seeded = cur, in, seeded
	if seeded {
		c.rng = *rng
	}
}

// runForText runs a nested pipeline on a piece of text s (a part of a
// string, an entity inside text) and returns the text of its result. A
// result that is no text is an error: notText, with %s for the result's
// kind, says what had to be text.
func (c *Ctx) runForText(pl Pipeline, notText, s string) (string, error) {
	out, err := c.Run(pl, Str(s))
	if err != nil {
		return "", err
	}
	switch out.Kind {
	case String, Number, Bool:
		return out.S, nil
	case Null:
		return "", nil
	}
	return "", fmt.Errorf(notText, out.Kind)
}

// nullHashText is the hash input of null (see appendHashText).
var nullHashText = []byte{0}

// hashText is appendHashText(nil, v) without the copy: a read-only view of
// v's text.
func hashText(v Value) []byte {
	switch v.Kind {
	case Null, Missing:
		return nullHashText
	case Object, Array:
		return v.Raw
	}
	return stringBytes(v.S)
}

// appendHashText appends a value's hash input: its scalar text, so 123 and
// "123" hash alike; objects and arrays hash their raw JSON; null hashes as
// the empty text with a marker byte so it differs from "".
func appendHashText(dst []byte, v Value) []byte {
	switch v.Kind {
	case Null, Missing:
		return append(dst, 0)
	case Object, Array:
		return append(dst, v.Raw...)
	}
	return append(dst, v.S...)
}

// Params is what a Factory compiles from.
type Params struct {
	Mask rulesets.Mask
	c    *compiler
}

// Decode decodes the mask's parameters into v (a pointer to a struct with
// yaml tags) strictly: an unknown key, a wrong type or a missing required
// field is an error with its position. The type key is skipped.
func (p *Params) Decode(v any) error {
	return rulesets.DecodeParams(p.Mask.Node, p.Mask.File, v, "type")
}

// Errorf returns an error at the mask's position.
func (p *Params) Errorf(format string, args ...any) error {
	return rulesets.Errorf(p.Mask.Pos, "mask %s: %s", p.Mask.Type, fmt.Sprintf(format, args...))
}

// ErrorAt returns an error at a parameter's node.
func (p *Params) ErrorAt(n *yaml.Node, format string, args ...any) error {
	pos := p.Mask.Pos
	if n != nil {
		pos = rulesets.Pos{File: p.Mask.File, Line: n.Line, Col: n.Column}
	}
	return rulesets.Errorf(pos, "mask %s: %s", p.Mask.Type, fmt.Sprintf(format, args...))
}

// Param returns the value node of the mask parameter key, so an error can
// point at the parameter rather than at the mask (see ErrorAt); nil when it
// is absent. Aliases are followed, so a caller may read the node's content.
func (p *Params) Param(key string) *yaml.Node {
	n := p.Mask.Node
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) == 1 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// Pipeline compiles a nested list of masks (the masks of concat, chain or a
// json transform), given as a YAML sequence node.
func (p *Params) Pipeline(n *yaml.Node) (Pipeline, error) {
	ms, err := rulesets.ParseMasks(n, p.Mask.File)
	if err != nil {
		return nil, err
	}
	return p.c.pipeline(ms)
}

// nestedPipeline compiles a nested list of masks that must not be empty:
// the parameter key, with example (a mask or two in flow style) showing how
// one is written.
func (p *Params) nestedPipeline(n *yaml.Node, key, example string) (Pipeline, error) {
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.ErrorAt(n, "%s must be a non-empty list of masks, as in %s: [ %s ]", key, key, example)
	}
	return p.Pipeline(n)
}

// namedPipeline is nestedPipeline that also takes DataMasque's dictionary
// form of concat's and chain's masks: a mapping from names to masks, run
// in the order written. The names only label the parts: they reach
// neither the masks nor the identity (see dictMasksAt), so the dictionary
// masks exactly as the list of its values does.
func (p *Params) namedPipeline(n *yaml.Node, key, example string) (Pipeline, error) {
	if n = resolveNode(n); n == nil || n.Kind != yaml.MappingNode {
		return p.nestedPipeline(n, key, example)
	}
	if len(n.Content) == 0 {
		return nil, p.ErrorAt(n, "%s must be a non-empty list of masks (or a mapping of names to masks), as in %s: [ %s ]", key, key, example)
	}
	seen := make(map[string]int, len(n.Content)/2)
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolveNode(n.Content[i]), resolveNode(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, p.ErrorAt(n.Content[i], "%s as a mapping takes a name for each mask, as in %s: { first: %s }", key, key, example)
		}
		if k.Value == "type" && v != nil && v.Kind == yaml.ScalarNode {
			// The likeliest slip: one mask where a list was meant.
			return nil, p.ErrorAt(n, "%s must be a non-empty list of masks, not a single mask: write %s: [ { type: %s, ... } ]", key, key, v.Value)
		}
		if line, dup := seen[k.Value]; dup {
			return nil, p.ErrorAt(k, "%s names %q twice (first at line %d); give each mask its own name", key, k.Value, line)
		}
		seen[k.Value] = k.Line
		list.Content = append(list.Content, v)
	}
	return p.Pipeline(list)
}

// resolveNode follows aliases (a ruleset's tree comes expanded, but a
// node handed in by a test may not be).
func resolveNode(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// Seed opens a seed file by name: a built-in one, or a CSV beside the
// ruleset. It is read now, at compile time, never at mask time.
func (p *Params) Seed(name string) (*rulesets.SeedFile, error) {
	return p.c.opts.Seeds(name)
}

// compiler carries the options and collects errors while a ruleset
// compiles.
type compiler struct {
	opts Options
	file string
	// redact and skip are the ruleset's redact_secrets and skip_defaults,
	// for the masks that scan a document of their own (json).
	redact bool
	skip   []rulesets.Scalar
}

// pipeline compiles masks, collecting every error before returning.
func (c *compiler) pipeline(ms []rulesets.Mask) (Pipeline, error) {
	var errs rulesets.ErrorList
	out := make(Pipeline, 0, len(ms))
	for _, m := range ms {
		f, ok := registry[m.Type]
		if !ok {
			errs = append(errs, rulesets.Errorf(m.Pos, "unknown mask type %q; known types: see `maskstream validate -list-masks` or docs/masks-*.md", m.Type))
			continue
		}
		mask, err := f(&Params{Mask: m, c: c})
		if err != nil {
			errs = append(errs, rulesets.Errors(err)...)
			continue
		}
		out = append(out, step{id: c.identity(m), typ: m.Type, m: mask})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}
