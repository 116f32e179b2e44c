package textscan

// cardAt matches a payment card number at t[i]: 13 to 19 digits, either
// unbroken or in groups split by one kind of separator (space or dash) —
// groups of four with a shorter last group, or the 4-6-5 and 4-6-4 shapes
// of Amex and Diners — starting with an issuer digit (2-6) and passing the
// Luhn check. When a space-separated run goes on past a valid card ("4111
// 1111 1111 1111 2 items"), the longest valid prefix of whole groups wins.
func cardAt(t string, i int) (int, bool) {
	if t[i] < '2' || t[i] > '6' {
		return 0, false
	}
	n := len(t)
	var (
		digits [19]byte
		nd     int
		glen   [8]int
		gend   [8]int
		ng     int
		sep    byte
	)
	j := i
	for {
		g := 0
		for j < n && isDigit(t[j]) {
			if nd == len(digits) {
				return 0, false // a longer number
			}
			digits[nd] = t[j]
			nd++
			g++
			j++
		}
		if ng == len(glen) {
			return 0, false
		}
		glen[ng], gend[ng] = g, j
		ng++
		if j+1 < n && (t[j] == ' ' || t[j] == '-') && isDigit(t[j+1]) && (sep == 0 || t[j] == sep) {
			sep = t[j]
			j++
			continue
		}
		break
	}
	if ng > 1 && sep == '-' && !numAfter(t, gend[ng-1]) {
		return 0, false
	}
	total := nd
	for k := ng; k >= 1; k-- {
		if k < ng {
			total -= glen[k]
			if sep != ' ' {
				break // only a space may separate a card from the next number
			}
		}
		if total < 13 || total > 19 || !cardShape(glen[:k], total) {
			continue
		}
		if !numAfter(t, gend[k-1]) || !LuhnValid(digits[:total]) {
			continue
		}
		return gend[k-1], true
	}
	return 0, false
}

func cardShape(g []int, total int) bool {
	switch len(g) {
	case 1:
		return true
	case 2:
		return false
	case 3:
		if g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4) {
			return true
		}
	}
	for _, l := range g[:len(g)-1] {
		if l != 4 {
			return false
		}
	}
	last := g[len(g)-1]
	return last >= 1 && last <= 4
}

// LuhnValid reports whether ASCII digits pass the Luhn check.
func LuhnValid(d []byte) bool {
	return len(d) >= 2 && LuhnDigit(d[:len(d)-1]) == d[len(d)-1]
}

// LuhnDigit returns the check digit that makes payload‖digit pass the
// Luhn check (payload is ASCII digits): what card numbers end with, and
// what the engine sets when it generates one.
func LuhnDigit(payload []byte) byte {
	sum := 0
	double := true // the digit left of the check digit is doubled
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// ssnAt matches a US social security number ddd-dd-dddd: area not 000, 666
// or 900-999, group not 00, serial not 0000.
func ssnAt(t string, i int) (int, bool) {
	if i+11 > len(t) || t[i+3] != '-' || t[i+6] != '-' {
		return 0, false
	}
	for _, k := range [...]int{0, 1, 2, 4, 5, 7, 8, 9, 10} {
		if !isDigit(t[i+k]) {
			return 0, false
		}
	}
	if !numAfter(t, i+11) || !ssnValid(t[i:i+3], t[i+4:i+6], t[i+7:i+11]) {
		return 0, false
	}
	return i + 11, true
}

func ssnValid(area, group, serial string) bool {
	if area == "000" || area == "666" || area[0] == '9' {
		return false
	}
	return group != "00" && serial != "0000"
}

// ipv4At matches a dotted quad at t[i]: four octets 0-255 without leading
// zeros. A port (":8080"), a prefix length ("/24") or a range dash may
// follow; another ".digit" may not (that is a longer dotted number).
func ipv4At(t string, i int) (int, bool) {
	j, ok := octets(t, i)
	if !ok {
		return 0, false
	}
	if j < len(t) {
		c := t[j]
		if class[c]&cWord != 0 || c == '.' && j+1 < len(t) && isDigit(t[j+1]) {
			return 0, false
		}
	}
	return j, true
}

// octets parses four dot-separated octets at t[i] and returns their end.
func octets(t string, i int) (int, bool) {
	n := len(t)
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= n || t[j] != '.' {
				return 0, false
			}
			j++
		}
		start, v := j, 0
		for j < n && isDigit(t[j]) {
			if j-start == 3 {
				return 0, false
			}
			v = v*10 + int(t[j]-'0')
			j++
		}
		if j == start || v > 255 || j-start > 1 && t[start] == '0' {
			return 0, false
		}
	}
	return j, true
}

