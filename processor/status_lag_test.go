package processor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/connectors"
)

// lagFunc is a LagReporter.
type lagFunc func(context.Context) ([]connectors.PartitionLag, error)

func (f lagFunc) Lag(ctx context.Context) ([]connectors.PartitionLag, error) { return f(ctx) }

// TestLagFailuresWarn: a lag lookup that keeps failing (no Describe
// rights on the group) is a warning at once (after the lookup made at
// start), then at most one per lagWarnEvery, and its recovery an info
// line; otherwise the lag alert would never fire with nothing in the log
// to say why.
func TestLagFailuresWarn(t *testing.T) {
	met, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer // one goroutine: pollLag runs in the test's
	r := &Route{
		cfg: RouteConfig{Name: "orders", LagInterval: time.Second},
		log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})),
		met: met.forRoute("orders"),
	}
	denied := errors.New("kafka: lag of group maskstream: GROUP_AUTHORIZATION_FAILED")
	var fail error
	lr := lagFunc(func(context.Context) ([]connectors.PartitionLag, error) {
		if fail != nil {
			return nil, fail
		}
		return []connectors.PartitionLag{{Topic: "orders", Partition: 0, Lag: 7}}, nil
	})
	ctx := context.Background()
	var labels map[string]prometheus.Labels
	steps := []struct {
		name     string
		err      error
		lateWarn bool   // as if lagWarnEvery had passed since the last warning
		want     string // the line logged, or "" for none
	}{
		// As the route starts, a new Kafka group does not exist yet.
		{"at start", denied, false, ""},
		{"first failure after the start", denied, false, `level=WARN msg="consumer lag cannot be read`},
		{"failing on", denied, false, ""},
		{"failing on, minutes later", denied, true, "failures=4"},
		{"recovered", nil, false, `level=INFO msg="consumer lag can be read again" failures=4`},
		{"fine", nil, false, ""},
		{"failing again", denied, false, "failures=1"},
	}
	for _, s := range steps {
		buf.Reset()
		fail = s.err
		if s.lateWarn {
			r.stats.lagWarned = r.stats.lagWarned.Add(-lagWarnEvery)
		}
		labels = r.pollLag(ctx, lr, labels)
		got := strings.TrimSpace(buf.String())
		switch {
		case s.want == "" && got != "":
			t.Errorf("%s: logged %q, want nothing", s.name, got)
		case s.want != "" && (!strings.Contains(got, s.want) || strings.Count(got, "\n") > 0):
			t.Errorf("%s: logged %q, want one line with %q", s.name, got, s.want)
		case s.err != nil && s.want != "" && !strings.Contains(got, "GROUP_AUTHORIZATION_FAILED"):
			t.Errorf("%s: the warning does not say why: %q", s.name, got)
		}
	}

	// A failure at start that the next lookup does not repeat (the
	// group now exists) logs nothing.
	buf.Reset()
	r2 := &Route{cfg: r.cfg, log: r.log, met: r.met}
	fail = denied
	r2.pollLag(ctx, lr, nil)
	fail = nil
	r2.pollLag(ctx, lr, nil)
	if got := buf.String(); got != "" {
		t.Errorf("a failure at start only, then fine: logged %q", got)
	}

	// A lookup cut short because the route stops is not a failure.
	buf.Reset()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	fail = context.Canceled
	r.pollLag(cctx, lr, labels)
	if got := buf.String(); got != "" {
		t.Errorf("a lookup cut short by the stop logged %q", got)
	}
}
