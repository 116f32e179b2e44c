package engine

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/engine/textscan"
	"github.com/maskstream/maskstream/rulesets"
)

// unstructured_text (DataMasque): finds entities in free text and masks
// each one, leaving every byte outside them as it was.
//
//	masks:
//	  - type: unstructured_text
//	    preset: pii                # ours: the built-in entities (or contact, financial, ...)
//	    matchers:
//	      regex:                   # Go RE2 patterns
//	        - { label: PATIENT_ID, pattern: 'P_(\d{3})', group: 1 }
//	      seed_files:              # any value of a seed file column, as a whole word
//	        - { label: FIRST_NAME, seed_file: DataMasque_firstNames_mixed.csv, seed_column: firstname-mixed }
//	      checksum:                # luhn (payment cards) or iban
//	        - { label: CARD, type: luhn }   # the list form: {type: checksum, label: CARD, checksum_type: luhn}
//	      entities:                # ours: one built-in entity kind under a label
//	        - { label: WORK_EMAIL, kind: email }
//	    masks:                     # per label, the masks each entity goes through
//	      - { label: PATIENT_ID, masks: [ {type: from_fixed, value: "P_000"} ] }
//	    fallback_masks: [ ... ]    # for labels with no masks of their own
//	    hash_sources:              # what each entity's replacement seeds from
//	      - self: entity           # (see mask_text_hash.go)
//
// A built-in entity (preset, entities, checksum) needs no masks: by default
// it is replaced by a valid look-alike of its kind (textscan.Fake), drawn
// from a generator keyed by the run secret, the kind and the entity's
// canonical form (plus the rule's hash input, if it has hash_sources) — so
// the same email masks the same way in every note, topic and ruleset.
// Other labels take masks (per label, inline on the matcher, or
// fallback_masks); each entity runs through them as a string of its own.
//
// Overlaps: the match that starts first wins; at the same start the longer;
// then built-in matchers before regex, regex before seed files, each in the
// order written. ai_detect (no model runs here), context_sources (no other
// columns) and context_filters are errors saying so.
func init() { register("unstructured_text", newUnstructuredText) }

type txtParams struct {
	// Preset is a preset name or a list of them.
	Preset        *yaml.Node     `yaml:"preset"`
	Matchers      *yaml.Node     `yaml:"matchers"`
	Masks         []txtLabelSpec `yaml:"masks"`
	FallbackMasks *yaml.Node     `yaml:"fallback_masks"`
	// HashSources are DataMasque's {self: entity} and {label: NAME}.
	HashSources *yaml.Node `yaml:"hash_sources"`
}

type txtLabelSpec struct {
	Label string    `yaml:"label" ms:"required"`
	Masks yaml.Node `yaml:"masks" ms:"required"`
}

// txtMatchers is the mapping form of matchers: matcher type → list.
type txtMatchers struct {
	Regex          []txtRegexSpec    `yaml:"regex"`
	Checksum       []txtChecksumSpec `yaml:"checksum"`
	SeedFiles      []txtSeedSpec     `yaml:"seed_files"`
	Entities       []txtEntitySpec   `yaml:"entities"`
	ContextSources *yaml.Node        `yaml:"context_sources"`
	AIDetect       *yaml.Node        `yaml:"ai_detect"`

	// The entry nodes of each list, for errors at the matcher.
	regexAt, checksumAt, seedAt, entityAt []*yaml.Node
}

// txtCommon holds what every matcher may carry.
type txtCommon struct {
	Label string `yaml:"label"`
	// Masks (ours) gives the label's masks on the matcher itself.
	Masks          *yaml.Node `yaml:"masks"`
	ContextFilters *yaml.Node `yaml:"context_filters"`
}

type txtRegexSpec struct {
	txtCommon `yaml:",inline"`
	Pattern   string `yaml:"pattern" ms:"required"`
	// Group (ours) masks only this capture group: a number or a name.
	Group *rulesets.Scalar `yaml:"group"`
}

type txtChecksumSpec struct {
	txtCommon `yaml:",inline"`
	Type      string `yaml:"type" ms:"required"`
}

type txtSeedSpec struct {
	txtCommon     `yaml:",inline"`
	SeedFile      string `yaml:"seed_file" ms:"required"`
	SeedColumn    string `yaml:"seed_column" ms:"required"`
	CaseSensitive bool   `yaml:"case_sensitive"`
}

