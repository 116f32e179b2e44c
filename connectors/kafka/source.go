package kafka

import (
	"cmp"
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// Start offsets accepted in SourceConfig.StartOffset: where a group with
// no committed offset for a partition begins.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// SourceConfig says what a Source consumes.
type SourceConfig struct {
	// Topics are the topics to consume. Exactly one of Topics and
	// TopicRegex is set.
	Topics []string
	// TopicRegex consumes every topic whose name matches (Go regexp
	// syntax, matched against the whole name only if anchored), including
	// topics created later.
	TopicRegex string
	// ExcludeTopics are regexps of topics TopicRegex must never consume,
	// even when it matches them: the route's own output and dead-letter
	// topics on the same cluster, which it would otherwise re-mask
	// forever. Only with TopicRegex.
	ExcludeTopics []string
	// Group is the consumer group. Instances sharing it share the
	// partitions.
	Group string
	// StartOffset is where a partition without a committed offset begins:
	// "earliest" (the default) or "latest". Latest is the end of the
	// partitions of the group's first assignment, as Kafka's own latest;
	// a topic or partition that appears later (a new topic matching
	// TopicRegex, partitions added to a topic) is read from its first
	// record stamped at or after the source was built, so records written
	// before the source noticed it are not skipped (latestStart).
	StartOffset string
	// FetchMaxRecords bounds the records one poll hands to the lanes;
	// 1000 by default.
	FetchMaxRecords int
	// FetchMaxBytes bounds one fetch response from one broker (compressed
	// bytes; kgo buffers one per broker until the lanes have taken it);
	// 16 MiB by default, against kgo's 50 MiB. With a 1 MiB cap per
	// partition it only bites beyond 16 partitions per broker, where 50
	// MiB of snappy batches could decompress to several hundred MB.
	FetchMaxBytes int32
	// StopTimeout bounds the time Lane.Stop is given on a revoke and at
	// the end of Run; 30s by default. Keep it under the rebalance timeout.
	StopTimeout time.Duration
	// CommitInterval is how often acknowledged offsets are committed
	// besides the commits on revoke and at the end of Run; 5s by default.
	CommitInterval time.Duration
	// SessionTimeout and RebalanceTimeout override kgo's defaults (45s and
	// 60s) when non-zero.
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	// ReadUncommitted also delivers records of open or aborted
	// transactions. By default only committed records are read, which
	// costs nothing on topics without transactional producers.
	ReadUncommitted bool
}

// Default values of SourceConfig fields left zero.
const (
	DefaultFetchMaxRecords = 1000
	DefaultFetchMaxBytes   = 16 << 20
	DefaultStopTimeout     = 30 * time.Second
	DefaultCommitInterval  = 5 * time.Second
)

// Validate reports every mistake in c at once.
func (c SourceConfig) Validate() error {
	var errs []error
	switch {
	case len(c.Topics) == 0 && c.TopicRegex == "":
		errs = append(errs, errors.New("kafka: source needs topics or topic_regex"))
	case len(c.Topics) > 0 && c.TopicRegex != "":
		errs = append(errs, errors.New("kafka: source takes topics or topic_regex, not both"))
	}
	if c.TopicRegex != "" {
		if _, err := regexp.Compile(c.TopicRegex); err != nil {
			errs = append(errs, fmt.Errorf("kafka: topic_regex: %w", err))
		}
	}
	if len(c.ExcludeTopics) > 0 && c.TopicRegex == "" {
		errs = append(errs, errors.New("kafka: exclude_topics only applies to topic_regex; list the topics to consume instead"))
	}
	for _, x := range c.ExcludeTopics {
		if _, err := regexp.Compile(x); err != nil {
			errs = append(errs, fmt.Errorf("kafka: exclude_topics: %w", err))
		}
	}
	for _, t := range c.Topics {
		if t == "" {
			errs = append(errs, errors.New("kafka: empty topic name in topics"))
		}
	}
	if c.Group == "" {
		errs = append(errs, errors.New("kafka: source needs a consumer group"))
	}
	switch c.StartOffset {
	case "", StartEarliest, StartLatest:
	default:
		errs = append(errs, fmt.Errorf("kafka: start offset %q: use %q or %q", c.StartOffset, StartEarliest, StartLatest))
	}
	if c.FetchMaxRecords < 0 || c.FetchMaxBytes < 0 || c.StopTimeout < 0 || c.CommitInterval < 0 {
		errs = append(errs, errors.New("kafka: fetch_max_records, fetch_max_bytes, stop_timeout and commit_interval cannot be negative"))
	}
	return errors.Join(errs...)
}

func (c *SourceConfig) setDefaults() {
	if c.StartOffset == "" {
		c.StartOffset = StartEarliest
	}
	if c.FetchMaxRecords == 0 {
		c.FetchMaxRecords = DefaultFetchMaxRecords
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = DefaultCommitInterval
	}
}

// consumeOpts are the kgo options of a group consumer for c, without the
// rebalance callbacks; built is when the source was built. Under start:
// latest it also returns the latestStart to bind to the client.
func (c SourceConfig) consumeOpts(built time.Time) ([]kgo.Opt, *latestStart) {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(c.Group),
		kgo.BlockRebalanceOnPoll(),
		kgo.RequireStableFetchOffsets(),
		kgo.FetchMaxBytes(cmp.Or(c.FetchMaxBytes, DefaultFetchMaxBytes)),
	}
	if c.TopicRegex != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(c.TopicRegex))
		if len(c.ExcludeTopics) > 0 {
			opts = append(opts, kgo.ConsumeExcludeTopics(c.ExcludeTopics...))
		}
	} else {
		opts = append(opts, kgo.ConsumeTopics(c.Topics...))
	}
	var latest *latestStart
	if c.StartOffset == StartLatest {
		latest = newLatestStart(built)
		opts = append(opts, latest.opts()...)
	} else {
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	if !c.ReadUncommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if c.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(c.SessionTimeout))
	}
	if c.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(c.RebalanceTimeout))
	}
	return opts, latest
}

