package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Kinds and values of the viewability and video columns in SQL.
const (
	sqlViewability  = uint8(admeter.KindViewability)
	sqlVideo        = uint8(admeter.KindVideo)
	sqlConversion   = uint8(admeter.KindConversion)
	sqlViewable     = uint8(admeter.ViewViewable)
	sqlNotViewable  = uint8(admeter.ViewNotViewable)
	sqlProgressZero = uint8(admeter.ProgressStart)
)

// viewDims returns the select list of the dimensions of a viewability
// query, and their names: a column total (1 on the copy of each row that
// counts in the total, 0 on the one that counts in its row, made by an
// arrayJoin so that one scan gives both) and d0, d1… (empty strings on
// the total's copy). Without dimensions every row is the total's.
func viewDims(q store.ReportQuery, sc scope) (sel, names string) {
	if len(q.By) == 0 {
		return "toUInt8(1) AS total", "total"
	}
	s := []string{"arrayJoin([toUInt8(0), toUInt8(1)]) AS total"}
	n := []string{"total"}
	for i, e := range dimExprs(q, sc) {
		s = append(s, fmt.Sprintf("if(total = 1, '', toString(%s)) AS d%d", e, i))
		n = append(n, fmt.Sprintf("d%d", i))
	}
	return strings.Join(s, ", "), strings.Join(n, ", ")
}

// viewabilitySQL returns the statement of a viewability report: rows of
// (total, d0…, measurable, viewable, viewable users, video starts, the
// four quartiles), a total row (total = 1) and, with dimensions, the rows
// by dimension (total = 0), viewability and video apart (the caller adds
// up the rows of the same dimension values).
//
// Viewability: the deduplicated impressions with an impression id (as
// Report's, before the filter), of the filtered traffic, joined (ANY
// INNER: one row per impression) with their results, grouped per
// (placement, impression id) over the range widened by
// store.ViewResultGrace. Video: the events of the range with any video
// field, of the filtered traffic, grouped per (dimensions, placement,
// impression id) into plays, those without an id each a play, then
// summed per dimensions.
func viewabilitySQL(q store.ReportQuery, sc scope) string {
	dimSel, names := viewDims(q, sc)
	filter := "1"
	if q.Filter == store.FilterValid {
		filter = "ivt = 0"
	}
	cols := ""
	for _, d := range q.By {
		cols += reportCols[d]
	}
	withID := " AND impression != " + noKey
	imps := sc.dedup(sc.where(itoa(sqlImpression))+withID, cols, "")
	rs := sc
	grace := store.ViewResultGrace.Milliseconds()
	rs.from, rs.to = sc.from-grace, sc.to+grace
	results := fmt.Sprintf(`SELECT placement, impression, toUInt8(max(view = %d)) AS viewable FROM %s
	WHERE %s AND view IN (%d, %d)%s GROUP BY placement, impression`, sqlViewable, sc.events, rs.where(itoa(sqlViewability)), sqlViewable, sqlNotViewable, withID)
	view := fmt.Sprintf(`SELECT %[1]s, toInt64(count()), toInt64(sum(viewable)), toInt64(uniqExactIf(user_key, viewable = 1 AND user_key != %[2]s)),
	toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0)
FROM (
	SELECT %[3]s, user_key, viewable
	FROM (SELECT * FROM (%[4]s) WHERE %[5]s) ANY INNER JOIN (%[6]s) USING (placement, impression)
)
GROUP BY %[1]s`, names, noKey, dimSel, imps, filter, results)

	started := fmt.Sprintf("toUInt8(kind = %d AND (video_duration > 0 OR video_play > 0) OR kind = %d AND video_progress = %d)", sqlImpression, sqlVideo, sqlProgressZero)
	reached := make([]string, 4)
	for i := range reached {
		at := sqlProgressZero + 1 + uint8(i)
		mask := admeter.QuartileAll &^ (admeter.Quartile25<<i - 1)
		reached[i] = fmt.Sprintf("toUInt8(kind = %d AND video_progress >= %d OR bitAnd(video_quartiles, %d) != 0) AS r%d", sqlVideo, at, mask, i)
	}
	// A quartile mask counts on any event of the play (store.ViewCounts).
	video := sc.where(fmt.Sprintf("%d, %d, %d, %d, %d", sqlImpression, sqlClick, admeter.KindServed, sqlVideo, sqlViewability)) + " AND " + filter +
		fmt.Sprintf(" AND (video_duration > 0 OR video_play > 0 OR kind = %d OR video_quartiles != 0)", sqlVideo)
	measures := started + " AS s, " + strings.Join(reached, ", ")
	plays := fmt.Sprintf(`SELECT %[1]s, max(s) AS s, max(r0) AS r0, max(r1) AS r1, max(r2) AS r2, max(r3) AS r3
	FROM (SELECT %[2]s, placement, impression, %[3]s FROM %[4]s WHERE %[5]s AND impression != %[6]s)
	GROUP BY %[1]s, placement, impression
	UNION ALL
	SELECT %[2]s, %[3]s FROM %[4]s WHERE %[5]s AND impression = %[6]s`, names, dimSel, measures, sc.events, video, noKey)
	videoSQL := fmt.Sprintf(`SELECT %[1]s, toInt64(0), toInt64(0), toInt64(0), toInt64(sum(s)), toInt64(sum(r0)), toInt64(sum(r1)), toInt64(sum(r2)), toInt64(sum(r3))
FROM (%[2]s)
GROUP BY %[1]s`, names, plays)
	return view + "\nUNION ALL\n" + videoSQL
}

