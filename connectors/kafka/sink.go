package kafka

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// SinkConfig says how a Sink produces. Acks are always all and the
// producer is always idempotent: that is what keeps order across retries.
type SinkConfig struct {
	// MaxInFlight bounds the records written but not yet acknowledged;
	// Write blocks beyond it. 10000 by default.
	MaxInFlight int
	// Linger is how long a partition's batch waits for more records
	// before it is sent; 0 (the default) sends as soon as possible, which
	// still batches under load.
	Linger time.Duration
	// Compression is none, gzip, snappy, lz4 or zstd; snappy by default.
	Compression string
	// BatchMaxBytes caps one partition's batch; kgo's default (about 1MB)
	// when zero. The sink lowers it per topic to the topic's
	// max.message.bytes when it can read that from the broker.
	BatchMaxBytes int32
	// DeliveryTimeout fails a record (as a permanent error, so it goes to
	// the dead letters) that could not be produced in this time. Zero, the
	// default, retries forever: an outage stalls the lane instead of
	// dead-lettering good records.
	DeliveryTimeout time.Duration
	// CloseTimeout bounds the flush in Close; 30s by default.
	CloseTimeout time.Duration
	// Topics are the destination topics known before any record: a
	// route's output and dead-letter topics that are not templates.
	// Preflight fails when one of them does not exist and the cluster
	// does not create it on demand. Topics a template names are only
	// known at the first record; a missing one is logged while its
	// records wait.
	Topics []string
}

// Default values of SinkConfig fields left zero.
const (
	DefaultMaxInFlight  = 10000
	DefaultCompression  = "snappy"
	DefaultCloseTimeout = 30 * time.Second
)

// Validate reports every mistake in c at once.
func (c SinkConfig) Validate() error {
	var errs []error
	if c.MaxInFlight < 0 || c.Linger < 0 || c.BatchMaxBytes < 0 || c.DeliveryTimeout < 0 || c.CloseTimeout < 0 {
		errs = append(errs, errors.New("kafka: sink max_in_flight, linger, batch_max_bytes, delivery_timeout and close_timeout cannot be negative"))
	}
	if _, err := compressionCodec(c.Compression); err != nil {
		errs = append(errs, err)
	}
	if slices.Contains(c.Topics, "") {
		errs = append(errs, errors.New("kafka: empty topic name in the sink's topics"))
	}
	return errors.Join(errs...)
}

func (c *SinkConfig) setDefaults() {
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return kgo.SnappyCompression(), nil
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("kafka: unknown compression %q: use none, gzip, snappy, lz4 or zstd", name)
}

// produceOpts are the kgo options of a producer for c; parts learns the
// partition counts the partitioner sees, limits caps each topic's batches.
func (c SinkConfig) produceOpts(parts *partitionCounts, limits *topicLimits) []kgo.Opt {
	codec, _ := compressionCodec(c.Compression)
	opts := []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.MaxBufferedRecords(c.MaxInFlight),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchCompression(codec),
		kgo.RecordPartitioner(newPartitioner(parts)),
		// Let the broker's auto.create.topics.enable decide whether a
		// missing topic is created on the first record, as kcat and the
		// Java producer do; kgo alone never asks for it.
		kgo.AllowAutoTopicCreation(),
		// A topic the cluster does not create is an operator's mistake
		// that creating the topic fixes: keep retrying (Preflight and
		// topicLimits say which topic) rather than dead-lettering.
		kgo.UnknownTopicRetries(-1),
		kgo.ProducerBatchMaxBytesFn(limits.batchMax),
	}
	if c.DeliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(c.DeliveryTimeout))
	}
	return opts
}

// Sink produces records to one Kafka cluster. Build it with NewSink (or
// NewTransactionalRoute); it implements connectors.Sink.
type Sink struct {
	cfg      SinkConfig
	cl       *kgo.Client
	logger   *slog.Logger
	parts    *partitionCounts
	limits   *topicLimits
	solo     *soloRetrier  // nil when transactional: a second client is outside the transaction
	sem      chan struct{} // one slot per in-flight record
	inflight netx.Inflight
	closed   atomic.Bool
	ownsCl   bool      // Close closes cl (false when a transactional source owns it)
	txn      *txnGuard // nil unless transactional
	// one is the single in-flight slot of a transactional sink while
	// txn.serial holds: a record waits for the one before it, so each is
	// alone in its batch.
	one chan struct{}
	// promiseFn is s.promise and alonePromiseFn s.alonePromise, bound
	// once: writing s.promise in Write would allocate a method value per
	// record.
	promiseFn      func(*kgo.Record, error)
	alonePromiseFn func(*kgo.Record, error)
}

