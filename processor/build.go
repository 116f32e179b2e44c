package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/connectors/nats"
)

// connectorSet is what a route reads and writes, built from the config.
type connectorSet struct {
	source                 connectors.Source
	sink, deadLetter       connectors.Sink
	descSrc, descSink, dlq string
}

func (cs *connectorSet) close() {
	if cs.sink != nil {
		_ = cs.sink.Close()
	}
	if cs.deadLetter != nil && cs.deadLetter != cs.sink {
		_ = cs.deadLetter.Close()
	}
	if cs.source != nil {
		_ = cs.source.Close()
	}
}

// buildConnectors opens the connectors of route rc.
func buildConnectors(cfg *config.Config, rc *config.Route, deps *Deps, log *slog.Logger) (*connectorSet, error) {
	cs := &connectorSet{
		descSrc:  describeSource(&rc.From),
		descSink: describeSink(&rc.To),
		dlq:      describeSink(&rc.DeadLetter),
	}
	fail := func(what string, err error) (*connectorSet, error) {
		cs.close()
		return nil, fmt.Errorf("processor: route %s: %s: %w", rc.Name, what, err)
	}
	if rc.ExactlyOnce {
		cluster, err := kafkaCluster(cfg, rc.From.Kafka, deps.Getenv)
		if err != nil {
			return fail("source", err)
		}
		txnID := fmt.Sprintf("maskstream.%s.%s", rc.Name, deps.InstanceID)
		topics := append(fixedNames(&rc.To), fixedNames(&rc.DeadLetter)...) // one sink produces both
		src, sink, err := kafka.NewTransactionalRoute(cluster, kafkaSourceConfig(cfg, rc), kafka.SinkConfig{CloseTimeout: cfg.DrainTimeout, Compression: rc.To.Compression, Linger: rc.To.Linger, Topics: topics}, txnID, log)
		if err != nil {
			return fail("exactly-once route", err)
		}
		cs.source, cs.sink, cs.deadLetter = src, sink, sink
		return cs, nil
	}
	var err error
	if cs.source, err = buildSource(cfg, rc, deps, log); err != nil {
		return fail("source", err)
	}
	shared := sameDestination(&rc.To, &rc.DeadLetter)
	fixed := fixedNames(&rc.To)
	if shared {
		fixed = append(fixed, fixedNames(&rc.DeadLetter)...) // one sink publishes both
	}
	if cs.sink, err = buildSink(cfg, rc.Name, &rc.To, fixed, deps, log); err != nil {
		return fail("sink", err)
	}
	if shared {
		cs.deadLetter = cs.sink
	} else if cs.deadLetter, err = buildSink(cfg, rc.Name, &rc.DeadLetter, fixedNames(&rc.DeadLetter), deps, log); err != nil {
		return fail("dead_letter", err)
	}
	return cs, nil
}

func sameDestination(a, b *config.Sink) bool {
	return a.Kafka == b.Kafka && a.NATS == b.NATS && (a.Kafka != "" || a.JetStream == b.JetStream)
}

func kafkaSourceConfig(cfg *config.Config, rc *config.Route) kafka.SourceConfig {
	return kafka.SourceConfig{
		Topics:        rc.From.Topics,
		TopicRegex:    rc.From.TopicRegex,
		ExcludeTopics: ownTopics(cfg, rc),
		Group:         rc.From.Group,
		StartOffset:   rc.From.Start,
		StopTimeout:   cfg.DrainTimeout,
	}
}

func jetStreamSourceConfig(cfg *config.Config, rc *config.Route) nats.JetStreamSourceConfig {
	f := &rc.From
	return nats.JetStreamSourceConfig{
		Stream:        f.Stream,
		Durable:       f.Durable,
		FilterSubject: f.Subject,
		DeliverNew:    f.Start == config.StartLatest,
		AckWait:       f.AckWait,
		StopTimeout:   cfg.DrainTimeout,
	}
}

// ownTopics are patterns of the topics that routes write (to and
// dead_letter, every route's) on the brokers route rc reads with a
// topic_regex. Config validation refuses the loops it can see, but a
// template's outputs ({topic}.masked) are only known once topics exist:
// '^prod\..*' would pick up prod.orders.masked and mask it again, and
// again, and take dead letters back in. A regex route consumes no route's
// output, its own or another's.
func ownTopics(cfg *config.Config, rc *config.Route) []string {
	if rc.From.TopicRegex == "" {
		return nil
	}
	return cfg.OutputPatterns(rc.From.Kafka)
}

func buildSource(cfg *config.Config, rc *config.Route, deps *Deps, log *slog.Logger) (connectors.Source, error) {
	f := &rc.From
	if f.IsKafka() {
		cluster, err := kafkaCluster(cfg, f.Kafka, deps.Getenv)
		if err != nil {
			return nil, err
		}
		sc := kafkaSourceConfig(cfg, rc)
		if len(sc.ExcludeTopics) > 0 {
			log.Info("topic_regex will not consume the output or dead-letter topics of any route on this cluster", "excluded", sc.ExcludeTopics)
		}
		return kafka.NewSource(cluster, sc, log)
	}
	server, err := natsServer(cfg, f.NATS, rc.Name, deps.Getenv)
	if err != nil {
		return nil, err
	}
	if f.IsJetStream() {
		src, err := nats.NewJetStreamSource(server, jetStreamSourceConfig(cfg, rc), log)
		if err != nil || f.Subject != "" {
			return src, err
		}
		if err := checkStreamLoop(cfg, rc, src); err != nil {
			_ = src.Close()
			return nil, err
		}
		return src, nil
	}
	return nats.NewCoreSource(server, nats.CoreSourceConfig{Subject: f.Subject, Queue: f.Queue, StopTimeout: cfg.DrainTimeout}, log)
}

