package engine

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Masker is a compiled ruleset. It is immutable after Compile and safe for
// concurrent use; per-call state comes from a pool.
type Masker struct {
	name    string
	prog    *program
	names   []string
	key     *program // nil: the key passes through
	headers []cheader
}

type cheader struct {
	name string
	pipe Pipeline
}

// errNoSecret is a programming error: masking needs a prepared secret.
var errNoSecret = errors.New("engine: masking needs a run secret; prepare one with engine.NewSecret")

// Name is the ruleset's name.
func (m *Masker) Name() string { return m.name }

// NumRules is the number of masking rules, conditional rules flattened in
// file order (the rules of an if, then its else_rules).
func (m *Masker) NumRules() int { return len(m.prog.rules) }

// RuleNames are the rules' names (rulesets.Rule.Name), index-aligned with
// NumRules and CallOptions.Counts.
func (m *Masker) RuleNames() []string { return append([]string(nil), m.names...) }

// MasksKey reports whether the ruleset masks record keys.
func (m *Masker) MasksKey() bool { return m.key != nil }

// MasksHeaders reports whether MaskRecord may change a record's headers:
// the ruleset names headers, or redacts those named like credentials
// (redact_secrets). When false, headers pass through as they are.
func (m *Masker) MasksHeaders() bool { return len(m.headers) > 0 || m.prog.redact }

// MaxBytes is the largest value MaskValue accepts.
func (m *Masker) MaxBytes() int { return m.prog.maxBytes }

// MaskValue masks one JSON value and appends the result to dst. Bytes no
// rule selects are copied unchanged. The error, for a value that cannot be
// masked, is a *MaskError; dst is then returned as it was. o may be nil.
//
// The whole value is validated (structure, UTF-8 inside strings, depth and
// size), selected or not: a record is either masked whole or refused. A
// mask that returns Kind Missing (drop) removes the member from its object,
// or the element from its array (the elements after it move up one index);
// a dropped root value becomes null.
func (m *Masker) MaskValue(dst []byte, sec *Secret, value []byte, o *CallOptions) ([]byte, error) {
	return m.prog.mask(dst, sec, value, o)
}

func (p *program) mask(dst []byte, sec *Secret, value []byte, o *CallOptions) ([]byte, error) {
	if sec == nil {
		return dst, errNoSecret
	}
	if len(value) > p.maxBytes {
		return dst, &MaskError{Reason: ReasonTooLarge, Msg: "the value is " + strconv.Itoa(len(value)) + " bytes, more than the limit of " + strconv.Itoa(p.maxBytes) + "; raise limits.max_record_bytes if such records are expected"}
	}
	c := p.getCall(nil, value)
	c.own.sec, c.own.doc = sec, value
	if o != nil && o.HashValue != nil {
		c.override = o.HashValue
	}
	out, err := c.run(dst, value)
	if err != nil {
		c.release()
		return dst, err
	}
	if o != nil && len(o.Counts) == len(p.rules) {
		for i, n := range c.masked {
			o.Counts[i] += n
		}
	}
	if o != nil && len(o.Found) == len(p.rules) {
		for i, n := range c.found {
			o.Found[i] += n
		}
	}
	c.release()
	return out, nil
}

// MaskRecord masks a record's value, key and headers. A nil Value (a
// tombstone) stays nil; only its key is masked. The headers slice is copied
// when a header changes, never modified in place.
func (m *Masker) MaskRecord(sec *Secret, r Record, o *CallOptions) (Record, error) {
	out := r
	if r.Value != nil {
		v, err := m.MaskValue(make([]byte, 0, len(r.Value)+len(r.Value)/8+16), sec, r.Value, o)
		if err != nil {
			return r, err
		}
		out.Value = v
	}
	k, err := m.MaskKey(sec, r.Key)
	if err != nil {
		return r, err
	}
	out.Key = k
	hs, err := m.MaskHeaders(sec, r.Headers, r.Value)
	if err != nil {
		return r, err
	}
	out.Headers = hs
	return out, nil
}

// MaskKey masks a record key as MaskRecord does. A nil key, or a ruleset
// without key masks, gives key back as it is.
func (m *Masker) MaskKey(sec *Secret, key []byte) ([]byte, error) {
	if m.key == nil || key == nil {
		return key, nil
	}
	return m.maskKey(sec, key)
}

// MaskHeaders masks a record's headers as MaskRecord does; doc is the
// record's (unmasked) value, which header masks may read hash sources
// from. When no header changes, hs itself comes back, not a copy.
func (m *Masker) MaskHeaders(sec *Secret, hs []Header, doc []byte) ([]Header, error) {
	if !m.MasksHeaders() || len(hs) == 0 {
		return hs, nil
	}
	return m.maskHeaders(sec, hs, doc)
}

// maskKey masks a record key: as a JSON document when it parses as an
// object, an array or a string (the key masks apply to the whole value,
// and the result is JSON again), else as text, as a header is, and written
// back bare.
//
// A number, true, false or null key is text: string serializers write ids
// as bare digits, and such a key must mask as the same id does in the
// value or a header (12345 and "12345" alike under imitate_unique, a hash
// without quotes), or masked records stop joining up.
func (m *Masker) maskKey(sec *Secret, key []byte) ([]byte, error) {
	if keyIsDocument(key) && validJSON(key, m.key.maxDepth) == nil {
		out, err := m.key.mask(nil, sec, key, nil)
		if err != nil {
			return nil, relocate(err, "key")
		}
		return out, nil
	}
	out, dropped, err := m.runText(sec, m.key.rules[0].pipe, key, nil, m.key)
	if err != nil {
		return nil, relocate(err, "key")
	}
	if dropped {
		return []byte{}, nil
	}
	return out, nil
}

