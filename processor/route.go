package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

// Defaults of RouteConfig.
const (
	DefaultLaneQueue     = config.DefaultLaneQueue
	DefaultLaneMaxBytes  = config.DefaultLaneMaxBytes
	DefaultMaxDeliveries = config.DefaultMaxDeliveries
	DefaultLagInterval   = 10 * time.Second
	// chunkSize is how many records a worker masks at a time: big
	// enough that handing a chunk over costs little per record, small
	// enough that one partition's backlog splits across the workers.
	chunkSize = 64
)

// RouteConfig is everything a Route runs with. The Route owns Source,
// Sink and DeadLetter from New on: Run closes them.
type RouteConfig struct {
	Name string
	// Source, Sink and DeadLetter are the route's connectors; DeadLetter
	// may be Sink itself (exactly-once routes, or a dead-letter topic on
	// the sink's cluster).
	Source     connectors.Source
	Sink       connectors.Sink
	DeadLetter connectors.Sink
	// Describe* say where the route reads and writes, for logs and the
	// status page (never credentials).
	DescribeSource, DescribeSink, DescribeDeadLetter string

	// Ruleset is the ruleset's name in Rulesets.
	Ruleset  string
	Rulesets Rulesets
	Secret   *engine.Secret

	// Topic and DeadLetterTopic name each record's destination from its
	// source topic/subject and partition.
	Topic           config.Template
	DeadLetterTopic config.Template
	// KeepPartition produces each record to its source partition number.
	KeepPartition bool

	// MaxDeliveries dead-letters a record the broker delivered more than
	// this many times. This overrides the default of 5.
	MaxDeliveries int
	// LaneQueue bounds the records a lane holds, queued and in flight.
	// This overrides the default of 1024.
	LaneQueue int
	// MaxBytes bounds the bytes the route's lanes hold together, queued
	// and in flight: each record's key and value as read plus its masked
	// value. A lane holding nothing may still take one record, so a
	// record larger than MaxBytes flows alone. This overrides the default
	// of 64 MiB.
	MaxBytes int64
	// Workers mask in parallel; 1 masks on each lane's writer only. This
	// overrides the default of GOMAXPROCS.
	Workers int
	// LagInterval is how often the source's lag is polled. This overrides
	// the default of 10s.
	LagInterval time.Duration

	Metrics *Metrics
	// Logger never receives record values. This overrides the default of
	// discarding.
	Logger *slog.Logger
}