// checkStreamLoop refuses a JetStream route without a subject filter whose
// outputs its stream stores (config.StreamLoop): only the server knows
// the stream's subjects.
func checkStreamLoop(cfg *config.Config, rc *config.Route, src *nats.JetStreamSource) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subjects, err := src.StreamSubjects(ctx)
	if err != nil {
		return fmt.Errorf("processor: route %q: checking what its stream stores: %w", rc.Name, err)
	}
	return cfg.StreamLoop(rc, subjects)
}

// fixedNames is s's topic or subject when it holds no placeholder, for
// the sink's preflight: a Kafka sink fails when the topic does not exist
// and the cluster does not create it, a JetStream sink when no stream
// takes the subject. A template's names are only known as records name
// them.
func fixedNames(s *config.Sink) []string {
	if t, err := config.ParseTemplate(s.Template()); err != nil || !t.IsFixed() || s.Template() == "" {
		return nil
	}
	return []string{s.Template()}
}

// buildSink opens a sink; fixed are the names without placeholders it
// checks in its preflight (fixedNames).
func buildSink(cfg *config.Config, route string, s *config.Sink, fixed []string, deps *Deps, log *slog.Logger) (connectors.Sink, error) {
	if s.IsKafka() {
		cluster, err := kafkaCluster(cfg, s.Kafka, deps.Getenv)
		if err != nil {
			return nil, err
		}
		return kafka.NewSink(cluster, kafka.SinkConfig{CloseTimeout: cfg.DrainTimeout, Compression: s.Compression, Linger: s.Linger, Topics: fixed}, log)
	}
	server, err := natsServer(cfg, s.NATS, route, deps.Getenv)
	if err != nil {
		return nil, err
	}
	if s.JetStream {
		return nats.NewJetStreamSink(server, nats.JetStreamSinkConfig{CloseTimeout: cfg.DrainTimeout, Subjects: fixed}, log)
	}
	return nats.NewCoreSink(server, nats.CoreSinkConfig{CloseTimeout: cfg.DrainTimeout}, log)
}

// kafkaCluster maps a configured cluster to the connector's, reading the
// SASL password now (from its environment variable or file).
func kafkaCluster(cfg *config.Config, name string, getenv func(string) string) (kafka.ClusterConfig, error) {
	k := cfg.Kafka[name]
	if k == nil {
		return kafka.ClusterConfig{}, fmt.Errorf("kafka cluster %q is not defined", name)
	}
	out := kafka.ClusterConfig{Brokers: k.Brokers, ClientID: k.ClientID}
	if t := k.TLS; t != nil {
		out.TLS = &kafka.TLSConfig{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	if s := k.SASL; s != nil {
		pw, err := s.Password(getenv)
		if err != nil {
			return out, fmt.Errorf("kafka cluster %q sasl: %w", name, err)
		}
		out.SASL = &kafka.SASLConfig{Mechanism: s.Mechanism, User: s.User, Password: pw}
	}
	return out, nil
}

// natsServer maps a configured server to the connector's, reading its
// password or token now.
func natsServer(cfg *config.Config, name, route string, getenv func(string) string) (nats.ServerConfig, error) {
	n := cfg.NATS[name]
	if n == nil {
		return nats.ServerConfig{}, fmt.Errorf("nats server %q is not defined", name)
	}
	out := nats.ServerConfig{URL: n.URL, CredsFile: n.CredsFile, NKeyFile: n.NkeyFile, User: n.User, Name: "maskstream-" + route}
	var errs []error
	var err error
	if out.Password, err = n.Password(getenv); err != nil {
		errs = append(errs, fmt.Errorf("nats server %q password: %w", name, err))
	}
	if out.Token, err = n.Token(getenv); err != nil {
		errs = append(errs, fmt.Errorf("nats server %q token: %w", name, err))
	}
	if t := n.TLS; t != nil {
		out.TLS = &nats.TLSConfig{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	return out, errors.Join(errs...)
}

// describeSource and describeSink say where a route reads and writes, for
// logs and the status page; they never include credentials.
func describeSource(f *config.Source) string {
	switch {
	case f.IsKafka() && f.TopicRegex != "":
		return fmt.Sprintf("kafka %s topics matching %s (group %s)", f.Kafka, f.TopicRegex, f.Group)
	case f.IsKafka():
		return fmt.Sprintf("kafka %s topics %s (group %s)", f.Kafka, strings.Join(f.Topics, ", "), f.Group)
	case f.IsJetStream():
		subj := f.Subject
		if subj == "" {
			subj = "all subjects"
		}
		return fmt.Sprintf("nats %s stream %s, %s (durable %s)", f.NATS, f.Stream, subj, f.Durable)
	case f.Queue != "":
		return fmt.Sprintf("nats %s subject %s (queue %s)", f.NATS, f.Subject, f.Queue)
	}
	return fmt.Sprintf("nats %s subject %s", f.NATS, f.Subject)
}

func describeSink(s *config.Sink) string {
	switch {
	case s.IsKafka() && s.KeepPartition:
		return fmt.Sprintf("kafka %s topic %s (same partition)", s.Kafka, s.Topic)
	case s.IsKafka():
		return fmt.Sprintf("kafka %s topic %s", s.Kafka, s.Topic)
	case s.JetStream:
		return fmt.Sprintf("nats %s subject %s (jetstream)", s.NATS, s.Subject)
	}
	return fmt.Sprintf("nats %s subject %s", s.NATS, s.Subject)
}
