package nats_test

import (
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// jetStreamHarness builds a fresh pair of streams on n for each subtest.
func jetStreamHarness(n *testenv.NATS) func(t *testing.T) testenv.Harness {
	return func(t *testing.T) testenv.Harness {
		id := unique("")
		in, out := "IN"+id, "OUT"+id
		inSubj, outSubj := "in."+id+".x", "out."+id+".x"
		ctx := ctxT(t, defaultWait)
		if err := n.CreateStream(ctx, in, "in."+id+".>"); err != nil {
			t.Fatal(err)
		}
		if err := n.CreateStream(ctx, out, "out."+id+".>"); err != nil {
			t.Fatal(err)
		}
		js := jsClient(t, n)
		return testenv.Harness{
			NewSource: func(t *testing.T) connectors.Source {
				src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{
					Stream: in, Durable: "maskstream", FetchWait: time.Second, StopTimeout: 5 * time.Second,
				}, testLogger(t))
				if err != nil {
					t.Fatal(err)
				}
				return src
			},
			NewSink: func(t *testing.T) connectors.Sink {
				sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, testLogger(t))
				if err != nil {
					t.Fatal(err)
				}
				return sink
			},
			Produce:   func(t *testing.T, recs ...*connectors.Record) { publish(t, js, inSubj, recs...) },
			Consume:   func(t *testing.T, k int) []*connectors.Record { return readStream(t, js, out, k) },
			SinkTopic: outSubj,
		}
	}
}

func TestConformanceJetStream(t *testing.T) {
	n := testenv.StartNATS(t)
	testenv.RunConnectorSuite(t, testenv.Features{Redelivery: true, Attempts: true}, jetStreamHarness(n))
}

// TestConformanceJetStreamExternal runs the same suite against the
// nats-server binary on PATH (Debian ships 2.9), proving nothing newer is
// used on the wire.
func TestConformanceJetStreamExternal(t *testing.T) {
	if testing.Short() {
		t.Skip("interop with an external nats-server is skipped in -short mode")
	}
	n := testenv.StartExternalNATS(t)
	testenv.RunConnectorSuite(t, testenv.Features{Redelivery: true, Attempts: true}, jetStreamHarness(n))
}
