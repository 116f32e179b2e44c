package engine

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Secret is a run secret prepared for masking: the HMAC-SHA256 key state is
// set up once and reused from a pool, so preparing it per record costs
// nothing. A Secret never prints its key.
type Secret struct {
	id [8]byte // a short, non-reversible fingerprint for caches
	// serial is unique to this Secret in the process: a mask's key cache
	// compares it, so it never keeps the Secret (its key states) alive.
	serial uint64
	pool   sync.Pool
	// fp is Fingerprint's value, derived once when first asked for.
	fp     string
	fpOnce sync.Once

	// blocks holds each mask's permutation key with its AES key schedule
	// expanded (fpeKey), by mask identity: one entry per distinct mask
	// that used this secret, so its size follows the loaded rulesets,
	// never the data (and stops growing at maxFPEBlocks). Readers load
	// the map without locking; a writer copies it under mu.
	blocks atomic.Pointer[map[[32]byte]*fpeKey]
	mu     sync.Mutex
}

var secretSerials atomic.Uint64

// maxFPEBlocks bounds the permutation key cache of one Secret. Rulesets
// hold a few unique masks each; past this many (a process cycling through
// thousands of distinct masks), keys are prepared per value instead.
const maxFPEBlocks = 4096

// Secret length bounds (DESIGN §4).
const (
	MinSecretLen = 16
	MaxSecretLen = 256
)

// ErrSecretLength is returned by NewSecret for a secret of the wrong size.
var ErrSecretLength = errors.New("engine: the run secret must be 16 to 256 characters; set MASKSTREAM_RUN_SECRET or run_secret_file to a longer random string (for example: openssl rand -hex 32)")

// Errors NewSecret returns for a secret that is surely not what was
// meant. Their messages never quote the secret.
var (
	// ErrSecretBlank: nothing but spaces, tabs or line breaks.
	ErrSecretBlank = errors.New("engine: the run secret is only spaces or tabs; set it to a random string of 16 to 256 characters (for example: openssl rand -hex 32)")
	// ErrSecretSpace: blanks at the start or the end, which a paste or
	// an editor adds unseen. Dropping them quietly would be a guess;
	// keeping them gives the secret typed without them other masked
	// values, so records stop joining up with no error anywhere.
	ErrSecretSpace = errors.New("engine: the run secret starts or ends with a space or a tab; remove them, so that it masks like the same secret given elsewhere without them")
	// ErrSecretInvisible: a byte order mark or a zero-width character at
	// either end (Notepad and Windows PowerShell start a UTF-8 file with
	// U+FEFF). Refused, not dropped, for the reasons of ErrSecretSpace.
	ErrSecretInvisible = errors.New("engine: the run secret starts or ends with an invisible character (a byte order mark, U+FEFF, or a zero-width space); save the secret file as UTF-8 without a byte order mark, or remove the character")
	// ErrSecretExport: a shell line such as `export NAME=value` pasted
	// into a secret file.
	ErrSecretExport = errors.New(`engine: the run secret starts with "export ", as a shell line does; keep only the value after NAME= (and drop the quotes around it, if any)`)
)

// NewSecret prepares a run secret. It is the only place the raw secret is
// read; the returned Secret keeps only the HMAC key state. Line breaks at
// the end are not part of the secret, wherever it comes from: a mounted
// file, or an environment variable filled from one (a Kubernetes secret
// keeps the file's last newline), must mask as the same secret typed
// without it, or instances fed from different sources stop joining up.
// Other blanks or invisible characters around it, and a leading "export ",
// are refused rather than dropped (ErrSecretSpace, ErrSecretInvisible,
// ErrSecretExport); '=' and quotes are kept, as
// a base64 secret ends with '='.
func NewSecret(secret string) (*Secret, error) {
	secret = strings.TrimRight(secret, "\r\n")
	if err := checkSecretText(secret); err != nil {
		return nil, err
	}
	n := utf8.RuneCountInString(secret)
	if n < MinSecretLen || n > MaxSecretLen {
		return nil, ErrSecretLength
	}
	s := &Secret{serial: secretSerials.Add(1)}
	if k, ok := newMacKeys([]byte(secret)); ok {
		s.pool.New = func() any { return newMacState(k) }
	} else {
		key := []byte(secret)
		s.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	}
	fp := s.Sum([]byte("maskstream/fingerprint"), nil)
	copy(s.id[:], fp[:])
	return s, nil
}

