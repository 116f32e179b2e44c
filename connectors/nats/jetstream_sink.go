package nats

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

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
	// it counts as failed (the sink then republishes in order, see
	// JetStreamSink); 5s by default.
	AckTimeout time.Duration
	// CloseTimeout bounds the flush in Close; 30s by default.
	CloseTimeout time.Duration
	// Subjects are the fixed subjects the sink will publish to (a route's
	// subject and dead-letter subject, when they hold no placeholder):
	// Preflight checks that a stream takes each. A templated subject
	// cannot be checked before records name it: leave it out.
	Subjects []string
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
// One goroutine publishes in write order, pipelined, and calls done in
// write order. Every record carries a Nats-Msg-Id (kept from the record's
// headers, else derived from its origin, else the sink's own sequence), so
// a record published twice within the stream's duplicate window is stored
// once.
//
// When a publish fails for a reason that can pass (the connection drops,
// the stream does not answer while its server restarts, an ack times out),
// the goroutine stops issuing new publishes at once, waits until every
// publish in flight has been acknowledged or has failed, waits for the
// connection to be back, and publishes every unacknowledged record again
// in write order: the first one alone (with backoff until the stream
// takes it, so a stream still starting up cannot take later records
// first), then the rest pipelined. Only then does it take new records.
//
// Order per subject therefore holds across outages and restarts, with one
// exception: a record whose publish truly never reached the stream while a
// later publish on the same connection was stored (JetStream refusing one
// message and taking the next, an ack timeout for a message that was lost
// while later ones were stored) is stored after those later records. A
// record whose ack alone was lost is not affected: its republish is a
// duplicate and the stream keeps the first copy, in place. Past the
// stream's duplicate window (2 minutes by default) a republished record
// may be stored twice.
type JetStreamSink struct {
	cfg      JetStreamSinkConfig
	nc       *natsgo.Conn
	js       jetstream.JetStream
	logger   *slog.Logger
	sem      chan struct{}
	in       chan *pubEntry
	inflight netx.Inflight
	closed   atomic.Bool
	quit     chan struct{}
	stopped  chan struct{}
	quitOnce sync.Once
	errLog   netx.ErrLimiter
	// alarm is raised (without blocking) when a publish fails or the
	// connection drops, so the publisher stops issuing new publishes
	// before it sees the failure at the head of its window.
	alarm chan struct{}
	// up is raised when the connection is back.
	up chan struct{}
	// ctx ends with Close, ending a synchronous publish.
	ctx    context.Context
	cancel context.CancelFunc
	// pubOpts turn off nats.go's own retry on no responders: it would
	// republish one message later than the ones after it.
	pubOpts []jetstream.PublishOpt
	// idPrefix and idSeq make the Nats-Msg-Id of records without origin.
	idPrefix string
	idSeq    atomic.Uint64
	// retrying is the error the publisher keeps retrying on, nil while
	// publishes go through (see RetryError).
	retrying atomic.Pointer[error]
}

var (
	_ connectors.Sink        = (*JetStreamSink)(nil)
	_ connectors.Preflighter = (*JetStreamSink)(nil)
)

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
	var prefix [8]byte
	_, _ = rand.Read(prefix[:]) // crypto/rand.Read never fails
	s := &JetStreamSink{
		cfg: cfg, logger: logger,
		sem:      make(chan struct{}, cfg.MaxInFlight),
		in:       make(chan *pubEntry, cfg.MaxInFlight),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		alarm:    make(chan struct{}, 1),
		up:       make(chan struct{}, 1),
		pubOpts:  []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)},
		idPrefix: hex.EncodeToString(prefix[:]) + "-",
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	nc, err := connect(server, logger, connHooks{
		closing:      &s.closed,
		onDisconnect: func() { raise(s.alarm) },
		onReconnect:  func() { raise(s.up) },
	}, natsgo.ReconnectBufSize(-1)) // a publish during an outage fails at once; the sink republishes in order
	if err != nil {
		s.cancel()
		return nil, err
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight+1),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *natsgo.Msg, err error) {
			if !isPermanentPub(err) {
				raise(s.alarm)
			}
		}),
	)
	if err != nil {
		s.cancel()
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	s.nc, s.js = nc, js
	go s.run()
	return s, nil
}

