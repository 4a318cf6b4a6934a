package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Campaigns finds a tenant's campaign (another tenant's is ENOTFOUND) and
// lists a tenant's campaigns (whose attribution settings decide which
// campaign wins each conversion).
type Campaigns interface {
	Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
	Campaigns(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Campaign, error)
}

// Store is what reports read.
type Store interface {
	Report(ctx context.Context, q store.ReportQuery) (*store.ReportResult, error)
	Frequency(ctx context.Context, q store.FrequencyQuery) (*store.FrequencyResult, error)
	Daily(ctx context.Context, q store.DailyQuery) ([]store.DailyRow, error)
	InvalidSamples(ctx context.Context, q store.SampleQuery) ([]store.ReasonSample, error)
	Viewability(ctx context.Context, q store.ReportQuery) (*store.ViewReport, error)
	Attribution(ctx context.Context, q store.AttributionQuery) (*store.AttributionData, error)
}

// Service answers report requests.
type Service struct {
	campaigns Campaigns
	store     Store
	// MaxDays is the longest range one request may cover.
	MaxDays int
	// RawFrom returns the instant from which raw events are kept (now minus
	// the retention period); nil or a zero time means all are kept. Reports
	// over earlier days answer from the daily rollups and say so.
	RawFrom func() time.Time
}

// DefaultMaxDays is the default longest report range: a little over a year.
const DefaultMaxDays = 400

// New returns a Service.
func New(campaigns Campaigns, st Store) *Service {
	return &Service{campaigns: campaigns, store: st, MaxDays: DefaultMaxDays}
}

// Request is a report request as the API receives it.
type Request struct {
	Tenant   admeter.TenantID
	Campaign admeter.CampaignID
	From, To string // YYYY-MM-DD, inclusive, in the campaign's time zone
	By       string // comma-separated dimensions, or ""
	// Placements, if not empty, limits the report to those placements (a
	// media tenant's view of an advertiser's campaign).
	Placements []admeter.PlacementID
	// Filter is "valid" (the default: net of invalid traffic) or "all"
	// (gross).
	Filter string
	// Currency is the ISO 4217 code conversion values are summed in
	// (default admeter.DefaultCurrency, CNY).
	Currency string
}

// Report is a campaign report.
type Report struct {
	Campaign admeter.CampaignID
	From, To store.Date
	Timezone string
	By       []store.Dimension
	Rows     []store.ReportRow
	Total    store.Counts
	// AnonymousImpressions and AnonymousClicks are the events without a user
	// identifier (in the totals, not in UV).
	AnonymousImpressions int64
	AnonymousClicks      int64
	// PlacementNames maps placement ids to names, for readable output.
	PlacementNames map[admeter.PlacementID]string
	// Retention is set when the range reaches past the raw-data retention.
	Retention *Retention
	// Filter is the traffic counted in the measures: "valid" or "all".
	Filter string
	// Views and Outcomes are the viewability and video measures and the
	// conversion measures of each row, index for index with Rows (nil
	// when the report has none, as with by=reason); TotalView and
	// TotalOutcome those of the total. ViewOf and OutcomeOf read them.
	Views        []store.ViewCounts
	Outcomes     []Outcome
	TotalView    store.ViewCounts
	TotalOutcome Outcome
	// Currency is the currency of the conversion values.
	Currency string
	// Note says when the viewability and conversion measures are left out
	// (by=reason) or cover only part of the range (raw events past
	// retention); empty otherwise.
	Note string
	// validRows and validTotal are the valid-traffic measures of a gross
	// report, by the rows' joined dimension values (see Valid).
	validRows  map[string]store.Counts
	validTotal store.Counts
}

// Frequency is a campaign's reach and frequency report.
type Frequency struct {
	Campaign admeter.CampaignID
	From, To store.Date
	Timezone string
	store.FrequencyResult
	// Retention is set when the range reaches past the raw-data retention:
	// reach and frequency then cover Retention.RawFrom onwards only.
	Retention *Retention
	// Filter is the traffic counted: "valid" or "all".
	Filter string
}

