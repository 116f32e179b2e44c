package processor

import (
	"context"
	"math/bits"
	"sync"

	"github.com/maskstream/maskstream/connectors"
)

// slot states.
const (
	slotFree     uint8 = iota
	slotInFlight       // written, waiting for the sink's done
	slotDone           // the sink acknowledged it
	slotFailed         // the sink's done reported an error (err)
)

// slot kinds: where the slot's record was written.
const (
	toSink uint8 = iota
	toDeadLetter
)

// slot is one in-flight record of a lane. Slots are reused, and each
// keeps its done callback for life, so a record costs no allocation for
// its acknowledgement.
type slot struct {
	src  *connectors.Record // the record as the source gave it
	out  connectors.Record  // what was written (masked record or dead letter)
	buf  *[]byte            // pooled buffer holding out.Value, if any
	kind uint8
	// reason is the dead-letter reason when kind is toDeadLetter.
	reason string

	state uint8
	err   error
	done  func(error)
}

// ackRing tracks a lane's in-flight records in write order. The writer
// takes slots at the tail, sink callbacks complete them from any
// goroutine, and the acker frees the done prefix at the head.
type ackRing struct {
	mu    sync.Mutex
	slots []slot
	mask  uint64
	head  uint64 // oldest slot not yet freed
	tail  uint64 // next slot to take
	dead  bool   // abandoned: callbacks are ignored

	space chan struct{} // a nudge for the writer: the head moved
	ready chan struct{} // a nudge for the acker: a slot completed
}

func newAckRing(capacity int) *ackRing {
	n := uint64(1) << bits.Len(uint(max(capacity, 2)-1))
	r := &ackRing{
		slots: make([]slot, n),
		mask:  n - 1,
		space: make(chan struct{}, 1),
		ready: make(chan struct{}, 1),
	}
	for i := range r.slots {
		s := &r.slots[i]
		s.done = func(err error) { r.complete(s, err) }
	}
	return r
}

func nudge(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// acquire takes the next slot, waiting while the ring is full (the lane's
// in-flight limit). The caller fills it and then marks it in flight.
func (r *ackRing) acquire(ctx context.Context) (*slot, error) {
	for {
		r.mu.Lock()
		if r.tail-r.head < uint64(len(r.slots)) {
			s := &r.slots[r.tail&r.mask]
			r.tail++
			s.state = slotInFlight
			r.mu.Unlock()
			return s, nil
		}
		r.mu.Unlock()
		select {
		case <-r.space:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// unacquire gives back the last slot taken when its write did not
// happen (the sink refused it before queuing).
func (r *ackRing) unacquire(s *slot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if &r.slots[(r.tail-1)&r.mask] == s {
		r.tail--
		s.reset()
	}
}

// complete is every slot's done callback.
func (r *ackRing) complete(s *slot, err error) {
	r.mu.Lock()
	if r.dead || s.state != slotInFlight {
		r.mu.Unlock()
		return
	}
	if err != nil {
		s.state, s.err = slotFailed, err
	} else {
		s.state = slotDone
	}
	r.mu.Unlock()
	nudge(r.ready)
}

// prefix returns the slots from the head that are done (in order, up to
// max) and the first slot that failed, if it is next. It does not free
// them: release does, after the source acked.
func (r *ackRing) prefix(dst []*slot, limit int) (done []*slot, failed *slot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := r.head; i < r.tail && len(dst) < limit; i++ {
		s := &r.slots[i&r.mask]
		switch s.state {
		case slotDone:
			dst = append(dst, s)
			continue
		case slotFailed:
			failed = s
		}
		break
	}
	return dst, failed
}

// retry puts a failed slot back in flight (re-written to the dead
// letters by the acker).
func (r *ackRing) retry(s *slot) {
	r.mu.Lock()
	s.state, s.err = slotInFlight, nil
	r.mu.Unlock()
}

// release frees n slots at the head.
func (r *ackRing) release(n int) {
	r.mu.Lock()
	for range n {
		r.slots[r.head&r.mask].reset()
		r.head++
	}
	r.mu.Unlock()
	nudge(r.space)
}

// empty reports whether every taken slot has been freed.
func (r *ackRing) empty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.head == r.tail
}

// abandon marks the ring dead and returns the source records of every
// slot not freed, in order, freeing them. Callbacks arriving afterwards
// are ignored.
func (r *ackRing) abandon() []*connectors.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = true
	var out []*connectors.Record
	for ; r.head < r.tail; r.head++ {
		s := &r.slots[r.head&r.mask]
		out = append(out, s.src)
		// The sink may still be reading an abandoned record's value:
		// leave its buffer to the garbage collector, not the pool.
		s.buf = nil
		s.reset()
	}
	return out
}

func (s *slot) reset() {
	if s.buf != nil {
		putBuf(s.buf)
	}
	done := s.done
	*s = slot{done: done}
}
