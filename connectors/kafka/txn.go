package kafka

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// maxConsecutiveAborts is how many batches in a row may abort before Run
// gives up: a record the broker rejects inside a transaction aborts its
// batch every time it is retried. Aborts the TxnSource makes on purpose
// (a batch out of time, or refused as a whole) do not count.
const maxConsecutiveAborts = 5

// DefaultTransactionTimeout is the Kafka transaction timeout of an
// exactly-once route (Kafka's own default for its clients; kgo's is 40s).
// The broker aborts a transaction open longer. A batch not fully produced
// within two thirds of it is aborted first and read again.
const DefaultTransactionTimeout = time.Minute

// TxnOpt tunes NewTransactionalRoute.
type TxnOpt func(*txnCfg)

type txnCfg struct {
	timeout time.Duration
}

// TransactionTimeout overrides DefaultTransactionTimeout; at least a
// second, and at most the brokers' transaction.max.timeout.ms (15 minutes
// by default). The daemon config does not expose it: tests shorten it to
// see a transaction that waits past it.
func TransactionTimeout(d time.Duration) TxnOpt {
	return func(c *txnCfg) { c.timeout = d }
}

// errBatchRefused and errBatchTimeUp end TxnSource.waitAcked early: the
// batch cannot commit as it is, and is aborted and read again.
var (
	errBatchRefused = errors.New("kafka: the broker refused a batch of records as a whole")
	errBatchTimeUp  = errors.New("kafka: the batch was not produced in time")
)

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
// after this one is fully acked. Dead letters go through the paired Sink,
// so into the same transaction: config validation refuses an exactly-once
// route whose dead letters are on another cluster.
//
// Rebalances wait while the lanes hold records of the batch
// (BlockRebalanceOnPoll), and may go ahead once every record is acked (or
// the lanes are stopped), while the transaction ends: kgo's
// GroupTransactSession aborts it if the rebalance revokes or loses
// partitions before the commit, and holds the rebalance back while the
// commit is under way. Holding it back until the end instead would
// deadlock a lost session: End waits for a heartbeat that kgo's group
// loop cannot send while a rebalance is blocked.
//
// A transaction also aborts when the broker rejects a record, or when Run
// ends before the batch is fully acked. The TxnSource aborts one itself,
// without counting it as a failure, when the batch is not fully produced
// within two thirds of the transaction timeout (its records wait for
// something, such as a topic that does not exist yet: the batch is read
// again until they can go), and when the broker refuses a produce batch
// as a whole for one record (the batch is read again and produced one
// record at a time, so only the culprit is dead-lettered). After an
// abort the consumer rewinds to the last committed offsets; the lanes are
// stopped and reopened, so they see the re-read records as a fresh start.
type TxnSource struct {
	cfg        SourceConfig
	sess       *kgo.GroupTransactSession
	adm        *kadm.Client
	guard      *txnGuard
	limits     *topicLimits
	logger     *slog.Logger
	lanes      laneSet
	ran        atomic.Bool
	errLog     netx.ErrLimiter
	abortAfter time.Duration // two thirds of the transaction timeout
	pollMax    int           // records per poll: FetchMaxRecords, halved while batches run out of time

	mu       sync.Mutex
	first    map[topicPartition]int64 // first offset delivered per partition in this batch
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
func NewTransactionalRoute(cluster ClusterConfig, src SourceConfig, sink SinkConfig, txnID string, logger *slog.Logger, opts ...TxnOpt) (*TxnSource, *Sink, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tc := txnCfg{timeout: DefaultTransactionTimeout}
	for _, o := range opts {
		o(&tc)
	}
	var errs []error
	if txnID == "" {
		errs = append(errs, errors.New("kafka: exactly-once needs a transactional id"))
	}
	if src.ReadUncommitted {
		errs = append(errs, errors.New("kafka: exactly-once reads committed records only: drop read_uncommitted"))
	}
	if tc.timeout < time.Second {
		errs = append(errs, fmt.Errorf("kafka: transaction timeout %s: give at least 1s", tc.timeout))
	}
	errs = append(errs, src.Validate(), sink.Validate())
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	src.setDefaults()
	sink.setDefaults()
	clientOpts, err := cluster.clientOpts(logger)
	if err != nil {
		return nil, nil, err
	}
	s := &TxnSource{
		cfg:        src,
		guard:      &txnGuard{timeout: tc.timeout},
		logger:     logger.With("group", src.Group, "transactional_id", txnID),
		progress:   make(chan struct{}, 1),
		first:      make(map[topicPartition]int64),
		want:       make(map[topicPartition]int64),
		acked:      make(map[topicPartition]int64),
		abortAfter: tc.timeout * 2 / 3,
		pollMax:    src.FetchMaxRecords,
	}
	s.lanes.init(src.StopTimeout, s.logger)
	s.lanes.wake = s.nudge
	s.guard.wake = s.nudge
	s.guard.describe = s.waiting
	parts := newPartitionCounts()
	s.limits = newTopicLimits(sink.BatchMaxBytes, logger)
	consume, latest := src.consumeOpts(time.Now())
	clientOpts = append(clientOpts, consume...)
	clientOpts = append(clientOpts, sink.produceOpts(parts, s.limits)...)
	clientOpts = append(clientOpts,
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(tc.timeout),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.lanes.assign(m) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.lanes.release(m) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.lanes.release(m) }),
	)
	sess, err := kgo.NewGroupTransactSession(clientOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("kafka: building transactional client: %w", err)
	}
	s.sess = sess
	s.adm = kadm.NewClient(sess.Client())
	if latest != nil {
		latest.bind(sess.Client(), s.logger)
	}
	return s, newSink(sess.Client(), sink, parts, s.limits, logger, false, s.guard), nil
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