var _ connectors.Sink = (*Sink)(nil)

// NewSink builds a producer. A nil logger discards logs.
func NewSink(cluster ClusterConfig, cfg SinkConfig, logger *slog.Logger) (*Sink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	opts, err := cluster.clientOpts(logger)
	if err != nil {
		return nil, err
	}
	parts := newPartitionCounts()
	limits := newTopicLimits(cfg.BatchMaxBytes, logger)
	newClient := func() (*kgo.Client, error) {
		all := append(append([]kgo.Opt(nil), opts...), cfg.produceOpts(parts, limits)...)
		return kgo.NewClient(all...)
	}
	cl, err := newClient()
	if err != nil {
		return nil, fmt.Errorf("kafka: building producer: %w", err)
	}
	s := newSink(cl, cfg, parts, limits, logger, true, nil)
	s.solo = newSoloRetrier(newClient)
	return s, nil
}

func newSink(cl *kgo.Client, cfg SinkConfig, parts *partitionCounts, limits *topicLimits, logger *slog.Logger, owns bool, txn *txnGuard) *Sink {
	limits.cl, limits.adm = cl, kadm.NewClient(cl)
	s := &Sink{
		cfg: cfg, cl: cl, logger: logger, parts: parts, limits: limits,
		sem:    make(chan struct{}, cfg.MaxInFlight),
		ownsCl: owns, txn: txn,
	}
	s.promiseFn, s.alonePromiseFn = s.promise, s.alonePromise
	if txn != nil {
		s.one = make(chan struct{}, 1)
	}
	return s
}

// ErrSinkClosed is returned by Write after Close.
var ErrSinkClosed = errors.New("kafka: sink closed")

// Write queues rec for rec.Topic (and rec.Partition when >= 0) and returns.
// It blocks while MaxInFlight records are unacknowledged, until a slot
// frees or ctx ends; when it returns an error, done is never called.
//
// done is called once, with nil when the broker has the record
// (acks=all), with an error wrapping connectors.ErrPermanent when retrying
// cannot help (too large, not authorized, no such partition,
// DeliveryTimeout passed), or with another error only when the sink is
// closed or its producer is fenced, or, for a transactional sink, when
// its TxnSource aborted the transaction after stopping the lanes: the
// route must then stop without acking.
//
// done comes in write order per destination partition, with one exception.
// A record too large for the topic fails alone, before it is sent, when
// the sink could read the topic's max.message.bytes (the first Write to a
// topic asks the broker). When it could not (no DescribeConfigs right, or
// the limit was lowered while the sink ran), the broker refuses the whole
// batch, and kgo fails every record buffered for that partition with it;
// the sink then produces each of those records again alone (the culprit
// fails permanently, its neighbours are stored), and they are stored and
// acknowledged after records written after them. The same holds for the
// other refusals Kafka gives a whole batch for one record (an invalid
// record or timestamp, a corrupt batch).
//
// A transactional sink keeps order instead: it holds the refused records
// (their done waits) and its TxnSource aborts the transaction, stops the
// lanes and reads the batch again, which the sink then produces one
// record at a time (Write waits for the record before it), so the
// culprit's done is its own and its neighbours are stored, in order,
// within one transaction.
func (s *Sink) Write(ctx context.Context, rec *connectors.Record, done func(error)) error {
	if s.closed.Load() {
		return ErrSinkClosed
	}
	if err := s.limits.learn(ctx, rec.Topic); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}: // a free slot, the usual case, without a two-way select
	default:
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	promise := s.promiseFn
	if s.txn != nil {
		if !s.txn.enter() {
			<-s.sem
			return ErrNotInTransaction
		}
		if s.txn.serial.Load() {
			select {
			case s.one <- struct{}{}:
			case <-ctx.Done():
				s.txn.leave()
				<-s.sem
				return ctx.Err()
			}
			promise = s.alonePromiseFn
		}
	}
	s.inflight.Add()
	p := getProduced(rec, done)
	// The record's lifetime is not the caller's ctx: a record cancelled
	// half way would leave a gap before the records after it.
	s.cl.Produce(context.Background(), &p.kr, promise)
	if s.txn != nil {
		s.txn.leave()
	}
	return nil
}

