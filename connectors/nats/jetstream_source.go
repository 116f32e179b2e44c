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
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
)

// JetStreamSourceConfig says which durable pull consumer a
// JetStreamSource reads.
type JetStreamSourceConfig struct {
	// Stream is the stream to read.
	Stream string
	// Durable is the durable consumer's name. Instances sharing it share
	// the messages.
	Durable string
	// FilterSubject limits the consumer to matching subjects; all of the
	// stream's subjects when empty.
	FilterSubject string
	// AckWait is how long the server waits for an ack before it
	// redelivers; 30s by default, at least 1s. It need not cover a slow
	// sink: the source keeps every message it holds alive (InProgress)
	// until it acks or gives it back. It is how soon the messages of an
	// instance that died, or lost the server, go to another.
	AckWait time.Duration
	// MaxDeliver caps deliveries of one message; unlimited (-1) by
	// default, so a message is never dropped by the server.
	MaxDeliver int
	// MaxAckPending bounds the messages delivered and not yet acked: the
	// server stops delivering beyond it. 1000 by default.
	MaxAckPending int
	// Batch is the number of messages one pull asks for; 100 by default,
	// at most MaxAckPending.
	Batch int
	// FetchWait is how long one pull waits for messages; 5s by default.
	// A graceful stop waits for the current pull, so it bounds that too.
	FetchWait time.Duration
	// DeliverNew starts a newly created consumer at the end of the stream
	// instead of its first message. It has no effect on an existing
	// consumer.
	DeliverNew bool
	// Bind only binds to an existing consumer and never creates or
	// updates one (for accounts that may not manage consumers).
	Bind bool
	// StopTimeout bounds a graceful stop (the end of Run's ctx): the
	// current pull finishing into the lane, then Lane.Stop. 30s by
	// default.
	StopTimeout time.Duration
}

// MinAckWait is the shortest AckWait: keeping messages alive costs one
// InProgress per held message every AckWait/4 or so, and a pause of the
// process (GC, a stalled host) longer than half of it redelivers them.
const MinAckWait = time.Second

// Default values of JetStreamSourceConfig fields left zero.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1000
	DefaultBatch         = 100
	DefaultFetchWait     = 5 * time.Second
	DefaultStopTimeout   = 30 * time.Second
)

// Validate reports every mistake in c at once.
func (c JetStreamSourceConfig) Validate() error {
	var errs []error
	if c.Stream == "" {
		errs = append(errs, errors.New("nats: JetStream source needs a stream"))
	}
	if c.Durable == "" {
		errs = append(errs, errors.New("nats: JetStream source needs a durable consumer name"))
	}
	if c.AckWait < 0 || c.MaxAckPending < 0 || c.Batch < 0 || c.FetchWait < 0 || c.StopTimeout < 0 {
		errs = append(errs, errors.New("nats: ack_wait, max_ack_pending, batch, fetch_wait and stop_timeout cannot be negative"))
	}
	if c.AckWait > 0 && c.AckWait < MinAckWait {
		errs = append(errs, fmt.Errorf("nats: ack_wait %v is under %v: use at least %v (the source keeps held messages alive, so a short ack_wait gains nothing)", c.AckWait, MinAckWait, MinAckWait))
	}
	if c.FetchWait > 0 && c.FetchWait < 100*time.Millisecond {
		errs = append(errs, errors.New("nats: fetch_wait under 100ms makes pulls spin: use at least 100ms"))
	}
	return errors.Join(errs...)
}