type txtEntitySpec struct {
	txtCommon `yaml:",inline"`
	Kind      string `yaml:"kind" ms:"required"`
}

// txtChecksumKinds maps checksum matcher types to the scanner that checks
// them.
var txtChecksumKinds = map[string]textscan.Kind{
	"luhn":        textscan.CreditCard,
	"credit_card": textscan.CreditCard,
	"iban":        textscan.IBAN,
	"mod97":       textscan.IBAN,
}

var txtLabelRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// txtLabel is one label's replacement: its masks, or the built-in
// look-alike of its kind.
type txtLabel struct {
	name  string
	pipe  Pipeline
	kind  textscan.Kind
	fake  bool // no masks: textscan.Fake of kind
	node  *yaml.Node
	inUse bool
	given bool // masks were given (compiled or not)
}

type txtRegex struct {
	re    *regexp.Regexp
	group int
	label int
}

type txtSeedMatcher struct {
	idx   *txtSeedIndex
	label int
}

// txtMask is a compiled unstructured_text.
type txtMask struct {
	kinds   textscan.Set
	kindLbl [16]int // label index per textscan.Kind
	regexes []txtRegex
	seeds   []txtSeedMatcher
	labels  []txtLabel
	// srcs are the mask's hash_sources; none: the default seeding.
	srcs []txtSource
	bufs sync.Pool // *txtBuf
}

// txtBuf is the scratch one Apply needs, pooled so masking a record
// allocates only its output.
type txtBuf struct {
	ms    []textscan.Match
	spans []txtSpan
	out   []byte
	// The hash_sources scratch: each label source's text in this value,
	// and an entity's hash input and canonical form.
	srcText     []string
	srcOK       []bool
	hash, canon []byte
}

// txtSpan is one entity to replace: text[start:end] under a label; prio
// orders matches that start and end alike.
type txtSpan struct {
	start, end int
	label      int
	prio       int
	kind       int // the built-in kind that found it, or -1
}

// txtCompiler gathers labels and errors while the mask compiles.
type txtCompiler struct {
	p      *Params
	m      *txtMask
	errs   rulesets.ErrorList
	byName map[string]int
}

func (tc *txtCompiler) fail(err error) {
	if err != nil {
		tc.errs = append(tc.errs, rulesets.Errors(err)...)
	}
}

// label returns the index of label name, adding it.
func (tc *txtCompiler) label(name string, at *yaml.Node) int {
	if i, ok := tc.byName[name]; ok {
		return i
	}
	tc.m.labels = append(tc.m.labels, txtLabel{name: name, node: at})
	tc.byName[name] = len(tc.m.labels) - 1
	return len(tc.m.labels) - 1
}

// checkLabel validates a matcher's label and returns its index, or -1.
func (tc *txtCompiler) checkLabel(c *txtCommon, at *yaml.Node, what string, def string) int {
	name := c.Label
	if name == "" {
		if def == "" {
			tc.fail(tc.p.ErrorAt(at, "%s needs a label (UPPER_CASE, such as PATIENT_ID): masks are given per label", what))
			return -1
		}
		name = def
	}
	if !txtLabelRe.MatchString(name) {
		tc.fail(tc.p.ErrorAt(at, "%s label %q must be UPPER_CASE letters, digits and underscores, starting with a letter (such as PATIENT_ID)", what, name))
		return -1
	}
	if c.ContextFilters != nil {
		tc.fail(tc.p.ErrorAt(c.ContextFilters, "context_filters are not supported by maskstream; narrow the match with a regex matcher instead"))
	}
	li := tc.label(name, at)
	if c.Masks != nil {
		if tc.m.labels[li].given {
			tc.fail(tc.p.ErrorAt(c.Masks, "label %s already has masks; give each label's masks once", name))
		} else {
			tc.m.labels[li].given = true
			pl, err := tc.p.nestedPipeline(c.Masks, "masks", txtPipelineExample)
			tc.fail(err)
			tc.m.labels[li].pipe = pl
		}
	}
	return li
}

// setKind binds a built-in kind to a label; an explicit matcher overrides
// a preset, two explicit ones clash.
func (tc *txtCompiler) setKind(k textscan.Kind, li int, explicit []bool, at *yaml.Node) {
	if explicit[k] && tc.m.kindLbl[k] != li {
		tc.fail(tc.p.ErrorAt(at, "the %s entity is already matched under label %s; match each kind under one label", k, tc.m.labels[tc.m.kindLbl[k]].name))
		return
	}
	tc.m.kinds |= textscan.SetOf(k)
	tc.m.kindLbl[k] = li
	explicit[k] = true
}

