package engine

import (
	"crypto/aes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
)

func TestFPETweakFraming(t *testing.T) {
	// The tweak is zero-padded to whole blocks; its length in the header
	// keeps tweaks that differ only by trailing zero bytes apart.
	key := [32]byte{7}
	tests := []struct{ name, a, b string }{
		{"trailing zero", "a", "a\x00"},
		{"empty and zero", "", "\x00"},
		{"one block and a zero", "0123456789abcdef", "0123456789abcdef\x00"},
		{"shapes", "u/sAAA\x00-99", "u/sAAA9\x00-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa, fb := newFPE(key, []byte(tt.a)), newFPE(key, []byte(tt.b))
			if fa.t == fb.t {
				t.Fatalf("tweaks %q and %q chain to the same value", tt.a, tt.b)
			}
			same := 0
			for x := range uint64(64) {
				if fa.permute64(x, 1<<20, nil) == fb.permute64(x, 1<<20, nil) {
					same++
				}
			}
			if same > 1 {
				t.Errorf("%d of 64 inputs map alike under tweaks %q and %q", same, tt.a, tt.b)
			}
		})
	}
}

func TestFPEPermutationBigDomain(t *testing.T) {
	// A domain beyond 2^64 takes permuteBig: check it is a bijection on a
	// slice of inputs and stays in range.
	f := newFPE([32]byte{3}, []byte("big"))
	ds := make([]fpeDigit, 24)
	for i := range ds {
		ds[i] = fpeDigit{pos: i, radix: 10, base: '0'}
	}
	seen := map[string]string{}
	for i := range 2000 {
		in := fmt.Sprintf("%024d", i*7919)
		b := []byte(in)
		fpeMixed(f, b, ds)
		for _, ch := range b {
			if ch < '0' || ch > '9' {
				t.Fatalf("%s → %s: not digits", in, b)
			}
		}
		if prev, dup := seen[string(b)]; dup {
			t.Fatalf("%s and %s both gave %s", prev, in, b)
		}
		seen[string(b)] = in
	}
}

