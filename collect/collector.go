package collect

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/ivt"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// Appender makes events durable. Append returns only once every event is in
// the log (or, in the interval fsync mode, in the operating system), so a
// collector that answers after Append never acknowledges an event it could
// lose to a process crash. Append must not keep events, or anything they
// point to, after it returns: the collector reuses them.
type Appender interface {
	Append(ctx context.Context, events []admeter.Event) error
}

// Locator maps an IP address to a region. It must not keep the address.
type Locator interface {
	Lookup(a netip.Addr) admeter.Region
}

// OptOuts answers whether a device has opted out of measurement. It is asked
// with pseudonyms made under the opt-out registry key (which never rotates),
// not the event key.
type OptOuts interface {
	Contains(p admeter.Pseudonym) bool
}

// Config holds the collector's settings. Use DefaultConfig and change what you
// need.
type Config struct {
	// TrustedProxies are the networks whose X-Forwarded-For header is
	// believed. A request from anywhere else is located by its connection
	// address.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes and MaxBatchEvents bound one batch API request.
	MaxBodyBytes   int64
	MaxBatchEvents int
	// MaxPast and MaxFuture bound a client's event time; outside them the
	// receive time is used. MaxPast matches the MMA SDK's 7-day retry window.
	MaxPast   time.Duration
	MaxFuture time.Duration
	// CookieName is the first-party browser id cookie; OptOutCookieName is
	// the cookie that marks an opted-out browser. CookieMaxAge is the life of
	// the id cookie, OptOutCookieMaxAge of the opt-out cookie, which every
	// request that carries it renews.
	CookieName         string
	OptOutCookieName   string
	CookieMaxAge       time.Duration
	OptOutCookieMaxAge time.Duration
	// HonorGPC drops requests that carry Global Privacy Control
	// (Sec-GPC: 1), like requests from an opted-out browser.
	HonorGPC bool
	// DedupWindow and DedupMax bound the in-memory set of recent impression
	// ids (Miaozhen vf) used to drop SDK retries before they reach the log.
	DedupWindow time.Duration
	DedupMax    int
	// Now is the clock; tests pin it.
	Now func() time.Time
}

// DefaultConfig returns the settings admeter runs with unless told otherwise.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:       4 << 20,
		MaxBatchEvents:     1000,
		MaxPast:            7 * 24 * time.Hour,
		MaxFuture:          5 * time.Minute,
		CookieName:         "admeter_uid",
		OptOutCookieName:   "admeter_optout",
		CookieMaxAge:       395 * 24 * time.Hour,
		OptOutCookieMaxAge: 5 * 365 * 24 * time.Hour,
		HonorGPC:           true,
		DedupWindow:        time.Hour,
		DedupMax:           200_000,
		Now:                time.Now,
	}
}

// Collector receives monitoring-URL hits and batch events, de-identifies them
// and appends them to the durable log.
type Collector struct {
	cfg     Config
	catalog *Catalog
	log     Appender
	geo     Locator
	optouts OptOuts
	optPS   *pseudo.Pseudonymizer
	ua      *useragent.Parser
	uaCache *uaCache
	geoMemo *geoCache
	pseudo  atomic.Pointer[pseudo.Pseudonymizer]
	ivt     atomic.Pointer[ivt.Detector]
	logger  *slog.Logger
	m       *metrics
	dedup   *dedup
}

// New returns a Collector. ps carries the current event key; swap it with
// SetPseudonymizer when the key rotates. optoutPS carries the opt-out
// registry key, under which optouts is asked. logger may be nil; reg may be
// nil to skip metrics registration.
func New(cfg Config, catalog *Catalog, log Appender, ps *pseudo.Pseudonymizer, geo Locator, optouts OptOuts, optoutPS *pseudo.Pseudonymizer, logger *slog.Logger, reg prometheus.Registerer) (*Collector, error) {
	if catalog == nil || log == nil || ps == nil || geo == nil || optouts == nil || optoutPS == nil {
		return nil, errors.New("new collector: catalog, log, pseudonymizers, locator and opt-out registry are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		cfg:     cfg,
		catalog: catalog,
		log:     log,
		geo:     geo,
		optouts: optouts,
		optPS:   optoutPS,
		ua:      useragent.New(),
		uaCache: newUACache(),
		geoMemo: newGeoCache(),
		logger:  logger,
		m:       newMetrics(),
	}
	if cfg.DedupWindow > 0 && cfg.DedupMax > 0 {
		c.dedup = newDedup(cfg.DedupWindow, cfg.DedupMax)
	}
	c.pseudo.Store(ps)
	if reg != nil {
		if err := c.m.register(reg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// SetDetector makes d give every event from now on its invalid-traffic
// verdict (nil: no verdicts, every event valid).
func (c *Collector) SetDetector(d *ivt.Detector) { c.ivt.Store(d) }

// SetPseudonymizer makes ps the pseudonymizer for events received from now on.
func (c *Collector) SetPseudonymizer(ps *pseudo.Pseudonymizer) { c.pseudo.Store(ps) }

// duplicate reports whether ev is a retry of an impression logged recently
// (same impression id, placement and kind; for a viewability result the
// same result, for a video ping the same progress point), recording it if
// not. Clicks are never deduplicated here: the MMA SDK gives a click the id
// of the impression it belongs to, so two real clicks on one ad share it.
// Nor are events of no placement (conversions).
func (c *Collector) duplicate(ev *admeter.Event, now time.Time) (dedupKey, bool) {
	if c.dedup == nil || ev.ImpressionID.IsZero() || ev.Kind == admeter.KindClick || ev.Kind == admeter.KindConversion {
		return dedupKey{}, false
	}
	k := c.dedup.key(ev.Placement, ev.Kind, ev.ImpressionID)
	switch ev.Kind {
	case admeter.KindViewability:
		k.sub = uint8(ev.View)
	case admeter.KindVideo:
		k.sub = uint8(ev.VideoProgress)
	}
	return k, c.dedup.seen(k, now)
}

// unrecord undoes duplicate's record for events that were not logged.
func (c *Collector) unrecord(keys ...dedupKey) {
	if c.dedup == nil {
		return
	}
	for _, k := range keys {
		if k != (dedupKey{}) {
			c.dedup.forget(k)
		}
	}
}

type tenantKey struct{}

// WithTenant returns ctx marked with the tenant an authenticated batch
// sender acts for: its events may name only that tenant's campaigns.
func WithTenant(ctx context.Context, t admeter.TenantID) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// senderTenant returns the tenant of an authenticated sender, or "".
func senderTenant(ctx context.Context) admeter.TenantID {
	t, _ := ctx.Value(tenantKey{}).(admeter.TenantID)
	return t
}
