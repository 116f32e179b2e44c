package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureTopics creates the topics that do not exist yet with the given
// partition count and the broker's default replication. Existing topics
// are left as they are (their partition count is not changed). It is a
// helper for the demo and tests; production topics are an operator's
// decision.
func EnsureTopics(ctx context.Context, cluster ClusterConfig, topics []string, partitions int32) error {
	if partitions <= 0 {
		return errors.New("kafka: EnsureTopics needs partitions > 0")
	}
	opts, err := cluster.clientOpts(nil)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: building admin client: %w", err)
	}
	defer cl.Close()
	resps, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("kafka: creating topics: %w", err)
	}
	var errs []error
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("kafka: creating topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}
