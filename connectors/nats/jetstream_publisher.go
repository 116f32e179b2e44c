package nats

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"context"
	"errors"
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
)

// Backoff between attempts to get the first unacknowledged record stored
// after a failure: short, because the usual cause is a stream that is
// still starting on a server that just came back.
const (
	republishBackoffMin = 50 * time.Millisecond
	republishBackoffMax = 2 * time.Second
	// reconnectPoll is how often a publisher waiting for the connection
	// looks at it, should a reconnect signal be missed.
	reconnectPoll = 250 * time.Millisecond
)

// pubEntry is one written record on its way to the stream.
type pubEntry struct {
	msg   *natsgo.Msg
	done  func(error)
	fut   jetstream.PubAckFuture // set while a publish is in flight
	state pubState
	err   error // the last publish error
}

type pubState uint8

const (
	pubInFlight pubState = iota // written or published, outcome not known
	pubStored                   // the stream acknowledged it
	pubRefused                  // refused for good (err is permanent)
	pubFailed                   // failed for now (err is transient): publish again
)

// run is the publishing goroutine; see JetStreamSink. window holds the
// records published and not yet finished, in write order.
func (s *JetStreamSink) run() {
	defer close(s.stopped)
	var window []*pubEntry
	for {
		window = s.finishPrefix(window)
		trouble := false
		select {
		case <-s.alarm: // before taking another record
			trouble = true
		default:
		}
		var (
			okc  <-chan *jetstream.PubAck
			errc <-chan error
		)
		if len(window) > 0 {
			if head := window[0]; head.fut == nil {
				trouble = true // failed for now: finishPrefix took the settled ones
			} else {
				okc, errc = head.fut.Ok(), head.fut.Err()
			}
		}
		if !trouble {
			select {
			case e := <-s.in:
				window = append(window, e)
				trouble = !s.publishAsync(e)
			case ack := <-okc:
				s.settle(window[0], ack, nil)
			case err := <-errc:
				s.settle(window[0], nil, err)
			case <-s.alarm:
				trouble = true
			case <-s.quit:
				s.failAll(window)
				return
			}
		}
		if trouble {
			var ok bool
			if window, ok = s.recover(window); !ok {
				s.failAll(window)
				return
			}
		}
	}
}

// publishAsync publishes e without waiting for the ack. It returns false
// when the publish failed at once for a reason that can pass (the
// connection is down).
func (s *JetStreamSink) publishAsync(e *pubEntry) bool {
	e.state, e.err = pubInFlight, nil
	fut, err := s.js.PublishMsgAsync(e.msg, s.pubOpts...)
	if err != nil {
		s.settle(e, nil, err)
		return e.state != pubFailed
	}
	e.fut = fut
	return true
}

// settle records the outcome of e's publish.
func (s *JetStreamSink) settle(e *pubEntry, ack *jetstream.PubAck, err error) {
	e.fut = nil
	// nats.go's synchronous publish wraps the stream's answer as
	// "nats: " + "nats: API error: ...": keep the answer alone.
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		err = apiErr
	}
	switch {
	case err == nil && ack != nil:
		e.state, e.err = pubStored, nil
	case isPermanentPub(err):
		e.state, e.err = pubRefused, err
	default:
		e.state, e.err = pubFailed, err
	}
}

// await waits for e's publish in flight, if any, to resolve. nats.go
// resolves every one: with the ack, an error from the stream, a
// disconnect, or the ack timeout. It returns false if the sink closed.
func (s *JetStreamSink) await(e *pubEntry) bool {
	if e.fut == nil {
		return true
	}
	select {
	case ack := <-e.fut.Ok():
		s.settle(e, ack, nil)
	case err := <-e.fut.Err():
		s.settle(e, nil, err)
	case <-s.quit:
		return false
	}
	return true
}

