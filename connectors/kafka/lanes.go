package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// laneBatches is how many polled batches may wait for one partition's
// goroutine. It is small on purpose: the lane itself is the buffer, this
// only lets the poll loop move on to other partitions while one lane is
// busy taking a batch.
const laneBatches = 2

type topicPartition struct {
	topic     string
	partition int32
}

// laneSet tracks which partitions this member owns and runs one goroutine
// per partition that has delivered records. Lock order: laneSet.mu is a
// leaf; it is never held while calling into a lane or into kgo.
type laneSet struct {
	stopTimeout time.Duration
	logger      *slog.Logger

	mu      sync.Mutex
	ctx     context.Context
	open    func(connectors.LaneID) connectors.Lane
	owned   map[topicPartition]struct{}
	lanes   map[topicPartition]*partLane
	closing bool   // Run is ending: no new lanes
	fatal   error  // a lane refused records for a reason other than its ctx
	wake    func() // optional: told when fatal is set
	wg      sync.WaitGroup
}

// partLane is one partition's goroutine and the lane it feeds.
type partLane struct {
	tp     topicPartition
	lane   connectors.Lane
	in     chan []*kgo.Record
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // the goroutine has returned: no more Deliver

	stopping bool          // guarded by laneSet.mu: someone is stopping it
	stopped  chan struct{} // Lane.Stop has returned
}

func (ls *laneSet) init(stopTimeout time.Duration, logger *slog.Logger) {
	ls.stopTimeout = stopTimeout
	ls.logger = logger
	ls.owned = make(map[topicPartition]struct{})
	ls.lanes = make(map[topicPartition]*partLane)
}

func (ls *laneSet) start(ctx context.Context, open func(connectors.LaneID) connectors.Lane) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.ctx, ls.open = ctx, open
}

func (ls *laneSet) assign(m map[string][]int32) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			ls.owned[topicPartition{t, p}] = struct{}{}
		}
	}
}

// err is the first fatal lane error, for the poll loop.
func (ls *laneSet) err() error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.fatal
}

// holds reports whether a lane of tp is live or stopping, i.e. whether an
// Ack for it may still be committed by this member.
func (ls *laneSet) holds(topic string, partition int32) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	_, ok := ls.lanes[topicPartition{topic, partition}]
	return ok
}

func (ls *laneSet) ownedSet() map[topicPartition]struct{} {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := make(map[topicPartition]struct{}, len(ls.owned))
	for tp := range ls.owned {
		out[tp] = struct{}{}
	}
	return out
}

