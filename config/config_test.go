package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Limits.MaxRecordBytes <= 0 || c.Limits.MaxDepth <= 0 || c.Limits.MaxDeliveries <= 0 || c.DrainTimeout <= 0 {
				t.Errorf("defaults not applied: %+v drain %v", c.Limits, c.DrainTimeout)
			}
			for _, r := range c.Routes {
				if r.To.Cluster() == "" || r.DeadLetter.Cluster() == "" || r.To.Template() == "" || r.DeadLetter.Template() == "" {
					t.Errorf("route %s: sink or dead letter left empty: %+v %+v", r.Name, r.To, r.DeadLetter)
				}
				if !filepath.IsAbs(c.RulesetsDir) {
					t.Errorf("rulesets_dir %q not made absolute", c.RulesetsDir)
				}
			}
		})
	}
}

func TestLoadFull(t *testing.T) {
	c, err := Load("testdata/full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata")
	checks := []struct {
		name      string
		got, want any
	}{
		{"rulesets_dir", c.RulesetsDir, filepath.Join(dir, "rulesets")},
		{"run_secret_file", c.RunSecretFile, "/run/secrets/maskstream"},
		{"drain_timeout", c.DrainTimeout, 45 * time.Second},
		{"max_depth", c.Limits.MaxDepth, 64},
		{"max_deliveries", c.Limits.MaxDeliveries, 3},
		{"prod brokers", len(c.Kafka["prod"].Brokers), 2},
		{"prod tls", c.Kafka["prod"].TLS != nil, true},
		{"prod sasl env", c.Kafka["prod"].SASL.PasswordEnv, "KAFKA_PROD_PASSWORD"},
		{"dev tls", c.Kafka["dev"].TLS == nil, true},
		{"nats creds", c.NATS["main"].CredsFile, filepath.Join(dir, "secrets/nats.creds")},
		{"routes", len(c.Routes), 4},
		{"orders group", c.Routes[0].From.Group, "maskstream"},
		{"orders keep_partition", c.Routes[0].To.KeepPartition, true},
		{"orders dlq", c.Routes[0].DeadLetter.Topic, "maskstream.dlq"},
		{"orders workers", c.Routes[0].Lanes.Workers, 2},
		{"orders compression default", c.Routes[0].To.Compression, DefaultKafkaCompression},
		{"orders linger default", c.Routes[0].To.Linger, time.Duration(0)},
		{"orders dlq compression default", c.Routes[0].DeadLetter.Compression, DefaultKafkaCompression},
		{"events dlq compression none", c.Routes[1].DeadLetter.Compression, ""},
		{"events jetstream", c.Routes[1].From.IsJetStream(), true},
		{"events dlq default", c.Routes[1].DeadLetter.Subject, "maskstream.dlq.events"},
		{"events dlq jetstream", c.Routes[1].DeadLetter.JetStream, true},
		{"events start default", c.Routes[1].From.Start, StartEarliest},
		{"audit group default", c.Routes[2].From.Group, "maskstream.audit"},
		{"audit dlq default", c.Routes[2].DeadLetter.Topic, "maskstream.dlq.audit"},
		{"audit exactly_once", c.Routes[2].ExactlyOnce, true},
		{"core queue", c.Routes[3].From.Queue, "maskstream"},
		{"core dlq jetstream", c.Routes[3].DeadLetter.JetStream, false},
		{"core lane queue default", c.Routes[3].Lanes.Queue, DefaultLaneQueue},
		{"http tokens", len(c.HTTP.Tokens), 2},
		{"ops rps", c.HTTP.Tokens[1].RateLimit.PerTokenRPS, 10.0},
		{"ops burst inherits", c.HTTP.Tokens[1].RateLimit.Burst, 200},
		{"protect_read", c.HTTP.ProtectRead, true},
		{"rulesets", strings.Join(c.Rulesets(), ","), "customer-record,events"},
		{"warnings", len(c.Warnings), 0},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Errorf("got %v, want %v", ch.got, ch.want)
			}
		})
	}
}

