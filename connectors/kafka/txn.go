package kafka

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// maxConsecutiveAborts is how many batches in a row may abort before Run
// gives up: a record the broker rejects inside a transaction aborts its
// batch every time it is retried.
const maxConsecutiveAborts = 5

// TxnSource is the source half of an exactly-once Kafka→Kafka route on one
// cluster; NewTransactionalRoute builds it with its Sink. It implements
// connectors.Source and connectors.LagReporter.
//
// It works one poll at a time: Run polls up to FetchMaxRecords records,
// begins a transaction, delivers them to the lanes, and waits until the
// processor has acked every one of them (each produced through the paired
// Sink, or dead-lettered through it). Then it commits the transaction,
// which holds the produced records and the consumed offsets together, and
// only then polls again. Consumers of the destination read with
// isolation.level=read_committed and see each record exactly once.
//
// How the processor drives it: exactly as any Source. Write every record
// of a batch (masked records and dead letters alike) to the paired Sink,
// and Ack in lane order once the Sink's done has fired. The processor must
// not hold back acks waiting for more records: the next batch only comes
// after this one is fully acked. A dead-letter destination on another
// cluster is written outside the transaction (at least once).
//
// A transaction aborts when the group rebalances under it (rare: the
// client blocks rebalances while a batch is in flight), when the broker
// rejects a record, or when Run ends before the batch is fully acked. The
// consumer then rewinds to the last committed offsets; the lanes are
// stopped and reopened, so they see the re-read records as a fresh start.
type TxnSource struct {
	cfg    SourceConfig
	sess   *kgo.GroupTransactSession
	adm    *kadm.Client
	guard  *txnGuard
	logger *slog.Logger
	lanes  laneSet
	ran    atomic.Bool
	errLog netx.ErrLimiter

	mu       sync.Mutex
	want     map[topicPartition]int64 // last offset delivered per partition in this batch
	acked    map[topicPartition]int64 // last offset acked per partition in this batch
	progress chan struct{}            // a nudge for the batch waiter
}

var (
	_ connectors.Source      = (*TxnSource)(nil)
	_ connectors.LagReporter = (*TxnSource)(nil)
)

// NewTransactionalRoute builds the source and sink of an exactly-once
// route consuming and producing on one cluster. txnID is the Kafka
// transactional id: unique per running instance (two live instances with
// one id fence each other), stable across restarts of one instance so a
// restart fences its predecessor's unfinished transaction. The Sink shares
// the TxnSource's client: close the Sink first, then the source.
func NewTransactionalRoute(cluster ClusterConfig, src SourceConfig, sink SinkConfig, txnID string, logger *slog.Logger) (*TxnSource, *Sink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if txnID == "" {
		errs = append(errs, errors.New("kafka: exactly-once needs a transactional id"))
	}
	if src.ReadUncommitted {
		errs = append(errs, errors.New("kafka: exactly-once reads committed records only: drop read_uncommitted"))
	}
	errs = append(errs, src.Validate(), sink.Validate())
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	src.setDefaults()
	sink.setDefaults()
	opts, err := cluster.clientOpts(logger)
	if err != nil {
		return nil, nil, err
	}
	s := &TxnSource{
		cfg:      src,
		guard:    &txnGuard{},
		logger:   logger.With("group", src.Group, "transactional_id", txnID),
		progress: make(chan struct{}, 1),
		want:     make(map[topicPartition]int64),
		acked:    make(map[topicPartition]int64),
	}
	s.lanes.init(src.StopTimeout, s.logger)
	s.lanes.wake = s.nudge
	parts := newPartitionCounts()
	limits := newTopicLimits(sink.BatchMaxBytes, logger)
	consume, latest := src.consumeOpts(time.Now())
	opts = append(opts, consume...)
	opts = append(opts, sink.produceOpts(parts, limits)...)
	opts = append(opts,
		kgo.TransactionalID(txnID),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.lanes.assign(m) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.lanes.release(m) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.lanes.release(m) }),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("kafka: building transactional client: %w", err)
	}
	s.sess = sess
	s.adm = kadm.NewClient(sess.Client())
	if latest != nil {
		latest.bind(sess.Client(), s.logger)
	}
	return s, newSink(sess.Client(), sink, parts, limits, logger, false, s.guard), nil
}