func TestSecretFPEBlock(t *testing.T) {
	id := func(i int) [32]byte { return [32]byte{byte(i), byte(i >> 8), 0xfe} }
	encrypt := func(s *Secret, i int) [16]byte {
		var out [16]byte
		s.fpeKey(id(i)).b.Encrypt(out[:], make([]byte, 16))
		return out
	}
	t.Run("keyed by Ctx.Key", func(t *testing.T) {
		s := MustSecret("fpe-cache-secret-0123456789")
		want := s.Sum(keyLabel, func() []byte { x := id(1); return x[:] }())
		b, err := aes.NewCipher(want[:])
		if err != nil {
			t.Fatal(err)
		}
		var exp [16]byte
		b.Encrypt(exp[:], make([]byte, 16))
		if got := encrypt(s, 1); got != exp {
			t.Errorf("the cached cipher is not keyed by HMAC(secret, key label ‖ identity)")
		}
	})
	t.Run("prepared once", func(t *testing.T) {
		s := MustSecret("fpe-cache-secret-0123456789")
		if s.fpeKey(id(2)) != s.fpeKey(id(2)) {
			t.Error("a second lookup prepared the key again")
		}
	})
	t.Run("secret sensitive", func(t *testing.T) {
		a := MustSecret("fpe-cache-secret-0123456789")
		b := MustSecret("fpe-cache-secret-0123456780")
		if encrypt(a, 3) == encrypt(b, 3) {
			t.Error("two secrets gave the same permutation key")
		}
		if encrypt(a, 3) == encrypt(a, 4) {
			t.Error("two masks gave the same permutation key")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		s := MustSecret("fpe-cache-secret-0123456789")
		first := encrypt(s, 0)
		for i := range maxFPEBlocks + 50 {
			s.fpeKey(id(i))
		}
		if n := len(*s.blocks.Load()); n != maxFPEBlocks {
			t.Errorf("cache holds %d keys, want the bound %d", n, maxFPEBlocks)
		}
		// Past the bound, keys are prepared afresh and still right.
		over := MustSecret("fpe-cache-secret-0123456789")
		if encrypt(s, maxFPEBlocks+40) != encrypt(over, maxFPEBlocks+40) || encrypt(s, 0) != first {
			t.Error("a key past the bound differs from a cached one")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		s := MustSecret("fpe-cache-secret-0123456789")
		ref := MustSecret("fpe-cache-secret-0123456789")
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for g := range 8 {
			wg.Go(func() {
				for i := range 64 {
					if encrypt(s, (i+g)%32) != encrypt(ref, (i+g)%32) {
						errs <- fmt.Sprintf("goroutine %d: key %d differs", g, (i+g)%32)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

// TestFPERound64MatchesRound: the one-block shortcut computes the same
// round function as the general round over an 8-byte half.
func TestFPERound64MatchesRound(t *testing.T) {
	f := newFPE([32]byte{9}, []byte("u/s9999"))
	var h [8]byte
	for i, half := range []uint64{0, 1, 0xff, 0x0123456789abcdef, ^uint64(0), 1 << 63} {
		for j := range h {
			h[j] = byte(half >> (56 - 8*j))
		}
		want := f.round(i, h[:], 64)
		var w uint64
		for _, x := range want[:8] {
			w = w<<8 | uint64(x)
		}
		if got := f.round64(i, half); got != w {
			t.Errorf("round %d of %#x: round64 gives %#x, round %#x", i, half, got, w)
		}
	}
}

// TestFPEKeyHeaders: the header blocks prepared with the key give the
// same chaining value as the CBC-MAC computed from scratch, for tweaks
// shorter and longer than the prepared lengths.
func TestFPEKeyHeaders(t *testing.T) {
	key := [32]byte{7, 1, 2}
	b, err := aes.NewCipher(key[:])
	if err != nil {
		t.Fatal(err)
	}
	k := newFPEKey(b)
	for n := range 3*fpeHeaderLens + 5 {
		tweak := make([]byte, n)
		for i := range tweak {
			tweak[i] = byte(i*13 + n)
		}
		// The reference: CBC-MAC over the header and the zero-padded tweak.
		msg := append([]byte{}, fpeHeader[:8]...)
		msg = binary.BigEndian.AppendUint64(msg, uint64(n))
		msg = append(msg, tweak...)
		for len(msg)%aes.BlockSize != 0 {
			msg = append(msg, 0)
		}
		var want [aes.BlockSize]byte
		for off := 0; off < len(msg); off += aes.BlockSize {
			for j := range want {
				want[j] ^= msg[off+j]
			}
			b.Encrypt(want[:], want[:])
		}
		var f fpe
		f.init(k, tweak)
		if f.t != want {
			t.Fatalf("tweak of %d bytes: wrong chaining value", n)
		}
	}
}

// TestPermCached: a mask's key cache gives the permutation Ctx.perm gives,
// while the secret and the identity change under it.
func TestPermCached(t *testing.T) {
	secs := []*Secret{MustSecret("perm-cache-secret-0123456789"), MustSecret("perm-cache-secret-0123456780")}
	steps := []*step{{id: [32]byte{1}}, {id: [32]byte{2}}}
	var kc fpeKeyCache
	tweak := []byte("u/s99aa")
	for i := range 40 {
		c := &Ctx{sec: secs[i%2], cur: steps[i/3%2]}
		f := c.perm(tweak)
		want := [3]uint64{f.permute64(12345, 1e6, nil), f.permute64(0, 1e6, nil)}
		g := c.permCached(&kc, tweak)
		got := [3]uint64{g.permute64(12345, 1e6, nil), g.permute64(0, 1e6, nil)}
		if got != want {
			t.Fatalf("step %d: the cached key permutes differently", i)
		}
		if k := kc.last.Load(); k.serial != c.sec.serial || k.id != c.cur.id {
			t.Fatalf("step %d: the cache holds another secret's or mask's key", i)
		}
		c.done()
	}
}

// TestFPEMixedSymsMatchesFPEMixed: for the radixes fpeMixed knows, the
// general form enciphers alike, in 64-bit domains and beyond.
func TestFPEMixedSymsMatchesFPEMixed(t *testing.T) {
	f := newFPE([32]byte{4}, []byte("u/s9aA"))
	r := &Rand{}
	r.seed([32]byte{6})
	radixes := []uint8{9, 10, 16, 26}
	for range 3000 {
		n := 1 + r.IntN(40) // up to 40 digits: beyond 2^64 from about 14
		b := make([]byte, n)
		ds := make([]fpeDigit, n)
		syms := make([]fpeSym, n)
		for i := range n {
			rd := radixes[r.IntN(len(radixes))]
			v := byte(r.IntN(int(rd)))
			b[i] = 'A' + v
			ds[i] = fpeDigit{pos: i, radix: rd, base: 'A'}
			syms[i] = fpeSym{v: uint32(v), radix: uint32(rd)}
		}
		in := string(b)
		fpeMixed(f, b, ds)
		fpeMixedSyms(f, syms)
		for i := range n {
			if uint32(b[i]-'A') != syms[i].v {
				t.Fatalf("%q: fpeMixed gives %q, fpeMixedSyms differs at digit %d", in, b, i)
			}
		}
	}
}

// TestFPEMixedSymsBijective: on whole small domains of the radixes
// alphabets have (2 ordinal indicators, 48 Cyrillic capitals, 93 Latin-1
// capitals, 37 modifier letters...), mixed with ASCII ones, every value
// has its own image, inside the domain.
func TestFPEMixedSymsBijective(t *testing.T) {
	f := newFPE([32]byte{8}, []byte("u/s\x01\x10\x01\x03"))
	for _, radixes := range [][]uint32{
		{2}, {6}, {2, 2}, {2, 3, 5}, {48, 48}, {93, 98}, {37, 10, 2}, {89, 89}, {10, 26, 2, 4}, {20992}, {11172},
	} {
		n := uint32(1)
		for _, r := range radixes {
			n *= r
		}
		seen := make([]bool, n)
		syms := make([]fpeSym, len(radixes))
		for x := range n {
			y := x
			for i := len(radixes) - 1; i >= 0; i-- {
				syms[i] = fpeSym{v: y % radixes[i], radix: radixes[i]}
				y /= radixes[i]
			}
			fpeMixedSyms(f, syms)
			out := uint32(0)
			for _, s := range syms {
				if s.v >= s.radix {
					t.Fatalf("radixes %v: %d gave a digit %d ≥ %d", radixes, x, s.v, s.radix)
				}
				out = out*s.radix + s.v
			}
			if seen[out] {
				t.Fatalf("radixes %v: %d maps onto a value already taken", radixes, x)
			}
			seen[out] = true
		}
	}
}

// TestFPEMixedSymsBigDomain: six Han characters and more are beyond 2^64
// (permuteBig): distinct inputs keep distinct outputs, in range.
func TestFPEMixedSymsBigDomain(t *testing.T) {
	f := newFPE([32]byte{2}, []byte("han"))
	seen := map[string]int{}
	for i := range 3000 {
		syms := make([]fpeSym, 6)
		x := uint64(i) * 0x9e3779b97f4a7c15
		for j := range syms {
			syms[j] = fpeSym{v: uint32(x % 20992), radix: 20992}
			x /= 20992
		}
		fpeMixedSyms(f, syms)
		key := fmt.Sprint(syms)
		for _, s := range syms {
			if s.v >= s.radix {
				t.Fatalf("input %d: digit %d out of range", i, s.v)
			}
		}
		if prev, dup := seen[key]; dup {
			t.Fatalf("inputs %d and %d both gave %s", prev, i, key)
		}
		seen[key] = i
	}
}
