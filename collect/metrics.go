package collect

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

// Rejection reasons, the values of the reason label of
// admeter_collect_rejected_total and of the X-Admeter-Rejected header.
const (
	reasonBadURL           = "bad_url"
	reasonNoCampaign       = "missing_campaign"
	reasonNoPlacement      = "missing_placement"
	reasonUnknownCampaign  = "unknown_campaign"
	reasonUnknownPlacement = "unknown_placement"
	reasonStopped          = "campaign_stopped"
	reasonPrefetch         = "prefetch"
	reasonMethod           = "method"
	reasonBadEvent         = "bad_event"
	reasonLogUnavailable   = "log_unavailable"
	reasonBatchTooLarge    = "batch_too_large"
	reasonBatchMalformed   = "batch_malformed"
	reasonDuplicate        = "duplicate"
	// reasonBadViewability: a viewability letter (vx, vh, vi, vk) outside
	// its range, or a result without the impression id (vf) it belongs to.
	reasonBadViewability = "bad_viewability"
	// reasonBadVideo: a video letter (vb, vc, vg, vj) outside its range.
	reasonBadVideo = "bad_video"
)

type metrics struct {
	requests    *prometheus.CounterVec
	received    *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	optedOutVec *prometheus.CounterVec
	invalidVec  *prometheus.CounterVec
	invalidBy   [32]prometheus.Counter          // by reason bit
	optedOut    [numOutcomes]prometheus.Counter // by opt-out outcome
	logged      *prometheus.CounterVec
	identifiers *prometheus.CounterVec
	corrected   prometheus.Counter
	duration    *prometheus.HistogramVec

	// Children resolved once, so the hot path does no label lookups.
	endpoints [numEndpoints]endpointMetrics
	loggedBy  [8]prometheus.Counter
	idBy      [16][4]prometheus.Counter
	rejectBy  map[string]prometheus.Counter
}

// endpoint identifies a collector endpoint for metrics.
type endpoint uint8

const (
	epImpression endpoint = iota
	epClick
	epBatch
	numEndpoints
)

var endpointNames = [numEndpoints]string{"impression", "click", "batch"}

type endpointMetrics struct {
	requests prometheus.Counter
	received prometheus.Counter
	duration prometheus.Observer
}

var allReasons = []string{reasonBadURL, reasonNoCampaign, reasonNoPlacement, reasonUnknownCampaign, reasonUnknownPlacement, reasonStopped,
	reasonPrefetch, reasonMethod, reasonBadEvent, reasonLogUnavailable, reasonBatchTooLarge, reasonBatchMalformed, reasonDuplicate,
	reasonBadViewability, reasonBadVideo}

// resolve fills the pre-resolved children.
func (m *metrics) resolve() {
	for i, n := range endpointNames {
		m.endpoints[i] = endpointMetrics{m.requests.WithLabelValues(n), m.received.WithLabelValues(n), m.duration.WithLabelValues(n)}
	}
	for i, r := range admeter.IVTReasons() {
		if r&admeter.GeneralIVT != 0 { // the collector decides general IVT only
			m.invalidBy[i] = m.invalidVec.WithLabelValues(r.String())
		}
	}
	m.optedOut[outcomeOptOutCookie] = m.optedOutVec.WithLabelValues("cookie")
	m.optedOut[outcomeOptOutGPC] = m.optedOutVec.WithLabelValues("gpc")
	m.optedOut[outcomeOptOutRegistry] = m.optedOutVec.WithLabelValues("registry")
	for k := range m.loggedBy {
		if admeter.Kind(k).Valid() { // impression, click, served, viewability, video, conversion
			m.loggedBy[k] = m.logged.WithLabelValues(admeter.Kind(k).String())
		}
	}
	for t := range m.idBy {
		for r := range m.idBy[t] {
			m.idBy[t][r] = m.identifiers.WithLabelValues(admeter.IDType(t).String(), pseudo.Reason(r).String())
		}
	}
	m.rejectBy = make(map[string]prometheus.Counter, len(allReasons))
	for _, r := range allReasons {
		m.rejectBy[r] = m.rejected.WithLabelValues(r)
	}
}

// reject counts one event rejected for reason.
func (m *metrics) reject(reason string, n int) {
	c, ok := m.rejectBy[reason]
	if !ok {
		c = m.rejected.WithLabelValues(reason)
	}
	c.Add(float64(n))
}

// identifier counts one identifier of type t with outcome r.
func (m *metrics) identifier(t admeter.IDType, r pseudo.Reason) {
	if int(t) < len(m.idBy) && int(r) < len(m.idBy[0]) {
		m.idBy[t][r].Inc()
		return
	}
	m.identifiers.WithLabelValues(t.String(), r.String()).Inc()
}

// logged counts one event logged.
func (m *metrics) loggedKind(k admeter.Kind) {
	if int(k) < len(m.loggedBy) && m.loggedBy[k] != nil {
		m.loggedBy[k].Inc()
		return
	}
	m.logged.WithLabelValues(k.String()).Inc()
}

func newMetrics() *metrics {
	const ns, sub = "admeter", "collect"
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "requests_total", Help: "HTTP requests to collector endpoints, by endpoint."}, []string{"endpoint"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_received_total", Help: "Events received (pixel hits and batch items), by source."}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rejected_total", Help: "Events rejected and not stored, by reason."}, []string{"reason"}),
		invalidVec: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "invalid_total", Help: "Events logged with an invalid-traffic verdict, by reason (an event with two reasons counts in both)."}, []string{"reason"}),
		optedOutVec: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "optout_dropped_total", Help: "Events dropped because the end user opted out, by signal (cookie, gpc, registry)."}, []string{"signal"}),
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
	m.resolve()
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.requests, m.received, m.rejected, m.optedOutVec, m.invalidVec, m.logged, m.identifiers, m.corrected, m.duration} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register collector metrics: %w", err)
		}
	}
	return nil
}

// invalid counts an event's invalid-traffic reasons.
func (m *metrics) invalid(v admeter.IVT) {
	for i := 0; v != 0 && i < len(m.invalidBy); i++ {
		if v&(1<<i) != 0 {
			if c := m.invalidBy[i]; c != nil {
				c.Inc()
			}
			v &^= 1 << i
		}
	}
}
