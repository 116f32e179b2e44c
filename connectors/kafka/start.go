package kafka

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// latestStart is where a group with no committed offset begins under
// start: latest. Neither of kgo's resets is right alone:
//   - AtEnd loses the records of a partition found later (a new topic
//     matching topic_regex, partitions added to a topic) that were written
//     before the client's next metadata refresh noticed it;
//   - AfterMilli(start) reads those, but for a partition that existed
//     at start it is the first record stamped at or after the start: one
//     older record stamped in the future (a producer's clock ahead, an
//     event time) makes it replay everything after that record.
//
// So the reset is AfterMilli(start), and the first assignment, whose
// partitions existed when the source started, is moved to their end
// offsets, as Kafka's own "latest" does. Later assignments keep
// AfterMilli: their partitions are new, or were owned by an instance that
// died before its first commit.
type latestStart struct {
	reset  kgo.Offset
	ready  chan struct{} // closed by bind: cl and logger are set
	cl     *kgo.Client
	logger *slog.Logger
	done   atomic.Bool // the first assignment was adjusted
}

func newLatestStart(started time.Time) *latestStart {
	return &latestStart{reset: kgo.NewOffset().AfterMilli(started.UnixMilli()), ready: make(chan struct{})}
}

// opts are the kgo options that make the client start this way.
func (l *latestStart) opts() []kgo.Opt {
	return []kgo.Opt{kgo.ConsumeResetOffset(l.reset), kgo.AdjustFetchOffsetsFn(l.adjust)}
}

// bind gives l the client and logger once the client is built. The
// client may join its group before that, so adjust waits for it.
func (l *latestStart) bind(cl *kgo.Client, logger *slog.Logger) {
	l.cl, l.logger = cl, logger
	close(l.ready)
}

// adjust is kgo's AdjustFetchOffsetsFn: on the first assignment, the
// partitions without a committed offset (those given l.reset) start at
// their end. Should the end offsets be unreadable, they keep l.reset: a
// replay is a duplicate, where a guessed end could skip records.
func (l *latestStart) adjust(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	if l.done.Swap(true) {
		return offsets, nil
	}
	select {
	case <-l.ready:
	case <-ctx.Done():
		// The session is ending, so this assignment never fetches: the
		// next session's is the first.
		l.done.Store(false)
		return offsets, nil
	}
	cl := l.cl
	var topics []string
	for t, ps := range offsets {
		for _, o := range ps {
			if o == l.reset {
				topics = append(topics, t)
				break
			}
		}
	}
	if len(topics) == 0 {
		return offsets, nil
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		l.logger.Warn("kafka: cannot read the end offsets for start: latest; partitions without a committed offset start at the first record stamped after the route started", "err", err)
		return offsets, nil
	}
	for t, ps := range offsets {
		for p, o := range ps {
			if o != l.reset {
				continue
			}
			if e, ok := ends.Lookup(t, p); ok && e.Err == nil {
				ps[p] = kgo.NewOffset().At(e.Offset).WithEpoch(-1)
			}
		}
	}
	return offsets, nil
}
