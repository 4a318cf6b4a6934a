package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Kind values of the kinds Viewability and Attribution read, in SQL.
const (
	sqlServed      = uint8(admeter.KindServed)
	sqlViewability = uint8(admeter.KindViewability)
	sqlVideo       = uint8(admeter.KindVideo)
	sqlConversion  = uint8(admeter.KindConversion)
)

// viewCond keeps the events a viewability report can use: those with an
// impression id (impressions and their results, plays) and those with a
// video field (plays without an id).
const viewCond = "impression IS NOT NULL OR video_duration > 0 OR video_play > 0 OR video_progress > 0 OR video_quartiles > 0"

// viewCols are the source columns of a viewability report, before those
// of its dimensions. rid and the UTC day of ts identify an event: rowid
// is unique within a partition, which holds one UTC day.
const viewCols = "kind, impression, placement, ts, received, user_key, ivt, view, video_duration, video_play, video_progress, video_quartiles, rowid AS rid"

// Viewability returns the viewability and video measures of one campaign
// in [q.From, q.To) (see store.ViewCounts), of the placements q.Placements
// names (all when it names none) and of the traffic q.Filter selects,
// broken down by q.By (without ByReason, which is EINVALID), with the rows
// sorted as in Report. It runs two statements over one read of the
// range's events widened by store.ViewResultGrace: the impressions of the
// range, deduplicated as in Report, joined with their results by
// placement and impression id; and the plays, grouped by placement and
// impression id (an event without one by itself) within each group of
// the dimensions and, for the total, over the range.
func (db *DB) Viewability(ctx context.Context, q store.ReportQuery) (*store.ViewReport, error) {
	if err := checkReportQuery(q); err != nil {
		return nil, err
	}
	if slices.Contains(q.By, store.ByReason) {
		return nil, invalid("viewability is reported for traffic, not per invalid-traffic reason: leave out dimension %q", store.ByReason)
	}
	res := &store.ViewReport{}
	sc, ok := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From.Add(-store.ViewResultGrace), q.To.Add(store.ViewResultGrace), q.Location)
	if !ok {
		return res, nil
	}
	sc.cond = viewCond
	in := msRange{ceilMillis(q.From), ceilMillis(q.To)}
	acc := viewAcc{plan: reportPlan{by: q.By}, index: map[string]int{}}
	err := db.read(ctx, func(tx *sql.Tx) error {
		cols := dimensionCols(q.By)
		src, err := sc.source(ctx, tx, viewCols+cols, fmt.Sprintf("%d, %d, %d, %d, %d", sqlImpression, sqlClick, sqlServed, sqlViewability, sqlVideo))
		if err != nil || src.from == "" {
			return err
		}
		dims, join, _ := db.dimensions(q, sc, &acc.plan)
		g := newGrouping(len(dims))
		dimSel := strings.Join(dims, ", ")
		if dimSel == "" {
			dimSel = "NULL AS none"
		}
		filter := "true"
		if q.Filter == store.FilterValid {
			filter = "ivt = 0"
		}

		// Measured impressions: the range's impressions joined with the
		// results of their placement and id (measured ones only), viewable
		// if any says so, then deduplicated and filtered. Joining first
		// means only impressions with a result go through the dedup's
		// window: every copy of an impression has the same placement and
		// id, so the join keeps all of them or none, and the copy that
		// counts is the same.
		imps := fmt.Sprintf(`(SELECT ev.*, r.viewable FROM %[1]s ev
		JOIN (
			SELECT placement, impression, bool_or(view = %[2]d) AS viewable FROM %[1]s
			WHERE kind = %[3]d AND view IN (%[2]d, %[4]d) AND impression IS NOT NULL
			GROUP BY placement, impression
		) r USING (placement, impression)
		WHERE ev.kind = %[5]d AND ev.ts >= %[6]d AND ev.ts < %[7]d)`, src.from, admeter.ViewViewable, sqlViewability, admeter.ViewNotViewable, sqlImpression, in.from, in.to)
		measured := fmt.Sprintf(`%[1]sSELECT %[2]s, count(*), count(*) FILTER (WHERE viewable), count(DISTINCT user_key) FILTER (WHERE viewable)
FROM (
	SELECT %[3]s, user_key, viewable
	FROM (%[4]s) ev%[5]s
	WHERE %[6]s
)%[7]s`, src.with, g.head, dimSel, dedup(imps, ", impression, user_key, ivt, viewable"+cols, ""), join, filter, g.groupBy)
		if err := acc.scan(ctx, tx, measured, func(c *store.ViewCounts, m []int64) {
			c.Measurable, c.Viewable, c.ViewableUV = m[0], m[1], m[2]
		}); err != nil {
			return fmt.Errorf("measured impressions: %w", err)
		}

		// Plays: per group of the dimensions, the events of one placement
		// and impression id (or one event without an id, told apart by
		// its rowid and day), whether one started the play and the
		// furthest quartile one reached (1 to 4, 0 for none).
		started := fmt.Sprintf("kind = %d AND (video_duration > 0 OR video_play > 0) OR kind = %d AND video_progress = %d",
			sqlImpression, sqlVideo, admeter.ProgressStart)
		quartile := fmt.Sprintf(`greatest(CASE WHEN kind = %d AND video_progress > %d THEN video_progress::INTEGER - %d ELSE 0 END,
			CASE WHEN video_quartiles >= 8 THEN 4 WHEN video_quartiles >= 4 THEN 3 WHEN video_quartiles >= 2 THEN 2 WHEN video_quartiles >= 1 THEN 1 ELSE 0 END)`,
			sqlVideo, admeter.ProgressStart, admeter.ProgressStart)
		play := "placement, impression, solo, solo_day"
		plays := fmt.Sprintf(`%[1]sSELECT %[2]s, count(*) FILTER (WHERE started), count(*) FILTER (WHERE q >= 1), count(*) FILTER (WHERE q >= 2),
	count(*) FILTER (WHERE q >= 3), count(*) FILTER (WHERE q >= 4)
FROM (
	SELECT %[3]s, bool_or(started) AS started, max(q) AS q
	FROM (
		SELECT %[4]s, placement, impression, CASE WHEN impression IS NULL THEN rid END AS solo,
			CASE WHEN impression IS NULL THEN ts // %[5]d END AS solo_day, %[6]s AS started, %[7]s AS q
		FROM %[8]s ev%[9]s
		WHERE ts >= %[10]d AND ts < %[11]d AND %[12]s AND (video_duration > 0 OR video_play > 0 OR video_progress > 0 OR video_quartiles > 0)
	)
	%[13]s
)%[14]s`, src.with, g.outerHead, g.inner, dimSel, msPerDay,
			started, quartile, src.from, join, in.from, in.to, filter, g.playGroups(play), g.outerGroupBy)
		if err := acc.scan(ctx, tx, plays, func(c *store.ViewCounts, m []int64) {
			c.VideoStarts = m[0]
			copy(c.Quartiles[:], m[1:])
		}); err != nil {
			return fmt.Errorf("video plays: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query viewability: %w", err)
	}
	res.Total = acc.total
	labels := db.label(acc.plan, acc.raw)
	for i := range acc.rows {
		if acc.rows[i].ViewCounts != (store.ViewCounts{}) {
			acc.rows[i].Dims = labels[i]
			res.Rows = append(res.Rows, acc.rows[i])
		}
	}
	sortRows(q.By, res.Rows, func(r *store.ViewRow) []string { return r.Dims })
	return res, nil
}

// grouping is the SQL that groups a viewability statement by its
// dimensions d0, d1... and over the whole range (the total), or over the
// range only when there are none. Every statement's rows are (total, d0,
// d1..., measures).
type grouping struct {
	// head selects total and the dimensions; groupBy groups a one-level
	// statement by them.
	head, groupBy string
	// inner selects, in the inner level of a two-level statement, the
	// grouping (g) and the dimensions; outerHead selects total and the
	// dimensions in its outer level, which outerGroupBy groups.
	inner, outerHead, outerGroupBy string
	list                           string // d0, d1...
}

func newGrouping(n int) grouping {
	if n == 0 {
		return grouping{head: "true AS total", inner: "0 AS g", outerHead: "true AS total"}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("d%d", i)
	}
	list := strings.Join(names, ", ")
	return grouping{
		head:         "grouping(" + list + ") <> 0 AS total, " + list,
		groupBy:      "\nGROUP BY GROUPING SETS ((" + list + "), ())",
		inner:        "grouping(" + list + ") AS g, " + list,
		outerHead:    "g <> 0 AS total, " + list,
		outerGroupBy: "\nGROUP BY g, " + list,
		list:         list,
	}
}

// playGroups returns the GROUP BY of the inner level of the plays: by
// dimensions and play, and by play alone for the total.
func (g grouping) playGroups(play string) string {
	if g.list == "" {
		return "GROUP BY " + play
	}
	return "GROUP BY GROUPING SETS ((" + g.list + ", " + play + "), (" + play + "))"
}

// viewAcc gathers the rows of a viewability report's statements, merging
// the rows of equal dimension values.
type viewAcc struct {
	plan  reportPlan
	index map[string]int // row index by raw dimension values
	raw   [][]int64      // dimension values of each row, -1 for NULL
	rows  []store.ViewRow
	total store.ViewCounts
}

// scan runs query, whose rows are (total, dimensions..., measures...),
// and adds each row's measures to the total or to its row with set.
func (a *viewAcc) scan(ctx context.Context, tx *sql.Tx, query string, set func(c *store.ViewCounts, m []int64)) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	n := len(a.plan.by)
	var total bool
	vals := make([]sql.NullInt64, n)
	m := make([]int64, len(cols)-1-n)
	dest := []any{&total}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for i := range m {
		dest = append(dest, &m[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if total {
			set(&a.total, m)
			continue
		}
		r := rawDims(vals)
		key := fmt.Sprint(r)
		i, ok := a.index[key]
		if !ok {
			i = len(a.rows)
			a.index[key] = i
			a.raw = append(a.raw, r)
			a.rows = append(a.rows, store.ViewRow{})
		}
		set(&a.rows[i].ViewCounts, m)
	}
	return rows.Err()
}
