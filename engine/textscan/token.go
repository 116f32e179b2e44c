package textscan

import "strings"

// jwtAt matches a JSON web token at t[i]: three base64url segments joined
// by dots, the header starting "eyJ" (base64 of `{"`). A fourth and fifth
// segment (an encrypted JWE) are not followed into.
func jwtAt(t string, i int) (int, bool) {
	// A token glued to base64url text is part of something longer; the
	// rule also keeps chains of lookalikes linear.
	if !strings.HasPrefix(t[i:], "eyJ") || i > 0 && class[t[i-1]]&cB64 != 0 {
		return 0, false
	}
	n := len(t)
	j := i
	for seg, min := range [...]int{10, 2, 1} {
		s := j
		for j < n && class[t[j]]&cB64 != 0 {
			j++
		}
		if j-s < min {
			return 0, false
		}
		if seg < 2 {
			if j >= n || t[j] != '.' {
				return 0, false
			}
			j++
		}
	}
	if j+1 < n && t[j] == '.' && class[t[j+1]]&cB64 != 0 {
		return 0, false
	}
	return j, true
}

// keyShape is one known API key format: a fixed prefix and a body of
// min..max bytes of a class.
type keyShape struct {
	prefix    string
	body      uint8 // byte classes the body may hold
	min, max  int
	needDigit bool // bodies of plain words are not keys
}

const cAlnumUnder = cAlnum | cWord // letters, digits, '_'

// keyShapes lists the API key formats found by prefix, longest prefix of a
// family first.
var keyShapes = []keyShape{
	// AWS access key ids (long-term AKIA, temporary ASIA, and the other
	// unique-id prefixes that leak in the same places).
	{prefix: "AKIA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "ASIA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "ABIA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "ACCA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "AGPA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "AIDA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "AIPA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "ANPA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "ANVA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "AROA", body: cUpper | cDigit, min: 16, max: 16},
	{prefix: "APKA", body: cUpper | cDigit, min: 16, max: 16},
	// Google API keys.
	{prefix: "AIza", body: cB64, min: 35, max: 35},
	// GitHub tokens: personal, OAuth, user-to-server, server-to-server,
	// refresh, and fine-grained personal tokens.
	{prefix: "github_pat_", body: cAlnumUnder, min: 22, max: 255},
	{prefix: "ghp_", body: cAlnum, min: 30, max: 251},
	{prefix: "gho_", body: cAlnum, min: 30, max: 251},
	{prefix: "ghu_", body: cAlnum, min: 30, max: 251},
	{prefix: "ghs_", body: cAlnum, min: 30, max: 251},
	{prefix: "ghr_", body: cAlnum, min: 30, max: 251},
	// GitLab personal access tokens.
	{prefix: "glpat-", body: cB64, min: 20, max: 255},
	// Slack bot, user, app, refresh and legacy tokens.
	{prefix: "xoxb-", body: cB64, min: 10, max: 255, needDigit: true},
	{prefix: "xoxp-", body: cB64, min: 10, max: 255, needDigit: true},
	{prefix: "xoxa-", body: cB64, min: 10, max: 255, needDigit: true},
	{prefix: "xoxr-", body: cB64, min: 10, max: 255, needDigit: true},
	{prefix: "xoxs-", body: cB64, min: 10, max: 255, needDigit: true},
	{prefix: "xoxo-", body: cB64, min: 10, max: 255, needDigit: true},
	// Stripe secret, publishable and restricted keys.
	{prefix: "sk_live_", body: cAlnum, min: 10, max: 255},
	{prefix: "pk_live_", body: cAlnum, min: 10, max: 255},
	{prefix: "rk_live_", body: cAlnum, min: 10, max: 255},
	{prefix: "sk_test_", body: cAlnum, min: 10, max: 255},
	{prefix: "pk_test_", body: cAlnum, min: 10, max: 255},
	{prefix: "rk_test_", body: cAlnum, min: 10, max: 255},
	// OpenAI-style and Anthropic-style secret keys (sk-..., sk-proj-...,
	// sk-ant-...).
	{prefix: "sk-", body: cB64, min: 32, max: 255, needDigit: true},
	// npm access tokens.
	{prefix: "npm_", body: cAlnum, min: 36, max: 36},
}

// keysByFirst lists, per first byte, the indexes of the key shapes whose
// prefix starts with it, so most words cost one table lookup.
var keysByFirst = func() (t [256][]uint8) {
	for k, ks := range keyShapes {
		t[ks.prefix[0]] = append(t[ks.prefix[0]], uint8(k))
	}
	return t
}()

// apiKeyAt matches a known API key at t[i] and returns its end and shape.
func apiKeyAt(t string, i int) (int, *keyShape, bool) {
	cands := keysByFirst[t[i]]
	if len(cands) == 0 || i+1 >= len(t) {
		return 0, nil, false
	}
	n := len(t)
	c1 := t[i+1]
	for _, k := range cands {
		ks := &keyShapes[k]
		if ks.prefix[1] != c1 || !strings.HasPrefix(t[i:], ks.prefix) {
			continue
		}
		j := i + len(ks.prefix)
		s := j
		digit := false
		for j < n && class[t[j]]&ks.body != 0 {
			digit = digit || isDigit(t[j])
			j++
		}
		l := j - s
		if l < ks.min || l > ks.max || ks.needDigit && !digit {
			continue
		}
		if j < n && class[t[j]]&(cWord|cB64) != 0 {
			continue
		}
		return j, ks, true
	}
	return 0, nil, false
}

// isTokenByte reports whether c may appear in an RFC 6750 bearer token
// (b64token: letters, digits and -._~+/, then '=' padding).
func isTokenByte(c byte) bool {
	return class[c]&cB64 != 0 || c == '.' || c == '~' || c == '+' || c == '/'
}

// bearerAt matches the token of "Bearer <token>" (any case) at t[i]; the
// word Bearer stays outside the match. A token that is a JWT is reported
// as one. Tokens shorter than 16 bytes or without a digit are taken for
// prose ("bearer of bad news").
func bearerAt(t string, i int, kinds Set) (Match, bool) {
	n := len(t)
	if i+7 > n || !strings.EqualFold(t[i:i+6], "bearer") || t[i+6] != ' ' && t[i+6] != '\t' {
		return Match{}, false
	}
	j := i + 7
	for j < n && (t[j] == ' ' || t[j] == '\t') {
		j++
	}
	s := j
	digit := false
	for j < n && isTokenByte(t[j]) {
		digit = digit || isDigit(t[j])
		j++
	}
	for j < n && t[j] == '=' {
		j++
	}
	for j > s && (t[j-1] == '.' || t[j-1] == '/') {
		j-- // sentence punctuation, not token
	}
	if j-s < 16 || !digit || j < n && class[t[j]]&cWord != 0 {
		return Match{}, false
	}
	if e, ok := jwtAt(t, s); ok && e == j {
		if kinds.Has(JWT) {
			return Match{s, j, JWT}, true
		}
		return Match{}, false
	}
	if !kinds.Has(APIKey) {
		return Match{}, false
	}
	return Match{s, j, APIKey}, true
}
