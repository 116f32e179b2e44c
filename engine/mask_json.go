package engine

import (
	"errors"
	"strconv"
	"unsafe"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// json (DataMasque's document mask): masks values inside a JSON document
// given as an object or array, or as a string holding JSON (which stays a
// string: parsed, masked and written back as text).
//
//	masks:
//	  - type: json
//	    transforms:
//	      - path: [payment, card_number]      # list form: names, indexes, "*"
//	        masks: [ {type: credit_card} ]
//	        on_missing: error                 # default, as DataMasque; or skip
//	        on_null: skip                     # default; or mask, error
//	        hash_sources: [ [customer, id] ]  # relative to this document
//	    fallback_masks: [ {type: from_fixed, value: ""} ]  # a string that is not JSON
//
// Transforms apply in order, each to the output of the ones before, with
// the same machinery as a ruleset's rules (so "*" reaches every element or
// member, and a path that reaches into a value an earlier transform
// replaced sees the replacement). force_consistency is accepted and always
// in effect: equal values under the same masks and hash input always get
// equal outputs. A transform without hash_sources inherits the hash input of
// the rule the json mask sits in, if it has one. The ruleset's skip_defaults
// and redact_secrets apply inside the document as they do to the record.
func init() { register("json", newJSONMask) }

type jsonTransformParams struct {
	Path             yaml.Node   `yaml:"path" ms:"required"`
	Masks            yaml.Node   `yaml:"masks" ms:"required"`
	OnMissing        string      `yaml:"on_missing"`
	OnNull           string      `yaml:"on_null"`
	ForceConsistency bool        `yaml:"force_consistency"`
	HashSources      []yaml.Node `yaml:"hash_sources"`
	AdvanceHash      bool        `yaml:"advance_hash"`
}

type jsonParams struct {
	Transforms    []jsonTransformParams `yaml:"transforms" ms:"required"`
	FallbackMasks *yaml.Node            `yaml:"fallback_masks"`
}

type jsonMask struct {
	prog     *program
	fallback Pipeline
}

func newJSONMask(p *Params) (Mask, error) {
	var jp jsonParams
	if err := p.Decode(&jp); err != nil {
		return nil, err
	}
	if len(jp.Transforms) == 0 {
		return nil, p.Errorf("transforms is empty; list at least one {path: [...], masks: [...]}")
	}
	b := &progBuilder{c: p.c}
	file := p.Mask.File
	for i := range jp.Transforms {
		t := &jp.Transforms[i]
		path, err := rulesets.PathFromNode(&t.Path, file)
		if err != nil {
			b.errs = append(b.errs, rulesets.Errors(err)...)
			continue
		}
		pipe, err := p.Pipeline(&t.Masks)
		if err != nil {
			b.errs = append(b.errs, rulesets.Errors(err)...)
			continue
		}
		cr := crule{name: "transform " + strconv.Itoa(i), pipe: pipe, onMissing: rulesets.ActionError, onNull: rulesets.ActionSkip}
		switch t.OnMissing {
		case "", "error":
		case "skip":
			cr.onMissing = rulesets.ActionSkip
		default:
			b.errs = append(b.errs, rulesets.Errors(p.ErrorAt(&t.Path, "transform %d: on_missing is skip or error, not %q", i, t.OnMissing))...)
		}
		switch t.OnNull {
		case "", "skip":
		case "mask":
			cr.onNull = rulesets.ActionNull
		case "error":
			cr.onNull = onNullError
		default:
			b.errs = append(b.errs, rulesets.Errors(p.ErrorAt(&t.Path, "transform %d: on_null is skip, mask or error, not %q", i, t.OnNull))...)
		}
		var sources []rulesets.Path
		for j := range t.HashSources {
			src, err := jsonSourcePath(&t.HashSources[j], file)
			if err != nil {
				b.errs = append(b.errs, rulesets.Errors(err)...)
				continue
			}
			sources = append(sources, src)
		}
		if t.AdvanceHash {
			// Two transforms with equal masks and sources differ.
			cr.advance = append([]byte{0, 'a'}, strconv.Itoa(i)...)
		}
		b.addRule(cr, []rulesets.Path{path}, sources)
	}
	// The document is out of the outer scan's sight: the ruleset's
	// redact_secrets and skip_defaults must reach into it here, or a
	// transform would mask a value the same path rule keeps.
	prog := b.finish(p.c.skip, p.c.redact)
	m := &jsonMask{prog: prog}
	if jp.FallbackMasks != nil {
		fb, err := p.Pipeline(jp.FallbackMasks)
		if err != nil {
			b.errs = append(b.errs, rulesets.Errors(err)...)
		}
		m.fallback = fb
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	return m, nil
}

// jsonSourcePath reads a transform's hash source: a path list ([a, b]), a
// JSONPath string, or DataMasque's {json_path: [a, b]}.
func jsonSourcePath(n *yaml.Node, file string) (rulesets.Path, error) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "json_path" || k == "path" {
				return rulesets.PathFromNode(n.Content[i+1], file)
			}
		}
		return rulesets.Path{}, rulesets.Errorf(rulesets.Pos{File: file, Line: n.Line, Col: n.Column},
			"mask json: a hash source is a path list such as [customer, id], a path such as \"$.customer.id\", or {json_path: [customer, id]}")
	}
	return rulesets.PathFromNode(n, file)
}

var errNotJSONString = errors.New("the string does not hold a JSON document; add fallback_masks to mask such values another way")

func (m *jsonMask) Apply(c *Ctx, v Value) (Value, error) {
	var raw []byte
	switch v.Kind {
	case Object, Array:
		raw = v.Raw
	case String:
		raw = unsafe.Slice(unsafe.StringData(v.S), len(v.S)) // read only
	case Null, Missing:
		return v, nil
	default:
		if m.fallback != nil {
			return c.Run(m.fallback, v)
		}
		return Value{}, errors.New("expected an object, an array or a string holding JSON, got a " + v.Kind.String())
	}
	if len(raw) > m.prog.maxBytes {
		return Value{}, errors.New("the JSON document is larger than limits.max_record_bytes")
	}
	inherit := c.hashInput()
	call := m.prog.getCall(c, raw)
	call.inherit = inherit
	out, err := call.run(nil, raw)
	call.release()
	if err != nil {
		var me *MaskError
		if errors.As(err, &me) {
			switch me.Reason {
			case ReasonNotJSON, ReasonInvalidUTF8, ReasonTooDeep:
				if v.Kind == String && m.fallback != nil {
					return c.Run(m.fallback, v)
				}
				if v.Kind == String {
					return Value{}, errNotJSONString
				}
			}
			if me.Reason == ReasonMissing {
				return Value{}, errors.New(me.Where + " not found; set on_missing: skip on the transform if it may be absent")
			}
			return Value{}, errors.New(me.Msg)
		}
		return Value{}, err
	}
	if v.Kind == String {
		return Value{Kind: String, S: string(out)}, nil
	}
	return Value{Kind: rawKind(out), Raw: out}, nil
}
