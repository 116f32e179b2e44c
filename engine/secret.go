package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"unicode/utf8"
)

// Secret is a run secret prepared for masking: the HMAC-SHA256 key state is
// set up once and reused from a pool, so preparing it per record costs
// nothing. A Secret never prints its key.
type Secret struct {
	id   [8]byte // a short, non-reversible fingerprint for caches
	pool sync.Pool
}

// Secret length bounds (DESIGN §4).
const (
	MinSecretLen = 16
	MaxSecretLen = 256
)

// ErrSecretLength is returned by NewSecret for a secret of the wrong size.
var ErrSecretLength = errors.New("engine: the run secret must be 16 to 256 characters; set MASKSTREAM_RUN_SECRET or run_secret_file to a longer random string (for example: openssl rand -hex 32)")

// NewSecret prepares a run secret. It is the only place the raw secret is
// read; the returned Secret keeps only the HMAC key state.
func NewSecret(secret string) (*Secret, error) {
	n := utf8.RuneCountInString(secret)
	if n < MinSecretLen || n > MaxSecretLen {
		return nil, ErrSecretLength
	}
	key := []byte(secret)
	s := &Secret{}
	s.pool.New = func() any { return hmac.New(sha256.New, key) }
	fp := s.sum([]byte("maskstream/fingerprint"))
	copy(s.id[:], fp[:])
	return s, nil
}

// MustSecret is NewSecret for tests and examples; it panics on a bad secret.
func MustSecret(secret string) *Secret {
	s, err := NewSecret(secret)
	if err != nil {
		panic(err)
	}
	return s
}

// String never reveals the key.
func (s *Secret) String() string { return fmt.Sprintf("engine.Secret(%x)", s.id[:4]) }

// GoString never reveals the key.
func (s *Secret) GoString() string { return s.String() }

// ID is a fingerprint of the secret: equal for equal secrets, and not
// enough to recover or test a guess without a full HMAC per guess.
func (s *Secret) ID() [8]byte { return s.id }

// sum returns HMAC-SHA256(secret, parts...).
func (s *Secret) sum(parts ...[]byte) [32]byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	s.pool.Put(h)
	return out
}

// Sum returns HMAC-SHA256(secret, a ‖ b) without allocating.
func (s *Secret) Sum(a, b []byte) [32]byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(a)
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	s.pool.Put(h)
	return out
}
