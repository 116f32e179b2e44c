package engine

import (
	"encoding/binary"

	"github.com/maskstream/maskstream/rulesets"
)

// Lookups read the original record for hash sources, conditions and
// from_json_path. They walk the document from the root (or from an
// enclosing element, for a hash source bound to the rule's [*]) and stop at
// the first value found, skipping everything else without decoding it.
//
// They run lazily, when a rule first needs a value, rather than as a first
// pass over the record: a source such as $.customer.customer_id is found
// after a short prefix, each distinct source is read once per record
// (cached by hsource.id), and a source bound to an array element starts
// from that element, so the cost stays linear in the record however long
// the array. Conditions are evaluated once per record, before the scan.

// lookupMaxDepth bounds a lookup's nesting when it has no masker limit at
// hand (Ctx.Lookup): the record was validated against the real limit.
const lookupMaxDepth = 1 << 12

// Lookup returns the first value at p in the original record (the one the
// masks' rules run over; inside a json mask, the JSON document that mask
// masks). ok is false when nothing is there. Strings are decoded; objects
// and arrays come as raw JSON.
func (c *Ctx) Lookup(p rulesets.Path) (Value, bool) {
	l := lexer{src: c.doc, maxDepth: lookupMaxDepth}
	start, end, ok := l.find(p.Segments)
	if !ok {
		return Value{}, false
	}
	v := (&call{}).decode(c.doc, start, end)
	if v.Kind == String || v.Kind == Number {
		v.S = string([]byte(v.S)) // the caller may keep it
	}
	return v, true
}

// lookupRoot finds segs from the root of the call's document.
func (c *call) lookupRoot(segs []rulesets.Segment) (Value, bool) {
	return c.lookupFrom(0, segs)
}

// lookupFrom finds segs below the value at offset off of the call's
// document.
func (c *call) lookupFrom(off int, segs []rulesets.Segment) (Value, bool) {
	c.lk = lexer{src: c.doc, i: off, maxDepth: c.p.maxDepth}
	start, end, ok := c.lk.find(segs)
	if !ok {
		return Value{}, false
	}
	return c.decode(c.doc, start, end), true
}

// find locates the first value at segs below the value at l.i. On success
// it returns that value's span; on failure l.i is past the value it was
// called on (or anywhere, after a syntax error: the masking scan reports
// those).
func (l *lexer) find(segs []rulesets.Segment) (start, end int, ok bool) {
	l.ws()
	if len(segs) == 0 {
		start = l.i
		if l.skip() != nil {
			return 0, 0, false
		}
		return start, l.i, true
	}
	if l.i >= len(l.src) {
		return 0, 0, false
	}
	seg := segs[0]
	switch l.src[l.i] {
	case '{':
		if seg.Kind == rulesets.SegIndex {
			return l.miss()
		}
		if empty, ok := l.open('}'); empty || !ok {
			return 0, 0, false
		}
		var scratch [64]byte
		for {
			if l.i >= len(l.src) || l.src[l.i] != '"' {
				return 0, 0, false
			}
			ks := l.i
			esc := false
			if k := shortStr(l.src, ks+1); k != 0 {
				l.i = k + 1
			} else {
				var err error
				if esc, err = l.str(); err != nil {
					return 0, 0, false
				}
			}
			key := l.src[ks+1 : l.i-1]
			if esc {
				key = unescape(scratch[:0], key)
			}
			l.ws()
			if l.i >= len(l.src) || l.src[l.i] != ':' {
				return 0, 0, false
			}
			l.i++
			l.ws()
			named := seg.Kind == rulesets.SegWildcard || string(key) == seg.Key
			if named || seg.Kind == rulesets.SegDescendant {
				if s, e, ok := l.findIn(segs, named); ok {
					return s, e, true
				}
			}
			if l.skip() != nil {
				return 0, 0, false
			}
			if more, _ := l.next('}'); !more {
				return 0, 0, false
			}
		}
	case '[':
		if seg.Kind == rulesets.SegKey {
			return l.miss()
		}
		want := seg.Index
		if seg.Kind == rulesets.SegIndex && want < 0 {
			m := *l
			m.i++
			m.ws()
			n := 0
			if m.i < len(m.src) && m.src[m.i] != ']' {
				var err error
				if n, err = m.countElements(); err != nil {
					return 0, 0, false
				}
			}
			want += n
			if want < 0 {
				return l.miss()
			}
		}
		if empty, ok := l.open(']'); empty || !ok {
			return 0, 0, false
		}
		for idx := 0; ; idx++ {
			named := seg.Kind == rulesets.SegWildcard || seg.Kind == rulesets.SegIndex && idx == want
			if named || seg.Kind == rulesets.SegDescendant {
				if s, e, ok := l.findIn(segs, named); ok {
					return s, e, true
				}
			}
			if l.skip() != nil {
				return 0, 0, false
			}
			if more, _ := l.next(']'); !more {
				return 0, 0, false
			}
		}
	}
	return l.miss()
}