func (c *JetStreamSourceConfig) setDefaults() {
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = -1
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	c.Batch = min(c.Batch, c.MaxAckPending)
	if c.FetchWait == 0 {
		c.FetchWait = DefaultFetchWait
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
}

func (c JetStreamSourceConfig) consumerConfig() jetstream.ConsumerConfig {
	cc := jetstream.ConsumerConfig{
		Durable:       c.Durable,
		FilterSubject: c.FilterSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    c.MaxDeliver,
		MaxAckPending: c.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if c.DeliverNew {
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	return cc
}

// JetStreamSource reads a stream through a durable pull consumer as one
// lane. Build it with NewJetStreamSource; it implements connectors.Source
// and connectors.LagReporter.
type JetStreamSource struct {
	cfg    JetStreamSourceConfig
	nc     *natsgo.Conn
	js     jetstream.JetStream
	cons   atomic.Pointer[jetstream.Consumer]
	lane   connectors.LaneID
	logger *slog.Logger
	ran    atomic.Bool
	errLog netx.ErrLimiter
	held   heldSet
	// closing is set by Close, so the disconnect it causes is not logged
	// as an outage.
	closing *atomic.Bool
}

var (
	_ connectors.Source      = (*JetStreamSource)(nil)
	_ connectors.LagReporter = (*JetStreamSource)(nil)
)

// NewJetStreamSource connects and creates (or, with Bind, looks up) the
// durable consumer. A missing stream is an error here, not at Run. A nil
// logger discards logs.
func NewJetStreamSource(server ServerConfig, cfg JetStreamSourceConfig, logger *slog.Logger) (*JetStreamSource, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	logger = logger.With("stream", cfg.Stream, "durable", cfg.Durable)
	closing := new(atomic.Bool)
	nc, err := connect(server, logger, connHooks{closing: closing})
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	s := &JetStreamSource{
		cfg: cfg, nc: nc, js: js, logger: logger, closing: closing,
		lane: connectors.LaneID{Topic: cfg.Stream + "/" + cfg.Durable},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.bind(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

// bind creates or looks up the consumer.
func (s *JetStreamSource) bind(ctx context.Context) error {
	var (
		c   jetstream.Consumer
		err error
	)
	if s.cfg.Bind {
		c, err = s.js.Consumer(ctx, s.cfg.Stream, s.cfg.Durable)
	} else {
		c, err = s.js.CreateOrUpdateConsumer(ctx, s.cfg.Stream, s.cfg.consumerConfig())
	}
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("nats: stream %s not found: create it (nats stream add) before starting the route: %w", s.cfg.Stream, err)
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		return fmt.Errorf("nats: consumer %s on stream %s not found: create it or drop bind: %w", s.cfg.Durable, s.cfg.Stream, err)
	case err != nil:
		return fmt.Errorf("nats: consumer %s on stream %s: %w", s.cfg.Durable, s.cfg.Stream, err)
	}
	s.cons.Store(&c)
	return nil
}

// StreamSubjects are the subjects the source's stream stores: what it
// reads when FilterSubject is empty.
func (s *JetStreamSource) StreamSubjects(ctx context.Context) ([]string, error) {
	st, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("nats: stream %s: %w", s.cfg.Stream, err)
	}
	return st.CachedInfo().Config.Subjects, nil
}

// Run opens the one lane and pulls into it until ctx ends or a fatal error
// (the stream deleted, the bound consumer gone). Disconnects and timeouts
// are retried with backoff. When ctx ends it makes no new pull, but lets
// the current one finish (within FetchWait) and hands its messages to the
// lane, then calls Lane.Stop: the lane drains them in order rather than
// nak them for a redelivery behind later messages. StopTimeout from the
// end of ctx, whatever is left is given back. It may be called once.
func (s *JetStreamSource) Run(ctx context.Context, open func(connectors.LaneID) connectors.Lane) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("nats: JetStreamSource.Run called twice: build a new source per run")
	}
	lane := open(s.lane)
	runCtx, endRun := context.WithCancel(ctx)
	defer endRun()
	hard, cancelHard := afterStop(runCtx, s.cfg.StopTimeout)
	defer cancelHard()
	// keepAlive outlives the pulls: the lane holds messages until its
	// Stop returns, however long the sink takes.
	kctx, stopKeep := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.keepAlive(kctx, s.ackWait()) })
	err := s.pull(runCtx, hard, lane)
	endRun() // after a fatal error, the stop's deadline starts now
	lane.Stop(hard)
	stopKeep()
	wg.Wait()
	return err
}

