package engine

import "encoding/binary"

// macMemo remembers the HMACs computed while one record is masked, so a
// mask that meets the same hash input twice in a record computes its seed
// once: a concat part repeating a rule's mask over the same hash source
// (orders.yaml's shipping name repeats first_name's and last_name's
// from_file over the customer id), an entity that occurs twice in a text.
//
// An entry is the exact message (a ‖ b of Ctx.sum, both compared byte for
// byte; the tag only skips entries that cannot match) and its HMAC under
// the Secret whose state the Ctx holds. It is emptied whenever the Ctx gives
// that state back (Ctx.done: at the end of every record, and when the
// secret changes), so nothing in it outlives the record that computed it:
// it is never a cache keyed on data across records. Its size is fixed and
// it never allocates; once full, further HMACs are computed and not kept.
type macMemo struct {
	n    int // entries in use
	used int // bytes of buf in use
	// idx finds an entry by its tag: slot i+1 for entry i, 0 for none,
	// probed linearly from the tag's bucket.
	idx [memoBuckets]uint8
	tag [memoSlots]uint64
	off [memoSlots]uint16 // where the entry's a ‖ b starts in buf
	la  [memoSlots]uint16 // len(a)
	lb  [memoSlots]uint16 // len(b)
	sum [memoSlots][32]byte
	buf [memoBytes]byte
}

const (
	// memoSlots is well above the dozen or two HMACs of a typical
	// record; a record with more keeps the first ones.
	memoSlots   = 24
	memoBuckets = 32 // a power of two above memoSlots
	memoBytes   = 2048
	// memoMaxMsg keeps one long hash input (a whole document as its own
	// hash source) from taking the room of many short ones.
	memoMaxMsg = 256
)

// memoTag is a cheap summary of a ‖ b with its split: equal messages have
// equal tags; unequal ones usually differ in it, so most entries are
// passed over without comparing their bytes.
func memoTag(a, b []byte) uint64 {
	t := uint64(len(a))<<48 ^ uint64(len(b))<<32
	if len(a) >= 8 {
		t ^= binary.LittleEndian.Uint64(a) // a mask identity: a digest
	}
	if len(b) >= 8 {
		t ^= binary.LittleEndian.Uint64(b[len(b)-8:])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b)
	} else {
		for i, x := range b {
			t ^= uint64(x) << (8 * i)
		}
	}
	return t
}

// bucket is where the probe for tag starts.
func bucket(tag uint64) int { return int(tag * 0x9e3779b97f4a7c15 >> 59) }

// get returns the HMAC of a ‖ b if the memo holds it.
func (m *macMemo) get(tag uint64, a, b []byte) (*[32]byte, bool) {
	for k := bucket(tag); m.idx[k] != 0; k = (k + 1) & (memoBuckets - 1) {
		i := int(m.idx[k]) - 1
		if m.tag[i] != tag || int(m.la[i]) != len(a) || int(m.lb[i]) != len(b) {
			continue
		}
		o := int(m.off[i])
		if string(m.buf[o:o+len(a)]) == string(a) && string(m.buf[o+len(a):o+len(a)+len(b)]) == string(b) {
			return &m.sum[i], true
		}
	}
	return nil, false
}

// put keeps sum as the HMAC of a ‖ b, if there is room.
func (m *macMemo) put(tag uint64, a, b []byte, sum *[32]byte) {
	n := len(a) + len(b)
	if m.n == memoSlots || n > memoMaxMsg || m.used+n > memoBytes {
		return
	}
	i, o := m.n, m.used
	copy(m.buf[o:], a)
	copy(m.buf[o+len(a):], b)
	m.tag[i], m.off[i], m.la[i], m.lb[i] = tag, uint16(o), uint16(len(a)), uint16(len(b))
	m.sum[i] = *sum
	m.n, m.used = i+1, o+n
	k := bucket(tag)
	for m.idx[k] != 0 {
		k = (k + 1) & (memoBuckets - 1)
	}
	m.idx[k] = uint8(i + 1)
}

// clear forgets every entry. The bytes stay behind, unreachable, until
// written over: clearing them would cost more than the memo saves.
func (m *macMemo) clear() {
	if m.n > 0 {
		m.n, m.used, m.idx = 0, 0, [memoBuckets]uint8{}
	}
}
