package processor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maskstream/maskstream/connectors"
)

// errLaneStopped is returned by Deliver after Stop.
var errLaneStopped = errors.New("processor: lane stopped")

// maxDestCache bounds a lane's destination cache (NATS subjects vary per
// message; a Kafka lane has one topic).
const maxDestCache = 4096

// lane is one partition's (or JetStream consumer's) path through the
// route: Deliver → queue → writer (mask, write) → ring → acker (ack).
type lane struct {
	r  *Route
	id connectors.LaneID

	queue     chan *chunk
	stopping  chan struct{}
	deliverMu sync.RWMutex // Deliver holds it shared; Stop exclusively to close queue
	closed    bool         // queue closed; guarded by deliverMu

	// hard is canceled when the lane must stop writing now: Stop's
	// deadline passed, or the route failed.
	hard       context.Context
	cancelHard context.CancelCauseFunc

	ring       *ackRing
	writerDone chan struct{}
	ackerDone  chan struct{}
	stopOnce   sync.Once

	// held is the bytes this lane has charged to the route's budget
	// (budget.go): its queue, its masked buffers and its ring.
	held atomic.Int64

	// leftover are records the writer took from the queue but did not
	// write (hard stop); written by the writer before writerDone.
	leftover []*connectors.Record

	// writer-only destination cache
	destFixed string
	destCache map[string]string
}

var _ connectors.Lane = (*lane)(nil)

func newLane(r *Route, id connectors.LaneID) *lane {
	l := &lane{
		r:          r,
		id:         id,
		queue:      make(chan *chunk, max(2, r.cfg.LaneQueue/chunkSize)),
		stopping:   make(chan struct{}),
		ring:       newAckRing(r.cfg.LaneQueue),
		writerDone: make(chan struct{}),
		ackerDone:  make(chan struct{}),
		destCache:  map[string]string{},
	}
	l.hard, l.cancelHard = context.WithCancelCause(r.hard)
	if r.cfg.Topic.IsFixed() {
		l.destFixed = r.cfg.Topic.String()
	}
	go l.writeLoop()
	go l.ackLoop()
	return l
}

// Deliver queues recs in chunks, blocking while the lane is full or the
// route holds its lanes.max_bytes. Under the byte budget a chunk may be
// cut short: it takes the records that fit.
func (l *lane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	l.deliverMu.RLock()
	defer l.deliverMu.RUnlock()
	if l.closed {
		return errLaneStopped
	}
	for i := 0; i < len(recs); {
		n, cost, err := l.r.budget.wait(ctx, l, recs[i:min(i+chunkSize, len(recs))])
		var c *chunk
		if err == nil {
			l.held.Add(cost)
			c = newChunk(recs[i : i+n])
			select {
			case l.queue <- c:
			case <-ctx.Done():
				err = ctx.Err()
			case <-l.stopping:
				err = errLaneStopped
			case <-l.hard.Done():
				err = context.Cause(l.hard)
			}
			if err != nil {
				l.charge(-cost)
			}
		}
		if err != nil {
			// Give back what the lane did not take, so a JetStream
			// source redelivers it now rather than after its ack wait.
			l.r.cfg.Source.Abandon(recs[i:])
			return err
		}
		i += n
		l.r.met.in.Add(float64(n))
		l.r.stats.in.Add(uint64(n))
		if l.r.pool != nil {
			l.r.pool.offer(c)
		}
	}
	return nil
}

// Stop drains the lane within ctx, then abandons what is left.
func (l *lane) Stop(ctx context.Context) {
	l.stopOnce.Do(func() { l.stop(ctx) })
}

