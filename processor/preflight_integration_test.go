package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// TestSinkPreflight: a route whose sink cluster refuses its credentials
// fails at start, naming the sink and what to check, and reads nothing;
// without the preflight it would consume, then stall behind the sink's
// retries with no error.
func TestSinkPreflight(t *testing.T) {
	e := newEnv(t, 0, 0)
	prod := testenv.StartKafka(t)
	if err := prod.CreateTopics(context.Background(), 1, "people"); err != nil {
		t.Fatal(err)
	}
	produce(t, kafkaClient(t, prod, manualPartitioner()), people("people", 0, 10, 1)...)

	dev := testenv.StartKafka(t, kfake.EnableSASL(), kfake.Superuser(kafka.MechanismScramSHA256, "maskstream", "right"))
	// kfake drops a connection with wrong credentials; a real broker
	// answers SASL_AUTHENTICATION_FAILED first. Answer as it does.
	c := dev.Cluster()
	c.ControlKey(kmsg.SASLAuthenticate.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "authentication failed: invalid credentials"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	devCfg := dev.ClusterConfig()
	devCfg.SASL = &kafka.SASLConfig{Mechanism: kafka.MechanismScramSHA256, User: "maskstream", Password: "wrong"}
	sink, err := kafka.NewSink(devCfg, kafka.SinkConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, prod, &cfg, []string{"people"}, "g-preflight")
	cfg.Sink, cfg.DeadLetter = sink, sink
	failsAtStart(t, cfg, "sink", "check the credentials")
}

// TestKeepPartitionPreflight: a keep_partition route whose output topic
// has fewer partitions than its source fails at start, naming both topics
// and the partitions it needs, and reads nothing; with enough partitions
// it runs.
func TestKeepPartitionPreflight(t *testing.T) {
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	ctx := context.Background()
	if err := k.CreateTopics(ctx, 4, "kp"); err != nil {
		t.Fatal(err)
	}
	if err := k.CreateTopics(ctx, 1, "kp.masked"); err != nil {
		t.Fatal(err)
	}
	if err := k.CreateTopics(ctx, 4, "kp.wide"); err != nil {
		t.Fatal(err)
	}
	produce(t, kafkaClient(t, k, manualPartitioner()), people("kp", 0, 8, 4)...)
	for _, tc := range []struct{ to, want string }{
		{"{topic}.masked", "keep_partition: topic kp has 4 partitions but its output kp.masked has 1, so records of partitions 1 to 3 could only be dead letters: give kp.masked at least 4 partitions"},
		{"{topic}.wide", ""},
	} {
		t.Run(tc.to, func(t *testing.T) {
			cfg := e.routeConfig("kp", "people")
			kafkaRoute(t, k, &cfg, []string{"kp"}, "g-"+tc.to)
			cfg.Sink = kafkaSink(t, k)
			cfg.KeepPartition = true
			cfg.Topic = mustTemplate(tc.to)
			if tc.want != "" {
				failsAtStart(t, cfg, tc.want)
				return
			}
			rn := e.start(cfg)
			waitFor(t, 30*time.Second, "the route to mask every record", func() bool { return rn.route.Status().RecordsOut == 8 })
		})
	}
}
