package config

import (
	"path/filepath"
	"strings"
)

// applyDefaults fills what the file left out. It runs before validate and
// must cope with a half-wrong config: validate reports the rest.
func (c *Config) applyDefaults() {
	if c.RulesetsDir == "" {
		c.RulesetsDir = DefaultRulesetsDir
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Limits.MaxRecordBytes == 0 {
		c.Limits.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if c.Limits.MaxDepth == 0 {
		c.Limits.MaxDepth = DefaultMaxDepth
	}
	if c.Limits.MaxDeliveries == 0 {
		c.Limits.MaxDeliveries = DefaultMaxDeliveries
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	for _, k := range c.Kafka {
		if k.ClientID == "" {
			k.ClientID = "maskstream"
		}
	}
	for _, r := range c.Routes {
		r.applyDefaults()
		if r.Lanes.MaxBytes == 0 {
			// Room for a full-size record as read and as masked.
			r.Lanes.MaxBytes = max(DefaultLaneMaxBytes, minLaneMaxBytes(c.Limits.MaxRecordBytes))
		}
	}
	if h := c.HTTP; h != nil {
		if h.Listen == "" {
			h.Listen = DefaultHTTPListen
		}
		if h.RateLimit.PerTokenRPS == 0 {
			h.RateLimit.PerTokenRPS = DefaultTokenRPS
		}
		if h.RateLimit.Burst == 0 {
			h.RateLimit.Burst = DefaultTokenBurst
		}
		if h.MaxInflightBytes == 0 {
			h.MaxInflightBytes = DefaultMaxInflightBytes
		}
		if h.MaxRecords == 0 {
			h.MaxRecords = DefaultMaxRecords
		}
		for _, t := range h.Tokens {
			if t.RateLimit != nil {
				if t.RateLimit.PerTokenRPS == 0 {
					t.RateLimit.PerTokenRPS = h.RateLimit.PerTokenRPS
				}
				if t.RateLimit.Burst == 0 {
					t.RateLimit.Burst = h.RateLimit.Burst
				}
			}
		}
	}
}

func (r *Route) applyDefaults() {
	f := &r.From
	if f.Kafka != "" {
		if f.Group == "" {
			f.Group = DefaultGroupPrefix + r.Name
		}
		if f.Start == "" {
			f.Start = DefaultKafkaStart
		}
	}
	if f.IsJetStream() && f.Durable == "" {
		f.Durable = DefaultDurablePrefix + r.Name
	}
	if f.IsJetStream() && f.Start == "" {
		f.Start = StartEarliest
	}
	if f.IsJetStream() && f.AckWait == 0 {
		f.AckWait = DefaultAckWait
	}
	if r.To.Kafka != "" && r.To.Topic == "" {
		r.To.Topic = DefaultKafkaTopicTmpl
	}
	if r.To.NATS != "" && r.To.Subject == "" {
		r.To.Subject = DefaultNATSSubjTmpl
	}
	if r.DeadLetter.Kafka == "" && r.DeadLetter.NATS == "" {
		// Dead letters hold the original, unmasked bytes: by default
		// they stay beside the source, with its protection.
		r.DeadLetter.Pos = r.Pos
		r.DeadLetter.defaulted = true
		switch {
		case f.Kafka != "":
			r.DeadLetter.Kafka = f.Kafka
			r.DeadLetter.Topic = DefaultDeadLetterPrefix + r.Name
		case f.NATS != "":
			r.DeadLetter.NATS = f.NATS
			r.DeadLetter.Subject = DefaultDeadLetterPrefix + r.Name
			r.DeadLetter.JetStream = f.IsJetStream()
		}
	}
	if r.To.Kafka != "" && !r.To.compressionSet {
		r.To.Compression = DefaultKafkaCompression
	}
	if dl := &r.DeadLetter; dl.Kafka != "" {
		// A dead letter on to's cluster goes through to's producer, so it
		// says what that producer does (validate refuses other values).
		switch {
		case dl.Kafka == r.To.Kafka:
			if !dl.compressionSet {
				dl.Compression = r.To.Compression
			}
			if !dl.lingerSet {
				dl.Linger = r.To.Linger
			}
		case !dl.compressionSet:
			dl.Compression = DefaultKafkaCompression
		}
	}
	if r.Lanes.Queue == 0 {
		r.Lanes.Queue = DefaultLaneQueue
	}
}

// absPaths makes every file path absolute, taking relative ones from the
// config file's folder so the daemon behaves the same from any working
// directory.
func (c *Config) absPaths(base string) {
	abs := func(p *string) {
		if *p == "" || filepath.IsAbs(*p) {
			return
		}
		if strings.HasPrefix(*p, "~") {
			return // validate reports it: the daemon does not expand ~
		}
		if a, err := filepath.Abs(filepath.Join(base, *p)); err == nil {
			*p = a
		}
	}
	abs(&c.RulesetsDir)
	abs(&c.DataDir)
	abs(&c.RunSecretFile)
	tls := func(t *TLS) {
		if t != nil {
			abs(&t.CAFile)
			abs(&t.CertFile)
			abs(&t.KeyFile)
		}
	}
	for _, k := range c.Kafka {
		tls(k.TLS)
		if k.SASL != nil {
			abs(&k.SASL.PasswordFile)
		}
	}
	for _, n := range c.NATS {
		tls(n.TLS)
		abs(&n.CredsFile)
		abs(&n.NkeyFile)
		abs(&n.PasswordFile)
		abs(&n.TokenFile)
	}
	if h := c.HTTP; h != nil {
		if h.TLS != nil {
			abs(&h.TLS.CertFile)
			abs(&h.TLS.KeyFile)
			abs(&h.TLS.ClientCAFile)
		}
		for _, t := range h.Tokens {
			abs(&t.TokenFile)
		}
	}
}
