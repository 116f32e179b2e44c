package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Upper bounds that catch a unit mistake (bytes for kilobytes) early.
const (
	maxRecordBytesLimit = 256 << 20
	maxDepthLimit       = 10000
	maxWorkers          = 1024
	maxLaneQueue        = 1 << 20
	maxLinger           = time.Second
	// minAckWait is connectors/nats.MinAckWait; maxAckWait catches a
	// unit slip (30m for 30s): a crashed instance's messages would wait
	// that long before another instance gets them.
	minAckWait = time.Second
	maxAckWait = time.Hour
)

// kafkaCodecs are the compression codecs connectors/kafka produces with.
var kafkaCodecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

var (
	nameRE       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	rulesetRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	kafkaTopicRE = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)
)

// validate checks what decoding could not: references between sections,
// templates, and combinations that cannot work.
func (c *Config) validate(d *decoder) {
	pos := func(p Pos, format string, args ...any) {
		d.errs = append(d.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
	top := Pos{File: c.File}
	if c.Limits.MaxRecordBytes > maxRecordBytesLimit {
		pos(top, "limits.max_record_bytes is over %d (256 MiB); records that large do not belong on a stream", maxRecordBytesLimit)
	}
	if c.Limits.MaxDepth > maxDepthLimit {
		pos(top, "limits.max_depth is over %d", maxDepthLimit)
	}
	for _, p := range []struct{ key, v string }{{"rulesets_dir", c.RulesetsDir}, {"data_dir", c.DataDir}, {"run_secret_file", c.RunSecretFile}} {
		if strings.HasPrefix(p.v, "~") {
			pos(top, "%s starts with ~, which the daemon does not expand; write the full path", p.key)
		}
	}
	if len(c.Routes) == 0 && c.HTTP == nil {
		pos(top, "the config has no routes and no http section: there is nothing to run")
	}
	for _, k := range sortedKeys(c.Kafka) {
		c.Kafka[k].validate(pos)
	}
	for _, k := range sortedKeys(c.NATS) {
		c.NATS[k].validate(pos)
	}
	names := map[string]*Route{}
	for _, r := range c.Routes {
		if r.Name != "" {
			if prev, dup := names[r.Name]; dup {
				pos(r.Pos, "route name %q is used twice (first at line %d); route names must be unique", r.Name, prev.Pos.Line)
			} else {
				names[r.Name] = r
			}
		}
		c.validateRoute(r, pos)
	}
	c.validateSharedConsumers(pos)
	c.validateQueueGroups(pos)
	c.validateDeadLetters(pos)
	c.validateNoCycle(pos)
	c.validateAnyNameOutputs()
	if c.HTTP != nil {
		c.validateHTTP(pos)
	}
}

type posFunc func(p Pos, format string, args ...any)

// keySet pairs a key with whether the file set it, for "this key does not
// belong here" checks in a fixed order.
type keySet struct {
	key string
	set bool
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (t *TLS) validate(what string, pos posFunc) {
	if t == nil {
		return
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		pos(t.Pos, "%s tls: cert_file and key_file go together (a client certificate needs its key)", what)
	}
}

func (k *KafkaCluster) validate(pos posFunc) {
	what := fmt.Sprintf("kafka cluster %q", k.Name)
	if len(k.Brokers) == 0 {
		pos(k.Pos, "%s has no brokers; list them as brokers: [host:9092]", what)
	}
	for _, b := range k.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			pos(k.Pos, "%s broker %q is not host:port", what, b)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			pos(k.Pos, "%s broker %q has a port that is not a number", what, b)
		}
	}
	k.TLS.validate(what, pos)
	if s := k.SASL; s != nil {
		switch s.Mechanism {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		case "":
			pos(s.Pos, "%s sasl needs a mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", what)
		default:
			pos(s.Pos, "%s sasl mechanism %q is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", what, s.Mechanism)
		}
		if s.User == "" {
			pos(s.Pos, "%s sasl needs a user", what)
		}
		if (s.PasswordEnv == "") == (s.PasswordFile == "") {
			pos(s.Pos, "%s sasl needs exactly one of password_env (an environment variable's name) or password_file", what)
		}
		if s.Mechanism == "PLAIN" && k.TLS == nil {
			// Refused rather than warned: the fix is one line, and a
			// leaked broker password is not undone by a log line.
			pos(s.Pos, "%s uses SASL PLAIN without tls: the password would cross the network in clear text; add tls: {} (or use SCRAM)", what)
		}
	}
}

func (n *NATSServer) validate(pos posFunc) {
	what := fmt.Sprintf("nats server %q", n.Name)
	if n.URL == "" {
		pos(n.Pos, "%s needs a url, such as url: nats://nats:4222", what)
	}
	for _, u := range strings.Split(n.URL, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" {
			pos(n.Pos, "%s url %q is not a URL such as nats://host:4222", what, withoutUserinfo(u))
			continue
		}
		switch pu.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			pos(n.Pos, "%s url %q has scheme %q; use nats://, tls://, ws:// or wss://", what, withoutUserinfo(u), pu.Scheme)
		}
		if pu.User != nil {
			pos(n.Pos, "%s url carries credentials; use user with password_env/password_file, token_env/token_file, creds_file or nkey_file instead", what)
		}
	}
	n.TLS.validate(what, pos)
	methods := 0
	for _, set := range []bool{n.CredsFile != "", n.NkeyFile != "", n.User != "", n.TokenEnv != "" || n.TokenFile != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		pos(n.Pos, "%s gives more than one way to authenticate; keep one of creds_file, nkey_file, user + password, or token", what)
	}
	hasPw := n.PasswordEnv != "" || n.PasswordFile != ""
	switch {
	case n.User != "" && !hasPw:
		pos(n.Pos, "%s user needs a password: password_env or password_file", what)
	case n.User == "" && hasPw:
		pos(n.Pos, "%s has a password but no user", what)
	case n.PasswordEnv != "" && n.PasswordFile != "":
		pos(n.Pos, "%s: give password_env or password_file, not both", what)
	}
	if n.TokenEnv != "" && n.TokenFile != "" {
		pos(n.Pos, "%s: give token_env or token_file, not both", what)
	}
}