// checkSecretText refuses the mistakes NewSecret names; "" is left to the
// length check.
func checkSecretText(secret string) error {
	if secret == "" {
		return nil
	}
	if strings.TrimSpace(secret) == "" {
		return ErrSecretBlank
	}
	first, _ := utf8.DecodeRuneInString(secret)
	last, _ := utf8.DecodeLastRuneInString(secret)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return ErrSecretSpace
	}
	if unicode.Is(unicode.Cf, first) || unicode.Is(unicode.Cf, last) {
		return ErrSecretInvisible
	}
	if strings.HasPrefix(secret, "export ") || strings.HasPrefix(secret, "export\t") {
		return ErrSecretExport
	}
	return nil
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
func (s *Secret) String() string { return "engine.Secret(hidden)" }

// GoString never reveals the key.
func (s *Secret) GoString() string { return s.String() }

// ID is a fingerprint of the secret: equal for equal secrets, and not
// enough to recover or test a guess without a full HMAC per guess.
func (s *Secret) ID() [8]byte { return s.id }

// Fingerprint is 8 hex digits that instances sharing the secret share, and
// others almost surely do not: short enough to read in a log line or
// compare across instances, which must all show the same one to mask
// alike.
//
// It is shown where anyone may read it (/metrics is open by default) and
// needs no known record to test a guess at the secret against, so it is
// stretched: PBKDF2-HMAC-SHA256 with fingerprintIterations over the
// secret's ID, 32 bits of it. A guess costs as much as the iterations, not
// one HMAC; it is derived once, when first asked for (run and serve, at
// start), never on the masking path.
func (s *Secret) Fingerprint() string {
	s.fpOnce.Do(func() {
		id := s.Sum([]byte("maskstream/fingerprint"), nil)
		// A whole block, of which 4 bytes are shown: FIPS 140-only mode
		// (GODEBUG=fips140=only) refuses to derive keys under 112 bits.
		// PBKDF2's first block does not depend on the length asked for.
		k, err := pbkdf2.Key(sha256.New, string(id[:]), []byte("maskstream/fingerprint/v1"), fingerprintIterations, sha256.Size)
		if err != nil {
			panic("engine: deriving the secret's fingerprint: " + err.Error())
		}
		s.fp = hex.EncodeToString(k[:4])
	})
	return s.fp
}

// fingerprintIterations is what a guess at the secret through its
// fingerprint costs: OWASP's figure for PBKDF2-HMAC-SHA256 passwords,
// about a fifth of a second here, once per process.
const fingerprintIterations = 600_000

// Sum returns HMAC-SHA256(secret, a ‖ b) without allocating.
func (s *Secret) Sum(a, b []byte) [32]byte {
	st := s.pool.Get().(*macState)
	out := st.sum(a, b)
	s.pool.Put(st)
	return out
}

// fpeKey returns the permutation key for the mask with identity id: an
// AES-256 cipher keyed by HMAC-SHA256(secret, "maskstream/key" ‖ id) (Ctx.Key)
// with the header blocks it starts every permutation with, prepared once
// and cached: the keyed state of imitate_unique and its kin costs an HMAC,
// a key expansion and a few dozen block encryptions per secret and mask,
// not per value.
func (s *Secret) fpeKey(id [32]byte) *fpeKey {
	if m := s.blocks.Load(); m != nil {
		if k, ok := (*m)[id]; ok {
			return k
		}
	}
	return s.prepareFPEKey(&id)
}

// prepareFPEKey is fpeKey's slow path, apart so that the lookup's id
// stays on the stack.
func (s *Secret) prepareFPEKey(idp *[32]byte) *fpeKey {
	id := *idp
	k := s.Sum(keyLabel, id[:])
	b, err := aes.NewCipher(k[:])
	if err != nil {
		panic("engine: AES-256 refused a 32-byte key: " + err.Error())
	}
	fk := newFPEKey(b)
	fk.serial, fk.id = s.serial, id
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.blocks.Load()
	if old != nil {
		if prev, ok := (*old)[id]; ok {
			return prev // another goroutine prepared it first
		}
		if len(*old) >= maxFPEBlocks {
			return fk
		}
	}
	m := map[[32]byte]*fpeKey{}
	if old != nil {
		m = maps.Clone(*old)
	}
	m[id] = fk
	s.blocks.Store(&m)
	return fk
}
