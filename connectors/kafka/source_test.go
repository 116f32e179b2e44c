package kafka_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/testenv"
)

type seqValue struct {
	Phase string `json:"phase"`
	Seq   int    `json:"seq"`
}

func seqRecords(phase string, n, partitions int) []*connectors.Record {
	out := make([]*connectors.Record, n)
	for i := range out {
		v, _ := json.Marshal(seqValue{phase, i})
		out[i] = &connectors.Record{Value: v, Partition: int32(i % partitions)}
	}
	return out
}

// laneLog records, per source, what each lane got, and checks order.
type laneLog struct {
	t     *testing.T
	src   connectors.Source
	mu    sync.Mutex
	recs  map[connectors.LaneID][]seqValue
	open  map[connectors.LaneID]int
	stops int
	gate  chan struct{}
	// holdLast keeps each lane's latest batch unacked until the next
	// Deliver or Stop, as a processor with work in flight does: acks made
	// in Stop must still be committed before the partition moves.
	holdLast bool
}

func newLaneLog(t *testing.T, src connectors.Source) *laneLog {
	return &laneLog{t: t, src: src, recs: map[connectors.LaneID][]seqValue{}, open: map[connectors.LaneID]int{}}
}

func (l *laneLog) opener(id connectors.LaneID) connectors.Lane {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open[id]++
	return &logLane{log: l, id: id}
}

func (l *laneLog) seen(phase string) map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for _, vs := range l.recs {
		for _, v := range vs {
			if v.Phase == phase {
				out[v.Seq]++
			}
		}
	}
	return out
}

type logLane struct {
	log  *laneLog
	id   connectors.LaneID
	held []*connectors.Record
}

func (l *logLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	if g := l.log.gate; g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.log.mu.Lock()
	for _, r := range recs {
		var v seqValue
		if err := json.Unmarshal(r.Value, &v); err != nil {
			l.log.t.Errorf("lane %v: bad value %q", l.id, r.Value)
		}
		l.log.recs[l.id] = append(l.log.recs[l.id], v)
	}
	l.log.mu.Unlock()
	if !l.log.holdLast {
		return l.log.src.Ack(ctx, recs)
	}
	prev := l.held
	l.held = recs
	if len(prev) == 0 {
		return nil
	}
	return l.log.src.Ack(ctx, prev)
}

func (l *logLane) Stop(ctx context.Context) {
	if len(l.held) > 0 {
		if err := l.log.src.Ack(ctx, l.held); err != nil {
			l.log.t.Errorf("Ack in Stop: %v", err)
		}
		l.held = nil
	}
	l.log.mu.Lock()
	l.log.stops++
	l.log.mu.Unlock()
}

type runner struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func runSource(t *testing.T, src connectors.Source, open func(connectors.LaneID) connectors.Lane) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, open) }()
	t.Cleanup(func() { r.stop(t); _ = src.Close() })
	return r
}

// stop cancels Run and returns its error; it is idempotent.
func (r *runner) stop(t *testing.T) error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(defaultWait):
			t.Error("Run did not return after cancel")
		}
	})
	return r.err
}

