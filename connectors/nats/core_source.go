package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/maskstream/maskstream/connectors"
)

// CoreSourceConfig says which subject a CoreSource subscribes to.
type CoreSourceConfig struct {
	// Subject may hold wildcards (events.>, orders.*).
	Subject string
	// Queue, when set, joins a queue group: instances sharing it split the
	// messages between them.
	Queue string
	// PendingMessages and PendingBytes bound the messages buffered between
	// the connection and the lane (64Ki messages, 64MiB by default). When
	// the lane is slower than the publishers the buffer fills and the
	// client drops messages (a "slow consumer", logged): core NATS has no
	// way to push back on publishers.
	PendingMessages int
	PendingBytes    int
	// MaxBatch bounds the records of one Deliver; 500 by default.
	MaxBatch int
	// StopTimeout bounds Lane.Stop at the end of Run; 30s by default.
	StopTimeout time.Duration
}

// Default values of CoreSourceConfig fields left zero.
const (
	DefaultPendingMessages = 64 * 1024
	DefaultPendingBytes    = 64 * 1024 * 1024
	DefaultMaxBatch        = 500
)

// Validate reports every mistake in c at once.
func (c CoreSourceConfig) Validate() error {
	var errs []error
	if c.Subject == "" {
		errs = append(errs, errors.New("nats: core source needs a subject"))
	}
	if c.PendingMessages < 0 || c.PendingBytes < 0 || c.MaxBatch < 0 || c.StopTimeout < 0 {
		errs = append(errs, errors.New("nats: pending_messages, pending_bytes, max_batch and stop_timeout cannot be negative"))
	}
	return errors.Join(errs...)
}

func (c *CoreSourceConfig) setDefaults() {
	if c.PendingMessages == 0 {
		c.PendingMessages = DefaultPendingMessages
	}
	if c.PendingBytes == 0 {
		c.PendingBytes = DefaultPendingBytes
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
}

// CoreSource reads a core NATS subject as one lane, at most once: Ack and
// Abandon do nothing because core NATS cannot redeliver. Build it with
// NewCoreSource; it implements connectors.Source.
type CoreSource struct {
	cfg    CoreSourceConfig
	nc     *natsgo.Conn
	lane   connectors.LaneID
	logger *slog.Logger
	ran    atomic.Bool
	// closing is set by Close, so the disconnect it causes is not logged
	// as an outage.
	closing *atomic.Bool
}

var _ connectors.Source = (*CoreSource)(nil)

// NewCoreSource connects; the subscription starts with Run, so nothing is
// buffered before there is a lane to take it. A nil logger discards logs.
func NewCoreSource(server ServerConfig, cfg CoreSourceConfig, logger *slog.Logger) (*CoreSource, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	logger = logger.With("subject", cfg.Subject)
	closing := new(atomic.Bool)
	nc, err := connect(server, logger, connHooks{closing: closing})
	if err != nil {
		return nil, err
	}
	id := connectors.LaneID{Topic: cfg.Subject}
	if cfg.Queue != "" {
		id.Topic += "/" + cfg.Queue
	}
	return &CoreSource{cfg: cfg, nc: nc, lane: id, logger: logger, closing: closing}, nil
}

// Run subscribes, opens the one lane and delivers until ctx ends. At the
// end it unsubscribes (dropping what is buffered: at most once) and calls
// Lane.Stop. It may be called once.
func (s *CoreSource) Run(ctx context.Context, open func(connectors.LaneID) connectors.Lane) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("nats: CoreSource.Run called twice: build a new source per run")
	}
	var (
		sub *natsgo.Subscription
		err error
	)
	if s.cfg.Queue != "" {
		sub, err = s.nc.QueueSubscribeSync(s.cfg.Subject, s.cfg.Queue)
	} else {
		sub, err = s.nc.SubscribeSync(s.cfg.Subject)
	}
	if err != nil {
		return fmt.Errorf("nats: subscribing to %s: %w", s.cfg.Subject, err)
	}
	if err := sub.SetPendingLimits(s.cfg.PendingMessages, s.cfg.PendingBytes); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("nats: pending limits: %w", err)
	}
	// A round trip registers the subscription at the server before the
	// lane opens, so what is published once the lane exists is received.
	if err := s.nc.FlushTimeout(10 * time.Second); err != nil {
		s.logger.Warn("nats: flushing the new subscription failed; messages published meanwhile may be missed", "err", err)
	}
	lane := open(s.lane)
	err = s.receive(ctx, sub, lane)
	_ = sub.Unsubscribe()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.StopTimeout)
	defer cancel()
	lane.Stop(stopCtx)
	return err
}

// receive blocks for one message, then takes whatever else is already
// buffered (up to MaxBatch) into the same Deliver.
func (s *CoreSource) receive(ctx context.Context, sub *natsgo.Subscription, lane connectors.Lane) error {
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, natsgo.ErrSlowConsumer) {
				continue // already logged by the async error handler
			}
			return fmt.Errorf("nats: receiving from %s: %w", s.cfg.Subject, err)
		}
		recs := []*connectors.Record{s.record(m)}
		if n, _, perr := sub.Pending(); perr == nil {
			for i := 0; i < n && len(recs) < s.cfg.MaxBatch; i++ {
				m, err := sub.NextMsg(0)
				if err != nil {
					break
				}
				recs = append(recs, s.record(m))
			}
		}
		if err := lane.Deliver(ctx, recs); err != nil {
			return err
		}
	}
}

func (s *CoreSource) record(m *natsgo.Msg) *connectors.Record {
	v := m.Data
	if v == nil {
		v = []byte{}
	}
	key, hs, bad := fromNATS(m.Header)
	return &connectors.Record{
		Key:       key,
		Value:     v,
		Headers:   hs,
		Malformed: bad,
		Timestamp: time.Now(),
		Origin:    connectors.Origin{Topic: m.Subject, Offset: -1},
		Attempt:   1,
		Partition: -1,
	}
}

// Ack does nothing: core NATS has no acknowledgements.
func (s *CoreSource) Ack(context.Context, []*connectors.Record) error { return nil }

// Abandon only logs: core NATS cannot redeliver, so the messages are lost
// (the at-most-once contract of a core subject source).
func (s *CoreSource) Abandon(recs []*connectors.Record) {
	if len(recs) > 0 {
		s.logger.Warn("nats: core NATS cannot deliver again: unfinished messages dropped at stop (core subjects are at-most-once; use a JetStream source to keep them)", "messages", len(recs))
	}
}

// Close closes the connection.
func (s *CoreSource) Close() error {
	s.closing.Store(true)
	s.nc.Close()
	return nil
}
