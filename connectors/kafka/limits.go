package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoDefaultBatchMaxBytes is kgo's own cap on a record batch (Kafka's
// max.message.bytes default), used when SinkConfig.BatchMaxBytes is zero.
const kgoDefaultBatchMaxBytes = 1000012

// kgoMinBatchMaxBytes is the smallest batch cap kgo accepts.
const kgoMinBatchMaxBytes = 512

const (
	// limitLookupTimeout bounds the one DescribeConfigs call per topic.
	limitLookupTimeout = 10 * time.Second
	// limitRetryAfter is how long an unreadable limit stays unknown before
	// a later Write asks again (the topic may have been created since),
	// and how often a missing topic is warned about.
	limitRetryAfter = 30 * time.Second
)

// topicLimits learns each destination topic's max.message.bytes before the
// first record goes to it, so kgo never builds a batch the broker refuses
// as a whole for one big record: with the topic's limit as kgo's per-topic
// batch cap, a record that cannot fit alone fails on its own in the client
// (kerr.MessageTooLarge) and its neighbours go in other batches.
//
// kgo reads the cap once, when it first sees a partition of the topic; the
// sink asks the broker in Write, before that record reaches kgo, so the
// answer is there in time. A limit lowered on the broker later is not
// picked up until the sink is rebuilt; the broker then refuses whole
// batches and the sink's solo retries (solo.go) sort the records out, or,
// for a transactional sink, the TxnSource's serial replay (txn.go).
//
// The lookup first asks for the topic's metadata as the producer does,
// letting the cluster create it. A topic the cluster neither has nor
// creates holds its records back (kgo retries until it exists), so it is
// watched: a warning naming it every retryAfter until it appears.
type topicLimits struct {
	def        int32 // the producer's own cap: SinkConfig.BatchMaxBytes or kgo's
	logger     *slog.Logger
	retryAfter time.Duration // limitRetryAfter; shorter in tests

	cl       *kgo.Client  // set once the client exists, before any Write
	adm      *kadm.Client // on cl
	known    sync.Map     // topic -> int32, the cap kgo uses; settled answers only
	given    sync.Map     // topic -> *atomic.Int32, the largest cap batchMax returned
	asking   sync.Map     // topic -> *limitLookup, the latest unsettled lookup
	watching sync.Map     // topic -> struct{}: missing, watched until it exists
	mu       sync.Mutex   // serializes starting lookups
	wg       sync.WaitGroup
	quit     chan struct{} // closed by close: watchers end
	quitOnce sync.Once
}

type limitLookup struct {
	done    chan struct{} // closed when the lookup ended
	retryAt time.Time     // after a failure, when to ask again; set before done closes
}

