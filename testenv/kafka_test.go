package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/testenv"
)

// roundTrip produces one record to topic and reads it back.
func roundTrip(t *testing.T, brokers []string, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "hello" {
		t.Fatalf("read back %v", recs)
	}
}

func TestStartKafka(t *testing.T) {
	k := testenv.StartKafka(t)
	if k.Cluster() == nil || len(k.Brokers()) != 1 {
		t.Fatalf("Cluster() = %v, Brokers() = %v; want an in-process cluster with one broker", k.Cluster(), k.Brokers())
	}
	if err := k.CreateTopics(context.Background(), 3, "made"); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, k.Brokers(), "made")
	roundTrip(t, k.Brokers(), "auto-created")
}

func TestStartKafkaProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs testenv/cmd/kfake; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k, err := testenv.StartKafkaProcess(ctx, testenv.KafkaProcessOptions{Topics: []string{"seeded"}})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if k.Cluster() != nil {
		t.Error("a cluster in its own process has no in-process handle")
	}
	roundTrip(t, k.Brokers(), "seeded")
	// Enough work that the broker's CPU shows in /proc's 10ms ticks.
	busy, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.DefaultProduceTopic("seeded"))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		recs := make([]*kgo.Record, 1000)
		for i := range recs {
			recs[i] = &kgo.Record{Value: make([]byte, 512)}
		}
		if err := busy.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	busy.Close()
	if cpu := k.ProcessCPU(); cpu <= 0 {
		t.Errorf("ProcessCPU() = %v after 20,000 produced records; want the broker process's CPU time", cpu)
	}
	k.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	defer pcancel()
	if err := cl.Ping(pctx); err == nil {
		t.Error("the kfake process still answers after Close")
	}
}
