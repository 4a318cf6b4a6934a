package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
)

// Store is an analytical event store. Every method that reads or deletes
// events takes the tenant explicitly and never returns another tenant's data
// (privacy invariant 4). Implementations are safe for concurrent use.
type Store interface {
	// Insert stores events and records next as the event-log offset to
	// resume loading from, in one transaction: after a crash either both the
	// events and the offset are there or neither is. next must be greater
	// than the offset already recorded; otherwise Insert returns an
	// ECONFLICT error and stores nothing (a batch loaded twice).
	Insert(ctx context.Context, events []admeter.Event, next uint64) error

	// Offset returns the event-log offset loading should resume from: 0 for
	// an empty store (and for a store loaded with InsertFrom only).
	Offset(ctx context.Context) (uint64, error)

	// InsertFrom stores events read from a partitioned source (Kafka) and
	// records next[p] as the position to resume partition p from,
	// atomically with the rows: after a crash either the events and all
	// the positions are there or none is. Positions only move forward: if
	// any partition of next already has a recorded position at or beyond
	// next[p], InsertFrom returns an ECONFLICT error and stores nothing (a
	// batch loaded twice, e.g. after a rebalance). Partitions not in next
	// keep their positions. An empty next, a negative partition or
	// position, or an invalid event is EINVALID. Events may be empty
	// (positions only advance).
	//
	// Insert and InsertFrom record separate things (InsertFrom leaves
	// Offset as it is, Insert leaves Positions). A deployment feeds a
	// store from one kind of source, one event log or one partitioned
	// source; what an implementation does when both feed it, and whether
	// several processes may call InsertFrom on one database at once (the
	// ClickHouse store: yes; the embedded DuckDB store has one process by
	// construction), its documentation says.
	InsertFrom(ctx context.Context, events []admeter.Event, next map[int32]int64) error

	// Positions returns the recorded per-partition positions: for each
	// partition InsertFrom has recorded, the position to resume it from.
	// It is an empty map for a store never loaded from a partitioned
	// source.
	Positions(ctx context.Context) (map[int32]int64, error)

	// Report returns impressions, clicks and unique users of one campaign,
	// of the traffic the query's Filter selects (valid by default), with
	// the invalid measures of all its traffic (see Counts), broken down by
	// the query's dimensions, over the query's placements only when it
	// names some (ReportQuery.Placements).
	Report(ctx context.Context, q ReportQuery) (*ReportResult, error)

	// Frequency returns the reach and frequency distribution of one
	// campaign's impressions of the traffic the query's Filter selects
	// (valid by default), over the query's placements only when it names
	// some.
	Frequency(ctx context.Context, q FrequencyQuery) (*FrequencyResult, error)

	// RefreshRollups recomputes the daily rollups of a campaign for the given
	// local days (in the campaign's time zone) from the raw events, valid
	// and invalid traffic counted apart so that Daily can apply either
	// filter. A day that begins before the latest DeleteBefore cut is left
	// as it is: its raw events are incomplete (or gone), so its rollup is
	// the only complete count, and recomputing it would lose counts. A
	// later event of such a day (a late arrival) is therefore in reports of
	// raw events but not in the day's rollup. Returns EINVALID for a nil
	// tz, an empty tenant or an empty campaign.
	RefreshRollups(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, tz *time.Location, days []Date) error

	// Daily returns the daily rollup rows of a campaign, one per placement
	// and day (of the query's placements only, when it names some), with
	// the counts of the traffic the query's Filter selects and the invalid
	// measures, for dashboards that must not rescan raw events. Rollups
	// refreshed before the store recorded verdicts count every event as
	// valid, as the events were then.
	Daily(ctx context.Context, q DailyQuery) ([]DailyRow, error)

	// DeleteBefore deletes every raw event whose event time is before t (UTC),
	// of every tenant, for retention. Rollups are kept, and from then on
	// RefreshRollups leaves the days that begin before t alone (the store
	// remembers the latest cut, across reopening). It returns the number of
	// events deleted.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)

	// DeleteUsers deletes every raw event of a tenant whose user is one of
	// users (an end user's deletion request; zero pseudonyms are ignored),
	// and every social record of the tenant whose author is one of them,
	// in one transaction. It returns how many events were deleted and, per
	// campaign, the span of their event times: the caller refreshes the
	// rollups of the local days from From through To in the campaign's
	// zone (TimeSpan.Days) so that they stop counting the users. Rollups
	// of days before the latest DeleteBefore cut are not refreshed (see
	// RefreshRollups). Returns EINVALID for an empty tenant.
	DeleteUsers(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym) (Deleted, error)

	// UserEvents returns every raw event of a tenant whose user is one of
	// users (an end user's access request; zero pseudonyms are ignored),
	// ordered by event time, then receive time: at most limit of them, and
	// truncated is true when there are more (ask again with a larger limit,
	// or answer the request in parts). The events carry every field of
	// admeter.Event as stored (the IVT verdict included): times in UTC to
	// the millisecond, an OS or device type out of range as unknown.
	// Events of another tenant are never returned, even under the same
	// pseudonym. Returns EINVALID for an empty tenant or a limit below 1.
	UserEvents(ctx context.Context, tenant admeter.TenantID, users []admeter.Pseudonym, limit int) (events []admeter.Event, truncated bool, err error)

	// RawDays returns each UTC day that holds raw events, with the number
	// of its events, in ascending order: what DeleteBefore would remove.
	// It is an operator function: counts over every tenant, no event data.
	RawDays(ctx context.Context) ([]DayCount, error)

	// KeyVersions returns, for each pseudonymisation key version that raw
	// events or social records name (admeter.Event.KeyVersion,
	// admeter.SocialPost.KeyVersion), how many there are and the latest
	// event time, in ascending order of version: a version that is
	// absent has no raw event left and its key may be destroyed. It is an
	// operator function: counts over every tenant, no event data.
	KeyVersions(ctx context.Context) ([]KeyVersionUse, error)

	// RecentEvents returns the latest events of a campaign by receive
	// time, newest first, at most limit, from the last few days: the live
	// check of a placement's code, not a report; valid and invalid events
	// alike, with their verdicts. Returns EINVALID without a tenant, a
	// campaign or a positive limit.
	RecentEvents(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, limit int) ([]admeter.Event, error)

	// JudgeBehaviour decides the sophisticated invalid-traffic verdicts
	// (admeter.SophisticatedIVT) of the raw events of one UTC day under
	// rules, looking at the events of the day before and after for
	// windows that cross midnight. It recomputes them from scratch: an
	// event's general reasons are kept, its behavioural ones replaced, so
	// running it again, or after late events arrived, is safe and may
	// clear a verdict as well as set one. It returns what changed: the
	// caller refreshes the rollups of the spans (Judged.Campaigns). A day
	// without raw events judges nothing. Returns EINVALID for rules that
	// fail Validate.
	JudgeBehaviour(ctx context.Context, day Date, rules BehaviourRules) (Judged, error)

	// InvalidSamples returns, per invalid-traffic reason, how many events
	// of a campaign (of some placements when q.Placements names them) carry it
	// in the range, with up to q.Examples example users (pseudonymised
	// keys) and the span of their flagged events: the evidence a media
	// partner needs to check a verdict. Reasons come by descending count.
	InvalidSamples(ctx context.Context, q SampleQuery) ([]ReasonSample, error)

	// Viewability returns the viewability and video measures of one
	// campaign (see ViewCounts for what each counts), of the traffic the
	// query's Filter selects, over its placements when it names some,
	// broken down by the query's dimensions. ByReason is EINVALID:
	// viewability is reported for traffic, not per invalid reason.
	Viewability(ctx context.Context, q ReportQuery) (*ViewReport, error)

	// Attribution returns what attributing a tenant's conversions needs:
	// its conversions with event time in [q.From, q.To), deduplicated by
	// conversion id among them (the first received counts), and every
	// impression and click of the tenant, of any campaign, with event time
	// in [q.From-q.Lookback, q.To), that could have led to one: of a user
	// who has one of those conversions, or a click whose click id one of
	// them reports. Touches are of the traffic q.Filter selects (valid
	// only by default: invalid traffic wins no conversion). Conversions
	// come ordered by event time, then receive time; touches by event
	// time. Returns EINVALID for an empty tenant, a bad range, or a
	// lookback outside 0 to admeter.MaxAttributionWindow.
	Attribution(ctx context.Context, q AttributionQuery) (*AttributionData, error)

	// Audience returns the reached audience of one campaign and the
	// platform's baseline, as exact user counts per interest, region, OS
	// and device (see AudienceQuery and AudienceResult). It is the raw
	// material of audience insight and must never leave the process
	// as it is: the report layer applies the aggregation threshold and
	// noise. Returns EINVALID for a malformed query.
	Audience(ctx context.Context, q AudienceQuery) (*AudienceResult, error)

	// ReachSets returns, for the users who saw a set of campaigns of one
	// tenant, how many saw each combination of groups of placements (a
	// group is a medium, or a placement): the exact material of
	// cross-media deduplication — unique reach per group, the overlap
	// between groups, exclusive reach and the incremental reach curve all
	// follow from it without another scan (see ReachSetQuery). Returns
	// EINVALID for a malformed query.
	ReachSets(ctx context.Context, q ReachSetQuery) (*ReachSetResult, error)

	// DeleteTenant deletes everything the store holds of a tenant: its raw
	// events in every partition, its daily rollups and its social records
	// (a closed account whose retention floor has passed). It returns the
	// number of raw events and social records deleted. Returns EINVALID for
	// an empty tenant.
	DeleteTenant(ctx context.Context, tenant admeter.TenantID) (int64, error)

	// InsertPosts stores social records durably (committed before it
	// returns), each validated with SocialPost.Validate; a record whose
	// (Tenant, Source, ID) is already stored, or repeated within posts, is
	// skipped: the first one stored wins. It returns how many records were
	// new. An invalid record fails the whole call with EINVALID and stores
	// nothing. Every field round-trips, times to the millisecond in UTC.
	InsertPosts(ctx context.Context, posts []admeter.SocialPost) (inserted int, err error)

	// ScanPosts calls fn with each of a tenant's social records that q
	// selects, ordered by time, then ID; the record is only valid during the
	// call. It stops at and returns fn's first error. Records of another
	// tenant are never passed. Returns EINVALID for an invalid query.
	ScanPosts(ctx context.Context, q PostQuery, fn func(*admeter.SocialPost) error) error

	// UserPosts returns a tenant's social records whose author is one of
	// authors (an end user's access request), ordered like ScanPosts: at
	// most limit of them, and truncated is true when there are more.
	// Returns EINVALID for an empty tenant or a limit below 1.
	UserPosts(ctx context.Context, tenant admeter.TenantID, authors []admeter.Pseudonym, limit int) (posts []admeter.SocialPost, truncated bool, err error)

	// DeletePostsBefore deletes the social records of every tenant whose
	// time is before t, for retention, and returns how many it deleted.
	DeletePostsBefore(ctx context.Context, t time.Time) (int64, error)

	// Close flushes and closes the store.
	Close() error
}

