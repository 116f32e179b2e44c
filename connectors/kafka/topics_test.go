package kafka_test

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// logBuffer is a logger whose output a test can search.
type logBuffer struct{ testenv.LogBuffer }

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// lines are the logged lines holding every one of subs.
func (b *logBuffer) lines(subs ...string) []string {
	var out []string
	for l := range strings.SplitSeq(b.String(), "\n") {
		all := l != ""
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

// fastMetadata refreshes metadata often, so a test sees new topics and
// partitions in seconds rather than DefaultMetadataMaxAge.
func fastMetadata(k *testenv.Kafka) kafka.ClusterConfig {
	cc := k.ClusterConfig()
	cc.MetadataMinAge, cc.MetadataMaxAge = 50*time.Millisecond, 2*time.Second
	return cc
}

func topicExists(t *testing.T, k *testenv.Kafka, topic string) bool {
	t.Helper()
	tds, err := admin(t, k).ListTopics(ctxT(t, defaultWait), topic)
	if err != nil {
		t.Fatal(err)
	}
	return tds.Has(topic) && tds[topic].Err == nil
}

// TestSinkCreatesMissingTopic: on a cluster that creates topics on demand
// (Kafka's default), a record for a topic that does not exist yet is
// stored, as kcat's would be, and Preflight creates the fixed topics.
func TestSinkCreatesMissingTopic(t *testing.T) {
	k := testenv.StartKafka(t)
	fixed, later := unique("fixed"), unique("later")
	sink := newSink(t, k, kafka.SinkConfig{Topics: []string{fixed}})
	if err := sink.Preflight(ctxT(t, defaultWait)); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	if !topicExists(t, k, fixed) {
		t.Errorf("Preflight did not have the cluster create %s", fixed)
	}
	done := make(chan error, 1)
	if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: later, Partition: -1, Value: []byte(`{"seq":1}`)}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
	case <-time.After(defaultWait):
		t.Fatalf("the record for %s was not stored: the producer does not let the cluster create the topic", later)
	}
	if got := consume(t, k, later, 1); string(got[0].Value) != `{"seq":1}` {
		t.Errorf("%s holds %q", later, got[0].Value)
	}
}

// TestSinkPreflightMissingTopic: on a cluster that does not create topics,
// Preflight names each fixed topic that is missing and says to create it;
// once it exists, Preflight passes.
func TestSinkPreflightMissingTopic(t *testing.T) {
	k := testenv.StartKafka(t)
	k.RefuseAutoCreate()
	present, absent := unique("present"), unique("absent")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, present); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t, k, kafka.SinkConfig{Topics: []string{present, absent}})
	err := sink.Preflight(ctxT(t, defaultWait))
	if err == nil || !strings.Contains(err.Error(), "create topic "+absent) || !strings.Contains(err.Error(), "auto.create.topics.enable") {
		t.Fatalf("Preflight = %v, want an error saying to create topic %s", err, absent)
	}
	if strings.Contains(err.Error(), present) {
		t.Errorf("Preflight = %v, which names %s although it exists", err, present)
	}
	if topicExists(t, k, absent) {
		t.Fatalf("%s exists although the cluster does not create topics", absent)
	}
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, absent); err != nil {
		t.Fatal(err)
	}
	if err := sink.Preflight(ctxT(t, defaultWait)); err != nil {
		t.Errorf("Preflight once %s exists: %v", absent, err)
	}
}

// TestSinkWarnsMissingTopic: a record for a topic that does not exist,
// on a cluster that does not create topics (a templated destination),
// waits; the log names the topic and says to create it, rather than
// only that its max.message.bytes cannot be read. Once the topic is
// created, the record is stored.
func TestSinkWarnsMissingTopic(t *testing.T) {
	k := testenv.StartKafka(t)
	k.RefuseAutoCreate()
	var logs logBuffer
	sink, err := kafka.NewSink(fastMetadata(k), kafka.SinkConfig{CloseTimeout: time.Second}, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	topic := unique("templated")
	done := make(chan error, 1)
	if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: topic, Partition: -1, Value: []byte(`{"seq":1}`)}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a warning naming the missing topic", func() bool {
		return len(logs.lines("level=WARN", "topic="+topic, "does not exist", "create the topic")) > 0
	})
	if got := logs.lines("max.message.bytes"); len(got) > 0 {
		t.Errorf("the missing topic is reported as an unreadable limit: %q", got)
	}
	select {
	case err := <-done:
		t.Fatalf("done(%v) before the topic exists, want the record to wait", err)
	default:
	}
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("done(%v) once the topic exists, want nil", err)
		}
	case <-time.After(defaultWait):
		t.Fatal("the record was not stored once its topic was created")
	}
}

