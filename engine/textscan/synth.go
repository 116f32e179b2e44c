package textscan

import (
	"encoding/base64"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/brianvoe/gofakeit/v7/data"
)

// Source is a stream of random bits: engine.Rand, or any math/rand/v2
// source. Fake's output is a function of the source's stream and the
// original only.
type Source interface {
	Uint64() uint64
}

// intn returns a uniform int in [0, n) (Lemire's method, without modulo
// bias).
func intn(src Source, n int) int {
	un := uint64(n)
	for {
		hi, lo := bits.Mul64(src.Uint64(), un)
		if lo >= un || lo >= -un%un {
			return int(hi)
		}
	}
}

// Fake appends to dst a replacement for orig, an entity of kind k as Find
// reports it, and returns the extended slice. The replacement is found by
// Find as the same kind (for an APIKey bearer token: after "Bearer "),
// keeps the original's layout where the kind has one (separators, spacing,
// length, country, key prefix) and differs from orig:
//
//   - email: first.last[NN]@example.com, .net or .org (RFC 2606 domains);
//   - phone: the same format, the country code or trunk prefix and first
//     digit kept, the other digits drawn;
//   - credit_card: the same length, grouping and first two (issuer) digits,
//     with a valid Luhn digit;
//   - ssn: a number that follows the issuing rules;
//   - iban: the same country, length and spacing, letters and digits where
//     the original has them, valid check digits;
//   - ipv4: an address of the same scope (10/8, 172.16/12, 192.168/16,
//     127/8, 169.254/16), else from 198.18.0.0/15 (reserved for tests);
//   - ipv6: an address in 2001:db8::/32 (reserved for documentation);
//   - jwt: a well-formed token with a random key id, subject and signature;
//   - api_key: the same prefix and length, each character drawn from its
//     own class (upper, lower, digit), punctuation kept.
func Fake(dst []byte, k Kind, orig string, src Source) []byte {
	base := len(dst)
	for range 16 {
		dst = fake(dst[:base], k, orig, src)
		if string(dst[base:]) != orig {
			return dst
		}
	}
	return dst
}

func fake(dst []byte, k Kind, orig string, src Source) []byte {
	switch k {
	case Email:
		return fakeEmail(dst, src)
	case Phone:
		return fakePhone(dst, orig, src)
	case CreditCard:
		return fakeCard(dst, orig, src)
	case SSN:
		return fakeSSN(dst, src)
	case IBAN:
		return fakeIBAN(dst, orig, src)
	case IPv4:
		return fakeIPv4(dst, orig, src)
	case IPv6:
		return fakeIPv6(dst, src)
	case JWT:
		return fakeJWT(dst, src)
	}
	return fakeKey(dst, orig, src)
}

// Name lists for emails: gofakeit's, reduced to plain ASCII letters so the
// local part is always valid.
var firstNames, lastNames = asciiNames(data.Person["first"]), asciiNames(data.Person["last"])

func asciiNames(in []string) []string {
	out := make([]string, 0, len(in))
next:
	for _, n := range in {
		if len(n) < 2 {
			continue
		}
		for i := 0; i < len(n); i++ {
			if class[n[i]]&(cUpper|cLower) == 0 {
				continue next
			}
		}
		out = append(out, strings.ToLower(n))
	}
	return out
}

var safeDomains = [...]string{"example.com", "example.net", "example.org"}

func fakeEmail(dst []byte, src Source) []byte {
	dst = append(dst, firstNames[intn(src, len(firstNames))]...)
	dst = append(dst, '.')
	dst = append(dst, lastNames[intn(src, len(lastNames))]...)
	if src.Uint64()&1 == 1 {
		dst = strconv.AppendInt(dst, int64(10+intn(src, 90)), 10)
	}
	dst = append(dst, '@')
	return append(dst, safeDomains[intn(src, len(safeDomains))]...)
}

// keepDigits replaces every digit of orig after the first keep with a
// random one, leaving everything else as it was.
func keepDigits(dst []byte, orig string, keep int, src Source) []byte {
	seen := 0
	for i := 0; i < len(orig); i++ {
		c := orig[i]
		if isDigit(c) {
			if seen >= keep {
				c = byte('0' + intn(src, 10))
			}
			seen++
		}
		dst = append(dst, c)
	}
	return dst
}

