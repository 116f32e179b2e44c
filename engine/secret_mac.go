package engine

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"
)

// Every seed is an HMAC-SHA256 of the run secret, and a record takes a
// dozen or more, so their cost matters. crypto/hmac spends about as much
// again as the two SHA-256 compressions a short message needs: restoring
// both states, copying the digest to pad it, encoding the sum. macState
// computes the same HMAC from the two key states prepared once per secret
// (the SHA-256 state after key ⊕ ipad and after key ⊕ opad, RFC 2104): it
// restores a state, writes the message and then SHA-256's padding itself,
// so the digest compresses the last block inside Write, and reads the
// chaining value, which is then the hash, from the digest's marshaled
// state. The first NewSecret of a process checks this against crypto/hmac
// (fastMACChecked); should they ever differ (a marshaled layout that
// changed), every secret keeps crypto/hmac.

// macKeys are the marshaled SHA-256 states after the key's inner and
// outer pads: all a secret's HMACs need, and not the key itself.
type macKeys struct {
	ipad, opad []byte
}

// sha256Magic starts a marshaled SHA-256 state; the eight chaining words
// follow, big-endian.
const sha256Magic = "sha\x03"

// macState is one goroutine's HMAC machinery, pooled per Secret: the
// fast path's digest (d), or crypto/hmac's (h) as the fallback. Its
// buffers live with it, so a Sum through the hash interfaces does not
// move a local array to the heap.
type macState struct {
	keys *macKeys
	d    hash.Hash
	un   encoding.BinaryUnmarshaler
	ap   encoding.BinaryAppender

	h   hash.Hash
	st  [128]byte                  // a marshaled state (108 bytes)
	blk [sha256.BlockSize + 8]byte // the inner hash's last block or padding
	// outer is the outer hash's one block: the inner digest, then the
	// padding of a 32-byte message after the opad block, which never
	// changes, so it is written once (newMacState) rather than per sum.
	outer [sha256.BlockSize]byte
	out   [sha256.Size]byte
}

// newMacKeys prepares the pad states of secret for the fast path, or
// reports false when the fast path cannot be trusted in this process.
func newMacKeys(secret []byte) (*macKeys, bool) {
	if !fastMACChecked() {
		return nil, false
	}
	k := prepareMacKeys(secret)
	return k, k != nil
}

// fastMACChecked reports, once per process, whether the fast path computes
// the same HMAC as crypto/hmac on every message length that changes its
// padding (one block or two, a full block of padding or not), for a short
// key and for one longer than a block (RFC 2104 hashes those first). What
// the check guards against, a Go release that lays the marshaled state out
// differently, does not depend on the key: checking once rather than per
// secret keeps NewSecret cheap for requests that bring their own.
var fastMACChecked = sync.OnceValue(func() bool {
	for _, key := range [][]byte{
		[]byte("maskstream self-check key"),
		bytes.Repeat([]byte("maskstream self-check key, longer than a block. "), 3),
	} {
		k := prepareMacKeys(key)
		if k == nil || !macMatchesHMAC(k, key) {
			return false
		}
	}
	return true
})

// prepareMacKeys computes the SHA-256 states after key ⊕ ipad and key ⊕
// opad, or nil if the digest cannot marshal them as the fast path reads
// them.
func prepareMacKeys(secret []byte) *macKeys {
	key := secret
	if len(key) > sha256.BlockSize { // RFC 2104: a long key is hashed first
		k := sha256.Sum256(key)
		key = k[:]
	}
	var pad [sha256.BlockSize]byte
	state := func(x byte) []byte {
		for i := range pad {
			pad[i] = x
			if i < len(key) {
				pad[i] ^= key[i]
			}
		}
		d := sha256.New()
		d.Write(pad[:])
		b, err := d.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil
		}
		return b
	}
	k := &macKeys{ipad: state(0x36), opad: state(0x5c)}
	clear(pad[:])
	if !bytes.HasPrefix(k.ipad, []byte(sha256Magic)) || !bytes.HasPrefix(k.opad, []byte(sha256Magic)) {
		return nil
	}
	return k
}