// keyIsDocument reports whether a key, if it is JSON, is an object, an
// array or a string: whether its first byte after JSON whitespace opens
// one.
func keyIsDocument(key []byte) bool {
	for _, c := range key {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[', '"':
			return true
		}
		return false
	}
	return false
}

// maskHeaders masks the headers the ruleset names (case-insensitively);
// a header whose masks drop it is removed. Under redact_secrets a header
// no rule names but whose name looks like a credential (Authorization,
// Cookie, X-Api-Key...) becomes "[REDACTED]", as a member would: a header
// rule that names it wins. The headers are copied only once one changes,
// so a record whose headers all pass costs no allocation.
func (m *Masker) maskHeaders(sec *Secret, hs []Header, doc []byte) ([]Header, error) {
	var out []Header
	for i, h := range hs {
		pipe, found, redact := m.headerMasks(h.Key)
		if !found && !redact {
			if out != nil {
				out = append(out, h)
			}
			continue
		}
		if out == nil {
			out = make([]Header, i, len(hs))
			copy(out, hs[:i])
		}
		if redact {
			out = append(out, Header{Key: h.Key, Value: []byte(Redacted)})
			continue
		}
		v, dropped, err := m.runText(sec, pipe, h.Value, doc, m.prog)
		if err != nil {
			return nil, relocate(err, "header "+h.Key)
		}
		if dropped {
			continue
		}
		out = append(out, Header{Key: h.Key, Value: v})
	}
	if out == nil {
		return hs, nil
	}
	return out, nil
}

// headerMasks says what the ruleset does to a header named name: the
// masks of the header rule that names it (found), else whether
// redact_secrets replaces it.
func (m *Masker) headerMasks(name string) (pipe Pipeline, found, redact bool) {
	for _, hr := range m.headers {
		if strings.EqualFold(hr.name, name) {
			return hr.pipe, true, false
		}
	}
	return nil, false, m.prog.redact && isSecretKey([]byte(name))
}

// MasksHeader reports whether MaskHeaders may change a header named name,
// so a caller holding headers of another type can skip converting them.
func (m *Masker) MasksHeader(name string) bool {
	_, found, redact := m.headerMasks(name)
	return found || redact
}

// runText masks a key or header value given as text.
//
// Text that is not UTF-8 (a binary key, which NATS carries base64-encoded)
// is masked only by a pipeline whose first mask keeps nothing of it
// (keepsNothing): other masks keep what they do not replace (imitate the
// punctuation, unstructured_text the words around an entity), so imitate
// kept a Latin-1 letter's byte as it was, and a mask that removes what
// lies between two kept bytes may join them into a valid letter. Judging
// by the mask, not by the output, catches both.
func (m *Masker) runText(sec *Secret, pipe Pipeline, text, doc []byte, p *program) (out []byte, dropped bool, err error) {
	if !utf8.Valid(text) && !pipeKeepsNothing(pipe) {
		return nil, false, &MaskError{Reason: ReasonInvalidUTF8, Msg: "the text holds bytes that are not UTF-8, and its first mask would keep some of them; mask it with hash (which reads any bytes) or a generator such as from_fixed, or make it UTF-8"}
	}
	v := Value{Kind: String, S: string(text)}
	if p.isDefault(&v) {
		return []byte(v.Text()), false, nil
	}
	// A pooled Ctx keeps its scratch (arena, HMAC state, permutation
	// buffers) from key to key: a fresh one allocated about 4.7 KB per
	// key or header, eight times the cost of the masks themselves. The
	// result is copied out before the arena it was built in is reused.
	ctx := textCtxPool.Get().(*Ctx)
	ctx.sec, ctx.doc = sec, doc
	defer func() {
		ctx.reset()
		textCtxPool.Put(ctx)
	}()
	r, err := ctx.Run(pipe, v)
	if err != nil {
		return nil, false, &MaskError{Reason: ReasonMask, Msg: err.Error()}
	}
	if r.Kind == Missing {
		return nil, true, nil
	}
	return []byte(r.Text()), false, nil
}

// keepsNothing are the masks whose output holds nothing of their input's
// text: hash reads its bytes, the generators draw from a seed (their
// input's bytes at most). A key or header that is not UTF-8 may be masked
// by a pipeline that starts with one of them.
var keepsNothing = map[string]bool{
	"hash": true, "from_fixed": true, "from_file": true, "from_format_string": true,
	"from_choices": true, "from_random_text": true, "from_random_number": true,
	"from_random_boolean": true, "from_random_date": true, "from_random_datetime": true,
	"drop": true,
}

// pipeKeepsNothing reports whether pipe's output holds nothing of its
// input's text: its first mask keeps nothing, or is a chain whose own
// first mask keeps nothing, or a concat whose every part keeps nothing.
func pipeKeepsNothing(pipe Pipeline) bool {
	if len(pipe) == 0 {
		return false
	}
	switch m := pipe[0].m.(type) {
	case *chainMask:
		return pipeKeepsNothing(m.steps)
	case *concatMask:
		for i := range m.parts {
			if !pipeKeepsNothing(m.parts[i : i+1]) {
				return false
			}
		}
		return len(m.parts) > 0
	}
	return keepsNothing[pipe[0].typ]
}

// textCtxPool holds the Ctxs runText masks keys and headers with.
var textCtxPool = sync.Pool{New: func() any { return new(Ctx) }}

// relocate sets the place of a masking error of a key or header.
func relocate(err error, where string) error {
	var me *MaskError
	if errors.As(err, &me) {
		e := *me
		if e.Where == "" || e.Where == "$" {
			e.Where = where
		} else {
			e.Where = where + " " + e.Where
		}
		return &e
	}
	return err
}
