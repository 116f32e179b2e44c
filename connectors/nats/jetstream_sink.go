package nats

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
)

// JetStreamSinkConfig says how a JetStreamSink publishes.
type JetStreamSinkConfig struct {
	// MaxInFlight bounds the records written but not yet acknowledged by
	// the stream; Write blocks beyond it. 1000 by default.
	MaxInFlight int
	// AckTimeout is how long one publish waits for the stream's ack before
	// it is retried; 5s by default.
	AckTimeout time.Duration
	// CloseTimeout bounds the flush in Close; 30s by default.
	CloseTimeout time.Duration
}

// Default values of JetStreamSinkConfig fields left zero.
const (
	DefaultJetStreamMaxInFlight = 1000
	DefaultAckTimeout           = 5 * time.Second
	DefaultCloseTimeout         = 30 * time.Second
)

// Validate reports every mistake in c at once.
func (c JetStreamSinkConfig) Validate() error {
	if c.MaxInFlight < 0 || c.AckTimeout < 0 || c.CloseTimeout < 0 {
		return errors.New("nats: sink max_in_flight, ack_timeout and close_timeout cannot be negative")
	}
	return nil
}

func (c *JetStreamSinkConfig) setDefaults() {
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultJetStreamMaxInFlight
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
}

// ErrSinkClosed is returned by Write after Close, and given to the done
// of records still unacknowledged when Close gives up.
var ErrSinkClosed = errors.New("nats: sink closed")

// JetStreamSink publishes to JetStream with bounded in-flight async
// publishes. Build it with NewJetStreamSink; it implements connectors.Sink.
//
// One goroutine publishes in write order and resolves acks in write
// order. When a publish fails with a transient error (an ack timeout, no
// responders while the stream's server restarts, a disconnect), that
// goroutine republishes it synchronously, with backoff, until the stream
// stores it, before it looks at the records after it. After a disconnect
// it publishes nothing new until every record in flight before the
// disconnect is resolved, and its connection buffers nothing while
// reconnecting, so no record published before an outage can be overtaken
// by one published after it: order per subject holds across outages. The
// remaining exception is a publish that times out while the server is up
// (a slow stream) with later publishes already stored: the retried record
// then lands after them. Every record carries a Nats-Msg-Id (kept from the
// record's headers, else derived from its origin, else random), so a retry
// of a publish whose ack was lost is stored once within the stream's
// duplicate window.
type JetStreamSink struct {
	cfg      JetStreamSinkConfig
	nc       *natsgo.Conn
	js       jetstream.JetStream
	logger   *slog.Logger
	sem      chan struct{}
	in       chan *pubEntry
	inflight inflight
	closed   atomic.Bool
	quit     chan struct{}
	stopped  chan struct{}
	quitOnce sync.Once
	errLog   errLimiter
	// gen counts disconnects; an entry remembers the gen it was published
	// in, so the publisher knows when the window predates an outage.
	gen atomic.Uint64
}

type pubEntry struct {
	msg    *natsgo.Msg
	done   func(error)
	fut    jetstream.PubAckFuture
	pubErr error  // PublishMsgAsync refused the record outright
	gen    uint64 // disconnect count when it was published
}

var _ connectors.Sink = (*JetStreamSink)(nil)

// NewJetStreamSink connects and starts the publishing goroutine. A nil
// logger discards logs.
func NewJetStreamSink(server ServerConfig, cfg JetStreamSinkConfig, logger *slog.Logger) (*JetStreamSink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &JetStreamSink{
		cfg: cfg, logger: logger,
		sem:     make(chan struct{}, cfg.MaxInFlight),
		in:      make(chan *pubEntry, cfg.MaxInFlight),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	nc, err := connect(server, logger, func() { s.gen.Add(1) }, natsgo.ReconnectBufSize(-1))
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight+1),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
	)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	s.nc, s.js = nc, js
	go s.run()
	return s, nil
}

// Write queues rec for publishing to rec.Topic (the subject). It blocks
// while MaxInFlight records are unacknowledged, until a slot frees or ctx
// ends; when it returns an error, done is never called. Write must not
// race Close. done is called in
// write order with nil once the stream stored the record, with an error
// wrapping connectors.ErrPermanent when the stream refuses it for good
// (too large, a 4xx API error), or with ErrSinkClosed when Close gave up.
func (s *JetStreamSink) Write(ctx context.Context, rec *connectors.Record, done func(error)) error {
	if s.closed.Load() {
		return ErrSinkClosed
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.inflight.add()
	msg := &natsgo.Msg{Subject: rec.Topic, Data: rec.Value, Header: toNATS(rec.Headers)}
	if msg.Header == nil {
		msg.Header = make(natsgo.Header, 1)
	}
	if msg.Header.Get(jetstream.MsgIDHeader) == "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID(rec))
	}
	// The in channel has a slot for every semaphore slot: never blocks.
	s.in <- &pubEntry{msg: msg, done: done}
	return nil
}

