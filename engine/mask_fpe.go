package engine

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math/big"
	"math/bits"
	"sync/atomic"
)

// The keyed format-preserving permutation behind imitate_unique,
// imitate_uuid and imitate_nz_ird.
//
// A value is read as a number x in a mixed-radix domain [0, n) (one digit
// per replaceable character: 10 for a digit, 26 for a letter, 9 for a
// leading digit that must not become 0, 16 for a hex digit, the size of
// its alphabet for a letter or digit beyond ASCII...). x is
// enciphered with a 10-round Feistel network over the smallest power of
// two that holds n, and cycle-walked (enciphered again) until it falls back
// inside [0, n): the textbook construction for a permutation of an
// arbitrary domain (Black and Rogaway, 2002). Each round XORs one half with
// F(round, other half), alternating halves, so every round (and the whole)
// is a bijection: two different inputs can never give the same output.
// Walking on in the same way until the output is back in a subset the
// input belongs to permutes that subset: permuteLead keeps a value's
// leading digit zero or non-zero so.
//
// F is built as in NIST SP 800-38G's FF1: AES-CBC-MAC over a header
// block, the tweak, the round number and the other half, extended by
// encrypting the MAC XOR a counter when more bits are needed. The MAC of
// the header and the tweak is the same in every round, so it is computed
// once per value and every round continues the chain from it (as FF1's
// implementations precompute P‖Q's prefix). The header holds the tweak's
// length, so the MAC's inputs are prefix-free, which keeps CBC-MAC a PRF
// over messages of varying length.
//
// The AES-256 key is the mask's Ctx.Key (an HMAC of the run secret and the
// mask's parameters, never of the value); its key schedule is expanded
// once per secret and mask and cached on the Secret (Secret.fpeKey), with
// the header's MAC for each short tweak length (fpeKey.hdr). The
// tweak describes the domain, so values of different shapes use unrelated
// permutations.

const fpeRounds = 10

// fpeHeader starts the CBC-MAC of every permutation: a label, a version
// and (in the last 8 bytes, filled per tweak) the tweak's length.
var fpeHeader = [aes.BlockSize]byte{'m', 's', '/', 'f', 'p', 'e', 0, 2}

type fpe struct {
	b cipher.Block
	// t is the CBC-MAC of the header and the tweak: the chaining value
	// every round starts from.
	t [aes.BlockSize]byte
	// Scratch space, kept here (in the Ctx's reused scratch) so the
	// cipher's interface calls do not move it to the heap on every round.
	y, z [aes.BlockSize]byte
	msg  []byte
	out  []byte
}

// fpeKey is a permutation key prepared for use: the cipher with its key
// schedule expanded, and the first CBC-MAC block (the header, which holds
// only the tweak's length) enciphered for every tweak length below
// fpeHeaderLens, which covers the tweaks of identifiers and UUIDs. The
// header depends on the key and a length, never on a value, so this saves
// one of the dozen chained block encryptions a short value costs.
type fpeKey struct {
	b   cipher.Block
	hdr [fpeHeaderLens][aes.BlockSize]byte
	// serial (the Secret's) and id are what the key was prepared for
	// (Secret.fpeKey), so a mask's fpeKeyCache can tell whether it holds
	// the right one. A serial, not the *Secret: a compiled mask outlives
	// the request-supplied secrets it served and must not keep them.
	serial uint64
	id     [32]byte
}

const fpeHeaderLens = 32

func newFPEKey(b cipher.Block) *fpeKey {
	k := &fpeKey{b: b}
	for n := range k.hdr {
		k.hdr[n] = fpeHeaderBlock(b, n)
	}
	return k
}

// fpeHeaderBlock is the CBC-MAC's first block for a tweak of n bytes.
func fpeHeaderBlock(b cipher.Block, n int) [aes.BlockSize]byte {
	t := fpeHeader
	binary.BigEndian.PutUint64(t[8:], uint64(n))
	b.Encrypt(t[:], t[:])
	return t
}

// newFPE prepares a permutation from a raw key, expanding the key schedule:
// masks use Ctx.perm, which takes the schedule from the Secret's cache.
func newFPE(key [32]byte, tweak []byte) *fpe {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic("engine: AES-256 refused a 32-byte key: " + err.Error())
	}
	f := &fpe{}
	f.init(newFPEKey(b), tweak)
	return f
}

