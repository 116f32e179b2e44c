package engine

import (
	"bytes"
	"errors"
	"unsafe"

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
	if n == nil {
		if s.c.p.redact {
			return false, s.plain()
		}
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

// plain passes over a value no rule reaches, validating it and, under
// redact_secrets, replacing the values of members named like credentials.
// Without rules there is no path to keep and nothing is dropped, so it
// costs little more than skip.
func (s *scanner) plain() error {
	switch s.src[s.i] {
	case '{':
		return s.plainObject()
	case '[':
		if empty, ok := s.open(']'); !ok {
			return s.tooDeep()
		} else if empty {
			return nil
		}
		for {
			if err := s.plainValue(); err != nil {
				return err
			}
			if more, ok := s.next(']'); !ok {
				return s.expectedAfter(']')
			} else if !more {
				return nil
			}
		}
	}
	return s.skip()
}

// plainValue is plain with its most common case, a short string, inlined.
func (s *scanner) plainValue() error {
	if s.i < len(s.src) && s.src[s.i] == '"' {
		if k := shortStr(s.src, s.i+1); k != 0 {
			s.i = k + 1
			return nil
		}
		_, err := s.str()
		return err
	}
	if s.i >= len(s.src) {
		return s.unexpected("a JSON value")
	}
	return s.plain()
}

func (s *scanner) plainObject() error {
	if empty, ok := s.open('}'); !ok {
		return s.tooDeep()
	} else if empty {
		return nil
	}
	src := s.src
	for {
		ks := s.i
		if ks >= len(src) || src[ks] != '"' {
			return s.unexpected("a member name in double quotes")
		}
		var esc bool
		ke := shortStr(src, ks+1)
		if ke == 0 {
			var err error
			if esc, err = s.str(); err != nil {
				return err
			}
			ke = s.i - 1
		}
		s.i = ke + 1
		s.ws()
		if s.i >= len(src) || src[s.i] != ':' {
			return s.unexpected("':' after a member name")
		}
		s.i++
		s.ws()
		name := src[ks+1 : ke]
		if esc {
			s.c.scratch = unescape(s.c.scratch[:0], name)
			name = s.c.scratch
		}
		if isSecretKey(name) {
			start := s.i
			if err := s.skip(); err != nil {
				return err
			}
			s.flushTo(start)
			s.out = append(s.out, redactedJSON...)
			s.last = s.i
		} else if err := s.plainValue(); err != nil {
			return err
		}
		if more, ok := s.next('}'); !ok {
			return s.expectedAfter('}')
		} else if !more {
			return nil
		}
	}
}

// capture reads, in passing, the hash sources that end at node n, the
// member at s.i: the value a lookup from the root would find, since the
// scan has read everything before it (else c.noCapture) and a source is
// kept only the first time. A node the automaton shares with other paths
// is checked against the concrete path.
func (s *scanner) capture(n *mnode) {
	c := s.c
	for _, id := range n.capture {
		segs := c.p.srcPaths[id]
		if c.srcState[id] != 0 || len(segs) != len(c.path) {
			continue
		}
		same := true
		for i := range segs {
			st := &c.path[i]
			if st.esc {
				// Compared only unescaped: let lookups find it.
				c.noCapture = true
				return
			}
			if st.idx >= 0 || string(st.key()) != segs[i].Key {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		l := s.lexer
		start := l.i
		if l.skip() != nil {
			return // the scan reports it
		}
		c.srcVal[id], c.srcState[id] = c.decode(c.doc, start, l.i), 1
	}
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
	// The member loop works on locals (src, i) and hands s.i over only
	// around calls: compact JSON costs a few compares per member.
	src := s.src
	// One path step serves every member: it is rewritten in place (no
	// pointer stored per member) and dropped when the object ends.
	d := len(c.path)
	c.path = append(c.path, pstep{src: src, idx: -1})
	redact := c.p.redact
	var it items
	var err error
	for {
		ks := s.i
		if ks >= len(src) || src[ks] != '"' {
			return s.unexpected("a member name in double quotes")
		}
		var esc bool
		ke := shortStr(src, ks+1)
		if ke == 0 {
			if esc, err = s.str(); err != nil {
				return err
			}
			ke = s.i - 1
		}
		i := ke + 1
		for i < len(src) && isSpace[src[i]] {
			i++
		}
		if i >= len(src) || src[i] != ':' {
			s.i = i
			return s.unexpected("':' after a member name")
		}
		i++
		for i < len(src) && isSpace[src[i]] {
			i++
		}
		s.i = i
		name := src[ks+1 : ke]
		if esc {
			c.scratch = unescape(c.scratch[:0], name)
			name = c.scratch
		}
		// secret: 1 a credential's name, 0 not, -1 not known yet (a
		// name the rules mention was tested when they compiled).
		var child *mnode
		secret := int8(-1)
		if n != nil {
			if j := n.index(name); j >= 0 {
				child, secret = n.kids[j], 0
				if n.secret[j] {
					secret = 1
				}
			} else {
				child = n.other
			}
		}
		if redact && secret < 0 && isSecretKey(name) {
			secret = 1
		}
		st := &c.path[d]
		st.ks, st.ke, st.esc, st.start = ks+1, ke, esc, i
		if child != nil && child.capture != nil && s.orig && !c.noCapture {
			s.capture(child)
		}
		dropped := false
		switch {
		case redact && secret == 1 && (child == nil || len(child.accept) == 0 || !s.selects(child)):
			if child != nil && s.orig {
				c.noCapture = true
			}
			if err := s.skip(); err != nil {
				return err
			}
			s.flushTo(i)
			s.out = append(s.out, redactedJSON...)
			s.last = s.i
		case (child == nil || len(child.accept) == 0) && i < len(src) && src[i] == '"':
			// A string no rule masks: most members, passed over
			// without value's dispatch.
			if k := shortStr(src, i+1); k != 0 {
				s.i = k + 1
			} else if _, err := s.str(); err != nil {
				return err
			}
		default:
			if dropped, err = s.value(child); err != nil {
				return err
			}
		}
		it = s.settle(it, ks, dropped)
		i = s.i
		for i < len(src) && isSpace[src[i]] {
			i++
		}
		if i < len(src) && src[i] == ',' {
			comma := i
			i++
			for i < len(src) && isSpace[src[i]] {
				i++
			}
			s.i = i
			it = s.passComma(it, comma)
			continue
		}
		s.i = i
		if i < len(src) && src[i] == '}' {
			s.i++
			s.depth--
			c.path = c.path[:d]
			return nil
		}
		return s.expectedAfter('}')
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
	d := len(c.path)
	c.path = append(c.path, pstep{src: s.src})
	var it items
	for idx := 0; ; idx++ {
		es := s.i
		var child *mnode
		if n != nil {
			child = n.element(idx, size)
		}
		st := &c.path[d]
		st.idx, st.start = idx, s.i
		dropped, err := s.value(child)
		if err != nil {
			return err
		}
		it = s.settle(it, es, dropped)
		s.ws()
		comma := s.i
		if s.i < len(s.src) && s.src[s.i] == ',' {
			s.i++
			s.ws()
			it = s.passComma(it, comma)
			continue
		}
		if s.i < len(s.src) && s.src[s.i] == ']' {
			s.i++
			s.depth--
			c.path = c.path[:d]
			return nil
		}
		return s.expectedAfter(']')
	}
}

// masked applies the rules of n to the value at s.i and writes the result.
func (s *scanner) masked(n *mnode) (bool, error) {
	start := s.i
	var v Value
	switch s.src[start] {
	case '{', '[':
		return s.container(n, start)
	case '"':
		esc, err := s.str()
		if err != nil {
			return false, err
		}
		v = s.c.decodeString(s.src[start+1:s.i-1], esc)
	default:
		if err := s.skip(); err != nil {
			return false, err
		}
		v = s.c.decode(s.src, start, s.i)
	}
	in := v
	// last is the path of the last rule that changed v (-1: none), for
	// the place of an error in writing it.
	last := int32(-1)
	for k, r := range n.accept {
		if int(r) < s.lo || int(r) >= s.hi || !s.c.active[r] {
			continue
		}
		s.c.found[r]++
		did, err := s.apply(int(r), n.acceptPath[k], &v)
		if err != nil {
			return false, err
		}
		if did {
			last = n.acceptPath[k]
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
	if last < 0 || sameSpan(v, in, s.src[start:s.i]) {
		return false, nil
	}
	return false, s.write(start, v, last)
}

// sameSpan reports whether writing v, a mask's result, would give back
// span, the source of in, byte for byte: v is in itself (the masks left
// the value alone) and in is a view of span. An escaped string is decoded
// into the arena, no view, so it is always written out again.
func sameSpan(v, in Value, span []byte) bool {
	if v.Kind != in.Kind || len(v.S) != len(in.S) || len(v.S) == 0 {
		return false
	}
	if unsafe.StringData(v.S) != unsafe.StringData(in.S) {
		return false
	}
	if in.Kind == String {
		return len(span) == len(in.S)+2 && unsafe.StringData(in.S) == &span[1]
	}
	return len(span) == len(in.S) && unsafe.StringData(in.S) == &span[0]
}

// write replaces src[start:s.i] with v, which rules reached through path
// pathIdx (the place an error names).
func (s *scanner) write(start int, v Value, pathIdx int32) error {
	s.flushTo(start)
	var err error
	if s.out, err = appendValue(s.out, v); err != nil {
		return &MaskError{Reason: ReasonMask, Where: s.where(pathIdx), Msg: err.Error()}
	}
	s.last = s.i
	return nil
}

// container handles a matched object or array. Rules apply in order: the
// rules before each matching rule that reach inside the container run
// first (a sub-scan limited to them), then that rule masks the whole, and
// so on; the rules after the last one, and redact_secrets, then run over
// the result.
func (s *scanner) container(n *mnode, start int) (bool, error) {
	if s.orig {
		s.c.noCapture = true
	}
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
	last := int32(-1) // the path of the last rule applied, as in masked
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
		if _, err := s.apply(int(r), n.acceptPath[k], &cur); err != nil {
			return false, err
		}
		last = n.acceptPath[k]
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
	return false, s.write(start, cur, last)
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

// apply runs rule r on *v, replacing it with the result. did is false
// when the rule leaves v alone (a skip_defaults value, or null with
// on_null: skip).
func (s *scanner) apply(r int, pathIdx int32, v *Value) (did bool, err error) {
	c := s.c
	p := c.p
	rule := &p.rules[r]
	if v.Kind == Null {
		switch rule.onNull {
		case rulesets.ActionNull:
		case onNullError:
			return false, &MaskError{Reason: ReasonMask, Where: s.where(pathIdx), Msg: "the value is null and on_null is error"}
		default:
			return false, nil
		}
	}
	if p.isDefault(v) {
		return false, nil
	}
	ctx := c.ctx
	// The call's own Ctx runs no mask but this rule's: nothing of it to
	// save. Another (a json mask's, shared with the rule holding it) is
	// put back as that rule's masks left it.
	own := ctx == &c.own
	var saved hashState
	if !own {
		saved = ctx.hashState()
	}
	// The hash input is computed when a mask first asks for it, if ever
	// (Ctx.hashInput).
	ctx.hash, ctx.owe, ctx.oweRule, ctx.owePath, ctx.oweOrig = nil, c, int32(r), pathIdx, s.orig
	ctx.doc = c.doc
	out := *v
	if own {
		err = ctx.runTop(rule.pipe, &out)
	} else {
		out, err = ctx.Run(rule.pipe, *v)
		ctx.setHashState(saved)
	}
	if err != nil {
		return false, &MaskError{Reason: ReasonMask, Where: s.where(pathIdx), Msg: "rule " + rule.name + ": " + err.Error()}
	}
	if isContainer(out) {
		if err := validJSON(out.Raw, p.maxDepth); err != nil {
			return false, &MaskError{Reason: ReasonMask, Where: s.where(pathIdx), Msg: "rule " + rule.name + ": a mask returned an " + out.Kind.String() + " that is not valid JSON"}
		}
		if rawKind(out.Raw) != out.Kind {
			return false, &MaskError{Reason: ReasonMask, Where: s.where(pathIdx), Msg: "rule " + rule.name + ": a mask returned an " + out.Kind.String() + " whose JSON is of another type"}
		}
	}
	c.masked[r]++
	*v = out
	return true, nil
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

// The errors of appendValue; write adds the place.
var (
	errBadNumber = errors.New("a mask returned a number that is not a valid JSON number")
	errBadBool   = errors.New("a mask returned a boolean other than true or false")
)

// appendValue writes a mask's result as JSON.
func appendValue(dst []byte, v Value) ([]byte, error) {
	switch v.Kind {
	case String:
		return AppendJSONString(dst, v.S, false), nil
	case Number:
		if !isJSONNumber(v.S) {
			return dst, errBadNumber
		}
		return append(dst, v.S...), nil
	case Bool:
		if v.S != "true" && v.S != "false" {
			return dst, errBadBool
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