// Run consumes batch by batch as described on TxnSource until ctx ends or
// a fatal error. It may be called once.
func (s *TxnSource) Run(ctx context.Context, open func(connectors.LaneID) connectors.Lane) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("kafka: TxnSource.Run called twice: build a new route per run")
	}
	reached, err := preflight(ctx, s.sess.Client(), s.logger)
	if err != nil {
		return err
	}
	if reached {
		// The client lets the cluster create topics it asks about (its
		// producer needs that), so it asks the same way here.
		warnMissingSourceTopics(ctx, s.sess.Client(), s.cfg.Topics, true, s.logger)
		warnRegexMatchesNothing(ctx, s.sess.Client(), s.cfg, s.logger)
	}
	s.lanes.start(ctx, open)
	err = s.loop(ctx)
	s.lanes.stopAll(true)
	s.lanes.wait()
	return err
}

func (s *TxnSource) loop(ctx context.Context) error {
	aborts := 0
	for {
		fetches := s.sess.PollRecords(ctx, s.cfg.FetchMaxRecords)
		if fetches.IsClientClosed() {
			s.sess.AllowRebalance()
			return errors.New("kafka: transactional client closed while running")
		}
		if err := ctx.Err(); err != nil {
			s.sess.AllowRebalance()
			return err
		}
		if err := checkFetchErrors(fetches, &s.errLog, s.logger); err != nil {
			s.sess.AllowRebalance()
			return err
		}
		if fetches.NumRecords() == 0 {
			s.sess.AllowRebalance()
			continue
		}
		committed, err := s.batch(ctx, fetches)
		s.sess.AllowRebalance()
		if err != nil {
			return err
		}
		if committed {
			aborts = 0
			continue
		}
		aborts++
		if aborts >= maxConsecutiveAborts {
			return fmt.Errorf("kafka: %d transactions in a row aborted: a record the broker rejects (too large, not authorized) keeps failing its batch; check the sink errors in the log", aborts)
		}
		s.logger.Warn("kafka: transaction aborted; re-reading the batch from the last committed offsets")
		// The session rewound to the committed offsets: restart the lanes so
		// the re-read records start fresh lanes.
		s.lanes.stopAll(false)
	}
}

// batch runs one transaction over the polled records. It returns whether
// the transaction committed; the error is fatal or ctx's.
func (s *TxnSource) batch(ctx context.Context, fetches kgo.Fetches) (bool, error) {
	if err := s.guard.begin(s.sess); err != nil {
		if hint := fencedHint(err); hint != nil {
			err = hint
		}
		return false, fmt.Errorf("kafka: beginning transaction: %w", err)
	}
	s.expect(fetches)
	// A partition whose records could not be handed to a lane cannot be
	// committed (End commits every polled offset): wait for the others,
	// then abort so the whole batch is read again.
	dropped := false
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 && !s.lanes.dispatch(ctx, p.Topic, p.Partition, p.Records) {
			dropped = true
			s.unexpect(topicPartition{p.Topic, p.Partition})
		}
	})
	waitErr := s.waitAcked(ctx)
	commit := kgo.TryCommit
	if dropped {
		commit = kgo.TryAbort
	}
	if waitErr != nil {
		// Ending: let the lanes finish what they hold, then commit only if
		// the whole batch made it.
		s.lanes.stopAll(true)
		if !s.allAcked() {
			commit = kgo.TryAbort
		}
	}
	// End is not cancelled with ctx: a cancelled EndTxn leaves the outcome
	// unknown. It is bounded by StopTimeout instead.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.StopTimeout)
	defer cancel()
	committed, err := s.guard.end(endCtx, s.sess, commit)
	if err != nil && waitErr != nil && commit == kgo.TryAbort {
		// Stopping while the broker does not answer (a sink outage): the
		// abort cannot get through either. Nothing of this batch was
		// committed, the broker aborts the transaction at its timeout,
		// and the next instance with this transactional id fences it
		// first: stop as asked rather than fail.
		s.logger.Warn("kafka: could not abort the open transaction while stopping; the broker aborts it at the transaction timeout, and the next start with this transactional id fences it", "err", err)
		return false, waitErr
	}
	if err != nil {
		if hint := fencedHint(err); hint != nil {
			err = hint
		}
		return false, fmt.Errorf("kafka: ending transaction: %w", err)
	}
	return committed, waitErr
}