// finishPrefix calls done for the settled records at the head of window,
// stopping at the first one still in flight or to be published again, and
// returns the rest.
func (s *JetStreamSink) finishPrefix(window []*pubEntry) []*pubEntry {
	for len(window) > 0 {
		e := window[0]
		switch e.state {
		case pubStored:
			s.finish(e, nil)
		case pubRefused:
			s.finish(e, fmt.Errorf("nats: publishing to %s: %w: %w", e.msg.Subject, connectors.ErrPermanent, e.err))
		default:
			return window
		}
		window[0] = nil
		window = window[1:]
	}
	return window
}

// recover runs after a publish failed or the connection dropped, with no
// new record taken meanwhile: it lets every publish in flight resolve,
// then publishes the records that failed again, in write order, until
// every record of window is finished. The first failed record is
// published alone, with backoff, until the stream takes it; the others
// follow pipelined. It returns false (with what is left of window) if
// the sink closed first.
func (s *JetStreamSink) recover(window []*pubEntry) ([]*pubEntry, bool) {
	for _, e := range window {
		if !s.await(e) {
			return window, false
		}
	}
	window = s.finishPrefix(window)
	if len(window) == 0 {
		drain(s.alarm) // a stale alarm: the failure was already handled
		return window, true
	}
	start, republished := time.Now(), 0
	if s.errLog.Allow("republish") {
		s.logger.Warn("nats: publish failed; holding new records and publishing the unacknowledged ones again in order",
			"subject", window[0].msg.Subject, "unacknowledged", len(window), "err", window[0].err)
	}
	bo := &netx.Backoff{Min: republishBackoffMin, Max: republishBackoffMax}
	for len(window) > 0 {
		if !s.waitConnected() {
			return window, false
		}
		head := window[0] // failed for now: finishPrefix took the settled ones
		s.publishSync(head)
		republished++
		if head.state == pubFailed {
			if s.errLog.Allow("republish:" + head.err.Error()) {
				s.logger.Warn("nats: publish still failing, retrying in order", "subject", head.msg.Subject, "err", head.err)
			}
			err := fmt.Errorf("publishing to %s: %w", head.msg.Subject, head.err)
			s.retrying.Store(&err)
			if !bo.Sleep(s.quit) {
				return window, false
			}
			continue
		}
		s.retrying.Store(nil)
		bo.Reset()
		for _, e := range window[1:] {
			if e.state != pubFailed {
				continue
			}
			republished++
			if !s.publishAsync(e) {
				break // the connection dropped again: the next round takes the rest
			}
		}
		for _, e := range window[1:] {
			if !s.await(e) {
				return window, false
			}
		}
		window = s.finishPrefix(window)
	}
	drain(s.alarm) // raised by the failures handled here
	s.logger.Info("nats: publishing recovered", "republished", republished, "took", time.Since(start).Round(time.Millisecond))
	return window, true
}

// publishSync publishes e and waits for the ack, at most AckTimeout.
func (s *JetStreamSink) publishSync(e *pubEntry) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.AckTimeout)
	defer cancel()
	ack, err := s.js.PublishMsg(ctx, e.msg, s.pubOpts...)
	s.settle(e, ack, err)
}

// waitConnected returns once the connection is up, or false if the sink
// closed first.
func (s *JetStreamSink) waitConnected() bool {
	t := time.NewTicker(reconnectPoll)
	defer t.Stop()
	for !s.nc.IsConnected() {
		select {
		case <-s.up:
		case <-t.C:
		case <-s.quit:
			return false
		}
	}
	return true
}

func drain(c chan struct{}) {
	select {
	case <-c:
	default:
	}
}

func (s *JetStreamSink) finish(e *pubEntry, err error) {
	e.done(err)
	<-s.sem
	s.inflight.Done()
}

// failAll gives ErrSinkClosed to everything still held, in order.
func (s *JetStreamSink) failAll(window []*pubEntry) {
	for _, e := range window {
		s.finish(e, ErrSinkClosed)
	}
	for {
		select {
		case e := <-s.in:
			s.finish(e, ErrSinkClosed)
		default:
			return
		}
	}
}