func TestLoadBad(t *testing.T) {
	tests := []struct {
		file string
		want []string // each is a substring of one error, in order
	}{
		{"ack-wait.bad.yaml", []string{
			`7:11: route "short" from ack_wait 500ms is under 1s: use 1s or more`,
			`11:11: route "long" from ack_wait 2h0m0s is over 1h0m0s`,
			`15:11: route "core" from: ack_wait needs stream; core NATS has no acknowledgements`,
			`19:11: route "kafka" from: ack_wait is a NATS setting; a Kafka source takes topics`,
		}},
		{"compression.bad.yaml", []string{
			`7:9: route "typo" to compression "lz5" is unknown; use none, gzip, snappy, lz4 or zstd`,
			`9:18: route "typo" dead_letter compression "zstandard" is unknown`,
			`14:18: route "shared" dead_letter: compression "zstd" differs from to's "lz4", but dead_letter is on kafka cluster "prod" like to, so it goes through to's producer: drop compression from dead_letter`,
			`14:18: route "shared" dead_letter: linger 0s differs from to's 10ms`,
			`19:18: route "transactional" dead_letter: compression "none" differs from to's "snappy", but with exactly_once the dead letters go through to's transactional producer`,
		}},
		{"dead-letters.bad.yaml", []string{
			`10:18: route "own-template" dead_letter topic "orders.masked" on prod is among the names its own to ("{topic}.masked") writes masked records to: dead letters are the original, unmasked records`,
			`15:18: route "others-to" dead_letter topic "orders.masked" on prod-alias is among the names route "own-template"'s to ("{topic}.masked") writes`,
			`20:18: route "nats-namespace" dead_letter subject "masked.dlq" on main is among the names its own to ("masked.{subject}") writes masked records to`,
		}},
		{"duplicates.bad.yaml", []string{`8:5: route name "orders" is used twice`, `read with the same consumer`}},
		{"empty.bad.yaml", []string{"the config is empty"}},
		{"exactly-once.bad.yaml", []string{`7:5: route "cross": exactly_once needs the source and the sink on the same Kafka cluster`, `12:5: route "to-nats": exactly_once needs Kafka on both sides`}},
		{"http.bad.yaml", []string{`2:3: http.listen "8080" is not host:port`, "2:3: http: insecure_no_auth with tokens", "3:8: http.tls needs both", "sha256 must be 64 hex digits", `scope "write" is unknown`, "the name is used twice", "needs exactly one of sha256", "has no scopes"}},
		{"http-limits.bad.yaml", []string{"2:3: http.max_inflight_bytes is 1000, below 65536 (64 KiB)"}},
		{"insecure.bad.yaml", []string{"2:3: http.insecure_no_auth needs a loopback listen address"}},
		{"linger.bad.yaml", []string{
			`6:32: route "negative" to linger cannot be negative`,
			`10:32: route "too-long" to linger is over 1s`,
			`12:53: route "too-long" dead_letter linger must be a duration such as 5ms (0s sends at once), not a number`,
			`15:32: route "no-unit" to linger must be a duration such as 5ms`,
		}},
		{"loop.bad.yaml", []string{`8:9: route "kloop" writes to topic "orders.masked", which it also reads`, `12:9: route "nloop" publishes to "events.masked.events.x"`, `route "dlqloop" writes to topic "maskstream.dlq.dlqloop", which its topic_regex also matches`, `20:9: route "selfloop" writes each record back to the topic it was read from ("{topic}") on the cluster its topic_regex reads`}},
		{"mixed-source.bad.yaml", []string{"names both kafka and nats", "group is a Kafka setting", "queue is for core NATS", "keep_partition needs a Kafka source", "durable needs stream", "topic and keep_partition are Kafka settings"}},
		{"nats-auth.bad.yaml", []string{
			`3:3: nats server "creds-and-nkey" gives more than one way to authenticate; keep one of creds_file, nkey_file, user + password, or token`,
			`4:3: nats server "user-and-token" gives more than one way to authenticate`,
			`5:3: nats server "no-password" user needs a password: password_env or password_file`,
			`6:3: nats server "no-user" has a password but no user`,
			`7:3: nats server "two-passwords": give password_env or password_file, not both`,
			`8:3: nats server "two-tokens": give token_env or token_file, not both`,
			`9:3: nats server "in-url" url carries credentials; use user with password_env/password_file, token_env/token_file, creds_file or nkey_file instead`,
			`10:3: nats server "in-url-bad-scheme" url "http://***@i:4222" has scheme "http"`,
			`10:3: nats server "in-url-bad-scheme" url carries credentials`,
			`11:3: nats server "in-url-bad-port" url "nats://***@j:port" is not a URL`,
			`12:3: nats server "at-in-path" url "http://k:4222/x@y" has scheme "http"`,
			`13:42: nats server "half-cert" tls: cert_file and key_file go together`,
		}},
		{"nothing.bad.yaml", []string{"no routes and no http section"}},
		{"producer-nats.bad.yaml", []string{
			`8:9: route "to-nats" to: compression is a Kafka producer setting; a NATS sink takes subject and jetstream`,
			`8:9: route "to-nats" to: linger is a Kafka producer setting`,
			`14:18: route "dlq-nats" dead_letter: linger is a Kafka producer setting`,
		}},
		{"queue-groups.bad.yaml", []string{
			`13:11: routes "all-events" and "eu-events" subscribe to overlapping subjects ("events.>", "events.*.eu") in one queue group "maskstream" on main-tls: NATS gives each message to one member`,
			`29:11: routes "orders" and "payments" read with the same consumer (group or durable) on prod-alias`,
		}},
		{"references.bad.yaml", []string{`5:11: route "orders" from names kafka cluster "prood", which is not defined under kafka: (defined: prod)`, `6:9: route "orders" to names nats server "main", which is not defined under nats: (none is)`}},
		{"route-loops.bad.yaml", []string{
			`11:9: route "to-dev" to writes topic "orders" on dev, which route "to-prod" reads; route "to-prod" to writes topic "orders" on prod, which route "to-dev" reads: the routes would re-mask each other's output forever`,
			`19:9: route "masked" to writes topic "shop.x.masked" on shop, which route "copy" reads; route "copy" to writes topic "shop.x.copy" on shop-again, which route "masked" reads`,
			`28:18: route "events" dead_letter writes subject "dlq.events" on main, which route "retry" reads; route "retry" to writes subject "events.retry.dlq.x" on main, which route "events" reads`,
		}},
		{"sasl.bad.yaml", []string{
			`3:49: kafka cluster "kerberos" sasl mechanism "GSSAPI" is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
			`4:37: kafka cluster "clear" uses SASL PLAIN without tls: the password would cross the network in clear text; add tls: {}`,
			`5:50: kafka cluster "anonymous" sasl needs a user`,
			`6:38: kafka cluster "nopass" sasl needs exactly one of password_env`,
			`7:39: kafka cluster "twopass" sasl needs exactly one of password_env`,
			`8:38: kafka cluster "nomech" sasl needs a mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
			`9:39: kafka cluster "halfcert" tls: cert_file and key_file go together`,
		}},
		{"secrets.bad.yaml", []string{"1:1: the config: the run secret is never written in the config", "5:40: kafka cluster \"prod\" sasl: inline passwords are not accepted", "7:31: nats server \"main\": inline tokens are not accepted", "10:18: http token 1: inline tokens are not accepted"}},
		{"syntax.bad.yaml", []string{"not valid YAML"}},
		{"templates.bad.yaml", []string{"unknown placeholder {topc}", "has a { with no }", "holds characters a Kafka topic may not"}},
		{"types.bad.yaml", []string{"1:16: drain_timeout must be a duration", "2:29: limits.max_record_bytes must be a whole number", "2:46: limits.max_depth must be a whole number from 0", "4:20: kafka cluster \"prod\" brokers must be a list", "6:3: routes must be a list"}},
		{"unknown-keys.bad.yaml", []string{`2:1: unknown key "limitz" in the config; known keys: data_dir`, `4:30: unknown key "brokerz"`, `7:44: unknown key "groop" in route "orders" from; known keys: group, kafka, start, topic_regex, topics`, `10:5: unknown key "rulset" in route "orders"`,
			`12:37: unknown key "durabel" in route "events" from; known keys: ack_wait, durable, nats, queue, start, stream, subject`,
			`13:23: unknown key "subjekt" in route "events" to; known keys: jetstream, nats, subject`}},
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(tests) {
		t.Errorf("%d bad fixtures but %d expectations: add the new fixture to the table", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load accepted it: %+v", c)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			if len(list) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(list), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i < len(list) && !strings.Contains(list[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, list[i].Error(), w)
				}
			}
			for _, e := range list {
				if e.Pos.File != path {
					t.Errorf("error %q does not name the file", e)
				}
				for _, secret := range []string{"hunter2", "abc,"} {
					if strings.Contains(e.Msg, secret) {
						t.Errorf("error %q quotes a secret", e)
					}
				}
			}
		})
	}
}

