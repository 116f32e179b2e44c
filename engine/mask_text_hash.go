package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/engine/textscan"
)

// hash_sources on an unstructured_text mask (DataMasque's deterministic
// unstructured masking) say what each entity's replacement is seeded from:
//
//	hash_sources:
//	  - self: entity     # the entity's own text: the same name masks alike everywhere
//	  - label: DOCTOR    # the first DOCTOR entity of the same value: one doctor's notes mask alike
//
// The sources join the rule's hash input (its hash_sources), which comes
// first, as DataMasque combines hash_columns with them. Without hash_sources
// on the mask, a label's masks seed from the rule's hash input, else from
// the entity; built-in replacements from the entity and the hash input.
// `self: entity` alone is that default for built-in replacements, and for
// masks when the rule has no hash input: the output does not move.

// txtSource is one hash source of the mask: the entity itself (label < 0),
// or the first entity with label `label` in the value.
type txtSource struct{ label int }

// txtSrcKindIDs key the built-in replacements seeded by the mask's
// hash_sources, apart from txtKindIDs, so no input of one scheme can stand
// for an input of the other.
var txtSrcKindIDs = func() (ids [16][32]byte) {
	for _, k := range textscan.Kinds() {
		ids[k] = sha256.Sum256([]byte("maskstream/unstructured_text/v1/hash_sources/" + k.String()))
	}
	return ids
}()

// txtSourceHelp is how a hash source is written, for errors.
const txtSourceHelp = "{self: entity} (seed each entity from its own text) or {label: NAME} (seed from the first entity labelled NAME in the same text)"

// hashSources reads the mask's hash_sources; labels must be known by now.
func (tc *txtCompiler) hashSources(n *yaml.Node) {
	n = txtDeref(n)
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		tc.fail(tc.p.ErrorAt(n, "hash_sources is a non-empty list of %s, as in hash_sources: [ {self: entity} ]", txtSourceHelp))
		return
	}
	for i, e := range n.Content {
		e = txtDeref(e)
		what := "hash_sources[" + strconv.Itoa(i) + "]"
		if e.Kind != yaml.MappingNode || len(e.Content) == 0 {
			tc.fail(tc.p.ErrorAt(e, "%s: a hash source of unstructured_text is %s; to hash on a field of the record, give hash_sources on the rule", what, txtSourceHelp))
			continue
		}
		if len(e.Content) > 2 {
			tc.fail(tc.p.ErrorAt(e.Content[2], "%s: a hash source has one key, self or label; write each source as an entry of its own", what))
			continue
		}
		k, v := e.Content[0], txtDeref(e.Content[1])
		var src txtSource
		switch k.Value {
		case "self":
			if v.Kind != yaml.ScalarNode || v.Value != "entity" {
				tc.fail(tc.p.ErrorAt(v, "%s: self takes entity (self: entity seeds each entity from its own text), not %q", what, v.Value))
				continue
			}
			src.label = -1
		case "label":
			if v.Kind != yaml.ScalarNode {
				tc.fail(tc.p.ErrorAt(v, "%s: label takes the name of a label, such as label: DOCTOR", what))
				continue
			}
			li, ok := tc.byName[v.Value]
			if !ok || !tc.m.labels[li].inUse {
				tc.fail(tc.p.ErrorAt(v, "%s: no matcher produces label %q; the labels are %s", what, v.Value, strings.Join(tc.labelNames(), ", ")))
				continue
			}
			src.label = li
		default:
			tc.fail(tc.p.ErrorAt(k, "%s: unknown hash source %q; a hash source of unstructured_text is %s", what, k.Value, txtSourceHelp))
			continue
		}
		if slices.Contains(tc.m.srcs, src) {
			tc.fail(tc.p.ErrorAt(k, "%s: %s: %s is listed twice; list each hash source once", what, k.Value, v.Value))
			continue
		}
		tc.m.srcs = append(tc.m.srcs, src)
	}
}

// txtDeref follows YAML aliases.
func txtDeref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// findSources records, for each label source, the text of the first entity
// with that label among spans (ordered by start), or that there is none.
func (m *txtMask) findSources(text string, spans []txtSpan, buf *txtBuf) {
	buf.srcText = slices.Grow(buf.srcText[:0], len(m.srcs))[:len(m.srcs)]
	buf.srcOK = slices.Grow(buf.srcOK[:0], len(m.srcs))[:len(m.srcs)]
	for i, src := range m.srcs {
		buf.srcText[i], buf.srcOK[i] = "", false
		if src.label < 0 {
			continue
		}
		for _, s := range spans {
			if s.label == src.label {
				buf.srcText[i], buf.srcOK[i] = text[s.start:s.end], true
				break
			}
		}
	}
}

// appendSourceInput appends an entity's hash input under the mask's
// hash_sources: the rule's hash input h (if any) and then each source,
// encoded as a rule's hash sources are (see call.hashInput). One part is
// its text alone, so `label: DOCTOR` seeds a label's masks as a rule with
// the doctor's field as its one hash source would; several are framed by a
// tag and a length; a label absent from the value is a missing source.
// self is the entity's text (canonical for a built-in replacement).
func (m *txtMask) appendSourceInput(dst, h []byte, self string, buf *txtBuf) []byte {
	parts := len(m.srcs)
	if h != nil {
		parts++
	}
	if parts == 1 {
		if m.srcs[0].label < 0 {
			return append(dst, self...)
		}
		if !buf.srcOK[0] {
			return append(dst, hashMissing1...)
		}
		return append(dst, buf.srcText[0]...)
	}
	if h != nil {
		dst = append(dst, hashTagValue)
		dst = binary.AppendUvarint(dst, uint64(len(h)))
		dst = append(dst, h...)
	}
	for i, src := range m.srcs {
		t := self
		if src.label >= 0 {
			if !buf.srcOK[i] {
				dst = append(dst, hashTagMissing)
				continue
			}
			t = buf.srcText[i]
		}
		dst = append(dst, hashTagValue)
		dst = binary.AppendUvarint(dst, uint64(len(t)))
		dst = append(dst, t...)
	}
	return dst
}

// srcDefault reports whether the sources name the entity alone, which is
// what a built-in replacement is keyed by without them.
func (m *txtMask) srcDefault() bool {
	return len(m.srcs) == 1 && m.srcs[0].label < 0
}

// runSourced runs a label's masks on entity with the hash input its
// hash_sources give.
func (m *txtMask) runSourced(c *Ctx, pl Pipeline, entity string, buf *txtBuf) (string, error) {
	h := c.hashInput()
	if h == nil && m.srcDefault() {
		// The entity alone is what the masks hash without a hash input:
		// leave it so, and the output is the default's, byte for byte.
		return c.runForText(pl, txtNotText, entity)
	}
	buf.hash = m.appendSourceInput(buf.hash[:0], h, entity, buf)
	saved := c.hashState()
	c.hash, c.owe = buf.hash, nil
	rep, err := c.runForText(pl, txtNotText, entity)
	c.setHashState(saved)
	return rep, err
}

// sourcedRand seeds the generator of a built-in replacement under the
// mask's hash_sources.
func (m *txtMask) sourcedRand(c *Ctx, k textscan.Kind, entity string, buf *txtBuf) Rand {
	if m.srcDefault() {
		return c.txtEntityRand(k, entity)
	}
	h := c.hashInput()
	buf.canon = textscan.AppendCanonical(buf.canon[:0], k, entity)
	buf.hash = m.appendSourceInput(buf.hash[:0], h, bytesString(buf.canon), buf)
	var r Rand
	r.seed(c.sum(txtSrcKindIDs[k][:], buf.hash))
	return r
}
