// Command kfake runs franz-go's fake Kafka cluster in its own process, so
// benchmarks measure maskstream without the broker's CPU and memory. It
// prints "KFAKE_BROKERS host:port[,host:port...]" on stdout once ready and
// runs until SIGINT or SIGTERM. testenv.StartKafkaProcess starts it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	brokers := flag.Int("brokers", 1, "number of brokers")
	partitions := flag.Int("partitions", 4, "partitions of auto-created and -topics topics")
	topics := flag.String("topics", "", "comma-separated topics to create at start")
	flag.Parse()

	opts := []kfake.Opt{
		kfake.NumBrokers(*brokers),
		kfake.DefaultNumPartitions(*partitions),
		kfake.AllowAutoTopicCreation(),
	}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*topics, ",")...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Println("KFAKE_BROKERS " + strings.Join(c.ListenAddrs(), ","))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
