package rulesets

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DecodeParams decodes the YAML mapping node into the struct v points to,
// strictly, and reports every problem at once as an ErrorList whose errors
// carry the file and the line:col of the offending key or value.
//
// Fields are named by their `yaml:"name"` tag (the lowercased field name
// without one; "-" skips a field; ",inline" and untagged embedded structs
// share the outer mapping). A key that matches no field is an error listing
// the keys there are, with a "did you mean" when one is close. A field
// tagged `ms:"required"` must be present. Keys listed in skip are ignored
// (the engine passes "type", which the mask list already read).
//
// Supported field types: string, bool, every int and uint kind,
// time.Duration (as "1m30s"), float32/float64, pointers (nil when the key is
// absent or null, to tell absent from zero), slices, map[string]T, nested
// structs (decoded just as strictly), yaml.Node and *yaml.Node (the raw
// node, for nested mask lists), Scalar, any, and types implementing
// yaml.Unmarshaler or encoding.TextUnmarshaler. A string field takes any
// scalar but null or a boolean, so `seed_column: 2020` is the text "2020".
func DecodeParams(node *yaml.Node, file string, v any, skip ...string) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("rulesets: DecodeParams needs a non-nil pointer to a struct, got %T", v)
	}
	d := &decoder{file: file, skip: skip}
	n, errs := expandTree(file, node)
	if len(errs) > 0 {
		return errs
	}
	n = resolveAlias(n)
	if n != nil && n.Kind == yaml.MappingNode && slices.Contains(skip, "type") {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "type" && n.Content[i+1].Kind == yaml.ScalarNode {
				d.prefix = "mask " + n.Content[i+1].Value + ": "
			}
		}
	}
	switch {
	case n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag:
		// An absent mapping has no keys: only required fields can be
		// wrong.
		d.structFields(rv.Elem(), nil, node, "")
	case n.Kind != yaml.MappingNode:
		d.errorf(n, "expected a mapping of keys, got %s", describe(n))
	default:
		d.structFields(rv.Elem(), n, n, "")
	}
	sortErrors(d.errs)
	return d.errs.Err()
}

type decoder struct {
	file   string
	skip   []string
	prefix string
	errs   ErrorList
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, Errorf(nodePos(d.file, n), "%s%s", d.prefix, fmt.Sprintf(format, args...)))
}

// fieldInfo is one settable field of a struct and its YAML key.
type fieldInfo struct {
	key      string
	index    []int
	required bool
}

// fieldsOf lists the fields of struct type t by YAML key, following inline
// and embedded structs.
func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, hasTag := f.Tag.Lookup("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			idx := append(slices.Clone(prefix), i)
			inline := strings.Contains(","+opts+",", ",inline,") || f.Anonymous && !hasTag
			if inline && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			req := slices.Contains(strings.Split(f.Tag.Get("ms"), ","), "required")
			out = append(out, fieldInfo{key: name, index: idx, required: req})
		}
	}
	walk(t, nil)
	return out
}

// structFields decodes mapping n into struct value sv. at is where a
// missing required key is reported (the mapping, or its parent when the
// mapping is absent); path names the mapping in messages ("" at the top).
func (d *decoder) structFields(sv reflect.Value, n, at *yaml.Node, path string) {
	fields := fieldsOf(sv.Type())
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	present := map[string]bool{}
	if n != nil {
		for _, p := range pairs(d.file, n, &d.errs) {
			if path == "" && slices.Contains(d.skip, p.key.Value) {
				continue
			}
			i := slices.Index(keys, p.key.Value)
			if i < 0 {
				d.errs = append(d.errs, unknownKeyPrefixed(d, p.key, path, keys))
				continue
			}
			present[p.key.Value] = true
			d.value(sv.FieldByIndex(fields[i].index), p.val, qualify(path, p.key.Value))
		}
	}
	for _, f := range fields {
		if f.required && !present[f.key] {
			where := ""
			if path != "" {
				where = " in " + path
			}
			d.errorf(at, "missing required key %q%s; add %s: ...", f.key, where, f.key)
		}
	}
}

func qualify(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func unknownKeyPrefixed(d *decoder, k *yaml.Node, path string, keys []string) *Error {
	e := unknownKey(d.file, k, path, keys)
	e.Msg = d.prefix + e.Msg
	return e
}

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	nodePtrType     = reflect.TypeFor[*yaml.Node]()
	scalarType      = reflect.TypeFor[Scalar]()
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	emptyIfaceType  = reflect.TypeFor[any]()
)

