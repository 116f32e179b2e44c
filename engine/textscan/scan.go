package textscan

import "strings"

// Byte classes, one table lookup per byte on the hot path.
const (
	cDigit uint8 = 1 << iota // 0-9
	cUpper                   // A-Z
	cLower                   // a-z
	cHex                     // 0-9 a-f A-F
	cWord                    // letters, digits, '_': what a match may not touch
	cB64                     // base64url: letters, digits, '_', '-'
	cLocal                   // email local part: letters, digits, ._%+-
	cStart                   // a byte some entity may start with
)

const cAlnum = cDigit | cUpper | cLower

// class holds the byte classes. Bytes >= 0x80 have none: text in other
// scripts, non-breaking spaces and typographic quotes all count as
// boundaries, so an entity in “quotes” is still found.
var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit | cHex | cWord | cB64 | cLocal | cStart
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= cUpper | cWord | cB64 | cLocal | cStart
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cLower | cWord | cB64 | cLocal | cStart
	}
	for _, c := range "abcdefABCDEF" {
		t[c] |= cHex
	}
	t['_'] |= cWord | cB64 | cLocal
	t['-'] |= cB64 | cLocal
	t['.'] |= cLocal
	t['%'] |= cLocal
	t['+'] |= cLocal | cStart // +CC phone numbers
	t['('] |= cStart          // (415) 555-2671
	t[':'] |= cStart          // ::1
	return t
}()

func isDigit(c byte) bool { return c-'0' < 10 }

// Find appends to dst the entities of the kinds in kinds found in text, in
// order and without overlaps, and returns the extended slice. Where two
// kinds could start at the same place the more specific wins (an email over
// the digits of its local part, a card over a phone number). It allocates
// only to grow dst.
func Find(text string, kinds Set, dst []Match) []Match {
	if kinds&All == 0 {
		return dst
	}
	s := scanner{t: text, kinds: kinds, at: -1}
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		cl := class[c]
		if cl&cStart == 0 {
			i++
			continue
		}
		if i > 0 && class[text[i-1]]&cWord != 0 {
			// Inside a word: no entity starts here.
			i++
			continue
		}
		if m, ok := s.match(i); ok {
			dst = append(dst, m)
			i = m.End
			continue
		}
		i++
		if cl&cWord != 0 {
			for i < n && class[text[i]]&cWord != 0 {
				i++
			}
		}
	}
	return dst
}

// scanner is the state of one Find call.
type scanner struct {
	t     string
	kinds Set
	// at is the index of the next '@' at or after the last email attempt
	// (len(t) when there is none, -1 before the first look), so email
	// attempts cost nothing in text without an '@'.
	at int
}