func newTopicLimits(def int32, logger *slog.Logger) *topicLimits {
	if def <= 0 {
		def = kgoDefaultBatchMaxBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &topicLimits{def: def, logger: logger, retryAfter: limitRetryAfter, quit: make(chan struct{})}
}

// batchMax is kgo's ProducerBatchMaxBytesFn: the cap for topic's batches.
// It never blocks (kgo calls it while updating metadata).
func (l *topicLimits) batchMax(topic string) int32 {
	limit := l.def
	if v, ok := l.known.Load(topic); ok {
		limit = v.(int32)
	}
	// kgo asks once per partition and keeps the answer, which may predate
	// the topic's known limit (a topic created while its records waited).
	v, ok := l.given.Load(topic)
	if !ok {
		v, _ = l.given.LoadOrStore(topic, new(atomic.Int32))
	}
	for given := v.(*atomic.Int32); ; {
		old := given.Load()
		if old >= limit || given.CompareAndSwap(old, limit) {
			break
		}
	}
	return limit
}

// givenMax is the largest cap batchMax gave kgo for topic, or the
// producer's own cap when kgo has not asked: a record larger than it
// cannot have shared a batch with another.
func (l *topicLimits) givenMax(topic string) int32 {
	if v, ok := l.given.Load(topic); ok {
		if given := v.(*atomic.Int32).Load(); given > 0 {
			return given
		}
	}
	return l.def
}

// missing lists the destination topics being watched because they do not
// exist, sorted.
func (l *topicLimits) missing() []string {
	var out []string
	l.watching.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	slices.Sort(out)
	return out
}

// learn makes sure topic's limit has been asked for, asking the broker at
// most once per topic (or once per limitRetryAfter while it cannot be
// read). It returns ctx's error only when ctx ended while waiting; a
// broker that does not answer leaves the producer's own cap in force.
func (l *topicLimits) learn(ctx context.Context, topic string) error {
	if _, ok := l.known.Load(topic); ok {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	lk := l.lookup(topic)
	if lk == nil {
		return nil
	}
	select {
	case <-lk.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lookup returns the lookup to wait for, starting one if none is running
// and the last failure is old enough; nil when there is nothing to wait for.
func (l *topicLimits) lookup(topic string) *limitLookup {
	if lk, due := l.pending(topic); !due {
		return lk
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.known.Load(topic); ok {
		return nil
	}
	if lk, due := l.pending(topic); !due {
		return lk
	}
	lk := &limitLookup{done: make(chan struct{})}
	l.asking.Store(topic, lk)
	// The lookup is not the caller's: a cancelled Write must not leave the
	// other writers of this topic without an answer.
	l.wg.Go(func() { l.ask(topic, lk) })
	return lk
}

// pending returns the running lookup of topic, or whether a new one is due
// (none ran yet, or the last one failed long enough ago).
func (l *topicLimits) pending(topic string) (running *limitLookup, due bool) {
	v, ok := l.asking.Load(topic)
	if !ok {
		return nil, true
	}
	lk := v.(*limitLookup)
	select {
	case <-lk.done:
		return nil, !time.Now().Before(lk.retryAt)
	default:
		return lk, false
	}
}

func (l *topicLimits) ask(topic string, lk *limitLookup) {
	ctx, cancel := context.WithTimeout(context.Background(), limitLookupTimeout)
	defer cancel()
	defer close(lk.done)
	missing, err := missingTopics(ctx, l.cl, []string{topic}, true)
	if err == nil && len(missing) > 0 {
		// Its records wait in kgo until it exists; watch says why.
		lk.retryAt = time.Now().Add(l.retryAfter)
		l.watch(topic)
		return
	}
	if err == nil {
		err = l.settle(ctx, topic)
	}
	if err != nil {
		lk.retryAt = time.Now().Add(l.retryAfter)
		l.logger.Warn("kafka: cannot read the destination topic's max.message.bytes; batches stay capped at the producer's batch_max_bytes, and a batch the broker refuses as too large is produced again record by record (with exactly_once, in a new transaction), so only a record too large on its own is dead-lettered",
			"topic", topic, "batch_max_bytes", l.def, "err", err)
		return
	}
	l.asking.Delete(topic)
}

// settle reads topic's limit and keeps it.
func (l *topicLimits) settle(ctx context.Context, topic string) error {
	limit, err := l.describe(ctx, topic)
	if err != nil {
		return err
	}
	l.known.Store(topic, l.capFor(limit))
	return nil
}

// watch warns about a missing destination topic now and every retryAfter
// until it exists (when its limit is read) or the sink closes: its records
// wait in the producer meanwhile, and after the first few the lane stops
// writing, so no later Write would say why.
func (l *topicLimits) watch(topic string) {
	if _, dup := l.watching.LoadOrStore(topic, struct{}{}); dup {
		return
	}
	l.wg.Go(func() {
		defer l.watching.Delete(topic)
		for {
			l.logger.Warn("kafka: destination topic does not exist and the cluster does not create topics on demand; its records wait, retried, until it exists: create the topic, or set auto.create.topics.enable=true on the brokers",
				"topic", topic)
			select {
			case <-time.After(l.retryAfter):
			case <-l.quit:
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), limitLookupTimeout)
			missing, err := missingTopics(ctx, l.cl, []string{topic}, true)
			if err == nil && len(missing) == 0 {
				l.logger.Info("kafka: destination topic exists now", "topic", topic)
				if err := l.settle(ctx, topic); err != nil {
					l.logger.Debug("kafka: reading the new topic's max.message.bytes failed; a later write asks again", "topic", topic, "err", err)
				}
				cancel()
				return
			}
			cancel()
		}
	})
}

// close ends the watchers and returns once no lookup is running; the
// client must be closed (or closing) so running lookups end at once.
func (l *topicLimits) close() {
	l.quitOnce.Do(func() { close(l.quit) })
	l.wg.Wait()
}

// capFor is the batch cap for a topic whose max.message.bytes is limit.
func (l *topicLimits) capFor(limit int32) int32 {
	return max(min(l.def, limit), kgoMinBatchMaxBytes)
}

func (l *topicLimits) describe(ctx context.Context, topic string) (int32, error) {
	rcs, err := l.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return 0, err
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return 0, err
	}
	if rc.Err != nil {
		return 0, rc.Err
	}
	for _, c := range rc.Configs {
		if c.Key != "max.message.bytes" || c.Value == nil {
			continue
		}
		n, err := strconv.ParseInt(*c.Value, 10, 32)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("kafka: topic %s has max.message.bytes %q, not a positive number", topic, *c.Value)
		}
		return int32(n), nil
	}
	return 0, errors.New("kafka: the broker did not report max.message.bytes")
}
