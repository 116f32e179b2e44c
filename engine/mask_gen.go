package engine

import "fmt"

// Helpers shared by the generator masks (from_fixed, from_file,
// from_format_string, from_choices, from_random_*, imitate and the unique
// masks).

// genText returns generated text as the JSON type of the value it
// replaces: a number stays a number, so text that is no JSON number is an
// error for a number (it names the mask's parameter to change, never the
// value). Every other kind becomes a string.
func genText(in Value, text, hint string) (Value, error) {
	if in.Kind != Number {
		return Str(text), nil
	}
	if !isJSONNumber(text) {
		return Value{}, fmt.Errorf("the value is a number, and the generated text is not a JSON number; %s, or add a typecast mask (typecast_as: string) before this one", hint)
	}
	return Num(text), nil
}

// genAvoidSpace is the smallest number of outcomes for which a generator
// redraws a result equal to the original. With fewer outcomes, excluding
// the original would tell a reader something about it (with two outcomes,
// everything), so small spaces keep plain uniform draws.
const genAvoidSpace = 100

// genAvoid draws until the result differs from orig, when the mask can
// produce at least genAvoidSpace outcomes and its value is its own hash
// input (Ctx.redraws): a mask that replaces a whole value should not hand
// the original back. A few draws suffice; the bound keeps a pathological
// seed list (every row the same) from spinning.
func genAvoid(c *Ctx, orig string, space float64, draw func() string) string {
	s := draw()
	if !avoids(c, space) {
		return s
	}
	for i := 0; i < 16 && s == orig; i++ {
		s = draw()
	}
	return s
}

// avoids reports whether a generator with space outcomes redraws an
// output equal to the value it replaces (genAvoid).
func avoids(c *Ctx, space float64) bool {
	return space >= genAvoidSpace && c.redraws()
}
