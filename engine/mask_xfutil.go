package engine

import (
	"errors"
	"fmt"
)

// Helpers shared by the transform, date and identifier masks.

// errXfNotNumber is returned when a mask that keeps JSON types would turn a
// number into text that is no number.
var errXfNotNumber = errors.New("the result is not a valid JSON number, and this mask keeps a number a number; convert the value with typecast first (typecast_as: string)")

// xfSameKind returns text as a value of orig's kind: a string stays a
// string, a number stays a number (or it is an error).
func xfSameKind(orig Value, text string) (Value, error) {
	if orig.Kind == Number {
		if !isJSONNumber(text) {
			return Value{}, errXfNotNumber
		}
		return Num(text), nil
	}
	return Str(text), nil
}

// xfTextOf returns the text a string mask works on: strings and numbers.
// Other kinds are an error naming the kind, never the value.
func xfTextOf(v Value, what string) (string, error) {
	switch v.Kind {
	case String, Number:
		return v.S, nil
	}
	return "", fmt.Errorf("%s takes a string or a number, got %s", what, v.Kind)
}

// xfSliceBounds resolves Python-style slice indexes over n characters:
// negative indexes count from the end, and both ends are clamped.
func xfSliceBounds(n, start int, end *int) (lo, hi int) {
	norm := func(i int) int {
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	lo, hi = norm(start), n
	if end != nil {
		hi = norm(*end)
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// xfMaxRedraws bounds the re-draws a mask makes when a random output
// happens to equal its input: the Rand stream is deterministic, so the
// retries are too.
const xfMaxRedraws = 32
