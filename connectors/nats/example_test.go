package nats_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/nats"
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
		fmt.Printf("%s seq=%d attempt=%d value=%s\n", r.Origin.Topic, r.Origin.Offset, r.Attempt, r.Value)
	}
	err := l.src.Ack(ctx, recs)
	l.stop()
	return err
}

func (printLane) Stop(context.Context) {}

// A JetStream sink stores a record; a durable pull consumer reads it back
// as one lane and acks it.
func Example() {
	dir, err := os.MkdirTemp("", "maskstream-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	n, err := testenv.NewNATS(dir) // an embedded nats-server with JetStream
	if err != nil {
		log.Fatal(err)
	}
	defer n.Shutdown()
	ctx := context.Background()
	if err := n.CreateStream(ctx, "MASKED", "masked.>"); err != nil {
		log.Fatal(err)
	}

	sink, err := nats.NewJetStreamSink(n.ServerConfig(), nats.JetStreamSinkConfig{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	rec := &connectors.Record{Topic: "masked.events", Partition: -1, Value: []byte(`{"id":1}`)}
	if err := sink.Write(ctx, rec, func(err error) { done <- err }); err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored:", <-done)
	sink.Close()

	src, err := nats.NewJetStreamSource(n.ServerConfig(), nats.JetStreamSourceConfig{Stream: "MASKED", Durable: "example"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	runCtx, stop := context.WithCancel(ctx)
	err = src.Run(runCtx, func(id connectors.LaneID) connectors.Lane {
		fmt.Println("lane:", id.Topic)
		return printLane{src: src, stop: stop}
	})
	fmt.Println("run:", err)
	// Output:
	// stored: <nil>
	// lane: MASKED/example
	// masked.events seq=1 attempt=1 value={"id":1}
	// run: context canceled
}