// CheckPositions checks the positions of an InsertFrom batch against those
// recorded (nil when none is): it returns an EINVALID error for an empty
// next or a negative partition or position, and an ECONFLICT error if a
// partition of next has a recorded position at or beyond its new one (the
// lowest such partition is named). Implementations call it holding their
// writer lock, before storing anything.
func CheckPositions(recorded, next map[int32]int64) error {
	if len(next) == 0 {
		return admeter.Errorf(admeter.EINVALID, "no partition positions to record: a batch from a partitioned source names the next position of at least one partition")
	}
	parts := slices.Sorted(maps.Keys(next))
	for _, p := range parts {
		if p < 0 || next[p] < 0 {
			return admeter.Errorf(admeter.EINVALID, "partition %d position %d: partitions and positions are not negative", p, next[p])
		}
	}
	for _, p := range parts {
		if cur, ok := recorded[p]; ok && next[p] <= cur {
			return admeter.Errorf(admeter.ECONFLICT, "partition %d position %d is not after the recorded position %d: the batch is already stored", p, next[p], cur)
		}
	}
	return nil
}

// Date is a calendar day, in some time zone given by context.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, admeter.Errorf(admeter.EINVALID, "%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// ParseDateRange parses an inclusive range of dates YYYY-MM-DD as the
// report APIs take it: both required, from not after to, at most maxDays
// days. where says in which time zone the dates are read, for the error
// message ("" says nothing). Errors are EINVALID and say what to send.
func ParseDateRange(from, to string, maxDays int, where string) (Date, Date, error) {
	var zero Date
	if from == "" || to == "" {
		if where != "" {
			where = ", in " + where
		}
		return zero, zero, admeter.Errorf(admeter.EINVALID, "from and to are required, as dates YYYY-MM-DD (inclusive%s)", where)
	}
	f, err := ParseDate(from)
	if err != nil {
		return zero, zero, admeter.Errorf(admeter.EINVALID, "from: %s", admeter.ErrorMessage(err))
	}
	t, err := ParseDate(to)
	if err != nil {
		return zero, zero, admeter.Errorf(admeter.EINVALID, "to: %s", admeter.ErrorMessage(err))
	}
	if t.Before(f) {
		return zero, zero, admeter.Errorf(admeter.EINVALID, "from %s is after to %s", f, t)
	}
	if days := int(t.In(time.UTC).Sub(f.In(time.UTC)).Hours()/24) + 1; days > maxDays {
		return zero, zero, admeter.Errorf(admeter.EINVALID, "the range covers %d days; at most %d are allowed in one request", days, maxDays)
	}
	return f, t, nil
}