// match tries every enabled kind that can start at t[i], where t[i] starts
// a word.
func (s *scanner) match(i int) (Match, bool) {
	t, k := s.t, s.kinds
	c := t[i]
	if class[c]&cAlnum != 0 && k.Has(Email) {
		if e, ok := s.email(i); ok {
			return Match{i, e, Email}, true
		}
	}
	switch {
	case isDigit(c):
		if !numBefore(t, i) {
			// Only an address may follow a dash straight after a digit:
			// the second end of a range (10.0.0.1-10.0.0.9).
			if k.Has(IPv4) && t[i-1] == '-' {
				if e, ok := ipv4At(t, i); ok {
					return Match{i, e, IPv4}, true
				}
			}
			return Match{}, false
		}
		if k.Has(CreditCard) {
			if e, ok := cardAt(t, i); ok {
				return Match{i, e, CreditCard}, true
			}
		}
		if k.Has(SSN) {
			if e, ok := ssnAt(t, i); ok {
				return Match{i, e, SSN}, true
			}
		}
		if k.Has(IPv4) {
			if e, ok := ipv4At(t, i); ok {
				return Match{i, e, IPv4}, true
			}
		}
		if k.Has(IPv6) {
			if e, ok := ipv6At(t, i); ok {
				return Match{i, e, IPv6}, true
			}
		}
		if k.Has(Phone) {
			if e, ok := phoneAt(t, i); ok {
				return Match{i, e, Phone}, true
			}
		}
	case c == '+' || c == '(':
		if k.Has(Phone) && numBefore(t, i) {
			if e, ok := phoneAt(t, i); ok {
				return Match{i, e, Phone}, true
			}
		}
	case c == ':':
		if k.Has(IPv6) && (i == 0 || t[i-1] != ':') {
			if e, ok := ipv6At(t, i); ok {
				return Match{i, e, IPv6}, true
			}
		}
	default: // a letter
		if k.Has(JWT) && c == 'e' {
			if e, ok := jwtAt(t, i); ok {
				return Match{i, e, JWT}, true
			}
		}
		if k&(1<<APIKey|1<<JWT) != 0 && (c == 'B' || c == 'b') {
			if m, ok := bearerAt(t, i, k); ok {
				return m, true
			}
		}
		if k.Has(APIKey) {
			if e, _, ok := apiKeyAt(t, i); ok {
				return Match{i, e, APIKey}, true
			}
		}
		if k.Has(IBAN) && class[c]&cUpper != 0 {
			if e, ok := ibanAt(t, i); ok {
				return Match{i, e, IBAN}, true
			}
		}
		if k.Has(IPv6) && class[c]&cHex != 0 {
			if e, ok := ipv6At(t, i); ok {
				return Match{i, e, IPv6}, true
			}
		}
	}
	return Match{}, false
}

// numBefore reports whether a number may start at t[i]: not glued to a
// word, and not the continuation of a dotted, dashed or slashed number
// ("1.2.3.4.5", "2024-01-15").
func numBefore(t string, i int) bool {
	if i == 0 {
		return true
	}
	switch p := t[i-1]; p {
	case '.', '-', '/':
		return i < 2 || !isDigit(t[i-2])
	default:
		return class[p]&cWord == 0
	}
}

// numAfter reports whether a number may end before t[j]: the same rule
// mirrored.
func numAfter(t string, j int) bool {
	if j >= len(t) {
		return true
	}
	switch c := t[j]; c {
	case '.', '-', '/':
		return j+1 >= len(t) || !isDigit(t[j+1])
	default:
		return class[c]&cWord == 0
	}
}

// email matches local@domain.tld where t[i] starts the local part.
func (s *scanner) email(i int) (int, bool) {
	t := s.t
	n := len(t)
	if s.at < i {
		if k := strings.IndexByte(t[i:], '@'); k >= 0 {
			s.at = i + k
		} else {
			s.at = n
		}
	}
	at := s.at
	if at >= n || at <= i || at-i > 64 {
		return 0, false
	}
	for j := i; j < at; j++ {
		c := t[j]
		if class[c]&cLocal == 0 || c == '.' && t[j-1] == '.' {
			return 0, false
		}
	}
	if t[at-1] == '.' {
		return 0, false
	}
	end, labels := -1, 0
	// A domain is at most 255 bytes: never look further.
	lim := min(n, at+257)
	for j := at + 1; ; {
		s0 := j
		for j < lim && (class[t[j]]&cAlnum != 0 || t[j] == '-') {
			j++
		}
		if j == s0 || j-s0 > 63 || t[s0] == '-' || t[j-1] == '-' {
			break
		}
		labels++
		if labels >= 2 && j-s0 >= 2 && allLetters(t[s0:j]) {
			end = j
		}
		if j+1 < lim && t[j] == '.' && class[t[j+1]]&cAlnum != 0 {
			j++
			continue
		}
		break
	}
	if end < 0 || end-at > 256 {
		return 0, false
	}
	if end < n && (class[t[end]]&cWord != 0 || t[end] == '-' || t[end] == '@') {
		return 0, false
	}
	return end, true
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if class[s[i]]&(cUpper|cLower) == 0 {
			return false
		}
	}
	return true
}
