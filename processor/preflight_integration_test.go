package processor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/processor"
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
	r, err := processor.NewRoute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "sink") || !strings.Contains(err.Error(), "check the credentials") {
			t.Fatalf("Run = %v, want the sink's refusal saying to check the credentials", err)
		}
	case <-ctx.Done():
		t.Fatal("the route did not fail on a sink that refuses its credentials")
	}
	if in := r.Status().RecordsIn; in != 0 {
		t.Errorf("the route read %d records before its sink was known to work, want 0", in)
	}
}