// String returns YYYY-MM-DD.
func (d Date) String() string { return d.In(time.UTC).Format(time.DateOnly) }

// In returns the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.In(time.UTC).Before(e.In(time.UTC)) }

// Dimension is a report breakdown.
type Dimension string

// The dimensions a report can be broken down by.
const (
	ByDay       Dimension = "day"       // local day of the event time, YYYY-MM-DD
	ByHour      Dimension = "hour"      // local hour, YYYY-MM-DDTHH (00–23)
	ByPlacement Dimension = "placement" // placement id
	ByMedia     Dimension = "media"     // the placement's media, from ReportQuery.Media
	ByRegion    Dimension = "region"    // province for China ("广东"), else the country code; "" unknown
	ByOS        Dimension = "os"        // admeter.OS String()
	ByDevice    Dimension = "device"    // admeter.DeviceType String()
	// ByReason is the invalid-traffic reason: "valid" for valid traffic,
	// else one reason code (admeter.IVT String() of a single reason, or
	// "unknown" for reasons this program does not name). An event with
	// several reasons counts in the row of each, so the rows of a report
	// by reason add up to more than its total when events have more than
	// one reason (the total counts each event once). A query with ByReason
	// ignores its Filter: the rows are of all traffic.
	ByReason Dimension = "reason"
)

// Dimensions lists every dimension, in the order rows are sorted by.
var Dimensions = []Dimension{ByDay, ByHour, ByPlacement, ByMedia, ByRegion, ByOS, ByDevice, ByReason}

// TrafficFilter selects the traffic that the main measures of a query
// (Counts.Impressions, Clicks, UV, ClickUV, the anonymous counts, and
// frequency) are computed over. The invalid measures (Counts.Invalid*) are
// computed over all traffic whatever the filter.
type TrafficFilter uint8

