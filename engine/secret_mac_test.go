package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestMacStateMatchesHMAC: the fast path is HMAC-SHA256, for every
// message length around the padding boundaries and for keys that are
// short, a block long and longer (hashed first).
func TestMacStateMatchesHMAC(t *testing.T) {
	keys := []struct{ name, key string }{
		{"short", "mac-test-secret-0123"},
		{"block", strings.Repeat("k", sha256.BlockSize)},
		{"long", strings.Repeat("long secret ", 20)},
		{"multi-byte", strings.Repeat("ключ-秘密-", 12)},
	}
	msg := make([]byte, 3*sha256.BlockSize)
	for i := range msg {
		msg[i] = byte(i*31 + 7)
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			mk, ok := newMacKeys([]byte(k.key))
			if !ok {
				t.Fatal("the fast path disagreed with crypto/hmac")
			}
			fast := newMacState(mk)
			slow := &macState{h: hmac.New(sha256.New, []byte(k.key))}
			ref := hmac.New(sha256.New, []byte(k.key))
			for n := 0; n <= len(msg); n++ {
				ref.Reset()
				ref.Write(msg[:n])
				var want [32]byte
				copy(want[:], ref.Sum(nil))
				for _, cut := range []int{0, n / 3, n} {
					if got := fast.sum(msg[:cut], msg[cut:n]); got != want {
						t.Fatalf("fast path, %d bytes split at %d: wrong HMAC", n, cut)
					}
					if got := slow.sum(msg[:cut], msg[cut:n]); got != want {
						t.Fatalf("fallback, %d bytes split at %d: wrong HMAC", n, cut)
					}
				}
			}
		})
	}
}

func TestSecretSum(t *testing.T) {
	const key = "secret-sum-test-0123456789"
	s := MustSecret(key)
	ref := hmac.New(sha256.New, []byte(key))
	ref.Write([]byte("identity|"))
	ref.Write([]byte("value"))
	if got := s.Sum([]byte("identity|"), []byte("value")); string(got[:]) != string(ref.Sum(nil)) {
		t.Error("Secret.Sum is not HMAC-SHA256(secret, a ‖ b)")
	}
	// Through a Ctx, which holds one state for the record.
	c := &Ctx{sec: s}
	defer c.done()
	if c.HMAC([]byte("identity|value")) != s.Sum(nil, []byte("identity|value")) {
		t.Error("Ctx.HMAC differs from Secret.Sum")
	}
	other := MustSecret(key + "x")
	c.sec = other // a Ctx reused with another secret takes that secret's state
	if c.HMAC([]byte("v")) != other.Sum(nil, []byte("v")) {
		t.Error("a Ctx kept the HMAC state of its previous secret")
	}
}

// BenchmarkNewSecret is what an HTTP request that brings its own
// run_secret pays before masking anything.
func BenchmarkNewSecret(b *testing.B) {
	for b.Loop() {
		if _, err := NewSecret("request-supplied-secret-0123456789"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNewSecretLineBreaks: line breaks ending a secret are not part of
// it; any other character is (blanks around it are refused:
// TestNewSecretRefusesMistakes).
func TestNewSecretLineBreaks(t *testing.T) {
	const s = "a run secret of some length"
	want := MustSecret(s).ID()
	for _, tt := range []struct {
		in   string
		same bool
	}{
		{s + "\n", true}, {s + "\r\n", true}, {s + "\n\n", true},
		{s + ".", false}, {s + "=", false}, {`"` + s + `"`, false},
	} {
		if got := MustSecret(tt.in).ID(); (got == want) != tt.same {
			t.Errorf("NewSecret(%q): same as without = %v, want %v", tt.in, got == want, tt.same)
		}
	}
	if _, err := NewSecret("short secret\n\n\n\n\n\n"); !errors.Is(err, ErrSecretLength) {
		t.Errorf("line breaks counted towards the length: %v", err)
	}
}

// TestSecretFingerprint: what instances compare to find one masking with
// another secret (maskstream_run_secret_info): stable for a secret,
// different for another, and never the secret's own text.
func TestSecretFingerprint(t *testing.T) {
	const s = "a run secret of some length"
	fp := MustSecret(s).Fingerprint()
	if len(fp) != 8 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Fatalf("Fingerprint = %q, want 8 hex digits", fp)
	}
	if got := MustSecret(s + "\n").Fingerprint(); got != fp {
		t.Errorf("a trailing newline changed the fingerprint: %q vs %q", got, fp)
	}
	if got := MustSecret(s + ".").Fingerprint(); got == fp {
		t.Errorf("another secret has the same fingerprint %q", fp)
	}
	// Stretched: not a prefix of the fast HMAC (ID), which would let a
	// guess at the secret be tested with one HMAC.
	if id := MustSecret(s).ID(); strings.HasPrefix(hex.EncodeToString(id[:]), fp) {
		t.Errorf("Fingerprint %q is the ID's prefix", fp)
	}
	if strings.Contains(MustSecret(s).String(), fp) {
		t.Errorf("String %q shows the fingerprint", MustSecret(s).String())
	}
	// The documented value for a fixed secret: a change here changes every
	// deployment's label, which the secrets-differ alert would then see
	// as a mixed fleet during an upgrade.
	if got, want := MustSecret("maskstream fingerprint pin").Fingerprint(), "99d5ee7d"; got != want {
		t.Errorf("Fingerprint = %q, want %q", got, want)
	}
}
