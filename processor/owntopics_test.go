package processor

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/config"
)

// TestOwnTopicsEveryRoute: a topic_regex route skips what every route
// writes on its brokers, under any name of the cluster, and nothing
// written elsewhere.
func TestOwnTopicsEveryRoute(t *testing.T) {
	cfg, err := config.Parse([]byte(`
kafka:
  prod: { brokers: [p1:9092, p2:9092] }
  prod-write: { brokers: [p2:9092] }
  dev: { brokers: [d:9092] }
nats:
  main: { url: "nats://n:4222" }
routes:
  - name: regex
    from: { kafka: prod, topic_regex: '^orders\.' }
    to: { kafka: prod-write, topic: "{topic}.masked" }
    ruleset: r
  - name: list
    from: { kafka: prod-write, topics: [payments] }
    to: { kafka: prod, topic: "{topic}.copy" }
    dead_letter: { kafka: dev, topic: "dlq.list" }
    ruleset: r
  - name: from-nats
    from: { nats: main, subject: "orders.*" }
    to: { kafka: prod, topic: "{subject}" }
    ruleset: r
  - name: elsewhere
    from: { kafka: dev, topics: [refunds] }
    to: { kafka: dev, topic: "refunds.out" }
    ruleset: r
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := ownTopics(cfg, cfg.RouteByName("list")); got != nil {
		t.Errorf("a topic list excludes %q", got)
	}
	exclude := ownTopics(cfg, cfg.RouteByName("regex"))
	excluded := func(topic string) bool {
		return slices.ContainsFunc(exclude, func(p string) bool { return regexp.MustCompile(p).MatchString(topic) })
	}
	for topic, want := range map[string]bool{
		"orders.a.masked":       true,  // its own to, through prod-write
		"maskstream.dlq.regex":  true,  // its own default dead letter
		"payments.copy":         true,  // route list's to
		"maskstream.dlq.list":   false, // list's dead letter is on dev
		"orders.eu":             true,  // what from-nats writes: {subject} over orders.*
		"orders.eu.x":           false, // from-nats never writes it
		"refunds.out":           false, // written on dev
		"orders.b":              true,
		"orders.new-in.masked2": false,
	} {
		if got := excluded(topic); got != want {
			t.Errorf("%s excluded = %v, want %v (patterns %q)", topic, got, want, exclude)
		}
	}
}

// TestOwnTopicsBareTopicMirror: a mirror writing bare {topic} names of a
// topic_regex onto a cluster another topic_regex route reads is no
// exclusion (it would exclude every topic, so the route would read
// nothing); the config warns instead.
func TestOwnTopicsBareTopicMirror(t *testing.T) {
	cfg, err := config.Parse([]byte(`
kafka:
  prod: { brokers: [p:9092] }
  dev: { brokers: [d:9092] }
routes:
  - name: mirror
    from: { kafka: dev, topic_regex: '^app\.' }
    to: { kafka: prod, topic: "{topic}" }
    dead_letter: { kafka: dev, topic: dlq.mirror }
    ruleset: r
  - name: local
    from: { kafka: prod, topic_regex: '^orders\.' }
    to: { kafka: prod, topic: "masked.{topic}" }
    ruleset: r
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exclude := ownTopics(cfg, cfg.RouteByName("local"))
	for _, topic := range []string{"orders.eu", "orders.us"} {
		if slices.ContainsFunc(exclude, func(p string) bool { return regexp.MustCompile(p).MatchString(topic) }) {
			t.Errorf("%s is excluded (patterns %q): route local would read nothing", topic, exclude)
		}
	}
	if !slices.ContainsFunc(exclude, func(p string) bool { return regexp.MustCompile(p).MatchString("masked.orders.eu") }) {
		t.Errorf("local's own output is not excluded (patterns %q)", exclude)
	}
	if !slices.ContainsFunc(cfg.Warnings, func(w string) bool {
		return strings.Contains(w, `route "mirror" to writes topic "{topic}" on prod`) && strings.Contains(w, `route "local"'s topic_regex`)
	}) {
		t.Errorf("no warning names mirror and local: %q", cfg.Warnings)
	}
}
