package kafka

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// ClusterConfig says how to reach one Kafka cluster. Sources and sinks of
// the same cluster each build their own client from it.
type ClusterConfig struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// TLS enables TLS when non-nil (an empty TLSConfig means TLS with the
	// system roots).
	TLS *TLSConfig
	// SASL enables SASL authentication when non-nil.
	SASL *SASLConfig
	// ClientID is the Kafka client id; "maskstream" when empty.
	ClientID string
	// MetadataMinAge is how soon after a refresh the client may refresh
	// metadata again when a request fails (a leader moved, a broker went
	// away); kgo's 5s when zero. Lower recovers faster and asks the
	// brokers for metadata more often.
	MetadataMinAge time.Duration
	// MetadataMaxAge is how often the client refreshes metadata when
	// nothing failed: how soon a topic_regex source sees a new topic, and
	// any client sees partitions added to a topic. DefaultMetadataMaxAge
	// when zero (kgo's own default, like Kafka's, is 5 minutes). It cannot
	// be below MetadataMinAge.
	MetadataMaxAge time.Duration
}

// DefaultMetadataMaxAge is ClusterConfig.MetadataMaxAge when zero. A
// metadata request every 30s per client costs the brokers little, and a
// topic or partition added while a route runs is read within a minute.
const DefaultMetadataMaxAge = 30 * time.Second

// kgo's bounds on metadata ages: its default min age, the smallest min
// age and the largest max age it accepts.
const (
	kgoDefaultMetadataMinAge = 5 * time.Second
	kgoMinMetadataMinAge     = 10 * time.Millisecond
	kgoMaxMetadataMaxAge     = time.Hour
)

// TLSConfig is the client side of TLS to the brokers.
type TLSConfig = netx.TLSConfig

// SASLConfig is SASL authentication to the brokers.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string
	User      string
	Password  string
}

// SASL mechanism names accepted in SASLConfig.Mechanism.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Validate reports every mistake in c at once.
func (c ClusterConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka: no brokers: give at least one host:port"))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, errors.New("kafka: empty broker address: give host:port"))
		}
	}
	if c.SASL != nil {
		switch strings.ToUpper(c.SASL.Mechanism) {
		case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		default:
			errs = append(errs, fmt.Errorf("kafka: unknown SASL mechanism %q: use %s, %s or %s",
				c.SASL.Mechanism, MechanismPlain, MechanismScramSHA256, MechanismScramSHA512))
		}
		if c.SASL.User == "" {
			errs = append(errs, errors.New("kafka: SASL needs a user"))
		}
	}
	if c.TLS != nil && (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("kafka: TLS cert_file and key_file go together: give both or neither"))
	}
	if c.MetadataMinAge < 0 || c.MetadataMaxAge < 0 {
		errs = append(errs, errors.New("kafka: metadata_min_age and metadata_max_age cannot be negative"))
	}
	if c.MetadataMinAge > 0 && c.MetadataMinAge < kgoMinMetadataMinAge {
		errs = append(errs, fmt.Errorf("kafka: metadata_min_age %s is below the client's minimum of %s", c.MetadataMinAge, kgoMinMetadataMinAge))
	}
	if c.MetadataMaxAge > kgoMaxMetadataMaxAge {
		errs = append(errs, fmt.Errorf("kafka: metadata_max_age %s is above the client's maximum of %s", c.MetadataMaxAge, kgoMaxMetadataMaxAge))
	}
	if c.MetadataMinAge > 0 && c.MetadataMaxAge > 0 && c.MetadataMinAge > c.MetadataMaxAge {
		errs = append(errs, fmt.Errorf("kafka: metadata_min_age %s is above metadata_max_age %s: lower it or raise metadata_max_age", c.MetadataMinAge, c.MetadataMaxAge))
	}
	return errors.Join(errs...)
}

// clientOpts turns c into the kgo options every client of this cluster
// shares. It reads the TLS files, so a missing file fails here, at
// construction, rather than at the first connection.
func (c ClusterConfig) clientOpts(logger *slog.Logger) ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	id := c.ClientID
	if id == "" {
		id = "maskstream"
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(id),
		kgo.WithLogger(newKgoLogger(logger)),
	}
	minAge, maxAge := c.metadataAges()
	opts = append(opts, kgo.MetadataMinAge(minAge), kgo.MetadataMaxAge(maxAge))
	if c.TLS != nil {
		tc, err := c.TLS.Build()
		if err != nil {
			return nil, fmt.Errorf("kafka: %w", err)
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASL != nil {
		switch strings.ToUpper(c.SASL.Mechanism) {
		case MechanismPlain:
			opts = append(opts, kgo.SASL(plain.Auth{User: c.SASL.User, Pass: c.SASL.Password}.AsMechanism()))
		case MechanismScramSHA256:
			opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.User, Pass: c.SASL.Password}.AsSha256Mechanism()))
		case MechanismScramSHA512:
			opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.User, Pass: c.SASL.Password}.AsSha512Mechanism()))
		}
	}
	return opts, nil
}

// metadataAges are the ages given to kgo, which refuses a max age below
// the min age: one that is set wins over the other's default.
func (c ClusterConfig) metadataAges() (minAge, maxAge time.Duration) {
	minAge = cmp.Or(c.MetadataMinAge, kgoDefaultMetadataMinAge)
	maxAge = cmp.Or(c.MetadataMaxAge, DefaultMetadataMaxAge)
	if c.MetadataMinAge == 0 {
		minAge = min(minAge, maxAge)
	}
	return minAge, max(maxAge, minAge)
}

// kgoLogger sends kgo's logs to slog. kgo's info level is chatty (every
// metadata refresh, every join), so it is mapped to debug; warnings and
// errors keep their level.
type kgoLogger struct{ l *slog.Logger }

func newKgoLogger(l *slog.Logger) kgo.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return kgoLogger{l.With("component", "kgo")}
}

func (k kgoLogger) Level() kgo.LogLevel {
	switch {
	case k.l.Enabled(context.Background(), slog.LevelDebug):
		return kgo.LogLevelInfo
	case k.l.Enabled(context.Background(), slog.LevelWarn):
		return kgo.LogLevelWarn
	default:
		return kgo.LogLevelError
	}
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var sl slog.Level
	switch level {
	case kgo.LogLevelError:
		sl = slog.LevelError
	case kgo.LogLevelWarn:
		sl = slog.LevelWarn
	default:
		sl = slog.LevelDebug
	}
	k.l.Log(context.Background(), sl, msg, keyvals...)
}