// batchEnd is how a batch's transaction ended.
type batchEnd int

const (
	batchCommitted batchEnd = iota
	batchAborted            // by a rebalance, a partition not handed over, or the broker
	batchRedo               // aborted on purpose, to be read again (see TxnSource)
)

func (s *TxnSource) loop(ctx context.Context) error {
	aborts := 0
	for {
		fetches := s.sess.PollRecords(ctx, s.pollMax)
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
		end, err := s.batch(ctx, fetches)
		s.sess.AllowRebalance() // batch did, unless Begin failed
		if err != nil {
			return err
		}
		switch end {
		case batchCommitted:
			aborts = 0
			s.guard.serial.Store(false)
			s.pollMax = min(s.pollMax*2, s.cfg.FetchMaxRecords)
			continue
		case batchAborted:
			aborts++
			if aborts >= maxConsecutiveAborts {
				return fmt.Errorf("kafka: %d transactions in a row aborted: a record the broker rejects (too large, not authorized) keeps failing its batch; check the sink errors in the log", aborts)
			}
			s.logger.Warn("kafka: transaction aborted; re-reading the batch from the last committed offsets")
		}
		// The session rewound to the committed offsets: restart the lanes so
		// the re-read records start fresh lanes.
		s.lanes.stopAll(false)
	}
}

