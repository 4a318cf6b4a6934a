package kafka

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Producer's Prometheus collectors, namespace "admeter",
// subsystem "kafka".
type metrics struct {
	produced      prometheus.Counter
	spilled       prometheus.Counter
	forwarded     prometheus.Counter
	produceErrors prometheus.Counter
	latency       prometheus.Histogram

	reg        prometheus.Registerer
	registered []prometheus.Collector
}

// newMetrics creates the collectors and registers them on reg if reg is not
// nil; backlog computes the spill backlog at scrape time.
func newMetrics(reg prometheus.Registerer, backlog func() float64) (*metrics, error) {
	const ns, sub = "admeter", "kafka"
	m := &metrics{
		produced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "produced_total",
			Help: "Events appended directly to Kafka and acknowledged by the brokers (acks=all).",
		}),
		spilled: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "spilled_total",
			Help: "Events appended to the local spill log because Kafka was unreachable, slow, or still had a backlog to receive.",
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "forwarded_total",
			Help: "Spilled events delivered to Kafka by the forwarder.",
		}),
		produceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "produce_errors_total",
			Help: "Failed or timed-out produce attempts (an Append that spilled, or a forwarding attempt to retry).",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "produce_duration_seconds",
			Help:    "Time from producing an Append's events to the brokers' acknowledgement of all of them (or the failure).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		reg: reg,
	}
	if reg == nil {
		return m, nil
	}
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "spill_backlog_records",
		Help: "Spilled events not yet delivered to Kafka.",
	}, backlog)
	for _, c := range []prometheus.Collector{m.produced, m.spilled, m.forwarded, m.produceErrors, m.latency, gauge} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("register kafka metrics: %w", err)
		}
		m.registered = append(m.registered, c)
	}
	return m, nil
}

// unregister removes the collectors from the registerer, so that a Producer
// can be opened again with the same registerer after Close.
func (m *metrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}
