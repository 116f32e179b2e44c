package engine

import (
	"crypto/sha256"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// A mask's identity seeds every choice it makes (Ctx.Seed, Ctx.Key), so
// two masks that behave alike must have the same identity, or a value
// masked by "the same mask" in two rulesets would not join. The identity
// is therefore taken from the mask's canonical type and parameters, read
// as the mask reads them: an alias is its canonical type, a number is its
// value whatever its notation, and a parameter written with its default is
// left out. Everything else keeps the form it has always had (keys sorted,
// scalars tagged), so a mask written canonically keeps its identity, and
// its outputs, across this change.

// idKind says how a parameter's value is read, so its canonical form
// merges exactly the spellings the mask cannot tell apart.
type idKind uint8

const (
	// idRaw is the YAML as written, tag and text: for values a mask keeps
	// with their YAML type (from_fixed's value: 100 writes a number, "100"
	// a string), and for any parameter not in idParams.
	idRaw idKind = iota
	// idText is a string parameter: the decoder takes the text of a number
	// or a date given for it, so seed: 100 is seed: "100".
	idText
	// idFold is text the mask reads ignoring case.
	idFold
	idBool
	// idInt is a whole-number parameter, read as rulesets.DecodeParams
	// reads it (YAML's notations: 0x64, 0o144, 1_000).
	idInt
	// idFloat is a float64 parameter.
	idFloat
	// idRat is from_random_number's bounds, read as that mask reads them:
	// big.Rat of the text, so 0144 is 144 there, where it is 100 to YAML.
	idRat
)

// idParam describes one parameter of a mask type.
type idParam struct {
	kind idKind
	// list: the value is a list of kind.
	list bool
	// defs are the values, as written in YAML, that act as leaving the
	// parameter out. Each is canonicalised as kind when the table is
	// read, so "0" also matches 0.0 for a number.
	defs []string
	// sub describes the mappings in a list parameter (json and xml
	// transforms); their keys not in it are read as idRaw.
	sub map[string]idParam
}

// idParams lists every mask type's parameters whose reading is not the
// YAML as written, with their documented defaults (docs/masks-*.md).
// TestIdentityDefaultsBehave compiles each default against the mask with
// the parameter left out, so an entry here cannot claim a default the
// mask does not have.
var idParams = map[string]map[string]idParam{
	"imitate": {
		"force_change": {kind: idBool, defs: []string{"false"}},
		"uppercase":    {kind: idBool, defs: []string{"true"}},
		"lowercase":    {kind: idBool, defs: []string{"true"}},
		"digits":       {kind: idBool, defs: []string{"true"}},
	},
	"imitate_unique": {"seed": {kind: idText, defs: []string{`""`}}},
	"imitate_uuid":   {"seed": {kind: idText, defs: []string{`""`}}},
	"imitate_nz_ird": {"seed": {kind: idText, defs: []string{`""`}}},
	"from_file": {
		"seed_file":   {kind: idText},
		"seed_column": {kind: idText}, // default and spelling: see idNormalisers
	},
	"from_format_string": {"value_format": {kind: idText}},
	"from_choices":       {"weights": {kind: idFloat, list: true}},
	"from_json_path":     {"on_missing": {kind: idText, defs: []string{"error", `""`}}},
	"from_random_text": {
		"max":        {kind: idInt},
		"min":        {kind: idInt, defs: []string{"1"}},
		"case":       {kind: idText, defs: []string{"mixed", `""`}},
		"characters": {kind: idText, defs: []string{`""`}},
	},
	"from_random_number": {
		"max":            {kind: idRat},
		"min":            {kind: idRat, defs: []string{"0"}},
		"mode":           {kind: idRat},
		"decimal_places": {kind: idInt, defs: []string{"0"}},
	},
	"from_random_date":     {"min": {kind: idText}, "max": {kind: idText}, "date_format": {kind: idText}},
	"from_random_datetime": {"min": {kind: idText}, "max": {kind: idText}, "date_format": {kind: idText}},
	"retain_age":           {"date_format": {kind: idText}},
	"retain_year":          {"date_format": {kind: idText}},
	"retain_date_component": {
		"date_format": {kind: idText},
		"year":        {kind: idBool, defs: []string{"false"}},
		"month":       {kind: idBool, defs: []string{"false"}},
		"day":         {kind: idBool, defs: []string{"false"}},
		"hour":        {kind: idBool, defs: []string{"false"}},
		"minute":      {kind: idBool, defs: []string{"false"}},
		"second":      {kind: idBool, defs: []string{"false"}},
	},
	"date_shift": {
		"max_days":    {kind: idInt},
		"min_days":    {kind: idInt}, // default -max_days: see idNormalisers
		"date_format": {kind: idText},
	},
	"numeric_bucket": {
		"buckets": {kind: idFloat, list: true},
		"labels":  {kind: idText, list: true},
	},
	"transform_case": {"case": {kind: idFold}},
	"take_substring": {
		"start_index": {kind: idInt, defs: []string{"0"}},
		"end_index":   {kind: idInt},
	},
	"replace_substring": {
		"start_index": {kind: idInt, defs: []string{"0"}},
		"end_index":   {kind: idInt},
	},
	"replace_regex": {"regex": {kind: idText}, "value": {kind: idText}},
	"mask_characters": {
		"keep_first":      {kind: idInt, defs: []string{"0"}},
		"keep_last":       {kind: idInt, defs: []string{"0"}},
		"character":       {kind: idText, defs: []string{`"*"`}},
		"skip_characters": {kind: idText, defs: []string{`""`}},
	},
	"typecast": {
		"typecast_as":       {kind: idText},
		"date_format":       {kind: idText},
		"input_date_format": {kind: idText},
	},
	"concat": {"glue": {kind: idText, defs: []string{`""`}}},
	"hash": {
		"format": {kind: idText, defs: []string{"hex"}},
		"length": {kind: idInt}, // default: the format's full length, see idNormalisers
		"prefix": {kind: idText, defs: []string{`""`}},
	},
	"credit_card": {
		"generate_card_number": {kind: idBool, defs: []string{"true"}},
		"pan_format":           {kind: idBool, defs: []string{"false"}},
		"pan_character":        {kind: idText, defs: []string{`"#"`}},
		"generate_luhn":        {kind: idBool}, // default !pan_format: see idNormalisers
	},
	"set_checksum": {"algorithm": {kind: idText}},
	"json": {"transforms": {list: true, sub: map[string]idParam{
		"on_missing":        {kind: idText, defs: []string{"error", `""`}},
		"on_null":           {kind: idText, defs: []string{"skip", `""`}},
		"force_consistency": {kind: idBool, defs: []string{"false"}},
		"advance_hash":      {kind: idBool, defs: []string{"false"}},
	}}},
	"xml": {"transforms": {list: true, sub: map[string]idParam{
		"on_missing":        {kind: idText, defs: []string{"error", `""`}},
		"on_null":           {kind: idText, defs: []string{"skip", `""`}},
		"force_consistency": {kind: idBool, defs: []string{"false"}},
	}}},
}

// idNormalisers drop parameters whose default depends on another one.
// They see the mask's parameters (canonical type, keys already read) and
// return the keys to leave out.
var idNormalisers = map[string]func(c *compiler, ps idParamSet) []string{
	// min_days defaults to -max_days.
	"date_shift": func(_ *compiler, ps idParamSet) []string {
		lo, okLo := ps.int("min_days")
		hi, okHi := ps.int("max_days")
		if okLo && okHi && hi != math.MinInt64 && lo == -hi {
			return []string{"min_days"}
		}
		return nil
	},
	// generate_luhn defaults to !pan_format.
	"credit_card": func(_ *compiler, ps idParamSet) []string {
		pan, ok := false, true
		if ps.has("pan_format") {
			pan, ok = ps.bool("pan_format")
		}
		if luhn, okL := ps.bool("generate_luhn"); ok && okL && luhn == !pan {
			return []string{"generate_luhn"}
		}
		return nil
	},
	// length defaults to the format's full length.
	"hash": func(_ *compiler, ps idParamSet) []string {
		format, ok := "hex", true
		if ps.has("format") {
			format, ok = ps.text("format")
		}
		e, known := xfHashEncodings[format]
		if n, okN := ps.int("length"); ok && known && okN && n == int64(e.size) {
			return []string{"length"}
		}
		return nil
	},
	// seed_column defaults to the only column and is matched ignoring
	// case; a built-in file is known under our name and DataMasque's.
	// Both are written as the file the data is, under our name, and the
	// column as that file spells it, left out when it is the only one.
	"from_file": func(c *compiler, ps idParamSet) []string {
		name, ok := ps.text("seed_file")
		if !ok || c == nil || c.opts.Seeds == nil {
			return nil
		}
		seed, err := c.opts.Seeds(name)
		if err != nil || seed == nil {
			return nil
		}
		col := 0
		if ps.has("seed_column") {
			want, ok := ps.text("seed_column")
			if col = slices.IndexFunc(seed.Columns, func(fc string) bool { return strings.EqualFold(fc, want) }); !ok || col < 0 {
				return nil
			}
		} else if len(seed.Columns) != 1 {
			return nil
		}
		name, seed = c.builtinSeedName(name, seed)
		ps.set("seed_file", idQuoted(nil, "!!str", name))
		if len(seed.Columns) == 1 {
			return []string{"seed_column"}
		}
		ps.set("seed_column", idQuoted(nil, "!!str", seed.Columns[col]))
		return nil
	},
}

// builtinSeedName returns the name a built-in seed file's data goes by:
// our own name rather than DataMasque's (DataMasque_lastNames_v2.csv is
// last_names.csv). Names of one file share its rows; a user file is read
// afresh and shares nothing, so it keeps its name.
func (c *compiler) builtinSeedName(name string, seed *rulesets.SeedFile) (string, *rulesets.SeedFile) {
	names := rulesets.BuiltinSeeds()
	if len(seed.Rows) == 0 || !slices.Contains(names, name) {
		return name, seed
	}
	best, bestSeed := name, seed
	rank := func(n string) int {
		if strings.HasPrefix(n, "DataMasque_") {
			return 1
		}
		return 0
	}
	for _, n := range names {
		if rank(n) > rank(best) || rank(n) == rank(best) && n >= best {
			continue
		}
		s, err := c.opts.Seeds(n)
		if err != nil || s == nil || len(s.Rows) != len(seed.Rows) || len(s.Columns) != len(seed.Columns) || &s.Rows[0] != &seed.Rows[0] {
			continue
		}
		best, bestSeed = n, s
	}
	return best, bestSeed
}

// idParamSet is a mask mapping's entries as the identity reads them.
type idParamSet []idEntry

type idEntry struct {
	key  string
	node *yaml.Node // resolved
	spec idParam
	val  []byte // canonical form; nil drops the entry
}

func (ps idParamSet) find(key string) *idEntry {
	for i := range ps {
		if ps[i].key == key {
			return &ps[i]
		}
	}
	return nil
}

func (ps idParamSet) has(key string) bool { return ps.find(key) != nil }

func (ps idParamSet) set(key string, val []byte) {
	if e := ps.find(key); e != nil {
		e.val = val
	}
}

func (ps idParamSet) int(key string) (int64, bool) {
	e := ps.find(key)
	if e == nil || e.node.Kind != yaml.ScalarNode || e.node.ShortTag() != "!!int" {
		return 0, false
	}
	var i int64
	return i, e.node.Decode(&i) == nil
}

func (ps idParamSet) bool(key string) (bool, bool) {
	e := ps.find(key)
	if e == nil || e.node.Kind != yaml.ScalarNode || e.node.ShortTag() != "!!bool" {
		return false, false
	}
	var b bool
	return b, e.node.Decode(&b) == nil
}

func (ps idParamSet) text(key string) (string, bool) {
	e := ps.find(key)
	if e == nil || !idIsText(e.node) {
		return "", false
	}
	return e.node.Value, true
}

// identity is SHA-256 of the mask's canonical form (see the top of this
// file). It runs when a ruleset compiles, never per record.
func (c *compiler) identity(m rulesets.Mask) [32]byte {
	n := resolveNode(m.Node)
	if n == nil {
		return sha256.Sum256(append([]byte("~"), canonicalType(m.Type)...))
	}
	if n.Kind != yaml.MappingNode {
		return sha256.Sum256(c.canonical(nil, n))
	}
	return sha256.Sum256(c.canonicalMask(nil, n, m.Type))
}

// canonical writes a YAML node as it always has: mappings with keys
// sorted, scalars with their tags. A mask met in a list of masks (see
// entries) is written by canonicalMask.
func (c *compiler) canonical(dst []byte, n *yaml.Node) []byte {
	if n == nil {
		return append(dst, '~')
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, e := range n.Content {
			dst = c.canonical(dst, e)
		}
	case yaml.AliasNode:
		dst = c.canonical(dst, n.Alias)
	case yaml.ScalarNode:
		dst = idQuoted(dst, n.ShortTag(), n.Value)
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for _, e := range n.Content {
			dst = c.canonical(dst, e)
			dst = append(dst, ',')
		}
		dst = append(dst, ']')
	case yaml.MappingNode:
		dst = c.entries(n, nil).write(dst)
	}
	return dst
}

// canonicalMask writes a mask mapping: its canonical type, its parameters
// as the mask reads them, without those that say what leaving them out
// would.
func (c *compiler) canonicalMask(dst []byte, n *yaml.Node, typ string) []byte {
	typ = canonicalType(typ)
	ps := c.entries(n, idParams[typ])
	if e := ps.find("type"); e != nil {
		e.val = idQuoted(nil, "!!str", typ)
	}
	if e := dictMasks(ps, typ); e != nil {
		e.val = c.canonicalValues(nil, e.node)
	}
	if norm := idNormalisers[typ]; norm != nil {
		for _, k := range norm(c, ps) {
			ps.set(k, nil)
		}
	}
	return ps.write(dst)
}

// entries reads a mapping's entries, sorted by key, each in the reading
// its spec gives (nil spec: as written); an entry equal to its default is
// dropped.
func (c *compiler) entries(n *yaml.Node, spec map[string]idParam) idParamSet {
	ps := make(idParamSet, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, resolveNode(n.Content[i+1])
		e := idEntry{key: k, node: v, spec: spec[k]}
		if isMaskList(k, v) {
			e.val = c.maskList(nil, v)
		} else {
			e.val = c.param(nil, v, e.spec)
		}
		if e.val != nil && slices.ContainsFunc(e.spec.defs, func(d string) bool {
			return string(c.param(nil, idParseDefault(d), e.spec)) == string(e.val)
		}) {
			e.val = nil
		}
		ps = append(ps, e)
	}
	slices.SortStableFunc(ps, func(a, b idEntry) int { return strings.Compare(a.key, b.key) })
	return ps
}

func (ps idParamSet) write(dst []byte) []byte {
	dst = append(dst, '{')
	for _, e := range ps {
		if e.val == nil {
			continue
		}
		dst = strconv.AppendQuote(dst, e.key)
		dst = append(dst, ':')
		dst = append(dst, e.val...)
		dst = append(dst, ',')
	}
	return append(dst, '}')
}

// param writes one parameter's value in the reading p gives. A value the
// reading cannot take is written as it is: the mask refuses it anyway.
func (c *compiler) param(dst []byte, n *yaml.Node, p idParam) []byte {
	if n == nil {
		return append(dst, '~')
	}
	if p.list && n.Kind == yaml.SequenceNode {
		dst = append(dst, '[')
		for _, e := range n.Content {
			e = resolveNode(e)
			if p.sub != nil && e != nil && e.Kind == yaml.MappingNode {
				dst = c.entries(e, p.sub).write(dst)
			} else {
				dst = c.param(dst, e, idParam{kind: p.kind})
			}
			dst = append(dst, ',')
		}
		return append(dst, ']')
	}
	if n.Kind != yaml.ScalarNode || p.list {
		return c.canonical(dst, n)
	}
	tag := n.ShortTag()
	switch p.kind {
	case idText:
		if idIsText(n) {
			return idQuoted(dst, "!!str", n.Value)
		}
	case idFold:
		if idIsText(n) {
			return idQuoted(dst, "!!str", strings.ToLower(n.Value))
		}
	case idBool:
		var b bool
		if tag == "!!bool" && n.Decode(&b) == nil {
			return idQuoted(dst, tag, strconv.FormatBool(b))
		}
	case idInt:
		var i int64
		if tag == "!!int" && n.Decode(&i) == nil {
			return idQuoted(dst, tag, strconv.FormatInt(i, 10))
		}
	case idFloat:
		var f float64
		if (tag == "!!int" || tag == "!!float") && n.Decode(&f) == nil {
			return idNumber(dst, f)
		}
	case idRat:
		// As newFromRandomNumber reads its bounds.
		if r, ok := new(big.Rat).SetString(strings.ReplaceAll(n.Value, "_", "")); ok && (tag == "!!int" || tag == "!!float") {
			return idRatNumber(dst, r)
		}
	}
	return c.canonical(dst, n)
}

// isMaskList reports whether a mapping entry holds a list of masks: the
// masks of concat, chain, replace_substring, replace_regex, a json or xml
// transform or an unstructured_text label, and fallback_masks. (The
// mappings of unstructured_text's masks list have no type, so they are
// read as they are, and their own masks lists are found inside.)
func isMaskList(key string, v *yaml.Node) bool {
	return (key == "masks" || key == "fallback_masks") && v != nil && v.Kind == yaml.SequenceNode
}

// maskList writes a sequence whose mappings with a mask type are masks.
func (c *compiler) maskList(dst []byte, n *yaml.Node) []byte {
	dst = append(dst, '[')
	for _, e := range n.Content {
		dst = c.maybeMask(dst, e)
		dst = append(dst, ',')
	}
	return append(dst, ']')
}

func (c *compiler) maybeMask(dst []byte, n *yaml.Node) []byte {
	if r := resolveNode(n); r != nil && r.Kind == yaml.MappingNode {
		if typ := idMaskType(r); typ != "" {
			return c.canonicalMask(dst, r, typ)
		}
	}
	return c.canonical(dst, n)
}

// canonicalValues writes a mapping's values as maskList writes the
// sequence of them: concat's and chain's dictionary form, whose names are
// labels only (see namedPipeline).
func (c *compiler) canonicalValues(dst []byte, n *yaml.Node) []byte {
	dst = append(dst, '[')
	for i := 1; i < len(n.Content); i += 2 {
		dst = c.maybeMask(dst, n.Content[i])
		dst = append(dst, ',')
	}
	return append(dst, ']')
}

// dictMasks returns the masks entry of a concat or chain written in
// DataMasque's dictionary form, or nil.
func dictMasks(ps idParamSet, typ string) *idEntry {
	if typ != "concat" && typ != "chain" {
		return nil
	}
	if e := ps.find("masks"); e != nil && e.node != nil && e.node.Kind == yaml.MappingNode {
		return e
	}
	return nil
}

// idMaskType returns the type of a mapping in a list of masks when it
// names a registered mask type, else "" (it is then read as written).
func idMaskType(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "type" {
			continue
		}
		v := resolveNode(n.Content[i+1])
		if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
			return ""
		}
		if _, ok := registry[v.Value]; ok {
			return v.Value
		}
		return ""
	}
	return ""
}

