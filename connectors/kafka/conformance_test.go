package kafka_test

import (
	"testing"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

func TestConformance(t *testing.T) {
	k := testenv.StartKafka(t)
	const partitions = 4
	testenv.RunConnectorSuite(t, testenv.Features{
		Keys: true, Timestamps: true, Tombstones: true, Redelivery: true, Partitions: partitions,
	}, func(t *testing.T) testenv.Harness {
		in, out, group := unique("in"), unique("out"), unique("group")
		if err := k.CreateTopics(ctxT(t, defaultWait), partitions, in, out); err != nil {
			t.Fatal(err)
		}
		return testenv.Harness{
			NewSource: func(t *testing.T) connectors.Source { return newSource(t, k, in, group) },
			NewSink:   func(t *testing.T) connectors.Sink { return newSink(t, k, kafka.SinkConfig{}) },
			Produce:   func(t *testing.T, recs ...*connectors.Record) { produce(t, k, in, recs...) },
			Consume:   func(t *testing.T, n int) []*connectors.Record { return consume(t, k, out, n) },
			SinkTopic: out,
		}
	})
}
