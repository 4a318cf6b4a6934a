package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// This file rebuilds, statement for statement, the SQL that store/duckdb
// generates for Report (totals, By = nil) and Frequency (query.go,
// partition.go), which the package does not export. The test
// TestDirectMatchesStore checks that both give the store's answers; if
// query.go changes, change this file with it.

const (
	msPerDay  = 86_400_000
	msPerHour = 3_600_000
	// materializeAbove is store/duckdb's default partition count above
	// which a query reads its events into a materialized CTE first.
	materializeAbove = 16
	// streamAbove is store/duckdb's default event count of a scope above
	// which Report and Frequency stream its partitions.
	streamAbove   = 4_000_000
	maxBucket     = store.MaxFrequencyBucket
	sqlImpression = uint8(admeter.KindImpression)
	sqlClick      = uint8(admeter.KindClick)
)

// zone is a time zone's UTC offsets over a range (query.go).
type zone struct {
	bounds  []int64
	offsets []int64
}

func zoneOf(loc *time.Location, from, to time.Time) zone {
	var z zone
	t := from
	for range 10_000 {
		_, off := t.In(loc).Zone()
		z.offsets = append(z.offsets, int64(off)*1000)
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) || !end.After(t) {
			break
		}
		z.bounds = append(z.bounds, end.UnixMilli())
		t = end
	}
	return z
}