// batch runs one transaction over the polled records and says how it
// ended; the error is fatal or ctx's.
func (s *TxnSource) batch(ctx context.Context, fetches kgo.Fetches) (batchEnd, error) {
	if err := s.guard.begin(s.sess); err != nil {
		if hint := fencedHint(err); hint != nil {
			err = hint
		}
		return batchAborted, fmt.Errorf("kafka: beginning transaction: %w", err)
	}
	timeUp := time.NewTimer(s.abortAfter)
	defer timeUp.Stop()
	s.expect(fetches)
	dispatched := s.dispatchAll(ctx, fetches)
	waitErr := s.waitAcked(ctx, timeUp.C)
	// Settle the lanes first: whether an ending batch made it is known
	// only once they have finished what they hold. planEnd then decides.
	switch {
	case errors.Is(waitErr, errBatchRefused):
		s.logger.Warn("kafka: the broker refused a produce batch as a whole for one of its records; aborting the transaction and producing the batch again one record at a time, so that only that record is dead-lettered",
			"records_refused", s.guard.refused())
		s.lanes.stopAllNow()
		s.guard.serial.Store(true)
	case errors.Is(waitErr, errBatchTimeUp):
		s.logger.Warn("kafka: the batch was not produced within two thirds of the transaction timeout; aborting its transaction before the broker does, and reading it again (the route waits until its records can be produced)",
			"transaction_timeout", s.guard.timeout, "waiting_for", s.waiting())
		if s.anyAcked() && s.pollMax > 1 {
			// Part of it went through: a smaller batch may fit in time.
			s.pollMax = max(s.pollMax/2, 1)
			s.logger.Info("kafka: polling fewer records per transaction until one commits", "records", s.pollMax)
		}
		s.lanes.stopAllNow()
	case waitErr != nil:
		// Ending: let the lanes finish what they hold, so that a batch
		// that makes it still commits. Records held by the sink never
		// finish: the transaction is doomed, so do not wait for them.
		if s.guard.refused() > 0 {
			s.lanes.stopAllNow()
		} else {
			s.lanes.stopAll(true)
		}
	}
	plan := planEnd(waitErr, dispatched, s.allAcked())
	// The lanes hold nothing of this batch now (all acked, or stopped): a
	// rebalance may go ahead while the transaction ends (see TxnSource).
	s.sess.AllowRebalance()
	s.guard.release()
	// End is not cancelled with ctx: a cancelled EndTxn leaves the outcome
	// unknown. It is bounded by StopTimeout instead. A deliberate abort
	// is the exception: it waits for the produce requests in flight
	// (during a produce outage, until the outage ends), as the batch would
	// have, and only Run's end cuts it short.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.StopTimeout)
	if plan.end == batchRedo {
		cancel()
		endCtx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	committed, err := s.guard.end(endCtx, s.sess, plan.try)
	s.guard.release() // refused while the transaction ended: moot now
	if err != nil && plan.stopsDespiteEndErr(ctx.Err()) {
		// Stopping while the broker does not answer (a sink outage): the
		// abort cannot get through either. Nothing of this batch was
		// committed, the broker aborts the transaction at its timeout,
		// and the next instance with this transactional id fences it
		// first: stop as asked rather than fail.
		s.logger.Warn("kafka: could not abort the open transaction while stopping; the broker aborts it at the transaction timeout, and the next start with this transactional id fences it", "err", err)
		return batchAborted, cmp.Or(plan.err, ctx.Err())
	}
	if err != nil {
		if hint := s.guard.fenceHint(err); hint != nil {
			err = hint
		}
		return batchAborted, fmt.Errorf("kafka: ending transaction: %w", err)
	}
	if committed {
		return batchCommitted, plan.err
	}
	return plan.end, plan.err
}

// dispatchAll hands each polled partition's records to its lane and
// reports whether every partition was handed over. A partition that was
// not (no longer owned, or Run ending) is no longer waited for, but the
// batch must then abort: End commits every polled offset, its records'
// too, and they were never produced.
func (s *TxnSource) dispatchAll(ctx context.Context, fetches kgo.Fetches) bool {
	all := true
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 && !s.lanes.dispatch(ctx, p.Topic, p.Partition, p.Records) {
			all = false
			s.unexpect(topicPartition{p.Topic, p.Partition})
		}
	})
	return all
}

func (s *TxnSource) expect(fetches kgo.Fetches) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first = make(map[topicPartition]int64)
	s.want = make(map[topicPartition]int64)
	s.acked = make(map[topicPartition]int64)
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			tp := topicPartition{p.Topic, p.Partition}
			s.first[tp], s.want[tp] = p.Records[0].Offset, p.Records[n-1].Offset
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

// anyAcked reports whether a record of the batch was acked.
func (s *TxnSource) anyAcked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked) > 0
}

// waitAcked waits until the batch is acked, a lane failed, the sink holds
// records refused with their batch (errBatchRefused), timeUp fires
// (errBatchTimeUp) or ctx ends.
func (s *TxnSource) waitAcked(ctx context.Context, timeUp <-chan time.Time) error {
	for !s.allAcked() {
		if err := s.lanes.err(); err != nil {
			return err
		}
		if s.guard.refused() > 0 {
			return errBatchRefused
		}
		select {
		case <-s.progress:
		case <-timeUp:
			return errBatchTimeUp
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// maxWaitingNamed bounds the partitions waiting names.
const maxWaitingNamed = 5

// waiting says what the batch waits for, for logs and errors: the source
// partitions whose records are not all acked, and the destination topics
// known not to exist.
func (s *TxnSource) waiting() string {
	s.mu.Lock()
	var parts []string
	for tp, last := range s.want {
		got, ok := s.acked[tp]
		if ok && got >= last {
			continue
		}
		from := s.first[tp]
		if ok {
			from = got + 1
		}
		parts = append(parts, fmt.Sprintf("%s[%d] offsets %d-%d", tp.topic, tp.partition, from, last))
	}
	s.mu.Unlock()
	slices.Sort(parts)
	var b strings.Builder
	b.WriteString("records not acknowledged: ")
	switch n := len(parts); {
	case n == 0:
		b.WriteString("none")
	case n > maxWaitingNamed:
		fmt.Fprintf(&b, "%s and %d more partitions", strings.Join(parts[:maxWaitingNamed], ", "), n-maxWaitingNamed)
	default:
		b.WriteString(strings.Join(parts, ", "))
	}
	if missing := s.limits.missing(); len(missing) > 0 {
		b.WriteString("; destination topics that do not exist: " + strings.Join(missing, ", "))
	}
	return b.String()
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