func fakePhone(dst []byte, orig string, src Source) []byte {
	keep := 1
	if orig != "" && orig[0] == '+' {
		var d [3]byte
		nd := 0
		for i := 1; i < len(orig) && nd < 3; i++ {
			if isDigit(orig[i]) {
				d[nd] = orig[i]
				nd++
			}
		}
		keep = countryCodeLen(d) + 1
	} else if _, ps, ok := parsePhone(orig, 0); ok && (ps.first[0] == '0' || ps.ng == 4 && ps.glen[0] == 1) {
		keep = 2 // the trunk 0 and the next digit; or 1-800: the 1 and the area code's first
	}
	return keepDigits(dst, orig, keep, src)
}

// countryCodeLen returns the length of the ITU country calling code that
// begins with the digits d.
func countryCodeLen(d [3]byte) int {
	switch d[0] {
	case '1', '7':
		return 1
	case '2':
		if d[1] == '0' || d[1] == '7' {
			return 2
		}
	case '3':
		if d[1] <= '4' || d[1] == '6' || d[1] == '9' {
			return 2
		}
	case '4':
		if d[1] != '2' {
			return 2
		}
	case '5':
		if d[1] >= '1' && d[1] <= '8' {
			return 2
		}
	case '6':
		if d[1] <= '6' {
			return 2
		}
	case '8':
		if d[1] == '1' || d[1] == '2' || d[1] == '4' || d[1] == '6' {
			return 2
		}
	case '9':
		if d[1] <= '5' || d[1] == '8' {
			return 2
		}
	}
	return 3
}

func fakeCard(dst []byte, orig string, src Source) []byte {
	base := len(dst)
	dst = keepDigits(dst, orig, 2, src)
	// The last digit becomes the Luhn check digit of the ones before it;
	// the separators between them do not count.
	out := dst[base:]
	var buf [24]byte // a card has at most 19 digits
	digits, last := buf[:0], -1
	for i, c := range out {
		if isDigit(c) {
			digits = append(digits, c)
			last = i
		}
	}
	if last >= 0 {
		out[last] = LuhnDigit(digits[:len(digits)-1])
	}
	return dst
}

func fakeSSN(dst []byte, src Source) []byte {
	area := 1 + intn(src, 898) // 001-898, 666 moved to 899
	if area == 666 {
		area = 899
	}
	group := 1 + intn(src, 99)
	serial := 1 + intn(src, 9999)
	dst = appendPadded(dst, area, 3)
	dst = append(dst, '-')
	dst = appendPadded(dst, group, 2)
	dst = append(dst, '-')
	return appendPadded(dst, serial, 4)
}

