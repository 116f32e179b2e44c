package kafka_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/internal/netx/netxtest"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// TestTLS serves kfake over TLS (with generated certificates) and moves
// a record through a Sink and a Source of the cluster; a client that
// does not trust the broker's CA, or that the broker does not trust, is
// refused with the TLS reason in the error.
func TestTLS(t *testing.T) {
	ca := netxtest.NewCA(t, "kafka")
	other := netxtest.NewCA(t, "other")
	clientCA := netxtest.NewCA(t, "clients")
	clientCert, clientKey := clientCA.Issue(t, "maskstream")

	tests := []struct {
		name string
		opts []kfake.Opt
		good kafka.ClusterConfig // TLS (and SASL) fields only
		bad  []refused
	}{{
		name: "server certificate",
		opts: []kfake.Opt{kfake.TLS(ca.ServerTLS(t, nil))},
		good: kafka.ClusterConfig{TLS: &kafka.TLSConfig{CAFile: ca.CAFile}},
		bad: []refused{
			{"untrusted ca", kafka.ClusterConfig{TLS: &kafka.TLSConfig{CAFile: other.CAFile}}, "certificate signed by unknown authority"},
			{"system roots", kafka.ClusterConfig{TLS: &kafka.TLSConfig{}}, "certificate signed by unknown authority"},
			{"wrong server name", kafka.ClusterConfig{TLS: &kafka.TLSConfig{CAFile: ca.CAFile, ServerName: "kafka.example"}}, "not kafka.example"},
		},
	}, {
		name: "client certificate",
		opts: []kfake.Opt{kfake.TLS(ca.ServerTLS(t, clientCA))},
		good: kafka.ClusterConfig{TLS: &kafka.TLSConfig{CAFile: ca.CAFile, CertFile: clientCert, KeyFile: clientKey}},
		bad: []refused{
			{"no client certificate", kafka.ClusterConfig{TLS: &kafka.TLSConfig{CAFile: ca.CAFile}}, "certificate required"},
		},
	}, {
		name: "SCRAM over TLS",
		opts: []kfake.Opt{
			kfake.TLS(ca.ServerTLS(t, nil)),
			kfake.EnableSASL(), kfake.Superuser(kafka.MechanismScramSHA512, "maskstream", "s3cret"),
		},
		good: kafka.ClusterConfig{
			TLS:  &kafka.TLSConfig{CAFile: ca.CAFile},
			SASL: &kafka.SASLConfig{Mechanism: kafka.MechanismScramSHA512, User: "maskstream", Password: "s3cret"},
		},
		bad: []refused{
			{"untrusted ca", kafka.ClusterConfig{
				TLS:  &kafka.TLSConfig{CAFile: other.CAFile},
				SASL: &kafka.SASLConfig{Mechanism: kafka.MechanismScramSHA512, User: "maskstream", Password: "s3cret"},
			}, "certificate signed by unknown authority"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := testenv.StartKafka(t, tt.opts...)
			roundTrip(t, withBrokers(k, tt.good))
			for _, b := range tt.bad {
				t.Run(b.name, func(t *testing.T) {
					err := kafka.EnsureTopics(ctxT(t, defaultWait), withBrokers(k, b.cfg), []string{unique("refused")}, 1)
					if err == nil || !strings.Contains(err.Error(), b.want) {
						t.Fatalf("EnsureTopics = %v, want an error containing %q", err, b.want)
					}
					// A source must stop at start too, saying what to
					// fix, rather than retry a handshake that cannot work.
					src, err := kafka.NewSource(withBrokers(k, b.cfg), kafka.SourceConfig{Topics: []string{unique("refused")}, Group: unique("g")}, testLogger(t))
					if err != nil {
						t.Fatal(err)
					}
					defer src.Close()
					errc := make(chan error, 1)
					go func() { errc <- src.Run(ctxT(t, defaultWait), newLaneLog(t, src).opener) }()
					if err := <-errc; err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "tls") {
						t.Errorf("Source.Run = %v, want an error at once containing %q and the tls setting to check", err, b.want)
					}
				})
			}
		})
	}
}

// refused is a client configuration the TLS cluster must refuse.
type refused struct {
	name string
	cfg  kafka.ClusterConfig
	want string
}

// withBrokers is sec (its TLS and SASL) aimed at k.
func withBrokers(k *testenv.Kafka, sec kafka.ClusterConfig) kafka.ClusterConfig {
	c := k.ClusterConfig()
	c.TLS, c.SASL = sec.TLS, sec.SASL
	return c
}

// roundTrip creates a topic, writes a record with a Sink and reads it
// with a Source, all through cfg.
func roundTrip(t *testing.T, cfg kafka.ClusterConfig) {
	t.Helper()
	topic := unique("tls")
	if err := kafka.EnsureTopics(ctxT(t, defaultWait), cfg, []string{topic}, 1); err != nil {
		t.Fatalf("EnsureTopics: %v", err)
	}
	sink, err := kafka.NewSink(cfg, kafka.SinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	v, _ := json.Marshal(seqValue{"tls", 7})
	done := make(chan error, 1)
	if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: topic, Partition: -1, Value: v}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("produce over TLS: %v", err)
		}
	case <-time.After(defaultWait):
		t.Fatal("the record written over TLS was not acknowledged in time")
	}
	src, err := kafka.NewSource(cfg, kafka.SourceConfig{Topics: []string{topic}, Group: unique("g")}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	log := newLaneLog(t, src)
	runSource(t, src, log.opener)
	waitFor(t, "the record over TLS", func() bool { return log.seen("tls")[7] == 1 })
}