func (z zone) local() string {
	if len(z.bounds) == 0 {
		return fmt.Sprintf("(ts + %d)", z.offsets[0])
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for i, bound := range z.bounds {
		fmt.Fprintf(&b, " WHEN ts < %d THEN ts + %d", bound, z.offsets[i])
	}
	fmt.Fprintf(&b, " ELSE ts + %d END)", z.offsets[len(z.offsets)-1])
	return b.String()
}

func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func partitionName(day int32) string {
	return "events_" + time.Unix(int64(day)*86400, 0).UTC().Format("20060102")
}

// directSQL is the SQL of one campaign's totals report and frequency.
type directSQL struct {
	report, frequency string
}

// buildDirectSQL builds, on conn (a plain DuckDB connection to the store's
// file), the SQL the store runs for a totals Report and a Frequency of
// campaign over [from, to) in loc.
func buildDirectSQL(ctx context.Context, conn *sql.Conn, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time, loc *time.Location) (directSQL, error) {
	var t, c uint32
	if err := conn.QueryRowContext(ctx, `SELECT id FROM strs WHERE s = ?`, string(tenant)).Scan(&t); err != nil {
		return directSQL{}, fmt.Errorf("look up tenant: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT id FROM strs WHERE s = ?`, string(campaign)).Scan(&c); err != nil {
		return directSQL{}, fmt.Errorf("look up campaign: %w", err)
	}
	r := [2]int64{ceilMillis(from), ceilMillis(to)}
	first, last := int32(floorDiv(r[0], msPerDay)), int32(floorDiv(r[1]-1, msPerDay))
	rows, err := conn.QueryContext(ctx, `SELECT (day - DATE '1970-01-01')::INTEGER FROM partitions WHERE day BETWEEN DATE '1970-01-01' + ?::INTEGER AND DATE '1970-01-01' + ?::INTEGER ORDER BY day`, first, last)
	if err != nil {
		return directSQL{}, fmt.Errorf("list partitions: %w", err)
	}
	var days []int32
	for rows.Next() {
		var d int32
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return directSQL{}, fmt.Errorf("list partitions: %w", err)
		}
		days = append(days, d)
	}
	if err := rows.Close(); err != nil {
		return directSQL{}, fmt.Errorf("list partitions: %w", err)
	}
	if len(days) == 0 {
		return directSQL{}, fmt.Errorf("build direct SQL: no partition in the range")
	}
	z := zoneOf(loc, from, to)
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = "'" + partitionName(d) + "'"
	}
	var partRows int64
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(sum(estimated_size), 0)::BIGINT FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN (`+strings.Join(names, ", ")+`)`).Scan(&partRows); err != nil {
		return directSQL{}, fmt.Errorf("count partition rows: %w", err)
	}
	// query.go's scope.large: the partitions' rows, then the campaign's
	// daily rollups over the range's UTC days, one either side.
	streamed := false
	if partRows > streamAbove {
		var events int64
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT coalesce(sum(impressions + clicks + invalid_impressions + invalid_clicks), 0)::BIGINT FROM daily
WHERE tenant = %d AND campaign = %d AND day BETWEEN DATE '1970-01-01' + %d AND DATE '1970-01-01' + %d`, t, c, first-1, last+1)).Scan(&events); err != nil {
			return directSQL{}, fmt.Errorf("estimate the events in range: %w", err)
		}
		streamed = events > streamAbove
	}
	source := func(cols, kinds string) (with, src string) {
		where := fmt.Sprintf("tenant = %d AND campaign = %d AND kind IN (%s)", t, c, kinds)
		var b strings.Builder
		n := 0
		for _, d := range days {
			dayFrom, dayTo := int64(d)*msPerDay, int64(d+1)*msPerDay
			if r[0] >= dayTo || r[1] <= dayFrom {
				continue
			}
			cond := ""
			switch lo, hi := r[0] > dayFrom, r[1] < dayTo; {
			case lo && hi:
				cond = fmt.Sprintf(" AND ts >= %d AND ts < %d", r[0], r[1])
			case lo:
				cond = fmt.Sprintf(" AND ts >= %d", r[0])
			case hi:
				cond = fmt.Sprintf(" AND ts < %d", r[1])
			}
			n++
			if b.Len() > 0 {
				b.WriteString("\n\tUNION ALL ")
			}
			fmt.Fprintf(&b, "SELECT %s FROM %s WHERE %s%s", cols, partitionName(d), where, cond)
		}
		if streamed {
			return "WITH src AS NOT MATERIALIZED (" + b.String() + ")\n", "src"
		}
		if n > materializeAbove {
			return "WITH src AS MATERIALIZED (" + b.String() + ")\n", "src"
		}
		return "", "(" + b.String() + ")"
	}
	// dedup is query.go's dedupOf: a materialized or streamed source goes
	// through the hashed dedup (only events whose impression id may be
	// shared are sorted by the window), whose result is materialized when
	// the source is streamed; a short one through the plain window.
	dedup := func(with, src, cols string) (string, string) {
		if with == "" {
			return "", fmt.Sprintf(`SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NULL
	UNION ALL
	SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NOT NULL
	QUALIFY row_number() OVER (PARTITION BY placement, kind, impression ORDER BY ts, received) = 1`, src, cols)
		}
		h := "hash(placement, kind, impression)"
		with = strings.TrimSuffix(with, "\n") + ",\n" +
			fmt.Sprintf("dupkeys AS MATERIALIZED (SELECT %[2]s AS h FROM %[1]s WHERE impression IS NOT NULL GROUP BY h HAVING count(*) > 1)", src, h) + "\n"
		ev := fmt.Sprintf(`SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NULL OR %[3]s NOT IN (SELECT h FROM dupkeys)
	UNION ALL
	SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NOT NULL AND %[3]s IN (SELECT h FROM dupkeys)
	QUALIFY row_number() OVER (PARTITION BY placement, kind, impression ORDER BY ts, received) = 1`, src, cols, h)
		if streamed {
			// A streamed source's deduplicated events are materialized.
			return strings.TrimSuffix(with, "\n") + ",\ndeduped AS MATERIALIZED (" + ev + ")\n", "SELECT * FROM deduped"
		}
		return with, ev
	}

	// Valid traffic (store.FilterValid, the queries' default): the main
	// measures count n - nb, the invalid ones nb.
	var q directSQL
	cols := ", user_key, ivt"
	with, src := source("kind, impression, placement, ts, received"+cols, fmt.Sprintf("%d, %d", sqlImpression, sqlClick))
	const counted = "(n - nb)"
	aggs := fmt.Sprintf(`coalesce(sum(%[3]s) FILTER (WHERE kind = %[1]d), 0)::BIGINT AS impressions,
	coalesce(sum(%[3]s) FILTER (WHERE kind = %[2]d), 0)::BIGINT AS clicks,
	count(user_key) FILTER (WHERE kind = %[1]d AND %[3]s > 0) AS uv,
	count(user_key) FILTER (WHERE kind = %[2]d AND %[3]s > 0) AS click_uv,
	coalesce(sum(nb) FILTER (WHERE kind = %[1]d), 0)::BIGINT AS invalid_impressions,
	coalesce(sum(nb) FILTER (WHERE kind = %[2]d), 0)::BIGINT AS invalid_clicks,
	count(user_key) FILTER (WHERE kind = %[1]d AND nb > 0) AS invalid_uv,
	count(user_key) FILTER (WHERE kind = %[2]d AND nb > 0) AS invalid_click_uv,
	coalesce(sum(%[3]s) FILTER (WHERE kind = %[1]d AND user_key IS NULL), 0)::BIGINT AS anon_impressions,
	coalesce(sum(%[3]s) FILTER (WHERE kind = %[2]d AND user_key IS NULL), 0)::BIGINT AS anon_clicks`, sqlImpression, sqlClick, counted)
	with, ev := dedup(with, src, cols)
	q.report = fmt.Sprintf(`%sSELECT %s
FROM (SELECT kind, user_key, count(*) AS n, count(*) FILTER (WHERE ivt <> 0) AS nb FROM (%s) ev GROUP BY kind, user_key)`, with, aggs, ev)

	with, src = source("kind, impression, placement, ts, received"+cols, fmt.Sprint(sqlImpression))
	with, ev = dedup(with, src, cols)
	q.frequency = fmt.Sprintf(`%[5]sSELECT grouping(bucket) <> 0 AS by_day, coalesce(bucket, first_day) AS key, count(*) AS users, sum(n) AS impressions
FROM (
	SELECT least(count(*), %[1]d) AS bucket, min(%[2]s // %[3]d) AS first_day, count(*) AS n
	FROM (%[4]s) ev
	WHERE user_key IS NOT NULL AND ivt = 0
	GROUP BY user_key
)
GROUP BY GROUPING SETS ((bucket), (first_day))`, maxBucket, z.local(), msPerDay, ev, with)
	return q, nil
}