// idIsText reports whether the ruleset decoder takes n for a string
// parameter: any scalar but a boolean or null.
func idIsText(n *yaml.Node) bool {
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	t := n.ShortTag()
	return t != "!!bool" && t != "!!null"
}

func idQuoted(dst []byte, tag, text string) []byte {
	dst = append(dst, tag...)
	dst = append(dst, ':')
	return strconv.AppendQuote(dst, text)
}

// idNumber writes a float as a whole number when it is one (100, 100.0
// and 1e2 alike), else in its shortest form.
func idNumber(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return idQuoted(dst, "!!int", strconv.FormatInt(int64(f), 10))
	}
	return idQuoted(dst, "!!float", strconv.FormatFloat(f, 'g', -1, 64))
}

// idRatNumber writes an exact number: a whole one as an integer, else as
// the shortest decimal that is exactly it (the text of a YAML number
// always has one).
func idRatNumber(dst []byte, r *big.Rat) []byte {
	if r.IsInt() {
		return idQuoted(dst, "!!int", r.Num().String())
	}
	for prec := 1; prec <= 4096; prec++ {
		s := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return idQuoted(dst, "!!float", s)
		}
	}
	return idQuoted(dst, "!!float", r.RatString())
}

// idParseDefault parses a default as written in idParams.
func idParseDefault(s string) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil || len(doc.Content) != 1 {
		panic("engine: bad default in idParams: " + s)
	}
	return doc.Content[0]
}
