package nats_test

import (
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

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

// coreHarness builds fresh subjects on n for each subtest. Core NATS
// keeps nothing, so the sink's output is read from a stream capturing its
// subject: the stream only listens, as any subscriber would.
func coreHarness(n *testenv.NATS) func(t *testing.T) testenv.Harness {
	return func(t *testing.T) testenv.Harness {
		id := unique("")
		inSubj, outSubj, out := "cin."+id+".x", "cout."+id+".x", "COUT"+id
		if err := n.CreateStream(ctxT(t, defaultWait), out, "cout."+id+".>"); err != nil {
			t.Fatal(err)
		}
		js := jsClient(t, n)
		return testenv.Harness{
			NewSource: func(t *testing.T) connectors.Source {
				// MaxBatch below the suite's backlogs, so backpressure
				// sees more than one Deliver.
				src, err := nats.NewCoreSource(n.ServerConfig(), nats.CoreSourceConfig{
					Subject: "cin." + id + ".>", MaxBatch: 50, StopTimeout: 5 * time.Second,
				}, testLogger(t))
				if err != nil {
					t.Fatal(err)
				}
				return src
			},
			NewSink: func(t *testing.T) connectors.Sink {
				sink, err := nats.NewCoreSink(n.ServerConfig(), nats.CoreSinkConfig{}, testLogger(t))
				if err != nil {
					t.Fatal(err)
				}
				return sink
			},
			Produce: func(t *testing.T, recs ...*connectors.Record) {
				t.Helper()
				nc := js.Conn()
				for _, r := range recs {
					if err := nc.PublishMsg(&natsgo.Msg{Subject: inSubj, Data: r.Value, Header: withKey(toHeader(r.Headers), r.Key)}); err != nil {
						t.Fatalf("publishing to %s: %v", inSubj, err)
					}
				}
				if err := nc.FlushTimeout(defaultWait); err != nil {
					t.Fatal(err)
				}
			},
			Consume:   func(t *testing.T, k int) []*connectors.Record { return readStream(t, js, out, k) },
			SinkTopic: outSubj,
		}
	}
}

// TestConformanceCore runs the suite on core NATS: at most once, so no
// redelivery, and the source sees only what is published while it runs.
func TestConformanceCore(t *testing.T) {
	n := testenv.StartNATS(t)
	testenv.RunConnectorSuite(t, testenv.Features{Keys: true, Live: true}, coreHarness(n))
}

func TestConformanceJetStream(t *testing.T) {
	n := testenv.StartNATS(t)
	testenv.RunConnectorSuite(t, testenv.Features{Keys: true, Redelivery: true, Attempts: true}, jetStreamHarness(n))
}

// TestConformanceJetStreamExternal runs the same suite against the
// nats-server binary on PATH (Debian ships 2.9), proving nothing newer is
// used on the wire.
func TestConformanceJetStreamExternal(t *testing.T) {
	if testing.Short() {
		t.Skip("interop with an external nats-server is skipped in -short mode")
	}
	n := testenv.StartExternalNATS(t)
	testenv.RunConnectorSuite(t, testenv.Features{Keys: true, Redelivery: true, Attempts: true}, jetStreamHarness(n))
}