// withoutUserinfo is u for an error message: whatever stands before the
// host's @ may be a password or a token, and errors never carry secrets.
// It works on text, since a URL that does not parse must be shown too.
func withoutUserinfo(u string) string {
	start := 0
	if i := strings.Index(u, "://"); i >= 0 {
		start = i + len("://")
	}
	end := len(u)
	if i := strings.IndexAny(u[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(u[start:end], "@")
	if at < 0 {
		return u
	}
	return u[:start] + "***" + u[start+at:]
}

func (c *Config) validateRoute(r *Route, pos posFunc) {
	what := "route"
	switch {
	case r.Name == "":
		pos(r.Pos, "a route has no name; give it one (letters, digits, - and _): it labels metrics and names the default consumer group")
	case !nameRE.MatchString(r.Name):
		pos(r.Pos, "route name %q may hold only letters, digits, - and _ (it names consumer groups, durable consumers and metrics labels)", r.Name)
		what = fmt.Sprintf("route %q", r.Name)
	default:
		what = fmt.Sprintf("route %q", r.Name)
	}
	switch {
	case r.Ruleset == "":
		pos(r.Pos, "%s has no ruleset; name one of the rulesets_dir files without .yaml, such as ruleset: customer-record", what)
	case !rulesetRE.MatchString(r.Ruleset) || strings.HasSuffix(r.Ruleset, ".yaml") || strings.HasSuffix(r.Ruleset, ".yml"):
		pos(r.Pos, "%s ruleset %q must be a ruleset name: the file name in rulesets_dir without .yaml", what, r.Ruleset)
	}
	c.validateSource(r, what, pos)
	c.validateSink(r, &r.To, what+" to", pos)
	c.validateSink(r, &r.DeadLetter, what+" dead_letter", pos)
	if r.Lanes.Workers > maxWorkers {
		pos(r.Pos, "%s lanes.workers is over %d", what, maxWorkers)
	}
	if r.Lanes.Queue > maxLaneQueue {
		pos(r.Pos, "%s lanes.queue is over %d records; a long queue only holds memory, it does not add speed", what, maxLaneQueue)
	}
	c.validateLanes(r, what, pos)
	if r.DeadLetter.Cluster() != "" && r.From.Cluster() != "" && (r.DeadLetter.Cluster() != r.From.Cluster() || r.DeadLetter.IsKafka() != r.From.IsKafka()) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s sends dead letters (the original, unmasked records) to %s, not to its source %s: make sure it is protected like the source", what, r.DeadLetter.Cluster(), r.From.Cluster()))
	}
	if r.DeadLetter.NATS != "" && !r.DeadLetter.JetStream && (r.From.Kafka != "" || r.From.IsJetStream()) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s sends dead letters to core NATS subject %q, whose publishes nothing acknowledges: unless a stream captures the subject, a dead letter published while nothing subscribes to it is lost, and a full or missing stream goes unnoticed, while its source record is acknowledged all the same; set jetstream: true on dead_letter, with a stream capturing the subject", what, r.DeadLetter.Subject))
	}
	if r.ExactlyOnce {
		c.validateExactlyOnce(r, what, pos)
	}
	validateSharedProducer(r, what, pos)
	c.validateNoLoop(r, what, pos)
}