// macMatchesHMAC compares the fast path keyed by k with crypto/hmac keyed
// by secret.
func macMatchesHMAC(k *macKeys, secret []byte) bool {
	m := newMacState(k)
	if m == nil {
		return false
	}
	ref := hmac.New(sha256.New, secret)
	msg := make([]byte, 2*sha256.BlockSize+8)
	for i := range msg {
		msg[i] = byte(i*7 + 1)
	}
	for _, n := range []int{0, 23, 55, 56, 64, 119, len(msg)} {
		ref.Reset()
		ref.Write(msg[:n])
		want := ref.Sum(nil)
		for _, cut := range []int{0, n / 2} { // split over a and b
			if got := m.sum(msg[:cut], msg[cut:n]); !bytes.Equal(got[:], want) {
				return false
			}
		}
	}
	return true
}

// newMacState returns a fast-path state, or nil if the digest cannot be
// restored and read as the fast path needs.
func newMacState(k *macKeys) *macState {
	d := sha256.New()
	un, ok1 := d.(encoding.BinaryUnmarshaler)
	ap, ok2 := d.(encoding.BinaryAppender)
	if !ok1 || !ok2 {
		return nil
	}
	m := &macState{keys: k, d: d, un: un, ap: ap}
	shaPadding(m.outer[:sha256.Size], sha256.BlockSize+sha256.Size)
	return m
}

// sum returns HMAC-SHA256(key, a ‖ b).
func (m *macState) sum(a, b []byte) [32]byte {
	if m.h != nil {
		m.h.Reset()
		m.h.Write(a)
		m.h.Write(b)
		m.h.Sum(m.out[:0])
		return m.out
	}
	inner := m.hash(m.keys.ipad, a, b)
	// Array conversions, not copy: a fixed 32-byte move inlines, where
	// copy calls memmove for a length the compiler cannot see.
	*(*[sha256.Size]byte)(m.outer[:sha256.Size]) = [sha256.Size]byte(inner)
	if err := m.un.UnmarshalBinary(m.keys.opad); err != nil {
		panic("engine: restoring a SHA-256 state made by this process failed: " + err.Error())
	}
	m.d.Write(m.outer[:])
	st, _ := m.ap.AppendBinary(m.st[:0])
	m.out = [sha256.Size]byte(st[len(sha256Magic):])
	return m.out
}

// hash finishes the SHA-256 that state (a marshaled state after one
// block) began, over a ‖ b, and returns the digest (a view of m.st).
func (m *macState) hash(state, a, b []byte) []byte {
	if err := m.un.UnmarshalBinary(state); err != nil {
		panic("engine: restoring a SHA-256 state made by this process failed: " + err.Error())
	}
	if n := len(a) + len(b); n <= sha256.BlockSize-9 {
		// The common case, one last block: built whole, so the digest
		// compresses it straight from here rather than via its buffer.
		blk := append(append(m.blk[:0], a...), b...)
		m.d.Write(shaPadding(blk, sha256.BlockSize+n))
	} else {
		m.d.Write(a)
		m.d.Write(b)
		m.d.Write(shaPadding(m.blk[:0], sha256.BlockSize+len(a)+len(b)))
	}
	st, _ := m.ap.AppendBinary(m.st[:0])
	return st[len(sha256Magic) : len(sha256Magic)+sha256.Size]
}

// shaPadding appends SHA-256's padding for a message of n bytes: 0x80,
// zeros up to 56 bytes mod 64, and n in bits. It writes in place when dst
// has the room (m.blk and m.outer do), rather than copying the zeros from
// a zeroed array: a sizable share of a short HMAC's cost otherwise.
func shaPadding(dst []byte, n int) []byte {
	z := (55 - n) & 63
	if l := len(dst); cap(dst)-l >= 9+z {
		dst = dst[:l+9+z]
		dst[l] = 0x80
		clear(dst[l+1 : l+1+z])
		binary.BigEndian.PutUint64(dst[l+1+z:], uint64(n)<<3)
		return dst
	}
	var zeros [sha256.BlockSize]byte
	dst = append(dst, 0x80)
	dst = append(dst, zeros[:z]...)
	return binary.BigEndian.AppendUint64(dst, uint64(n)<<3)
}
