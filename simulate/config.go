package simulate

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Campaign is a campaign as the campaign API returns it (GET
// /api/v1/campaigns/{id}), so that its JSON decodes straight into this type.
type Campaign struct {
	ID         string      `json:"id"`
	Timezone   string      `json:"timezone"`
	LandingURL string      `json:"landing_url"`
	Placements []Placement `json:"placements"`
	// Attribution is the campaign's attribution settings, as the campaign
	// API shows them; nil means admeter's defaults (last click within 7
	// days, else last impression within 1 day, no click id). The truth of
	// conversions (Config.Conversions) attributes by them.
	Attribution *Attribution `json:"attribution,omitempty"`
}

// Attribution is a campaign's attribution settings as the campaign API
// shows them (the "attribution" member of GET /api/v1/campaigns/{id}).
type Attribution struct {
	ClickWindowDays int `json:"click_window_days"`
	ViewWindowDays  int `json:"view_window_days"`
	// Rules holds the windows of the conversion types that have their own.
	Rules map[string]AttributionRule `json:"rules,omitempty"`
	// ClickIDParam, when not empty, is the landing-URL parameter under
	// which the click redirect appends a click id.
	ClickIDParam string `json:"click_id_param,omitempty"`
}

// AttributionRule is the windows of one conversion type, in days; 0 turns
// that path off.
type AttributionRule struct {
	ClickWindowDays int `json:"click_window_days"`
	ViewWindowDays  int `json:"view_window_days"`
}

// domain returns the settings as admeter's type (the defaults for nil).
func (a *Attribution) domain() admeter.Attribution {
	if a == nil {
		return admeter.Attribution{}
	}
	d := admeter.AttributionRule{ClickWindowDays: a.ClickWindowDays, ViewWindowDays: a.ViewWindowDays}
	out := admeter.Attribution{Default: &d, ClickIDParam: a.ClickIDParam}
	if len(a.Rules) > 0 {
		out.ByType = make(map[string]admeter.AttributionRule, len(a.Rules))
		for t, r := range a.Rules {
			out.ByType[t] = admeter.AttributionRule{ClickWindowDays: r.ClickWindowDays, ViewWindowDays: r.ViewWindowDays}
		}
	}
	return out
}

// Placement is one placement of a Campaign with its monitoring URL
// templates, exactly as the campaign API hands them to media.
type Placement struct {
	ID            string `json:"id"`
	Media         string `json:"media"`
	ImpressionURL string `json:"impression_url"`
	ClickURL      string `json:"click_url"`
}

// IVTKind names a kind of invalid traffic the simulator injects. The values
// are the keys of the truth's "ivt" objects.
type IVTKind string

// The kinds of invalid traffic, after the MRC/IAB GIVT and SIVT categories
// and the rules in docs/mma-protocol.md §4.2.
const (
	// IVTCrawler: search-engine spiders and headless browsers that render
	// pages with ad tags (crawler user agents, no device id).
	IVTCrawler IVTKind = "crawler_ua"
	// IVTDataCentre: app traffic relayed from cloud-provider addresses.
	IVTDataCentre IVTKind = "datacentre_ip"
	// IVTFrequency: devices with an impossible number of impressions in a
	// short time.
	IVTFrequency IVTKind = "impossible_frequency"
	// IVTOrphanClick: clicks from devices that never had an impression on
	// that placement.
	IVTOrphanClick IVTKind = "click_without_impression"
	// IVTFastClick: clicks less than a second after their impression.
	IVTFastClick IVTKind = "fast_click"
	// IVTRiskyDevice: devices whose SDK reports root or an emulator in svl.
	IVTRiskyDevice IVTKind = "risky_device"
	// IVTPlaceholder: devices that send only placeholder identifiers (all
	// zeros, md5("OAID")...).
	IVTPlaceholder IVTKind = "placeholder_id"
	// IVTMacro: requests whose macros, event time included, were never
	// replaced.
	IVTMacro IVTKind = "unreplaced_macro"
)

// ivtKinds lists every kind in the order the truth reports them; an event's
// kind is stored as its index plus one (0: valid traffic).
var ivtKinds = [...]IVTKind{IVTCrawler, IVTDataCentre, IVTFrequency, IVTOrphanClick, IVTFastClick, IVTRiskyDevice, IVTPlaceholder, IVTMacro}

// AllIVT returns every kind of invalid traffic, in the order the truth
// reports them.
func AllIVT() []IVTKind { return slices.Clone(ivtKinds[:]) }

// UniformIVT returns IVT fractions that add up to total, split evenly across
// every kind.
func UniformIVT(total float64) map[IVTKind]float64 {
	kinds := AllIVT()
	m := make(map[IVTKind]float64, len(kinds))
	for _, k := range kinds {
		m[k] = total / float64(len(kinds))
	}
	return m
}

// Config describes the traffic to generate. Use DefaultConfig and change
// what you need; Generate validates it.
type Config struct {
	// Seed makes the plan reproducible: the same Config gives the same plan
	// and the same truth, request for request.
	Seed int64
	// Now is when the plan will be sent. The collector judges event times
	// against its clock: it keeps an mt within [now-7d, now+5m] and uses its
	// receive time otherwise.
	Now time.Time
	// Start and End bound the event times of the traffic (late arrivals
	// excepted, see LateArrival and TooLate). End must not be after Now.
	Start, End time.Time

	// Devices is the size of the device population; Impressions the number
	// of ad opportunities of normal traffic across all campaigns (served
	// pings, clicks, retries and invalid traffic come on top). When one of
	// them is zero it is derived from the other with MeanFrequency.
	Devices     int
	Impressions int
	// MeanFrequency is the mean number of ad opportunities per device.
	MeanFrequency float64

	Campaigns []Campaign

	// Web is the share of devices that are web browsers, identified only by
	// admeter's first-party cookie.
	Web float64
	// OptOut is the share of web browsers that keep cookies which opt out
	// of measurement midway: each gets an opt-out time within [Start, End),
	// and its requests from then on carry the opt-out cookie, so the
	// collector drops their events. Browsers that refuse third-party
	// cookies cannot carry it.
	OptOut float64
	// AppOptOut is the share of app devices identified by an OAID, IDFA or
	// IMEI that opt out midway through the opt-out API: at a time within
	// [Start, End) the plan holds a POST /api/v1/optout naming one of the
	// device's identifiers (raw or MD5), and the device's later events,
	// still sent with all its identifiers, are dropped by the collector.
	// Each call costs a pause of the Sender, and the server rate-limits
	// the API per client network: keep the share small (see
	// docs/simulation.md).
	AppOptOut float64
	// CTR is the mean click-through rate; placements vary around it.
	CTR float64
	// Retries is the share of SDK impressions sent again with the same vf
	// (the SDK did not see the answer and retried).
	Retries float64
	// Served is the share of SDK ad opportunities that first send a br=0
	// "served, not rendered" ping; a fifth of those never render.
	Served float64
	// LateArrival is the share of app events that reach the collector late
	// (the SDK's offline cache), with an mt up to 6.5 days old. TooLate is
	// the share whose mt is 8 to 30 days old: the collector replaces it with
	// its receive time, so they count on the day they are sent.
	LateArrival float64
	TooLate     float64
	// BatchFraction is the share of app events sent through POST /v1/events
	// instead of monitoring URLs, BatchSize events per request.
	BatchFraction float64
	BatchSize     int
	// IVT is the amount of invalid traffic of each kind, as a fraction of
	// Impressions. Zero or absent means none.
	IVT map[IVTKind]float64

	// Viewability is the share of the MMA SDK's impressions sent as
	// monitoring URLs whose viewability the SDK measures: the impression
	// carries vx=0 and, seconds later, a result ping with the same vf
	// follows (vx=1 viewable, 4 not viewable, 2 unmeasurable), unless it
	// is lost. Zero (the default) sends none.
	Viewability float64
	// Video is the share of the SDK placements that show video ads, spread
	// evenly in placement order: their SDK impressions carry the video
	// length (vb) and play type (vg), progress pings (vc=0, 25, 50, 75,
	// 100) follow as far as the viewer watched, and some viewability
	// results carry the quartile mask (vj). Zero (the default) sends none.
	Video float64
	// Conversions is the share of the devices with ad traffic that convert
	// (activation, registration, order) minutes to days after a click or
	// an impression, reported by the advertiser's server through POST
	// /api/v1/conversions by device id or by the click id the click
	// redirect appended to the landing URL; see docs/simulation.md. The
	// truth attributes them by each campaign's Attribution. Zero (the
	// default) sends none.
	Conversions float64
	// ConversionBatch is the number of conversions per upload; 0 means
	// 100.
	ConversionBatch int
}

// DefaultConfig returns the documented shape for 10,000 devices, without
// invalid traffic. Set Campaigns and the times (Now, Start, End, for
// instance the last day before now): the defaults read no clock.
func DefaultConfig() Config {
	return Config{
		Seed:          1,
		Devices:       10_000,
		MeanFrequency: 3,
		Web:           0.08,
		OptOut:        0.02,
		AppOptOut:     0.005,
		CTR:           0.01,
		Retries:       0.02,
		Served:        0.10,
		LateArrival:   0.03,
		TooLate:       0.002,
		BatchFraction: 0.10,
		BatchSize:     100,
	}
}

// maxEvents bounds one plan: its requests are held in memory.
const maxEvents = 50_000_000

// validate checks c, reporting every problem at once.
func (c *Config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Now.IsZero() {
		add("now is required")
	}
	if !c.End.After(c.Start) {
		add("end (%s) must be after start (%s)", c.End.Format(time.RFC3339), c.Start.Format(time.RFC3339))
	}
	if c.End.After(c.Now) {
		add("end (%s) must not be after now (%s)", c.End.Format(time.RFC3339), c.Now.Format(time.RFC3339))
	}
	if c.Devices < 0 || c.Impressions < 0 || c.Devices == 0 && c.Impressions == 0 {
		add("devices or impressions must be positive")
	}
	if (c.Devices == 0 || c.Impressions == 0) && !(c.MeanFrequency > 0) {
		add("mean frequency must be positive to derive devices or impressions")
	}
	if c.Devices > maxEvents || c.Impressions > maxEvents {
		add("at most %d devices and impressions per plan", maxEvents)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"web", c.Web}, {"opt-out", c.OptOut}, {"app opt-out", c.AppOptOut}, {"ctr", c.CTR}, {"retries", c.Retries}, {"served", c.Served},
		{"late arrival", c.LateArrival}, {"too late", c.TooLate}, {"batch fraction", c.BatchFraction},
		{"viewability", c.Viewability}, {"video", c.Video}, {"conversions", c.Conversions},
	} {
		if !(f.v >= 0 && f.v <= 1) {
			add("%s must be between 0 and 1, not %v", f.name, f.v)
		}
	}
	if c.LateArrival+c.TooLate > 1 {
		add("late arrival and too late together must not exceed 1")
	}
	if c.BatchFraction > 0 && (c.BatchSize < 1 || c.BatchSize > 1000) {
		add("batch size must be between 1 and 1000, not %d", c.BatchSize)
	}
	if c.ConversionBatch < 0 || c.ConversionBatch > 1000 {
		add("conversion batch must be between 1 and 1000 (0 for the default), not %d", c.ConversionBatch)
	}
	var ivt float64
	for _, k := range slices.Sorted(maps.Keys(c.IVT)) {
		f := c.IVT[k]
		if !knownIVT(k) {
			add("unknown invalid-traffic kind %q", k)
		}
		if !(f >= 0 && f <= 1) {
			add("ivt %s must be between 0 and 1, not %v", k, f)
		}
		ivt += f
	}
	if ivt > 1 {
		add("invalid traffic must not exceed 100%% of impressions, not %.0f%%", ivt*100)
	}
	if len(c.Campaigns) == 0 {
		add("at least one campaign is required")
	}
	if len(c.Campaigns) > math.MaxUint16 {
		add("at most %d campaigns", math.MaxUint16)
	}
	for i, cp := range c.Campaigns {
		if err := cp.validate(); err != nil {
			add("campaigns[%d]: %w", i, err)
		}
	}
	return errors.Join(errs...)
}

