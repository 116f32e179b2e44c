package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads, checks and completes the config file at path. On any
// problem it returns an ErrorList with every one of them and no Config.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w (give the daemon's config file with -c)", err)
	}
	return Parse(data, path)
}

// Parse is Load on bytes already read. file names the source in errors and
// is the base of relative paths (its folder); it may be empty.
func Parse(data []byte, file string) (*Config, error) {
	d := &decoder{file: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{Pos: Pos{File: file}, Msg: "the config is empty; see DESIGN §6 for its keys (rulesets_dir, kafka, nats, routes, http...)"}}.Err()
		}
		return nil, ErrorList{{Pos: Pos{File: file}, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}.Err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, ErrorList{{Pos: d.pos(&extra), Msg: "the config holds more than one YAML document (---); keep one"}}.Err()
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	c := d.config(root)
	// Two passes: the checks between sections (references, templates,
	// loops) run once every key decodes, since a value that failed to
	// decode would only add false follow-up errors.
	if len(d.errs) == 0 {
		c.applyDefaults()
		c.absPaths(filepath.Dir(file))
		c.validate(d)
	}
	if err := d.errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (d *decoder) config(n *yaml.Node) *Config {
	c := &Config{File: d.file, Kafka: map[string]*KafkaCluster{}, NATS: map[string]*NATSServer{}}
	n = resolve(n)
	if isNull(n) {
		d.errorf(n, "the config is empty; see DESIGN §6 for its keys")
		return c
	}
	d.mapping(n, "the config", map[string]field{
		"rulesets_dir":    func(v *yaml.Node) { c.RulesetsDir = d.str(v, "rulesets_dir") },
		"data_dir":        func(v *yaml.Node) { c.DataDir = d.str(v, "data_dir") },
		"run_secret_file": func(v *yaml.Node) { c.RunSecretFile = d.str(v, "run_secret_file") },
		"drain_timeout":   func(v *yaml.Node) { c.DrainTimeout = d.duration(v, "drain_timeout") },
		"limits":          func(v *yaml.Node) { d.limits(v, &c.Limits) },
		"kafka": func(v *yaml.Node) {
			d.named(v, "kafka", func(name string, k, v *yaml.Node) {
				c.Kafka[name] = d.kafka(name, k, v)
			})
		},
		"nats": func(v *yaml.Node) {
			d.named(v, "nats", func(name string, k, v *yaml.Node) {
				c.NATS[name] = d.nats(name, k, v)
			})
		},
		"routes": func(v *yaml.Node) { c.Routes = d.routes(v) },
		"http":   func(v *yaml.Node) { c.HTTP = d.http(v) },
	}, map[string]string{
		"run_secret": "the run secret is never written in the config: set MASKSTREAM_RUN_SECRET or point run_secret_file at a file only maskstream can read",
	})
	return c
}

// named walks a mapping of name → section (kafka clusters, nats servers).
func (d *decoder) named(n *yaml.Node, what string, each func(name string, k, v *yaml.Node)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must map names to settings, such as %s: { prod: {...} }", what, what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		name := d.str(k, what+" names")
		if name == "" {
			continue
		}
		if seen[name] {
			d.errorf(k, "%s %q is defined twice", what, name)
			continue
		}
		seen[name] = true
		each(name, k, n.Content[i+1])
	}
}

func (d *decoder) limits(n *yaml.Node, l *Limits) {
	d.mapping(n, "limits", map[string]field{
		"max_record_bytes": func(v *yaml.Node) { l.MaxRecordBytes = d.integer(v, "limits.max_record_bytes") },
		"max_depth":        func(v *yaml.Node) { l.MaxDepth = d.integer(v, "limits.max_depth") },
		"max_deliveries":   func(v *yaml.Node) { l.MaxDeliveries = d.integer(v, "limits.max_deliveries") },
	}, nil)
}

var inlinePassword = "inline passwords are not accepted: name an environment variable with password_env or a file with password_file"

func (d *decoder) tls(n *yaml.Node, what string) *TLS {
	if isNull(n) {
		return nil // tls: with no value means no TLS; tls: {} enables it
	}
	t := &TLS{Pos: d.pos(resolve(n))}
	d.mapping(n, what, map[string]field{
		"ca_file":              func(v *yaml.Node) { t.CAFile = d.str(v, what+".ca_file") },
		"cert_file":            func(v *yaml.Node) { t.CertFile = d.str(v, what+".cert_file") },
		"key_file":             func(v *yaml.Node) { t.KeyFile = d.str(v, what+".key_file") },
		"server_name":          func(v *yaml.Node) { t.ServerName = d.str(v, what+".server_name") },
		"insecure_skip_verify": func(v *yaml.Node) { t.InsecureSkipVerify = d.boolean(v, what+".insecure_skip_verify") },
	}, nil)
	return t
}