// Daily is a campaign's daily rollup.
type Daily struct {
	Campaign admeter.CampaignID
	From, To store.Date
	Timezone string
	Rows     []store.DailyRow
	// Filter is the traffic counted: "valid" or "all".
	Filter string
}

// scope resolves the campaign (404 if not the tenant's) and the date range.
func (s *Service) scope(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID, from, to string) (*admeter.Campaign, *time.Location, store.Date, store.Date, error) {
	var zero store.Date
	c, err := s.campaigns.Campaign(ctx, tenant, id)
	if err != nil {
		return nil, nil, zero, zero, err
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, nil, zero, zero, fmt.Errorf("load campaign time zone %q: %w", c.Timezone, err)
	}
	f, t, err := store.ParseDateRange(from, to, s.MaxDays, "the campaign's time zone "+c.Timezone)
	if err != nil {
		return nil, nil, zero, zero, err
	}
	return c, loc, f, t, nil
}

// ParseBy parses a comma-separated list of dimensions.
func ParseBy(by string) ([]store.Dimension, error) {
	return parseDims(by, store.Dimensions)
}

// parseDims parses a comma-separated list of the dimensions allowed,
// without repeats.
func parseDims(by string, allowed []store.Dimension) ([]store.Dimension, error) {
	var dims []store.Dimension
	for _, part := range strings.Split(by, ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		if part == "" {
			continue
		}
		d := store.Dimension(part)
		if !slices.Contains(allowed, d) {
			names := make([]string, len(allowed))
			for i, a := range allowed {
				names[i] = string(a)
			}
			return nil, admeter.Errorf(admeter.EINVALID, "unknown dimension %q in by; use any of %s", part, strings.Join(names, ", "))
		}
		if slices.Contains(dims, d) {
			return nil, admeter.Errorf(admeter.EINVALID, "dimension %q is given twice in by", part)
		}
		dims = append(dims, d)
	}
	return dims, nil
}

// Report returns the impressions, clicks and unique users of a campaign,
// its viewability and video measures and the conversions attributed to it
// (see package attribution), by the requested dimensions. With by=reason
// the viewability and conversion measures are left out (Report.Note says
// so): they are not kept per invalid-traffic reason.
func (s *Service) Report(ctx context.Context, req Request) (*Report, error) {
	dims, err := ParseBy(req.By)
	if err != nil {
		return nil, err
	}
	c, loc, f, t, err := s.scope(ctx, req.Tenant, req.Campaign, req.From, req.To)
	if err != nil {
		return nil, err
	}
	filter, err := store.ParseTrafficFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	currency, err := parseCurrency(req.Currency)
	if err != nil {
		return nil, err
	}
	media, names := placementMaps(c)
	q := store.ReportQuery{
		Tenant: req.Tenant, Campaign: c.ID, From: f.In(loc), To: t.AddDays(1).In(loc), Location: loc, By: dims, Media: media,
		Placements: req.Placements, Filter: filter,
	}
	ret := s.scopeRetention(f, loc)
	res, err := s.counts(ctx, q, f, t, ret)
	if err != nil {
		return nil, fmt.Errorf("query report: %w", err)
	}
	r := &Report{
		Campaign: c.ID, From: f, To: t, Timezone: c.Timezone, By: dims, Rows: res.Rows, Total: res.Total,
		AnonymousImpressions: res.AnonymousImpressions, AnonymousClicks: res.AnonymousClicks, PlacementNames: names,
		Retention: ret, Filter: filter.String(), Currency: currency,
	}
	if filter == store.FilterAll {
		// Gross measures do not tell the valid users (a user may have
		// valid and invalid events): ask for the valid traffic as well.
		vq := q
		vq.Filter = store.FilterValid
		valid, err := s.counts(ctx, vq, f, t, ret)
		if err != nil {
			return nil, fmt.Errorf("query report: %w", err)
		}
		r.validRows = make(map[string]store.Counts, len(valid.Rows))
		for _, row := range valid.Rows {
			r.validRows[rowKey(row.Dims)] = row.Counts
		}
		r.validTotal = valid.Total
	}
	if slices.Contains(dims, store.ByReason) {
		r.Note = reasonNote
		return r, nil
	}
	// Viewability and conversions need raw events: past retention they
	// cover the kept days only.
	if ret != nil {
		q.From = ret.RawFrom.In(loc)
		r.Note = fmt.Sprintf(retentionNote, ret.RawFrom, ret.RawFrom, ret.RawFrom, ret.RawFrom)
	}
	view := &store.ViewReport{}
	conv := &outcomes{rows: map[string]*Outcome{}}
	if q.From.Before(q.To) {
		if view, err = s.store.Viewability(ctx, q); err != nil {
			return nil, fmt.Errorf("query viewability: %w", err)
		}
		results, err := s.attribute(ctx, req.Tenant, q.From, q.To)
		if err != nil {
			return nil, err
		}
		conv = tally(results, c.ID, req.Placements, dims, loc, media, currency)
	}
	r.merge(view, conv)
	return r, nil
}