// afterStop returns a context that ends d after ctx does: the hard
// deadline of a graceful stop. The cancel func releases it.
func afterStop(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		mu    sync.Mutex
		timer *time.Timer
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if hard.Err() == nil {
			timer = time.AfterFunc(d, cancel)
		}
	})
	return hard, func() {
		stop()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
	}
}

// pull fetches into the lane until ctx ends. A pull runs under hard, not
// ctx: cut short, the server would go on sending to it after the client
// stopped listening, and those messages would come back only after
// AckWait, behind later ones.
func (s *JetStreamSource) pull(ctx, hard context.Context, lane connectors.Lane) error {
	bo := &netx.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		fctx, cancel := context.WithTimeout(hard, s.cfg.FetchWait)
		batch, err := (*s.cons.Load()).Fetch(s.cfg.Batch, jetstream.FetchContext(fctx))
		if err == nil {
			err = s.deliver(hard, lane, batch, cancel)
			if err == nil {
				err = batch.Error()
			}
		}
		cancel()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, natsgo.ErrTimeout) {
			bo.Reset()
			continue
		}
		if fatal := s.recover(ctx, err); fatal != nil {
			return fatal
		}
		if !bo.Sleep(ctx.Done()) {
			return ctx.Err()
		}
	}
}

// recover handles a failed pull: it returns a fatal error, or nil after
// logging (and re-creating a deleted consumer) so the caller retries.
func (s *JetStreamSource) recover(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("nats: stream %s is gone: %w", s.cfg.Stream, err)
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrConsumerDeleted):
		if s.cfg.Bind {
			return fmt.Errorf("nats: bound consumer %s is gone: recreate it: %w", s.cfg.Durable, err)
		}
		s.logger.Warn("nats: consumer deleted; re-creating it", "err", err)
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if berr := s.bind(bctx); berr != nil && errors.Is(berr, jetstream.ErrStreamNotFound) {
			return berr
		}
		return nil
	}
	if s.errLog.Allow(err.Error()) {
		s.logger.Warn("nats: pull failed, retrying", "err", err)
	}
	return nil
}

// deliver hands a pull's messages to the lane as they arrive: whatever is
// already buffered goes in one Deliver, so a busy stream is delivered in
// batches and a quiet one without waiting for the pull to fill. A
// goroutine takes each message off the pull as it comes and holds it, so
// it is kept alive from then on, even while Deliver blocks on a full
// lane. When the lane refuses (the hard deadline, the route failed),
// deliver ends the pull and gives back what the lane did not take.
func (s *JetStreamSource) deliver(ctx context.Context, lane connectors.Lane, batch jetstream.MessageBatch, endPull context.CancelFunc) error {
	// A pull yields at most Batch messages: the goroutine never blocks,
	// and it ends when the pull does.
	in := make(chan *connectors.Record, s.cfg.Batch)
	go func() {
		defer close(in)
		for m := range batch.Messages() {
			if rec, ok := s.receive(m); ok {
				in <- rec
			}
		}
	}()
	buf := make([]*connectors.Record, 0, s.cfg.Batch)
	giveBack := func(err error) error {
		endPull()
		s.Abandon(buf)
		for rec := range in {
			s.Abandon([]*connectors.Record{rec})
		}
		return err
	}
	for {
		var (
			rec *connectors.Record
			ok  bool
		)
		select {
		case rec, ok = <-in:
		default:
			if len(buf) > 0 {
				err := lane.Deliver(ctx, buf)
				// The lane owns buf now, and gave back what it did not take.
				buf = make([]*connectors.Record, 0, s.cfg.Batch)
				if err != nil {
					return giveBack(err)
				}
			}
			select {
			case rec, ok = <-in:
			case <-ctx.Done():
				return giveBack(ctx.Err())
			}
		}
		if !ok {
			if len(buf) == 0 {
				return nil
			}
			return lane.Deliver(ctx, buf)
		}
		buf = append(buf, rec)
	}
}