// phoneShape describes a parsed phone number.
type phoneShape struct {
	intl   bool    // starts with +
	digits int     // all digits, country code included
	ng     int     // digit groups
	glen   [8]int8 // their lengths
	first  [2]byte // the first two digits
	seps   int     // separators and parentheses between groups
}

// phoneAt matches a phone number at t[i]:
//   - international: +CC then 8 to 15 digits in all, grouped or not
//     (+14155552671, +44 20 7946 0958, +1 (415) 555-2671, +44 (0)20 7946 0958);
//   - North American: 3-3-4 digits with separators or a parenthesised area
//     code whose first digit is 2-9, optionally after a 1 (415-555-2671,
//     (415) 555 2671, 1-800-555-0199);
//   - trunk-prefixed national: a first group of 2-5 digits starting with 0,
//     9 to 11 digits in 2 to 5 groups (020 7946 0958, 06 12 34 56 78,
//     (02) 9876 5432).
//
// Unbroken national digit runs are not phone numbers here: they are too
// often order numbers or amounts.
func phoneAt(t string, i int) (int, bool) {
	end, ps, ok := parsePhone(t, i)
	if !ok || !numAfter(t, end) {
		return 0, false
	}
	if ps.intl {
		return end, ps.digits >= 8 && ps.digits <= 15
	}
	if ps.seps == 0 {
		return 0, false
	}
	g := ps.glen[:ps.ng]
	if len(g) == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4 {
		return 0, false // the shape of an SSN, invalid if it got here
	}
	switch {
	case len(g) == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4 && ps.first[0] >= '2':
		return end, true
	case len(g) == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4 && ps.first[0] == '1' && ps.first[1] >= '2':
		return end, true
	case ps.first[0] == '0' && g[0] >= 2 && g[0] <= 5 && len(g) >= 2 && len(g) <= 5 && ps.digits >= 9 && ps.digits <= 11:
		for _, l := range g[1:] {
			if l < 2 {
				return 0, false
			}
		}
		return end, true
	}
	return 0, false
}

// parsePhone reads digit groups separated by single spaces, dashes or dots,
// or set off by parentheses, starting at t[i] (a digit, '+' or '(').
func parsePhone(t string, i int) (end int, ps phoneShape, ok bool) {
	n := len(t)
	j := i
	if t[j] == '+' {
		ps.intl = true
		j++
		if j >= n || t[j] < '1' || t[j] > '9' {
			return 0, ps, false
		}
	}
	for {
		k := j
		paren := k < n && t[k] == '('
		if paren {
			k++
		}
		start := k
		for k < n && isDigit(t[k]) && k-start <= 15 {
			k++
		}
		g := k - start
		if g == 0 || g > 15 || paren && (g > 5 || k >= n || t[k] != ')') {
			if ps.ng == 0 {
				return 0, ps, false
			}
			break
		}
		if ps.ng == len(ps.glen) {
			return 0, ps, false // too many groups: a list of numbers
		}
		for d := start; d < k; d++ {
			if ps.digits < len(ps.first) {
				ps.first[ps.digits] = t[d]
			}
			ps.digits++
		}
		if paren {
			k++
			ps.seps++
		}
		ps.glen[ps.ng] = int8(g)
		ps.ng++
		end = k
		if ps.digits > 15 {
			return 0, ps, false
		}
		// A separator, or none next to a parenthesis.
		if k < n && (t[k] == ' ' || t[k] == '-' || t[k] == '.') && k+1 < n && (isDigit(t[k+1]) || t[k+1] == '(') {
			j = k + 1
			ps.seps++
			continue
		}
		if k < n && (paren && isDigit(t[k]) || t[k] == '(') {
			j = k
			continue
		}
		break
	}
	return end, ps, true
}
