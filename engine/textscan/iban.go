package textscan

// ibanLengths is the IBAN length of each country that issues them (the
// SWIFT IBAN registry), as CC and two digits.
const ibanLengths = "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30"

// ibanLen maps a country code (26*(a-'A')+(b-'A')) to its IBAN length.
var ibanLen = func() (t [26 * 26]uint8) {
	for k := 0; k+4 <= len(ibanLengths); k += 4 {
		cc := int(ibanLengths[k]-'A')*26 + int(ibanLengths[k+1]-'A')
		t[cc] = (ibanLengths[k+2]-'0')*10 + ibanLengths[k+3] - '0'
	}
	return t
}()

func ibanLength(a, b byte) int {
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return 0
	}
	return int(ibanLen[int(a-'A')*26+int(b-'A')])
}

// ibanAt matches an IBAN at t[i]: a country code that issues IBANs, two
// check digits and the country's length of uppercase letters and digits,
// either unbroken or in groups of four split by single spaces, passing the
// ISO 13616 mod-97 check.
func ibanAt(t string, i int) (int, bool) {
	n := len(t)
	if i+4 > n || !isDigit(t[i+2]) || !isDigit(t[i+3]) {
		return 0, false
	}
	l := ibanLength(t[i], t[i+1])
	if l == 0 {
		return 0, false
	}
	var buf [34]byte
	copy(buf[:4], t[i:i+4])
	j := i + 4
	spaced := j < n && t[j] == ' '
	for k := 4; k < l; k++ {
		if spaced && k%4 == 0 {
			if j >= n || t[j] != ' ' {
				return 0, false
			}
			j++
		}
		if j >= n || class[t[j]]&(cUpper|cDigit) == 0 {
			return 0, false
		}
		buf[k] = t[j]
		j++
	}
	if j < n && class[t[j]]&cWord != 0 || ibanMod97(buf[:l]) != 1 {
		return 0, false
	}
	return j, true
}

// ibanMod97 is the ISO 7064 mod-97 remainder of an IBAN's characters
// (uppercase letters and digits, country code first) after moving the first
// four to the end and reading letters as 10-35.
func ibanMod97(s []byte) int {
	r := 0
	add := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	for _, c := range s[4:] {
		add(c)
	}
	for _, c := range s[:4] {
		add(c)
	}
	return r
}