func newUnstructuredText(p *Params) (Mask, error) {
	var prm txtParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	m := &txtMask{}
	m.bufs.New = func() any { return &txtBuf{} }
	tc := &txtCompiler{p: p, m: m, byName: map[string]int{}}

	presetKinds := tc.presets(prm.Preset)
	for _, k := range presetKinds.Kinds() {
		li := tc.label(k.Label(), prm.Preset)
		m.kinds |= textscan.SetOf(k)
		m.kindLbl[k] = li
	}
	var mt txtMatchers
	if prm.Matchers != nil {
		mt = tc.decodeMatchers(prm.Matchers)
	}
	if prm.Preset == nil && prm.Matchers == nil {
		tc.fail(p.Errorf("give preset: pii (the built-in entities) or matchers (regex, seed_files, checksum, entities), or both"))
	}

	explicit := make([]bool, 16)
	for i := range mt.Entities {
		e := &mt.Entities[i]
		at := txtAt(mt.entityAt, i, prm.Matchers)
		k, ok := textscan.ParseKind(e.Kind)
		if !ok {
			tc.fail(p.ErrorAt(at, "entities[%d]: unknown kind %q; the kinds are %s", i, e.Kind, txtKindNames()))
			continue
		}
		if li := tc.checkLabel(&e.txtCommon, at, "entities["+strconv.Itoa(i)+"]", k.Label()); li >= 0 {
			tc.setKind(k, li, explicit, at)
		}
	}
	for i := range mt.Checksum {
		cs := &mt.Checksum[i]
		at := txtAt(mt.checksumAt, i, prm.Matchers)
		k, ok := txtChecksumKinds[strings.ToLower(cs.Type)]
		if !ok {
			tc.fail(p.ErrorAt(at, "checksum[%d]: unsupported checksum type %q; maskstream finds luhn (payment cards) and iban (mod-97) in text", i, cs.Type))
			continue
		}
		if li := tc.checkLabel(&cs.txtCommon, at, "checksum["+strconv.Itoa(i)+"]", ""); li >= 0 {
			tc.setKind(k, li, explicit, at)
		}
	}
	for i := range mt.Regex {
		tc.regex(i, &mt.Regex[i], txtAt(mt.regexAt, i, prm.Matchers))
	}
	for i := range mt.SeedFiles {
		tc.seedFile(i, &mt.SeedFiles[i], txtAt(mt.seedAt, i, prm.Matchers))
	}
	for _, k := range m.kinds.Kinds() {
		if l := &m.labels[m.kindLbl[k]]; !l.fake {
			l.fake, l.kind, l.inUse = true, k, true
		}
	}
	for _, r := range m.regexes {
		m.labels[r.label].inUse = true
	}
	for _, s := range m.seeds {
		m.labels[s.label].inUse = true
	}
	tc.labelMasks(prm.Masks, prm.FallbackMasks)
	tc.hashSources(prm.HashSources)
	if len(tc.errs) > 0 {
		return nil, tc.errs
	}
	return m, nil
}

// presets reads preset: a name or a list of names.
func (tc *txtCompiler) presets(n *yaml.Node) textscan.Set {
	if n == nil {
		return 0
	}
	var names []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		names = []*yaml.Node{n}
	case yaml.SequenceNode:
		names = n.Content
	default:
		tc.fail(tc.p.ErrorAt(n, "preset is a name such as pii, or a list of names"))
		return 0
	}
	var s textscan.Set
	for _, e := range names {
		ps, ok := textscan.Preset(e.Value)
		if e.Kind != yaml.ScalarNode || !ok {
			tc.fail(tc.p.ErrorAt(e, "unknown preset %q; the presets are %s", e.Value, strings.Join(textscan.PresetNames(), ", ")))
			continue
		}
		s |= ps
	}
	return s
}

// renameKey renames the mapping key from to to in n, reporting whether n
// had it. The key node is copied: the ruleset's own node keeps its name.
func renameKey(n *yaml.Node, from, to string) bool {
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == from {
			k := *n.Content[j]
			k.Value = to
			n.Content[j] = &k
			return true
		}
	}
	return false
}

