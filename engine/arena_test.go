package engine

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

func TestCtxArena(t *testing.T) {
	t.Run("claimed in place", func(t *testing.T) {
		c := &Ctx{}
		b := append(c.room(8), "abc"...)
		s := c.str(b)
		if s != "abc" || unsafe.StringData(s) != &c.sc.arena[0] || len(c.sc.arena) != 3 {
			t.Errorf("str(%q) = %q, arena %q: want it claimed where it was built", b, s, c.sc.arena)
		}
	})
	t.Run("copied from elsewhere", func(t *testing.T) {
		c := &Ctx{}
		src := []byte("xyz")
		s := c.str(src)
		src[0] = 'Q'
		if s != "xyz" {
			t.Errorf("the string changed with its source: %q", s)
		}
	})
	t.Run("outgrew its room", func(t *testing.T) {
		c := &Ctx{}
		b := append(c.room(2), strings.Repeat("w", 5000)...) // past the room: reallocated
		s := c.str(b)
		b[0] = 'Q'
		if s != strings.Repeat("w", 5000) {
			t.Error("a result built past its room changed with its buffer")
		}
	})
	t.Run("earlier strings survive growth", func(t *testing.T) {
		c := &Ctx{}
		var kept []string
		for i := range 400 {
			want := strings.Repeat(string(rune('a'+i%26)), i)
			var s string
			if i%2 == 0 {
				s = c.str(append(c.room(i), want...))
			} else {
				s = c.str([]byte(want))
			}
			kept = append(kept, s)
		}
		for i, s := range kept {
			if s != strings.Repeat(string(rune('a'+i%26)), i) {
				t.Fatalf("string %d was overwritten: %.20q", i, s)
			}
		}
	})
	t.Run("reset keeps room, drops a huge arena", func(t *testing.T) {
		c := &Ctx{}
		c.str(append(c.room(100), "x"...))
		c.reset()
		if c.sc == nil || len(c.sc.arena) != 0 || cap(c.sc.arena) == 0 {
			t.Errorf("reset: arena len %d cap %d, want empty with its room kept", len(c.sc.arena), cap(c.sc.arena))
		}
		c.room(arenaMax + 1)
		c.reset()
		if cap(c.sc.arena) != 0 {
			t.Errorf("reset kept an arena of %d bytes, more than arenaMax", cap(c.sc.arena))
		}
	})
}

// TestArenaGrowthMidPipeline: a mask whose input views the arena and whose
// output makes the arena grow gives what it gives on a fresh arena.
func TestArenaGrowthMidPipeline(t *testing.T) {
	pipes := []struct{ name, src string }{
		{"imitate after a long format", `{type: chain, masks: [{type: from_format_string, value_format: "{[a-zA-Z0-9],3000}"}, {type: imitate}]}`},
		// imitate_unique replaces at most maxUniqueChars characters: the
		// kept dashes make the value long enough to grow the arena.
		{"imitate_unique after a long format", `{type: chain, masks: [{type: from_format_string, value_format: "{[a-z0-9],1000}` + strings.Repeat("-", 2500) + `x"}, {type: imitate_unique}]}`},
		{"concat of long parts", `{type: concat, glue: "/", masks: [{type: from_format_string, value_format: "{[a-z],700}"}, {type: imitate}, {type: hash}]}`},
	}
	for _, p := range pipes {
		t.Run(p.name, func(t *testing.T) {
			pl := genKit.testMask(t, p.src)
			in := Str("Order 42 for ACME-7")
			want := genKit.must(t, pl, in)
			for _, free := range []int{0, 1, 17, 3000} {
				c := &Ctx{sec: MustSecret(genSecret)}
				// Fill the arena so only free bytes are left.
				c.str(append(c.room(4096), make([]byte, 4096-free)...)[:4096-free])
				if got := cap(c.sc.arena) - len(c.sc.arena); got < free {
					t.Fatalf("setup: %d bytes free, want %d", got, free)
				}
				got, err := c.Run(pl, in)
				if err != nil {
					t.Fatal(err)
				}
				if got.S != want.S {
					t.Errorf("with %d bytes free the output differs from a fresh arena's", free)
				}
			}
		})
	}
}

// TestConcurrentOrders masks the reference orders from several goroutines
// sharing one Masker and one Secret: pooled calls, arenas, HMAC states and
// the permutation key cache give every goroutine the sequential output.
func TestConcurrentOrders(t *testing.T) {
	m := ordersMasker(t)
	recs := testenv.Orders(11, 48)
	want := make([]string, len(recs))
	for i, r := range recs {
		out, err := m.MaskValue(nil, testSecret, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = string(out)
	}
	sec := MustSecret("test-secret-0123456789abcdef") // fresh caches, same key
	errs := make(chan string, 4)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var out []byte
			for k := range 3 * len(recs) {
				i := (k + g*7) % len(recs)
				var err error
				if out, err = m.MaskValue(out[:0], sec, recs[i], nil); err != nil || string(out) != want[i] {
					errs <- fmt.Sprintf("goroutine %d, record %d: output differs from the sequential one (err %v)", g, i, err)
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
}

func ordersMasker(t *testing.T) *Masker {
	t.Helper()
	rs, err := rulesets.ParseFile(filepath.Join("..", "rulesets", "examples", "orders.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMaskValueAllocs guards the hot path: once its pools are warm, masking
// a reference order with orders.yaml allocates nothing, also when the call
// counts what each rule masked and reached (Counts, Found).
func TestMaskValueAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	m := ordersMasker(t)
	recs := testenv.Orders(7, 64)
	for _, tc := range []struct {
		name string
		o    *CallOptions
	}{
		{"no options", nil},
		{"counting", &CallOptions{Found: make([]uint32, m.NumRules()), Counts: make([]uint32, m.NumRules())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			var err error
			i := 0
			mask := func() {
				out, err = m.MaskValue(out[:0], testSecret, recs[i%len(recs)], tc.o)
				if err != nil {
					t.Fatal(err)
				}
				i++
			}
			for range 2 * len(recs) {
				mask()
			}
			if n := testing.AllocsPerRun(500, mask); n > 0 {
				t.Errorf("masking an order allocates %v times; want none (pool or reuse the buffer)", n)
			}
			if tc.o != nil && slices.Max(tc.o.Found) == 0 {
				t.Errorf("Found stayed zero: %v", tc.o.Found)
			}
		})
	}
}

// TestMaskKeyTextAllocs guards keys and headers masked as text (a key of
// bare digits or text, a header): they reuse pooled scratch, so masking
// one allocates only its input's string and the output's bytes, where a
// fresh scratch per key cost about 4.7 KB and eight times the masks' time.
func TestMaskKeyTextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	m := ordersMasker(t)
	hs := []Header{{Key: "x-trace", Value: []byte("4bf92f3577b34da6")}}
	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"digits", []byte("517")},
		{"text", []byte("ORD-90380872")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mask := func() {
				if _, err := m.MaskKey(testSecret, tc.key); err != nil {
					t.Fatal(err)
				}
				if _, err := m.MaskHeaders(testSecret, hs, nil); err != nil {
					t.Fatal(err)
				}
			}
			mask()
			if n := testing.AllocsPerRun(200, mask); n > 3 {
				t.Errorf("masking a key and a header allocates %.0f times, want at most 3 (its string, its output, and a header's)", n)
			}
		})
	}
}