// TestSourceWarnsMissingTopic: a listed source topic that does not exist
// is named in a warning at start (the route would otherwise look idle);
// one that exists is not.
func TestSourceWarnsMissingTopic(t *testing.T) {
	for _, exactlyOnce := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "exactly-once"}[exactlyOnce]
		t.Run(name, func(t *testing.T) {
			k := testenv.StartKafka(t)
			k.RefuseAutoCreate()
			present, absent := unique("present"), unique("absent")
			if err := k.CreateTopics(ctxT(t, defaultWait), 1, present); err != nil {
				t.Fatal(err)
			}
			var logs logBuffer
			scfg := kafka.SourceConfig{Topics: []string{present, absent}, Group: unique("g"), StopTimeout: 5 * time.Second}
			var src connectors.Source
			if exactlyOnce {
				s, sink, err := kafka.NewTransactionalRoute(k.ClusterConfig(), scfg, kafka.SinkConfig{}, unique("txn"), logs.logger())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = sink.Close() })
				src = s
			} else {
				s, err := kafka.NewSource(k.ClusterConfig(), scfg, logs.logger())
				if err != nil {
					t.Fatal(err)
				}
				src = s
			}
			runSource(t, src, newLaneLog(t, src).opener)
			waitFor(t, "a warning naming the missing source topic", func() bool {
				return len(logs.lines("level=WARN", "source topic does not exist", "topic="+absent)) > 0
			})
			if got := logs.lines("source topic does not exist", "topic="+present+" "); len(got) > 0 {
				t.Errorf("warned about %s, which exists: %q", present, got)
			}
		})
	}
}

// TestSourceStartLatestLateTopics: with start latest, records present when
// the source is built are skipped, but a topic matching topic_regex or a
// partition created while it runs is read from its first record, even
// those written before the source noticed it (at its next metadata
// refresh, every MetadataMaxAge).
func TestSourceStartLatestLateTopics(t *testing.T) {
	k := testenv.StartKafka(t)
	prefix := unique("late")
	first, second := prefix+".a", prefix+".b"
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, first); err != nil {
		t.Fatal(err)
	}
	produce(t, k, first, seqRecords("old", 5, 1)...)
	// The old records are stamped before the source is built.
	time.Sleep(20 * time.Millisecond)
	log := startLatest(t, k, first, kafka.SourceConfig{TopicRegex: "^" + regexp.QuoteMeta(prefix) + `\.`})

	// A new matching topic and a new partition of the consumed one,
	// written to at once: before the source's next metadata refresh.
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, second); err != nil {
		t.Fatal(err)
	}
	if _, err := admin(t, k).CreatePartitions(ctxT(t, defaultWait), 1, first); err != nil {
		t.Fatal(err)
	}
	late := seqRecords("late", 10, 1)
	produce(t, k, second, late[:5]...)
	for _, r := range late[5:] {
		r.Partition = 1
	}
	produce(t, k, first, late[5:]...)
	waitFor(t, "every record of the new topic and partition", func() bool { return len(log.seen("late")) == 10 })
	if old := log.seen("old"); len(old) > 0 {
		t.Errorf("read %d records written before the source started, want none (start latest)", len(old))
	}
}