// TestLoadAckWait: a JetStream source's ack_wait is taken as given, and
// left out it is the default, which the connector would use too.
func TestLoadAckWait(t *testing.T) {
	c, err := Load("testdata/ack-wait.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{2 * time.Minute, DefaultAckWait} {
		if got := c.Routes[i].From.AckWait; got != want {
			t.Errorf("route %s ack_wait = %v, want %v", c.Routes[i].Name, got, want)
		}
	}
	full, err := Load("testdata/full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range full.Routes {
		if !r.From.IsJetStream() && r.From.AckWait != 0 {
			t.Errorf("route %s is not JetStream but has ack_wait %v", r.Name, r.From.AckWait)
		}
	}
}

func TestLoadKafkaProducer(t *testing.T) {
	c, err := Load("testdata/kafka-producer.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		route       string
		sink        *Sink
		compression string
		linger      time.Duration
	}{
		{"mirror to", &c.Routes[0].To, "zstd", 20 * time.Millisecond},
		{"mirror dead_letter (own cluster)", &c.Routes[0].DeadLetter, "lz4", 5 * time.Millisecond},
		{"staging to", &c.Routes[1].To, "none", 0},
		{"staging dead_letter repeats to's", &c.Routes[1].DeadLetter, "none", 0},
		{"audit to", &c.Routes[2].To, "gzip", time.Second},
		// exactly_once: the default dead letter shares to's producer and
		// says so.
		{"audit dead_letter follows to", &c.Routes[2].DeadLetter, "gzip", time.Second},
		{"events to default codec", &c.Routes[3].To, DefaultKafkaCompression, 250 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			if tt.sink.Compression != tt.compression || tt.sink.Linger != tt.linger {
				t.Errorf("compression %q linger %v, want %q %v", tt.sink.Compression, tt.sink.Linger, tt.compression, tt.linger)
			}
		})
	}
	if !c.Routes[3].DeadLetter.JetStream || c.Routes[3].DeadLetter.Compression != "" {
		t.Errorf("events dead letter (NATS) = %+v, want JetStream and no compression", c.Routes[3].DeadLetter)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no tokens", "http: { listen: ':8080' }", "http has no tokens"},
		{"protect_read without read token", "http: { protect_read: true, tokens: [ { name: a, token_env: A, scopes: [mask] } ] }", "no token has scope read"},
		{"dead letters elsewhere", `
kafka: { a: { brokers: [a:1] }, b: { brokers: [b:1] } }
routes: [ { name: r, from: { kafka: a, topics: [t] }, to: { kafka: b }, dead_letter: { kafka: b, topic: dlq }, ruleset: x } ]`, "not to its source a"},
		// A durable source's dead letters on a subject nothing stores are
		// lost when nobody listens, though the source record is acked.
		{"JetStream dead letters on core NATS", `
nats: { n: { url: "nats://n:4222" } }
routes: [ { name: r, from: { nats: n, stream: S, durable: d, subject: "in.>" }, to: { nats: n, subject: "out.{subject}", jetstream: true }, dead_letter: { nats: n, subject: dlq.r }, ruleset: x } ]`, "whose publishes nothing acknowledges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], tt.want) {
				t.Errorf("warnings %q, want one containing %q", c.Warnings, tt.want)
			}
		})
	}
}

