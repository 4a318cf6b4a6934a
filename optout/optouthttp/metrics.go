package optouthttp

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of admeter_optout_requests_total.
const (
	chanPage = "page"
	chanAPI  = "api"

	kindBrowser = "browser"
	kindDevice  = "device"
	kindStatus  = "status"

	resOK      = "ok"
	resInvalid = "invalid"
	resLimited = "limited"
	resError   = "error"
)

type metrics struct {
	requests *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "admeter", Subsystem: "optout",
			Name: "requests_total",
			Help: "Opt-out page and API requests, by channel (page, api), kind (browser, device, status) and result (ok, invalid, limited, error)."},
			[]string{"channel", "kind", "result"}),
	}
	// Create every series up front so that dashboards see zeros, not gaps.
	for _, c := range []string{chanPage, chanAPI} {
		for _, k := range []string{kindBrowser, kindDevice, kindStatus} {
			if c == chanPage && k == kindStatus {
				continue
			}
			for _, r := range []string{resOK, resInvalid, resLimited, resError} {
				m.requests.WithLabelValues(c, k, r)
			}
		}
	}
	return m
}

func (m *metrics) count(channel, kind, result string) {
	m.requests.WithLabelValues(channel, kind, result).Inc()
}

func (m *metrics) register(reg prometheus.Registerer) error {
	if err := reg.Register(m.requests); err != nil {
		return fmt.Errorf("register opt-out page metrics: %w", err)
	}
	return nil
}
