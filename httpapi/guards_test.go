package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/maskstream/maskstream/httpapi"
)

// TestTokenHashComparedWhole: a token is accepted only when its SHA-256
// equals a configured one in every byte. Configured hashes one byte off the
// presented token's (first, middle, last) must all be refused: a compare
// over part of the hash would let a token through whose hash only shares
// that part.
func TestTokenHashComparedWhole(t *testing.T) {
	const probe = "probe-token-0123456789abcdef"
	sum := sha256.Sum256([]byte(probe))
	near := func(i int) string {
		h := sum
		h[i] ^= 0x01
		return hex.EncodeToString(h[:])
	}
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		for _, i := range []int{0, 15, 31} {
			c.Tokens = append(c.Tokens, httpapi.Token{Name: "near-" + strconv.Itoa(i), SHA256: near(i), Scopes: []string{"mask"}})
		}
	})
	if r := e.do("GET", "/ifm/verify-token/", probe, ""); r.status != 401 {
		t.Fatalf("a token whose hash differs from each configured one in one byte: %d %s; want 401", r.status, r.body)
	}
	if r := e.do("GET", "/ifm/verify-token/", adminToken, ""); r.status != 200 {
		t.Fatalf("the admin token, configured by its sha256: %d %s; want 200", r.status, r.body)
	}
}
