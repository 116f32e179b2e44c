package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// TestMacMemoReusesWithinRecord: the same message twice in one record is
// one HMAC, and the memo's answer is the HMAC itself.
func TestMacMemoReusesWithinRecord(t *testing.T) {
	s := MustSecret("memo-test-secret-0123456789")
	c := &Ctx{sec: s}
	defer c.done()
	id := identityOf("memo-test/a")
	first := c.sum(id[:], []byte("C1341249"))
	if c.sc.memo.n != 1 {
		t.Fatalf("memo holds %d entries after one HMAC, want 1", c.sc.memo.n)
	}
	again := c.sum(id[:], []byte("C1341249"))
	if c.sc.memo.n != 1 {
		t.Fatalf("the same message was stored twice (%d entries)", c.sc.memo.n)
	}
	if want := s.Sum(id[:], []byte("C1341249")); first != want || again != want {
		t.Fatal("a memoized HMAC differs from Secret.Sum")
	}
}

// TestMacMemoNeverCrossesRecords: a pooled Ctx starts every record with an
// empty memo, and one that changes secret forgets the old secret's HMACs.
func TestMacMemoNeverCrossesRecords(t *testing.T) {
	s := MustSecret("memo-test-secret-0123456789")
	c := &Ctx{sec: s}
	id := identityOf("memo-test/a")
	c.sum(id[:], []byte("v"))
	c.reset() // the next record
	if c.sc.memo.n != 0 {
		t.Fatalf("memo kept %d entries past the record", c.sc.memo.n)
	}
	if _, ok := c.sc.memo.get(memoTag(id[:], []byte("v")), id[:], []byte("v")); ok {
		t.Fatal("memo answered for a previous record")
	}
	c.sec = s
	c.sum(id[:], []byte("v"))
	other := MustSecret("memo-test-secret-0123456789x")
	c.sec = other
	if got := c.sum(id[:], []byte("v")); got != other.Sum(id[:], []byte("v")) {
		t.Fatal("a Ctx that changed secret answered from the old secret's memo")
	}
	c.done()
	if c.sc.memo.n != 0 {
		t.Fatal("done left the memo filled")
	}

	// Through the masker: records masked one after another by pooled
	// calls give what each gives alone.
	m := mustCompile(t, `
version: "1.0"
rules:
  - path: "$.a"
    hash_sources: ["$.k"]
    masks: [ { type: from_random_number, min: 1, max: 1000000000 } ]
  - path: "$.b"
    hash_sources: ["$.k"]
    masks: [ { type: concat, masks: [ { type: from_random_number, min: 1, max: 1000000000 } ] } ]
`)
	recs := []string{`{"k":"x","a":1,"b":1}`, `{"k":"y","a":1,"b":1}`, `{"k":"x","a":1,"b":1}`}
	alone := make([]string, len(recs))
	for i, r := range recs {
		alone[i] = string(mustMask(t, m, s, r))
	}
	for i, r := range recs {
		if got := string(mustMask(t, m, s, r)); got != alone[i] {
			t.Errorf("record %d: %s after other records, %s alone", i, got, alone[i])
		}
	}
	if alone[0] == alone[1] {
		t.Error("different hash sources gave the same output")
	}
	var got struct {
		A json.Number
		B string
	}
	if err := json.Unmarshal([]byte(alone[0]), &got); err != nil || string(got.A) != got.B {
		t.Errorf("the same mask over the same hash source gave %s and %q in one record (%v)", got.A, got.B, err)
	}
}

// TestMacMemoKeysOnEveryByte: messages that differ anywhere (identity,
// input, where they split, length) never take each other's HMAC, even
// when their tags collide.
func TestMacMemoKeysOnEveryByte(t *testing.T) {
	s := MustSecret("memo-test-secret-0123456789")
	c := &Ctx{sec: s}
	defer c.done()
	ida, idb := identityOf("memo-test/a"), identityOf("memo-test/b")
	long := bytes.Repeat([]byte("0123456789abcdef"), 20) // past memoMaxMsg
	msgs := [][2][]byte{
		{ida[:], []byte("C1341249")},
		{idb[:], []byte("C1341249")},
		{ida[:], []byte("C1341248")},
		{ida[:], []byte("C13412490")},
		{ida[:], []byte("D1341249")},
		{ida[:], nil},
		{ida[:], []byte{}},
		{nil, []byte("C1341249")},
		{ida[:16], append(ida[16:len(ida):len(ida)], "C1341249"...)}, // same bytes, split elsewhere
		{ida[:], long},
		{ida[:], long[:len(long)-1]},
		{keyLabel, ida[:]},
	}
	for round := range 2 { // the second round answers from the memo
		for i, m := range msgs {
			if got, want := c.sum(m[0], m[1]), s.Sum(m[0], m[1]); got != want {
				t.Fatalf("round %d, message %d: wrong HMAC", round, i)
			}
		}
	}

	// Forced collisions: one tag for different bytes.
	var mm macMemo
	var sum [32]byte
	sum[0] = 1
	mm.put(7, ida[:], []byte("x"), &sum)
	for _, m := range [][2][]byte{{idb[:], []byte("x")}, {ida[:], []byte("y")}, {ida[:31], []byte("xx")}, {ida[:], []byte("xy")}} {
		if _, ok := mm.get(7, m[0], m[1]); ok {
			t.Errorf("a tag collision returned another message's HMAC (%x|%q)", m[0][:2], m[1])
		}
	}
	if got, ok := mm.get(7, ida[:], []byte("x")); !ok || *got != sum {
		t.Error("the stored message was not found")
	}
}

// TestMacMemoFull: past its capacity the memo stops keeping, and every
// HMAC stays right, without allocating.
func TestMacMemoFull(t *testing.T) {
	s := MustSecret("memo-test-secret-0123456789")
	c := &Ctx{sec: s}
	defer c.done()
	id := identityOf("memo-test/a")
	in := make([][]byte, 3*memoSlots)
	for i := range in {
		in[i] = fmt.Appendf(nil, "value-%d-%0*d", i, i%40, 0)
	}
	for round := range 2 {
		for i, b := range in {
			if c.sum(id[:], b) != s.Sum(id[:], b) {
				t.Fatalf("round %d, input %d: wrong HMAC", round, i)
			}
		}
	}
	if c.sc.memo.n > memoSlots || c.sc.memo.used > memoBytes {
		t.Fatalf("memo overflowed: %d entries, %d bytes", c.sc.memo.n, c.sc.memo.used)
	}
	if raceEnabled {
		return // the race detector makes sync.Pool drop items on purpose: allocation counts mean nothing
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, b := range in {
			c.sum(id[:], b)
		}
		c.reset()
		c.sec = s
	})
	if allocs != 0 {
		t.Errorf("Ctx.sum allocates %.1f times per record", allocs)
	}
}

func identityOf(s string) [32]byte {
	var id [32]byte
	copy(id[:], fmt.Sprintf("%-32s", s))
	return id
}

func mustMask(t *testing.T, m *Masker, s *Secret, rec string) []byte {
	t.Helper()
	out, err := m.MaskValue(nil, s, []byte(rec), nil)
	if err != nil {
		t.Fatalf("mask %s: %v", rec, err)
	}
	return out
}
