package engine

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// The alphabets imitate and imitate_unique replace letters and digits
// within. A character is replaced by another of the alphabet that holds
// it, so a value keeps its script and case, and (every alphabet's
// characters having one UTF-8 length) its length in bytes.
//
// They are part of the output contract: imitate draws an index into a
// list, imitate_unique reads a value as indexes into them and names each
// alphabet in its tweak by its place in alphabets. Adding, removing or
// reordering a character would change masked values users join on, so
// the lists are written out here rather than read from package unicode
// (whose tables grow with each Unicode version), and alphabets_test.go
// pins their sizes and a checksum. A new alphabet may only be added last
// (after the digit sets), so that every other keeps its id.
//
// What they hold: ASCII stays as it always was (A–Z, a–z, 0–9). Each
// other alphabet is the letters of one Unicode block (or of neighbouring
// ones) in one case class, as Unicode 15.0 categorises them: upper-case
// (Lu, Lt), lower-case (Ll), or without case (Lo, Lm), in code point
// order. So an accented Latin letter is replaced by a Latin-1 or Latin
// Extended-A letter of its case, never by an ASCII one, and a name keeps
// looking like a name of its language. Blocks that mix everyday and rare
// letters (Greek, Cyrillic, Arabic) are split, so everyday letters map
// among themselves. A block's one modifier letter joins its lower case: a
// one-letter alphabet could not change. Each set of ten decimal digits
// (Nd) is an alphabet of its own.
//
// A letter or digit in none of them (a script not listed, a later Unicode
// version's additions) is replaced by an ASCII one by imitate and refused
// by imitate_unique, which has nowhere to permute it.

// charKind is what an alphabet holds, for imitate's uppercase, lowercase
// and digits switches.
type charKind uint8

const (
	charDigit charKind = iota
	charUpper
	charLower
	charCaseless
)

// alphaRange is the characters lo, lo+step, ... hi.
type alphaRange struct{ lo, hi, step rune }

type alphabet struct {
	name   string
	kind   charKind
	ranges []alphaRange
	// Set by buildAlphabets.
	id    uint8 // its place in alphabets, which imitate_unique's tweak holds
	size  uint32
	width int // UTF-8 bytes of each character
}

// at is the alphabet's v-th character (v < a.size).
func (a *alphabet) at(v uint32) rune {
	for _, r := range a.ranges {
		n := uint32((r.hi-r.lo)/r.step) + 1
		if v < n {
			return r.lo + rune(v)*r.step
		}
		v -= n
	}
	panic("engine: alphabet index out of range")
}

// alphaSpan is a run of consecutive characters of one alphabet, starting
// at its off-th character: alphaIndex is alphabets cut into such runs and
// sorted, for alphabetOf's binary search.
type alphaSpan struct {
	lo, hi rune
	a      *alphabet
	off    uint32
}

var alphabets, alphaIndex = buildAlphabets()

// alphabetOf finds the alphabet holding r and r's index in it.
func alphabetOf(r rune) (*alphabet, uint32, bool) {
	lo, hi := 0, len(alphaIndex)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if alphaIndex[m].hi < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(alphaIndex) && alphaIndex[lo].lo <= r {
		s := &alphaIndex[lo]
		return s.a, s.off + uint32(r-s.lo), true
	}
	return nil, 0, false
}