// waitFor polls cond until it holds; the deadline guards against hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(defaultWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRebalanceNoLoss runs two sources in one group: the second joining
// takes partitions from the first (whose lanes are stopped and committed),
// the second leaving gives them back; every record is delivered once and
// in order per lane.
func TestRebalanceNoLoss(t *testing.T) {
	k := testenv.StartKafka(t)
	const parts = 4
	topic, group := unique("rebalance"), unique("group")
	if err := k.CreateTopics(ctxT(t, defaultWait), parts, topic); err != nil {
		t.Fatal(err)
	}
	produce(t, k, topic, seqRecords("one", 200, parts)...)

	srcA := newSource(t, k, topic, group)
	logA := newLaneLog(t, srcA)
	logA.holdLast = true
	runSource(t, srcA, logA.opener)
	waitFor(t, "A to read phase one", func() bool { return len(logA.seen("one")) == 200 })

	srcB := newSource(t, k, topic, group)
	logB := newLaneLog(t, srcB)
	logB.holdLast = true
	runB := runSource(t, srcB, logB.opener)
	waitFor(t, "B to own partitions", func() bool {
		lag, err := srcB.Lag(ctxT(t, defaultWait))
		return err == nil && len(lag) > 0
	})
	produce(t, k, topic, seqRecords("two", 200, parts)...)
	waitFor(t, "A and B to read phase two", func() bool { return len(logA.seen("two"))+len(logB.seen("two")) >= 200 })
	if len(logB.seen("two")) == 0 {
		t.Error("B owns partitions but read nothing of phase two")
	}
	logA.mu.Lock()
	stopsA := logA.stops
	logA.mu.Unlock()
	if stopsA == 0 {
		t.Error("A gave partitions to B without stopping their lanes")
	}

	runB.stop(t)
	if err := srcB.Close(); err != nil {
		t.Fatal(err)
	}
	produce(t, k, topic, seqRecords("three", 200, parts)...)
	waitFor(t, "A to read phase three after B left", func() bool { return len(logA.seen("three")) == 200 })

	for _, phase := range []string{"one", "two", "three"} {
		a, b := logA.seen(phase), logB.seen(phase)
		for seq := range 200 {
			if n := a[seq] + b[seq]; n != 1 {
				t.Errorf("phase %s record %d delivered %d times", phase, seq, n)
			}
		}
	}
	for _, l := range []*laneLog{logA, logB} {
		for id, vs := range l.recs {
			for i := 1; i < len(vs); i++ {
				if vs[i].Phase == vs[i-1].Phase && vs[i].Seq <= vs[i-1].Seq {
					t.Errorf("lane %v: %v after %v", id, vs[i], vs[i-1])
				}
			}
		}
	}
}

// TestLag reports high watermark minus committed for owned partitions:
// the backlog while the lane is blocked, zero once it is acked.
func TestLag(t *testing.T) {
	k := testenv.StartKafka(t)
	topic, group := unique("lag"), unique("group")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	produce(t, k, topic, seqRecords("lag", 20, 1)...)
	src := newSource(t, k, topic, group)
	log := newLaneLog(t, src)
	log.gate = make(chan struct{})
	runSource(t, src, log.opener)
	lagOf := func() int64 {
		lag, err := src.Lag(ctxT(t, defaultWait))
		if err != nil || len(lag) != 1 {
			return -1
		}
		return lag[0].Lag
	}
	waitFor(t, "lag 20 while the lane is blocked", func() bool { return lagOf() == 20 })
	close(log.gate)
	waitFor(t, "lag 0 after the records are acked", func() bool { return lagOf() == 0 })
}

func TestSourceConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  kafka.SourceConfig
		ok   bool
	}{
		{"topics", kafka.SourceConfig{Topics: []string{"a"}, Group: "g"}, true},
		{"regex", kafka.SourceConfig{TopicRegex: `^prod\..*`, Group: "g", StartOffset: "latest"}, true},
		{"no topics", kafka.SourceConfig{Group: "g"}, false},
		{"both", kafka.SourceConfig{Topics: []string{"a"}, TopicRegex: "a", Group: "g"}, false},
		{"bad regex", kafka.SourceConfig{TopicRegex: "(", Group: "g"}, false},
		{"regex with exclusions", kafka.SourceConfig{TopicRegex: `^prod\..*`, ExcludeTopics: []string{`^.+\.masked$`}, Group: "g"}, true},
		{"exclusions without regex", kafka.SourceConfig{Topics: []string{"a"}, ExcludeTopics: []string{"b"}, Group: "g"}, false},
		{"bad exclusion", kafka.SourceConfig{TopicRegex: "a", ExcludeTopics: []string{"("}, Group: "g"}, false},
		{"no group", kafka.SourceConfig{Topics: []string{"a"}}, false},
		{"bad start", kafka.SourceConfig{Topics: []string{"a"}, Group: "g", StartOffset: "middle"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestClusterConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  kafka.ClusterConfig
		ok   bool
	}{
		{"plain", kafka.ClusterConfig{Brokers: []string{"k:9092"}}, true},
		{"scram", kafka.ClusterConfig{Brokers: []string{"k:9092"}, SASL: &kafka.SASLConfig{Mechanism: "SCRAM-SHA-512", User: "u", Password: "p"}}, true},
		{"no brokers", kafka.ClusterConfig{}, false},
		{"bad mechanism", kafka.ClusterConfig{Brokers: []string{"k:9092"}, SASL: &kafka.SASLConfig{Mechanism: "GSSAPI", User: "u"}}, false},
		{"half a cert", kafka.ClusterConfig{Brokers: []string{"k:9092"}, TLS: &kafka.TLSConfig{CertFile: "c.pem"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestSASL reaches a cluster that requires SCRAM: the right password
// moves records, a wrong one makes Run fail instead of retrying forever.
func TestSASL(t *testing.T) {
	tests := []struct {
		mech string
	}{{kafka.MechanismPlain}, {kafka.MechanismScramSHA256}, {kafka.MechanismScramSHA512}}
	for _, tt := range tests {
		t.Run(tt.mech, func(t *testing.T) {
			k := testenv.StartKafka(t, kfake.EnableSASL(), kfake.Superuser(tt.mech, "maskstream", "s3cret"))
			good := k.ClusterConfig()
			good.SASL = &kafka.SASLConfig{Mechanism: tt.mech, User: "maskstream", Password: "s3cret"}
			topic := unique("sasl")
			if err := kafka.EnsureTopics(ctxT(t, defaultWait), good, []string{topic}, 1); err != nil {
				t.Fatal(err)
			}
			sink, err := kafka.NewSink(good, kafka.SinkConfig{}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			done := make(chan error, 1)
			if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: topic, Partition: -1, Value: []byte(`{"seq":0}`)}, func(err error) { done <- err }); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("produce with the right password: %v", err)
			}
			src, err := kafka.NewSource(good, kafka.SourceConfig{Topics: []string{topic}, Group: unique("g")}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			log := newLaneLog(t, src)
			runSource(t, src, log.opener)
			waitFor(t, "the record", func() bool { return len(log.seen("")) == 1 })

			// kfake drops a connection whose credentials are wrong; a real
			// broker answers SASL_AUTHENTICATION_FAILED first. Answer as the
			// real one does.
			k.Cluster().ControlKey(kmsg.SASLAuthenticate.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
				k.Cluster().KeepControl()
				resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
				resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
				msg := "authentication failed: invalid credentials"
				resp.ErrorMessage = &msg
				return resp, nil, true
			})
			bad := good
			bad.SASL = &kafka.SASLConfig{Mechanism: tt.mech, User: "maskstream", Password: "wrong"}
			badSrc, err := kafka.NewSource(bad, kafka.SourceConfig{Topics: []string{topic}, Group: unique("g")}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer badSrc.Close()
			errc := make(chan error, 1)
			go func() { errc <- badSrc.Run(ctxT(t, defaultWait), newLaneLog(t, badSrc).opener) }()
			if err := <-errc; !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Errorf("Run with a wrong password = %v, want kerr.SaslAuthenticationFailed at once", err)
			}
		})
	}
}

// TestFetchMaxBytes: fetches ask for at most DefaultFetchMaxBytes, not
// kgo's 50 MiB, which bounds what one broker's buffered fetch can hold.
func TestFetchMaxBytes(t *testing.T) {
	k := testenv.StartKafka(t)
	topic := unique("fetchmax")
	if err := k.CreateTopics(ctxT(t, defaultWait), 1, topic); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	k.Cluster().ControlKey(kmsg.Fetch.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster().KeepControl()
		asked.Store(req.(*kmsg.FetchRequest).MaxBytes)
		return nil, nil, false // observe only: kfake answers as usual
	})
	produce(t, k, topic, seqRecords("fetchmax", 3, 1)...)
	src := newSource(t, k, topic, unique("group"))
	log := newLaneLog(t, src)
	runSource(t, src, log.opener)
	waitFor(t, "a fetch", func() bool { return asked.Load() != 0 })
	if got := asked.Load(); got != kafka.DefaultFetchMaxBytes {
		t.Errorf("fetch max bytes = %d, want %d", got, kafka.DefaultFetchMaxBytes)
	}
}
