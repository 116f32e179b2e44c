package engine

import (
	"encoding/base64"
	"encoding/hex"
)

// hash (ours) replaces a value with HMAC-SHA256(run secret, its text),
// written in hex (default), base64 or base64url, optionally cut to length
// characters and prefixed. The same value gives the same hash in every
// rule, topic and process with the same secret, so it works as a join key;
// without the secret it cannot be recomputed or reversed. The text is the
// value's scalar text, so 123 and "123" hash alike. The result is a string.

func init() { register("hash", newHash) }

type hashParams struct {
	Format string `yaml:"format"`
	Length *int   `yaml:"length"`
	Prefix string `yaml:"prefix"`
}

type hashMask struct {
	enc    func(dst, src []byte) []byte
	length int
	prefix string
}

// xfHashEncodings maps a format to its encoder and full length for the
// 32-byte digest.
var xfHashEncodings = map[string]struct {
	enc  func(dst, src []byte) []byte
	size int
}{
	"hex":       {hex.AppendEncode, hex.EncodedLen(32)},
	"base64":    {base64.StdEncoding.AppendEncode, base64.StdEncoding.EncodedLen(32)},
	"base64url": {base64.RawURLEncoding.AppendEncode, base64.RawURLEncoding.EncodedLen(32)},
}

func newHash(p *Params) (Mask, error) {
	ps := hashParams{Format: "hex"}
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	e, ok := xfHashEncodings[ps.Format]
	if !ok {
		return nil, p.ErrorAt(p.Param("format"), "format must be hex, base64 or base64url")
	}
	m := &hashMask{enc: e.enc, length: e.size, prefix: ps.Prefix}
	if ps.Length != nil {
		// Under 8 characters collisions become likely within a topic.
		if *ps.Length < 8 || *ps.Length > e.size {
			return nil, p.ErrorAt(p.Param("length"), "length must be between 8 and %d for format %s", e.size, ps.Format)
		}
		m.length = *ps.Length
	}
	return m, nil
}

func (m *hashMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind == Null {
		return v, nil
	}
	in := v.Raw
	if v.Kind != Object && v.Kind != Array {
		in = stringBytes(v.S) // read only: the HMAC does not write to it
	}
	// The digest lives in the Ctx's scratch: handed to the encoder (a
	// func value) a local one would move to the heap.
	sum := &c.scratch().sum
	*sum = c.HMAC(in)
	out := append(c.room(len(m.prefix)+64), m.prefix...)
	out = m.enc(out, sum[:])
	return Str(c.str(out[:len(m.prefix)+m.length])), nil
}
