package processor

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/connectors"
)

// RouteStatus is a route's state for the status page and the start-up
// summary. It holds counts and names only, never a record value.
type RouteStatus struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	Error      string `json:"error,omitempty"`
	Source     string `json:"source"`
	Sink       string `json:"sink"`
	DeadLetter string `json:"dead_letter"`
	Ruleset    string `json:"ruleset"`
	// RulesetSerial is the store serial of the version in use.
	RulesetSerial int64 `json:"ruleset_serial"`
	Lanes         int   `json:"lanes"`

	RecordsIn   uint64 `json:"records_in"`
	RecordsOut  uint64 `json:"records_out"`
	DeadLetters uint64 `json:"dead_letters"`
	// DeadLettersByReason counts dead letters per reason.
	DeadLettersByReason map[string]uint64 `json:"dead_letters_by_reason,omitempty"`
	// InRate and OutRate are records per second over the last few
	// seconds.
	InRate  float64 `json:"in_rate"`
	OutRate float64 `json:"out_rate"`

	// Lag is the total lag of the source; Partitions the lag of each
	// partition, as of LagTime (zero when the source cannot tell).
	Lag        int64             `json:"lag"`
	Partitions []PartitionStatus `json:"partitions,omitempty"`
	LagTime    time.Time         `json:"lag_time,omitzero"`
}

// PartitionStatus is one partition's lag.
type PartitionStatus struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Lag       int64  `json:"lag"`
}

// rateEvery is how often the status rates are sampled.
const rateEvery = 2 * time.Second

// routeStats are a route's counters for Status (Prometheus counters
// cannot be read back cheaply).
type routeStats struct {
	in, out, dead atomic.Uint64

	mu       sync.Mutex
	byReason map[string]uint64
	inRate   float64
	outRate  float64
	lag      []connectors.PartitionLag
	lagTime  time.Time

	// Lag lookup failures, for noteLag; unlocked, as only the poll
	// goroutine touches them. lagFails counts failures in a row,
	// lagWarned is when they were last logged as a warning (zero: not
	// in this run of failures), lagPolled whether a lookup was made.
	lagFails  int
	lagWarned time.Time
	lagPolled bool
}

func (s *routeStats) addDead(reason string) {
	s.mu.Lock()
	if s.byReason == nil {
		s.byReason = map[string]uint64{}
	}
	s.byReason[reason]++
	s.mu.Unlock()
}

// Status returns the route's current state.
func (r *Route) Status() RouteStatus {
	r.mu.Lock()
	st := RouteStatus{
		Name:       r.cfg.Name,
		State:      r.state,
		Source:     r.cfg.DescribeSource,
		Sink:       r.cfg.DescribeSink,
		DeadLetter: r.cfg.DescribeDeadLetter,
		Ruleset:    r.cfg.Ruleset,
		Lanes:      len(r.lanes),
	}
	if r.fatal != nil {
		st.Error = r.fatal.Error()
	}
	r.mu.Unlock()
	if st.Error == "" && (st.State == StateRunning || st.State == StateDraining) {
		st.Error = r.retryError()
	}
	if c := r.ruleset.load(); c != nil {
		st.RulesetSerial = c.serial
	}
	st.RecordsIn, st.RecordsOut, st.DeadLetters = r.stats.in.Load(), r.stats.out.Load(), r.stats.dead.Load()
	s := &r.stats
	s.mu.Lock()
	if len(s.byReason) > 0 {
		st.DeadLettersByReason = maps.Clone(s.byReason)
	}
	st.InRate, st.OutRate = s.inRate, s.outRate
	st.LagTime = s.lagTime
	for _, p := range s.lag {
		st.Lag += p.Lag
		st.Partitions = append(st.Partitions, PartitionStatus{Topic: p.Topic, Partition: p.Partition, Lag: p.Lag})
	}
	s.mu.Unlock()
	return st
}

// retryReporter is implemented by sinks that retry on their own and can
// tell on what (the NATS sinks): a route held up behind a stream that
// does not exist or is full keeps running, so without this its status
// would show no error at all.
type retryReporter interface {
	// RetryError returns the error being retried, or nil.
	RetryError() error
}

// retryError says which of the route's sinks is retrying, and why; ""
// when none is.
func (r *Route) retryError() string {
	for _, s := range []struct {
		what string
		sink connectors.Sink
	}{{"sink", r.cfg.Sink}, {"dead letter", r.cfg.DeadLetter}} {
		if rr, ok := s.sink.(retryReporter); ok {
			if err := rr.RetryError(); err != nil {
				return s.what + " retrying: " + err.Error()
			}
		}
	}
	return ""
}