func (c *Config) validateSource(r *Route, what string, pos posFunc) {
	f := &r.From
	what += " from"
	switch {
	case f.Kafka != "" && f.NATS != "":
		pos(f.Pos, "%s names both kafka and nats; a route reads one source", what)
		return
	case f.Kafka == "" && f.NATS == "":
		pos(f.Pos, "%s needs kafka: CLUSTER (with topics or topic_regex) or nats: SERVER (with subject, and stream for JetStream)", what)
		return
	}
	if f.Kafka != "" {
		if c.Kafka[f.Kafka] == nil {
			pos(f.Pos, "%s names kafka cluster %q, which is not defined under kafka:%s", what, f.Kafka, defined(c.Kafka))
		}
		for _, k := range []keySet{{"stream", f.Stream != ""}, {"durable", f.Durable != ""}, {"subject", f.Subject != ""}, {"queue", f.Queue != ""}, {"ack_wait", f.AckWait != 0}} {
			if k.set {
				pos(f.Pos, "%s: %s is a NATS setting; a Kafka source takes topics or topic_regex, group and start", what, k.key)
			}
		}
		switch {
		case len(f.Topics) > 0 && f.TopicRegex != "":
			pos(f.Pos, "%s: give topics or topic_regex, not both", what)
		case len(f.Topics) == 0 && f.TopicRegex == "":
			pos(f.Pos, "%s needs topics: [name, ...] or topic_regex: '^prefix\\..*'", what)
		}
		for _, t := range f.Topics {
			if t == "" || !kafkaTopicRE.MatchString(t) || len(t) > 249 {
				pos(f.Pos, "%s topic %q is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", what, t)
			}
		}
		if f.TopicRegex != "" {
			if _, err := regexp.Compile(f.TopicRegex); err != nil {
				pos(f.Pos, "%s topic_regex does not compile: %v", what, err)
			}
		}
		if f.Start != StartEarliest && f.Start != StartLatest {
			pos(f.Pos, "%s start %q must be earliest or latest", what, f.Start)
		}
		return
	}
	if c.NATS[f.NATS] == nil {
		pos(f.Pos, "%s names nats server %q, which is not defined under nats:%s", what, f.NATS, defined(c.NATS))
	}
	for _, k := range []keySet{{"topics", len(f.Topics) > 0}, {"topic_regex", f.TopicRegex != ""}, {"group", f.Group != ""}} {
		if k.set {
			pos(f.Pos, "%s: %s is a Kafka setting; a NATS source takes subject, and stream/durable for JetStream or queue for core NATS", what, k.key)
		}
	}
	if f.Subject != "" && !validSubject(f.Subject, true) {
		pos(f.Pos, "%s subject %q is not a NATS subject (tokens separated by '.', * and > as wildcards)", what, f.Subject)
	}
	if f.IsJetStream() {
		if f.Queue != "" {
			pos(f.Pos, "%s: queue is for core NATS; a JetStream durable consumer already shares its messages among the instances that bind to it", what)
		}
		if strings.ContainsAny(f.Stream, ". *>") || strings.ContainsAny(f.Durable, ". *>") {
			pos(f.Pos, "%s: stream and durable names may not hold '.', ' ', '*' or '>'", what)
		}
		if f.Start != StartEarliest && f.Start != StartLatest {
			pos(f.Pos, "%s start %q must be earliest or latest", what, f.Start)
		}
		switch {
		case f.AckWait < minAckWait:
			pos(f.Pos, "%s ack_wait %v is under %v: use %v or more (maskstream keeps the messages it holds alive, so a shorter one gains nothing)", what, f.AckWait, minAckWait, minAckWait)
		case f.AckWait > maxAckWait:
			pos(f.Pos, "%s ack_wait %v is over %v: the messages of an instance that dies would wait that long before another gets them; 30s to a few minutes is usual", what, f.AckWait, maxAckWait)
		}
		return
	}
	if f.Durable != "" {
		pos(f.Pos, "%s: durable needs stream (a JetStream consumer); core NATS subscriptions have no durable state", what)
	}
	if f.Start != "" {
		pos(f.Pos, "%s: start needs stream; a core NATS subscription only sees what is published while it runs", what)
	}
	if f.AckWait != 0 {
		pos(f.Pos, "%s: ack_wait needs stream; core NATS has no acknowledgements", what)
	}
	if f.Subject == "" {
		pos(f.Pos, "%s needs a subject to subscribe to, such as subject: \"events.>\"", what)
	}
	if f.Queue != "" && !validSubject(f.Queue, false) {
		pos(f.Pos, "%s queue %q is not a valid queue group name", what, f.Queue)
	}
}