// buildAlphabets lays out the ASCII alphabets, letterAlphabets and one
// alphabet per digitZeros, in that order (their ids), and indexes them.
// It panics on a table that breaks what the masks rely on: at least two
// characters, one UTF-8 length, no character in two alphabets.
func buildAlphabets() ([]alphabet, []alphaSpan) {
	as := []alphabet{ // uniqueText relies on this order
		{name: "ASCII digits", kind: charDigit, ranges: []alphaRange{{'0', '9', 1}}},
		{name: "ASCII lower-case letters", kind: charLower, ranges: []alphaRange{{'a', 'z', 1}}},
		{name: "ASCII upper-case letters", kind: charUpper, ranges: []alphaRange{{'A', 'Z', 1}}},
	}
	as = append(as, letterAlphabets...)
	for _, z := range digitZeros {
		as = append(as, alphabet{name: "digits", kind: charDigit, ranges: []alphaRange{{z, z + 9, 1}}})
	}
	if len(as) > 256 {
		panic("engine: more than 256 alphabets: imitate_unique's tweak names one in a byte")
	}
	var idx []alphaSpan
	for i := range as {
		a := &as[i]
		a.id = uint8(i)
		a.width = utf8.RuneLen(a.ranges[0].lo)
		for _, r := range a.ranges {
			if r.step < 1 || r.hi < r.lo || (r.hi-r.lo)%r.step != 0 || utf8.RuneLen(r.lo) != a.width || utf8.RuneLen(r.hi) != a.width {
				panic("engine: alphabet " + a.name + " has a malformed range")
			}
			if r.step == 1 {
				idx = append(idx, alphaSpan{r.lo, r.hi, a, a.size})
				a.size += uint32(r.hi-r.lo) + 1
				continue
			}
			for c := r.lo; c <= r.hi; c += r.step {
				idx = append(idx, alphaSpan{c, c, a, a.size})
				a.size++
			}
		}
		if a.size < 2 {
			panic("engine: alphabet " + a.name + " has fewer than two characters")
		}
	}
	slices.SortFunc(idx, func(x, y alphaSpan) int { return int(x.lo - y.lo) })
	for i := 1; i < len(idx); i++ {
		if idx[i].lo <= idx[i-1].hi {
			panic("engine: a character is in two alphabets")
		}
	}
	return as, idx
}

// kindOf is the kind of a letter or digit no alphabet holds (false for
// any other character): a title-case letter counts as upper case.
func kindOf(r rune) (charKind, bool) {
	switch {
	case unicode.IsDigit(r):
		return charDigit, true
	case unicode.IsUpper(r), unicode.IsTitle(r):
		return charUpper, true
	case unicode.IsLower(r):
		return charLower, true
	case unicode.IsLetter(r):
		return charCaseless, true
	}
	return 0, false
}

// describeChar says what kind of character r is and in which script,
// without naming r: an error may not quote a value.
func describeChar(r rune) string {
	class := "a letter"
	switch {
	case unicode.IsDigit(r):
		class = "a digit"
	case unicode.IsUpper(r):
		class = "an upper-case letter"
	case unicode.IsLower(r):
		class = "a lower-case letter"
	case unicode.IsTitle(r):
		class = "a title-case letter"
	case unicode.In(r, unicode.Lm):
		class = "a modifier letter"
	}
	script := "Unknown"
	for name, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			script = name // scripts do not overlap: the map's order does not matter
			break
		}
	}
	return class + " of the Unicode script " + script
}