func (l *lane) stop(ctx context.Context) {
	close(l.stopping)
	l.deliverMu.Lock()
	l.closed = true
	close(l.queue)
	l.deliverMu.Unlock()

	// A context already ended is the source stopping the lane at once on
	// purpose (an exactly-once source aborting its transaction logs why);
	// it is not a shutdown running out of time.
	atOnce := ctx.Err() != nil
	select {
	case <-l.ackerDone:
	case <-ctx.Done():
		if atOnce {
			l.r.log.Info("lane stopped by its source without draining; abandoning the rest", "topic", l.id.Topic, "partition", l.id.Partition)
		} else {
			l.r.log.Warn("lane did not drain within the shutdown deadline; abandoning the rest (a Kafka or JetStream source redelivers it; core NATS cannot, so there it is lost)", "topic", l.id.Topic, "partition", l.id.Partition)
		}
	}
	l.cancelHard(errLaneStopped)
	<-l.writerDone
	<-l.ackerDone
	abandoned := append(l.ring.abandon(), l.leftover...)
	if len(abandoned) > 0 {
		l.r.cfg.Source.Abandon(abandoned)
		l.r.log.Info("lane gave unfinished records back to the source", "topic", l.id.Topic, "partition", l.id.Partition, "records", len(abandoned))
	}
	// Whatever the lane still holds (abandoned, left over, or a chunk a
	// worker was masking) is no longer the route's to wait for.
	if n := l.held.Swap(0); n != 0 {
		l.r.budget.release(n)
	}
	l.r.laneClosed(l)
}

// writeLoop masks (or waits for the worker masking) each chunk and
// writes its records in order.
func (l *lane) writeLoop() {
	defer close(l.writerDone)
	for c := range l.queue {
		if l.hard.Err() != nil {
			l.leftover = append(l.leftover, c.recs...)
			continue
		}
		if n := l.writeChunk(c); n < len(c.recs) {
			l.leftover = append(l.leftover, c.recs[n:]...)
		}
	}
}

// writeChunk writes c's records and returns how many it wrote; fewer than
// all only when the lane is hard-stopped.
func (l *lane) writeChunk(c *chunk) int {
	if c.claim.CompareAndSwap(false, true) {
		l.r.maskChunk(c)
	} else {
		select {
		case <-c.done:
		case <-l.hard.Done():
			return 0 // the worker may still be writing c.res: leave it to the GC
		}
	}
	defer putResults(c.res)
	// Each record was charged twice its source bytes when queued; from
	// here on it holds its source bytes plus its masked buffer (none for
	// a dead letter, which holds the original). Corrected before any
	// write, so no ack releases more than its record was charged: a lane
	// must never hold less than nothing, or Deliver could miss the wake
	// that its holding nothing allows it one record.
	var adjust int64
	for i, src := range c.recs {
		adjust += bufBytes(c.res[i].buf) - recBytes(src)
	}
	l.charge(adjust)
	r := l.r
	for i, src := range c.recs {
		res := &c.res[i]
		s, err := l.ring.acquire(l.hard)
		if err != nil {
			releaseResults(c.res[i:len(c.recs)])
			return i
		}
		s.src = src
		var sink connectors.Sink
		if res.reason == "" {
			s.kind, s.buf, s.out = toSink, res.buf, res.out
			s.out.Origin = src.Origin // a JetStream sink derives its dedup id from it
			s.out.Topic = l.dest(src)
			s.out.Partition = -1
			if r.cfg.KeepPartition {
				s.out.Partition = src.Origin.Partition
			}
			sink = r.cfg.Sink
		} else {
			s.kind, s.reason = toDeadLetter, res.reason
			s.out = r.deadLetter(src, res.reason, res.msg, c.ruleset)
			sink = r.cfg.DeadLetter
		}
		res.buf = nil
		if err := sink.Write(l.hard, &s.out, s.done); err != nil {
			l.ring.unacquire(s)
			releaseResults(c.res[i+1 : len(c.recs)])
			if l.hard.Err() == nil {
				r.fail(fmt.Errorf("writing to the sink: %w", err))
			}
			return i
		}
	}
	return len(c.recs)
}

func releaseResults(rs []result) {
	for i := range rs {
		if rs[i].buf != nil {
			putBuf(rs[i].buf)
			rs[i].buf = nil
		}
	}
}

