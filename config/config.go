// Package config reads the daemon's YAML config (DESIGN §6): where rulesets
// live, the brokers, the routes between them and the HTTP server.
//
// Decoding is strict: an unknown key, a value of the wrong type and every
// semantic mistake (a route naming a cluster that is not defined, a topic
// template with an unknown placeholder, exactly_once across clusters) is
// reported with its line:col, all of them at once, and Load returns no
// Config. Secrets are never written in the file: passwords and tokens are
// named by environment variable or file and read when they are used.
package config

import "time"

// Defaults applied by Load where the file leaves a value out.
const (
	DefaultRulesetsDir    = "rulesets"
	DefaultDataDir        = "data"
	DefaultMaxRecordBytes = 1 << 20 // engine.DefaultMaxBytes
	DefaultMaxDepth       = 128     // engine.DefaultMaxDepth
	DefaultMaxDeliveries  = 5
	DefaultDrainTimeout   = 30 * time.Second
	// DefaultAckWait is a JetStream consumer's ack wait
	// (connectors/nats.DefaultAckWait).
	DefaultAckWait        = 30 * time.Second
	DefaultLaneQueue      = 1024
	DefaultLaneMaxBytes   = 64 << 20 // or twice limits.max_record_bytes, if more
	DefaultKafkaStart     = StartEarliest
	DefaultKafkaTopicTmpl = "{topic}.masked"
	DefaultNATSSubjTmpl   = "masked.{subject}"
	// DefaultKafkaCompression is connectors/kafka's default codec, named
	// here so a loaded Config says what its Kafka sinks will use.
	DefaultKafkaCompression = "snappy"
	DefaultHTTPListen       = ":8080"
	DefaultTokenRPS         = 100
	DefaultTokenBurst       = 200
	// DefaultGroupPrefix and DefaultDurablePrefix name a route's consumer
	// group / durable consumer when the file gives none: one per route,
	// so two routes reading the same topic never split its records.
	DefaultGroupPrefix   = "maskstream."
	DefaultDurablePrefix = "maskstream-"
	// DefaultDeadLetterPrefix names a route's default dead-letter topic
	// or subject: "maskstream.dlq.<route>", on the source's cluster.
	DefaultDeadLetterPrefix = "maskstream.dlq."
)

// Start positions for a Kafka consumer group that has no committed offset.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// Config is the whole daemon config. Paths are absolute after Load
// (relative ones are taken from the config file's folder).
type Config struct {
	// File is the path Load read, for messages.
	File string

	RulesetsDir   string
	DataDir       string
	RunSecretFile string
	Limits        Limits
	// DrainTimeout bounds the graceful shutdown: how long lanes and sinks
	// may take to finish what they hold before the rest is abandoned.
	DrainTimeout time.Duration

	Kafka  map[string]*KafkaCluster
	NATS   map[string]*NATSServer
	Routes []*Route
	// HTTP is nil when the file has no http section: no HTTP server.
	HTTP *HTTP

	// Warnings are accepted but risky settings (an HTTP server with
	// insecure_no_auth): the daemon logs them at start.
	Warnings []string
}

// Limits bound what one record may be.
type Limits struct {
	MaxRecordBytes int
	MaxDepth       int
	// MaxDeliveries sends a record to the dead letters once the broker
	// has delivered it more than this many times (a record that keeps
	// crashing or timing out the processor).
	MaxDeliveries int
}

// TLS configures a client or server TLS connection. An empty tls: {}
// section enables TLS with the system roots.
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
	Pos                Pos
}

// SASL configures Kafka authentication. The password is read from
// PasswordEnv or PasswordFile when the route starts.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism    string
	User         string
	PasswordEnv  string
	PasswordFile string
	Pos          Pos
}

// KafkaCluster is one named Kafka cluster.
type KafkaCluster struct {
	Name     string
	Brokers  []string
	ClientID string
	TLS      *TLS
	SASL     *SASL
	Pos      Pos
}

// NATSServer is one named NATS server (or cluster URL list).
type NATSServer struct {
	Name string
	// URL may list several servers separated by commas.
	URL       string
	CredsFile string
	NkeyFile  string
	TLS       *TLS
	User      string
	// PasswordEnv / PasswordFile give User's password.
	PasswordEnv  string
	PasswordFile string
	TokenEnv     string
	TokenFile    string
	Pos          Pos
}

// Route reads one source, masks with one ruleset and writes one sink.
type Route struct {
	Name       string
	From       Source
	To         Sink
	Ruleset    string
	DeadLetter Sink
	// ExactlyOnce uses Kafka transactions (Kafka→Kafka on one cluster).
	ExactlyOnce bool
	Lanes       Lanes
	Pos         Pos
}

// Source is a route's input: Kafka topics (Kafka set), a JetStream
// consumer (NATS and Stream set) or a core NATS subscription (NATS set,
// no Stream).
type Source struct {
	Kafka      string
	Topics     []string
	TopicRegex string
	Group      string
	// Start is where a group with no committed offset begins.
	Start string

	NATS    string
	Stream  string
	Durable string
	Subject string
	Queue   string
	// AckWait is a JetStream consumer's ack wait: how soon the messages
	// of an instance that died go to another. Load sets DefaultAckWait
	// for a JetStream source that leaves it out.
	AckWait time.Duration

	Pos Pos
}

