package engine

import (
	"encoding/binary"
	"math/bits"
)

// Rand is the deterministic generator every random choice of a mask draws
// from. It is seeded from HMAC-SHA256(secret, mask identity ‖ hash input), so
// its stream is unpredictable without the secret and identical for identical
// inputs. The generator itself is xoshiro256**: the secrecy lives in the
// seed, the generator only needs to be fast and well distributed.
type Rand struct {
	s [4]uint64
}

func (r *Rand) seed(b [32]byte) {
	r.s[0] = binary.LittleEndian.Uint64(b[0:])
	r.s[1] = binary.LittleEndian.Uint64(b[8:])
	r.s[2] = binary.LittleEndian.Uint64(b[16:])
	r.s[3] = binary.LittleEndian.Uint64(b[24:])
	if r.s == [4]uint64{} { // the one state xoshiro cannot leave
		r.s[0] = 1
	}
}

// Uint64 returns 64 random bits.
func (r *Rand) Uint64() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// IntN returns a uniform int in [0, n). It panics if n <= 0.
func (r *Rand) IntN(n int) int {
	if n <= 0 {
		panic("engine: Rand.IntN with n <= 0")
	}
	return int(r.Uint64N(uint64(n)))
}

// Uint64N returns a uniform value in [0, n) without modulo bias (Lemire).
func (r *Rand) Uint64N(n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// Int64Range returns a uniform value in [lo, hi] (inclusive).
func (r *Rand) Int64Range(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	span := uint64(hi - lo)
	if span == ^uint64(0) {
		return int64(r.Uint64())
	}
	return lo + int64(r.Uint64N(span+1))
}

// Float64 returns a uniform float in [0, 1).
func (r *Rand) Float64() float64 {
	return float64(r.Uint64()>>11) / (1 << 53)
}

// Bool returns a fair coin flip.
func (r *Rand) Bool() bool { return r.Uint64()&1 == 1 }