// The traffic filters. The zero value is FilterValid, so that a query that
// says nothing reports net (valid) traffic.
const (
	// FilterValid counts valid traffic only: events whose IVT verdict is
	// zero (net figures).
	FilterValid TrafficFilter = iota
	// FilterAll counts all traffic, valid and invalid (gross figures).
	FilterAll
)

// String returns "valid" or "all", the names in APIs.
func (f TrafficFilter) String() string {
	switch f {
	case FilterValid:
		return "valid"
	case FilterAll:
		return "all"
	}
	return "unknown"
}

// Valid reports whether f is a defined filter.
func (f TrafficFilter) Valid() bool { return f == FilterValid || f == FilterAll }

// ParseTrafficFilter parses "valid" or "all" (case and surrounding spaces
// ignored); "" is FilterValid, the default. Anything else is EINVALID.
func ParseTrafficFilter(s string) (TrafficFilter, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "valid":
		return FilterValid, nil
	case "all":
		return FilterAll, nil
	}
	return FilterValid, admeter.Errorf(admeter.EINVALID, "unknown traffic filter %q: use valid or all", s)
}

// ReportQuery selects one campaign's events in [From, To) and the breakdown.
type ReportQuery struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	// From and To bound the event time (To exclusive). They are instants;
	// days and hours are taken in Location.
	From, To time.Time
	Location *time.Location
	// By lists the dimensions, without repeats, in the order the caller
	// wants them; nil means totals only.
	By []Dimension
	// Media maps each placement of the campaign to its media, for ByMedia.
	Media map[admeter.PlacementID]string
	// Placements restricts the report to the events of these placements of
	// the campaign, for a media tenant that may see its own placements
	// only; nil or empty means every placement. Everything is computed
	// over the selected placements' events alone: rows, totals and the
	// anonymous counts, and UV and ClickUV are the distinct users among
	// those events (a user seen on a selected and an unselected placement
	// counts once, with the selected placement's events only). An id
	// without events in the campaign (unknown, or another campaign's)
	// matches nothing; repeated ids count once.
	Placements []admeter.PlacementID
	// Filter selects the traffic of the main measures: valid only (the
	// zero value) or all. It is ignored when By has ByReason. The rows are
	// the groups with any event, valid or not: under FilterValid a row
	// whose events are all invalid is still there, with zero main
	// measures and its invalid measures.
	Filter TrafficFilter
}

// Counts are the measures of a report row. The main measures
// (Impressions, Clicks, UV, ClickUV) are of the traffic the query's
// Filter selects: with FilterValid (the default) they are net, valid
// traffic only; with FilterAll they are gross. The invalid measures are
// always of the row's invalid traffic (non-zero admeter.IVT), whatever
// the filter, so that gross = net + invalid for impressions and clicks:
// under FilterValid, Impressions + InvalidImpressions is the gross count.
// Users do not add up that way: a user with both valid and invalid
// impressions is in UV (valid) and in InvalidUV, and once in the UV of
// FilterAll. The verdict of a deduplicated impression is that of the
// event that counts (the first, see the package documentation).
type Counts struct {
	Impressions int64
	Clicks      int64
	// UV is the number of distinct users with at least one impression;
	// ClickUV with at least one click.
	UV      int64
	ClickUV int64
	// InvalidImpressions and InvalidClicks are the invalid impressions
	// and clicks; InvalidUV the distinct users with at least one invalid
	// impression, InvalidClickUV with at least one invalid click.
	InvalidImpressions int64
	InvalidClicks      int64
	InvalidUV          int64
	InvalidClickUV     int64
}

// ReportRow is one row of a report: the values of the query's dimensions (in
// the query's order) and the counts.
type ReportRow struct {
	Dims []string
	Counts
}

// ReportResult is a report: rows sorted by their dimension values, and the
// total over the whole range (whose UV is the distinct users over the range,
// not a sum; and which counts an event once even when ByReason puts it in
// several rows).
type ReportResult struct {
	Rows  []ReportRow
	Total Counts
	// AnonymousImpressions and AnonymousClicks count the impressions and
	// clicks that carried no user identifier: included in Impressions and
	// Clicks (of the traffic the filter selects), not in UV and ClickUV.
	AnonymousImpressions int64
	AnonymousClicks      int64
}

// FrequencyQuery selects one campaign's impressions in [From, To).
type FrequencyQuery struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	From, To time.Time
	Location *time.Location
	// Placements restricts the query to the impressions of these
	// placements of the campaign, as ReportQuery.Placements does; nil or
	// empty means every placement. Reach, the frequency of each user, the
	// distribution and cumulative reach are all computed over the selected
	// placements' impressions alone, so a user's impressions on other
	// placements neither reach them nor add to their frequency.
	Placements []admeter.PlacementID
	// Filter selects the impressions counted: valid only (the zero
	// value), so that reach and frequency are net; or all.
	Filter TrafficFilter
}

// MaxFrequencyBucket is the last frequency bucket: users who saw the
// campaign this many times or more.
const MaxFrequencyBucket = 10