// dispatch hands one partition's polled records to its goroutine, opening
// the lane on the partition's first records. It blocks while the lane is
// busy: that is the backpressure that stops the poll loop. It reports
// whether the records were handed over: records of a partition no longer
// owned are dropped (its new owner reads them), as are records arriving
// while Run ends.
func (ls *laneSet) dispatch(ctx context.Context, topic string, partition int32, recs []*kgo.Record) bool {
	pl := ls.laneFor(topicPartition{topic, partition})
	if pl == nil {
		return false
	}
	select {
	case pl.in <- recs:
		return true
	case <-pl.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// laneFor is called only by the poll loop, so two calls never open the
// same partition at once.
func (ls *laneSet) laneFor(tp topicPartition) *partLane {
	ls.mu.Lock()
	if pl := ls.lanes[tp]; pl != nil {
		ls.mu.Unlock()
		return pl
	}
	_, owned := ls.owned[tp]
	if !owned || ls.closing || ls.open == nil {
		ls.mu.Unlock()
		return nil
	}
	open, runCtx := ls.open, ls.ctx
	ls.mu.Unlock()

	// open is the processor's code: never call it under ls.mu.
	lane := open(connectors.LaneID{Topic: tp.topic, Partition: tp.partition})
	ctx, cancel := context.WithCancel(runCtx)
	pl := &partLane{
		tp: tp, lane: lane, ctx: ctx, cancel: cancel,
		in:      make(chan []*kgo.Record, laneBatches),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}

	ls.mu.Lock()
	_, owned = ls.owned[tp]
	if !owned || ls.closing {
		// Lost or closing while the lane was being opened: give it back.
		ls.mu.Unlock()
		cancel()
		close(pl.done)
		ls.stopLane(pl, ls.stopTimeout)
		return nil
	}
	ls.lanes[tp] = pl
	ls.wg.Add(1)
	ls.mu.Unlock()
	go ls.feed(pl)
	return pl
}

// feed is a partition's goroutine: it converts and delivers batches in
// order until the lane's ctx ends.
func (ls *laneSet) feed(pl *partLane) {
	defer ls.wg.Done()
	defer close(pl.done)
	for {
		select {
		case <-pl.ctx.Done():
			return
		case recs := <-pl.in:
			out := make([]*connectors.Record, len(recs))
			fromKgo(recs, out)
			if err := pl.lane.Deliver(pl.ctx, out); err != nil {
				if pl.ctx.Err() == nil {
					ls.mu.Lock()
					if ls.fatal == nil {
						ls.fatal = fmt.Errorf("kafka: lane %s[%d] refused records: %w", pl.tp.topic, pl.tp.partition, err)
					}
					wake := ls.wake
					ls.mu.Unlock()
					if wake != nil {
						wake()
					}
				}
				return
			}
		}
	}
}

// release gives partitions up (revoke or loss): their lanes stop taking
// records, Lane.Stop runs for each (in parallel), and release returns once
// every Stop has returned, so the caller may commit.
func (ls *laneSet) release(m map[string][]int32) {
	var pls []*partLane
	ls.mu.Lock()
	for t, ps := range m {
		for _, p := range ps {
			tp := topicPartition{t, p}
			delete(ls.owned, tp)
			if pl := ls.lanes[tp]; pl != nil {
				pls = append(pls, pl)
			}
		}
	}
	ls.mu.Unlock()
	ls.stopLanes(pls, ls.stopTimeout)
}

// stopAll stops every lane, each given StopTimeout to drain. With closing
// (the end of Run) no lane opens afterwards; without, lanes reopen on
// their partition's next records.
func (ls *laneSet) stopAll(closing bool) { ls.stopEvery(closing, ls.stopTimeout) }

// stopAllNow stops every lane without waiting for what it holds to be
// produced: Lane.Stop gets a context that has already ended, so the lane
// abandons its unfinished records at once. A TxnSource does this before
// aborting a transaction on purpose (its records wait on something that
// will not come in time, or the broker refused them with their batch):
// the records are read again, and the abort fails what kgo still holds
// for them, which a stopped lane ignores. Lanes reopen on their
// partition's next records.
func (ls *laneSet) stopAllNow() { ls.stopEvery(false, 0) }

func (ls *laneSet) stopEvery(closing bool, within time.Duration) {
	ls.mu.Lock()
	ls.closing = ls.closing || closing
	pls := make([]*partLane, 0, len(ls.lanes))
	for _, pl := range ls.lanes {
		pls = append(pls, pl)
	}
	ls.mu.Unlock()
	ls.stopLanes(pls, within)
}

// stopLanes stops pls in parallel, each given within to drain, and waits
// for all of them, including those another caller (a revoke racing the
// end of Run) is stopping.
func (ls *laneSet) stopLanes(pls []*partLane, within time.Duration) {
	var wg sync.WaitGroup
	for _, pl := range pls {
		ls.mu.Lock()
		mine := !pl.stopping
		pl.stopping = true
		ls.mu.Unlock()
		if !mine {
			wg.Go(func() { <-pl.stopped })
			continue
		}
		wg.Go(func() {
			pl.cancel()
			<-pl.done
			ls.stopLane(pl, within)
			ls.mu.Lock()
			if ls.lanes[pl.tp] == pl {
				delete(ls.lanes, pl.tp)
			}
			ls.mu.Unlock()
		})
	}
	wg.Wait()
}

func (ls *laneSet) stopLane(pl *partLane, within time.Duration) {
	defer close(pl.stopped)
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	pl.lane.Stop(ctx)
}

// wait waits for every partition goroutine.
func (ls *laneSet) wait() { ls.wg.Wait() }

// size is the number of live or stopping lanes.
func (ls *laneSet) size() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.lanes)
}