// counts answers the impressions and clicks of a report query over local
// days [f, t], from raw events and, past retention, the daily rollups.
func (s *Service) counts(ctx context.Context, q store.ReportQuery, f, t store.Date, ret *Retention) (*store.ReportResult, error) {
	if ret != nil {
		return s.reportPastRetention(ctx, q, f, t, ret)
	}
	return s.store.Report(ctx, q)
}

// placementMaps returns each placement's media and name.
func placementMaps(c *admeter.Campaign) (media, names map[admeter.PlacementID]string) {
	media = make(map[admeter.PlacementID]string, len(c.Placements))
	names = make(map[admeter.PlacementID]string, len(c.Placements))
	for _, p := range c.Placements {
		media[p.ID], names[p.ID] = p.Media, p.Name
	}
	return media, names
}

// rowKey joins a row's dimension values into a map key.
func rowKey(dims []string) string { return strings.Join(dims, "\x00") }

// reasonNote and retentionNote are the Report.Note texts.
const (
	reasonNote    = "Viewability, video and conversion measures are not broken down by invalid-traffic reason, so this report leaves them out; ask without by=reason to see them. / 可见性、视频和转化指标不按无效流量原因细分,此报表不含这些指标;去掉 by=reason 即可查看。"
	retentionNote = "Raw events before %s are past the retention period and were deleted; viewability, video and conversion measures need them, so they cover %s onwards only. / %s 之前的原始事件已超过保存期限并删除;可见性、视频和转化指标只统计 %s 起的数据。"
)

// merge adds the viewability rows and conversion rows to r's rows (a
// group with viewability or conversions but no impression or click gets
// a row of its own) and keeps the rows sorted by their dimension values.
func (r *Report) merge(view *store.ViewReport, conv *outcomes) {
	r.TotalView = view.Total
	r.TotalOutcome = conv.total
	if len(r.By) == 0 {
		return // totals only
	}
	index := make(map[string]int, len(r.Rows))
	for i, row := range r.Rows {
		index[rowKey(row.Dims)] = i
	}
	row := func(dims []string) int {
		k := rowKey(dims)
		i, ok := index[k]
		if !ok {
			i = len(r.Rows)
			index[k] = i
			r.Rows = append(r.Rows, store.ReportRow{Dims: slices.Clone(dims)})
		}
		return i
	}
	views := map[int]store.ViewCounts{}
	for _, v := range view.Rows {
		views[row(v.Dims)] = v.ViewCounts
	}
	outs := map[int]Outcome{}
	for _, k := range conv.order {
		outs[row(conv.dims[k])] = *conv.rows[k]
	}
	order := make([]int, len(r.Rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return slices.Compare(r.Rows[a].Dims, r.Rows[b].Dims) })
	rows := make([]store.ReportRow, len(order))
	r.Views = make([]store.ViewCounts, len(order))
	r.Outcomes = make([]Outcome, len(order))
	for j, i := range order {
		rows[j], r.Views[j], r.Outcomes[j] = r.Rows[i], views[i], outs[i]
	}
	r.Rows = rows
}

