package processor

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric of the processor.
const Namespace = "maskstream"

// Reload results, the ruleset_reloads_total{result} label.
const (
	ReloadOK     = "ok"
	ReloadFailed = "error"
)

// Metrics are the processor's Prometheus collectors (DESIGN §8). Build
// them once per registry with NewMetrics and share them between routes.
// No label ever carries a record value.
type Metrics struct {
	RecordsIn    *prometheus.CounterVec   // {route}
	RecordsOut   *prometheus.CounterVec   // {route}
	DeadLetters  *prometheus.CounterVec   // {route,reason}
	MaskSeconds  *prometheus.HistogramVec // {route}
	EndToEnd     *prometheus.HistogramVec // {route}
	ConsumerLag  *prometheus.GaugeVec     // {route,topic,partition}
	FieldsMasked *prometheus.CounterVec   // {ruleset,rule}
	Reloads      *prometheus.CounterVec   // {result}
}

// NewMetrics registers the processor's metrics on reg. A nil reg gives
// working but unregistered collectors (tests, tools). Registering on a
// registry that already has them reuses the registered ones, so two
// processors may share a registry.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		RecordsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "records_in_total",
			Help: "Records a route received from its source.",
		}, []string{"route"}),
		RecordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "records_out_total",
			Help: "Masked records a route's sink acknowledged.",
		}, []string{"route"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "dead_letters_total",
			Help: "Records a route sent to its dead-letter destination, by reason.",
		}, []string{"route", "reason"}),
		MaskSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "mask_seconds",
			Help:    "Time the engine took to mask one record.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10), // 1µs .. 0.26s
		}, []string{"route"}),
		EndToEnd: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "end_to_end_seconds",
			Help:    "Time from a record's timestamp to the sink's acknowledgement of its masked copy.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1ms .. 4.4min
		}, []string{"route"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "consumer_lag",
			Help: "Records not yet consumed: Kafka high watermark minus committed offset, JetStream pending.",
		}, []string{"route", "topic", "partition"}),
		FieldsMasked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "fields_masked_total",
			Help: "Values masked, by ruleset and rule.",
		}, []string{"ruleset", "rule"}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "ruleset_reloads_total",
			Help: "Ruleset reloads, by result.",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	m.RecordsIn = register(reg, m.RecordsIn, &errs)
	m.RecordsOut = register(reg, m.RecordsOut, &errs)
	m.DeadLetters = register(reg, m.DeadLetters, &errs)
	m.MaskSeconds = register(reg, m.MaskSeconds, &errs)
	m.EndToEnd = register(reg, m.EndToEnd, &errs)
	m.ConsumerLag = register(reg, m.ConsumerLag, &errs)
	m.FieldsMasked = register(reg, m.FieldsMasked, &errs)
	m.Reloads = register(reg, m.Reloads, &errs)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C, errs *[]error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errs = append(*errs, err)
	}
	return c
}

// routeMetrics are one route's curried collectors, so the hot path never
// looks labels up.
type routeMetrics struct {
	in, out     prometheus.Counter
	mask, e2e   prometheus.Observer
	deadLetters *prometheus.CounterVec
	lag         *prometheus.GaugeVec
	route       string
}

func (m *Metrics) forRoute(name string) *routeMetrics {
	return &routeMetrics{
		route:       name,
		in:          m.RecordsIn.WithLabelValues(name),
		out:         m.RecordsOut.WithLabelValues(name),
		mask:        m.MaskSeconds.WithLabelValues(name),
		e2e:         m.EndToEnd.WithLabelValues(name),
		deadLetters: m.DeadLetters,
		lag:         m.ConsumerLag,
	}
}
