package kafka

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestMetadataAges: the ages kgo gets. The max age defaults to
// DefaultMetadataMaxAge, not kgo's 5 minutes, and never falls below the
// min age (kgo refuses that).
func TestMetadataAges(t *testing.T) {
	tests := []struct {
		name                string
		minAge, maxAge      time.Duration
		wantMin, wantMaxAge time.Duration
	}{
		{"defaults", 0, 0, kgoDefaultMetadataMinAge, DefaultMetadataMaxAge},
		{"short max age", 0, time.Second, time.Second, time.Second},
		{"long min age", 2 * time.Minute, 0, 2 * time.Minute, 2 * time.Minute},
		{"both", 100 * time.Millisecond, 2 * time.Second, 100 * time.Millisecond, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotMin, gotMax := ClusterConfig{MetadataMinAge: tt.minAge, MetadataMaxAge: tt.maxAge}.metadataAges()
			if gotMin != tt.wantMin || gotMax != tt.wantMaxAge {
				t.Errorf("metadataAges() = %v, %v; want %v, %v", gotMin, gotMax, tt.wantMin, tt.wantMaxAge)
			}
		})
	}
}

// syncBuffer is a log destination tests can read while goroutines write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) count(sub string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), sub)
}

// TestTopicLimitsWatchMissing: a destination topic the cluster neither
// has nor creates is named in a warning again every retryAfter while its
// records wait, not only at the first record; once it exists the warnings
// stop and its limit is learned.
func TestTopicLimitsWatchMissing(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1)) // no auto-creation
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	var logs syncBuffer
	l := newTopicLimits(0, slog.New(slog.NewTextHandler(&logs, nil)))
	l.retryAfter = 20 * time.Millisecond
	l.cl, l.adm = cl, kadm.NewClient(cl)
	defer l.close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const warning = "destination topic does not exist"
	if err := l.learn(ctx, "absent"); err != nil {
		t.Fatal(err)
	}
	for logs.count(warning) < 3 {
		if ctx.Err() != nil {
			t.Fatalf("%d warnings about the missing topic, want one every retryAfter", logs.count(warning))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if logs.count(warning) != logs.count("topic=absent") {
		t.Errorf("the warnings do not name the topic (%d warnings, %d naming it)", logs.count(warning), logs.count("topic=absent"))
	}
	if _, err := l.adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": new("2048")}, "absent"); err != nil {
		t.Fatal(err)
	}
	for l.batchMax("absent") != 2048 {
		if ctx.Err() != nil {
			t.Fatalf("the created topic's limit was not learned: batch cap %d", l.batchMax("absent"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		if _, watched := l.watching.Load("absent"); !watched {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("still watching a topic that exists")
		}
		time.Sleep(10 * time.Millisecond)
	}
	n := logs.count(warning)
	time.Sleep(5 * l.retryAfter)
	if got := logs.count(warning); got != n {
		t.Errorf("%d more warnings after the topic was created", got-n)
	}
}