func (c *Config) validateSink(r *Route, s *Sink, what string, pos posFunc) {
	switch {
	case s.Kafka != "" && s.NATS != "":
		pos(s.Pos, "%s names both kafka and nats; give one", what)
		return
	case s.Kafka == "" && s.NATS == "":
		if !strings.HasSuffix(what, "dead_letter") || r.From.Cluster() != "" {
			pos(s.Pos, "%s needs kafka: CLUSTER with topic, or nats: SERVER with subject", what)
		}
		return
	}
	if s.Kafka != "" {
		if c.Kafka[s.Kafka] == nil && !s.defaulted {
			pos(s.Pos, "%s names kafka cluster %q, which is not defined under kafka:%s", what, s.Kafka, defined(c.Kafka))
		}
		if s.Subject != "" || s.JetStream {
			pos(s.Pos, "%s: subject and jetstream are NATS settings; a Kafka sink takes topic, keep_partition, compression and linger", what)
		}
		if !slices.Contains(kafkaCodecs, s.Compression) {
			pos(s.Pos, "%s compression %q is unknown; use none, gzip, snappy, lz4 or zstd", what, s.Compression)
		}
		t, err := ParseTemplate(s.Topic)
		switch {
		case s.Topic == "":
			pos(s.Pos, "%s needs a topic, such as topic: \"{topic}.masked\"", what)
		case err != nil:
			pos(s.Pos, "%s topic: %s", what, strings.TrimPrefix(err.Error(), "config: "))
		case !kafkaTopicRE.MatchString(t.literals()):
			pos(s.Pos, "%s topic %q holds characters a Kafka topic may not (letters, digits, '.', '_', '-')", what, s.Topic)
		}
		if s.KeepPartition && !r.From.IsKafka() && r.From.Cluster() != "" {
			pos(s.Pos, "%s: keep_partition needs a Kafka source; NATS records have no partition to keep", what)
		}
		return
	}
	if c.NATS[s.NATS] == nil && !s.defaulted {
		pos(s.Pos, "%s names nats server %q, which is not defined under nats:%s", what, s.NATS, defined(c.NATS))
	}
	if s.Topic != "" || s.KeepPartition {
		pos(s.Pos, "%s: topic and keep_partition are Kafka settings; a NATS sink takes subject and jetstream", what)
	}
	for _, k := range []keySet{{"compression", s.compressionSet}, {"linger", s.lingerSet}} {
		if k.set {
			pos(s.Pos, "%s: %s is a Kafka producer setting; a NATS sink takes subject and jetstream", what, k.key)
		}
	}
	t, err := ParseTemplate(s.Subject)
	switch {
	case s.Subject == "":
		pos(s.Pos, "%s needs a subject, such as subject: \"masked.{subject}\"", what)
	case err != nil:
		pos(s.Pos, "%s subject: %s", what, strings.TrimPrefix(err.Error(), "config: "))
	case !validSubject(t.Expand("x", 0), false):
		pos(s.Pos, "%s subject %q is not a NATS subject to publish to (tokens separated by '.', no wildcards or spaces)", what, s.Subject)
	}
}

func (c *Config) validateExactlyOnce(r *Route, what string, pos posFunc) {
	if !r.From.IsKafka() || !r.To.IsKafka() {
		pos(r.Pos, "%s: exactly_once needs Kafka on both sides: it commits the produced records and the consumed offsets in one Kafka transaction, which NATS cannot join. Drop exactly_once: without it a crash may produce a record twice but never loses one", what)
		return
	}
	if r.From.Kafka != r.To.Kafka {
		pos(r.Pos, "%s: exactly_once needs the source and the sink on the same Kafka cluster: a transaction can commit the consumed offsets (on %s) and the produced records (on %s) together only within one cluster. Write to %s, or drop exactly_once (a crash may then produce a record twice, never lose one)", what, r.From.Kafka, r.To.Kafka, r.From.Kafka)
	}
	if r.DeadLetter.Cluster() != "" && (!r.DeadLetter.IsKafka() || r.DeadLetter.Kafka != r.From.Kafka) {
		pos(r.DeadLetter.Pos, "%s: with exactly_once the dead letters go in the same transaction, so dead_letter must be on kafka cluster %q too", what, r.From.Kafka)
	}
}