// IsKafka reports whether the source is a Kafka topic set.
func (s *Source) IsKafka() bool { return s.Kafka != "" }

// IsJetStream reports whether the source is a JetStream consumer.
func (s *Source) IsJetStream() bool { return s.NATS != "" && s.Stream != "" }

// Cluster returns the Kafka cluster or NATS server name.
func (s *Source) Cluster() string {
	if s.Kafka != "" {
		return s.Kafka
	}
	return s.NATS
}

// Sink is a route's output or dead-letter destination.
type Sink struct {
	Kafka string
	// Topic is a template: {topic} is the source topic or subject,
	// {partition} the source partition.
	Topic         string
	KeepPartition bool
	// Compression is the Kafka producer's batch codec: none, gzip,
	// snappy, lz4 or zstd. Load sets DefaultKafkaCompression when the
	// file leaves it out.
	Compression string
	// Linger is how long a Kafka partition's batch waits for more records
	// before it is sent; 0 sends as soon as possible (still batching
	// under load).
	Linger time.Duration

	NATS string
	// Subject is a template: {subject} (or {topic}) is the source topic
	// or subject, {partition} the source partition.
	Subject string
	// JetStream publishes with JetStream acks (the subject must belong
	// to a stream); false publishes on core NATS, flushed.
	JetStream bool

	Pos Pos
	// defaulted is set when Load filled the sink in (dead_letter left
	// out), so errors about it are reported once, on the source.
	defaulted bool
	// compressionSet and lingerSet record that the file gave the key:
	// NATS sinks refuse them, and a dead letter that shares to's producer
	// may not ask for other values than to's.
	compressionSet, lingerSet bool
}

// IsKafka reports whether the sink is Kafka.
func (s *Sink) IsKafka() bool { return s.Kafka != "" }

// Cluster returns the Kafka cluster or NATS server name.
func (s *Sink) Cluster() string {
	if s.Kafka != "" {
		return s.Kafka
	}
	return s.NATS
}

// Template returns the sink's destination template (topic or subject).
func (s *Sink) Template() string {
	if s.Kafka != "" {
		return s.Topic
	}
	return s.Subject
}

// Lanes tunes a route's lanes.
type Lanes struct {
	// Queue is how many records a lane holds before the source waits.
	Queue int
	// Workers masks one lane's records in parallel (kept in order) when
	// > 1; 0 picks one per CPU, shared by the lanes.
	Workers int
	// MaxBytes is how many bytes the route's lanes hold together (each
	// record as read plus its masked value) before the source waits. Load
	// sets DefaultLaneMaxBytes, or twice Limits.MaxRecordBytes when that
	// is more.
	MaxBytes int
}

// HTTP is the built-in HTTP server.
type HTTP struct {
	Listen             string
	TLS                *ServerTLS
	Tokens             []*Token
	RateLimit          RateLimit
	AllowRequestSecret bool
	ProtectRead        bool
	// InsecureNoAuth lets every endpoint be called without a token: for
	// a loopback demo only (Load warns).
	InsecureNoAuth bool
	// MaxInflightBytes (max_inflight_bytes) caps the mask-request body
	// bytes the server holds at once, over every token; beyond it a
	// request waits briefly, then gets 503 with Retry-After. Load sets
	// DefaultMaxInflightBytes when the file leaves it out.
	MaxInflightBytes int
	// MaxRecords (max_records) is the most records one mask request may
	// carry; beyond it the request is answered 413. Load sets
	// DefaultMaxRecords when the file leaves it out.
	MaxRecords int
	// PublicURL (public_url) is the http(s)://host[:port][/prefix]
	// clients reach the server at, when a proxy in front (a
	// TLS-terminating ingress) makes it differ from what the server sees;
	// it is the start of every url the API answers with. Empty: taken
	// from each request.
	PublicURL string
	Pos       Pos
}

// ServerTLS is the HTTP server's certificate.
type ServerTLS struct {
	CertFile string
	KeyFile  string
	// ClientCAFile, when set, requires client certificates signed by it.
	ClientCAFile string
	Pos          Pos
}

// Token is one API bearer token, given by its SHA-256 or read from an
// environment variable or a file when the server starts.
type Token struct {
	Name string
	// SHA256 is the hex SHA-256 of the token.
	SHA256    string
	TokenEnv  string
	TokenFile string
	Scopes    []string
	// RateLimit overrides the server's per-token rate limit when set.
	RateLimit *RateLimit
	Pos       Pos
}

// RateLimit is a token bucket: requests per second and burst.
type RateLimit struct {
	PerTokenRPS float64
	Burst       int
}

// Scopes a token may carry.
const (
	ScopeMask  = "mask"
	ScopeAdmin = "admin"
	ScopeRead  = "read"
)

// RouteByName returns the named route, or nil.
func (c *Config) RouteByName(name string) *Route {
	for _, r := range c.Routes {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Rulesets returns the ruleset names the routes use, in route order,
// each once.
func (c *Config) Rulesets() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.Routes {
		if !seen[r.Ruleset] {
			seen[r.Ruleset] = true
			out = append(out, r.Ruleset)
		}
	}
	return out
}