// init keys f with a prepared key and chains the tweak in.
func (f *fpe) init(k *fpeKey, tweak []byte) {
	b := k.b
	f.b = b
	if len(tweak) < fpeHeaderLens {
		f.t = k.hdr[len(tweak)]
	} else {
		f.t = fpeHeaderBlock(b, len(tweak))
	}
	for off := 0; off < len(tweak); off += aes.BlockSize {
		blk := tweak[off:min(off+aes.BlockSize, len(tweak))]
		for j, x := range blk {
			f.t[j] ^= x // a short last block is padded with zeros
		}
		b.Encrypt(f.t[:], f.t[:])
	}
}

// perm returns the current mask's permutation for tweak, in the Ctx's
// scratch: valid until the next call of perm.
func (c *Ctx) perm(tweak []byte) *fpe {
	f := &c.scratch().perm
	f.init(c.sec.fpeKey(c.cur.id), tweak)
	return f
}

// fpeKeyCache is a mask's memory of the permutation key it last used:
// its owner masks value after value under one secret, so the key is
// usually the one before, found without hashing the identity into the
// Secret's map. It holds one key (of one secret and identity), whatever
// the data, and is safe for concurrent use.
type fpeKeyCache struct {
	last atomic.Pointer[fpeKey]
}

// permCached is perm through the mask's own key cache.
func (c *Ctx) permCached(kc *fpeKeyCache, tweak []byte) *fpe {
	k := kc.last.Load()
	if k == nil || k.serial != c.sec.serial || k.id != c.cur.id {
		k = c.sec.fpeKey(c.cur.id)
		kc.last.Store(k)
	}
	f := &c.scratch().perm
	f.init(k, tweak)
	return f
}

// round64 is round for an 8-byte half and 64 output bits: one AES block,
// without building the message.
func (f *fpe) round64(i int, half uint64) uint64 {
	f.y = f.t
	f.y[0] ^= byte(i)
	f.y[2] ^= 8 // len(half), as round encodes it
	// half, big-endian, XORed in at byte 3 as round does, in one word.
	binary.BigEndian.PutUint64(f.y[3:], binary.BigEndian.Uint64(f.y[3:])^half)
	f.b.Encrypt(f.y[:], f.y[:])
	return binary.BigEndian.Uint64(f.y[:8])
}

// round returns F_i(half) as at least nbits pseudo-random bits, big-endian
// in the returned slice (reused by the next call). half must have the same
// length for every call with the same tweak, which keeps CBC-MAC a PRF.
func (f *fpe) round(i int, half []byte, nbits int) []byte {
	m := append(f.msg[:0], byte(i), byte(len(half)>>8), byte(len(half)))
	m = append(m, half...)
	for len(m)%aes.BlockSize != 0 {
		m = append(m, 0)
	}
	f.msg = m
	f.y = f.t
	for off := 0; off < len(m); off += aes.BlockSize {
		for j := range f.y {
			f.y[j] ^= m[off+j]
		}
		f.b.Encrypt(f.y[:], f.y[:])
	}
	out := append(f.out[:0], f.y[:]...)
	for ctr := uint64(1); len(out)*8 < nbits; ctr++ {
		f.z = f.y
		for j := range 8 {
			f.z[aes.BlockSize-1-j] ^= byte(ctr >> (8 * j))
		}
		f.b.Encrypt(f.z[:], f.z[:])
		out = append(out, f.z[:]...)
	}
	f.out = out
	return out
}

// fpeBits is the width of the Feistel domain for n values: at least 2, so
// both halves have a bit.
func fpeBits(bitlen int) int { return max(bitlen, 2) }

// permute64 enciphers x in [0, n) for n ≤ 2^64, cycle-walking until the
// result is in range and ok accepts it (nil accepts all). ok lets a caller
// exclude values (an IRD base without a check digit) while keeping a
// bijection on the rest; the caller must not pass an excluded x.
func (f *fpe) permute64(x, n uint64, ok func(uint64) bool) uint64 {
	if n <= 1 {
		return x
	}
	k := fpeBits(bits.Len64(n - 1))
	u := k / 2
	v := k - u
	maskU, maskV := uint64(1)<<u-1, uint64(1)<<v-1
	for {
		l, r := x>>v, x&maskV
		for i := range fpeRounds {
			if i%2 == 0 {
				l ^= f.round64(i, r) & maskU
			} else {
				r ^= f.round64(i, l) & maskV
			}
		}
		x = l<<v | r
		if x < n && (ok == nil || ok(x)) {
			return x
		}
	}
}

