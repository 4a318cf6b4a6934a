package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	loaded        prometheus.Counter
	batches       prometheus.Counter
	undecodable   prometheus.Counter
	errors        prometheus.Counter
	offset        prometheus.Gauge
	lagRecords    prometheus.Gauge
	lagSeconds    prometheus.Gauge
	insertSeconds prometheus.Histogram
}

func newMetrics() metrics {
	const ns, sub = "admeter", "ingest"
	return metrics{
		loaded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "loaded_total", Help: "Events loaded into the analytical store."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "batches_total", Help: "Batches committed to the analytical store."}),
		undecodable: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "undecodable_total", Help: "Log records skipped because they do not decode as events."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "errors_total", Help: "Failed store inserts and rollup refreshes (retried)."}),
		offset: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "offset", Help: "Event-log offset loaded up to."}),
		lagRecords: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "lag_records", Help: "Log records not yet loaded, after the last batch."}),
		lagSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "lag_seconds", Help: "Age of the newest loaded event when its batch committed (receive to queryable)."}),
		insertSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "insert_duration_seconds", Help: "Time to commit one batch.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
}

func (m metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.loaded, m.batches, m.undecodable, m.errors, m.offset, m.lagRecords, m.lagSeconds, m.insertSeconds} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return nil
}
