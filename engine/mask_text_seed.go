package engine

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// txtSeedIndex finds the values of a seed file column in text, each as a
// whole word or run of words: "Ann" matches in "Ann's" and "(Ann)" but not
// in "Annual". Values may span several words ("Mary Ann"); at one place
// the longest value wins.
//
// Values are keyed by a hash of their (case-folded) runes, so the scan
// hashes each candidate while it walks and never builds a string; a hash
// hit is confirmed by comparing the text.
type txtSeedIndex struct {
	fold   bool
	values []string
	byHash map[uint64][]int32
	// lens marks the byte lengths values have, to skip lookups for the
	// others; maxLen bounds how far a candidate is followed.
	lens   []bool
	maxLen int
	count  int
}

const (
	txtFNVOffset = 14695981039346656037
	txtFNVPrime  = 1099511628211
)

func txtHashRune(h uint64, r rune) uint64 {
	h ^= uint64(r)
	return h * txtFNVPrime
}

// txtFoldRune maps r to the form the index keys by when matching ignores
// case. strings.EqualFold confirms every hit, so a rune whose case folding
// is more than a lowercase mapping only costs a missed match.
func txtFoldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// txtWordRune reports whether r belongs to a word: letters, digits and
// marks.
func txtWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// newTxtSeedIndex indexes the values, trimmed, leaving out those shorter
// than two characters (a one-letter value would mask every "a" and "I")
// and those that do not start and end with a word character (they could
// never sit on word boundaries).
func newTxtSeedIndex(values []string, caseSensitive bool) *txtSeedIndex {
	x := &txtSeedIndex{fold: !caseSensitive, byHash: make(map[uint64][]int32, len(values))}
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if utf8.RuneCountInString(v) < 2 {
			continue
		}
		first, _ := utf8.DecodeRuneInString(v)
		last, _ := utf8.DecodeLastRuneInString(v)
		if !txtWordRune(first) || !txtWordRune(last) {
			continue
		}
		key := v
		if x.fold {
			key = strings.ToLower(v)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		h := uint64(txtFNVOffset)
		for _, r := range v {
			if x.fold {
				r = txtFoldRune(r)
			}
			h = txtHashRune(h, r)
		}
		x.byHash[h] = append(x.byHash[h], int32(len(x.values)))
		x.values = append(x.values, v)
		x.maxLen = max(x.maxLen, len(v))
	}
	x.count = len(x.values)
	x.lens = make([]bool, x.maxLen+1)
	for _, v := range x.values {
		x.lens[len(v)] = true
	}
	return x
}

// find appends the spans of the values found in text, under label and
// prio, and returns the extended slice.
func (x *txtSeedIndex) find(text string, dst []txtSpan, label, prio int) []txtSpan {
	n := len(text)
	for i := 0; i < n; {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !txtWordRune(r) {
			i += size
			continue
		}
		// text[i] starts a word: follow candidates up to the longest
		// value, looking each up where a word ends.
		best := -1
		h := uint64(txtFNVOffset)
		for j := i; j < n && j-i < x.maxLen; {
			rj, sj := utf8.DecodeRuneInString(text[j:])
			if x.fold {
				rj = txtFoldRune(rj)
			}
			h = txtHashRune(h, rj)
			j += sj
			if j-i > x.maxLen || !x.lens[j-i] {
				continue
			}
			if j < n {
				if next, _ := utf8.DecodeRuneInString(text[j:]); txtWordRune(next) {
					continue
				}
			}
			if x.hit(h, text[i:j]) {
				best = j
			}
		}
		if best > 0 {
			dst = append(dst, txtSpan{start: i, end: best, label: label, prio: prio, kind: -1})
			i = best
			continue
		}
		// Skip the rest of this word: no value starts inside it.
		for i < n {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !txtWordRune(r) {
				break
			}
			i += size
		}
	}
	return dst
}

func (x *txtSeedIndex) hit(h uint64, s string) bool {
	for _, k := range x.byHash[h] {
		v := x.values[k]
		if x.fold && strings.EqualFold(v, s) || !x.fold && v == s {
			return true
		}
	}
	return false
}
