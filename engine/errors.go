package engine

import (
	"errors"
	"fmt"
)

// Reason classifies why a record could not be masked. It is the
// dead_letters_total{reason} label and the maskstream-error header's prefix,
// so the set is small and fixed.
type Reason string

const (
	ReasonNotJSON     Reason = "not_json"     // the value does not parse as JSON
	ReasonInvalidUTF8 Reason = "invalid_utf8" // a string holds bytes that are not UTF-8
	ReasonTooDeep     Reason = "too_deep"     // nesting deeper than Options.MaxDepth
	ReasonTooLarge    Reason = "too_large"    // the value is longer than Options.MaxBytes
	ReasonMissing     Reason = "missing"      // a rule with on_missing: error found nothing
	ReasonMask        Reason = "mask_error"   // a mask could not take the value it was given
)

// ErrNotMasked is what every masking error wraps: errors.Is(err,
// ErrNotMasked) tells a record that must go to the dead letters from any
// other failure.
var ErrNotMasked = errors.New("record not masked")

// MaskError is the error Mask returns for a record it cannot mask. Its text
// names the reason, the place (a path or a byte offset) and the problem, but
// never a value of the record.
type MaskError struct {
	Reason Reason
	// Where is the JSON path of the failing value, or "offset N" for a
	// parse error, or "key"/"header NAME".
	Where string
	// Msg says what was wrong, without record values.
	Msg string
}

func (e *MaskError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("engine: %s: %s", e.Reason, e.Msg)
	}
	return fmt.Sprintf("engine: %s at %s: %s", e.Reason, e.Where, e.Msg)
}

// Unwrap makes every MaskError match ErrNotMasked.
func (e *MaskError) Unwrap() error { return ErrNotMasked }

// ReasonOf returns the reason of a masking error, or ReasonMask for any
// other error.
func ReasonOf(err error) Reason {
	var me *MaskError
	if errors.As(err, &me) {
		return me.Reason
	}
	return ReasonMask
}
