package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/attribution"
	"github.com/admeter/admeter/store"
)

// ByType breaks a conversions report down by conversion type
// (admeter.Event.ConversionType, "order", "activation"...). Only the
// conversions report has it.
const ByType store.Dimension = "type"

// ConversionDimensions are the dimensions of a conversions report. Day
// and hour are of the conversion's time in the campaign's zone; placement,
// media, region, OS and device are those of the touch it is attributed
// to.
var ConversionDimensions = []store.Dimension{store.ByDay, store.ByHour, store.ByPlacement, store.ByMedia, store.ByRegion, store.ByOS, store.ByDevice, ByType}

// Bucket is a time-to-convert range: conversions whose delay from their
// touch is at least From and less than To (the last bucket includes its
// end).
type Bucket struct {
	Label    string
	From, To time.Duration
}

// Buckets are the time-to-convert buckets, in order. The last ends at the
// longest attribution window.
var Buckets = []Bucket{
	{"0-1h", 0, time.Hour},
	{"1-6h", time.Hour, 6 * time.Hour},
	{"6-24h", 6 * time.Hour, 24 * time.Hour},
	{"1-3d", 24 * time.Hour, 3 * 24 * time.Hour},
	{"3-7d", 3 * 24 * time.Hour, 7 * 24 * time.Hour},
	{"7-30d", 7 * 24 * time.Hour, 30 * 24 * time.Hour},
	{"30-90d", 30 * 24 * time.Hour, admeter.MaxAttributionWindow},
}

// bucketColumns are the CSV columns of the buckets.
var bucketColumns = []string{"ttc_0_1h", "ttc_1_6h", "ttc_6_24h", "ttc_1_3d", "ttc_3_7d", "ttc_7_30d", "ttc_30_90d"}

// bucketOf returns the index of the bucket of delay d.
func bucketOf(d time.Duration) int {
	for i, b := range Buckets {
		if d < b.To {
			return i
		}
	}
	return len(Buckets) - 1
}

// Outcome are the conversion measures of a report row.
type Outcome struct {
	// Conversions is the number of conversions attributed; PostClick and
	// PostView split them by the kind of touch they are attributed to.
	Conversions int64
	PostClick   int64
	PostView    int64
	// Value is the sum of their values in the report's currency, in
	// millionths. OtherCurrency is how many of them have a value in
	// another currency: in Conversions, not in Value.
	Value         int64
	OtherCurrency int64
	// TimeToConvert[i] is how many of them came within Buckets[i] of
	// their touch.
	TimeToConvert [7]int64
}

func (o *Outcome) add(r *attribution.Result, currency string) {
	o.Conversions++
	if r.PostClick {
		o.PostClick++
	} else {
		o.PostView++
	}
	switch {
	case r.Conversion.Value == 0:
	case r.Conversion.Currency == currency:
		o.Value += r.Conversion.Value
	default:
		o.OtherCurrency++
	}
	o.TimeToConvert[bucketOf(r.Delay)]++
}

// CVR returns conversions per click, 0 without clicks. Post-view
// conversions count too, so it may exceed 1.
func CVR(conversions, clicks int64) float64 {
	if clicks == 0 {
		return 0
	}
	return float64(conversions) / float64(clicks)
}

// ViewableRate returns viewable over measurable impressions, 0 without
// measurable ones.
func ViewableRate(v store.ViewCounts) float64 {
	if v.Measurable == 0 {
		return 0
	}
	return float64(v.Viewable) / float64(v.Measurable)
}

// parseCurrency returns the report currency of a request: its ISO 4217
// code, CNY when empty.
func parseCurrency(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return admeter.DefaultCurrency, nil
	}
	if err := admeter.ValidCurrency(s); err != nil {
		return "", err
	}
	return s, nil
}

// attribute attributes the tenant's conversions with event time in
// [from, to) over all its campaigns, looking back as far as the longest
// window of any of them. Touches are valid traffic only: invalid traffic
// wins no conversion, whatever a report's filter.
func (s *Service) attribute(ctx context.Context, tenant admeter.TenantID, from, to time.Time) ([]attribution.Result, error) {
	cs, err := s.campaigns.Campaigns(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("list campaigns for attribution: %w", err)
	}
	rules := make(map[admeter.CampaignID]*admeter.Attribution, len(cs))
	lookback := time.Duration(0)
	for _, c := range cs {
		rules[c.ID] = &c.Attribution
		lookback = max(lookback, c.Attribution.Longest())
	}
	data, err := s.store.Attribution(ctx, store.AttributionQuery{Tenant: tenant, From: from, To: to, Lookback: lookback})
	if err != nil {
		return nil, fmt.Errorf("query conversions: %w", err)
	}
	return attribution.Attribute(data, func(id admeter.CampaignID) (*admeter.Attribution, bool) {
		a, ok := rules[id]
		return a, ok
	}), nil
}

// outcomes are the conversion measures of a report's groups, by row key,
// with the groups in the order first met.
type outcomes struct {
	rows  map[string]*Outcome
	dims  map[string][]string
	order []string
	total Outcome
}