// FrequencyResult is the reach and frequency of a campaign over a range.
type FrequencyResult struct {
	// Reach is the number of distinct users with at least one impression;
	// Impressions is the impressions of those users (anonymous impressions
	// are not in it), so Impressions/Reach is the average frequency.
	Reach       int64
	Impressions int64
	// Distribution[i] is the number of users who saw exactly i+1
	// impressions, and the last bucket MaxFrequencyBucket or more.
	Distribution [MaxFrequencyBucket]int64
	// CumulativeReach is the reach from the first day of the range through
	// each local day, one entry per day of the range.
	CumulativeReach []DayReach
}

// DayReach is the cumulative reach through one day.
type DayReach struct {
	Day   Date
	Reach int64
}

// DailyQuery selects the daily rollups of a campaign for local days
// [From, To] (inclusive).
type DailyQuery struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	From, To Date
	// Placements restricts the rows to those of these placements of the
	// campaign; nil or empty means every placement. Rollup rows are per
	// placement, so this selects rows and changes no count. An id without
	// rows matches nothing.
	Placements []admeter.PlacementID
	// Filter selects the traffic of the main measures and the anonymous
	// counts, as ReportQuery.Filter does: valid only (the zero value) or
	// all. Rollups hold both, so it changes counts, never which rows.
	Filter TrafficFilter
}

// DailyRow is the rollup of one placement on one local day: the counts of
// a report of that day by placement, with the same filter.
type DailyRow struct {
	Day       Date
	Placement admeter.PlacementID
	Counts
	// AnonymousImpressions and AnonymousClicks count the impressions and
	// clicks without a user among Impressions and Clicks.
	AnonymousImpressions int64
	AnonymousClicks      int64
}

// BehaviourRules are the thresholds of the sophisticated invalid-traffic
// rules; package behaviour documents their defaults and reasoning. A zero
// threshold turns its rule off. Windows are in event time; per-day rules
// use the UTC day.
type BehaviourRules struct {
	// UserFrequency flags every event of a user on a placement inside a
	// sliding window holding more than Max of the user's events
	// (impressions and clicks) there; NetFrequency the same per network
	// (IPv4 /24 or IPv6 /48), whose limits must allow for the many
	// people behind one carrier NAT.
	UserFrequency []WindowLimit
	NetFrequency  []WindowLimit
	// OrphanLookback: a click from a device id (not a cookie, which a
	// browser may drop between impression and click) with no impression
	// of the user on the placement from OrphanLookback before it to
	// OrphanSkew after it (client clocks) is an orphan click.
	OrphanLookback time.Duration
	OrphanSkew     time.Duration
	// MinClickDelay: a click less than this after the user's latest
	// impression on the placement is a fast click.
	MinClickDelay time.Duration
	// UserCTR and NetCTR flag the clicks of a user (a network) on a
	// campaign in a UTC day with at least MinClicks clicks and a
	// click-through rate above MaxCTR.
	UserCTR CTRLimit
	NetCTR  CTRLimit
	// HopWindow: a user on more than MaxNets networks, or more than
	// MaxRegions provinces or countries, within one HopWindow-long bucket
	// of event time has all its events of the bucket flagged.
	HopWindow  time.Duration
	MaxNets    int
	MaxRegions int
	// ConcentrationMin and ConcentrationShare: on a placement with at
	// least ConcentrationMin impressions in a UTC day, a user holding more
	// than ConcentrationShare of them has its events there flagged;
	// NetConcentrationShare the same for a network.
	ConcentrationMin      int
	ConcentrationShare    float64
	NetConcentrationShare float64
}

// WindowLimit is at most Max events within any Window.
type WindowLimit struct {
	Window time.Duration `json:"window"`
	Max    int           `json:"max"`
}

// CTRLimit is a click-through rate above which, with enough clicks, clicks
// are not human.
type CTRLimit struct {
	MinClicks int     `json:"min_clicks"`
	MaxCTR    float64 `json:"max_ctr"`
}