// decodeMatchers reads matchers in either spelling: DataMasque's mapping
// from matcher type to a list, or (ours) a list of entries that each have a
// type. In the list form a checksum matcher's algorithm, which the mapping
// form calls type, is checksum_type.
func (tc *txtCompiler) decodeMatchers(n *yaml.Node) txtMatchers {
	var mt txtMatchers
	file := tc.p.Mask.File
	prefix := "mask unstructured_text: matchers: "
	switch n.Kind {
	case yaml.MappingNode:
		if err := rulesets.DecodeParams(n, file, &mt); err != nil {
			tc.failPrefixed(err, prefix)
		}
		entries := func(key string) []*yaml.Node {
			v := txtChild(n, key)
			if v == nil {
				return nil
			}
			return v.Content
		}
		mt.regexAt, mt.checksumAt = entries("regex"), entries("checksum")
		mt.seedAt, mt.entityAt = entries("seed_files"), entries("entities")
	case yaml.SequenceNode:
		for i, e := range n.Content {
			typ := ""
			var rest yaml.Node
			if e.Kind == yaml.MappingNode {
				rest = *e
				rest.Content = nil
				for j := 0; j+1 < len(e.Content); j += 2 {
					if e.Content[j].Value == "type" {
						typ = e.Content[j+1].Value
						continue
					}
					rest.Content = append(rest.Content, e.Content[j], e.Content[j+1])
				}
			}
			var err error
			switch typ {
			case "regex":
				var s txtRegexSpec
				err = rulesets.DecodeParams(&rest, file, &s)
				mt.Regex, mt.regexAt = append(mt.Regex, s), append(mt.regexAt, e)
			case "checksum":
				var s txtChecksumSpec
				if !renameKey(&rest, "checksum_type", "type") {
					tc.fail(tc.p.ErrorAt(e, "matchers[%d]: in the list form, type is the matcher's, so a checksum matcher names its algorithm with checksum_type, as in {type: checksum, label: CARD, checksum_type: luhn}", i))
					continue
				}
				err = rulesets.DecodeParams(&rest, file, &s)
				mt.Checksum, mt.checksumAt = append(mt.Checksum, s), append(mt.checksumAt, e)
			case "seed_files", "seed_file":
				var s txtSeedSpec
				err = rulesets.DecodeParams(&rest, file, &s)
				mt.SeedFiles, mt.seedAt = append(mt.SeedFiles, s), append(mt.seedAt, e)
			case "entities", "entity":
				var s txtEntitySpec
				err = rulesets.DecodeParams(&rest, file, &s)
				mt.Entities, mt.entityAt = append(mt.Entities, s), append(mt.entityAt, e)
			case "ai_detect":
				mt.AIDetect = e
			case "context_sources":
				mt.ContextSources = e
			default:
				tc.fail(tc.p.ErrorAt(e, "matchers[%d] needs a type: regex, seed_files, checksum or entities", i))
			}
			if err != nil {
				tc.failPrefixed(err, prefix)
			}
		}
	default:
		tc.fail(tc.p.ErrorAt(n, "matchers is a mapping such as {regex: [...], seed_files: [...]}"))
	}
	if mt.AIDetect != nil {
		tc.fail(tc.p.ErrorAt(mt.AIDetect, "the ai_detect matcher cannot run here: it needs DataMasque's AI engine and no model runs in maskstream; use regex, checksum or seed_files matchers, or preset: pii"))
	}
	if mt.ContextSources != nil {
		tc.fail(tc.p.ErrorAt(mt.ContextSources, "the context_sources matcher reads other table columns, which a message does not have; list the values in a seed file and use seed_files"))
	}
	return mt
}

func (tc *txtCompiler) failPrefixed(err error, prefix string) {
	for _, e := range rulesets.Errors(err) {
		c := *e
		c.Msg = prefix + c.Msg
		tc.errs = append(tc.errs, &c)
	}
}