// value decodes n into v. key names the value in messages.
func (d *decoder) value(v reflect.Value, n *yaml.Node, key string) {
	t := v.Type()
	switch t {
	case nodeType:
		v.Set(reflect.ValueOf(*n))
		return
	case nodePtrType:
		v.Set(reflect.ValueOf(n))
		return
	case scalarType:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "%s takes a single value, got %s", key, describe(n))
			return
		}
		v.Set(reflect.ValueOf(scalarOf(n)))
		return
	case durationType:
		d.duration(v, n, key)
		return
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && v.CanAddr() {
		pt := reflect.PointerTo(t)
		if pt.Implements(unmarshalerType) {
			if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
				d.foreign(n, key, err)
			}
			return
		}
		if pt.Implements(textUnmarshaler) && n.Kind == yaml.ScalarNode && n.ShortTag() != nullTag {
			if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
				d.foreign(n, key, err)
			}
			return
		}
	}
	null := n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag
	switch t.Kind() {
	case reflect.Pointer:
		if null {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.value(p.Elem(), n, key)
		v.Set(p)
	case reflect.Interface:
		if t != emptyIfaceType {
			d.errorf(n, "%s: cannot decode into %s", key, t)
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.foreign(n, key, err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "%s takes a mapping of keys, got %s", key, describe(n))
			return
		}
		d.structFields(v, n, n, key)
	case reflect.Slice:
		if null {
			v.SetZero()
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "%s takes a list, got %s; write %s: [ ... ]", key, describe(n), key)
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, e := range n.Content {
			d.value(s.Index(i), e, fmt.Sprintf("%s[%d]", key, i))
		}
		v.Set(s)
	case reflect.Map:
		if null {
			v.SetZero()
			return
		}
		if t.Key().Kind() != reflect.String {
			d.errorf(n, "%s: cannot decode into %s (map keys must be strings)", key, t)
			return
		}
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "%s takes a mapping, got %s", key, describe(n))
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		for _, p := range pairs(d.file, n, &d.errs) {
			ev := reflect.New(t.Elem()).Elem()
			d.value(ev, p.val, key+"."+p.key.Value)
			m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(t.Key()), ev)
		}
		v.Set(m)
	default:
		d.scalar(v, n, key)
	}
}

// scalar decodes a string, bool or number.
func (d *decoder) scalar(v reflect.Value, n *yaml.Node, key string) {
	t := v.Type()
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s takes %s, got %s", key, kindName(t), describe(n))
		return
	}
	tag := n.ShortTag()
	if tag == nullTag {
		d.errorf(n, "%s takes %s, got null; give a value or leave the key out", key, kindName(t))
		return
	}
	switch t.Kind() {
	case reflect.String:
		if tag == boolTag {
			d.errorf(n, "%s takes a string, got a boolean; quote it (%s: \"%s\") if you mean the text", key, key, n.Value)
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if tag != boolTag {
			d.errorf(n, "%s takes true or false, got %s", key, describe(n))
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, "%s takes true or false, got %s", key, describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != intTag || n.Decode(&i) != nil {
			d.errorf(n, "%s takes a whole number, got %s", key, describe(n))
			return
		}
		if v.OverflowInt(i) {
			d.errorf(n, "%s: %s is out of range for a %d-bit number", key, n.Value, t.Bits())
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var u uint64
		if tag != intTag {
			d.errorf(n, "%s takes a whole number, got %s", key, describe(n))
			return
		}
		if strings.HasPrefix(strings.TrimSpace(n.Value), "-") {
			d.errorf(n, "%s must not be negative", key)
			return
		}
		if n.Decode(&u) != nil || v.OverflowUint(u) {
			d.errorf(n, "%s: %s is out of range for an unsigned %d-bit number", key, n.Value, t.Bits())
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		var f float64
		if tag != intTag && tag != floatTag || n.Decode(&f) != nil {
			d.errorf(n, "%s takes a number, got %s", key, describe(n))
			return
		}
		if t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
			d.errorf(n, "%s: %s is out of range for a 32-bit float", key, n.Value)
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, "%s: cannot decode into %s", key, t)
	}
}

func (d *decoder) duration(v reflect.Value, n *yaml.Node, key string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != strTag {
		d.errorf(n, "%s takes a duration such as \"90s\" or \"1h30m\", got %s", key, describe(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, "%s takes a duration such as \"90s\" or \"1h30m\" (units ns, us, ms, s, m, h)", key)
		return
	}
	v.SetInt(int64(dur))
}

// foreign records an error from a custom unmarshaler: positioned errors
// are kept as they are, others get the value's position.
func (d *decoder) foreign(n *yaml.Node, key string, err error) {
	var l ErrorList
	var e *Error
	if errors.As(err, &l) || errors.As(err, &e) {
		d.errs = append(d.errs, Errors(err)...)
		return
	}
	d.errorf(n, "%s: %s", key, strings.TrimPrefix(err.Error(), "yaml: "))
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a whole number"
}

// scalarOf converts a scalar node. A YAML timestamp (2020-01-01 unquoted)
// becomes a string: JSON has no dates, so in a message a date is text, and
// the value must compare equal to it.
func scalarOf(n *yaml.Node) Scalar {
	tag := n.ShortTag()
	switch tag {
	case nullTag:
		return Scalar{Null: true, Tag: nullTag}
	case timestampTag:
		tag = strTag
	}
	return Scalar{Text: n.Value, Tag: tag}
}

// sortErrors puts errors in file order, keeping the order of errors at the
// same place.
func sortErrors(l ErrorList) {
	slices.SortStableFunc(l, func(a, b *Error) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
}
