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
	s.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
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

// macState is a pooled HMAC with a buffer for its sum: the buffer lives
// with the state, so Sum through the hash.Hash interface does not make a
// local array escape to the heap on every call.
type macState struct {
	h   hash.Hash
	out [sha256.Size]byte
}

// sum returns HMAC-SHA256(secret, parts...).
func (s *Secret) sum(parts ...[]byte) [32]byte {
	st := s.pool.Get().(*macState)
	st.h.Reset()
	for _, p := range parts {
		st.h.Write(p)
	}
	st.h.Sum(st.out[:0])
	out := st.out
	s.pool.Put(st)
	return out
}

// Sum returns HMAC-SHA256(secret, a ‖ b) without allocating.
func (s *Secret) Sum(a, b []byte) [32]byte {
	st := s.pool.Get().(*macState)
	st.h.Reset()
	st.h.Write(a)
	st.h.Write(b)
	st.h.Sum(st.out[:0])
	out := st.out
	s.pool.Put(st)
	return out
}
