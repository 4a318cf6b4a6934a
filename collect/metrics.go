package collect

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Rejection reasons, the values of the reason label of
// admeter_collect_rejected_total and of the X-Admeter-Rejected header.
const (
	reasonBadURL           = "bad_url"
	reasonNoCampaign       = "missing_campaign"
	reasonNoPlacement      = "missing_placement"
	reasonUnknownCampaign  = "unknown_campaign"
	reasonUnknownPlacement = "unknown_placement"
	reasonPrefetch         = "prefetch"
	reasonMethod           = "method"
	reasonBadEvent         = "bad_event"
	reasonLogUnavailable   = "log_unavailable"
	reasonBatchTooLarge    = "batch_too_large"
	reasonBatchMalformed   = "batch_malformed"
	reasonDuplicate        = "duplicate"
)

type metrics struct {
	requests    *prometheus.CounterVec
	received    *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	optedOut    prometheus.Counter
	logged      *prometheus.CounterVec
	identifiers *prometheus.CounterVec
	corrected   prometheus.Counter
	duration    *prometheus.HistogramVec
}

func newMetrics() metrics {
	const ns, sub = "admeter", "collect"
	return metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "requests_total", Help: "HTTP requests to collector endpoints, by endpoint."}, []string{"endpoint"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_received_total", Help: "Events received (pixel hits and batch items), by source."}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rejected_total", Help: "Events rejected and not stored, by reason."}, []string{"reason"}),
		optedOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "optout_dropped_total", Help: "Events dropped because the end user opted out."}),
		logged: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "logged_total", Help: "Events appended to the durable log, by kind."}, []string{"kind"}),
		identifiers: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "identifiers_total", Help: "Device identifiers seen, by type and outcome (ok, placeholder, malformed)."}, []string{"type", "result"}),
		corrected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "time_corrected_total", Help: "Events whose client time was implausible and replaced by the receive time."}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "request_duration_seconds", Help: "Time to answer a collector request, including the durable append.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, 1}}, []string{"endpoint"}),
	}
}

func (m metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.requests, m.received, m.rejected, m.optedOut, m.logged, m.identifiers, m.corrected, m.duration} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register collector metrics: %w", err)
		}
	}
	return nil
}