// findIn looks for the value at segs in the member or element at l.i: for
// the rest of the path below it when named (segs[0] names it: a matching
// key or index, or a wildcard), and for the whole path below it when
// segs[0] is a descendant segment (..key reaches any depth). Not found, it
// leaves l.i where it was, for the caller to pass over the item; only
// items that may hold the value come here, so the others cost no call.
func (l *lexer) findIn(segs []rulesets.Segment, named bool) (start, end int, ok bool) {
	vs := l.i
	if named {
		if start, end, ok = l.find(segs[1:]); ok {
			return start, end, true
		}
		l.i = vs
	}
	if segs[0].Kind == rulesets.SegDescendant {
		if start, end, ok = l.find(segs); ok {
			return start, end, true
		}
		l.i = vs
	}
	return 0, 0, false
}

// miss passes over the value at l.i after a lookup found nothing there.
func (l *lexer) miss() (int, int, bool) {
	_ = l.skip()
	return 0, 0, false
}

// Hash input encoding. One source hashes as its scalar text (so 123 and
// "123" agree); several are each framed by a tag and a length, so ("ab",
// "c") and ("a", "bc") differ; a missing source has its own tag, distinct
// from null and from "".
const (
	hashTagValue   = 'v'
	hashTagNull    = 'n'
	hashTagMissing = 'm'
)

// The single-source inputs of a missing source and of null, shared
// read-only (their capacity ends at their length, so an append copies).
var (
	hashMissing1 = []byte{0, hashTagMissing}
	hashNull1    = []byte{0, hashTagNull}
	hashEmpty1   = []byte{}
)

// hashInput returns rule r's hash input for the value being scanned
// (reached through path pathIdx; orig: in the call's original document),
// or nil when the masks hash their own input.
func (c *call) hashInput(r int, pathIdx int32, orig bool) []byte {
	if c.override != nil {
		return c.override
	}
	rule := &c.p.rules[r]
	if len(rule.sources) == 0 {
		return c.inherit
	}
	if len(rule.sources) == 1 && len(rule.advance) == 0 {
		// One source: its text is the input, read in place (a view of
		// the record or the arena, neither rewritten during the call).
		v, ok := c.sourceValue(&rule.sources[0], pathIdx, orig)
		switch {
		case !ok:
			return hashMissing1
		case v.Kind == Null:
			return hashNull1
		case v.Kind == String && v.S == "":
			return hashEmpty1 // not nil: nil would mean "no hash sources"
		}
		return hashText(v)
	}
	if !rule.bound && c.memoSet[r] {
		return c.memo[r]
	}
	enc := c.enc[:0]
	for i := range rule.sources {
		v, ok := c.sourceValue(&rule.sources[i], pathIdx, orig)
		if len(rule.sources) == 1 {
			switch {
			case !ok:
				enc = append(enc, 0, hashTagMissing)
			case v.Kind == Null:
				enc = append(enc, 0, hashTagNull)
			default:
				enc = appendHashText(enc, v)
			}
			break
		}
		switch {
		case !ok:
			enc = append(enc, hashTagMissing)
		case v.Kind == Null:
			enc = append(enc, hashTagNull)
		default:
			enc = append(enc, hashTagValue)
			t := v.S
			if isContainer(v) {
				t = bytesString(v.Raw)
			}
			enc = binary.AppendUvarint(enc, uint64(len(t)))
			enc = append(enc, t...)
		}
	}
	enc = append(enc, rule.advance...)
	c.enc = enc
	// Keep it in the arena: it must outlive c.enc's next use.
	n := len(c.arena)
	c.arena = append(c.arena, enc...)
	h := c.arena[n:len(c.arena):len(c.arena)]
	if !rule.bound {
		c.memo[r], c.memoSet[r] = h, true
	}
	return h
}

// sourceValue reads one hash source. A source sharing a wildcard with the
// path that matched binds it to the element being masked.
func (c *call) sourceValue(src *hsource, pathIdx int32, orig bool) (Value, bool) {
	k := src.shared[pathIdx]
	if k == 0 || k > len(c.path) {
		switch c.srcState[src.id] {
		case 1:
			return c.srcVal[src.id], true
		case 2:
			return Value{}, false
		}
		v, ok := c.lookupRoot(src.path.Segments)
		c.srcVal[src.id], c.srcState[src.id] = v, 2
		if ok {
			c.srcState[src.id] = 1
		}
		return v, ok
	}
	if orig {
		return c.lookupFrom(c.path[k-1].start, src.path.Segments[k:])
	}
	segs := make([]rulesets.Segment, len(src.path.Segments))
	copy(segs, src.path.Segments)
	for i := 0; i < k; i++ {
		if segs[i].Kind != rulesets.SegWildcard {
			continue
		}
		st := &c.path[i]
		if st.idx >= 0 {
			segs[i] = rulesets.Segment{Kind: rulesets.SegIndex, Index: st.idx}
		} else {
			key := st.key()
			if st.esc {
				key = unescape(nil, key)
			}
			segs[i] = rulesets.Segment{Kind: rulesets.SegKey, Key: string(key)}
		}
	}
	return c.lookupRoot(segs)
}
