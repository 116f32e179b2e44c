package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EnsureTopics creates the topics that do not exist yet with the given
// partition count and the broker's default replication. Existing topics
// are left as they are (their partition count is not changed). It is a
// helper for the demo and tests; production topics are an operator's
// decision.
func EnsureTopics(ctx context.Context, cluster ClusterConfig, topics []string, partitions int32) error {
	if partitions <= 0 {
		return errors.New("kafka: EnsureTopics needs partitions > 0")
	}
	opts, err := cluster.clientOpts(nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: building admin client: %w", err)
	}
	defer cl.Close()
	resps, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("kafka: creating topics: %w", err)
	}
	var errs []error
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("kafka: creating topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}

// topicSettleWait is the pause between metadata requests while a topic the
// cluster is creating has no leader yet.
const topicSettleWait = 250 * time.Millisecond

// missingTopics returns those of topics the cluster does not have. With
// create, the request lets the cluster create them on demand (Kafka's
// auto.create.topics.enable, on by default), as a producer's own metadata
// request does; only the topics it still lacks are returned then. A topic
// being created (no leader yet) is asked about again until it settles or
// ctx ends, so it is not taken for missing.
func missingTopics(ctx context.Context, cl *kgo.Client, topics []string, create bool) ([]string, error) {
	for {
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = create
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		var missing []string
		settling := false
		for _, t := range resp.Topics {
			err := kerr.ErrorForCode(t.ErrorCode)
			switch {
			case t.Topic == nil || err == nil:
			case errors.Is(err, kerr.UnknownTopicOrPartition):
				missing = append(missing, *t.Topic)
			case kerr.IsRetriable(err):
				settling = true
			}
		}
		if !settling {
			return missing, nil
		}
		select {
		case <-time.After(topicSettleWait):
		case <-ctx.Done():
			return missing, nil
		}
	}
}

// warnMissingSourceTopics logs, once per topic at start, the listed
// source topics that do not exist: the group then simply has nothing to
// read from them, which looks like an idle route. create is whether the
// client lets the cluster create topics it asks about (it then would
// have), so the warning is only for topics that stay missing.
func warnMissingSourceTopics(ctx context.Context, cl *kgo.Client, topics []string, create bool, logger *slog.Logger) {
	if len(topics) == 0 {
		return
	}
	mctx, cancel := context.WithTimeout(ctx, limitLookupTimeout)
	defer cancel()
	missing, err := missingTopics(mctx, cl, topics, create)
	if err != nil {
		logger.Debug("kafka: could not check that the source topics exist", "err", err)
		return
	}
	for _, t := range missing {
		logger.Warn("kafka: source topic does not exist; the route reads nothing from it until it is created, and starts at the next metadata refresh after that: create it, or fix its name in topics",
			"topic", t)
	}
}

// warnRegexMatchesNothing logs, once at start, that topic_regex matches no
// topic on the cluster (after exclude_topics): a mistyped pattern (case,
// a missing escape, anchors) otherwise looks like an idle route. Topics
// created later are still found at the next metadata refresh.
func warnRegexMatchesNothing(ctx context.Context, cl *kgo.Client, cfg SourceConfig, logger *slog.Logger) {
	if cfg.TopicRegex == "" {
		return
	}
	re, err := regexp.Compile(cfg.TopicRegex)
	if err != nil {
		return // Validate refused it already
	}
	excl := make([]*regexp.Regexp, 0, len(cfg.ExcludeTopics))
	for _, x := range cfg.ExcludeTopics {
		if xr, err := regexp.Compile(x); err == nil {
			excl = append(excl, xr)
		}
	}
	mctx, cancel := context.WithTimeout(ctx, limitLookupTimeout)
	defer cancel()
	topics, err := kadm.NewClient(cl).ListTopics(mctx)
	if err != nil {
		logger.Debug("kafka: could not list topics to check topic_regex", "err", err)
		return
	}
	for _, t := range topics.Names() {
		if re.MatchString(t) && !slices.ContainsFunc(excl, func(x *regexp.Regexp) bool { return x.MatchString(t) }) {
			return
		}
	}
	logger.Warn("kafka: topic_regex matches no topic on the cluster; the route reads nothing until a matching topic is created (it is found at the next metadata refresh): check the pattern (Go regexp, case-sensitive, unanchored unless it uses ^ and $)",
		"topic_regex", cfg.TopicRegex, "topics_on_cluster", len(topics))
}

// askPartitionCounts asks the cluster how many partitions each topic has;
// topics it does not know, or could not answer for, are left out.
func askPartitionCounts(ctx context.Context, adm *kadm.Client, topics []string) (map[string]int, error) {
	mctx, cancel := context.WithTimeout(ctx, limitLookupTimeout)
	defer cancel()
	details, err := adm.ListTopics(mctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka: listing topics: %w", err)
	}
	out := make(map[string]int, len(details))
	for name, d := range details {
		if d.Err == nil && len(d.Partitions) > 0 {
			out[name] = len(d.Partitions)
		}
	}
	return out, nil
}

// PartitionCounts implements connectors.PartitionCounter.
func (s *Source) PartitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	return askPartitionCounts(ctx, s.adm, topics)
}

// ListedTopics implements connectors.TopicLister: the topics list, or nil
// under topic_regex.
func (s *Source) ListedTopics() []string { return slices.Clone(s.cfg.Topics) }

// PartitionCounts implements connectors.PartitionCounter.
func (s *TxnSource) PartitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	return askPartitionCounts(ctx, s.adm, topics)
}

// ListedTopics implements connectors.TopicLister.
func (s *TxnSource) ListedTopics() []string { return slices.Clone(s.cfg.Topics) }

// PartitionCounts implements connectors.PartitionCounter.
func (s *Sink) PartitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	return askPartitionCounts(ctx, kadm.NewClient(s.cl), topics)
}