// Validate checks that every threshold is usable: windows of at most a day
// (the store looks one day around the judged one), positive limits, rates
// and shares between 0 and 1.
func (r BehaviourRules) Validate() error {
	var errs []string
	for _, l := range append(slices.Clone(r.UserFrequency), r.NetFrequency...) {
		if l.Window <= 0 || l.Window > 24*time.Hour || l.Max < 1 {
			errs = append(errs, fmt.Sprintf("frequency limit %d per %s: the window must be between 1ms and 24h and the limit at least 1", l.Max, l.Window))
		}
	}
	if r.OrphanLookback < 0 || r.OrphanLookback > 24*time.Hour || r.OrphanSkew < 0 || r.OrphanSkew > time.Hour {
		errs = append(errs, "orphan-click lookback must be between 0 and 24h, skew between 0 and 1h")
	}
	if r.MinClickDelay < 0 || r.MinClickDelay > time.Minute {
		errs = append(errs, "minimum click delay must be between 0 and 1m")
	}
	for _, c := range []CTRLimit{r.UserCTR, r.NetCTR} {
		if c.MinClicks < 0 || c.MaxCTR < 0 || c.MaxCTR > 1 {
			errs = append(errs, fmt.Sprintf("CTR limit %v with %d clicks: clicks must not be negative, the rate between 0 and 1", c.MaxCTR, c.MinClicks))
		}
	}
	if r.HopWindow < 0 || r.HopWindow > 24*time.Hour || r.MaxNets < 0 || r.MaxRegions < 0 {
		errs = append(errs, "network hopping: the window must be between 0 and 24h, the limits not negative")
	}
	if r.ConcentrationMin < 0 || r.ConcentrationShare < 0 || r.ConcentrationShare > 1 || r.NetConcentrationShare < 0 || r.NetConcentrationShare > 1 {
		errs = append(errs, "concentration: the minimum must not be negative, the shares between 0 and 1")
	}
	if len(errs) > 0 {
		return admeter.Errorf(admeter.EINVALID, "invalid behaviour rules: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Judged is what a JudgeBehaviour changed.
type Judged struct {
	// Events is how many events were judged (the day's, deduplicated
	// retries included); Changed how many of them changed verdict.
	Events, Changed int64
	// Flagged counts the day's events carrying each behavioural reason
	// after the run (an event counts once per reason).
	Flagged map[admeter.IVT]int64
	// Campaigns holds, per tenant and campaign whose events changed, the
	// span of their event times, for the caller to refresh rollups.
	Campaigns []CampaignSpan
}

// CampaignSpan is the span of some events of one campaign.
type CampaignSpan struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	TimeSpan
}

// SampleQuery asks for the evidence behind a campaign's invalid traffic.
type SampleQuery struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	// Placements, if not empty, limits the answer to those placements; an
	// id without events matches nothing.
	Placements []admeter.PlacementID
	// From and To bound the event times, half-open [From, To).
	From, To time.Time
	// Examples is the number of example users per reason (at most 20).
	Examples int
}

// ReasonSample is one reason's share of a campaign's invalid traffic.
type ReasonSample struct {
	Reason      admeter.IVT
	Impressions int64
	Clicks      int64
	// Users is the number of distinct users with events of the reason.
	Users    int64
	Examples []UserSample
}

// UserSample is one example user of a reason: its pseudonymised key and
// the events of the reason it made, when.
type UserSample struct {
	User        admeter.Pseudonym
	Placement   admeter.PlacementID
	Impressions int64
	Clicks      int64
	// First and Last are the event times of its first and last flagged
	// events (UTC).
	First, Last time.Time
}

// Deleted is what a DeleteUsers removed.
type Deleted struct {
	// Events is the number of raw events deleted.
	Events int64
	// Posts is the number of social records deleted.
	Posts int64
	// Campaigns holds, for each campaign that lost events, the span of
	// their event times; nil when nothing was deleted.
	Campaigns map[admeter.CampaignID]TimeSpan
}

// TimeSpan is the closed range [From, To] of some events' times, in UTC.
type TimeSpan struct {
	From, To time.Time
}

// Days returns the local days in loc from the day of From through the day
// of To, in order: the days whose rollups a change to those events
// affects. It returns nil for the zero TimeSpan or a nil loc.
func (s TimeSpan) Days(loc *time.Location) []Date {
	if loc == nil || s.From.IsZero() || s.To.Before(s.From) {
		return nil
	}
	last := DateOf(s.To.In(loc))
	var days []Date
	for d := DateOf(s.From.In(loc)); !last.Before(d); d = d.AddDays(1) {
		days = append(days, d)
	}
	return days
}

// DayCount is the number of raw events of one UTC day.
type DayCount struct {
	Day    Date
	Events int64
}

// KeyVersionUse is what the raw events hold under one pseudonymisation key
// version.
type KeyVersionUse struct {
	Version uint32
	// Events is the number of raw events made under the version;
	// Pseudonymous those of them with a user, an impression id, a
	// conversion id or a click id (the others carry no pseudonym that the
	// key could match).
	Events       int64
	Pseudonymous int64
	// Latest is the latest event time of those events (UTC, to the
	// millisecond).
	Latest time.Time
}

// ViewResultGrace is how far outside a query's range the viewability
// result of an impression inside it may lie: the MMA SDK monitors an ad for
// at most 120 s, and its pings carry the client's time, so a result is
// within seconds of its impression however late it is delivered.
const ViewResultGrace = time.Hour

// ViewCounts are the viewability and video measures of a report row.
//
// Viewability is measured per impression: of the impressions a report
// counts (deduplicated as Report does, of the traffic the filter selects),
// one is measurable when a viewability result (admeter.KindViewability)
// of the same campaign, placement and impression id says viewable or not
// viewable, with its event time within ViewResultGrace of the query's
// range; it is viewable when a result says viewable (a later "not
// viewable" does not undo it). An impression without an id cannot be
// linked to a result and is not measurable. Day and hour are the
// impression's, as are region, OS and device.
//
// Video is measured per play: the events of one placement that carry the
// same impression id are one play, and an event without an id is a play
// of its own. A play started when one of its events is a video impression
// (admeter.KindImpression with a VideoDuration or VideoPlay) or a video
// ping at ProgressStart; it reached a quartile when a video ping's
// progress (admeter.KindVideo) or a quartile mask of any of its events
// (VideoQuartiles) is at or past it. The events counted are those in the
// range, of the traffic the filter selects (each event's own verdict);
// broken down by day, a play whose events fall on two days counts on each
// day for what it did that day, and once in the total.
type ViewCounts struct {
	Measurable int64
	Viewable   int64
	// ViewableUV is the number of distinct users with at least one
	// viewable impression.
	ViewableUV  int64
	VideoStarts int64
	// Quartiles[i] is the number of plays that reached quartile i+1: 25,
	// 50, 75 and 100 % (complete).
	Quartiles [4]int64
}

// ViewRow is one row of a viewability report: the values of the query's
// dimensions (in the query's order, valued as in Report) and the counts.
type ViewRow struct {
	Dims []string
	ViewCounts
}

// ViewReport is a viewability report: the rows with any measure that is
// not zero, sorted by their dimension values, and the total over the range
// (whose users and plays are distinct over the range, not sums).
type ViewReport struct {
	Rows  []ViewRow
	Total ViewCounts
}

// AttributionQuery selects a tenant's conversions in [From, To) and the
// touches that could have led to them.
type AttributionQuery struct {
	Tenant   admeter.TenantID
	From, To time.Time
	// Lookback is how long before From touches may lie: the longest
	// attribution window of the campaigns attributed.
	Lookback time.Duration
	// Filter selects the touches: valid only (the zero value) or all.
	Filter TrafficFilter
}

// Conversion is one deduplicated conversion as stored.
type Conversion struct {
	ID       admeter.Pseudonym
	Type     string
	At       time.Time
	Received time.Time
	// User and UserType are the converting user's pseudonym, zero when the
	// conversion came with a click id only.
	User     admeter.Pseudonym
	UserType admeter.IDType
	ClickID  admeter.Pseudonym
	// Value is in millionths of Currency ("" when the conversion has no
	// value).
	Value    int64
	Currency string
}

// Touch is an impression or a click that may have led to a conversion,
// with the dimensions a conversion attributed to it is reported under.
type Touch struct {
	Kind      admeter.Kind
	Campaign  admeter.CampaignID
	Placement admeter.PlacementID
	At        time.Time
	User      admeter.Pseudonym
	// ClickID is the click id the click redirect added to the landing URL
	// (clicks only; zero when none).
	ClickID admeter.Pseudonym
	OS      admeter.OS
	Device  admeter.DeviceType
	// Region is the ByRegion value of the touch: the province in China,
	// else the country code; "" unknown.
	Region string
	IVT    admeter.IVT
}

// AttributionData is the answer of Store.Attribution.
type AttributionData struct {
	Conversions []Conversion
	Touches     []Touch
}

// CheckAttribution checks an AttributionQuery: a tenant, a range with From
// before To, a lookback from 0 to admeter.MaxAttributionWindow, a known
// filter. Implementations call it first.
func CheckAttribution(q AttributionQuery) error {
	switch {
	case q.Tenant == "":
		return admeter.Errorf(admeter.EINVALID, "attribution query without a tenant")
	case q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To):
		return admeter.Errorf(admeter.EINVALID, "attribution query range [%s, %s) is empty", q.From, q.To)
	case q.Lookback < 0 || q.Lookback > admeter.MaxAttributionWindow:
		return admeter.Errorf(admeter.EINVALID, "attribution lookback %s is outside 0 to 90 days", q.Lookback)
	case !q.Filter.Valid():
		return admeter.Errorf(admeter.EINVALID, "unknown traffic filter %d", q.Filter)
	}
	return nil
}

