package eventlog

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Log's Prometheus collectors, namespace "admeter",
// subsystem "eventlog".
type metrics struct {
	records     prometheus.Counter
	bytes       prometheus.Counter
	fsync       prometheus.Histogram
	batch       prometheus.Histogram
	segments    prometheus.Gauge
	removed     prometheus.Counter
	truncations prometheus.Counter
	nextOffset  prometheus.Gauge

	reg        prometheus.Registerer
	registered []prometheus.Collector
}

// newMetrics creates the collectors and registers them on reg if reg is not
// nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "admeter", "eventlog"
	m := &metrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "records_appended_total",
			Help: "Records appended to the event log (acknowledged Appends).",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bytes_appended_total",
			Help: "Bytes written to event log segments, record headers included.",
		}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "fsync_duration_seconds",
			Help:    "Duration of fdatasync calls on event log segments.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "batch_records",
			Help:    "Records per group-commit batch (one write and, in FsyncAlways mode, one fdatasync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 16),
		}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "segments",
			Help: "Segment files in the event log.",
		}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "segments_removed_total",
			Help: "Segment files removed from the event log by RemoveBefore (retention and deletion requests).",
		}),
		truncations: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "torn_tail_truncations_total",
			Help: "Torn or corrupt segment tails truncated while opening the event log.",
		}),
		nextOffset: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "next_offset",
			Help: "Offset the next record appended to the event log will get.",
		}),
		reg: reg,
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, m.bytes, m.fsync, m.batch, m.segments, m.removed, m.truncations, m.nextOffset} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		m.registered = append(m.registered, c)
	}
	return m, nil
}

// unregister removes the collectors from the registerer, so that the
// directory can be opened again with the same registerer after Close.
func (m *metrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}