// receive holds m and returns its record, or false for a redelivery of a
// message held already, which is dropped (see heldSet.add).
func (s *JetStreamSource) receive(m jetstream.Msg) (*connectors.Record, bool) {
	rec := s.record(m)
	if rec.Origin.Offset < 0 {
		return rec, true // no metadata: it cannot be told from a redelivery
	}
	if !s.held.add(uint64(rec.Origin.Offset), m, time.Now()) {
		// Each copy at debug, at warn now and then: a reconnect can bring
		// back a whole lane's worth at once.
		level := slog.LevelDebug
		if s.errLog.Allow("redelivered while held") {
			level = slog.LevelWarn
		}
		s.logger.Log(context.Background(), level, "nats: the server redelivered a message this source still holds (it was not kept alive in time); dropping the copy", "stream_seq", rec.Origin.Offset, "delivery", rec.Attempt)
		return nil, false
	}
	return rec, true
}

func (s *JetStreamSource) record(m jetstream.Msg) *connectors.Record {
	key, hs, bad := fromNATS(m.Headers())
	rec := &connectors.Record{
		Key:       key,
		Value:     m.Data(),
		Headers:   hs,
		Malformed: bad,
		Origin:    connectors.Origin{Topic: m.Subject(), Offset: -1},
		Attempt:   1,
		Partition: -1,
		Token:     m,
	}
	if rec.Value == nil {
		rec.Value = []byte{}
	}
	if md, err := m.Metadata(); err == nil {
		rec.Timestamp = md.Timestamp
		rec.Origin.Offset = int64(md.Sequence.Stream)
		rec.Attempt = int(md.NumDelivered)
	}
	return rec
}

// Ack acks each message. An ack is fire-and-forget: if it is lost the
// message is redelivered after AckWait (at least once).
func (s *JetStreamSource) Ack(_ context.Context, recs []*connectors.Record) error {
	s.held.release(recs)
	var errs []error
	for _, r := range recs {
		m, ok := r.Token.(jetstream.Msg)
		if !ok {
			return errors.New("nats: Ack given a record this source did not deliver")
		}
		if err := m.Ack(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("nats: acking %d of %d messages failed (they will be redelivered): %w", len(errs), len(recs), errors.Join(errs...))
	}
	return nil
}

// Abandon naks the messages so the server redelivers them without waiting
// for AckWait. The nak asks for a redelivery delay of FetchWait: until
// then the server may still hold this source's last pull request (a 2.9
// server does not drop it when the client goes away) and would hand the
// messages straight back to it, to sit out a whole AckWait.
func (s *JetStreamSource) Abandon(recs []*connectors.Record) {
	s.held.release(recs)
	for _, r := range recs {
		if m, ok := r.Token.(jetstream.Msg); ok {
			_ = m.NakWithDelay(s.cfg.FetchWait)
		}
	}
}

// Close flushes pending acks and closes the connection. The durable
// consumer stays on the server.
func (s *JetStreamSource) Close() error {
	s.closing.Store(true)
	defer s.nc.Close()
	if err := s.nc.FlushTimeout(5 * time.Second); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) {
		return fmt.Errorf("nats: flushing acks on close: %w", err)
	}
	return nil
}

// Lag is the consumer's unprocessed messages: NumPending (not yet
// delivered) plus NumAckPending (delivered, not yet acked), which is what
// a Kafka lag (high watermark minus committed) counts too. It is reported
// as one partition (0) of topic stream/durable. Every instance sharing the
// durable reports the same figure.
func (s *JetStreamSource) Lag(ctx context.Context) ([]connectors.PartitionLag, error) {
	info, err := (*s.cons.Load()).Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("nats: consumer info for %s: %w", s.lane.Topic, err)
	}
	return []connectors.PartitionLag{{
		Topic: s.lane.Topic,
		Lag:   int64(info.NumPending) + int64(info.NumAckPending),
	}}, nil
}