func (tc *txtCompiler) regex(i int, r *txtRegexSpec, at *yaml.Node) {
	what := "regex[" + strconv.Itoa(i) + "]"
	li := tc.checkLabel(&r.txtCommon, at, what, "")
	if r.Pattern == "" {
		tc.fail(tc.p.ErrorAt(at, "%s: pattern is empty; give the regular expression of the entities", what))
		return
	}
	re, err := regexp.Compile(r.Pattern)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		tc.fail(tc.p.ErrorAt(at, "%s: pattern does not compile (Go RE2 syntax; no backreferences or lookaround): %s", what, msg))
		return
	}
	g := 0
	if r.Group != nil {
		if r.Group.Tag == "!!int" {
			n, err := strconv.Atoi(r.Group.Text)
			if err != nil || n < 0 || n > re.NumSubexp() {
				tc.fail(tc.p.ErrorAt(at, "%s: group %s does not exist: the pattern has %d capture groups", what, r.Group.Text, re.NumSubexp()))
				return
			}
			g = n
		} else if g = re.SubexpIndex(r.Group.Text); g < 0 {
			tc.fail(tc.p.ErrorAt(at, "%s: the pattern has no group named %q; name one with (?P<name>...)", what, r.Group.Text))
			return
		}
	}
	if li >= 0 {
		tc.m.regexes = append(tc.m.regexes, txtRegex{re: re, group: g, label: li})
	}
}

func (tc *txtCompiler) seedFile(i int, s *txtSeedSpec, at *yaml.Node) {
	what := "seed_files[" + strconv.Itoa(i) + "]"
	li := tc.checkLabel(&s.txtCommon, at, what, "")
	sf, err := tc.p.Seed(s.SeedFile)
	if err != nil {
		tc.fail(tc.p.ErrorAt(at, "%s: %s", what, strings.TrimPrefix(err.Error(), "rulesets: ")))
		return
	}
	vals, err := sf.Column(s.SeedColumn)
	if err != nil {
		tc.fail(tc.p.ErrorAt(at, "%s: %s", what, strings.TrimPrefix(err.Error(), "rulesets: ")))
		return
	}
	idx := newTxtSeedIndex(vals, s.CaseSensitive)
	if idx.count == 0 {
		tc.fail(tc.p.ErrorAt(at, "%s: column %s of %s has no value of two characters or more to look for", what, s.SeedColumn, s.SeedFile))
		return
	}
	if li >= 0 {
		tc.m.seeds = append(tc.m.seeds, txtSeedMatcher{idx: idx, label: li})
	}
}

// labelMasks attaches masks entries and fallback_masks to labels, and
// checks that every label can be masked.
func (tc *txtCompiler) labelMasks(specs []txtLabelSpec, fallback *yaml.Node) {
	m := tc.m
	for i := range specs {
		s := &specs[i]
		li, ok := tc.byName[s.Label]
		if !ok || !m.labels[li].inUse {
			tc.fail(tc.p.ErrorAt(&s.Masks, "masks[%d]: no matcher produces label %q; the labels are %s", i, s.Label, strings.Join(tc.labelNames(), ", ")))
			continue
		}
		if m.labels[li].given {
			tc.fail(tc.p.ErrorAt(&s.Masks, "masks[%d]: label %s already has masks; give each label's masks once", i, s.Label))
			continue
		}
		m.labels[li].given = true
		pl, err := tc.p.nestedPipeline(&s.Masks, "masks", txtPipelineExample)
		tc.fail(err)
		m.labels[li].pipe = pl
	}
	var fb Pipeline
	if fallback != nil {
		var err error
		if fb, err = tc.p.nestedPipeline(fallback, "fallback_masks", txtPipelineExample); err != nil {
			tc.fail(err)
		}
	}
	for i := range m.labels {
		l := &m.labels[i]
		switch {
		case !l.inUse || l.given || l.fake:
		case fb != nil:
			l.pipe = fb
		default:
			tc.fail(tc.p.ErrorAt(l.node, "label %s has no masks; add masks: [ {label: %s, masks: [...]} ] or fallback_masks", l.name, l.name))
		}
	}
}

// labelNames returns the labels the matchers produce, sorted.
func (tc *txtCompiler) labelNames() []string {
	var names []string
	for _, l := range tc.m.labels {
		if l.inUse {
			names = append(names, l.name)
		}
	}
	slices.Sort(names)
	return names
}

// txtPipelineExample shows how a nested list of masks is written.
const txtPipelineExample = `{type: from_fixed, value: "[REDACTED]"}`

