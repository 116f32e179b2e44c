package processor

import (
	"errors"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric of the processor.
const Namespace = "maskstream"

// Reload results, the ruleset_reloads_total{result} label.
const (
	ReloadOK     = "ok"
	ReloadFailed = "error"
)

var reloadResults = [...]string{ReloadOK, ReloadFailed}

// ReloadResults returns every value of the ruleset_reloads_total{result}
// label.
func ReloadResults() []string { return slices.Clone(reloadResults[:]) }

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
	// InflightBytes is the bytes a route's lanes hold of lanes.max_bytes
	// (sampled every few seconds): at the limit, the source waits.
	InflightBytes *prometheus.GaugeVec // {route}
}

// NewMetrics registers the processor's metrics on reg. A nil reg gives
// working but unregistered collectors (tests, tools). Registering on a
// registry that already has them reuses the registered ones, so two
// processors may share a registry.
//
// Counters an alert reads with increase() exist at 0 from the start
// (reload results here, a route's dead-letter reasons in forRoute):
// Prometheus sees no increase in a series whose first sample is 1, so a
// series created by its first Inc() would never alert on that event.
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
		InflightBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "inflight_bytes",
			Help: "Bytes a route's lanes hold (records queued, being masked or awaiting the sink's ack), of lanes.max_bytes.",
		}, []string{"route"}),
	}
	if reg != nil {
		if err := m.register(reg); err != nil {
			return nil, err
		}
	}
	for _, r := range reloadResults {
		m.Reloads.WithLabelValues(r)
	}
	return m, nil
}

// register registers m's collectors on reg, or swaps in those reg has
// already.
func (m *Metrics) register(reg prometheus.Registerer) error {
	var errs []error
	m.RecordsIn = register(reg, m.RecordsIn, &errs)
	m.RecordsOut = register(reg, m.RecordsOut, &errs)
	m.DeadLetters = register(reg, m.DeadLetters, &errs)
	m.MaskSeconds = register(reg, m.MaskSeconds, &errs)
	m.EndToEnd = register(reg, m.EndToEnd, &errs)
	m.ConsumerLag = register(reg, m.ConsumerLag, &errs)
	m.FieldsMasked = register(reg, m.FieldsMasked, &errs)
	m.Reloads = register(reg, m.Reloads, &errs)
	m.InflightBytes = register(reg, m.InflightBytes, &errs)
	return errors.Join(errs...)
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
	inflight    prometheus.Gauge
	route       string
}

// forRoute also creates the route's dead_letters_total series at 0, one
// per reason (see NewMetrics): routes × a fixed set of reasons, so the
// label's cardinality stays bounded.
func (m *Metrics) forRoute(name string) *routeMetrics {
	for _, reason := range deadLetterReasons {
		m.DeadLetters.WithLabelValues(name, reason)
	}
	return &routeMetrics{
		route:       name,
		in:          m.RecordsIn.WithLabelValues(name),
		out:         m.RecordsOut.WithLabelValues(name),
		mask:        m.MaskSeconds.WithLabelValues(name),
		e2e:         m.EndToEnd.WithLabelValues(name),
		deadLetters: m.DeadLetters,
		lag:         m.ConsumerLag,
		inflight:    m.InflightBytes.WithLabelValues(name),
	}
}