// raise signals c without blocking; one pending signal is enough.
func raise(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Write queues rec for publishing to rec.Topic (the subject); its key and
// the headers a NATS header cannot hold travel as headers (see HeaderKey).
// It blocks while MaxInFlight records are unacknowledged, until a slot
// frees or ctx ends; when it returns an error, done is never called.
// Write must not race Close. done is called in write order with nil once
// the stream stored the record, with an error wrapping
// connectors.ErrPermanent when the stream refuses it for good (too large,
// a 4xx API error), or with ErrSinkClosed when Close gave up.
func (s *JetStreamSink) Write(ctx context.Context, rec *connectors.Record, done func(error)) error {
	if s.closed.Load() {
		return ErrSinkClosed
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.inflight.Add()
	msg := &natsgo.Msg{Subject: rec.Topic, Data: rec.Value, Header: toNATS(rec.Key, rec.Headers)}
	if msg.Header == nil {
		msg.Header = make(natsgo.Header, 1)
	}
	if msg.Header.Get(jetstream.MsgIDHeader) == "" {
		msg.Header.Set(jetstream.MsgIDHeader, s.msgID(rec))
	}
	// The in channel has a slot for every semaphore slot: never blocks.
	s.in <- &pubEntry{msg: msg, done: done}
	return nil
}

// msgID derives a deduplication id from where the record came from, so
// the same source record published twice (a republish after an outage, or
// a redelivery of the source after a crash) is stored once. A record
// without an origin gets the next id of this sink's own sequence, which
// covers the sink's republishes (not a redelivery, which is a new Write).
func (s *JetStreamSink) msgID(rec *connectors.Record) string {
	if rec.Origin.Topic == "" || rec.Origin.Offset < 0 {
		return s.idPrefix + strconv.FormatUint(s.idSeq.Add(1), 10)
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

// isPermanentPub tells a publish error that no retry fixes: the client
// refused the message (too big, bad subject, a header name it will not
// write; toNATS encodes those, but republishing one would stall the sink
// for good) or the stream answered with
// a 4xx API error (message too large for the stream, wrong expected
// sequence). Timeouts, no responders and 5xx errors are transient.
func isPermanentPub(err error) bool {
	if errors.Is(err, natsgo.ErrMaxPayload) || errors.Is(err, natsgo.ErrBadSubject) || errors.Is(err, natsgo.ErrBadHeaderMsg) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= 400 && apiErr.Code < 500 && apiErr.Code != 408
	}
	return false
}

// preflightWait bounds each question Preflight asks the server.
const preflightWait = 5 * time.Second

// Preflight checks that a stream takes each of the configured Subjects
// (connectors.Preflighter). Without one, no publish there is ever
// acknowledged: the sink would hold the route's records and retry
// forever. The check asks the JetStream API of the sink's own account
// and domain, so a subject stored only by a stream elsewhere (another
// account's, through an import) is refused too. A server that does not
// answer is only logged, as the sink waits for it.
func (s *JetStreamSink) Preflight(ctx context.Context) error {
	var errs []error
	for _, subj := range s.cfg.Subjects {
		qctx, cancel := context.WithTimeout(ctx, preflightWait)
		_, err := s.js.StreamNameBySubject(qctx, subj)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, jetstream.ErrStreamNotFound):
			errs = append(errs, fmt.Errorf("nats: subject %s: %w: no JetStream stream takes it, so nothing published there is ever stored: create a stream for it (nats stream add --subjects %s) or add it to an existing stream's subjects", subj, err, subj))
		case errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
			errs = append(errs, fmt.Errorf("nats: publishing to %s: %w: enable JetStream for the sink's account, or publish on core NATS (jetstream: false)", subj, err))
		default:
			s.logger.Warn("nats: could not check that a stream takes the sink's subject; publishing anyway", "subject", subj, "err", err)
		}
	}
	return errors.Join(errs...)
}

// RetryError returns the error the sink keeps retrying on (a stream that
// does not answer, one that is full and discards new messages), or nil
// while publishes go through. It is for status pages: the sink retries
// on its own, holding later records, until the stream takes the record.
func (s *JetStreamSink) RetryError() error {
	if p := s.retrying.Load(); p != nil {
		return *p
	}
	return nil
}

// Flush waits until every written record's done has been called, or ctx
// ends.
func (s *JetStreamSink) Flush(ctx context.Context) error {
	return s.inflight.Wait(ctx)
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
	s.cancel()
	<-s.stopped
	s.nc.Close()
	if err != nil {
		return fmt.Errorf("nats: sink closed with records unacknowledged after %s: %w", s.cfg.CloseTimeout, err)
	}
	return nil
}