// permuteBig is permute64 for domains beyond 2^64 (long identifiers).
func (f *fpe) permuteBig(x, n *big.Int) *big.Int {
	if n.Cmp(big.NewInt(1)) <= 0 {
		return x
	}
	nm1 := new(big.Int).Sub(n, big.NewInt(1))
	k := fpeBits(nm1.BitLen())
	u := k / 2
	v := k - u
	maskU := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(u)), big.NewInt(1))
	maskV := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(v)), big.NewInt(1))
	l, r, t := new(big.Int), new(big.Int), new(big.Int)
	// Halves are encoded at a fixed width, as round requires.
	lb, rb := make([]byte, (u+7)/8), make([]byte, (v+7)/8)
	x = new(big.Int).Set(x)
	for {
		l.Rsh(x, uint(v))
		r.And(x, maskV)
		for i := range fpeRounds {
			if i%2 == 0 {
				t.SetBytes(f.round(i, r.FillBytes(rb), u))
				l.Xor(l, t.And(t, maskU))
			} else {
				t.SetBytes(f.round(i, l.FillBytes(lb), v))
				r.Xor(r, t.And(t, maskV))
			}
		}
		x.Lsh(l, uint(v)).Or(x, r)
		if x.Cmp(n) < 0 {
			return x
		}
	}
}

// fpeDigit is one replaceable position of a value: the character there
// is base+d for a digit d in [0, radix).
type fpeDigit struct {
	pos   int
	radix uint8
	base  byte
}

// fpeMixed permutes the digits of b at the given positions, in place: it
// reads them as one mixed-radix number, enciphers it and writes it back.
// The digits must already be valid (b[pos]-base < radix).
func fpeMixed(f *fpe, b []byte, ds []fpeDigit) { fpeMixedLead(f, b, ds, false) }

// fpeMixedLead is fpeMixed that, with keepLead, keeps whether the first
// digit (ds[0]) is 0 (see permuteLead). It reports false, leaving b as it
// was, only when that walk runs past maxLeadWalk.
func fpeMixedLead(f *fpe, b []byte, ds []fpeDigit, keepLead bool) bool {
	n, fits := uint64(1), true
	for _, d := range ds {
		hi, lo := bits.Mul64(n, uint64(d.radix))
		if hi != 0 {
			fits = false
			break
		}
		n = lo
	}
	if fits {
		x := uint64(0)
		for _, d := range ds {
			x = x*uint64(d.radix) + uint64(b[d.pos]-d.base)
		}
		var lead uint64
		if keepLead {
			lead = n / uint64(ds[0].radix)
		}
		y, ok := f.permuteLead(x, n, lead)
		if !ok {
			return false
		}
		for i := len(ds) - 1; i >= 0; i-- {
			d := ds[i]
			var q uint64
			// The common radixes divide by a constant, which compiles to
			// a multiplication rather than a hardware division.
			switch d.radix {
			case 10:
				q = y / 10
			case 26:
				q = y / 26
			case 16:
				q = y / 16
			case 9:
				q = y / 9
			default:
				q = y / uint64(d.radix)
			}
			b[d.pos] = d.base + byte(y-q*uint64(d.radix))
			y = q
		}
		return true
	}
	bn, x := big.NewInt(1), new(big.Int)
	r, dv := new(big.Int), new(big.Int)
	for _, d := range ds {
		r.SetUint64(uint64(d.radix))
		bn.Mul(bn, r)
		x.Mul(x, r).Add(x, dv.SetUint64(uint64(b[d.pos]-d.base)))
	}
	var lead *big.Int
	if keepLead {
		lead = new(big.Int).Quo(bn, r.SetUint64(uint64(ds[0].radix)))
	}
	y, ok := f.permuteBigLead(x, bn, lead)
	if !ok {
		return false
	}
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		r.SetUint64(uint64(d.radix))
		y.QuoRem(y, r, dv)
		b[d.pos] = d.base + byte(dv.Uint64())
	}
	return true
}

