package rulesets

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem found in a ruleset, at its position. Msg says what
// is wrong and how to fix it; it never quotes a record value.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	switch {
	case e.Pos.Line == 0 && e.Pos.File == "":
		return "rulesets: " + e.Msg
	case e.Pos.Line == 0:
		return fmt.Sprintf("%s: %s", e.Pos.File, e.Msg)
	case e.Pos.File == "":
		return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Errorf builds an Error at pos.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// ErrorList is every problem found in one ruleset, in file order. Parse and
// the engine's Compile return one (as error) rather than stopping at the
// first problem.
type ErrorList []*Error

func (l ErrorList) Error() string { return joinLines(l) }

// joinLines is the text of a list of errors: one error a line.
func joinLines[E error](l []E) string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Errors flattens err into its ruleset errors: an ErrorList, a single *Error,
// or anything else wrapped as one position-less Error.
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return []*Error{{Msg: err.Error()}}
}
