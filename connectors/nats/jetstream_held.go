package nats

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
)

// heldSet is what a JetStreamSource received and has not yet acked or
// given back: the current pull's messages not yet handed to the lane, and
// the lane's (queued, being masked, waiting on the sink). The server
// would redeliver each of them after AckWait, however healthy: behind a
// sink that is down, every copy would queue behind the first, and from
// limits.max_deliveries on the copies would be dead-lettered. keepAlive
// stops that. The set is bounded by one pull plus what the lane holds
// (Deliver blocks when it is full), and by MaxAckPending.
type heldSet struct {
	mu   sync.Mutex
	msgs map[uint64]heldMsg // by stream sequence
}

type heldMsg struct {
	m jetstream.Msg
	// touched is when the server's ack timer last started: the delivery
	// or the last InProgress.
	touched time.Time
}

// add holds m, the delivery of stream sequence seq. It reports false when
// seq is held already: a redelivery of a message this source still works
// on (its InProgress came late, say after a reconnect). The caller drops
// it: the held copy goes on, and its ack or nak settles this one too, as
// the server keys both by stream sequence.
func (h *heldSet) add(seq uint64, m jetstream.Msg, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.msgs[seq]; ok {
		return false
	}
	if h.msgs == nil {
		h.msgs = make(map[uint64]heldMsg)
	}
	h.msgs[seq] = heldMsg{m: m, touched: now}
	return true
}

// release forgets recs: acked or given back. A record that is not the
// held copy of its sequence (one this source could not read the metadata
// of) is left alone.
func (h *heldSet) release(recs []*connectors.Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		if r.Origin.Offset < 0 {
			continue
		}
		seq := uint64(r.Origin.Offset)
		if e, ok := h.msgs[seq]; ok && e.m == r.Token {
			delete(h.msgs, seq)
		}
	}
}

// due appends to buf the messages whose ack timer started at or before
// cutoff and counts them touched at now.
func (h *heldSet) due(cutoff, now time.Time, buf []jetstream.Msg) []jetstream.Msg {
	h.mu.Lock()
	defer h.mu.Unlock()
	for seq, e := range h.msgs {
		if !e.touched.After(cutoff) {
			buf = append(buf, e.m)
			e.touched = now
			h.msgs[seq] = e
		}
	}
	return buf
}

// keepAlive tells the server, with InProgress, that every message held
// for a quarter of ackWait is still being worked on, so none is
// redelivered while the lane holds it: each held message's timer is
// restarted before half of ackWait has passed. It returns when ctx ends.
func (s *JetStreamSource) keepAlive(ctx context.Context, ackWait time.Duration) {
	every := max(ackWait/4, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	var due []jetstream.Msg
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due = s.held.due(now.Add(-every), now, due[:0])
			for _, m := range due {
				// A failure needs no retry: on a lost connection the
				// client buffers it until it reconnects, and a message
				// acked meanwhile (ErrMsgAlreadyAckd) needs nothing.
				_ = m.InProgress()
			}
			clear(due)
		}
	}
}

// ackWait is the consumer's ack wait: the server's, which Bind does not
// set, else the configured one.
func (s *JetStreamSource) ackWait() time.Duration {
	if info := (*s.cons.Load()).CachedInfo(); info != nil && info.Config.AckWait > 0 {
		return info.Config.AckWait
	}
	return s.cfg.AckWait
}