func (d *decoder) kafka(name string, k, n *yaml.Node) *KafkaCluster {
	what := fmt.Sprintf("kafka cluster %q", name)
	c := &KafkaCluster{Name: name, Pos: d.pos(k)}
	d.mapping(n, what, map[string]field{
		"brokers":   func(v *yaml.Node) { c.Brokers = d.strings(v, what+" brokers") },
		"client_id": func(v *yaml.Node) { c.ClientID = d.str(v, what+" client_id") },
		"tls":       func(v *yaml.Node) { c.TLS = d.tls(v, what+" tls") },
		"sasl": func(v *yaml.Node) {
			s := &SASL{Pos: d.pos(resolve(v))}
			sw := what + " sasl"
			d.mapping(v, sw, map[string]field{
				"mechanism":     func(v *yaml.Node) { s.Mechanism = d.str(v, sw+" mechanism") },
				"user":          func(v *yaml.Node) { s.User = d.str(v, sw+" user") },
				"password_env":  func(v *yaml.Node) { s.PasswordEnv = d.str(v, sw+" password_env") },
				"password_file": func(v *yaml.Node) { s.PasswordFile = d.str(v, sw+" password_file") },
			}, map[string]string{"password": inlinePassword})
			c.SASL = s
		},
	}, map[string]string{"password": inlinePassword})
	return c
}

func (d *decoder) nats(name string, k, n *yaml.Node) *NATSServer {
	what := fmt.Sprintf("nats server %q", name)
	s := &NATSServer{Name: name, Pos: d.pos(k)}
	d.mapping(n, what, map[string]field{
		"url":           func(v *yaml.Node) { s.URL = d.str(v, what+" url") },
		"creds_file":    func(v *yaml.Node) { s.CredsFile = d.str(v, what+" creds_file") },
		"nkey_file":     func(v *yaml.Node) { s.NkeyFile = d.str(v, what+" nkey_file") },
		"tls":           func(v *yaml.Node) { s.TLS = d.tls(v, what+" tls") },
		"user":          func(v *yaml.Node) { s.User = d.str(v, what+" user") },
		"password_env":  func(v *yaml.Node) { s.PasswordEnv = d.str(v, what+" password_env") },
		"password_file": func(v *yaml.Node) { s.PasswordFile = d.str(v, what+" password_file") },
		"token_env":     func(v *yaml.Node) { s.TokenEnv = d.str(v, what+" token_env") },
		"token_file":    func(v *yaml.Node) { s.TokenFile = d.str(v, what+" token_file") },
	}, map[string]string{
		"password": inlinePassword,
		"token":    "inline tokens are not accepted: name an environment variable with token_env or a file with token_file",
	})
	return s
}

func (d *decoder) routes(n *yaml.Node) []*Route {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "routes must be a list of routes (- name: ...), not %s", kindName(n))
		return nil
	}
	out := make([]*Route, 0, len(n.Content))
	for i, rn := range n.Content {
		out = append(out, d.route(i, resolve(rn)))
	}
	return out
}

func (d *decoder) route(i int, n *yaml.Node) *Route {
	r := &Route{Pos: d.pos(n)}
	what := fmt.Sprintf("route %d", i+1)
	if n != nil && n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "name" {
				if s := d.peekStr(n.Content[j+1]); s != "" {
					what = fmt.Sprintf("route %q", s)
				}
			}
		}
	}
	var from, to *yaml.Node
	d.mapping(n, what, map[string]field{
		"name":         func(v *yaml.Node) { r.Name = d.str(v, what+" name") },
		"from":         func(v *yaml.Node) { from = v; r.From = d.source(v, what+" from") },
		"to":           func(v *yaml.Node) { to = v; r.To = d.sink(v, what+" to") },
		"ruleset":      func(v *yaml.Node) { r.Ruleset = d.str(v, what+" ruleset") },
		"dead_letter":  func(v *yaml.Node) { r.DeadLetter = d.sink(v, what+" dead_letter") },
		"exactly_once": func(v *yaml.Node) { r.ExactlyOnce = d.boolean(v, what+" exactly_once") },
		"lanes": func(v *yaml.Node) {
			d.mapping(v, what+" lanes", map[string]field{
				"queue":     func(v *yaml.Node) { r.Lanes.Queue = d.integer(v, what+" lanes.queue") },
				"max_bytes": func(v *yaml.Node) { r.Lanes.MaxBytes = d.integer(v, what+" lanes.max_bytes") },
				"workers":   func(v *yaml.Node) { r.Lanes.Workers = d.integer(v, what+" lanes.workers") },
			}, nil)
		},
	}, nil)
	if from == nil && n != nil {
		d.errorf(n, "%s has no from: say where it reads, such as from: { kafka: prod, topics: [orders] }", what)
	}
	if to == nil && n != nil {
		d.errorf(n, "%s has no to: say where it writes, such as to: { kafka: dev, topic: \"{topic}.masked\" }", what)
	}
	return r
}

