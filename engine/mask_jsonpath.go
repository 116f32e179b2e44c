package engine

import (
	"errors"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
)

// from_json_path (DataMasque): replaces a value with a copy of another
// value of the same record, read from the original (unmasked) record.
//
//	masks:
//	  - type: from_json_path
//	    json_path: "$.billing.city"      # or DataMasque's list: [billing, city]
//
// json_path is a JSONPath ("$.a.b", "$.items[0].sku") or DataMasque's
// list form ([a, b], where a YAML integer is an array index), read from the
// record's root. It must name one value: [*], .* and .. are refused, since
// they may find several. The copy keeps its JSON type. on_missing says what
// happens when the path finds nothing: error (the default; the record goes
// to the dead letters) or null.
func init() { register("from_json_path", newFromJSONPath) }

type fromJSONPathParams struct {
	JSONPath  *yaml.Node `yaml:"json_path" ms:"required"`
	OnMissing string     `yaml:"on_missing"`
}

type fromJSONPath struct {
	path       rulesets.Path
	nullIfMiss bool
}

func newFromJSONPath(p *Params) (Mask, error) {
	var prm fromJSONPathParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	path, err := rulesets.PathFromNode(prm.JSONPath, p.Mask.File)
	if err != nil {
		return nil, err
	}
	for _, s := range path.Segments {
		if s.Kind == rulesets.SegDescendant || s.Kind == rulesets.SegWildcard {
			return nil, p.ErrorAt(prm.JSONPath, "json_path must name one value; [*], .* and .. may find several (name an element such as [0])")
		}
	}
	m := fromJSONPath{path: path}
	switch prm.OnMissing {
	case "", rulesets.ActionError:
	case "null":
		m.nullIfMiss = true
	default:
		return nil, p.ErrorAt(p.Param("on_missing"), "on_missing must be error or null")
	}
	return m, nil
}

var errJSONPathMissing = errors.New("from_json_path found nothing at json_path; set on_missing: null to write null instead")

func (m fromJSONPath) Apply(c *Ctx, _ Value) (Value, error) {
	v, ok := c.Lookup(m.path)
	if !ok || v.Kind == Missing {
		if m.nullIfMiss {
			return NullValue, nil
		}
		return Value{}, errJSONPathMissing
	}
	return v, nil
}