// AudienceQuery selects a campaign's reached audience: the distinct users
// with a valid impression of the campaign (of its Placements when it names
// some) in [From, To); and the baseline: the distinct users with a valid
// impression of any campaign of any tenant in the same range.
type AudienceQuery struct {
	Tenant     admeter.TenantID
	Campaign   admeter.CampaignID
	From, To   time.Time
	Placements []admeter.PlacementID
	// Categories maps placements, of every tenant, to the IAB content
	// categories of their media or placement: the exposures interests are
	// inferred from. A placement it does not name has none.
	Categories map[admeter.PlacementID][]string
	// A user holds an interest in a category when it had valid
	// impressions on placements of that category on at least InterestDays
	// distinct UTC days within [From-InterestLookback, To), on any
	// tenant's campaigns (the platform's pseudonymous exposure history).
	InterestDays     int
	InterestLookback time.Duration
	// MaxInterests bounds each user's contribution to the interest cells:
	// a user holding more keeps the MaxInterests with the most days (ties
	// by category id, ascending).
	MaxInterests int
}

// The dimensions of an audience cell.
const (
	AudienceInterest = "interest" // an IAB content category id
	AudienceRegion   = "region"   // as ByRegion: province in China, else country; "" unknown
	AudienceOS       = "os"       // admeter.OS String()
	AudienceDevice   = "device"   // admeter.DeviceType String()
)

// AudienceCell is the number of users of the campaign's audience, and of
// the baseline, with one value of one dimension. Region, OS and device
// are those of the user's latest valid impression in the range (of the
// campaign for Users, of the platform for BaselineUsers), so each user
// counts in exactly one cell of each of those dimensions; a user counts
// in the interest cell of each interest it holds (at most MaxInterests).
type AudienceCell struct {
	Dimension     string
	Value         string
	Users         int64
	BaselineUsers int64
}