// poll samples the rates and the source's lag until ctx ends.
func (r *Route) poll(ctx context.Context) {
	lr, _ := r.cfg.Source.(connectors.LagReporter)
	rates := time.NewTicker(rateEvery)
	defer rates.Stop()
	lagEvery := time.NewTicker(r.cfg.LagInterval)
	defer lagEvery.Stop()
	lastIn, lastOut, last := r.stats.in.Load(), r.stats.out.Load(), time.Now()
	var labels map[string]prometheus.Labels
	if lr != nil {
		labels = r.pollLag(ctx, lr, labels)
	}
	for {
		select {
		case <-ctx.Done():
			for _, l := range labels {
				r.met.lag.Delete(l)
			}
			r.met.inflight.Set(0)
			return
		case now := <-rates.C:
			in, out := r.stats.in.Load(), r.stats.out.Load()
			secs := now.Sub(last).Seconds()
			r.stats.mu.Lock()
			r.stats.inRate = float64(in-lastIn) / secs
			r.stats.outRate = float64(out-lastOut) / secs
			r.stats.mu.Unlock()
			lastIn, lastOut, last = in, out, now
			r.met.inflight.Set(float64(r.budget.used.Load()))
		case <-lagEvery.C:
			if lr != nil {
				labels = r.pollLag(ctx, lr, labels)
			}
		}
	}
}

// pollLag asks the source for its lag and updates consumer_lag, removing
// the series of partitions this instance no longer reads.
func (r *Route) pollLag(ctx context.Context, lr connectors.LagReporter, prev map[string]prometheus.Labels) map[string]prometheus.Labels {
	lctx, cancel := context.WithTimeout(ctx, max(r.cfg.LagInterval, time.Second))
	defer cancel()
	lags, err := lr.Lag(lctx)
	if ctx.Err() == nil {
		// A lookup cut short by the stop says nothing about the rights.
		r.noteLag(err, time.Now())
	}
	if err != nil {
		return prev
	}
	slices.SortFunc(lags, func(a, b connectors.PartitionLag) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	next := make(map[string]prometheus.Labels, len(lags))
	for _, p := range lags {
		part := strconv.FormatInt(int64(p.Partition), 10)
		l := prometheus.Labels{"route": r.cfg.Name, "topic": p.Topic, "partition": part}
		next[p.Topic+"\x00"+part] = l
		r.met.lag.With(l).Set(float64(p.Lag))
	}
	for k, l := range prev {
		if _, ok := next[k]; !ok {
			r.met.lag.Delete(l)
		}
	}
	r.stats.mu.Lock()
	r.stats.lag, r.stats.lagTime = lags, time.Now()
	r.stats.mu.Unlock()
	return next
}

// lagWarnEvery is how often a route repeats that its lag cannot be read.
const lagWarnEvery = 5 * time.Minute

// noteLag logs a lag lookup's outcome. Without lag,
// maskstream_consumer_lag goes stale and the lag alert never fires, most
// often because maskstream may not describe its consumer group, so a
// failure is a warning at once, repeated at most once per lagWarnEvery
// while failures go on, and the recovery after it an info line. The one
// exception is the lookup made as the route starts: a new Kafka group does
// not exist until the source joins it, so a failure then is only logged
// at debug, and the next lookup (LagInterval later) warns if it fails too.
// err comes from the broker and never holds a record value.
func (r *Route) noteLag(err error, now time.Time) {
	s := &r.stats
	atStart := !s.lagPolled
	s.lagPolled = true
	if err == nil {
		if !s.lagWarned.IsZero() {
			r.log.Info("consumer lag can be read again", "failures", s.lagFails)
		}
		s.lagFails, s.lagWarned = 0, time.Time{}
		return
	}
	s.lagFails++
	if atStart || (!s.lagWarned.IsZero() && now.Sub(s.lagWarned) < lagWarnEvery) {
		r.log.Debug("consumer lag unavailable", "err", err, "failures", s.lagFails)
		return
	}
	s.lagWarned = now
	r.log.Warn("consumer lag cannot be read, so maskstream_consumer_lag is stale and lag alerts cannot fire; "+
		"if the brokers answer, check that maskstream may describe its consumer group and topics (Kafka ACL Describe) or read its consumer's info (JetStream)",
		"err", err, "failures", s.lagFails, "every", lagWarnEvery.String())
}

// warnAck logs a failed Ack at most once a minute per route: the record
// is redelivered, so it is worth knowing but not worth a log per batch.
func (r *Route) warnAck(err error) {
	now := time.Now().UnixNano()
	last := r.lastAckWarn.Load()
	if now-last < int64(time.Minute) || !r.lastAckWarn.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn("acknowledging records to the source failed; they will be redelivered (duplicates downstream, nothing lost)", "err", err)
}
