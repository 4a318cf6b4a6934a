package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// RefreshRollups recomputes the daily rollup rows of a campaign for the
// given local days in tz from the raw events, in one transaction: each
// day's rows are those of a report by placement over that day (impression
// ids deduplicated within the day, over valid and invalid events
// together), with the counts of valid and of invalid traffic apart and the
// users seen in both (see schema). A day without events loses its rows.
// Days that begin before the latest DeleteBefore cut keep their rows as
// they are: their raw events are incomplete. It returns EINVALID for a nil
// tz or an empty tenant or campaign.
func (db *DB) RefreshRollups(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, tz *time.Location, days []store.Date) error {
	switch {
	case tz == nil:
		return invalid("rollups need a time zone")
	case tenant == "" || campaign == "":
		return invalid("rollups need a tenant and a campaign")
	case len(days) == 0:
		return nil
	}
	set := map[int32]bool{}
	for _, d := range days {
		set[epochDay(d)] = true
	}

	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return fmt.Errorf("refresh rollups: %w", errClosed)
	}
	var nums []int32
	skipped := 0
	for _, n := range sortedDays(set) {
		if dateOfDay(int64(n)).In(tz).UnixMilli() < db.retainedBefore {
			skipped++
			continue
		}
		nums = append(nums, n)
	}
	if skipped > 0 {
		db.logger.Info("rollups before the retention cut kept as they are", "tenant", tenant, "campaign", campaign, "days", skipped,
			"cut", time.UnixMilli(db.retainedBefore).UTC().Format(time.RFC3339))
	}
	if len(nums) == 0 {
		return nil
	}
	// Contiguous days make one time range.
	var ranges []msRange
	for i, n := range nums {
		from, to := dateOfDay(int64(n)).In(tz).UnixMilli(), dateOfDay(int64(n)+1).In(tz).UnixMilli()
		if i > 0 && nums[i-1] == n-1 {
			ranges[len(ranges)-1].to = to
		} else {
			ranges = append(ranges, msRange{from, to})
		}
	}
	dayList := make([]string, len(nums))
	for i, n := range nums {
		dayList[i] = fmt.Sprint(n)
	}
	t, ok1 := db.dict.lookup(string(tenant))
	c, ok2 := db.dict.lookup(string(campaign))
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM daily WHERE tenant = %d AND campaign = %d AND (day - DATE '1970-01-01') IN (%s)`,
			t, c, strings.Join(dayList, ", "))); err != nil || !ok1 || !ok2 {
			return err
		}
		sc := scope{tenant: t, campaigns: []uint32{c}, ranges: ranges, materializeAbove: db.materializeAbove,
			zone: zoneOf(tz, time.UnixMilli(ranges[0].from), time.UnixMilli(ranges[len(ranges)-1].to))}
		src, err := sc.source(ctx, tx, "kind, impression, placement, ts, received, user_key, ivt", fmt.Sprintf("%d, %d", sqlImpression, sqlClick))
		if err != nil || src.from == "" {
			return err
		}
		// The local day is a dedup key too: each day counts as if reported
		// alone. mixed_uv reuses the aliases uv and invalid_uv of the same
		// SELECT (DuckDB resolves select-list aliases in later columns).
		withDay := fmt.Sprintf("(SELECT *, %s // %d AS day FROM %s)", sc.zone.local(), msPerDay, src.from)
		query := fmt.Sprintf(`%[7]sINSERT INTO daily (tenant, campaign, placement, day, impressions, clicks, uv, click_uv, anon_impressions, anon_clicks,
	%[8]s)
SELECT %[1]d, %[2]d, placement, DATE '1970-01-01' + day::INTEGER,
	count(*) FILTER (WHERE kind = %[3]d AND ivt = 0),
	count(*) FILTER (WHERE kind = %[4]d AND ivt = 0),
	count(DISTINCT user_key) FILTER (WHERE kind = %[3]d AND ivt = 0) AS uv,
	count(DISTINCT user_key) FILTER (WHERE kind = %[4]d AND ivt = 0) AS click_uv,
	count(*) FILTER (WHERE kind = %[3]d AND ivt = 0 AND user_key IS NULL),
	count(*) FILTER (WHERE kind = %[4]d AND ivt = 0 AND user_key IS NULL),
	count(*) FILTER (WHERE kind = %[3]d AND ivt <> 0),
	count(*) FILTER (WHERE kind = %[4]d AND ivt <> 0),
	count(DISTINCT user_key) FILTER (WHERE kind = %[3]d AND ivt <> 0) AS invalid_uv,
	count(DISTINCT user_key) FILTER (WHERE kind = %[4]d AND ivt <> 0) AS invalid_click_uv,
	count(*) FILTER (WHERE kind = %[3]d AND ivt <> 0 AND user_key IS NULL),
	count(*) FILTER (WHERE kind = %[4]d AND ivt <> 0 AND user_key IS NULL),
	uv + invalid_uv - count(DISTINCT user_key) FILTER (WHERE kind = %[3]d),
	click_uv + invalid_click_uv - count(DISTINCT user_key) FILTER (WHERE kind = %[4]d)
FROM (%[5]s)
WHERE day IN (%[6]s)
GROUP BY placement, day`, t, c, sqlImpression, sqlClick, dedup(withDay, ", user_key, ivt, day", ", day"), strings.Join(dayList, ", "), src.with,
			strings.Join(dailyV2Columns, ", "))
		_, err = tx.ExecContext(ctx, query)
		return err
	})
	if err != nil {
		return fmt.Errorf("refresh rollups: %w", err)
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
	t, ok1 := db.dict.lookup(string(q.Tenant))
	c, ok2 := db.dict.lookup(string(q.Campaign))
	ps, ok3 := db.placementIDs(q.Placements)
	if !ok1 || !ok2 || !ok3 {
		return nil, nil
	}
	query := `SELECT (day - DATE '1970-01-01')::BIGINT, placement, impressions, clicks, uv, click_uv, anon_impressions, anon_clicks,
	invalid_impressions, invalid_clicks, invalid_uv, invalid_click_uv, invalid_anon_impressions, invalid_anon_clicks, mixed_uv, mixed_click_uv
FROM daily WHERE tenant = ? AND campaign = ? AND day BETWEEN DATE '1970-01-01' + ?::INTEGER AND DATE '1970-01-01' + ?::INTEGER`
	args := []any{t, c, epochDay(q.From), epochDay(q.To)}
	if ps != nil {
		query += ` AND placement IN (?` + strings.Repeat(", ?", len(ps)-1) + `)`
		for _, p := range ps {
			args = append(args, p)
		}
	}
	rows, err := db.sqldb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	defer rows.Close()
	var out []store.DailyRow
	var placements []uint32
	for rows.Next() {
		var r store.DailyRow
		var day int64
		var p uint32
		var invAnonImps, invAnonClicks, mixedUV, mixedClickUV int64
		if err := rows.Scan(&day, &p, &r.Impressions, &r.Clicks, &r.UV, &r.ClickUV, &r.AnonymousImpressions, &r.AnonymousClicks,
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
		out = append(out, r)
		placements = append(placements, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	for i, name := range db.dict.labels(placements) {
		out[i].Placement = admeter.PlacementID(name)
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