// tally counts the conversions attributed to campaign (and, when
// placements is not empty, to those of its placements) by the dimensions
// by.
func tally(results []attribution.Result, campaign admeter.CampaignID, placements []admeter.PlacementID, by []store.Dimension,
	loc *time.Location, media map[admeter.PlacementID]string, currency string) *outcomes {
	out := &outcomes{rows: map[string]*Outcome{}, dims: map[string][]string{}}
	for i := range results {
		r := &results[i]
		if r.Touch == nil || r.Touch.Campaign != campaign || len(placements) > 0 && !slices.Contains(placements, r.Touch.Placement) {
			continue
		}
		dims := conversionDims(r, by, loc, media)
		k := rowKey(dims)
		o, ok := out.rows[k]
		if !ok {
			o = &Outcome{}
			out.rows[k], out.dims[k] = o, dims
			out.order = append(out.order, k)
		}
		o.add(r, currency)
		out.total.add(r, currency)
	}
	return out
}

// conversionDims returns the dimension values of an attributed conversion.
func conversionDims(r *attribution.Result, by []store.Dimension, loc *time.Location, media map[admeter.PlacementID]string) []string {
	dims := make([]string, len(by))
	for i, d := range by {
		switch d {
		case store.ByDay:
			dims[i] = r.Conversion.At.In(loc).Format(time.DateOnly)
		case store.ByHour:
			dims[i] = r.Conversion.At.In(loc).Format("2006-01-02T15")
		case store.ByPlacement:
			dims[i] = string(r.Touch.Placement)
		case store.ByMedia:
			dims[i] = media[r.Touch.Placement]
		case store.ByRegion:
			dims[i] = r.Touch.Region
		case store.ByOS:
			dims[i] = r.Touch.OS.String()
		case store.ByDevice:
			dims[i] = r.Touch.Device.String()
		case ByType:
			dims[i] = r.Conversion.Type
		}
	}
	return dims
}

// ParseConversionBy parses the comma-separated dimensions of a
// conversions report: any of ConversionDimensions, without repeats.
func ParseConversionBy(by string) ([]store.Dimension, error) {
	return parseDims(by, ConversionDimensions)
}

// ConversionRow is one row of a conversions report: its dimension values,
// its conversion measures, and the clicks of the campaign in the same
// group (without the type: clicks have none), for CVR.
type ConversionRow struct {
	Dims []string
	Outcome
	Clicks int64
}

// Conversions is a campaign's conversions report.
type Conversions struct {
	Campaign admeter.CampaignID
	From, To store.Date
	Timezone string
	By       []store.Dimension
	Currency string
	// Rows are the groups with conversions, sorted by their dimension
	// values; Total is over the whole range.
	Rows  []ConversionRow
	Total ConversionRow
	// PlacementNames maps placement ids to names.
	PlacementNames map[admeter.PlacementID]string
	// RawFrom is set when the range reaches past the raw-data retention:
	// conversions before it were deleted, so the report covers it onwards.
	RawFrom *store.Date
}

// Conversions returns the conversions attributed to a campaign (to the
// requested placements, for a media tenant) with conversion time in the
// range, by the requested dimensions (ParseConversionBy), with their value
// in req.Currency, the post-click and post-view split, CVR over the
// group's valid clicks, and the time-to-convert distribution. req.Filter
// is not used: attribution and clicks are of valid traffic.
func (s *Service) Conversions(ctx context.Context, req Request) (*Conversions, error) {
	dims, err := ParseConversionBy(req.By)
	if err != nil {
		return nil, err
	}
	c, loc, f, t, err := s.scope(ctx, req.Tenant, req.Campaign, req.From, req.To)
	if err != nil {
		return nil, err
	}
	currency, err := parseCurrency(req.Currency)
	if err != nil {
		return nil, err
	}
	media, names := placementMaps(c)
	out := &Conversions{Campaign: c.ID, From: f, To: t, Timezone: c.Timezone, By: dims, Currency: currency, PlacementNames: names,
		Rows: []ConversionRow{}}
	from, to := f.In(loc), t.AddDays(1).In(loc)
	if ret := s.scopeRetention(f, loc); ret != nil {
		out.RawFrom = &ret.RawFrom
		from = ret.RawFrom.In(loc)
	}
	if !from.Before(to) {
		return out, nil
	}
	// Clicks by the dimensions other than the type.
	var clickDims []store.Dimension
	var clickIdx []int
	for i, d := range dims {
		if d != ByType {
			clickDims = append(clickDims, d)
			clickIdx = append(clickIdx, i)
		}
	}
	clicks, err := s.store.Report(ctx, store.ReportQuery{Tenant: req.Tenant, Campaign: c.ID, From: from, To: to, Location: loc,
		By: clickDims, Media: media, Placements: req.Placements})
	if err != nil {
		return nil, fmt.Errorf("query clicks: %w", err)
	}
	clicksOf := make(map[string]int64, len(clicks.Rows))
	for _, row := range clicks.Rows {
		clicksOf[rowKey(row.Dims)] = row.Clicks
	}
	results, err := s.attribute(ctx, req.Tenant, from, to)
	if err != nil {
		return nil, err
	}
	conv := tally(results, c.ID, req.Placements, dims, loc, media, currency)
	for _, k := range conv.order {
		row := ConversionRow{Dims: conv.dims[k], Outcome: *conv.rows[k]}
		cd := make([]string, len(clickIdx))
		for j, i := range clickIdx {
			cd[j] = row.Dims[i]
		}
		row.Clicks = clicksOf[rowKey(cd)]
		if len(cd) == 0 {
			row.Clicks = clicks.Total.Clicks
		}
		out.Rows = append(out.Rows, row)
	}
	slices.SortFunc(out.Rows, func(a, b ConversionRow) int { return slices.Compare(a.Dims, b.Dims) })
	out.Total = ConversionRow{Outcome: conv.total, Clicks: clicks.Total.Clicks}
	return out, nil
}
