package config

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRouteChecks: checks across routes refuse what loops, splits a queue
// group or leaks dead letters into masked output, on any name of a
// cluster, and accept the configs that only look alike.
func TestRouteChecks(t *testing.T) {
	const clusters = `
kafka:
  prod: { brokers: [p1:9092, p2:9092] }
  prod-alias: { brokers: ["P2:9092"] }
  dev: { brokers: [d:9092] }
nats:
  main: { url: "nats://n:4222" }
  main-alias: { url: "tls://N" }
routes:
`
	tests := []struct {
		name, routes string
		want         string // "" when the config is fine
	}{
		{"fixed loop through an alias", `
  - name: a
    from: { kafka: prod, topics: [orders] }
    to: { kafka: prod-alias, topic: orders }`, `route "a" writes to topic "orders", which it also reads`},
		{"regex route reading its own template through an alias", `
  - name: a
    from: { kafka: prod, topic_regex: '^orders' }
    to: { kafka: prod-alias, topic: "{topic}.masked" }`, ""},
		{"dead letter equal to own fixed to", `
  - name: a
    from: { kafka: prod, topics: [orders] }
    to: { kafka: dev, topic: orders }
    dead_letter: { kafka: dev, topic: orders }`, `route "a" dead_letter topic "orders" on dev is among the names its own to`},
		{"dead letter template equal to another route's template", `
  - name: a
    from: { kafka: prod, topics: [orders] }
    to: { kafka: dev, topic: "{topic}.masked" }
  - name: b
    from: { kafka: prod-alias, topics: [orders] }
    to: { kafka: dev, topic: "b.{topic}" }
    dead_letter: { kafka: dev, topic: "{topic}.masked" }`, `route "b" dead_letter topic "orders.masked" on dev is among the names route "a"'s to`},
		{"dead letter templates that cannot meet", `
  - name: a
    from: { kafka: prod, topics: [orders] }
    to: { kafka: dev, topic: "{topic}.masked" }
  - name: b
    from: { kafka: prod, topics: [payments] }
    to: { kafka: dev, topic: "b.{topic}" }
    dead_letter: { kafka: dev, topic: "{topic}.masked" }`, ""},
		{"dead letter on another cluster than the output", `
  - name: a
    from: { kafka: prod, topics: [orders] }
    to: { kafka: dev, topic: "{topic}.masked" }
    dead_letter: { kafka: prod, topic: "orders.masked" }`, ""},
		{"dead letter among a bare {topic} output's names", `
  - name: a
    from: { nats: main, subject: "orders.*" }
    to: { kafka: dev, topic: "{subject}" }
    dead_letter: { kafka: dev, topic: "orders.x" }`, `route "a" dead_letter topic "orders.x" on dev is among the names its own to ("{subject}")`},
		{"dead letter beside a bare {topic} output", `
  - name: a
    from: { nats: main, subject: "orders.*" }
    to: { kafka: dev, topic: "{subject}" }
    dead_letter: { kafka: dev, topic: "dlq" }`, ""},
		{"nats dead letter through an alias", `
  - name: a
    from: { nats: main, subject: "events.>" }
    to: { nats: main, subject: "masked.{subject}" }
    dead_letter: { nats: main-alias, subject: "masked.dead" }`, `route "a" dead_letter subject "masked.dead" on main-alias is among the names its own to`},
		{"three routes in a circle", `
  - name: a
    from: { kafka: prod, topics: [x] }
    to: { kafka: dev, topic: "{topic}" }
  - name: b
    from: { kafka: dev, topics: [x] }
    to: { nats: main, subject: "k.{topic}" }
  - name: c
    from: { nats: main-alias, subject: "k.*" }
    to: { kafka: prod-alias, topic: "x" }`, `route "a" to writes topic "x" on dev, which route "b" reads; route "b" to writes subject "k.x" on main, which route "c" reads; route "c" to writes topic "x" on prod-alias, which route "a" reads`},
		{"a chain", `
  - name: a
    from: { kafka: prod, topics: [x] }
    to: { kafka: dev, topic: "{topic}" }
  - name: b
    from: { kafka: dev, topics: [x] }
    to: { nats: main, subject: "k.{topic}" }`, ""},
		{"a loop through a regex's sample", `
  - name: a
    from: { kafka: prod, topic_regex: '^(orders|payments)$' }
    to: { kafka: dev, topic: "{topic}" }
  - name: b
    from: { kafka: dev, topic_regex: '^payments$' }
    to: { kafka: prod, topic: "{topic}" }`, `route "a" to writes topic "payments" on dev, which route "b" reads`},
		{"jetstream without subject: its stream is unknown", `
  - name: a
    from: { nats: main, stream: S }
    to: { kafka: dev, topic: "x" }
    dead_letter: { nats: main, subject: "dlq.a", jetstream: true }
  - name: b
    from: { kafka: dev, topics: [x] }
    to: { nats: main, subject: "y" }`, ""},
		{"one queue group on overlapping subjects through an alias", `
  - name: a
    from: { nats: main, subject: "a.*.c", queue: q }
    to: { kafka: dev, topic: "a" }
  - name: b
    from: { nats: main-alias, subject: "a.b.*", queue: q }
    to: { kafka: dev, topic: "b" }`, `routes "a" and "b" subscribe to overlapping subjects ("a.*.c", "a.b.*") in one queue group "q"`},
		{"one queue group on disjoint subjects", `
  - name: a
    from: { nats: main, subject: "a.*.c", queue: q }
    to: { kafka: dev, topic: "a" }
  - name: b
    from: { nats: main, subject: "a.*.d", queue: q }
    to: { kafka: dev, topic: "b" }`, ""},
		{"one durable through an alias", `
  - name: a
    from: { nats: main, stream: S, durable: d, subject: "a.>" }
    to: { kafka: dev, topic: "a" }
  - name: b
    from: { nats: main-alias, stream: S, durable: d, subject: "b.>" }
    to: { kafka: dev, topic: "b" }`, `routes "a" and "b" read with the same consumer (group or durable) on main-alias`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := strings.ReplaceAll(tt.routes, "\n  - name", "\n    ruleset: r\n  - name") + "\n    ruleset: r\n"
			_, err := Parse([]byte(clusters+strings.TrimPrefix(routes, "\n    ruleset: r\n")), "c.yaml")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("accepted, want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFiltersOverlap(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.*", "a.b", true}, {"a.>", "a.b.c", true}, {">", "x", true},
		{"a.*", "a.b.c", false}, {"a.b", "a.c", false}, {"a.>", "a", false}, {"*.b", "a.*", true},
	} {
		if got := filtersOverlap(tt.a, tt.b); got != tt.want {
			t.Errorf("filtersOverlap(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestRegexSamples: every sample is a topic name the regexp matches.
func TestRegexSamples(t *testing.T) {
	for _, tt := range []struct {
		re   string
		want []string
	}{
		{`^orders`, []string{"orders"}},
		{`^shop\..*`, []string{"shop.x"}},
		{`^(orders|pay[a-z]+)\.v[0-9]{2}$`, []string{"orders.v00", "paya.v00"}},
		{`\bx\b`, []string{"x"}},
		{`[^a-zA-Z0-9._-]`, nil},
	} {
		got := regexSamples(tt.re)
		if !slices.Equal(got, tt.want) {
			t.Errorf("regexSamples(%q) = %q, want %q", tt.re, got, tt.want)
		}
		for _, s := range got {
			if !regexp.MustCompile(tt.re).MatchString(s) {
				t.Errorf("%q does not match %q", s, tt.re)
			}
		}
	}
}
