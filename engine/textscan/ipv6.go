package textscan

import "strings"

// ipv6At matches an IPv6 address at t[i]: eight groups of 1-4 hex digits,
// or fewer with one "::", optionally ending in a dotted IPv4 tail
// (::ffff:192.0.2.1). To keep clear of clock times, MAC addresses and
// C++ scopes ("12:30:45", "00:1a:2b:3c:4d:5e", "a::b"), a compressed form
// needs at least one decimal digit and "::" alone is not an address. A
// zone ("%eth0") is left out of the match.
func ipv6At(t string, i int) (int, bool) {
	if i > 0 && (t[i-1] == ':' || t[i-1] == '.') {
		return 0, false // the tail of something longer
	}
	n := len(t)
	// Unless it starts with "::", an address has a ':' after its first
	// group of one to four hex digits: words of prose, which reach here
	// when they start with a-f, are turned away without a full look.
	if t[i] != ':' && strings.IndexByte(t[i+1:min(i+5, n)], ':') < 0 {
		return 0, false
	}
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