// directResult is what the direct queries return, to compare with the
// store's answers.
type directResult struct {
	total        store.Counts
	anonImps     int64
	reach, imps  int64
	distribution [maxBucket]int64
}

// runReport runs the totals report SQL and reads its row.
func runReport(ctx context.Context, conn *sql.Conn, query string, res *directResult) error {
	var anonClicks int64
	c := &res.total
	if err := conn.QueryRowContext(ctx, query).Scan(&c.Impressions, &c.Clicks, &c.UV, &c.ClickUV,
		&c.InvalidImpressions, &c.InvalidClicks, &c.InvalidUV, &c.InvalidClickUV, &res.anonImps, &anonClicks); err != nil {
		return fmt.Errorf("run report SQL: %w", err)
	}
	return nil
}

// runFrequency runs the frequency SQL and reads its rows.
func runFrequency(ctx context.Context, conn *sql.Conn, query string, res *directResult) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("run frequency SQL: %w", err)
	}
	defer rows.Close()
	res.reach, res.imps, res.distribution = 0, 0, [maxBucket]int64{}
	for rows.Next() {
		var byDay bool
		var key, users, imps int64
		if err := rows.Scan(&byDay, &key, &users, &imps); err != nil {
			return fmt.Errorf("run frequency SQL: %w", err)
		}
		if !byDay && key >= 1 && key <= maxBucket {
			res.distribution[key-1] = users
			res.reach += users
			res.imps += imps
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("run frequency SQL: %w", err)
	}
	return nil
}