// promise is kgo's callback for every record the sink produces; one
// method value serves them all, so a record costs no closure.
func (s *Sink) promise(r *kgo.Record, err error) {
	p := r.Context.(*produced)
	if err != nil && isBatchRefusal(err) && !refusedAlone(r, err, s.limits.givenMax(r.Topic)) {
		switch {
		case s.solo != nil:
			s.solo.push(r, err, func(err error) { s.finish(p, err) })
			return
		case s.txn != nil:
			s.txn.hold(func(err error) { s.finish(p, err) })
			return
		}
	}
	s.finish(p, err)
}

// alonePromise is promise for a record produced alone (txnGuard.serial):
// the broker's verdict is the record's own, and the next record may go.
func (s *Sink) alonePromise(r *kgo.Record, err error) {
	s.finish(r.Context.(*produced), err)
	<-s.one
}

// finish gives done the classified outcome, recycles the record and frees
// its slot.
func (s *Sink) finish(p *produced, err error) {
	if err != nil {
		err = s.classify(&p.kr, err)
	}
	done := p.done
	putProduced(p)
	done(err)
	<-s.sem
	s.inflight.Done()
}

func (s *Sink) classify(r *kgo.Record, err error) error {
	if s.txn != nil {
		if hint := s.txn.fenceHint(err); hint != nil {
			return fmt.Errorf("kafka: producing to %s[%d]: %w", r.Topic, r.Partition, hint)
		}
	}
	if r.Partition >= 0 {
		if n, ok := s.parts.get(r.Topic); ok && int(r.Partition) >= n {
			err = fmt.Errorf("%w: partition %d of %d", errPartitionOutOfRange, r.Partition, n)
		}
	}
	return classifyProduceErr(r.Topic, r.Partition, err)
}

// Preflight asks the cluster for its versions (connectors.Preflighter):
// a TLS handshake or credentials the cluster refuses are an error; a
// cluster that does not answer yet is only logged, as kgo keeps trying.
// Then it asks for SinkConfig.Topics the way the producer will, letting
// the cluster create them: a topic still missing is an error naming it,
// since every record for it would wait forever.
func (s *Sink) Preflight(ctx context.Context) error {
	reached, err := preflight(ctx, s.cl, s.logger)
	if err != nil || !reached || len(s.cfg.Topics) == 0 {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, limitLookupTimeout)
	defer cancel()
	missing, err := missingTopics(tctx, s.cl, s.cfg.Topics, true)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.logger.Warn("kafka: could not check that the destination topics exist; retrying in the background", "topics", s.cfg.Topics, "err", err)
		return nil
	}
	var errs []error
	for _, t := range missing {
		errs = append(errs, missingTopicError(t))
	}
	return errors.Join(errs...)
}

// missingTopicError says what to do about a destination topic the cluster
// does not have and did not create.
func missingTopicError(topic string) error {
	return fmt.Errorf("kafka: topic %s does not exist and the cluster does not create topics on demand: create topic %s, or set auto.create.topics.enable=true on the brokers", topic, topic)
}

// Flush waits until every written record's done has been called, or ctx
// ends.
func (s *Sink) Flush(ctx context.Context) error {
	return s.inflight.Wait(ctx)
}

// Close flushes for at most CloseTimeout, then closes the client; records
// still unacknowledged then get done(err) with a non-permanent error.
func (s *Sink) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CloseTimeout)
	defer cancel()
	err := s.Flush(ctx)
	if s.ownsCl {
		s.cl.Close()
	}
	if s.solo != nil {
		s.solo.stop()
	}
	s.limits.close()
	if err != nil {
		return fmt.Errorf("kafka: sink closed with records unacknowledged after %s: %w", s.cfg.CloseTimeout, err)
	}
	return nil
}

// inflight counts written records whose done has not returned, so Flush
// can wait for zero with a ctx. The count is atomic, taken twice per
// record; the lock is only for a waiter's channel.