// maxLeadWalk bounds permuteLead's walk. A walk ends when it comes back to
// the input's class, at the latest at the input itself, so it always ends;
// the bound only keeps a pathological cycle from stalling a lane. Each
// step lands outside the class with probability about the share of the
// domain outside it: one in ten for imitate_unique, which walks only
// values whose first digit is not 0, so 4,096 steps are never reached in
// practice (0.1^4096), and even a class of a tenth of the domain would
// need 0.9^4096, about 10^-187.
const maxLeadWalk = 4096

// permuteLead is permute64 restricted to one class of values: with lead
// > 0, the values below lead (those whose first mixed-radix digit is 0)
// and the others are each mapped among themselves, by cycle-walking the
// permutation until the output is in x's class again, which keeps it a
// bijection within each class. lead 0 restricts nothing. It reports false
// when the walk runs past maxLeadWalk.
func (f *fpe) permuteLead(x, n, lead uint64) (uint64, bool) {
	y := f.permute64(x, n, nil)
	if lead == 0 {
		return y, true
	}
	zero := x < lead
	for range maxLeadWalk {
		if (y < lead) == zero {
			return y, true
		}
		y = f.permute64(y, n, nil)
	}
	return 0, false
}

// permuteBigLead is permuteLead for domains beyond 2^64; lead nil
// restricts nothing.
func (f *fpe) permuteBigLead(x, n, lead *big.Int) (*big.Int, bool) {
	y := f.permuteBig(x, n)
	if lead == nil {
		return y, true
	}
	zero := x.Cmp(lead) < 0
	for range maxLeadWalk {
		if (y.Cmp(lead) < 0) == zero {
			return y, true
		}
		y = f.permuteBig(y, n)
	}
	return nil, false
}

// fpeSym is one replaceable position of a value in the general form
// (uniqueText's, for alphabets beyond ASCII): its digit v in [0, radix).
type fpeSym struct{ v, radix uint32 }

// fpeMixedSyms is fpeMixed for digits of any radix, held apart from their
// characters: it enciphers the digits as one mixed-radix number and
// writes the result back into ds. For the same radixes and digits it
// computes the same permutation as fpeMixed, so an ASCII value masks alike
// through either.
func fpeMixedSyms(f *fpe, ds []fpeSym) { fpeMixedSymsLead(f, ds, false) }

// fpeMixedSymsLead is fpeMixedSyms with fpeMixedLead's keepLead.
func fpeMixedSymsLead(f *fpe, ds []fpeSym, keepLead bool) bool {
	n, fits := uint64(1), true
	for _, d := range ds {
		hi, lo := bits.Mul64(n, uint64(d.radix))
		if hi != 0 {
			fits = false
			break
		}
		n = lo
	}
	if fits {
		x := uint64(0)
		for _, d := range ds {
			x = x*uint64(d.radix) + uint64(d.v)
		}
		var lead uint64
		if keepLead {
			lead = n / uint64(ds[0].radix)
		}
		y, ok := f.permuteLead(x, n, lead)
		if !ok {
			return false
		}
		for i := len(ds) - 1; i >= 0; i-- {
			r := uint64(ds[i].radix)
			ds[i].v = uint32(y % r)
			y /= r
		}
		return true
	}
	bn, x := big.NewInt(1), new(big.Int)
	r, dv := new(big.Int), new(big.Int)
	for _, d := range ds {
		r.SetUint64(uint64(d.radix))
		bn.Mul(bn, r)
		x.Mul(x, r).Add(x, dv.SetUint64(uint64(d.v)))
	}
	var lead *big.Int
	if keepLead {
		lead = new(big.Int).Quo(bn, r.SetUint64(uint64(ds[0].radix)))
	}
	y, ok := f.permuteBigLead(x, bn, lead)
	if !ok {
		return false
	}
	for i := len(ds) - 1; i >= 0; i-- {
		r.SetUint64(uint64(ds[i].radix))
		y.QuoRem(y, r, dv)
		ds[i].v = uint32(dv.Uint64())
	}
	return true
}
