package nats

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/maskstream/maskstream/connectors"
)

// CoreSinkConfig says how a CoreSink publishes.
type CoreSinkConfig struct {
	// MaxInFlight bounds the records written but not yet confirmed by a
	// flush; Write blocks beyond it. 10000 by default.
	MaxInFlight int
	// MaxBatch bounds the records published before one flush; 1000 by
	// default.
	MaxBatch int
	// FlushTimeout bounds one flush round trip; 5s by default.
	FlushTimeout time.Duration
	// CloseTimeout bounds the flush in Close; 30s by default.
	CloseTimeout time.Duration
}

// Default values of CoreSinkConfig fields left zero.
const (
	DefaultCoreMaxInFlight = 10000
	DefaultCoreMaxBatch    = 1000
	DefaultFlushTimeout    = 5 * time.Second
)

// Validate reports every mistake in c at once.
func (c CoreSinkConfig) Validate() error {
	if c.MaxInFlight < 0 || c.MaxBatch < 0 || c.FlushTimeout < 0 || c.CloseTimeout < 0 {
		return errors.New("nats: sink max_in_flight, max_batch, flush_timeout and close_timeout cannot be negative")
	}
	return nil
}

func (c *CoreSinkConfig) setDefaults() {
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultCoreMaxInFlight
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultCoreMaxBatch
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
}

// CoreSink publishes to core NATS subjects. Build it with NewCoreSink; it
// implements connectors.Sink.
//
// One goroutine takes the written records in order, publishes a batch and
// flushes (a PING/PONG round trip): done(nil) means the server received
// the record. If publishing or the flush fails (a disconnect), the whole
// batch is published again in order after a backoff, so nothing written is
// lost between maskstream and the server, but a subscriber may see some
// records twice. Whether anyone receives a record is core NATS's business:
// with no subscriber it is dropped by the server.
type CoreSink struct {
	cfg      CoreSinkConfig
	nc       *natsgo.Conn
	logger   *slog.Logger
	sem      chan struct{}
	in       chan coreEntry
	inflight netx.Inflight
	closed   atomic.Bool
	quit     chan struct{}
	stopped  chan struct{}
	quitOnce sync.Once
	errLog   netx.ErrLimiter
	// retrying is the error send keeps retrying on, nil while publishes
	// go through (see RetryError).
	retrying atomic.Pointer[error]
}

type coreEntry struct {
	msg  *natsgo.Msg
	done func(error)
}

var _ connectors.Sink = (*CoreSink)(nil)

// NewCoreSink connects and starts the publishing goroutine. Its connection
// buffers nothing while reconnecting (publishes fail and are retried by
// the sink in order instead), so a reconnect cannot replay stale buffered
// messages behind the sink's back. A nil logger discards logs.
func NewCoreSink(server ServerConfig, cfg CoreSinkConfig, logger *slog.Logger) (*CoreSink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &CoreSink{
		cfg: cfg, logger: logger,
		sem:     make(chan struct{}, cfg.MaxInFlight),
		in:      make(chan coreEntry, cfg.MaxInFlight),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	nc, err := connect(server, logger, connHooks{closing: &s.closed}, natsgo.ReconnectBufSize(-1))
	if err != nil {
		return nil, err
	}
	s.nc = nc
	go s.run()
	return s, nil
}

// Write queues rec for rec.Topic (the subject); its key and the headers a
// NATS header cannot hold travel as headers (see HeaderKey). It blocks while
// MaxInFlight records are unconfirmed, until a slot frees or ctx ends;
// when it returns an error, done is never called. Write must not race
// Close. done is called in write order with nil after a successful flush,
// with an error wrapping connectors.ErrPermanent for a record the client
// refuses (larger than the server's max_payload, a bad subject), or with
// ErrSinkClosed when Close gave up.
func (s *CoreSink) Write(ctx context.Context, rec *connectors.Record, done func(error)) error {
	if s.closed.Load() {
		return ErrSinkClosed
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.inflight.Add()
	s.in <- coreEntry{msg: &natsgo.Msg{Subject: rec.Topic, Data: rec.Value, Header: toNATS(rec.Key, rec.Headers)}, done: done}
	return nil
}

func (s *CoreSink) run() {
	defer close(s.stopped)
	batch := make([]coreEntry, 0, s.cfg.MaxBatch)
	for {
		select {
		case e := <-s.in:
			batch = append(batch[:0], e)
		case <-s.quit:
			s.failAll(nil)
			return
		}
	fill:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case e := <-s.in:
				batch = append(batch, e)
			default:
				break fill
			}
		}
		if !s.send(batch) {
			s.failAll(batch)
			return
		}
	}
}

// send publishes and flushes batch until the flush succeeds; it returns
// false if the sink closed first.
func (s *CoreSink) send(batch []coreEntry) bool {
	bo := &netx.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		kept := batch[:0]
		var err error
	publish:
		for i, e := range batch {
			perr := s.nc.PublishMsg(e.msg)
			switch {
			case perr == nil:
				kept = append(kept, e)
			case errors.Is(perr, natsgo.ErrMaxPayload) || errors.Is(perr, natsgo.ErrBadSubject) || errors.Is(perr, natsgo.ErrBadHeaderMsg):
				s.finish(e, fmt.Errorf("nats: publishing to %s: %w: %w", e.msg.Subject, connectors.ErrPermanent, perr))
			default:
				// Publish nothing after a failure: were the connection
				// back for the rest, they would reach the server ahead
				// of this one and of its retry, out of order.
				kept = append(kept, batch[i:]...)
				err = perr
				break publish
			}
		}
		batch = kept
		if err == nil {
			err = s.nc.FlushTimeout(s.cfg.FlushTimeout)
		}
		if err == nil {
			s.retrying.Store(nil)
			for _, e := range batch {
				s.finish(e, nil)
			}
			return true
		}
		if s.errLog.Allow(err.Error()) {
			s.logger.Warn("nats: publish failed, retrying the batch in order", "records", len(batch), "err", err)
		}
		rerr := fmt.Errorf("publishing: %w", err)
		s.retrying.Store(&rerr)
		if !bo.Sleep(s.quit) {
			return false
		}
	}
}

// RetryError returns the error the sink keeps retrying on (the
// connection is down), or nil while publishes go through. It is for
// status pages: the sink retries on its own, in order.
func (s *CoreSink) RetryError() error {
	if p := s.retrying.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *CoreSink) finish(e coreEntry, err error) {
	e.done(err)
	<-s.sem
	s.inflight.Done()
}

func (s *CoreSink) failAll(batch []coreEntry) {
	for _, e := range batch {
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

// Flush waits until every written record's done has been called, or ctx
// ends.
func (s *CoreSink) Flush(ctx context.Context) error {
	return s.inflight.Wait(ctx)
}

// Close flushes for at most CloseTimeout, stops the publishing goroutine
// (records still held get done(ErrSinkClosed)) and closes the connection.
func (s *CoreSink) Close() error {
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
