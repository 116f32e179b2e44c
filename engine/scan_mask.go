package engine

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/maskstream/maskstream/rulesets"
)

// scanner is one masking scan over one document. It validates the whole
// document as it goes and copies it to out lazily: bytes are appended only
// when a value is replaced (everything since the last replacement, in one
// copy, then the new value), so unselected spans pass through byte for
// byte, key order, spacing and escapes kept.
type scanner struct {
	lexer
	c    *call
	out  []byte
	last int // src is copied to out up to here
	// lo and hi bound the rules this scan applies (a sub-scan of a
	// matched container applies only the rules on one side of the rule
	// that matched it).
	lo, hi int
	// orig: src is the call's original document, so value offsets can
	// anchor hash source lookups.
	orig bool
	// noAccept: the root's own rules were applied by the parent scan.
	noAccept bool
}

func (s *scanner) flushTo(i int) {
	s.out = append(s.out, s.src[s.last:i]...)
	s.last = i
}

// document scans the whole of src from the automaton's root.
func (s *scanner) document(root *mnode) error {
	s.ws()
	start := s.i
	dropped, err := s.value(root)
	if err != nil {
		return err
	}
	if dropped { // a dropped root becomes null: there is no member to remove
		s.flushTo(start)
		s.out = append(s.out, "null"...)
		s.last = s.i
	}
	s.ws()
	if s.i != len(s.src) {
		return s.notJSON("unexpected data after the JSON value")
	}
	s.out = append(s.out, s.src[s.last:]...)
	s.last = len(s.src)
	return nil
}

// value scans the value at s.i reached through node n. dropped reports
// that a mask removed it (the caller removes its member or element).
func (s *scanner) value(n *mnode) (dropped bool, err error) {
	if s.i >= len(s.src) {
		return false, s.unexpected("a JSON value")
	}
	if n != nil && len(n.accept) > 0 && !s.noAccept && s.selects(n) {
		return s.masked(n)
	}
	s.noAccept = false
	if n == nil && !s.c.p.redact {
		return false, s.skip()
	}
	switch s.src[s.i] {
	case '{':
		return false, s.object(n)
	case '[':
		return false, s.array(n)
	}
	return false, s.skip()
}

// selects reports whether a rule of n applies in this scan.
func (s *scanner) selects(n *mnode) bool {
	for _, r := range n.accept {
		if int(r) >= s.lo && int(r) < s.hi && s.c.active[r] {
			return true
		}
	}
	return false
}

// items tracks, over the members of an object or the elements of an
// array, what dropping one must cut from the output.
type items struct {
	kept      bool // an earlier item stays
	dropFirst bool // every item so far was dropped
	comma     int  // offset of the last ',' passed
}

// settle records how the item that started at start ended: kept, or
// dropped by a mask and cut from the output with the ',' before it (or,
// for a first item, the ',' after it: see passComma). items goes by value,
// so once inlined it lives in registers.
func (s *scanner) settle(it items, start int, dropped bool) items {
	switch {
	case !dropped:
		it.kept = true
	case it.kept:
		s.flushTo(it.comma)
		s.last = s.i
	default:
		s.flushTo(start)
		it.dropFirst = true
		s.last = s.i
	}
	return it
}

// passComma records the ',' at comma that next passed over.
func (s *scanner) passComma(it items, comma int) items {
	it.comma = comma
	if it.dropFirst && !it.kept {
		s.last = comma + 1
	}
	return it
}

func (s *scanner) object(n *mnode) error {
	if empty, ok := s.open('}'); !ok {
		return s.tooDeep()
	} else if empty {
		return nil
	}
	c := s.c
	var it items
	for {
		if s.i >= len(s.src) || s.src[s.i] != '"' {
			return s.unexpected("a member name in double quotes")
		}
		ks := s.i
		esc, err := s.str()
		if err != nil {
			return err
		}
		key := s.src[ks+1 : s.i-1]
		s.ws()
		if s.i >= len(s.src) || s.src[s.i] != ':' {
			return s.unexpected("':' after a member name")
		}
		s.i++
		s.ws()
		name := key
		if esc {
			c.scratch = unescape(c.scratch[:0], key)
			name = c.scratch
		}
		var child *mnode
		if n != nil {
			child = n.child(name)
		}
		c.path = append(c.path, pstep{key: key, esc: esc, idx: -1, start: s.i})
		dropped := false
		if c.p.redact && isSecretKey(name) && (child == nil || len(child.accept) == 0 || !s.selects(child)) {
			vs := s.i
			if err := s.skip(); err != nil {
				return err
			}
			s.flushTo(vs)
			s.out = append(s.out, redactedJSON...)
			s.last = s.i
		} else if dropped, err = s.value(child); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		it = s.settle(it, ks, dropped)
		s.ws()
		comma := s.i
		if more, ok := s.next('}'); !ok {
			return s.expectedAfter('}')
		} else if !more {
			return nil
		}
		it = s.passComma(it, comma)
	}
}