// peekStr returns a scalar's text without reporting anything (the name
// used in messages before the name key itself is decoded).
func (d *decoder) peekStr(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

// Keys a source or sink of one broker takes, for unknown-key errors.
var (
	kafkaSourceKeys = []string{"group", "kafka", "start", "topic_regex", "topics"}
	natsSourceKeys  = []string{"ack_wait", "durable", "nats", "queue", "start", "stream", "subject"}
	kafkaSinkKeys   = []string{"compression", "kafka", "keep_partition", "linger", "topic"}
	natsSinkKeys    = []string{"jetstream", "nats", "subject"}
)

// brokerKeys picks the keys of the broker n names (kafka: or nats:), or
// nil (every key) when it names neither or both.
func (d *decoder) brokerKeys(n *yaml.Node, kafka, nats []string) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var k, s bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch resolve(n.Content[i]).Value {
		case "kafka":
			k = true
		case "nats":
			s = true
		}
	}
	switch {
	case k && !s:
		return kafka
	case s && !k:
		return nats
	}
	return nil
}

func (d *decoder) source(n *yaml.Node, what string) Source {
	s := Source{Pos: d.pos(resolve(n))}
	d.mappingListing(n, what, map[string]field{
		"kafka":       func(v *yaml.Node) { s.Kafka = d.str(v, what+" kafka") },
		"topics":      func(v *yaml.Node) { s.Topics = d.strings(v, what+" topics") },
		"topic_regex": func(v *yaml.Node) { s.TopicRegex = d.str(v, what+" topic_regex") },
		"group":       func(v *yaml.Node) { s.Group = d.str(v, what+" group") },
		"start":       func(v *yaml.Node) { s.Start = d.str(v, what+" start") },
		"nats":        func(v *yaml.Node) { s.NATS = d.str(v, what+" nats") },
		"stream":      func(v *yaml.Node) { s.Stream = d.str(v, what+" stream") },
		"durable":     func(v *yaml.Node) { s.Durable = d.str(v, what+" durable") },
		"subject":     func(v *yaml.Node) { s.Subject = d.str(v, what+" subject") },
		"queue":       func(v *yaml.Node) { s.Queue = d.str(v, what+" queue") },
		"ack_wait":    func(v *yaml.Node) { s.AckWait = d.duration(v, what+" ack_wait") },
	}, map[string]string{
		"topic": "a Kafka source lists its topics: write topics: [name] (or topic_regex)",
	}, d.brokerKeys(n, kafkaSourceKeys, natsSourceKeys))
	return s
}

func (d *decoder) sink(n *yaml.Node, what string) Sink {
	s := Sink{Pos: d.pos(resolve(n))}
	d.mappingListing(n, what, map[string]field{
		"kafka":          func(v *yaml.Node) { s.Kafka = d.str(v, what+" kafka") },
		"topic":          func(v *yaml.Node) { s.Topic = d.str(v, what+" topic") },
		"keep_partition": func(v *yaml.Node) { s.KeepPartition = d.boolean(v, what+" keep_partition") },
		"compression":    func(v *yaml.Node) { s.Compression, s.compressionSet = d.str(v, what+" compression"), true },
		"linger":         func(v *yaml.Node) { s.Linger, s.lingerSet = d.linger(v, what+" linger"), true },
		"nats":           func(v *yaml.Node) { s.NATS = d.str(v, what+" nats") },
		"subject":        func(v *yaml.Node) { s.Subject = d.str(v, what+" subject") },
		"jetstream":      func(v *yaml.Node) { s.JetStream = d.boolean(v, what+" jetstream") },
	}, map[string]string{
		"topics": "a sink writes one topic template: write topic: \"{topic}.masked\"",
	}, d.brokerKeys(n, kafkaSinkKeys, natsSinkKeys))
	return s
}

