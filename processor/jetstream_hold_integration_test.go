package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// TestJetStreamSinkOutageLongerThanAckWait: the sink (on its own server)
// is down for several ack waits while the route holds records from a
// JetStream source. The source keeps them alive, so the server redelivers
// none: no healthy record reaches max_deliveries and is dead-lettered,
// and every record is produced once the sink is back.
func TestJetStreamSinkOutageLongerThanAckWait(t *testing.T) {
	const (
		count   = 50
		ackWait = 2 * time.Second
	)
	e := newEnv(t, 0, 0)
	src := testenv.StartNATS(t)
	dst := testenv.StartNATS(t)
	ctx := context.Background()
	for _, s := range [][2]string{{"PEOPLE", "people.>"}, {"DLQ", "dlq.>"}} {
		if err := src.CreateStream(ctx, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.CreateStream(ctx, "MASKED", "masked.>"); err != nil {
		t.Fatal(err)
	}
	js := natsJS(t, src)
	source, err := nats.NewJetStreamSource(src.ServerConfig(), nats.JetStreamSourceConfig{Stream: "PEOPLE", Durable: "d", AckWait: ackWait, FetchWait: 500 * time.Millisecond, StopTimeout: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.routeConfig("p", "people")
	cfg.Source = source
	cfg.Sink = jsSink(t, dst)
	cfg.DeadLetter = jsSink(t, src)
	cfg.DeadLetterTopic = mustTemplate("dlq.p")
	cfg.Topic = mustTemplate("masked.{subject}")
	// Any redelivery would be dead-lettered.
	cfg.MaxDeliveries = 1
	rn := e.start(cfg)
	publishPeople(t, js, "people.eu", 0, 5)
	waitFor(t, 30*time.Second, "the first records through", func() bool { return rn.route.Status().RecordsOut == 5 })

	dst.Shutdown()
	publishPeople(t, js, "people.eu", 5, count-5)
	waitFor(t, 30*time.Second, "the route to take every record", func() bool { return rn.route.Status().RecordsIn == count })
	time.Sleep(2*ackWait + ackWait/2)
	cons, err := js.Consumer(ctx, "PEOPLE", "d")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 || info.NumAckPending != count-5 {
		t.Errorf("during the outage: %d redelivered, %d awaiting ack; want 0 and %d", info.NumRedelivered, info.NumAckPending, count-5)
	}

	if err := dst.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every record produced", func() bool { return rn.route.Status().RecordsOut == count })
	st := rn.route.Status()
	if st.DeadLetters != 0 {
		t.Errorf("%d healthy records dead-lettered (%v) because the sink was down for longer than max_deliveries x ack_wait", st.DeadLetters, st.DeadLettersByReason)
	}
	if got := counterValue(e.metrics.DeadLetters.WithLabelValues("p", processor.ReasonMaxDeliveries)); got != 0 {
		t.Errorf("dead_letters_total{reason=max_deliveries} = %v, want 0", got)
	}
	seen := map[int]bool{}
	for _, m := range readStream(t, natsJS(t, dst), "MASKED", "masked.>", count, 30*time.Second) {
		seen[checkMasked(t, m.Data())] = true
	}
	if len(seen) != count {
		t.Errorf("%d distinct records in the sink, want %d", len(seen), count)
	}
	if n := streamMsgs(t, js, "DLQ"); n != 0 {
		t.Errorf("the dead-letter stream holds %d messages, want none", n)
	}
}

// TestJetStreamGracefulRestartKeepsOrder stops and starts a JetStream
// route again and again while it works through a backlog with a short
// lane (so a pull is often waiting for room when the stop comes). Each
// stop lets the pull in progress into the lane, which drains it, so the
// sink receives the stream in order, every record once.
func TestJetStreamGracefulRestartKeepsOrder(t *testing.T) {
	const (
		count  = 10000
		cycles = 4
	)
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	for _, s := range [][2]string{{"PEOPLE", "people.>"}, {"MASKED", "masked.>"}} {
		if err := n.CreateStream(ctx, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	js := natsJS(t, n)
	publishPeople(t, js, "people.eu", 0, count)
	start := func() *running {
		// A record lost at a stop would come back only after AckWait,
		// past the test's wait.
		s, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "PEOPLE", Durable: "d", AckWait: 5 * time.Minute, FetchWait: time.Second, StopTimeout: 20 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg := e.routeConfig("p", "people")
		cfg.Source = s
		cfg.Sink = jsSink(t, n)
		cfg.Topic = mustTemplate("masked.{subject}")
		cfg.LaneQueue = 64
		return e.start(cfg)
	}
	for i := range cycles {
		rn := start()
		// Stop in the middle of the backlog.
		waitFor(t, 30*time.Second, "some records in", func() bool { return rn.route.Status().RecordsIn >= 500 })
		rn.stop(t)
		st := rn.route.Status()
		t.Logf("run %d: %d in, %d out", i, st.RecordsIn, st.RecordsOut)
	}
	start()
	out := readStream(t, js, "MASKED", "masked.>", count, 60*time.Second)
	if len(out) != count {
		t.Fatalf("the sink holds %d records, want %d", len(out), count)
	}
	for i, m := range out {
		if seq := checkMasked(t, m.Data()); seq != i {
			t.Fatalf("sink message %d is record %d: order broken (or a record lost or repeated) across a graceful restart", i, seq)
		}
	}
}

// streamMsgs is the number of messages stream holds.
func streamMsgs(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