// TestNoWarningCoreDeadLetterOfCoreSource: a core NATS source is
// at-most-once itself, so its core dead-letter subject is no news.
func TestNoWarningCoreDeadLetterOfCoreSource(t *testing.T) {
	c, err := Parse([]byte(`
nats: { n: { url: "nats://n:4222" } }
routes: [ { name: r, from: { nats: n, subject: "in.>" }, to: { nats: n, subject: "out.{subject}" }, dead_letter: { nats: n, subject: dlq.r }, ruleset: x } ]`), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q, want none", c.Warnings)
	}
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		tmpl, topic string
		part        int32
		want, err   string
	}{
		{"{topic}.masked", "orders", 3, "orders.masked", ""},
		{"masked.{subject}", "events.a", 0, "masked.events.a", ""},
		{"{topic}-{partition}", "t", 7, "t-7", ""},
		{"fixed", "t", 1, "fixed", ""},
		{"", "t", 1, "", ""},
		{"{topic", "", 0, "", "a { with no }"},
		{"topic}", "", 0, "", "a } with no {"},
		{"{}", "", 0, "", "unknown placeholder {}"},
		{"{offset}", "", 0, "", "unknown placeholder {offset}"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			tm, err := ParseTemplate(tt.tmpl)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tm.Expand(tt.topic, tt.part); got != tt.want {
				t.Errorf("Expand = %q, want %q", got, tt.want)
			}
			// Pattern matches what the template expands to.
			if re := regexp.MustCompile(tm.Pattern()); tt.want != "" && !re.MatchString(tt.want) {
				t.Errorf("Pattern %q does not match the expansion %q", tm.Pattern(), tt.want)
			}
		})
	}
}