// linger decodes a Kafka sink's linger: a duration from 0 to maxLinger.
func (d *decoder) linger(n *yaml.Node, what string) time.Duration {
	n = resolve(n)
	if isNull(n) {
		return 0
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errorf(n, "%s must be a duration such as 5ms (0s sends at once), not %s", what, kindName(n))
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case err != nil:
		d.errorf(n, "%s must be a duration such as 5ms (0s sends at once)", what)
	case v < 0:
		d.errorf(n, "%s cannot be negative; 0s sends each batch as soon as possible", what)
	case v > maxLinger:
		// Every record of a quiet partition waits the whole linger, so a
		// unit slip (5s for 5ms) shows up as seconds of end-to-end delay.
		d.errorf(n, "%s is over %v: each batch would hold its records back that long; a few milliseconds (5ms to 50ms) is enough to fill batches", what, maxLinger)
	default:
		return v
	}
	return 0
}

func (d *decoder) http(n *yaml.Node) *HTTP {
	h := &HTTP{Pos: d.pos(resolve(n))}
	d.mapping(n, "http", map[string]field{
		"listen": func(v *yaml.Node) { h.Listen = d.str(v, "http.listen") },
		"tls": func(v *yaml.Node) {
			t := &ServerTLS{Pos: d.pos(resolve(v))}
			d.mapping(v, "http.tls", map[string]field{
				"cert_file":      func(v *yaml.Node) { t.CertFile = d.str(v, "http.tls.cert_file") },
				"key_file":       func(v *yaml.Node) { t.KeyFile = d.str(v, "http.tls.key_file") },
				"client_ca_file": func(v *yaml.Node) { t.ClientCAFile = d.str(v, "http.tls.client_ca_file") },
			}, nil)
			h.TLS = t
		},
		"tokens": func(v *yaml.Node) { h.Tokens = d.tokens(v) },
		"rate_limit": func(v *yaml.Node) {
			rl := d.rateLimit(v, "http.rate_limit")
			h.RateLimit = *rl
		},
		"allow_request_secret": func(v *yaml.Node) { h.AllowRequestSecret = d.boolean(v, "http.allow_request_secret") },
		"protect_read":         func(v *yaml.Node) { h.ProtectRead = d.boolean(v, "http.protect_read") },
		"insecure_no_auth":     func(v *yaml.Node) { h.InsecureNoAuth = d.boolean(v, "http.insecure_no_auth") },
		"max_inflight_bytes":   func(v *yaml.Node) { h.MaxInflightBytes = d.integer(v, "http.max_inflight_bytes") },
		"max_records":          func(v *yaml.Node) { h.MaxRecords = d.integer(v, "http.max_records") },
		"public_url":           func(v *yaml.Node) { h.PublicURL = d.publicURL(v) },
	}, nil)
	return h
}

func (d *decoder) rateLimit(n *yaml.Node, what string) *RateLimit {
	rl := &RateLimit{}
	d.mapping(n, what, map[string]field{
		"per_token_rps": func(v *yaml.Node) { rl.PerTokenRPS = d.float(v, what+".per_token_rps") },
		"burst":         func(v *yaml.Node) { rl.Burst = d.integer(v, what+".burst") },
	}, nil)
	return rl
}

func (d *decoder) tokens(n *yaml.Node) []*Token {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "http.tokens must be a list of tokens (- { name: ..., sha256: ..., scopes: [mask] }), not %s", kindName(n))
		return nil
	}
	var out []*Token
	for i, tn := range n.Content {
		t := &Token{Pos: d.pos(resolve(tn))}
		what := fmt.Sprintf("http token %d", i+1)
		d.mapping(tn, what, map[string]field{
			"name":       func(v *yaml.Node) { t.Name = d.str(v, what+" name") },
			"sha256":     func(v *yaml.Node) { t.SHA256 = d.str(v, what+" sha256") },
			"token_env":  func(v *yaml.Node) { t.TokenEnv = d.str(v, what+" token_env") },
			"token_file": func(v *yaml.Node) { t.TokenFile = d.str(v, what+" token_file") },
			"scopes":     func(v *yaml.Node) { t.Scopes = d.strings(v, what+" scopes") },
			"rate_limit": func(v *yaml.Node) { t.RateLimit = d.rateLimit(v, what+" rate_limit") },
		}, map[string]string{
			"token": "inline tokens are not accepted: give the token's sha256 (echo -n TOKEN | sha256sum), or name an environment variable with token_env or a file with token_file",
		})
		out = append(out, t)
	}
	return out
}