func (s *scanner) array(n *mnode) error {
	if empty, ok := s.open(']'); !ok {
		return s.tooDeep()
	} else if empty {
		return nil
	}
	c := s.c
	size := 0
	if n != nil && len(n.neg) > 0 {
		var err error
		if size, err = s.countElements(); err != nil {
			return err
		}
	}
	var it items
	for idx := 0; ; idx++ {
		es := s.i
		var child *mnode
		if n != nil {
			child = n.element(idx, size)
		}
		c.path = append(c.path, pstep{idx: idx, start: s.i})
		dropped, err := s.value(child)
		if err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		it = s.settle(it, es, dropped)
		s.ws()
		comma := s.i
		if more, ok := s.next(']'); !ok {
			return s.expectedAfter(']')
		} else if !more {
			return nil
		}
		it = s.passComma(it, comma)
	}
}

// masked applies the rules of n to the value at s.i and writes the result.
func (s *scanner) masked(n *mnode) (bool, error) {
	start := s.i
	if c := s.src[start]; c == '{' || c == '[' {
		return s.container(n, start)
	}
	var v Value
	if s.src[start] == '"' {
		esc, err := s.str()
		if err != nil {
			return false, err
		}
		v = s.c.decodeString(s.src[start+1:s.i-1], esc)
	} else {
		if err := s.skip(); err != nil {
			return false, err
		}
		v = s.c.decode(s.src, start, s.i)
	}
	changed := false
	for k, r := range n.accept {
		if int(r) < s.lo || int(r) >= s.hi || !s.c.active[r] {
			continue
		}
		s.c.found[r]++
		nv, did, err := s.apply(int(r), n.acceptPath[k], v)
		if err != nil {
			return false, err
		}
		if did {
			v, changed = nv, true
		}
		if v.Kind == Missing {
			return true, nil
		}
		if v.Kind == Object || v.Kind == Array {
			// A later rule of this node may reach into what a mask
			// made of a scalar: finish as a container.
			return s.containerFrom(n, start, v, int(r)+1)
		}
	}
	if !changed {
		return false, nil
	}
	return false, s.write(start, v)
}

// write replaces src[start:s.i] with v.
func (s *scanner) write(start int, v Value) error {
	s.flushTo(start)
	var err error
	s.out, err = s.appendValue(s.out, v)
	s.last = s.i
	return err
}

// container handles a matched object or array. Rules apply in order: the
// rules before each matching rule that reach inside the container run
// first (a sub-scan limited to them), then that rule masks the whole, and
// so on; the rules after the last one, and redact_secrets, then run over
// the result.
func (s *scanner) container(n *mnode, start int) (bool, error) {
	if err := s.skip(); err != nil {
		return false, err
	}
	kind := Object
	if s.src[start] == '[' {
		kind = Array
	}
	return s.containerFrom(n, start, Value{Kind: kind, Raw: s.src[start:s.i]}, s.lo)
}

func (s *scanner) containerFrom(n *mnode, start int, cur Value, prev int) (bool, error) {
	c := s.c
	for k, r := range n.accept {
		if int(r) < prev || int(r) >= s.hi || !c.active[r] {
			continue
		}
		c.found[r]++
		if isContainer(cur) && n.hasBelow(prev, int(r)) {
			out, err := s.sub(n, cur.Raw, prev, int(r))
			if err != nil {
				return false, err
			}
			cur.Raw = out
		}
		nv, did, err := s.apply(int(r), n.acceptPath[k], cur)
		if err != nil {
			return false, err
		}
		if did {
			cur = nv
		}
		prev = int(r) + 1
		if cur.Kind == Missing {
			return true, nil
		}
	}
	if isContainer(cur) && (c.p.redact || n.hasBelow(prev, s.hi)) {
		out, err := s.sub(n, cur.Raw, prev, s.hi)
		if err != nil {
			return false, err
		}
		cur.Raw = out
	}
	return false, s.write(start, cur)
}

func isContainer(v Value) bool { return v.Kind == Object || v.Kind == Array }

// sub masks doc (a container reached through n) with the rules in [lo, hi)
// that match beneath n, plus redact_secrets, into a new buffer.
func (s *scanner) sub(n *mnode, doc []byte, lo, hi int) ([]byte, error) {
	t := scanner{c: s.c, lo: lo, hi: hi, noAccept: true}
	t.src = doc
	t.maxDepth = s.maxDepth
	t.depth = s.depth
	t.out = make([]byte, 0, len(doc)+16)
	if err := t.document(n); err != nil {
		return nil, err
	}
	return t.out, nil
}