func txtKindNames() string {
	var names []string
	for _, k := range textscan.Kinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// txtAt returns the i-th entry node, or def.
func txtAt(nodes []*yaml.Node, i int, def *yaml.Node) *yaml.Node {
	if i < len(nodes) {
		return nodes[i]
	}
	return def
}

// txtChild returns the value of key in mapping n, or nil.
func txtChild(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// txtKindIDs are the identities the built-in replacements are keyed by:
// one per kind, shared by every unstructured_text mask.
var txtKindIDs = func() (ids [16][32]byte) {
	for _, k := range textscan.Kinds() {
		ids[k] = sha256.Sum256([]byte("maskstream/unstructured_text/v1/" + k.String()))
	}
	return ids
}()

// txtEntityRand seeds a generator for one entity: HMAC(secret, kind
// identity ‖ [hash input ‖ 0] ‖ canonical entity).
func (c *Ctx) txtEntityRand(k textscan.Kind, entity string) Rand {
	in := c.hashInput() // before taking c.buf: computing it may use the scratch
	b := c.buf[:0]
	if in != nil {
		b = append(append(b, in...), 0)
	}
	b = textscan.AppendCanonical(b, k, entity)
	c.buf = b
	var r Rand
	r.seed(c.sum(txtKindIDs[k][:], b))
	return r
}

func (m *txtMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String {
		return Value{}, fmt.Errorf("unstructured_text takes a string, got %s; mask numbers and booleans with another mask, or typecast them first", v.Kind)
	}
	text := v.S
	buf := m.bufs.Get().(*txtBuf)
	defer m.putBuf(buf)

	buf.ms = textscan.Find(text, m.kinds, buf.ms[:0])
	spans := buf.spans[:0]
	for _, mt := range buf.ms {
		spans = append(spans, txtSpan{start: mt.Start, end: mt.End, label: m.kindLbl[mt.Kind], kind: int(mt.Kind)})
	}
	if len(m.regexes) > 0 || len(m.seeds) > 0 {
		prio := 1
		for _, r := range m.regexes {
			for _, loc := range r.re.FindAllStringSubmatchIndex(text, -1) {
				lo, hi := loc[2*r.group], loc[2*r.group+1]
				if lo >= 0 && hi > lo {
					spans = append(spans, txtSpan{start: lo, end: hi, label: r.label, prio: prio, kind: -1})
				}
			}
			prio++
		}
		for _, s := range m.seeds {
			spans = s.idx.find(text, spans, s.label, prio)
			prio++
		}
		spans = txtResolve(spans)
	}
	buf.spans = spans
	if len(spans) == 0 {
		return v, nil
	}
	if len(m.srcs) > 0 {
		m.findSources(text, spans, buf)
	}
	out := buf.out[:0]
	last := 0
	for _, s := range spans {
		out = append(out, text[last:s.start]...)
		entity := text[s.start:s.end]
		l := &m.labels[s.label]
		if l.pipe != nil {
			var rep string
			var err error
			if len(m.srcs) > 0 {
				rep, err = m.runSourced(c, l.pipe, entity, buf)
			} else {
				rep, err = c.runForText(l.pipe, txtNotText, entity)
			}
			if err != nil {
				return Value{}, fmt.Errorf("label %s: %w", l.name, err)
			}
			out = append(out, rep...)
		} else {
			// A label may gather several kinds; each entity keeps its own.
			k := l.kind
			if s.kind >= 0 {
				k = textscan.Kind(s.kind)
			}
			// In the Ctx's scratch: a local Rand would move to the heap.
			r := &c.scratch().rand
			if len(m.srcs) > 0 {
				*r = m.sourcedRand(c, k, entity, buf)
			} else {
				*r = c.txtEntityRand(k, entity)
			}
			out = textscan.Fake(out, k, entity, r)
		}
		last = s.end
	}
	out = append(out, text[last:]...)
	buf.out = out
	return Str(c.str(out)), nil
}

// putBuf returns scratch to the pool, unless one huge text grew it.
func (m *txtMask) putBuf(b *txtBuf) {
	if cap(b.out) > 1<<20 || cap(b.spans) > 1<<14 || cap(b.ms) > 1<<14 || cap(b.hash) > 1<<16 {
		return
	}
	m.bufs.Put(b)
}

// txtResolve sorts spans and drops those that overlap an earlier winner:
// the first to start wins, then the longer, then the lower prio.
func txtResolve(spans []txtSpan) []txtSpan {
	slices.SortFunc(spans, func(a, b txtSpan) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(b.end, a.end); c != 0 {
			return c
		}
		return cmp.Compare(a.prio, b.prio)
	})
	out := spans[:0]
	end := 0
	for _, s := range spans {
		if s.start >= end {
			out = append(out, s)
			end = s.end
		}
	}
	return out
}

// txtNotText is the error of a label's masks that returned no text.
const txtNotText = "the masks returned %s; an entity inside text must be replaced by text"
