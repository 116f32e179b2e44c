// Package textscan finds personal data and secrets inside free text: email
// addresses, phone numbers, payment card numbers, US social security numbers,
// IBANs, IP addresses, JSON web tokens and API keys. It also makes valid
// look-alike replacements for what it finds (see Fake).
//
// The scanners are hand-written: one pass over the text that dispatches on
// the current byte, checksums verified inline (Luhn, mod-97), and no
// allocation unless something is found. Go's regexp package would need one
// pass per pattern and a checksum pass on top; the scanners here are about
// a hundred times faster than that on typical messages (BenchmarkTextscan
// measures both in the same run).
//
// Every match starts and ends on a word boundary, so an entity glued to
// other letters or digits ("order12345678901234", "v1.2.3.4") is not
// reported. The rules err on the side of precision for the shapes that
// collide with everyday numbers (dates, versions, order numbers): phone
// numbers need separators or a leading + or 0, cards need a valid Luhn
// digit and an issuer digit, IBANs a valid mod-97 check.
package textscan

import (
	"slices"
	"strconv"
	"strings"
)

// Kind is one entity type the scanners know.
type Kind uint8

// The entity kinds, in the order Kinds lists them.
const (
	Email      Kind = iota // local@domain.tld
	Phone                  // +CC international numbers and common national formats
	CreditCard             // 13-19 digit payment card numbers, Luhn-checked
	SSN                    // US social security numbers, ddd-dd-dddd
	IBAN                   // international bank account numbers, mod-97 checked
	IPv4                   // dotted quads with octets up to 255
	IPv6                   // full and compressed forms, with an optional IPv4 tail
	JWT                    // three base64url segments, header starting eyJ
	APIKey                 // AWS, GitHub, GitLab, Slack, Stripe, Google, npm keys, bearer tokens
	numKinds
)

var kindNames = [numKinds]string{"email", "phone", "credit_card", "ssn", "iban", "ipv4", "ipv6", "jwt", "api_key"}

// String returns the kind's snake_case name ("credit_card").
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Label returns the kind's DataMasque-style label ("CREDIT_CARD").
func (k Kind) Label() string { return strings.ToUpper(k.String()) }

// Kinds lists every kind.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// ParseKind returns the kind named name, matching its name or its label
// case-insensitively ("email", "EMAIL").
func ParseKind(name string) (Kind, bool) {
	for i, n := range kindNames {
		if strings.EqualFold(n, name) {
			return Kind(i), true
		}
	}
	return 0, false
}

// Set is a set of kinds.
type Set uint16

// All holds every kind.
const All Set = 1<<numKinds - 1

// SetOf returns the set holding ks.
func SetOf(ks ...Kind) Set {
	var s Set
	for _, k := range ks {
		s |= 1 << k
	}
	return s & All
}

// Has reports whether k is in s.
func (s Set) Has(k Kind) bool { return s&(1<<k) != 0 }

// Kinds lists the kinds in s in Kinds order.
func (s Set) Kinds() []Kind {
	var out []Kind
	for k := Kind(0); k < numKinds; k++ {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

var presets = map[string]Set{
	"pii":           All,
	"contact":       SetOf(Email, Phone),
	"financial":     SetOf(CreditCard, IBAN),
	"government_id": SetOf(SSN),
	"network":       SetOf(IPv4, IPv6),
	"credentials":   SetOf(JWT, APIKey),
}

// Preset returns the kinds of a named preset: "pii" (every kind),
// "contact" (email, phone), "financial" (credit_card, iban),
// "government_id" (ssn), "network" (ipv4, ipv6) or "credentials" (jwt,
// api_key).
func Preset(name string) (Set, bool) {
	s, ok := presets[strings.ToLower(name)]
	return s, ok
}

// PresetNames lists the preset names, sorted.
func PresetNames() []string {
	out := make([]string, 0, len(presets))
	for n := range presets {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Match is one entity found in a text: text[Start:End] is the entity.
type Match struct {
	Start, End int
	Kind       Kind
}