// apply runs rule r on v. did is false when the rule leaves v alone (a
// skip_defaults value, or null with on_null: skip).
func (s *scanner) apply(r int, pathIdx int32, v Value) (Value, bool, error) {
	c := s.c
	p := c.p
	rule := &p.rules[r]
	if v.Kind == Null {
		switch rule.onNull {
		case rulesets.ActionNull:
		case onNullError:
			return v, false, &MaskError{Reason: ReasonMask, Where: s.where(), Msg: "the value is null and on_null is error"}
		default:
			return v, false, nil
		}
	}
	if p.isDefault(v) {
		return v, false, nil
	}
	ctx := c.ctx
	saveHash, saveDoc := ctx.hash, ctx.doc
	ctx.hash = s.hashInput(r, pathIdx)
	ctx.doc = c.doc
	out, err := ctx.Run(rule.pipe, v)
	ctx.hash, ctx.doc = saveHash, saveDoc
	if err != nil {
		return v, false, &MaskError{Reason: ReasonMask, Where: s.where(), Msg: "rule " + rule.name + ": " + err.Error()}
	}
	if isContainer(out) {
		if err := validJSON(out.Raw, p.maxDepth); err != nil {
			return v, false, &MaskError{Reason: ReasonMask, Where: s.where(), Msg: "rule " + rule.name + ": a mask returned an " + out.Kind.String() + " that is not valid JSON"}
		}
		if rawKind(out.Raw) != out.Kind {
			return v, false, &MaskError{Reason: ReasonMask, Where: s.where(), Msg: "rule " + rule.name + ": a mask returned an " + out.Kind.String() + " whose JSON is of another type"}
		}
	}
	c.masked[r]++
	return out, true, nil
}

// rawKind is the kind of a valid JSON text's root.
func rawKind(raw []byte) Kind {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return Object
		case '[':
			return Array
		case '"':
			return String
		case 't', 'f':
			return Bool
		case 'n':
			return Null
		}
		return Number
	}
	return Missing
}

// appendValue writes a mask's result as JSON.
func (s *scanner) appendValue(dst []byte, v Value) ([]byte, error) {
	switch v.Kind {
	case String:
		return AppendJSONString(dst, v.S, false), nil
	case Number:
		if !isJSONNumber(v.S) {
			return dst, &MaskError{Reason: ReasonMask, Where: s.where(), Msg: "a mask returned a number that is not a valid JSON number"}
		}
		return append(dst, v.S...), nil
	case Bool:
		if v.S != "true" && v.S != "false" {
			return dst, &MaskError{Reason: ReasonMask, Where: s.where(), Msg: "a mask returned a boolean other than true or false"}
		}
		return append(dst, v.S...), nil
	case Null:
		return append(dst, "null"...), nil
	case Object, Array:
		return append(dst, trimSpace(v.Raw)...), nil
	}
	return append(dst, "null"...), nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace[b[0]] {
		b = b[1:]
	}
	for len(b) > 0 && isSpace[b[len(b)-1]] {
		b = b[:len(b)-1]
	}
	return b
}

// decode returns the value src[start:end] (validated) as a mask sees it.
// Strings without escapes are views of src; escaped ones are decoded into
// the call's arena.
func (c *call) decode(src []byte, start, end int) Value {
	switch src[start] {
	case '"':
		body := src[start+1 : end-1]
		return c.decodeString(body, bytes.IndexByte(body, '\\') >= 0)
	case 't':
		return Value{Kind: Bool, S: "true"}
	case 'f':
		return Value{Kind: Bool, S: "false"}
	case 'n':
		return NullValue
	case '{':
		return Value{Kind: Object, Raw: src[start:end]}
	case '[':
		return Value{Kind: Array, Raw: src[start:end]}
	}
	return Value{Kind: Number, S: bytesString(src[start:end])}
}

// decodeString returns a validated string body as a Value: a view of the
// source, or its decoded text in the arena when it holds escapes.
func (c *call) decodeString(body []byte, esc bool) Value {
	if !esc {
		return Value{Kind: String, S: bytesString(body)}
	}
	n := len(c.arena)
	c.arena = unescape(c.arena, body)
	return Value{Kind: String, S: bytesString(c.arena[n:len(c.arena):len(c.arena)])}
}

// where is the concrete JSON path of the value being scanned, for errors.
func (s *scanner) where() string {
	return formatSteps(s.c.path)
}

func formatSteps(steps []pstep) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, st := range steps {
		if st.key == nil {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.idx))
			b.WriteByte(']')
			continue
		}
		k := st.key
		if st.esc {
			k = unescape(nil, k)
		}
		if isPlainName(k) {
			b.WriteByte('.')
			b.Write(k)
		} else {
			b.WriteString("['")
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(string(k), `\`, `\\`), "'", `\'`))
			b.WriteString("']")
		}
	}
	return b.String()
}

func isPlainName(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c == '-' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
