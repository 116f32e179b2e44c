package engine

import "strconv"

// Kind is the JSON type of a Value.
type Kind uint8

const (
	// Missing is the absence of a value: a path that found nothing, or a
	// mask's way of saying "remove this member" (drop).
	Missing Kind = iota
	Null
	Bool
	Number
	String
	Object
	Array
)

var kindNames = [...]string{"missing", "null", "boolean", "number", "string", "object", "array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one JSON value handed to a mask and returned by it.
//
// Scalars are decoded: S holds a string's unescaped text, a number's literal
// as written (so 1e3 and 1000 stay what they were), or "true"/"false". Objects
// and arrays are raw JSON in Raw (valid, as the engine validated the record).
type Value struct {
	Kind Kind
	S    string
	Raw  []byte
}

// Str returns a string value.
func Str(s string) Value { return Value{Kind: String, S: s} }

// Num returns a number value from its JSON literal.
func Num(lit string) Value { return Value{Kind: Number, S: lit} }

// Int returns a number value.
func Int(n int64) Value { return Value{Kind: Number, S: strconv.FormatInt(n, 10)} }

// Boolean returns a boolean value.
func Boolean(b bool) Value {
	if b {
		return Value{Kind: Bool, S: "true"}
	}
	return Value{Kind: Bool, S: "false"}
}

// NullValue is JSON null.
var NullValue = Value{Kind: Null}

// Text is the value's scalar text: what hash inputs and string masks see.
// 123 and "123" have the same text; null's is empty; an object's or array's
// is its raw JSON.
func (v Value) Text() string {
	switch v.Kind {
	case Object, Array:
		return string(v.Raw)
	}
	return v.S
}

// IsScalar reports whether v is a string, number or boolean.
func (v Value) IsScalar() bool { return v.Kind == String || v.Kind == Number || v.Kind == Bool }
