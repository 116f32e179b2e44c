package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// ErrNotInTransaction is what a transactional Sink's Write returns for a
// record written while no transaction is open: the processor wrote a record
// the transactional source did not deliver (or after Run ended).
var ErrNotInTransaction = errors.New("kafka: write outside a transaction: a transactional sink only takes records of its own source's current batch")

// permanentProduceErrs are answers that retrying the same record will
// never fix. kgo retries every retriable broker error by itself. kgo's own
// client-side verdicts are: a record larger than the batch cap fails at
// once with kerr.MessageTooLarge (there is no separate kgo sentinel), and
// ErrRecordTimeout / ErrRecordRetries when a configured delivery timeout or
// retry limit ran out: all permanent. ErrMaxBuffered comes only from
// TryProduce or manual flushing, which the sink does not use (Produce
// blocks instead); ErrAborting and ErrClientClosed mean the transaction or
// the client is going away, not that the record is bad: the route stops.
var permanentProduceErrs = []error{
	kerr.MessageTooLarge,
	kerr.RecordListTooLarge,
	kerr.InvalidRecord,
	kerr.CorruptMessage,
	kerr.InvalidTopicException,
	kerr.TopicAuthorizationFailed,
	kerr.ClusterAuthorizationFailed,
	kerr.TransactionalIDAuthorizationFailed,
	kerr.InvalidRequiredAcks,
	kerr.PolicyViolation,
	kerr.UnsupportedForMessageFormat,
	kerr.UnsupportedCompressionType,
	kerr.InvalidTimestamp,
	kgo.ErrRecordTimeout,
	kgo.ErrRecordRetries,
}

// classifyProduceErr wraps an error that retrying cannot fix with
// connectors.ErrPermanent; other errors (a closed client, a fenced
// producer) are returned as they are and are fatal for the route.
func classifyProduceErr(topic string, partition int32, err error) error {
	if err == nil {
		return nil
	}
	for _, p := range permanentProduceErrs {
		if errors.Is(err, p) {
			return fmt.Errorf("kafka: producing to %s[%d]: %w: %w", topic, partition, connectors.ErrPermanent, err)
		}
	}
	if errors.Is(err, errPartitionOutOfRange) {
		return fmt.Errorf("kafka: producing to %s: %w: %w", topic, connectors.ErrPermanent, err)
	}
	return fmt.Errorf("kafka: producing to %s[%d]: %w", topic, partition, err)
}

// fatalConsumeErrs are fetch errors no retry fixes: credentials or ACLs
// must change first.
var fatalConsumeErrs = []error{
	kerr.TopicAuthorizationFailed,
	kerr.GroupAuthorizationFailed,
	kerr.ClusterAuthorizationFailed,
	kerr.SaslAuthenticationFailed,
	kerr.IllegalSaslState,
	kerr.UnsupportedSaslMechanism,
	kerr.InvalidGroupID,
	kerr.GroupMaxSizeReached,
	kgo.ErrClientClosed,
}

func isFatalConsumeErr(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, f := range fatalConsumeErrs {
		if errors.Is(err, f) {
			return true
		}
	}
	return false
}