// Source consumes topics in a consumer group, one lane per assigned
// partition. Build it with NewSource; it implements connectors.Source and
// connectors.LagReporter.
type Source struct {
	cfg    SourceConfig
	cl     *kgo.Client
	adm    *kadm.Client
	logger *slog.Logger
	lanes  laneSet
	ran    atomic.Bool
	errLog netx.ErrLimiter
}

var (
	_ connectors.Source      = (*Source)(nil)
	_ connectors.LagReporter = (*Source)(nil)
)

// NewSource builds a consumer-group source. The client joins the group
// when it is built, so partitions may be assigned before Run; their lanes
// open when Run delivers their first records. A nil logger discards logs.
func NewSource(cluster ClusterConfig, cfg SourceConfig, logger *slog.Logger) (*Source, error) {
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
	s := &Source{cfg: cfg, logger: logger.With("group", cfg.Group)}
	s.lanes.init(cfg.StopTimeout, s.logger)
	consume, latest := cfg.consumeOpts(time.Now())
	opts = append(opts, consume...)
	opts = append(opts,
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(cfg.CommitInterval),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: building consumer: %w", err)
	}
	s.cl = cl
	s.adm = kadm.NewClient(cl)
	if latest != nil {
		latest.bind(cl, s.logger)
	}
	return s, nil
}

// Run polls until ctx ends or a fatal error (authorization, a closed
// client). When it ends it stops every lane (giving each StopTimeout) and
// commits what they acknowledged. It may be called once.
func (s *Source) Run(ctx context.Context, open func(connectors.LaneID) connectors.Lane) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("kafka: Source.Run called twice: build a new Source per run")
	}
	reached, err := preflight(ctx, s.cl, s.logger)
	if err != nil {
		return err
	}
	if reached {
		warnMissingSourceTopics(ctx, s.cl, s.cfg.Topics, false, s.logger)
		warnRegexMatchesNothing(ctx, s.cl, s.cfg, s.logger)
	}
	s.lanes.start(ctx, open)
	err = s.poll(ctx)
	s.lanes.stopAll(true)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.StopTimeout)
	defer cancel()
	if cerr := s.cl.CommitMarkedOffsets(cctx); cerr != nil {
		s.logger.Warn("kafka: committing offsets at the end of run failed; the next owner re-reads from the last commit", "err", cerr)
	}
	s.lanes.wait()
	return err
}

// preflight asks a broker for metadata once, so credentials the cluster
// refuses fail Run at once: a group consumer would otherwise retry the
// handshake forever. Any other failure (a broker not up yet) is logged and
// left to kgo's retries. reached says whether a broker answered.
func preflight(ctx context.Context, cl *kgo.Client, logger *slog.Logger) (reached bool, err error) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = cl.Ping(pctx)
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case isFatalConsumeErr(err) && !errors.Is(err, context.DeadlineExceeded):
		return false, fmt.Errorf("kafka: the cluster refused the connection: check the credentials: %w", err)
	case tlsRefusal(err) != nil:
		return false, tlsRefusal(err)
	}
	logger.Warn("kafka: no broker answered yet; retrying in the background", "err", err)
	return false, nil
}