// Viewability returns the viewability and video measures of one campaign
// in [q.From, q.To) (see store.ViewCounts), of the placements q.Placements
// names (all when it names none) and of the traffic q.Filter selects,
// broken down by q.By, with the rows that have a measure sorted by their
// dimension values. One statement computes the rows and the total. It
// returns EINVALID for a malformed query and for ByReason.
func (db *DB) Viewability(ctx context.Context, q store.ReportQuery) (*store.ViewReport, error) {
	if err := checkReportQuery(q); err != nil {
		return nil, err
	}
	for _, d := range q.By {
		if d == store.ByReason {
			return nil, invalid("a viewability report has no breakdown by invalid-traffic reason: viewability is reported for traffic (choose valid or all)")
		}
	}
	sc, err := db.newScope(ctx, q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
	if err != nil {
		return nil, fmt.Errorf("query viewability: %w", err)
	}
	rows, err := db.conn.Query(ctx, viewabilitySQL(q, sc))
	if err != nil {
		return nil, fmt.Errorf("query viewability: %w", err)
	}
	defer rows.Close()
	n := len(q.By)
	res := &store.ViewReport{}
	byKey := map[string]int{}
	for rows.Next() {
		var total uint8
		var c store.ViewCounts
		vals := make([]string, n)
		dest := make([]any, 0, n+9)
		dest = append(dest, &total)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &c.Measurable, &c.Viewable, &c.ViewableUV, &c.VideoStarts, &c.Quartiles[0], &c.Quartiles[1], &c.Quartiles[2], &c.Quartiles[3])
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read viewability: %w", err)
		}
		if total == 1 {
			addViewCounts(&res.Total, c)
			continue
		}
		if c == (store.ViewCounts{}) {
			continue
		}
		key := strings.Join(vals, "\x00")
		i, ok := byKey[key]
		if !ok {
			i = len(res.Rows)
			byKey[key] = i
			res.Rows = append(res.Rows, store.ViewRow{Dims: label(q.By, vals)})
		}
		addViewCounts(&res.Rows[i].ViewCounts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read viewability: %w", err)
	}
	sortRows(q.By, res.Rows, func(r *store.ViewRow) []string { return r.Dims })
	return res, nil
}

// addViewCounts adds c to sum: the viewability and the video part of a
// row come from different rows of the statement, each zero in the other.
func addViewCounts(sum *store.ViewCounts, c store.ViewCounts) {
	sum.Measurable += c.Measurable
	sum.Viewable += c.Viewable
	sum.ViewableUV += c.ViewableUV
	sum.VideoStarts += c.VideoStarts
	for i := range sum.Quartiles {
		sum.Quartiles[i] += c.Quartiles[i]
	}
}
