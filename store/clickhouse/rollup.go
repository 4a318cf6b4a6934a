package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// RefreshRollups recomputes the daily rollup rows of a campaign for the
// given local days in tz from the raw events: it deletes the days' rows
// (an ALTER … DELETE mutation, waited for) and inserts each day's rows of
// a report by placement over that day (impression ids deduplicated within
// the day, over valid and invalid events together), with the counts of
// valid and of invalid traffic apart and the users seen in both, with one
// INSERT … SELECT. A day without events loses its rows. Days that begin
// before the latest DeleteBefore cut keep their rows as they are: their
// raw events are incomplete. Between the deletion and the insert a reader
// of Daily sees the days without rows. It returns EINVALID for a nil tz
// or an empty tenant or campaign.
func (db *DB) RefreshRollups(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, tz *time.Location, days []store.Date) error {
	switch {
	case tz == nil:
		return invalid("rollups need a time zone")
	case tenant == "" || campaign == "":
		return invalid("rollups need a tenant and a campaign")
	case len(days) == 0:
		return nil
	}
	if err := db.lock("refresh rollups"); err != nil {
		return err
	}
	defer db.wmu.Unlock()
	if err := db.refresh(ctx, tenant, campaign, tz, days); err != nil {
		return fmt.Errorf("refresh rollups: %w", err)
	}
	return nil
}

func (db *DB) refresh(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, tz *time.Location, days []store.Date) error {
	retained, err := db.meta(ctx, metaRetained)
	if err != nil {
		return err
	}
	var nums []int64
	skipped := 0
	for _, d := range days {
		if d.In(tz).UnixMilli() < int64(retained) {
			skipped++
			continue
		}
		nums = append(nums, epochDay(d))
	}
	slices.Sort(nums)
	nums = slices.Compact(nums)
	if skipped > 0 {
		db.logger.Info("rollups before the retention cut kept as they are", "tenant", tenant, "campaign", campaign, "days", skipped,
			"cut", time.UnixMilli(int64(retained)).UTC().Format(time.RFC3339))
	}
	if len(nums) == 0 {
		return nil
	}
	dayList := make([]string, len(nums))
	for i, n := range nums {
		dayList[i] = itoa(n)
	}
	days0 := strings.Join(dayList, ", ")
	owner := fmt.Sprintf("tenant = %s AND campaign = %s", quote(string(tenant)), quote(string(campaign)))
	var n uint64
	if err := db.conn.QueryRow(ctx, fmt.Sprintf(`SELECT count() FROM daily WHERE %s AND day IN (%s)`, owner, days0)).Scan(&n); err != nil {
		return fmt.Errorf("look for rollup rows: %w", err)
	}
	if n > 0 {
		if err := db.mutate(ctx, "daily", fmt.Sprintf(`DELETE WHERE %s AND day IN (%s)`, owner, days0)); err != nil {
			return err
		}
	}
	from, to := dateOfDay(nums[0]).In(tz), dateOfDay(nums[len(nums)-1]+1).In(tz)
	sc, err := db.newScope(ctx, tenant, campaign, nil, from, to, tz)
	if err != nil {
		return err
	}
	// The local day is a dedup key too: each day counts as if reported
	// alone. uv and invalid_uv are aliases ClickHouse lets later columns
	// of the same SELECT use.
	localDay := fmt.Sprintf("intDiv(%s, %d)", sc.zone.local(), msPerDay)
	ev := sc.dedup(sc.where(fmt.Sprintf("%d, %d", sqlImpression, sqlClick)), ", "+localDay+" AS local_day", ", local_day")
	query := fmt.Sprintf(`INSERT INTO daily (tenant, campaign, placement, day, impressions, clicks, uv, click_uv, anon_impressions, anon_clicks,
	invalid_impressions, invalid_clicks, invalid_uv, invalid_click_uv, invalid_anon_impressions, invalid_anon_clicks, mixed_uv, mixed_click_uv)
SELECT %[1]s, %[2]s, placement, toUInt32(local_day),
	toInt64(countIf(kind = %[3]d AND ivt = 0)),
	toInt64(countIf(kind = %[4]d AND ivt = 0)),
	toInt64(uniqExactIf(user_key, kind = %[3]d AND ivt = 0 AND user_key != %[7]s)) AS uv,
	toInt64(uniqExactIf(user_key, kind = %[4]d AND ivt = 0 AND user_key != %[7]s)) AS click_uv,
	toInt64(countIf(kind = %[3]d AND ivt = 0 AND user_key = %[7]s)),
	toInt64(countIf(kind = %[4]d AND ivt = 0 AND user_key = %[7]s)),
	toInt64(countIf(kind = %[3]d AND ivt != 0)),
	toInt64(countIf(kind = %[4]d AND ivt != 0)),
	toInt64(uniqExactIf(user_key, kind = %[3]d AND ivt != 0 AND user_key != %[7]s)) AS invalid_uv,
	toInt64(uniqExactIf(user_key, kind = %[4]d AND ivt != 0 AND user_key != %[7]s)) AS invalid_click_uv,
	toInt64(countIf(kind = %[3]d AND ivt != 0 AND user_key = %[7]s)),
	toInt64(countIf(kind = %[4]d AND ivt != 0 AND user_key = %[7]s)),
	uv + invalid_uv - toInt64(uniqExactIf(user_key, kind = %[3]d AND user_key != %[7]s)),
	click_uv + invalid_click_uv - toInt64(uniqExactIf(user_key, kind = %[4]d AND user_key != %[7]s))
FROM (%[5]s)
WHERE local_day IN (%[6]s)
GROUP BY placement, local_day`, quote(string(tenant)), quote(string(campaign)), sqlImpression, sqlClick, ev, days0, noKey)
	if err := db.conn.Exec(ctx, query); err != nil {
		return fmt.Errorf("compute rollups: %w", err)
	}
	return nil
}