func (s *Source) poll(ctx context.Context) error {
	for {
		fetches := s.cl.PollRecords(ctx, s.cfg.FetchMaxRecords)
		if fetches.IsClientClosed() {
			s.cl.AllowRebalance()
			return errors.New("kafka: source client closed while running")
		}
		if err := ctx.Err(); err != nil {
			s.cl.AllowRebalance()
			return err
		}
		if err := s.lanes.err(); err != nil {
			s.cl.AllowRebalance()
			return err
		}
		if err := checkFetchErrors(fetches, &s.errLog, s.logger); err != nil {
			s.cl.AllowRebalance()
			return err
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) > 0 {
				s.lanes.dispatch(ctx, p.Topic, p.Partition, p.Records)
			}
		})
		s.cl.AllowRebalance()
	}
}

// checkFetchErrors returns the first fatal error of a poll and logs the
// others (rate-limited), which kgo retries by itself. Both the plain and
// the transactional source use it.
func checkFetchErrors(fetches kgo.Fetches, lim *netx.ErrLimiter, logger *slog.Logger) error {
	var fatal error
	fetches.EachError(func(topic string, partition int32, err error) {
		if fatal != nil {
			return
		}
		if isFatalConsumeErr(err) {
			fatal = fmt.Errorf("kafka: consuming %s[%d]: %w", topic, partition, err)
			return
		}
		if lim.Allow(err.Error()) {
			logger.Warn("kafka: fetch error, retrying", "topic", topic, "partition", partition, "err", err)
		}
	})
	return fatal
}

// Ack marks the last record of recs for commit. Records of a partition this
// member no longer owns are ignored: their new owner re-reads them.
func (s *Source) Ack(_ context.Context, recs []*connectors.Record) error {
	if len(recs) == 0 {
		return nil
	}
	kr, ok := recs[len(recs)-1].Token.(*kgo.Record)
	if !ok {
		return errors.New("kafka: Ack given a record this source did not deliver")
	}
	if !s.lanes.holds(kr.Topic, kr.Partition) {
		s.logger.Debug("kafka: ack for a partition no longer owned, ignored", "topic", kr.Topic, "partition", kr.Partition)
		return nil
	}
	s.cl.MarkCommitRecords(kr)
	return nil
}

// Abandon only logs: abandoned records are not marked, so they are not
// committed and the partition's next owner reads them again.
func (s *Source) Abandon(recs []*connectors.Record) {
	if len(recs) > 0 {
		s.logger.Info("kafka: unfinished records are not committed; the group reads them again from the last commit", "records", len(recs))
	}
}

// Close leaves the group and closes the client. Run must have returned.
func (s *Source) Close() error {
	s.cl.CloseAllowingRebalance()
	return nil
}

// Lag is the high watermark minus the committed offset for every
// partition this member owns (so instances of one group report disjoint
// sets). A partition without a commit counts from its log start.
func (s *Source) Lag(ctx context.Context) ([]connectors.PartitionLag, error) {
	return groupLag(ctx, s.adm, s.cfg.Group, s.lanes.ownedSet())
}

func groupLag(ctx context.Context, adm *kadm.Client, group string, owned map[topicPartition]struct{}) ([]connectors.PartitionLag, error) {
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("kafka: lag of group %s: %w", group, err)
	}
	gl, ok := lags[group]
	if !ok {
		return nil, nil
	}
	if err := gl.Error(); err != nil {
		return nil, fmt.Errorf("kafka: lag of group %s: %w", group, err)
	}
	var out []connectors.PartitionLag
	for _, m := range gl.Lag.Sorted() {
		if _, mine := owned[topicPartition{m.Topic, m.Partition}]; !mine || m.Err != nil || m.Lag < 0 {
			continue
		}
		out = append(out, connectors.PartitionLag{Topic: m.Topic, Partition: m.Partition, Lag: m.Lag})
	}
	return out, nil
}

func (s *Source) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	s.lanes.assign(assigned)
}

// onRevoked runs between polls (BlockRebalanceOnPoll): the partitions'
// lanes are stopped, then what they acknowledged is committed, then kgo
// hands the partitions over.
func (s *Source) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	s.lanes.release(revoked)
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		s.logger.Warn("kafka: committing offsets on revoke failed; the next owner re-reads from the last commit", "err", err)
	}
}

// onLost stops the lanes without committing: the group has moved on, a
// commit would be refused, and the new owner re-reads from the last commit.
func (s *Source) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	if len(lost) > 0 {
		s.logger.Warn("kafka: partitions lost (session expired or fenced); uncommitted records will be re-read", "partitions", len(lost))
	}
	s.lanes.release(lost)
}
