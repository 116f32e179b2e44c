package engine

import (
	"errors"
	"strings"
)

// imitate_uuid (DataMasque): replaces a UUID with another UUID, uniquely
// (a keyed permutation, as imitate_unique) and in the same form:
//
//	masks:
//	  - type: imitate_uuid
//
// The version digit and the variant bits are kept, so a version 4 UUID
// stays a valid version 4 UUID. Hyphens, braces ({...}) and a urn:uuid:
// prefix are kept; the hex digits come out in upper case when the input's
// letters were all upper case, in lower case otherwise. The same UUID
// written in different forms masks to the same UUID. The nil UUID
// (all zeros) and the max UUID (all f) are kept, being markers rather than
// identifiers, and no other UUID masks to them. seed namespaces the
// permutation, as for imitate_unique.
func init() { register("imitate_uuid", newImitateUUID) }

type imitateUUIDParams struct {
	Seed string `yaml:"seed"`
}

type imitateUUID struct{}

func newImitateUUID(p *Params) (Mask, error) {
	var prm imitateUUIDParams
	if err := p.Decode(&prm); err != nil {
		return nil, err
	}
	return imitateUUID{}, nil
}

var errNotUUID = errors.New("imitate_uuid expects a UUID such as 123e4567-e89b-12d3-a456-426614174000 (32 hex digits, optionally with hyphens, braces or urn:uuid:)")

func (imitateUUID) Apply(c *Ctx, v Value) (Value, error) {
	switch v.Kind {
	case Null:
		return v, nil
	case String:
	default:
		return Value{}, errNotUUID
	}
	hex, ok := uuidDigits(v.S)
	if !ok {
		return Value{}, errNotUUID
	}
	var nib [32]byte // the 32 nibbles, as values 0-15
	upper, lower := false, false
	for i, p := range hex {
		ch := v.S[p]
		switch {
		case ch >= '0' && ch <= '9':
			nib[i] = ch - '0'
		case ch >= 'a' && ch <= 'f':
			nib[i], lower = ch-'a'+10, true
		default:
			nib[i], upper = ch-'A'+10, true
		}
	}
	if nib == [32]byte{} || nib == uuidMax {
		return v, nil
	}
	// Permute the nibbles as a mixed-radix number: 16 per digit, except
	// the version (kept) and the variant digit, whose fixed high bits are
	// kept by giving it a smaller radix.
	sc := c.scratch()
	ds := sc.digits[:0]
	for i := range nib {
		switch {
		case i == 12:
			continue
		case i == 16:
			base, radix := uuidVariant(nib[16])
			ds = append(ds, fpeDigit{pos: i, radix: radix, base: base})
		default:
			ds = append(ds, fpeDigit{pos: i, radix: 16})
		}
	}
	// Every UUID of one version and variant shares one permutation.
	variant, _ := uuidVariant(nib[16])
	sc.digits = ds
	sc.tweak = append(append(sc.tweak[:0], "imitate_uuid/"...), nib[12], variant)
	f := c.perm(sc.tweak)
	for {
		fpeMixed(f, nib[:], ds)
		// Cycle-walk past the two kept markers so that nothing else maps
		// onto them (only an input of their version and variant can).
		if nib != [32]byte{} && nib != uuidMax {
			break
		}
	}
	b := append(c.room(len(v.S)), v.S...)
	digits := "0123456789abcdef"
	if upper && !lower {
		digits = "0123456789ABCDEF"
	}
	for i, p := range hex {
		b[p] = digits[nib[i]]
	}
	return Str(c.str(b)), nil
}

var uuidMax = [32]byte{15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15}

// uuidVariant returns the values a variant nibble may take while keeping
// its variant (RFC 9562 §4.1): 0xxx (NCS), 10xx (the standard one), 110x
// (Microsoft), 111x (reserved).
func uuidVariant(n byte) (base, radix uint8) {
	switch {
	case n < 8:
		return 0, 8
	case n < 12:
		return 8, 4
	case n < 14:
		return 12, 2
	}
	return 14, 2
}

// uuidDigits returns the byte offsets of the 32 hex digits of a UUID in one
// of its usual forms: 8-4-4-4-12 with hyphens, 32 bare digits, either in
// braces, or the hyphenated form after urn:uuid:.
func uuidDigits(s string) ([32]int, bool) {
	var out [32]int
	off := 0
	switch {
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		s, off = s[1:37], 1
	case len(s) == 34 && s[0] == '{' && s[33] == '}':
		s, off = s[1:33], 1
	case len(s) == 45 && strings.EqualFold(s[:9], "urn:uuid:"):
		s, off = s[9:], 9
	}
	hyphens := len(s) == 36
	if !hyphens && len(s) != 32 {
		return out, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if hyphens && (i == 8 || i == 13 || i == 18 || i == 23) {
			if ch != '-' {
				return out, false
			}
			continue
		}
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F') {
			return out, false
		}
		out[n] = off + i
		n++
	}
	return out, n == 32
}
