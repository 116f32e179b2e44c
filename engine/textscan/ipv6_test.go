package textscan

import (
	"math/rand/v2"
	"testing"
)

// TestIPv6AtQuickReject: ipv6At with its early exit agrees with the full
// matcher (kept here as ipv6AtRef) at every position of random text
// made of address characters and prose.
func TestIPv6AtQuickReject(t *testing.T) {
	const alphabet = "0123456789abcdefABCDEFgxz::::...% -"
	r := rand.New(rand.NewPCG(6, 6))
	for range 200000 {
		b := make([]byte, 1+r.IntN(40))
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		for i := range len(s) {
			e1, ok1 := ipv6At(s, i)
			e2, ok2 := ipv6AtRef(s, i)
			if e1 != e2 || ok1 != ok2 {
				t.Fatalf("ipv6At(%q, %d) = %d, %v; the full matcher says %d, %v", s, i, e1, ok1, e2, ok2)
			}
		}
	}
}

// ipv6AtRef is ipv6At without its early exit: the reference.
func ipv6AtRef(t string, i int) (int, bool) {
	if i > 0 && (t[i-1] == ':' || t[i-1] == '.') {
		return 0, false // the tail of something longer
	}
	n := len(t)
	j := i
	groups, dbl, digit := 0, false, false
	if t[j] == ':' {
		if j+1 >= n || t[j+1] != ':' {
			return 0, false
		}
		dbl = true
		j += 2
	}
	end := j
	for {
		start := j
		hasDigit := false
		for j < n && class[t[j]]&cHex != 0 {
			if j-start == 4 {
				return 0, false // a group of five or more: not an address
			}
			hasDigit = hasDigit || isDigit(t[j])
			j++
		}
		if j == start {
			break
		}
		if j < n && t[j] == '.' && groups <= 6 {
			// Maybe the dotted IPv4 tail, which stands for two groups.
			if e, ok := octets(t, start); ok {
				groups += 2
				digit = true
				end = e
				break
			}
		}
		groups++
		digit = digit || hasDigit
		end = j
		if groups > 8 {
			return 0, false
		}
		if j+1 < n && t[j] == ':' && t[j+1] == ':' {
			if dbl {
				return 0, false
			}
			dbl = true
			j += 2
			end = j
			continue
		}
		if j+1 < n && t[j] == ':' && class[t[j+1]]&cHex != 0 {
			j++
			continue
		}
		break
	}
	if dbl && (groups > 7 || groups == 0 || !digit) || !dbl && groups != 8 {
		return 0, false
	}
	if end < n {
		c := t[end]
		if class[c]&cWord != 0 || c == '.' && end+1 < n && isDigit(t[end+1]) || c == ':' && end+1 < n && class[t[end+1]]&cHex != 0 {
			return 0, false
		}
	}
	return end, true
}

// FuzzIPv6At: ipv6At and the full matcher agree at every position of any
// text.
func FuzzIPv6At(f *testing.F) {
	for _, s := range []string{"2001:db8::1", "fe80::1%eth0 ::ffff:192.0.2.1", "a::b 12:30:45 dead:beef:0:0:0:0:0:1", "::", "abcd:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := range len(s) {
			e1, ok1 := ipv6At(s, i)
			e2, ok2 := ipv6AtRef(s, i)
			if e1 != e2 || ok1 != ok2 {
				t.Fatalf("ipv6At(%q, %d) = %d, %v; the full matcher says %d, %v", s, i, e1, ok1, e2, ok2)
			}
		}
	})
}