// Daily returns the rollup rows of a campaign for local days [q.From,
// q.To], of the placements q.Placements names (all when it names none),
// sorted by day and placement, with the counts of the traffic q.Filter
// selects: the valid columns, or valid and invalid added (users: uv +
// invalid_uv - mixed_uv). It reads only the rollup table. It returns
// EINVALID if q.From is after q.To or the filter is unknown.
func (db *DB) Daily(ctx context.Context, q store.DailyQuery) ([]store.DailyRow, error) {
	if q.To.Before(q.From) {
		return nil, invalid("the day range is empty: %s is after %s", q.From, q.To)
	}
	if err := store.CheckFilter(q.Filter); err != nil {
		return nil, err
	}
	query := fmt.Sprintf(`SELECT toInt64(day), placement, impressions, clicks, uv, click_uv, anon_impressions, anon_clicks,
	invalid_impressions, invalid_clicks, invalid_uv, invalid_click_uv, invalid_anon_impressions, invalid_anon_clicks, mixed_uv, mixed_click_uv
FROM daily WHERE tenant = %s AND campaign = %s AND day >= %d AND day <= %d`, quote(string(q.Tenant)), quote(string(q.Campaign)), epochDay(q.From), epochDay(q.To))
	if len(q.Placements) > 0 {
		query += " AND placement IN (" + stringList(q.Placements) + ")"
	}
	rows, err := db.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	defer rows.Close()
	var out []store.DailyRow
	for rows.Next() {
		var r store.DailyRow
		var day int64
		var placement string
		var invAnonImps, invAnonClicks, mixedUV, mixedClickUV int64
		if err := rows.Scan(&day, &placement, &r.Impressions, &r.Clicks, &r.UV, &r.ClickUV, &r.AnonymousImpressions, &r.AnonymousClicks,
			&r.InvalidImpressions, &r.InvalidClicks, &r.InvalidUV, &r.InvalidClickUV, &invAnonImps, &invAnonClicks, &mixedUV, &mixedClickUV); err != nil {
			return nil, fmt.Errorf("read rollups: %w", err)
		}
		if q.Filter == store.FilterAll {
			r.Impressions += r.InvalidImpressions
			r.Clicks += r.InvalidClicks
			r.UV += r.InvalidUV - mixedUV
			r.ClickUV += r.InvalidClickUV - mixedClickUV
			r.AnonymousImpressions += invAnonImps
			r.AnonymousClicks += invAnonClicks
		}
		r.Day = dateOfDay(day)
		r.Placement = admeter.PlacementID(placement)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	slices.SortFunc(out, func(a, b store.DailyRow) int {
		if a.Day != b.Day {
			if a.Day.Before(b.Day) {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.Placement), string(b.Placement))
	})
	return out, nil
}
