package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestHash(t *testing.T) {
	sum := func(s string) []byte {
		h := hmac.New(sha256.New, []byte(xfSecret))
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	tests := []struct {
		params string
		in     Value
		want   string
	}{
		{"", Str("alice@example.com"), hex.EncodeToString(sum("alice@example.com"))},
		{"format: base64", Str("x"), base64.StdEncoding.EncodeToString(sum("x"))},
		{"format: base64url", Str("x"), base64.RawURLEncoding.EncodeToString(sum("x"))},
		{"length: 12, prefix: 'cust_'", Str("42"), "cust_" + hex.EncodeToString(sum("42"))[:12]},
		{"length: 12", Num("42"), hex.EncodeToString(sum("42"))[:12]}, // 42 and "42" hash alike
	}
	for _, tc := range tests {
		t.Run(tc.params, func(t *testing.T) {
			pl := xfKit.testMask(t, "{type: hash"+map[bool]string{true: ", " + tc.params}[tc.params != ""]+"}")
			got := xfKit.must(t, pl, tc.in)
			if !sameValue(got, Str(tc.want)) {
				t.Errorf("got %v %q, want %q", got.Kind, got.S, tc.want)
			}
		})
	}
	t.Run("null stays null", func(t *testing.T) {
		if got := xfKit.must(t, xfKit.testMask(t, "{type: hash}"), NullValue); got.Kind != Null {
			t.Errorf("got %v", got.Kind)
		}
	})
	t.Run("same in every rule", func(t *testing.T) {
		// No identity: a join key must match across rulesets, even when
		// the rule hashes by other sources.
		pl := xfKit.testMask(t, "{type: hash}")
		a, _ := xfKit.run(pl, xfSecret, Str("k"), []byte("some hash source"))
		if a.S != hex.EncodeToString(sum("k")) {
			t.Errorf("hash sources changed the hash")
		}
	})
	t.Run("determinism", func(t *testing.T) { xfKit.checkDeterminism(t, xfKit.testMask(t, "{type: hash}"), Str("a"), Num("1")) })
	xfKit.checkBad(t, []maskBadCase{
		{"format", "type: hash\nformat: octal", "2:9", "format must be hex, base64 or base64url"},
		{"short", "type: hash\nlength: 4", "2:9", "between 8 and 64"},
		{"long base64", "type: hash\nformat: base64url\nlength: 50", "3:9", "between 8 and 43"},
	})
}