// letterAlphabets are the letters beyond ASCII, by block and case.
var letterAlphabets = []alphabet{
	{name: "Latin-1 and Latin Extended-A upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x00c0, 0x00d6, 1}, {0x00d8, 0x00de, 1}, {0x0100, 0x0136, 2}, {0x0139, 0x0147, 2}, {0x014a, 0x0178, 2}, {0x0179, 0x017d, 2},
	}}, // 93
	{name: "Latin-1 and Latin Extended-A lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x00b5, 0x00b5, 1}, {0x00df, 0x00f6, 1}, {0x00f8, 0x00ff, 1}, {0x0101, 0x0137, 2}, {0x0138, 0x0148, 2}, {0x0149, 0x0177, 2},
		{0x017a, 0x017e, 2}, {0x017f, 0x017f, 1},
	}}, // 98
	{name: "Latin-1 ordinal indicators", kind: charCaseless, ranges: []alphaRange{
		{0x00aa, 0x00aa, 1}, {0x00ba, 0x00ba, 1},
	}}, // 2
	{name: "Latin Extended-B and IPA upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x0181, 0x0182, 1}, {0x0184, 0x0184, 1}, {0x0186, 0x0187, 1}, {0x0189, 0x018b, 1}, {0x018e, 0x0191, 1}, {0x0193, 0x0194, 1},
		{0x0196, 0x0198, 1}, {0x019c, 0x019d, 1}, {0x019f, 0x01a0, 1}, {0x01a2, 0x01a6, 2}, {0x01a7, 0x01a7, 1}, {0x01a9, 0x01a9, 1},
		{0x01ac, 0x01ac, 1}, {0x01ae, 0x01af, 1}, {0x01b1, 0x01b3, 1}, {0x01b5, 0x01b5, 1}, {0x01b7, 0x01b8, 1}, {0x01bc, 0x01bc, 1},
		{0x01c4, 0x01c5, 1}, {0x01c7, 0x01c8, 1}, {0x01ca, 0x01cb, 1}, {0x01cd, 0x01db, 2}, {0x01de, 0x01ee, 2}, {0x01f1, 0x01f2, 1},
		{0x01f4, 0x01f4, 1}, {0x01f6, 0x01f8, 1}, {0x01fa, 0x0232, 2}, {0x023a, 0x023b, 1}, {0x023d, 0x023e, 1}, {0x0241, 0x0241, 1},
		{0x0243, 0x0246, 1}, {0x0248, 0x024e, 2},
	}}, // 107
	{name: "Latin Extended-B and IPA lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x0180, 0x0180, 1}, {0x0183, 0x0183, 1}, {0x0185, 0x0185, 1}, {0x0188, 0x0188, 1}, {0x018c, 0x018d, 1}, {0x0192, 0x0192, 1},
		{0x0195, 0x0195, 1}, {0x0199, 0x019b, 1}, {0x019e, 0x019e, 1}, {0x01a1, 0x01a5, 2}, {0x01a8, 0x01a8, 1}, {0x01aa, 0x01ab, 1},
		{0x01ad, 0x01ad, 1}, {0x01b0, 0x01b0, 1}, {0x01b4, 0x01b4, 1}, {0x01b6, 0x01b6, 1}, {0x01b9, 0x01ba, 1}, {0x01bd, 0x01bf, 1},
		{0x01c6, 0x01c6, 1}, {0x01c9, 0x01c9, 1}, {0x01cc, 0x01dc, 2}, {0x01dd, 0x01ef, 2}, {0x01f0, 0x01f0, 1}, {0x01f3, 0x01f3, 1},
		{0x01f5, 0x01f5, 1}, {0x01f9, 0x0233, 2}, {0x0234, 0x0239, 1}, {0x023c, 0x023c, 1}, {0x023f, 0x0240, 1}, {0x0242, 0x0242, 1},
		{0x0247, 0x024f, 2}, {0x0250, 0x0293, 1}, {0x0295, 0x02af, 1},
	}}, // 191
	{name: "Latin Extended-B and IPA letters without case", kind: charCaseless, ranges: []alphaRange{
		{0x01bb, 0x01bb, 1}, {0x01c0, 0x01c3, 1}, {0x0294, 0x0294, 1},
	}}, // 6
	{name: "Spacing modifier letters", kind: charCaseless, ranges: []alphaRange{
		{0x02b0, 0x02c1, 1}, {0x02c6, 0x02d1, 1}, {0x02e0, 0x02e4, 1}, {0x02ec, 0x02ec, 1}, {0x02ee, 0x02ee, 1},
	}}, // 37
	{name: "Greek upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x0386, 0x0386, 1}, {0x0388, 0x038a, 1}, {0x038c, 0x038c, 1}, {0x038e, 0x038f, 1}, {0x0391, 0x03a1, 1}, {0x03a3, 0x03ab, 1},
	}}, // 33
	{name: "Greek lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x0390, 0x0390, 1}, {0x03ac, 0x03ce, 1},
	}}, // 36
	{name: "Greek and Coptic (other) upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x0370, 0x0370, 1}, {0x0372, 0x0372, 1}, {0x0376, 0x0376, 1}, {0x037f, 0x037f, 1}, {0x03cf, 0x03cf, 1}, {0x03d2, 0x03d4, 1},
		{0x03d8, 0x03ee, 2}, {0x03f4, 0x03f4, 1}, {0x03f7, 0x03f7, 1}, {0x03f9, 0x03fa, 1}, {0x03fd, 0x03ff, 1},
	}}, // 27
	{name: "Greek and Coptic (other) lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x0371, 0x0371, 1}, {0x0373, 0x0373, 1}, {0x0377, 0x0377, 1}, {0x037b, 0x037d, 1}, {0x03d0, 0x03d1, 1}, {0x03d5, 0x03d7, 1},
		{0x03d9, 0x03ef, 2}, {0x03f0, 0x03f3, 1}, {0x03f5, 0x03f5, 1}, {0x03f8, 0x03f8, 1}, {0x03fb, 0x03fc, 1},
	}}, // 31
	{name: "Greek and Coptic (other) letters without case", kind: charCaseless, ranges: []alphaRange{
		{0x0374, 0x0374, 1}, {0x037a, 0x037a, 1},
	}}, // 2
	{name: "Cyrillic upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x0400, 0x042f, 1},
	}}, // 48
	{name: "Cyrillic lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x0430, 0x045f, 1},
	}}, // 48
	{name: "Cyrillic (other) upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x0460, 0x0480, 2}, {0x048a, 0x04c0, 2}, {0x04c1, 0x04cd, 2}, {0x04d0, 0x052e, 2},
	}}, // 100
	{name: "Cyrillic (other) lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x0461, 0x0481, 2}, {0x048b, 0x04bf, 2}, {0x04c2, 0x04ce, 2}, {0x04cf, 0x052f, 2},
	}}, // 100
	{name: "Armenian upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x0531, 0x0556, 1},
	}}, // 38
	{name: "Armenian lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x0559, 0x0559, 1}, {0x0560, 0x0588, 1},
	}}, // 42
	{name: "Hebrew letters", kind: charCaseless, ranges: []alphaRange{
		{0x05d0, 0x05ea, 1}, {0x05ef, 0x05f2, 1},
	}}, // 31
	{name: "Arabic letters", kind: charCaseless, ranges: []alphaRange{
		{0x0620, 0x064a, 1},
	}}, // 43
	{name: "Arabic (other) letters", kind: charCaseless, ranges: []alphaRange{
		{0x066e, 0x066f, 1}, {0x0671, 0x06d3, 1}, {0x06d5, 0x06d5, 1}, {0x06e5, 0x06e6, 1}, {0x06ee, 0x06ef, 1}, {0x06fa, 0x06fc, 1},
		{0x06ff, 0x06ff, 1}, {0x0750, 0x077f, 1},
	}}, // 158
	{name: "Devanagari letters", kind: charCaseless, ranges: []alphaRange{
		{0x0904, 0x0939, 1}, {0x093d, 0x093d, 1}, {0x0950, 0x0950, 1}, {0x0958, 0x0961, 1}, {0x0971, 0x097f, 1},
	}}, // 81
	{name: "Bengali letters", kind: charCaseless, ranges: []alphaRange{
		{0x0980, 0x0980, 1}, {0x0985, 0x098c, 1}, {0x098f, 0x0990, 1}, {0x0993, 0x09a8, 1}, {0x09aa, 0x09b0, 1}, {0x09b2, 0x09b2, 1},
		{0x09b6, 0x09b9, 1}, {0x09bd, 0x09bd, 1}, {0x09ce, 0x09ce, 1}, {0x09dc, 0x09dd, 1}, {0x09df, 0x09e1, 1}, {0x09f0, 0x09f1, 1},
		{0x09fc, 0x09fc, 1},
	}}, // 55
	{name: "Gurmukhi letters", kind: charCaseless, ranges: []alphaRange{
		{0x0a05, 0x0a0a, 1}, {0x0a0f, 0x0a10, 1}, {0x0a13, 0x0a28, 1}, {0x0a2a, 0x0a30, 1}, {0x0a32, 0x0a33, 1}, {0x0a35, 0x0a36, 1},
		{0x0a38, 0x0a39, 1}, {0x0a59, 0x0a5c, 1}, {0x0a5e, 0x0a5e, 1}, {0x0a72, 0x0a74, 1},
	}}, // 51
	{name: "Gujarati letters", kind: charCaseless, ranges: []alphaRange{
		{0x0a85, 0x0a8d, 1}, {0x0a8f, 0x0a91, 1}, {0x0a93, 0x0aa8, 1}, {0x0aaa, 0x0ab0, 1}, {0x0ab2, 0x0ab3, 1}, {0x0ab5, 0x0ab9, 1},
		{0x0abd, 0x0abd, 1}, {0x0ad0, 0x0ad0, 1}, {0x0ae0, 0x0ae1, 1}, {0x0af9, 0x0af9, 1},
	}}, // 53
	{name: "Oriya letters", kind: charCaseless, ranges: []alphaRange{
		{0x0b05, 0x0b0c, 1}, {0x0b0f, 0x0b10, 1}, {0x0b13, 0x0b28, 1}, {0x0b2a, 0x0b30, 1}, {0x0b32, 0x0b33, 1}, {0x0b35, 0x0b39, 1},
		{0x0b3d, 0x0b3d, 1}, {0x0b5c, 0x0b5d, 1}, {0x0b5f, 0x0b61, 1}, {0x0b71, 0x0b71, 1},
	}}, // 53
	{name: "Tamil letters", kind: charCaseless, ranges: []alphaRange{
		{0x0b83, 0x0b83, 1}, {0x0b85, 0x0b8a, 1}, {0x0b8e, 0x0b90, 1}, {0x0b92, 0x0b95, 1}, {0x0b99, 0x0b9a, 1}, {0x0b9c, 0x0b9c, 1},
		{0x0b9e, 0x0b9f, 1}, {0x0ba3, 0x0ba4, 1}, {0x0ba8, 0x0baa, 1}, {0x0bae, 0x0bb9, 1}, {0x0bd0, 0x0bd0, 1},
	}}, // 37
	{name: "Telugu letters", kind: charCaseless, ranges: []alphaRange{
		{0x0c05, 0x0c0c, 1}, {0x0c0e, 0x0c10, 1}, {0x0c12, 0x0c28, 1}, {0x0c2a, 0x0c39, 1}, {0x0c3d, 0x0c3d, 1}, {0x0c58, 0x0c5a, 1},
		{0x0c5d, 0x0c5d, 1}, {0x0c60, 0x0c61, 1},
	}}, // 57
	{name: "Kannada letters", kind: charCaseless, ranges: []alphaRange{
		{0x0c80, 0x0c80, 1}, {0x0c85, 0x0c8c, 1}, {0x0c8e, 0x0c90, 1}, {0x0c92, 0x0ca8, 1}, {0x0caa, 0x0cb3, 1}, {0x0cb5, 0x0cb9, 1},
		{0x0cbd, 0x0cbd, 1}, {0x0cdd, 0x0cde, 1}, {0x0ce0, 0x0ce1, 1}, {0x0cf1, 0x0cf2, 1},
	}}, // 57
	{name: "Malayalam letters", kind: charCaseless, ranges: []alphaRange{
		{0x0d04, 0x0d0c, 1}, {0x0d0e, 0x0d10, 1}, {0x0d12, 0x0d3a, 1}, {0x0d3d, 0x0d3d, 1}, {0x0d4e, 0x0d4e, 1}, {0x0d54, 0x0d56, 1},
		{0x0d5f, 0x0d61, 1}, {0x0d7a, 0x0d7f, 1},
	}}, // 67
	{name: "Sinhala letters", kind: charCaseless, ranges: []alphaRange{
		{0x0d85, 0x0d96, 1}, {0x0d9a, 0x0db1, 1}, {0x0db3, 0x0dbb, 1}, {0x0dbd, 0x0dbd, 1}, {0x0dc0, 0x0dc6, 1},
	}}, // 59
	{name: "Thai letters", kind: charCaseless, ranges: []alphaRange{
		{0x0e01, 0x0e30, 1}, {0x0e32, 0x0e33, 1}, {0x0e40, 0x0e46, 1},
	}}, // 57
	{name: "Lao letters", kind: charCaseless, ranges: []alphaRange{
		{0x0e81, 0x0e82, 1}, {0x0e84, 0x0e84, 1}, {0x0e86, 0x0e8a, 1}, {0x0e8c, 0x0ea3, 1}, {0x0ea5, 0x0ea5, 1}, {0x0ea7, 0x0eb0, 1},
		{0x0eb2, 0x0eb3, 1}, {0x0ebd, 0x0ebd, 1}, {0x0ec0, 0x0ec4, 1}, {0x0ec6, 0x0ec6, 1}, {0x0edc, 0x0edf, 1},
	}}, // 56
	{name: "Myanmar letters", kind: charCaseless, ranges: []alphaRange{
		{0x1000, 0x102a, 1}, {0x103f, 0x103f, 1}, {0x1050, 0x1055, 1}, {0x105a, 0x105d, 1}, {0x1061, 0x1061, 1}, {0x1065, 0x1066, 1},
		{0x106e, 0x1070, 1}, {0x1075, 0x1081, 1}, {0x108e, 0x108e, 1},
	}}, // 74
	{name: "Georgian upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x10a0, 0x10c5, 1}, {0x10c7, 0x10c7, 1}, {0x10cd, 0x10cd, 1},
	}}, // 40
	{name: "Georgian lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x10d0, 0x10fa, 1}, {0x10fc, 0x10ff, 1},
	}}, // 47
	{name: "Hangul Jamo letters", kind: charCaseless, ranges: []alphaRange{
		{0x1100, 0x11ff, 1},
	}}, // 256
	{name: "Ethiopic letters", kind: charCaseless, ranges: []alphaRange{
		{0x1200, 0x1248, 1}, {0x124a, 0x124d, 1}, {0x1250, 0x1256, 1}, {0x1258, 0x1258, 1}, {0x125a, 0x125d, 1}, {0x1260, 0x1288, 1},
		{0x128a, 0x128d, 1}, {0x1290, 0x12b0, 1}, {0x12b2, 0x12b5, 1}, {0x12b8, 0x12be, 1}, {0x12c0, 0x12c0, 1}, {0x12c2, 0x12c5, 1},
		{0x12c8, 0x12d6, 1}, {0x12d8, 0x1310, 1}, {0x1312, 0x1315, 1}, {0x1318, 0x135a, 1},
	}}, // 326
	{name: "Khmer letters", kind: charCaseless, ranges: []alphaRange{
		{0x1780, 0x17b3, 1}, {0x17d7, 0x17d7, 1}, {0x17dc, 0x17dc, 1},
	}}, // 54
	{name: "Georgian Extended upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x1c90, 0x1cba, 1}, {0x1cbd, 0x1cbf, 1},
	}}, // 46
	{name: "Latin Extended Additional upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x1e00, 0x1e94, 2}, {0x1e9e, 0x1efe, 2},
	}}, // 124
	{name: "Latin Extended Additional lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x1e01, 0x1e95, 2}, {0x1e96, 0x1e9d, 1}, {0x1e9f, 0x1eff, 2},
	}}, // 132
	{name: "Greek Extended upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x1f08, 0x1f0f, 1}, {0x1f18, 0x1f1d, 1}, {0x1f28, 0x1f2f, 1}, {0x1f38, 0x1f3f, 1}, {0x1f48, 0x1f4d, 1}, {0x1f59, 0x1f5f, 2},
		{0x1f68, 0x1f6f, 1}, {0x1f88, 0x1f8f, 1}, {0x1f98, 0x1f9f, 1}, {0x1fa8, 0x1faf, 1}, {0x1fb8, 0x1fbc, 1}, {0x1fc8, 0x1fcc, 1},
		{0x1fd8, 0x1fdb, 1}, {0x1fe8, 0x1fec, 1}, {0x1ff8, 0x1ffc, 1},
	}}, // 96
	{name: "Greek Extended lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x1f00, 0x1f07, 1}, {0x1f10, 0x1f15, 1}, {0x1f20, 0x1f27, 1}, {0x1f30, 0x1f37, 1}, {0x1f40, 0x1f45, 1}, {0x1f50, 0x1f57, 1},
		{0x1f60, 0x1f67, 1}, {0x1f70, 0x1f7d, 1}, {0x1f80, 0x1f87, 1}, {0x1f90, 0x1f97, 1}, {0x1fa0, 0x1fa7, 1}, {0x1fb0, 0x1fb4, 1},
		{0x1fb6, 0x1fb7, 1}, {0x1fbe, 0x1fbe, 1}, {0x1fc2, 0x1fc4, 1}, {0x1fc6, 0x1fc7, 1}, {0x1fd0, 0x1fd3, 1}, {0x1fd6, 0x1fd7, 1},
		{0x1fe0, 0x1fe7, 1}, {0x1ff2, 0x1ff4, 1}, {0x1ff6, 0x1ff7, 1},
	}}, // 122
	{name: "Superscript and subscript letters", kind: charCaseless, ranges: []alphaRange{
		{0x2071, 0x2071, 1}, {0x207f, 0x207f, 1}, {0x2090, 0x209c, 1},
	}}, // 15
	{name: "Letterlike symbol upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0x2102, 0x2102, 1}, {0x2107, 0x2107, 1}, {0x210b, 0x210d, 1}, {0x2110, 0x2112, 1}, {0x2115, 0x2115, 1}, {0x2119, 0x211d, 1},
		{0x2124, 0x212a, 2}, {0x212b, 0x212d, 1}, {0x2130, 0x2133, 1}, {0x213e, 0x213f, 1}, {0x2145, 0x2145, 1},
	}}, // 28
	{name: "Letterlike symbol lower-case letters", kind: charLower, ranges: []alphaRange{
		{0x210a, 0x210a, 1}, {0x210e, 0x210f, 1}, {0x2113, 0x2113, 1}, {0x212f, 0x212f, 1}, {0x2134, 0x2134, 1}, {0x2139, 0x2139, 1},
		{0x213c, 0x213d, 1}, {0x2146, 0x2149, 1}, {0x214e, 0x214e, 1},
	}}, // 14
	{name: "Letterlike symbol letters without case", kind: charCaseless, ranges: []alphaRange{
		{0x2135, 0x2138, 1},
	}}, // 4
	{name: "CJK symbol letters", kind: charCaseless, ranges: []alphaRange{
		{0x3005, 0x3006, 1}, {0x3031, 0x3035, 1}, {0x303b, 0x303c, 1},
	}}, // 9
	{name: "Hiragana letters", kind: charCaseless, ranges: []alphaRange{
		{0x3041, 0x3096, 1}, {0x309d, 0x309f, 1},
	}}, // 89
	{name: "Katakana letters", kind: charCaseless, ranges: []alphaRange{
		{0x30a1, 0x30fa, 1}, {0x30fc, 0x30ff, 1}, {0x31f0, 0x31ff, 1},
	}}, // 110
	{name: "Hangul Compatibility Jamo letters", kind: charCaseless, ranges: []alphaRange{
		{0x3131, 0x318e, 1},
	}}, // 94
	{name: "CJK Unified Ideographs Extension A", kind: charCaseless, ranges: []alphaRange{
		{0x3400, 0x4dbf, 1},
	}}, // 6592
	{name: "CJK Unified Ideographs", kind: charCaseless, ranges: []alphaRange{
		{0x4e00, 0x9fff, 1},
	}}, // 20992
	{name: "Hangul syllables", kind: charCaseless, ranges: []alphaRange{
		{0xac00, 0xd7a3, 1},
	}}, // 11172
	{name: "Fullwidth Latin upper-case letters", kind: charUpper, ranges: []alphaRange{
		{0xff21, 0xff3a, 1},
	}}, // 26
	{name: "Fullwidth Latin lower-case letters", kind: charLower, ranges: []alphaRange{
		{0xff41, 0xff5a, 1},
	}}, // 26
	{name: "Halfwidth Katakana letters", kind: charCaseless, ranges: []alphaRange{
		{0xff66, 0xff9f, 1},
	}}, // 58
}

