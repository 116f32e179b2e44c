package rulesets

import (
	"gopkg.in/yaml.v3"
)

// inapplicable names DataMasque's mask types that cannot apply to a message,
// with why and what to use instead.
var inapplicable = map[string]string{
	"from_column":    "it copies another database column; to copy another field of the message use from_json_path",
	"from_unique":    "it draws values kept unique by a database table; use imitate_unique (a keyed permutation: different inputs never collide)",
	"secure_shuffle": "it shuffles values among the rows of a table, and a stream has no table; use from_file or imitate",
	"from_blob":      "it reads a file into a column; use from_fixed or from_file",
}

// ParseMasks reads a YAML list of masks (a rule's masks:, or the nested
// list of a concat, chain or json transform). Each entry must be a mapping
// with a string type; the engine decodes the rest. Mask types that cannot
// apply to a message (from_column, from_unique, secure_shuffle, from_blob,
// and an unstructured_text with an ai_detect matcher) are errors saying
// why, checked in the nested lists this mask holds too. Unknown types are
// left to the engine, which knows the registered ones.
func ParseMasks(node *yaml.Node, file string) ([]Mask, error) {
	p := &parser{file: file}
	n, errs := expandTree(file, node)
	if len(errs) > 0 {
		return nil, errs
	}
	n = resolveAlias(n)
	if n == nil {
		return nil, ErrorList{Errorf(Pos{File: file}, "expected a list of masks, as in masks: [ {type: imitate} ]")}
	}
	ms := p.masks(n, "")
	sortErrors(p.errs)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return ms, nil
}

// masks reads a list of masks. where names the owner ("rule 3") for
// messages.
func (p *parser) masks(n *yaml.Node, where string) []Mask {
	of := ""
	if where != "" {
		of = " of " + where
	}
	if n.Kind != yaml.SequenceNode {
		hint := "masks: [ {type: imitate} ]"
		if n.Kind == yaml.MappingNode {
			hint = "masks: [ {type: ...} ] (a list, even of one mask: add - before type:)"
		}
		p.errorf(n, "masks%s takes a list of masks, as in %s; got %s", of, hint, describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "masks%s is empty; give at least one mask, such as {type: imitate}", of)
		return nil
	}
	out := make([]Mask, 0, len(n.Content))
	for _, e := range n.Content {
		typ, ok := p.maskType(e)
		if !ok {
			continue
		}
		p.applicable(e, typ)
		out = append(out, Mask{Type: typ, Node: e, Pos: nodePos(p.file, e), File: p.file})
	}
	return out
}

// maskType reads the type of a mask mapping.
func (p *parser) maskType(e *yaml.Node) (string, bool) {
	if e.Kind != yaml.MappingNode {
		p.errorf(e, "a mask is a mapping such as {type: imitate}, not %s", describe(e))
		return "", false
	}
	for _, kv := range pairs(p.file, e, &p.errs) {
		if kv.key.Value != "type" {
			continue
		}
		if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() != strTag || kv.val.Value == "" {
			p.errorf(kv.val, "a mask's type is a name such as imitate or from_fixed, not %s", describe(kv.val))
			return "", false
		}
		return kv.val.Value, true
	}
	p.errorf(e, "this mask has no type; add type: <mask type> (see maskstream validate -list-masks)")
	return "", false
}

// applicable reports a mask type that cannot work on a message, then looks
// into the mask lists it holds for more.
func (p *parser) applicable(m *yaml.Node, typ string) {
	if why, bad := inapplicable[typ]; bad {
		p.errorf(m, "mask type %s cannot apply to a message: %s", typ, why)
	}
	p.nested(m, typ)
}

// nested walks the parts of a mask mapping that hold masks: masks lists
// (concat, chain, replace_regex, unstructured_text's label entries),
// transforms (json, xml) and unstructured_text's matchers. Only the
// inapplicable types are checked here; the engine reads these lists when it
// compiles the mask.
func (p *parser) nested(m *yaml.Node, typ string) {
	var ignored ErrorList // duplicate keys are the engine's to report
	for _, kv := range pairs(p.file, m, &ignored) {
		v := kv.val
		switch kv.key.Value {
		case "masks":
			if v.Kind != yaml.SequenceNode {
				continue
			}
			for _, e := range v.Content {
				if e.Kind != yaml.MappingNode {
					continue
				}
				if t := scalarValue(e, "type"); t != "" {
					p.applicable(e, t)
				} else {
					p.nested(e, "")
				}
			}
		case "transforms":
			if v.Kind != yaml.SequenceNode {
				continue
			}
			for _, e := range v.Content {
				if e.Kind == yaml.MappingNode {
					p.nested(e, "")
				}
			}
		case "matchers":
			if typ == "unstructured_text" {
				p.matchers(v)
			}
		}
	}
}

const aiDetectWhy = "it needs DataMasque's AI engine and no model runs in maskstream; use regex, checksum or seed_files matchers, or a built-in preset"

// matchers checks unstructured_text's matchers for ai_detect, in both of
// DataMasque's spellings: a mapping keyed by matcher kind, or a list of
// entries with a type.
func (p *parser) matchers(v *yaml.Node) {
	var ignored ErrorList
	switch v.Kind {
	case yaml.MappingNode:
		for _, kv := range pairs(p.file, v, &ignored) {
			if kv.key.Value == "ai_detect" {
				p.errorf(kv.key, "the ai_detect matcher of unstructured_text cannot run here: %s", aiDetectWhy)
			}
			if kv.val.Kind == yaml.SequenceNode {
				for _, e := range kv.val.Content {
					if e.Kind == yaml.MappingNode {
						p.nested(e, "")
					}
				}
			}
		}
	case yaml.SequenceNode:
		for _, e := range v.Content {
			if e.Kind != yaml.MappingNode {
				continue
			}
			if scalarValue(e, "type") == "ai_detect" {
				p.errorf(e, "the ai_detect matcher of unstructured_text cannot run here: %s", aiDetectWhy)
			}
			p.nested(e, "")
		}
	}
}

// scalarValue returns the text of mapping m's scalar entry key, or "".
func scalarValue(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}
