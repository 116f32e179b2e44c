package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

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
	if err := fencedHint(err); err != nil {
		return fmt.Errorf("kafka: producing to %s[%d]: %w", topic, partition, err)
	}
	if errors.Is(err, errPartitionOutOfRange) {
		return fmt.Errorf("kafka: producing to %s: %w: %w", topic, connectors.ErrPermanent, err)
	}
	return fmt.Errorf("kafka: producing to %s[%d]: %w", topic, partition, err)
}

// errTxnAborted is the done error of a record the broker refused together
// with its batch in a transaction (txnGuard.hold), given once its lane is
// stopped and the transaction aborted. It is not permanent: the record was
// not judged alone, and it is read again.
var errTxnAborted = errors.New("kafka: refused with its batch; the transaction was aborted and the batch is read again")

func isFenced(err error) bool {
	return errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.ProducerFenced)
}

// fencedHint says why a transactional producer was fenced, or returns nil
// for any other error. Two live instances with one transactional id fence
// each other in turn (each restart fences the other), and the broker's
// words name neither the id nor the setting that makes it unique. A
// transaction the broker aborted at its timeout looks the same; a
// transactional sink asks txnGuard.fenceHint, which tells them apart.
func fencedHint(err error) error {
	if isFenced(err) {
		return fmt.Errorf("another instance uses this route's transactional id (a copy of this instance, or one with the same MASKSTREAM_INSTANCE_ID or host name): give each instance its own MASKSTREAM_INSTANCE_ID: %w", err)
	}
	return nil
}

// txnTimedOut explains a fence that came after the transaction had been
// open for the transaction timeout: the broker aborted it because its
// records could not be produced in time, and waiting says what they
// waited for.
func txnTimedOut(open, timeout time.Duration, waiting string, err error) error {
	return fmt.Errorf("the transaction timed out: it was open for %s, past the transaction timeout of %s, because records could not be produced (%s), so the broker aborted it: fix what they waited for (the warnings before this name it), then restart the route: %w",
		open.Round(time.Second), timeout, waiting, err)
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

// tlsRefusal returns a clear error when err is a TLS handshake that
// failed for a reason no retry fixes: the broker's certificate is not
// trusted or not for that name, or the broker refused ours. Otherwise
// nil. kgo retries such errors forever, so a route would wait silently
// for a configuration that cannot work.
func tlsRefusal(err error) error {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
		op       *net.OpError
	)
	switch {
	case errors.As(err, &hostname):
		return fmt.Errorf("kafka: the broker's TLS certificate is not valid for the name dialled: check the brokers and tls server_name: %w", err)
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &invalid):
		return fmt.Errorf("kafka: the broker's TLS certificate is not trusted: check tls ca_file (or that the broker's chain is complete): %w", err)
	case errors.As(err, &op) && op.Op == "remote error":
		// crypto/tls reports an alert the peer sent as a net.OpError
		// with this Op (its alert type is unexported).
		return fmt.Errorf("kafka: the broker refused the TLS handshake: if it requires a client certificate, set tls cert_file and key_file: %w", err)
	case errors.As(err, &header):
		return fmt.Errorf("kafka: the broker did not answer in TLS: check that tls is meant for this listener: %w", err)
	}
	return nil
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
