package kafka_test

import (
	"context"
	"fmt"
	"log"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

// printLane prints each record, acks it, and ends the run after the
// first batch.
type printLane struct {
	src  connectors.Source
	stop context.CancelFunc
}

func (l printLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	for _, r := range recs {
		fmt.Printf("%s[%d]@%d key=%s value=%s\n", r.Origin.Topic, r.Origin.Partition, r.Origin.Offset, r.Key, r.Value)
	}
	err := l.src.Ack(ctx, recs)
	l.stop()
	return err
}

func (printLane) Stop(context.Context) {}

// A sink produces asynchronously; done reports the broker's answer. The
// source then reads the record back in a consumer group.
func Example() {
	k, err := testenv.NewKafka() // an in-process kfake cluster
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	cluster := k.ClusterConfig()
	ctx := context.Background()
	if err := kafka.EnsureTopics(ctx, cluster, []string{"orders.masked"}, 1); err != nil {
		log.Fatal(err)
	}

	sink, err := kafka.NewSink(cluster, kafka.SinkConfig{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	rec := &connectors.Record{Topic: "orders.masked", Partition: -1, Key: []byte("c-1"), Value: []byte(`{"id":1}`)}
	if err := sink.Write(ctx, rec, func(err error) { done <- err }); err != nil {
		log.Fatal(err)
	}
	fmt.Println("produced:", <-done)
	sink.Close()

	src, err := kafka.NewSource(cluster, kafka.SourceConfig{Topics: []string{"orders.masked"}, Group: "example"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	runCtx, stop := context.WithCancel(ctx)
	err = src.Run(runCtx, func(connectors.LaneID) connectors.Lane { return printLane{src: src, stop: stop} })
	fmt.Println("run:", err)
	// Output:
	// produced: <nil>
	// orders.masked[0]@0 key=c-1 value={"id":1}
	// run: context canceled
}