// digitZeros are the zeros of the decimal digit sets (Nd) beyond ASCII:
// each starts a run of ten, 0 to 9.
var digitZeros = [...]rune{
	0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, // Arabic-Indic, Extended Arabic-Indic, NKo, Devanagari, Bengali
	0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, // Gurmukhi, Gujarati, Oriya, Tamil, Telugu
	0x0ce6, 0x0d66, 0x0de6, 0x0e50, 0x0ed0, // Kannada, Malayalam, Sinhala, Thai, Lao
	0x0f20, 0x1040, 0x1090, 0x17e0, 0x1810, // Tibetan, Myanmar, Myanmar, Khmer, Mongolian
	0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, // Limbu, New Tai Lue, Tai Tham, Tai Tham, Balinese
	0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, // Sundanese, Lepcha, Ol Chiki, Vai, Saurashtra
	0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, // Kayah Li, Javanese, Myanmar, Cham, Meetei Mayek
	0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, // fullwidth, Osmanya, Hanifi Rohingya, Brahmi, Sora Sompeng
	0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, // Chakma, Sharada, Khudawadi, Newa, Tirhuta
	0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, // Modi, Takri, Ahom, Warang Citi, Dives Akuru
	0x11c50, 0x11d50, 0x11da0, 0x11f50, 0x16a60, // Bhaiksuki, Masaram Gondi, Gunjala Gondi, Kawi, Mro
	0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, // Tangsa, Pahawh Hmong, mathematical bold, double-struck, sans-serif
	0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e4f0, // mathematical sans-serif bold, monospace, Nyiakeng Puachue Hmong, Wancho, Nag Mundari
	0x1e950, 0x1fbf0, // Adlam, segmented
}