func TestTemplatePattern(t *testing.T) {
	tests := []struct {
		tmpl     string
		match    []string
		mismatch []string
	}{
		{"{topic}.masked", []string{"a.masked", "prod.orders.masked"}, []string{".masked", "a.maskedx", "a-masked", "orders"}},
		{"dlq.{topic}.p{partition}", []string{"dlq.x.p3", "dlq.a.b.p12"}, []string{"dlq.x.pq", "dlq..p1", "xdlq.a.p1"}},
		{"fixed.topic", []string{"fixed.topic"}, []string{"fixedxtopic", "fixed.topic2"}},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			re := regexp.MustCompile(MustTemplate(tt.tmpl).Pattern())
			for _, s := range tt.match {
				if !re.MatchString(s) {
					t.Errorf("%s does not match %q", re, s)
				}
			}
			for _, s := range tt.mismatch {
				if re.MatchString(s) {
					t.Errorf("%s matches %q", re, s)
				}
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SET": "from-env"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name, env, file, want string
		missing               bool
	}{
		{"env", "SET", "", "from-env", false},
		{"env unset", "UNSET", "", "", true},
		{"file", "", pwFile, "from-file", false},
		{"neither", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecret(getenv, tt.env, tt.file)
			if tt.missing != errors.Is(err, ErrSecretMissing) || got != tt.want {
				t.Errorf("ReadSecret = %q, %v", got, err)
			}
		})
	}
	c, err := Parse([]byte(`
kafka: { k: { brokers: [a:1], tls: {}, sasl: { mechanism: PLAIN, user: u, password_env: KPW } } }
nats: { n: { url: "nats://a:4222", user: u, password_file: `+pwFile+` } }
routes:
  - { name: r, from: { kafka: k, topics: [t] }, to: { nats: n }, ruleset: x }
http: { tokens: [ { name: a, token_env: TOK, scopes: [mask] } ] }
`), "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckSecrets(getenv)
	if err == nil || !strings.Contains(err.Error(), "KPW is not set") {
		t.Errorf("CheckSecrets = %v, want it to mention KPW", err)
	}
	// HTTP tokens are httpapi.CheckTokens' to read, by the server's rules.
	if err != nil && strings.Contains(err.Error(), "TOK") {
		t.Errorf("CheckSecrets = %v, want no HTTP token in it", err)
	}
	env["KPW"] = "p"
	if err := c.CheckSecrets(getenv); err != nil {
		t.Errorf("CheckSecrets with everything set: %v", err)
	}
	if pw, _ := c.NATS["n"].Password(getenv); pw != "from-file" {
		t.Errorf("nats password from file = %q", pw)
	}
}