// ViewOf returns the viewability and video measures of row i, or of the
// total when i is -1 (zero when the report has none).
func (r *Report) ViewOf(i int) store.ViewCounts {
	if i < 0 {
		return r.TotalView
	}
	if i < len(r.Views) {
		return r.Views[i]
	}
	return store.ViewCounts{}
}

// OutcomeOf returns the conversion measures of row i, or of the total when
// i is -1 (zero when the report has none).
func (r *Report) OutcomeOf(i int) Outcome {
	if i < 0 {
		return r.TotalOutcome
	}
	if i < len(r.Outcomes) {
		return r.Outcomes[i]
	}
	return Outcome{}
}

// hasOutcomes reports whether the report carries viewability and
// conversion measures (not by=reason).
func (r *Report) hasOutcomes() bool { return !slices.Contains(r.By, store.ByReason) }

// Valid returns the valid-traffic measures of row i of the report, or of
// its total when i is -1, whatever the report's filter.
func (r *Report) Valid(i int) store.Counts {
	c := r.Total
	if i >= 0 {
		c = r.Rows[i].Counts
	}
	if r.Filter != store.FilterAll.String() {
		return c
	}
	if i < 0 {
		return r.validTotal
	}
	return r.validRows[rowKey(r.Rows[i].Dims)]
}

// Frequency returns a campaign's reach, frequency distribution and cumulative
// reach, of the traffic req.Filter selects; with req.Placements, over those
// placements alone. req.By is not used.
func (s *Service) Frequency(ctx context.Context, req Request) (*Frequency, error) {
	c, loc, f, t, err := s.scope(ctx, req.Tenant, req.Campaign, req.From, req.To)
	if err != nil {
		return nil, err
	}
	filter, err := store.ParseTrafficFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	q := store.FrequencyQuery{Tenant: req.Tenant, Campaign: c.ID, From: f.In(loc), To: t.AddDays(1).In(loc), Location: loc,
		Placements: req.Placements, Filter: filter}
	out := &Frequency{Campaign: c.ID, From: f, To: t, Timezone: c.Timezone, Filter: filter.String()}
	if out.Retention = s.scopeRetention(f, loc); out.Retention != nil {
		// Reach needs raw events: the answer covers the kept days only.
		q.From = out.Retention.RawFrom.In(loc)
		if !q.From.Before(q.To) {
			return out, nil
		}
	}
	res, err := s.store.Frequency(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query frequency: %w", err)
	}
	out.FrequencyResult = *res
	return out, nil
}

// Daily returns a campaign's daily rollups per placement, counting the
// traffic req.Filter selects; with req.Placements, of those placements alone.
// req.By is not used.
func (s *Service) Daily(ctx context.Context, req Request) (*Daily, error) {
	c, _, f, t, err := s.scope(ctx, req.Tenant, req.Campaign, req.From, req.To)
	if err != nil {
		return nil, err
	}
	filter, err := store.ParseTrafficFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.Daily(ctx, store.DailyQuery{Tenant: req.Tenant, Campaign: c.ID, From: f, To: t, Placements: req.Placements, Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("query daily rollups: %w", err)
	}
	return &Daily{Campaign: c.ID, From: f, To: t, Timezone: c.Timezone, Rows: rows, Filter: filter.String()}, nil
}

// CTR returns clicks per impression, 0 without impressions.
func CTR(c store.Counts) float64 {
	if c.Impressions == 0 {
		return 0
	}
	return float64(c.Clicks) / float64(c.Impressions)
}