// dest is a record's destination topic or subject.
func (l *lane) dest(src *connectors.Record) string {
	if l.destFixed != "" {
		return l.destFixed
	}
	if d, ok := l.destCache[src.Origin.Topic]; ok {
		return d
	}
	d := l.r.cfg.Topic.Expand(src.Origin.Topic, src.Origin.Partition)
	if len(l.destCache) >= maxDestCache {
		clear(l.destCache)
	}
	if !l.r.cfg.Topic.UsesPartition() || l.id.Partition == src.Origin.Partition {
		l.destCache[src.Origin.Topic] = d
	}
	return d
}

// ackLoop acks the done prefix of the ring to the source, dead-letters
// records the sink refused for good, and returns once the writer is done
// and every slot is freed, or on a hard stop.
func (l *lane) ackLoop() {
	defer close(l.ackerDone)
	batch := make([]*slot, 0, 256)
	recs := make([]*connectors.Record, 0, 256)
	writerDone := l.writerDone
	finished := false
	for {
		done, failed := l.ring.prefix(batch[:0], cap(batch))
		if len(done) > 0 {
			recs = l.ack(done, recs[:0])
			continue
		}
		if failed != nil {
			if !l.redirect(failed) {
				return
			}
			continue
		}
		if finished && l.ring.empty() {
			return
		}
		select {
		case <-l.ring.ready:
		case <-writerDone:
			finished, writerDone = true, nil
		case <-l.hard.Done():
			return
		}
	}
}

// ack acks done slots to the source, counts them and frees them.
func (l *lane) ack(done []*slot, recs []*connectors.Record) []*connectors.Record {
	r := l.r
	now := time.Now()
	var out, dead uint64
	var freed int64
	for _, s := range done {
		recs = append(recs, s.src)
		freed += recBytes(s.src) + bufBytes(s.buf)
		if s.kind == toSink {
			out++
			if ts := s.src.Timestamp; !ts.IsZero() {
				r.met.e2e.Observe(now.Sub(ts).Seconds())
			}
		} else {
			dead++
			r.met.deadLetters.WithLabelValues(r.cfg.Name, s.reason).Inc()
			r.stats.addDead(s.reason)
			r.noteDead(s.reason, deadLetterError(s.out.Headers), now)
		}
	}
	if err := r.cfg.Source.Ack(l.hard, recs); err != nil && l.hard.Err() == nil {
		r.warnAck(err)
	}
	if out > 0 {
		r.met.out.Add(float64(out))
		r.stats.out.Add(out)
	}
	if dead > 0 {
		r.stats.dead.Add(dead)
	}
	l.ring.release(len(done))
	l.charge(-freed)
	clear(recs)
	return recs
}

// redirect handles the head slot whose write failed. A permanent sink
// error sends the original to the dead letters; anything else (the sink
// closed or fenced, the dead letters refused) stops the route, so no
// record is ever acked without being produced or dead-lettered.
func (l *lane) redirect(s *slot) bool {
	r := l.r
	switch {
	case !errors.Is(s.err, connectors.ErrPermanent):
		r.fail(fmt.Errorf("the sink failed: %w", s.err))
		return false
	case s.kind == toDeadLetter:
		r.fail(fmt.Errorf("the dead-letter destination refused a record for good (%w); stopping rather than lose it: fix the dead_letter destination", s.err))
		return false
	}
	if s.buf != nil {
		l.charge(-bufBytes(s.buf))
		putBuf(s.buf)
		s.buf = nil
	}
	s.kind, s.reason = toDeadLetter, ReasonSinkRejected
	s.out = r.deadLetter(s.src, ReasonSinkRejected, s.err.Error(), r.ruleset.load().name)
	l.ring.retry(s)
	if err := r.cfg.DeadLetter.Write(l.hard, &s.out, s.done); err != nil {
		if l.hard.Err() == nil {
			r.fail(fmt.Errorf("writing a dead letter: %w", err))
		}
		return false
	}
	return true
}