// validateSharedProducer refuses producer settings on a dead letter that
// the processor sends through to's producer (one Kafka client per route
// and cluster; with exactly_once, one transaction): they could not apply,
// and nothing in the config is silently ignored.
func validateSharedProducer(r *Route, what string, pos posFunc) {
	dl := &r.DeadLetter
	if !r.To.IsKafka() || !dl.IsKafka() || dl.Kafka != r.To.Kafka {
		return
	}
	why := fmt.Sprintf("dead_letter is on kafka cluster %q like to, so it goes through to's producer", dl.Kafka)
	if r.ExactlyOnce {
		why = "with exactly_once the dead letters go through to's transactional producer"
	}
	// An unknown codec is reported once, by validateSink.
	known := slices.Contains(kafkaCodecs, dl.Compression) && slices.Contains(kafkaCodecs, r.To.Compression)
	if dl.compressionSet && dl.Compression != r.To.Compression && known {
		pos(dl.Pos, "%s dead_letter: compression %q differs from to's %q, but %s: drop compression from dead_letter (it follows to's)", what, dl.Compression, r.To.Compression, why)
	}
	if dl.lingerSet && dl.Linger != r.To.Linger {
		pos(dl.Pos, "%s dead_letter: linger %v differs from to's %v, but %s: drop linger from dead_letter (it follows to's)", what, dl.Linger, r.To.Linger, why)
	}
}

// validateNoLoop refuses a route that writes into its own input: it
// would mask its own output forever.
func (c *Config) validateNoLoop(r *Route, what string, pos posFunc) {
	f := &r.From
	for _, s := range []*Sink{&r.To, &r.DeadLetter} {
		if !c.sinkReaches(s, f) {
			continue
		}
		t, err := ParseTemplate(s.Template())
		if err != nil {
			continue
		}
		if f.IsKafka() {
			for _, topic := range f.Topics {
				dst := t.Expand(topic, 0)
				if slices.Contains(f.Topics, dst) {
					pos(s.Pos, "%s writes to topic %q, which it also reads: it would re-mask its own output forever; change the topic (or set dead_letter)", what, dst)
				}
			}
			if f.TopicRegex != "" {
				if re, err := regexp.Compile(f.TopicRegex); err == nil && t.IsFixed() && re.MatchString(t.String()) {
					pos(s.Pos, "%s writes to topic %q, which its topic_regex also matches: it would re-mask its own output forever; change the topic (or set dead_letter)", what, t.String())
				}
				if t.Expand("x", 0) == "x" {
					pos(s.Pos, "%s writes each record back to the topic it was read from (%q) on the cluster its topic_regex reads: it would re-mask its own output forever; write to another cluster or add to the name, such as \"{topic}.masked\"", what, t.String())
				}
			}
			continue
		}
		if f.Subject == "" {
			continue
		}
		sample := sampleSubject(f.Subject)
		if dst := t.Expand(sample, 0); subjectMatches(f.Subject, dst) {
			pos(s.Pos, "%s publishes to %q, which its own subject filter %q matches: it would re-mask its own output forever; change the subject (or set dead_letter)", what, dst, f.Subject)
		}
	}
}

// validateSharedConsumers refuses two routes that read with the same
// consumer group or durable on one cluster (under any of its names): each
// would receive only part of the records.
func (c *Config) validateSharedConsumers(pos posFunc) {
	consumer := func(f *Source) string {
		switch {
		case f.IsKafka() && f.Group != "":
			return "kafka\x00" + f.Group
		case f.IsJetStream():
			return "js\x00" + f.Stream + "\x00" + f.Durable
		}
		return ""
	}
	for i, r := range c.Routes {
		key := consumer(&r.From)
		if key == "" {
			continue
		}
		for _, prev := range c.Routes[:i] {
			if consumer(&prev.From) == key && c.sameCluster(r.From.IsKafka(), prev.From.Cluster(), r.From.Cluster()) {
				pos(r.From.Pos, "routes %q and %q read with the same consumer (group or durable) on %s: each would get only part of the records; give each route its own", prev.Name, r.Name, r.From.Cluster())
				break
			}
		}
	}
}