func (s *TxnSource) expect(fetches kgo.Fetches) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want = make(map[topicPartition]int64)
	s.acked = make(map[topicPartition]int64)
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			s.want[topicPartition{p.Topic, p.Partition}] = p.Records[n-1].Offset
		}
	})
}

func (s *TxnSource) unexpect(tp topicPartition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.want, tp)
}

func (s *TxnSource) allAcked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tp, want := range s.want {
		if got, ok := s.acked[tp]; !ok || got < want {
			return false
		}
	}
	return true
}

func (s *TxnSource) waitAcked(ctx context.Context) error {
	for !s.allAcked() {
		if err := s.lanes.err(); err != nil {
			return err
		}
		select {
		case <-s.progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s *TxnSource) nudge() {
	select {
	case s.progress <- struct{}{}:
	default:
	}
}

// Ack records that the batch's records up to the last of recs are done;
// the batch commits when every partition's last record is acked.
func (s *TxnSource) Ack(_ context.Context, recs []*connectors.Record) error {
	if len(recs) == 0 {
		return nil
	}
	kr, ok := recs[len(recs)-1].Token.(*kgo.Record)
	if !ok {
		return errors.New("kafka: Ack given a record this source did not deliver")
	}
	tp := topicPartition{kr.Topic, kr.Partition}
	s.mu.Lock()
	if got, ok := s.acked[tp]; !ok || got < kr.Offset {
		s.acked[tp] = kr.Offset
	}
	s.mu.Unlock()
	s.nudge()
	return nil
}

// Abandon only logs: the batch is then not fully acked, so its
// transaction aborts and the records are read again.
func (s *TxnSource) Abandon(recs []*connectors.Record) {
	if len(recs) > 0 {
		s.logger.Info("kafka: unfinished records abort their transaction; the group reads them again from the last commit", "records", len(recs))
	}
}

// Close leaves the group and closes the client the paired Sink uses:
// close the Sink first. Run must have returned.
func (s *TxnSource) Close() error {
	s.sess.CloseAllowingRebalance()
	return nil
}

// Lag is as Source.Lag: high watermark minus committed offset for the
// partitions this member owns.
func (s *TxnSource) Lag(ctx context.Context) ([]connectors.PartitionLag, error) {
	return groupLag(ctx, s.adm, s.cfg.Group, s.lanes.ownedSet())
}

// txnGuard keeps Sink.Write out of the window where the transaction is
// being begun or ended (kgo forbids Produce concurrent with Begin/End) and
// refuses writes while no transaction is open.
type txnGuard struct {
	mu   sync.RWMutex
	open bool
}

// enter returns true with the read lock held when a transaction is open;
// leave releases it.
func (g *txnGuard) enter() bool {
	g.mu.RLock()
	if !g.open {
		g.mu.RUnlock()
		return false
	}
	return true
}

func (g *txnGuard) leave() { g.mu.RUnlock() }

func (g *txnGuard) begin(sess *kgo.GroupTransactSession) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := sess.Begin(); err != nil {
		return err
	}
	g.open = true
	return nil
}

func (g *txnGuard) end(ctx context.Context, sess *kgo.GroupTransactSession, commit kgo.TransactionEndTry) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = false
	return sess.End(ctx, commit)
}
