package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/engine"
)

// Deps are what a Processor uses but does not own.
type Deps struct {
	// Rulesets holds the compiled rulesets the routes name (the
	// daemon's rulesets.Store, loaded). Required.
	Rulesets Rulesets
	// Secret is the run secret. Required.
	Secret *engine.Secret
	// Registerer receives the processor's metrics. This overrides the
	// default of not registering them.
	Registerer prometheus.Registerer
	// Metrics, when set, is used instead of registering new ones.
	Metrics *Metrics
	// Logger never receives a record value or a secret. This overrides
	// the default of discarding.
	Logger *slog.Logger
	// Getenv reads password_env and token_env. This overrides the default
	// of os.Getenv.
	Getenv func(string) string
	// InstanceID makes exactly-once routes' Kafka transactional ids
	// unique per instance and stable across its restarts. This overrides
	// the default of $MASKSTREAM_INSTANCE_ID, else the host name.
	InstanceID string
}

// Processor runs every route of a config.
type Processor struct {
	routes  []*Route
	metrics *Metrics
	log     *slog.Logger
}

// New builds every route of cfg: it connects to the brokers and binds each
// route to its ruleset. On error nothing is left open.
func New(cfg *config.Config, deps Deps) (*Processor, error) {
	if deps.Rulesets == nil || deps.Secret == nil {
		return nil, errors.New("processor: New needs the rulesets and the run secret")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Getenv == nil {
		deps.Getenv = os.Getenv
	}
	if deps.InstanceID == "" {
		deps.InstanceID = deps.Getenv("MASKSTREAM_INSTANCE_ID")
	}
	if deps.InstanceID == "" {
		deps.InstanceID, _ = os.Hostname()
	}
	met := deps.Metrics
	if met == nil {
		var err error
		if met, err = NewMetrics(deps.Registerer); err != nil {
			return nil, fmt.Errorf("processor: registering metrics: %w", err)
		}
	}
	p := &Processor{metrics: met, log: deps.Logger}
	var inUse []string
	for _, rc := range cfg.Routes {
		r, err := newRouteFromConfig(cfg, rc, &deps, met)
		if err != nil {
			p.close()
			return nil, err
		}
		p.routes = append(p.routes, r)
		inUse = append(inUse, rc.Ruleset)
	}
	if l, ok := deps.Rulesets.(RulesetLister); ok && deps.Registerer != nil {
		if err := RegisterRulesetHealth(deps.Registerer, l, inUse); err != nil {
			p.close()
			return nil, fmt.Errorf("processor: registering metrics: %w", err)
		}
	}
	return p, nil
}

func newRouteFromConfig(cfg *config.Config, rc *config.Route, deps *Deps, met *Metrics) (*Route, error) {
	log := deps.Logger.With("route", rc.Name)
	topic, err := config.ParseTemplate(rc.To.Template())
	if err != nil {
		return nil, err
	}
	dlTopic, err := config.ParseTemplate(rc.DeadLetter.Template())
	if err != nil {
		return nil, err
	}
	cs, err := buildConnectors(cfg, rc, deps, log)
	if err != nil {
		return nil, err
	}
	r, err := NewRoute(RouteConfig{
		Name:               rc.Name,
		Source:             cs.source,
		Sink:               cs.sink,
		DeadLetter:         cs.deadLetter,
		DescribeSource:     cs.descSrc,
		DescribeSink:       cs.descSink,
		DescribeDeadLetter: cs.dlq,
		Ruleset:            rc.Ruleset,
		Rulesets:           deps.Rulesets,
		Secret:             deps.Secret,
		Topic:              topic,
		DeadLetterTopic:    dlTopic,
		KeepPartition:      rc.To.KeepPartition,
		MaxDeliveries:      cfg.Limits.MaxDeliveries,
		LaneQueue:          rc.Lanes.Queue,
		Workers:            rc.Lanes.Workers,
		MaxBytes:           int64(rc.Lanes.MaxBytes),
		Metrics:            met,
		Logger:             deps.Logger,
	})
	if err != nil {
		cs.close()
		return nil, err
	}
	return r, nil
}

// close releases the connectors of routes that never ran.
func (p *Processor) close() {
	for _, r := range p.routes {
		r.unsub()
		_ = r.closeConnectors()
	}
}

// Routes are the processor's routes, in config order.
func (p *Processor) Routes() []*Route { return p.routes }

// Metrics are the collectors the routes report to.
func (p *Processor) Metrics() *Metrics { return p.metrics }

// Run runs every route until ctx ends (each drains within the config's
// drain_timeout) or one fails; a failing route stops the others, so the
// process exits and its supervisor restarts it. It returns the routes'
// errors, nil after a graceful stop.
func (p *Processor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, r := range p.routes {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Status returns every route's status, in config order.
func (p *Processor) Status() []RouteStatus {
	out := make([]RouteStatus, len(p.routes))
	for i, r := range p.routes {
		out[i] = r.Status()
	}
	return out
}