// msgID derives a deduplication id from where the record came from, so
// the same source record published twice (a retry, or a redelivery of the
// source after a crash) is stored once; records without an origin get a
// random id.
func msgID(rec *connectors.Record) string {
	if rec.Origin.Topic == "" || rec.Origin.Offset < 0 {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		return hex.EncodeToString(b[:])
	}
	h := sha256.New()
	h.Write([]byte(rec.Topic))
	h.Write([]byte{0})
	h.Write([]byte(rec.Origin.Topic))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, int64(rec.Origin.Partition), 10))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, rec.Origin.Offset, 10))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// run is the publishing goroutine; see JetStreamSink.
func (s *JetStreamSink) run() {
	defer close(s.stopped)
	var window []*pubEntry
	for {
		if len(window) > 0 && window[0].fut == nil {
			if !s.resolve(window[0], window[0].pubErr) {
				s.failAll(window)
				return
			}
			window = window[1:]
			continue
		}
		var (
			okc  <-chan *jetstream.PubAck
			errc <-chan error
			in   chan *pubEntry
		)
		if len(window) > 0 {
			okc, errc = window[0].fut.Ok(), window[0].fut.Err()
		}
		// After a disconnect, drain what was in flight before publishing
		// anything new.
		if len(window) == 0 || window[len(window)-1].gen == s.gen.Load() {
			in = s.in
		}
		select {
		case e := <-in:
			e.gen = s.gen.Load()
			e.fut, e.pubErr = s.js.PublishMsgAsync(e.msg)
			window = append(window, e)
		case <-okc:
			s.finish(window[0], nil)
			window = window[1:]
		case err := <-errc:
			if !s.resolve(window[0], err) {
				s.failAll(window)
				return
			}
			window = window[1:]
		case <-s.quit:
			s.failAll(window)
			return
		}
	}
}

// resolve finishes an entry whose publish failed: a permanent error goes
// to done, a transient one is retried synchronously (holding back every
// later record) until it succeeds. It returns false if the sink closed
// first.
func (s *JetStreamSink) resolve(e *pubEntry, err error) bool {
	bo := newBackoff(100*time.Millisecond, 5*time.Second)
	for {
		if isPermanentPub(err) {
			s.finish(e, fmt.Errorf("nats: publishing to %s: %w: %w", e.msg.Subject, connectors.ErrPermanent, err))
			return true
		}
		if s.errLog.allow(err.Error()) {
			s.logger.Warn("nats: publish failed, retrying in order", "subject", e.msg.Subject, "err", err)
		}
		if !bo.sleep(s.quit) {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.AckTimeout)
		_, err = s.js.PublishMsg(ctx, e.msg)
		cancel()
		if err == nil {
			s.finish(e, nil)
			return true
		}
	}
}

func (s *JetStreamSink) finish(e *pubEntry, err error) {
	e.done(err)
	<-s.sem
	s.inflight.done()
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

// isPermanentPub tells a publish error that no retry fixes: the client
// refused the message (too big, bad subject) or the stream answered with
// a 4xx API error (message too large for the stream, wrong expected
// sequence). Timeouts, no responders and 5xx errors are transient.
func isPermanentPub(err error) bool {
	if errors.Is(err, natsgo.ErrMaxPayload) || errors.Is(err, natsgo.ErrBadSubject) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= 400 && apiErr.Code < 500 && apiErr.Code != 408
	}
	return false
}

// Flush waits until every written record's done has been called, or ctx
// ends.
func (s *JetStreamSink) Flush(ctx context.Context) error {
	return s.inflight.wait(ctx)
}

// Close flushes for at most CloseTimeout, stops the publishing goroutine
// (records still held get done(ErrSinkClosed)) and closes the connection.
func (s *JetStreamSink) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CloseTimeout)
	defer cancel()
	err := s.Flush(ctx)
	s.quitOnce.Do(func() { close(s.quit) })
	<-s.stopped
	s.nc.Close()
	if err != nil {
		return fmt.Errorf("nats: sink closed with records unacknowledged after %s: %w", s.cfg.CloseTimeout, err)
	}
	return nil
}