func (c *RouteConfig) setDefaults() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("processor: a route needs a name"))
	}
	if c.Source == nil || c.Sink == nil {
		errs = append(errs, errors.New("processor: a route needs a source and a sink"))
	}
	if c.Secret == nil {
		errs = append(errs, errors.New("processor: a route needs the run secret (engine.NewSecret)"))
	}
	if c.Rulesets == nil {
		errs = append(errs, errors.New("processor: a route needs its rulesets (a rulesets.Store)"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.DeadLetter == nil {
		c.DeadLetter = c.Sink
	}
	if c.Topic.String() == "" {
		c.Topic = config.MustTemplate(config.DefaultKafkaTopicTmpl)
	}
	if c.DeadLetterTopic.String() == "" {
		c.DeadLetterTopic = config.MustTemplate(config.DefaultDeadLetterPrefix + c.Name)
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = DefaultMaxDeliveries
	}
	if c.LaneQueue <= 0 {
		c.LaneQueue = DefaultLaneQueue
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultLaneMaxBytes
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.LagInterval <= 0 {
		c.LagInterval = DefaultLagInterval
	}
	if c.Metrics == nil {
		c.Metrics, _ = NewMetrics(nil)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Route reads one source, masks with one ruleset and writes one sink.
type Route struct {
	cfg     RouteConfig
	log     *slog.Logger
	met     *routeMetrics
	ruleset binding
	pool    *pool
	budget  *byteBudget
	unsub   func()
	stats   routeStats

	lastAckWarn atomic.Int64
	deadLog     deadLog

	ran atomic.Bool
	// hard is canceled when the route must stop writing at once (a
	// fatal error); every lane's writes derive from it.
	hard       context.Context
	cancelHard context.CancelCauseFunc

	mu      sync.Mutex
	lanes   map[*lane]struct{}
	fatal   error
	state   string
	stopRun context.CancelFunc
}

// Route states shown by Status.
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StateDraining = "draining"
	StateStopped  = "stopped"
	StateFailed   = "failed"
)

// NewRoute checks cfg and binds the route to its ruleset, which must be
// in cfg.Rulesets already. On error the caller still owns the connectors.
func NewRoute(cfg RouteConfig) (*Route, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	r := &Route{
		cfg:   cfg,
		log:   cfg.Logger.With("route", cfg.Name),
		met:   cfg.Metrics.forRoute(cfg.Name),
		lanes: map[*lane]struct{}{},
		state: StateStarting,
	}
	r.budget = newByteBudget(cfg.MaxBytes)
	r.hard, r.cancelHard = context.WithCancelCause(context.Background())
	e, ok := cfg.Rulesets.Get(cfg.Ruleset)
	if !ok {
		return nil, fmt.Errorf("processor: route %s: ruleset %q is not loaded; put %s.yaml in rulesets_dir (or fix its errors, logged above)", cfg.Name, cfg.Ruleset, cfg.Ruleset)
	}
	if e.Source != rulesets.SourceFile {
		return nil, fmt.Errorf("processor: route %s: ruleset %q is a plan uploaded over the HTTP API, and routes mask only with files of rulesets_dir; put %s.yaml there (and delete the plan)", cfg.Name, cfg.Ruleset, cfg.Ruleset)
	}
	c, err := newCompiled(e, cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("processor: route %s: %w", cfg.Name, err)
	}
	r.ruleset.cur.Store(c)
	r.unsub = cfg.Rulesets.Subscribe(r.onRulesetChange)
	return r, nil
}

// Name is the route's name.
func (r *Route) Name() string { return r.cfg.Name }

// onRulesetChange swaps in a reloaded ruleset. Lanes pick it up at their
// next chunk; chunks being masked finish with the version they started
// with, so no record is lost or masked half one way, half the other.
func (r *Route) onRulesetChange(ch rulesets.Change[*engine.Masker]) {
	if ch.Name != r.cfg.Ruleset {
		return
	}
	fileGone := ch.Old != nil && ch.Old.Source == rulesets.SourceFile && (ch.Entry == nil || ch.Entry.Source != rulesets.SourceFile)
	if fileGone {
		// A plan uploaded under the name may serve HTTP now (the file had
		// shadowed it); the route is told what matters to it.
		r.log.Warn("ruleset file removed; the route keeps masking with its last version, and the next start refuses to run without the file", "ruleset", ch.Name)
		return
	}
	if ch.Entry == nil {
		return
	}
	if ch.Entry.Source != rulesets.SourceFile {
		// What a production stream masks with is the rulesets dir's to
		// say: an admin token of the HTTP API must not be able to change
		// it (to do_nothing, say) by uploading a plan of the same name.
		r.log.Warn("a plan uploaded over the HTTP API has the name of the route's ruleset; routes mask only with files, so the route keeps masking with its file's last version", "ruleset", ch.Name)
		return
	}
	if cur := r.ruleset.load(); cur != nil && cur.m == ch.Entry.Compiled {
		return // a failed reload republishes the version in use with a log
	}
	c, err := newCompiled(ch.Entry, r.cfg.Metrics)
	if err != nil {
		r.log.Error("reloaded ruleset unusable; keeping the previous version", "ruleset", ch.Name, "err", err)
		return
	}
	old := r.ruleset.cur.Swap(c)
	dropRetiredRules(r.cfg.Metrics, old, c)
	r.log.Info("ruleset reloaded", "ruleset", ch.Name, "serial", c.serial, "previous_serial", old.serial, "rules", c.nrules)
}

// Run runs the route until ctx ends (a graceful stop: lanes drain within
// the source's stop timeout) or a fatal error, then closes the
// connectors. It returns nil after a graceful stop.
func (r *Route) Run(ctx context.Context) error {
	if !r.ran.CompareAndSwap(false, true) {
		return errors.New("processor: Route.Run called twice; build a new route")
	}
	defer r.unsub()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	r.mu.Lock()
	r.stopRun = stop
	r.state = StateRunning
	r.mu.Unlock()

	if r.cfg.Workers > 1 {
		r.pool = newPool(r.cfg.Workers, r)
	}
	var wg sync.WaitGroup
	pollCtx, stopPoll := context.WithCancel(context.Background())
	wg.Go(func() { r.poll(pollCtx) })

	r.log.Info("route started", "source", r.cfg.DescribeSource, "sink", r.cfg.DescribeSink, "dead_letter", r.cfg.DescribeDeadLetter, "ruleset", r.cfg.Ruleset)
	var err error
	if perr := r.preflight(runCtx); perr != nil {
		r.fail(perr)
	} else {
		err = r.cfg.Source.Run(runCtx, r.openLane)
	}

	r.mu.Lock()
	r.state = StateDraining
	fatal := r.fatal
	r.mu.Unlock()
	if r.pool != nil {
		r.pool.close()
	}
	stopPoll()
	wg.Wait()
	cerr := r.closeConnectors()

	switch {
	case fatal != nil:
		err = fatal
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		err = nil
	case err != nil:
		err = fmt.Errorf("processor: route %s: source: %w", r.cfg.Name, err)
	}
	if err == nil && cerr != nil {
		r.log.Warn("closing connectors", "err", cerr)
	}
	r.mu.Lock()
	if err != nil {
		r.state = StateFailed
		if r.fatal == nil {
			r.fatal = err
		}
	} else {
		r.state = StateStopped
	}
	r.mu.Unlock()
	r.cancelHard(context.Canceled)
	if err != nil {
		r.log.Error("route stopped", "err", err)
	} else {
		r.log.Info("route stopped", "records_in", r.stats.in.Load(), "records_out", r.stats.out.Load(), "dead_letters", r.stats.dead.Load())
	}
	return err
}

// preflight lets the sinks that can (connectors.Preflighter) refuse a
// configuration that cannot work before any record is read, so the route
// fails at start with the reason rather than stalling behind retries.
func (r *Route) preflight(ctx context.Context) error {
	for _, s := range []struct {
		what string
		sink connectors.Sink
	}{{"sink", r.cfg.Sink}, {"dead letter", r.cfg.DeadLetter}} {
		if s.what == "dead letter" && s.sink == r.cfg.Sink {
			continue
		}
		if p, ok := s.sink.(connectors.Preflighter); ok {
			if err := p.Preflight(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("%s: %w", s.what, err)
			}
		}
	}
	return r.checkKeepPartition(ctx)
}

// checkKeepPartition refuses a keep_partition route whose output topic has
// fewer partitions than its source topic: every record of a partition the
// output lacks would be a dead letter. Only what is known before any
// record is checked (a topic list, outputs named without {partition});
// an answer the cluster cannot give is left to the sink's own check.
func (r *Route) checkKeepPartition(ctx context.Context) error {
	if !r.cfg.KeepPartition || r.cfg.Topic.UsesPartition() {
		return nil
	}
	src, ok := r.cfg.Source.(interface {
		connectors.TopicLister
		connectors.PartitionCounter
	})
	sink, sok := r.cfg.Sink.(connectors.PartitionCounter)
	if !ok || !sok {
		return nil
	}
	topics := src.ListedTopics()
	if len(topics) == 0 {
		return nil
	}
	in, err := src.PartitionCounts(ctx, topics)
	if err != nil {
		r.log.Debug("could not count the source's partitions for keep_partition", "err", err)
		return nil
	}
	dests := make([]string, len(topics))
	for i, t := range topics {
		dests[i] = r.cfg.Topic.Expand(t, 0)
	}
	out, err := sink.PartitionCounts(ctx, dests)
	if err != nil {
		r.log.Debug("could not count the output's partitions for keep_partition", "err", err)
		return nil
	}
	var errs []error
	for i, t := range topics {
		n, m := in[t], out[dests[i]]
		if n > 0 && m > 0 && m < n {
			errs = append(errs, fmt.Errorf("keep_partition: topic %s has %d partitions but its output %s has %d, so records of partitions %d to %d could only be dead letters: give %s at least %d partitions, or drop keep_partition", t, n, dests[i], m, m, n-1, dests[i], n))
		}
	}
	return errors.Join(errs...)
}

// closeConnectors closes the sinks (flushing what is in flight), then the
// source: a transactional sink shares the source's client.
func (r *Route) closeConnectors() error {
	var errs []error
	errs = append(errs, r.cfg.Sink.Close())
	if r.cfg.DeadLetter != r.cfg.Sink {
		errs = append(errs, r.cfg.DeadLetter.Close())
	}
	errs = append(errs, r.cfg.Source.Close())
	return errors.Join(errs...)
}

// fail stops the route at once: nothing more is written or acked, the
// lanes abandon what they hold, and Run returns err.
func (r *Route) fail(err error) {
	r.mu.Lock()
	first := r.fatal == nil
	if first {
		r.fatal = fmt.Errorf("processor: route %s: %w", r.cfg.Name, err)
	}
	stop := r.stopRun
	r.mu.Unlock()
	if !first {
		return
	}
	r.log.Error("route failing", "err", err)
	r.cancelHard(err)
	if stop != nil {
		stop()
	}
}

// openLane is the Source's open callback.
func (r *Route) openLane(id connectors.LaneID) connectors.Lane {
	l := newLane(r, id)
	r.mu.Lock()
	r.lanes[l] = struct{}{}
	r.mu.Unlock()
	return l
}

func (r *Route) laneClosed(l *lane) {
	r.mu.Lock()
	delete(r.lanes, l)
	r.mu.Unlock()
}
