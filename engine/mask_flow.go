package engine

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// The masks that combine or pass values: do_nothing, concat, chain and
// drop.

func init() {
	register("do_nothing", newDoNothing)
	register("concat", newConcat)
	register("chain", newChain)
	register("drop", newDrop)
}

// --- do_nothing ---

type xfNoParams struct{}

type doNothingMask struct{}

func newDoNothing(p *Params) (Mask, error) {
	if err := p.Decode(&xfNoParams{}); err != nil {
		return nil, err
	}
	return doNothingMask{}, nil
}

// Apply returns v: do_nothing marks a value as deliberately left alone
// (and, in an if/else, a branch that changes nothing).
func (doNothingMask) Apply(c *Ctx, v Value) (Value, error) { return v, nil }

// --- concat ---

type concatParams struct {
	// Masks is a list of masks, or DataMasque's mapping of names to
	// masks (see namedPipeline); chain's too.
	Masks *yaml.Node `yaml:"masks" ms:"required"`
	Glue  string     `yaml:"glue"`
}

type concatMask struct {
	parts Pipeline
	glue  string
}

func newConcat(p *Params) (Mask, error) {
	var ps concatParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	pl, err := p.namedPipeline(ps.Masks, "masks", xfPipelineExample)
	if err != nil {
		return nil, err
	}
	return &concatMask{parts: pl, glue: ps.Glue}, nil
}

// Apply gives every mask of the list the original value, not the previous
// mask's output (that is chain), and joins their texts with glue. The
// result is a string.
func (m *concatMask) Apply(c *Ctx, v Value) (Value, error) {
	// The parts write to the arena as they run, so the whole is built
	// apart (on the stack when short) and copied there at the end.
	var tmp [256]byte
	b := tmp[:0]
	for i := range m.parts {
		out, err := c.Run(m.parts[i:i+1], v)
		if err != nil {
			return Value{}, err
		}
		if i > 0 {
			b = append(b, m.glue...)
		}
		switch out.Kind {
		case Missing:
			return Value{}, fmt.Errorf("mask %d (%s) removed the value; a concat part must give text", i+1, m.parts[i].typ)
		case Null:
		case Object, Array:
			b = append(b, out.Raw...)
		default:
			b = append(b, out.S...)
		}
	}
	return Str(c.str(b)), nil
}

// --- chain ---

type chainParams struct {
	Masks *yaml.Node `yaml:"masks" ms:"required"`
}

type chainMask struct{ steps Pipeline }

func newChain(p *Params) (Mask, error) {
	var ps chainParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	pl, err := p.namedPipeline(ps.Masks, "masks", xfPipelineExample)
	if err != nil {
		return nil, err
	}
	return &chainMask{steps: pl}, nil
}

// Apply runs the masks in order, each on the previous one's output: a
// pipeline that can sit where one mask is expected (inside concat, say).
func (m *chainMask) Apply(c *Ctx, v Value) (Value, error) { return c.Run(m.steps, v) }

// --- drop (ours) ---

type dropMask struct{}

func newDrop(p *Params) (Mask, error) {
	if err := p.Decode(&xfNoParams{}); err != nil {
		return nil, err
	}
	return dropMask{}, nil
}

// Apply returns Missing, which makes the engine remove the member (or
// array element) that held the value.
func (dropMask) Apply(c *Ctx, v Value) (Value, error) { return Value{Kind: Missing}, nil }
