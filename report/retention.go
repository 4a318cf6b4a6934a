package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter/store"
)

// Retention says that part of a report's range is older than the raw-data
// retention, and how that part was answered.
type Retention struct {
	// RawFrom is the first local day whose raw events are all kept.
	RawFrom store.Date
	// FromRollups is true when the days before RawFrom were answered from
	// the daily rollups (impressions and clicks exact; unique users summed
	// over days and placements, not de-duplicated). It is false when the
	// breakdown needs raw events (hour, region, OS, device), so those days
	// are left out.
	FromRollups bool
}

// Message explains the retention note in English and Chinese.
func (r *Retention) Message() string {
	if r.FromRollups {
		return fmt.Sprintf("Raw events before %s are past the retention period and were deleted; those days come from daily rollups: impressions and clicks are exact, unique users are daily per-placement counts summed, not de-duplicated. / %s 之前的原始事件已超过保存期限并删除,这些日期的数据来自按日汇总:曝光和点击准确,独立用户数为每日每个广告位的去重数之和,未跨日去重。", r.RawFrom, r.RawFrom)
	}
	return fmt.Sprintf("Raw events before %s are past the retention period and were deleted; this breakdown needs raw events, so it covers %s onwards only. Ask by day, placement or media to include earlier days from the daily rollups. / %s 之前的原始事件已超过保存期限并删除;此维度需要原始事件,因此只统计 %s 起的数据。按日、广告位或媒体查询可包含更早日期的按日汇总。", r.RawFrom, r.RawFrom, r.RawFrom, r.RawFrom)
}

// rawFrom returns the first local day (in loc) that starts at or after cut.
func rawFrom(cut time.Time, loc *time.Location) store.Date {
	d := store.DateOf(cut.In(loc))
	if d.In(loc).Before(cut) {
		d = d.AddDays(1)
	}
	return d
}

// rollupDims are the dimensions the daily rollups can answer.
var rollupDims = []store.Dimension{store.ByDay, store.ByPlacement, store.ByMedia}

// reportPastRetention answers a report whose range [f, t] starts before the
// first fully kept day r.RawFrom: raw events from r.RawFrom, rollups before.
func (s *Service) reportPastRetention(ctx context.Context, q store.ReportQuery, f, t store.Date, ret *Retention) (*store.ReportResult, error) {
	res := &store.ReportResult{}
	if !t.Before(ret.RawFrom) {
		rq := q
		rq.From = ret.RawFrom.In(q.Location)
		raw, err := s.store.Report(ctx, rq)
		if err != nil {
			return nil, err
		}
		res = raw
	}
	ret.FromRollups = true
	for _, d := range q.By {
		if !slices.Contains(rollupDims, d) {
			ret.FromRollups = false
		}
	}
	if !ret.FromRollups {
		return res, nil
	}
	last := ret.RawFrom.AddDays(-1)
	if t.Before(last) {
		last = t
	}
	daily, err := s.store.Daily(ctx, store.DailyQuery{Tenant: q.Tenant, Campaign: q.Campaign, From: f, To: last, Placements: q.Placements, Filter: q.Filter})
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(res.Rows))
	for i, row := range res.Rows {
		index[strings.Join(row.Dims, "\x00")] = i
	}
	for _, d := range daily {
		dims := make([]string, len(q.By))
		for i, dim := range q.By {
			switch dim {
			case store.ByDay:
				dims[i] = d.Day.String()
			case store.ByPlacement:
				dims[i] = string(d.Placement)
			case store.ByMedia:
				dims[i] = q.Media[d.Placement]
			}
		}
		key := strings.Join(dims, "\x00")
		i, ok := index[key]
		if !ok {
			i = len(res.Rows)
			index[key] = i
			res.Rows = append(res.Rows, store.ReportRow{Dims: dims})
		}
		add(&res.Rows[i].Counts, d.Counts)
		add(&res.Total, d.Counts)
		res.AnonymousImpressions += d.AnonymousImpressions
		res.AnonymousClicks += d.AnonymousClicks
	}
	slices.SortFunc(res.Rows, func(a, b store.ReportRow) int { return slices.Compare(a.Dims, b.Dims) })
	return res, nil
}

func add(c *store.Counts, d store.Counts) {
	c.Impressions += d.Impressions
	c.Clicks += d.Clicks
	c.UV += d.UV
	c.ClickUV += d.ClickUV
	c.InvalidImpressions += d.InvalidImpressions
	c.InvalidClicks += d.InvalidClicks
	c.InvalidUV += d.InvalidUV
	c.InvalidClickUV += d.InvalidClickUV
}

// scopeRetention returns the retention note for a range starting at local
// day f, or nil when the whole range is within retention.
func (s *Service) scopeRetention(f store.Date, loc *time.Location) *Retention {
	if s.RawFrom == nil {
		return nil
	}
	cut := s.RawFrom()
	if cut.IsZero() || !f.In(loc).Before(cut) {
		return nil
	}
	return &Retention{RawFrom: rawFrom(cut, loc)}
}