func (c *Config) validateHTTP(pos posFunc) {
	h := c.HTTP
	if _, port, err := net.SplitHostPort(h.Listen); err != nil {
		pos(h.Pos, "http.listen %q is not host:port (such as :8080 or 127.0.0.1:8080)", h.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		pos(h.Pos, "http.listen %q has a port that is not a number", h.Listen)
	}
	if t := h.TLS; t != nil && (t.CertFile == "" || t.KeyFile == "") {
		pos(t.Pos, "http.tls needs both cert_file and key_file")
	}
	if h.RateLimit.Burst < 1 || h.RateLimit.PerTokenRPS <= 0 {
		pos(h.Pos, "http.rate_limit needs per_token_rps above 0 and burst of at least 1")
	}
	c.validateHTTPLimits(pos)
	names := map[string]bool{}
	hasRead := false
	for i, t := range h.Tokens {
		what := fmt.Sprintf("http token %d", i+1)
		if t.Name == "" {
			pos(t.Pos, "%s needs a name (it labels logs and rate limits)", what)
		} else {
			what = fmt.Sprintf("http token %q", t.Name)
			if names[t.Name] {
				pos(t.Pos, "%s: the name is used twice", what)
			}
			names[t.Name] = true
		}
		n := 0
		for _, set := range []bool{t.SHA256 != "", t.TokenEnv != "", t.TokenFile != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			pos(t.Pos, "%s needs exactly one of sha256 (hex SHA-256 of the token), token_env or token_file", what)
		}
		if t.SHA256 != "" {
			if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != 32 {
				pos(t.Pos, "%s sha256 must be 64 hex digits: the SHA-256 of the token (echo -n TOKEN | sha256sum)", what)
			}
		}
		if len(t.Scopes) == 0 {
			pos(t.Pos, "%s has no scopes; give some of mask, admin, read", what)
		}
		for _, s := range t.Scopes {
			switch s {
			case ScopeMask, ScopeAdmin:
			case ScopeRead:
				hasRead = true
			default:
				pos(t.Pos, "%s scope %q is unknown; scopes are mask, admin and read", what, s)
			}
		}
		if rl := t.RateLimit; rl != nil && (rl.Burst < 1 || rl.PerTokenRPS <= 0) {
			pos(t.Pos, "%s rate_limit needs per_token_rps above 0 and burst of at least 1", what)
		}
	}
	switch {
	case h.InsecureNoAuth && len(h.Tokens) > 0:
		pos(h.Pos, "http: insecure_no_auth with tokens makes the tokens pointless; remove one or the other")
	case h.InsecureNoAuth && !loopback(h.Listen):
		pos(h.Pos, "http.insecure_no_auth needs a loopback listen address (127.0.0.1:8080, [::1]:8080, localhost:8080): on %s anyone who reaches the server could mask records and change rulesets; add tokens instead", h.Listen)
	case h.InsecureNoAuth:
		c.Warnings = append(c.Warnings, "http.insecure_no_auth is on: every local process can mask records and change rulesets")
	case len(h.Tokens) == 0:
		c.Warnings = append(c.Warnings, "http has no tokens: only /healthz, /readyz, /metrics and / answer; the mask and ruleset endpoints refuse every request")
	}
	if h.ProtectRead && !hasRead && !h.InsecureNoAuth {
		c.Warnings = append(c.Warnings, "http.protect_read is on but no token has scope read: /metrics and / will refuse everyone (Prometheus included)")
	}
}

func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func defined[V any](m map[string]V) string {
	if len(m) == 0 {
		return " (none is)"
	}
	return " (defined: " + strings.Join(sortedKeys(m), ", ") + ")"
}

// validSubject checks a NATS subject; wildcards allows * tokens and a
// final >.
func validSubject(s string, wildcards bool) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return false
		case t == "*" || (t == ">" && i == len(toks)-1):
			if !wildcards {
				return false
			}
		case strings.ContainsAny(t, "*>"):
			return false
		}
	}
	return true
}

// sampleSubject returns a concrete subject the filter matches.
func sampleSubject(filter string) string {
	toks := strings.Split(filter, ".")
	for i, t := range toks {
		if t == "*" || t == ">" {
			toks[i] = "x"
		}
	}
	return strings.Join(toks, ".")
}

// subjectMatches reports whether subject matches the NATS filter.
func subjectMatches(filter, subject string) bool {
	ft, st := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, f := range ft {
		if f == ">" {
			return len(st) > i
		}
		if i >= len(st) || (f != "*" && f != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}