// TestClusterMetadataAges: the ages given to kgo always satisfy it (max
// at least min), a set age wins over the other's default, and
// contradictory settings are refused.
func TestClusterMetadataAges(t *testing.T) {
	base := func(minAge, maxAge time.Duration) kafka.ClusterConfig {
		return kafka.ClusterConfig{Brokers: []string{"127.0.0.1:1"}, MetadataMinAge: minAge, MetadataMaxAge: maxAge}
	}
	for _, tt := range []struct {
		name           string
		minAge, maxAge time.Duration
		ok             bool
	}{
		{"defaults", 0, 0, true},
		{"short max age alone", 0, time.Second, true},
		{"long min age alone", 2 * time.Minute, 0, true},
		{"both", 100 * time.Millisecond, 2 * time.Second, true},
		{"min above max", 10 * time.Second, time.Second, false},
		{"negative max", 0, -time.Second, false},
		{"max above kgo's bound", 0, 2 * time.Hour, false},
		{"min below kgo's bound", time.Millisecond, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cc := base(tt.minAge, tt.maxAge)
			err := cc.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			// kgo validates its options when the client is built.
			sink, err := kafka.NewSink(cc, kafka.SinkConfig{}, nil)
			if err != nil {
				t.Fatalf("NewSink: %v", err)
			}
			_ = sink.Close()
		})
	}
}

// TestSourceStartLatestSkipsFutureStamped: a record written before the
// source started but stamped in the future (a producer's clock ahead, an
// event time) does not move start: latest back to it on a partition that
// existed at start: those begin at their end, as Kafka's latest does.
func TestSourceStartLatestSkipsFutureStamped(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("fut")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	old := seqRecords("old", 5, 1)
	old[0].Timestamp = time.Now().Add(time.Hour)
	for _, r := range old[1:] {
		r.Timestamp = time.Now().Add(-time.Minute)
	}
	produce(t, k, topic, old...)
	log := startLatest(t, k, topic, kafka.SourceConfig{Topics: []string{topic}})
	if n := len(log.seen("old")); n > 0 {
		t.Errorf("start latest read %d records written before the source started", n)
	}
}

// startLatest runs a start: latest source of cfg's topics and returns once
// it has read a record written to warm after it started, so its partitions
// have a position.
func startLatest(t *testing.T, k *testenv.Kafka, warm string, cfg kafka.SourceConfig) *laneLog {
	t.Helper()
	cfg.Group, cfg.StartOffset = unique("g"), kafka.StartLatest
	cfg.StopTimeout, cfg.CommitInterval = 5*time.Second, 200*time.Millisecond
	src, err := kafka.NewSource(fastMetadata(k), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	log := newLaneLog(t, src)
	runSource(t, src, log.opener)
	for i := 0; len(log.seen("warm")) == 0; i++ {
		if i == 100 {
			t.Fatal("the source never read the records written after it started")
		}
		produce(t, k, warm, seqRecords("warm", 1, 1)...)
		time.Sleep(100 * time.Millisecond)
	}
	return log
}

// TestSourceWarnsRegexMatchesNothing: a topic_regex that matches no topic
// (here, only through exclude_topics or a wrong case) is named in a warning
// at start; one that matches a topic is not.
func TestSourceWarnsRegexMatchesNothing(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("Orders")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		regex   string
		exclude []string
		warn    bool
	}{
		{"matches", "^" + topic + "$", nil, false},
		{"wrong case", "^" + strings.ToLower(topic) + "$", nil, true},
		{"all excluded", "^" + topic + "$", []string{"^" + topic}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			src, err := kafka.NewSource(k.ClusterConfig(), kafka.SourceConfig{
				TopicRegex: tt.regex, ExcludeTopics: tt.exclude, Group: unique("g"), StopTimeout: 5 * time.Second,
			}, logs.logger())
			if err != nil {
				t.Fatal(err)
			}
			lanes := newLaneLog(t, src)
			r := runSource(t, src, lanes.opener)
			if tt.warn {
				waitFor(t, "a warning that topic_regex matches nothing", func() bool {
					return len(logs.lines("level=WARN", "topic_regex matches no topic")) > 0
				})
				return
			}
			// Running proves the check ran: it comes before the first poll.
			produce(t, k, topic, seqRecords("rx", 1, 1)...)
			waitFor(t, "the record to be read", func() bool { return len(lanes.seen("rx")) > 0 })
			r.stop(t)
			if got := logs.lines("topic_regex matches no topic"); len(got) > 0 {
				t.Errorf("warned although %s matches: %q", topic, got)
			}
		})
	}
}