func appendPadded(dst []byte, v, width int) []byte {
	var b [8]byte
	s := strconv.AppendInt(b[:0], int64(v), 10)
	for range width - len(s) {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// randomLike returns a random byte of c's class (upper, lower, digit), or c.
func randomLike(c byte, src Source) byte {
	switch {
	case isDigit(c):
		return byte('0' + intn(src, 10))
	case class[c]&cUpper != 0:
		return byte('A' + intn(src, 26))
	case class[c]&cLower != 0:
		return byte('a' + intn(src, 26))
	}
	return c
}

func fakeIBAN(dst []byte, orig string, src Source) []byte {
	var buf [34]byte
	l := 0
	for i := 0; i < len(orig) && l < len(buf); i++ {
		if orig[i] != ' ' {
			buf[l] = orig[i]
			l++
		}
	}
	if l < 5 {
		return fakeKey(dst, orig, src)
	}
	for k := 4; k < l; k++ {
		buf[k] = randomLike(buf[k], src)
	}
	buf[2], buf[3] = '0', '0'
	check := 98 - ibanMod97(buf[:l])
	buf[2], buf[3] = byte('0'+check/10), byte('0'+check%10)
	k := 0
	for i := 0; i < len(orig); i++ {
		if orig[i] == ' ' {
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, buf[k])
		k++
	}
	return dst
}

func fakeIPv4(dst []byte, orig string, src Source) []byte {
	var o [4]int
	k := 0
	for i := 0; i < len(orig) && k < 4; i++ {
		if c := orig[i]; c == '.' {
			k++
		} else if isDigit(c) {
			o[k] = o[k]*10 + int(c-'0')
		}
	}
	r := func(n int) int { return intn(src, n) }
	var out [4]int
	switch {
	case o[0] == 10:
		out = [4]int{10, r(256), r(256), 1 + r(254)}
	case o[0] == 172 && o[1] >= 16 && o[1] < 32:
		out = [4]int{172, 16 + r(16), r(256), 1 + r(254)}
	case o[0] == 192 && o[1] == 168:
		out = [4]int{192, 168, r(256), 1 + r(254)}
	case o[0] == 127:
		out = [4]int{127, r(256), r(256), 1 + r(254)}
	case o[0] == 169 && o[1] == 254:
		out = [4]int{169, 254, 1 + r(254), 1 + r(254)}
	default:
		out = [4]int{198, 18 + r(2), r(256), 1 + r(254)}
	}
	for i, v := range out {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendInt(dst, int64(v), 10)
	}
	return dst
}

func fakeIPv6(dst []byte, src Source) []byte {
	dst = append(dst, "2001:db8"...)
	for range 6 {
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(intn(src, 1<<16)), 16)
	}
	return dst
}

func fakeJWT(dst []byte, src Source) []byte {
	var js [96]byte
	enc := base64.RawURLEncoding
	h := append(js[:0], `{"alg":"HS256","typ":"JWT","kid":"`...)
	h = appendHex(h, src.Uint64()&0xffffffff, 8)
	h = append(h, `"}`...)
	dst = enc.AppendEncode(dst, h)
	dst = append(dst, '.')
	p := append(js[:0], `{"sub":"`...)
	p = strconv.AppendInt(p, int64(100000+intn(src, 900000)), 10)
	p = append(p, `","iat":`...)
	p = strconv.AppendInt(p, int64(1500000000+intn(src, 300000000)), 10)
	p = append(p, '}')
	dst = enc.AppendEncode(dst, p)
	dst = append(dst, '.')
	var sig [32]byte
	for i := 0; i < len(sig); i += 8 {
		v := src.Uint64()
		for b := range 8 {
			sig[i+b] = byte(v >> (8 * b))
		}
	}
	return enc.AppendEncode(dst, sig[:])
}

func appendHex(dst []byte, v uint64, width int) []byte {
	const hexDigits = "0123456789abcdef"
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(4*i))&0xf])
	}
	return dst
}

// fakeKey keeps a known key prefix and redraws every letter and digit
// after it within its class.
func fakeKey(dst []byte, orig string, src Source) []byte {
	keep := 0
	if orig != "" {
		if _, ks, ok := apiKeyAt(orig, 0); ok {
			keep = len(ks.prefix)
		}
	}
	dst = append(dst, orig[:keep]...)
	for i := keep; i < len(orig); i++ {
		dst = append(dst, randomLike(orig[i], src))
	}
	return dst
}

// Valid reports whether s, as a whole, is an entity of kind k.
func Valid(k Kind, s string) bool {
	var buf [2]Match
	m := Find(s, SetOf(k), buf[:0])
	return len(m) == 1 && m[0].Start == 0 && m[0].End == len(s) && m[0].Kind == k
}

// AppendCanonical appends the form of entity s of kind k that stays the
// same however it is written, for keying consistent replacements: digits
// only for phone numbers (+ kept), cards and SSNs; no spaces for IBANs;
// lowercase for emails; the full lowercase form for IPv6; s itself for the
// rest.
func AppendCanonical(dst []byte, k Kind, s string) []byte {
	switch k {
	case Phone, CreditCard, SSN:
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) || s[i] == '+' {
				dst = append(dst, s[i])
			}
		}
		return dst
	case IBAN:
		for i := 0; i < len(s); i++ {
			if s[i] != ' ' {
				dst = append(dst, s[i])
			}
		}
		return dst
	case Email:
		for i := 0; i < len(s); i++ {
			c := s[i]
			if class[c]&cUpper != 0 {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	case IPv6:
		if a, err := netip.ParseAddr(s); err == nil {
			b := a.As16()
			for i := 0; i < 16; i += 2 {
				if i > 0 {
					dst = append(dst, ':')
				}
				dst = strconv.AppendUint(dst, uint64(b[i])<<8|uint64(b[i+1]), 16)
			}
			return dst
		}
	}
	return append(dst, s...)
}