// ivtIndex returns the position of k in AllIVT, or -1.
func ivtIndex(k IVTKind) int {
	for i, x := range ivtKinds {
		if x == k {
			return i
		}
	}
	return -1
}

func knownIVT(k IVTKind) bool {
	return ivtIndex(k) >= 0
}

func (c *Campaign) validate() error {
	if c.ID == "" {
		return errors.New("id is required")
	}
	tz := c.Timezone
	if tz == "" {
		tz = admeter.DefaultTimezone
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("load time zone %q: %w", tz, err)
	}
	if len(c.Placements) == 0 {
		return errors.New("a campaign needs at least one placement")
	}
	if c.Attribution != nil {
		a := c.Attribution.domain()
		if err := a.Validate(); err != nil {
			return fmt.Errorf("attribution: %s", admeter.ErrorMessage(err))
		}
	}
	for j, p := range c.Placements {
		switch {
		case p.ID == "":
			return fmt.Errorf("placements[%d]: id is required", j)
		case !strings.Contains(p.ImpressionURL, "/x"):
			return fmt.Errorf("placements[%d]: impression_url %q is not a monitoring URL (/x…)", j, p.ImpressionURL)
		case !strings.Contains(p.ClickURL, "/r"):
			return fmt.Errorf("placements[%d]: click_url %q is not a monitoring URL (/r…)", j, p.ClickURL)
		}
	}
	return nil
}

// location returns the campaign's time zone (Asia/Shanghai when it names
// none). The zone was checked by validate.
func (c *Campaign) location() *time.Location {
	tz := c.Timezone
	if tz == "" {
		tz = admeter.DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// eventsPerImpression estimates how many events one ad opportunity gives
// with these settings (clicks, served pings, retries and invalid traffic
// included), to size a plan for a number of events.
func (c *Config) eventsPerImpression() float64 {
	const sdkShare = 1.0 / 3 // one placement profile in three is the SDK
	e := 1 + c.CTR + sdkShare*(c.Served+c.Retries)
	for _, f := range c.IVT {
		e += f
	}
	return e
}

// SizeFor sets Impressions (and Devices, when zero) so that the plan holds
// about events events in total.
func (c *Config) SizeFor(events int) {
	c.Impressions = max(1, int(float64(events)/c.eventsPerImpression()))
	if c.Devices == 0 && c.MeanFrequency > 0 {
		c.Devices = max(1, int(float64(c.Impressions)/c.MeanFrequency))
	}
}