// AudienceResult is a campaign's audience and the platform baseline:
// Reach and Baseline are their distinct users; Cells every (dimension,
// value) with a user in either, sorted by dimension then value.
type AudienceResult struct {
	Reach    int64
	Baseline int64
	Cells    []AudienceCell
}

// CheckAudience checks an AudienceQuery: a tenant, a campaign, a range
// with From before To, InterestDays at least 1, a lookback from 0 to
// admeter.MaxAttributionWindow, MaxInterests at least 1.
func CheckAudience(q AudienceQuery) error {
	switch {
	case q.Tenant == "" || q.Campaign == "":
		return admeter.Errorf(admeter.EINVALID, "audience query without a tenant or campaign")
	case q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To):
		return admeter.Errorf(admeter.EINVALID, "audience query range [%s, %s) is empty", q.From, q.To)
	case q.InterestDays < 1 || q.MaxInterests < 1:
		return admeter.Errorf(admeter.EINVALID, "audience query needs InterestDays and MaxInterests of at least 1")
	case q.InterestLookback < 0 || q.InterestLookback > admeter.MaxAttributionWindow:
		return admeter.Errorf(admeter.EINVALID, "audience interest lookback %s is outside 0 to 90 days", q.InterestLookback)
	}
	return nil
}

// MaxReachGroups is the most groups a ReachSetQuery may name: a user's
// groups are a 64-bit set.
const MaxReachGroups = 64

// MaxReachFrequency is the last bucket of the frequency distributions of a
// ReachSetResult: users with that many impressions or more.
const MaxReachFrequency = 20

// ReachSetQuery selects the impressions of some campaigns in [From, To),
// deduplicated as Report does (a retried impression id counts once per
// placement, with the first copy's verdict), of the traffic Filter
// selects, and assigns each of their placements to a group. Users are
// counted across the campaigns: a user reached by two of them is one user.
type ReachSetQuery struct {
	// Tenants are the owners of Campaigns: an event is read when its
	// tenant is one of them and its campaign one of Campaigns. Most
	// queries name one; several make a report that combines advertisers
	// (an agency's view of its clients' campaigns through grants), where
	// users are still one pseudonym space.
	Tenants   []admeter.TenantID
	Campaigns []admeter.CampaignID
	From, To  time.Time
	// Groups maps placements to a group index in [0, MaxReachGroups): the
	// index of its medium, or of the placement itself. Impressions on a
	// placement it does not name are not read.
	Groups map[admeter.PlacementID]int
	// Filter selects the impressions: valid only (the zero value) or all.
	Filter TrafficFilter
	// WasteAbove, when positive, also counts per group the impressions a
	// user received beyond the first WasteAbove impressions across all
	// the groups (in event-time order, ties by receive time): frequency
	// waste at the threshold. Zero counts none.
	WasteAbove int
}

// ReachSet is the number of users whose impressions in the range fell in
// exactly the groups of Mask (bit i for group i), with their impressions.
type ReachSet struct {
	Mask        uint64
	Users       int64
	Impressions int64
}

// ReachSetResult is the answer of ReachSets: one entry per combination of
// groups that has users, sorted by Mask; the impressions without a user
// (counted, not in any set); when the query asked, the wasted impressions
// per group index; and the frequency distributions of all the groups
// together and of each alone.
type ReachSetResult struct {
	Sets                 []ReachSet
	AnonymousImpressions int64
	Waste                map[int]int64
	// Frequency has MaxReachFrequency entries when any user was reached
	// (nil otherwise): Frequency[f-1] is the number of users with exactly
	// f impressions in all the groups together, and the last entry those
	// with MaxReachFrequency or more.
	Frequency []int64
	// Groups has an entry per group index that reached a user: that
	// group's users, impressions and frequency distribution counting its
	// own impressions only.
	Groups map[int]GroupReach
}

// GroupReach is one group of a ReachSetResult taken alone.
type GroupReach struct {
	// Users are the users the group reached; Impressions their
	// impressions in the group (impressions without a user are not here).
	Users, Impressions int64
	// Frequency is as ReachSetResult.Frequency, over the group's
	// impressions only.
	Frequency []int64
}

// CheckReachSets checks a ReachSetQuery: at least one tenant and no empty
// one, at least one campaign, a range with From before To, group indexes
// in [0, MaxReachGroups), a known filter and a WasteAbove that is not
// negative.
func CheckReachSets(q ReachSetQuery) error {
	switch {
	case len(q.Tenants) == 0 || slices.Contains(q.Tenants, "") || len(q.Campaigns) == 0:
		return admeter.Errorf(admeter.EINVALID, "reach query without a tenant or campaigns")
	case q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To):
		return admeter.Errorf(admeter.EINVALID, "reach query range [%s, %s) is empty", q.From, q.To)
	case !q.Filter.Valid():
		return admeter.Errorf(admeter.EINVALID, "unknown traffic filter %d", q.Filter)
	case q.WasteAbove < 0:
		return admeter.Errorf(admeter.EINVALID, "frequency waste threshold %d is negative", q.WasteAbove)
	}
	for p, g := range q.Groups {
		if g < 0 || g >= MaxReachGroups {
			return admeter.Errorf(admeter.EINVALID, "placement %s is in group %d: groups are 0 to %d", p, g, MaxReachGroups-1)
		}
	}
	return nil
}
