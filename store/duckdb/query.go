package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// zone is a time zone's offsets over a query's range (store.Zone), with
// this database's SQL for local time.
type zone struct{ store.Zone }

// zoneOf returns loc's offsets over [from, to) (store.ZoneOf).
func zoneOf(loc *time.Location, from, to time.Time) zone {
	return zone{store.ZoneOf(loc, from, to)}
}

// local returns a SQL expression for the wall-clock time of column ts in
// the zone, in milliseconds since 1970-01-01 00:00 local: divided by a day
// it is the local day number, by an hour the local hour number. Plain
// integer arithmetic, with one CASE arm per offset change in the range, is
// much cheaper per row than AT TIME ZONE.
func (z zone) local() string {
	if len(z.Bounds) == 0 {
		return fmt.Sprintf("(ts + %d)", z.Offsets[0])
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for i, bound := range z.Bounds {
		fmt.Fprintf(&b, " WHEN ts < %d THEN ts + %d", bound, z.Offsets[i])
	}
	fmt.Fprintf(&b, " ELSE ts + %d END)", z.Offsets[len(z.Offsets)-1])
	return b.String()
}

// reasonList is a SQL expression for the list of the reasons of column
// ivt, as the ByReason values: [0] for valid traffic, else each named
// reason's bit, in bit order, then the mask of every unnamed bit if any
// is set (one "unknown" reason, however many unnamed bits). The first
// element is the event's first reason: a report by reason counts the
// event in its total through that one.
var reasonList = func() string {
	masks := []string{"0"}
	var known admeter.IVT
	for _, r := range admeter.IVTReasons() {
		masks = append(masks, strconv.FormatUint(uint64(r), 10))
		known |= r
	}
	masks = append(masks, strconv.FormatUint(uint64(^known), 10))
	return fmt.Sprintf("list_filter([%s]::UINTEGER[], lambda m: CASE WHEN m = 0 THEN ivt = 0 ELSE ivt & m <> 0 END)", strings.Join(masks, ", "))
}()

// Kind values in SQL.
const (
	sqlImpression = uint8(admeter.KindImpression)
	sqlClick      = uint8(admeter.KindClick)
)

// scope is what a query reads: the events of some campaigns of one tenant
// (or of several) in some ranges, of some placements.
type scope struct {
	tenant uint32
	// tenants, when not empty, replace tenant: the dictionary ids of the
	// tenants read, sorted and without repeats (ReachSets, whose query
	// may name several). Only source reads them.
	tenants []uint32
	// campaigns are the dictionary ids of the campaigns read, sorted and
	// without repeats; at least one.
	campaigns []uint32
	// placements are the dictionary ids of the placements read, sorted;
	// nil means every placement.
	placements []uint32
	// cond, if not empty, is a further SQL condition on the events read.
	cond             string
	ranges           []msRange
	zone             zone
	materializeAbove int
	// streamAbove, if positive, is the number of events of the scope
	// above which they are not materialized but read again by each
	// reference (see source); negative streams always (tests).
	streamAbove int64
}

// newScope resolves the tenant, campaign and placements (nil or empty for
// every placement); ok is false when the store has never seen them (so
// there is nothing to read).
func (db *DB) newScope(tenant admeter.TenantID, campaign admeter.CampaignID, placements []admeter.PlacementID, from, to time.Time, loc *time.Location) (sc scope, ok bool) {
	t, ok1 := db.dict.lookup(string(tenant))
	c, ok2 := db.dict.lookup(string(campaign))
	ps, ok3 := db.placementIDs(placements)
	sc = scope{tenant: t, campaigns: []uint32{c}, placements: ps, ranges: []msRange{{ceilMillis(from), ceilMillis(to)}}, zone: zoneOf(loc, from, to), materializeAbove: db.materializeAbove}
	return sc, ok1 && ok2 && ok3 && sc.ranges[0].from < sc.ranges[0].to
}

// placementIDs returns the dictionary ids of placements, sorted and
// without repeats, leaving out the strings the store has never seen (no
// event can name them). It returns nil, true for no placements (every
// placement), and ok false when placements are given but none is known:
// nothing matches.
func (db *DB) placementIDs(placements []admeter.PlacementID) (ids []uint32, ok bool) {
	if len(placements) == 0 {
		return nil, true
	}
	strs := make([]string, len(placements))
	for i, p := range placements {
		strs[i] = string(p)
	}
	ids = db.dict.lookupAll(strs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return ids, len(ids) > 0
}

// tenantCond returns the SQL condition that keeps the rows of the scope's
// tenants.
func (sc scope) tenantCond() string {
	switch len(sc.tenants) {
	case 0:
		return "tenant = " + strconv.FormatUint(uint64(sc.tenant), 10)
	case 1:
		return "tenant = " + strconv.FormatUint(uint64(sc.tenants[0]), 10)
	}
	list := make([]string, len(sc.tenants))
	for i, id := range sc.tenants {
		list[i] = strconv.FormatUint(uint64(id), 10)
	}
	return "tenant IN (" + strings.Join(list, ", ") + ")"
}

// campaignCond returns the SQL condition that keeps the rows of the
// scope's campaigns.
func (sc scope) campaignCond() string {
	if len(sc.campaigns) == 1 {
		return "campaign = " + strconv.FormatUint(uint64(sc.campaigns[0]), 10)
	}
	list := make([]string, len(sc.campaigns))
	for i, id := range sc.campaigns {
		list[i] = strconv.FormatUint(uint64(id), 10)
	}
	return "campaign IN (" + strings.Join(list, ", ") + ")"
}

// placementCond returns the SQL condition that keeps the rows of the
// scope's placements, "" for every placement. The ids are integers from
// the dictionary, written as literals.
func (sc scope) placementCond() string {
	if sc.placements == nil {
		return ""
	}
	list := make([]string, len(sc.placements))
	for i, id := range sc.placements {
		list[i] = strconv.FormatUint(uint64(id), 10)
	}
	return " AND placement IN (" + strings.Join(list, ", ") + ")"
}

// materializeAbove is the default of DB.materializeAbove: the number of
// partitions above which a query reads its events into a materialized CTE
// once instead of scanning them in each of dedup's two branches. Every
// partition scan feeding a window or an aggregation costs DuckDB about a
// millisecond of setup, which dominates a long range of small days; one
// short scan per partition into the CTE does not.
const materializeAbove = 16

// streamAbove is the default of DB.streamAbove: the events of a scope
// above which Report and Frequency read the partitions again for each
// reference rather than materializing the scope's events. A materialized
// range costs about 60 bytes an event: at 29 M events (one campaign's
// month in a 100 M-event store) it spills past the store's 1 GB memory
// limit and the query takes 40 % longer than scanning the compressed
// partitions three times. A small campaign in a large store is still
// materialized: three filtered scans of every tenant's events would cost
// it more than one.
const streamAbove = 4_000_000

// relation is the events a query reads: from is a relation to select from,
// defined by with (a WITH clause, or "").
type relation struct {
	with, from string
	// streamed says the source is read again wherever it is referenced
	// (a large scope, see scope.large).
	streamed bool
}

// source returns the events of the scope with cols and kinds, from the
// partitions that exist in tx's snapshot; from is "" if there are none.
func (sc scope) source(ctx context.Context, tx *sql.Tx, cols, kinds string) (relation, error) {
	first, _ := sc.ranges[0].utcDays()
	_, last := sc.ranges[len(sc.ranges)-1].utcDays()
	days, err := partitionDays(ctx, tx, first, last)
	if err != nil {
		return relation{}, err
	}
	// Placements filter before dedup, which never groups the events of two
	// placements together.
	where := fmt.Sprintf("%s AND %s AND kind IN (%s)%s", sc.tenantCond(), sc.campaignCond(), kinds, sc.placementCond())
	if sc.cond != "" {
		where += " AND (" + sc.cond + ")"
	}
	union, n := source(days, sc.ranges, cols, where)
	if n == 0 {
		return relation{}, nil
	}
	stream, err := sc.large(ctx, tx, days)
	if err != nil {
		return relation{}, err
	}
	if stream {
		// Named, so that dedupOf takes the hashed dedup, but inlined
		// where it is referenced.
		return relation{with: "WITH src AS NOT MATERIALIZED (" + union + ")\n", from: "src", streamed: true}, nil
	}
	switch {
	case n > sc.materializeAbove:
		return relation{with: "WITH src AS MATERIALIZED (" + union + ")\n", from: "src"}, nil
	}
	return relation{from: "(" + union + ")"}, nil
}

// large reports whether the scope holds more than sc.streamAbove events
// in the partitions of days. The partitions' row counts (all tenants; a
// catalog look-up) rule out most scopes; the others are estimated from the
// daily rollups of their campaigns and placements over the range's UTC
// days, one day either side for time zones. Events not yet rolled up (the
// last seconds, or a backfill the loader has not summarized yet) are not
// counted: a scope whose rollups lag is materialized, as a small one is.
func (sc scope) large(ctx context.Context, tx *sql.Tx, days []int32) (bool, error) {
	switch {
	case sc.streamAbove < 0:
		return true, nil
	case sc.streamAbove == 0:
		return false, nil
	}
	rows, err := partitionRows(ctx, tx, days)
	if err != nil || rows <= sc.streamAbove {
		return false, err
	}
	first, _ := sc.ranges[0].utcDays()
	_, last := sc.ranges[len(sc.ranges)-1].utcDays()
	var events int64
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT coalesce(sum(impressions + clicks + invalid_impressions + invalid_clicks), 0)::BIGINT FROM daily
WHERE %s AND %s%s AND day BETWEEN DATE '1970-01-01' + %d AND DATE '1970-01-01' + %d`,
		sc.tenantCond(), sc.campaignCond(), sc.placementCond(), first-1, last+1)).Scan(&events)
	if err != nil {
		return false, fmt.Errorf("estimate the events in range: %w", err)
	}
	return events > sc.streamAbove, nil
}

// dedup returns the SQL of the deduplicated events of src (a relation with
// columns kind, impression, placement, ts, received and cols): events
// without an impression id all, and of those sharing (placement, kind,
// impression id, and the extra partition keys) the first by event time,
// then receive time. The result has columns kind, placement, ts and cols.
// It runs over valid and invalid events alike, before any traffic filter:
// the first event counts with its verdict (column ivt, when in cols), and
// a retry with another verdict does not.
func dedup(src, cols, keys string) string {
	return fmt.Sprintf(`SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NULL
	UNION ALL
	SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NOT NULL
	QUALIFY row_number() OVER (PARTITION BY placement, kind, impression%[3]s ORDER BY ts, received) = 1`, src, cols, keys)
}

// dedupHashed is dedup for a large src: only the events whose (placement,
// kind, impression id, keys) may be shared with another event go through
// the window. Candidates are the 64-bit hashes of those keys held by more
// than one event of src (a hash aggregate on one integer); an event whose
// hash no other event has is its key's only copy — equal keys hash
// equally — and counts as it is. A hash collision only sends a unique
// event through the exact window, so the result is dedup's exactly.
func dedupHashed(src, cols, keys string) string {
	h := "hash(placement, kind, impression" + keys + ")"
	return fmt.Sprintf(`SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NULL OR %[4]s NOT IN (SELECT h FROM dupkeys)
	UNION ALL
	SELECT kind, placement, ts%[2]s FROM %[1]s WHERE impression IS NOT NULL AND %[4]s IN (SELECT h FROM dupkeys)
	QUALIFY row_number() OVER (PARTITION BY placement, kind, impression%[3]s ORDER BY ts, received) = 1`, src, cols, keys, h)
}

// dupKeysSQL is the CTE dedupHashed reads: the hashes of the keys more
// than one event of src holds.
func dupKeysSQL(src, keys string) string {
	return fmt.Sprintf("dupkeys AS MATERIALIZED (SELECT hash(placement, kind, impression%[2]s) AS h FROM %[1]s WHERE impression IS NOT NULL GROUP BY h HAVING count(*) > 1)", src, keys)
}

// dedupOf returns the deduplicated events of src (see dedup) and the WITH
// clause they need. A named src (materialized, or large and streamed) goes
// through dedupHashed: the window then sorts only the events whose
// impression id may be shared, not all of them, which at 100 M stored
// events is the difference between fitting the store's memory limit and
// spilling. The deduplicated events of a streamed src are materialized
// (CTE deduped): the query's aggregation then starts once the dedup's
// joins and window are done and have freed their memory, instead of
// competing with them for it (at 100 M stored events, 29 M in scope, a
// report took 0.7× the time; see docs/benchmarks.md).
func dedupOf(src relation, cols, keys string) (with, ev string) {
	if src.with == "" {
		return "", dedup(src.from, cols, keys)
	}
	with = strings.TrimSuffix(src.with, "\n") + ",\n" + dupKeysSQL(src.from, keys) + "\n"
	if src.streamed {
		return strings.TrimSuffix(with, "\n") + ",\ndeduped AS MATERIALIZED (" + dedupHashed(src.from, cols, keys) + ")\n", "SELECT * FROM deduped"
	}
	return with, dedupHashed(src.from, cols, keys)
}

// reportCols are the source columns each dimension needs.
var reportCols = map[store.Dimension]string{
	store.ByRegion: ", country, province",
	store.ByOS:     ", os",
	store.ByDevice: ", device",
}

// reportPlan is a report query ready to run.
type reportPlan struct {
	by    []store.Dimension
	media []string // media names by index
}

// dimensionCols returns the source columns the dimensions of by need
// beyond placement and ts, each after a comma.
func dimensionCols(by []store.Dimension) string {
	var cols string
	for _, d := range by {
		cols += reportCols[d]
	}
	return cols
}

// dimensions returns the SQL of each dimension of q.By, named d0, d1...,
// over a relation ev of events with columns placement, ts and those of
// dimensionCols; the LEFT JOIN that ByMedia needs ("" if none), to follow
// the relation; and the index of ByReason in q.By (-1 if absent), whose
// expression needs column reasons. It records the media names in plan.
func (db *DB) dimensions(q store.ReportQuery, sc scope, plan *reportPlan) (dims []string, join string, reason int) {
	reason = -1
	for i, d := range q.By {
		var e string
		switch d {
		case store.ByDay:
			e = fmt.Sprintf("%s // %d", sc.zone.local(), msPerDay)
		case store.ByHour:
			e = fmt.Sprintf("%s // %d", sc.zone.local(), msPerHour)
		case store.ByPlacement:
			e = "placement"
		case store.ByMedia:
			var values []string
			index := map[string]int{}
			for p, m := range q.Media {
				id, ok := db.dict.lookup(string(p))
				if !ok || m == "" {
					continue // no events, or the same as unknown
				}
				if _, ok := index[m]; !ok {
					index[m] = len(plan.media)
					plan.media = append(plan.media, m)
				}
				values = append(values, fmt.Sprintf("(%d, %d)", id, index[m]))
			}
			if len(values) == 0 {
				e = "NULL::INTEGER"
				break
			}
			slices.Sort(values)
			join = fmt.Sprintf("\n\tLEFT JOIN (VALUES %s) media(pid, idx) ON media.pid = ev.placement", strings.Join(values, ", "))
			e = "media.idx"
		case store.ByRegion:
			e = db.regionExpr()
		case store.ByOS:
			e = "os"
		case store.ByDevice:
			e = "device"
		case store.ByReason:
			e, reason = "unnest(ev.reasons)", i
		}
		dims = append(dims, fmt.Sprintf("%s AS d%d", e, i))
	}
	return dims, join, reason
}

// regionExpr returns the SQL of the ByRegion value of an event with
// columns country and province, as a dictionary id: the province in
// China, else the country.
func (db *DB) regionExpr() string {
	if cn, ok := db.dict.lookup("CN"); ok {
		return fmt.Sprintf("CASE WHEN country = %d THEN province ELSE country END", cn)
	}
	return "country"
}

// reportSQL returns the SQL of q, or "" if no partition holds its events.
func (db *DB) reportSQL(ctx context.Context, tx *sql.Tx, q store.ReportQuery, sc scope) (string, reportPlan, error) {
	plan := reportPlan{by: q.By}
	cols := ", user_key, ivt" + dimensionCols(q.By)
	src, err := sc.source(ctx, tx, "kind, impression, placement, ts, received"+cols, fmt.Sprintf("%d, %d", sqlImpression, sqlClick))
	if err != nil || src.from == "" {
		return "", plan, err
	}

	dims, join, reason := db.dimensions(q, sc, &plan)
	// Two levels: events per (dimensions, kind, user), n of them and nb
	// invalid, then per dimensions, counting the users of each kind (NULL,
	// the anonymous, is not counted; a user is counted where the traffic
	// counted has at least one of its events); the grouping set without
	// dimensions is the total, whose users are distinct over the whole
	// range. This is about a third faster than count(DISTINCT) in each
	// grouping set. The filter chooses the traffic of the main measures:
	// all (n), or valid only (n - nb); the invalid measures count nb.
	counted := "(n - nb)"
	if q.Filter == store.FilterAll || reason >= 0 {
		counted = "n"
	}
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
	with, ev := dedupOf(src, cols, "")
	if len(dims) == 0 {
		return fmt.Sprintf(`%sSELECT %s
FROM (SELECT kind, user_key, count(*) AS n, count(*) FILTER (WHERE ivt <> 0) AS nb FROM (%s) ev GROUP BY kind, user_key)`, with, aggs, ev), plan, nil
	}
	names := make([]string, len(dims))
	for i := range names {
		names[i] = fmt.Sprintf("d%d", i)
	}
	list := strings.Join(names, ", ")
	counts := "count(*) AS n, count(*) FILTER (WHERE ivt <> 0) AS nb"
	first := ""
	if reason >= 0 {
		// An event is in the row of each of its reasons, and in the total
		// once: through its first reason.
		ev = "SELECT *, " + reasonList + " AS reasons FROM (" + ev + ")"
		first = ", ev.reasons[1] AS first_reason"
		counts = fmt.Sprintf(`CASE WHEN grouping(%[1]s) = 0 THEN count(*) ELSE count(*) FILTER (WHERE d%[2]d = first_reason) END AS n,
		CASE WHEN grouping(%[1]s) = 0 THEN count(*) FILTER (WHERE ivt <> 0) ELSE count(*) FILTER (WHERE ivt <> 0 AND d%[2]d = first_reason) END AS nb`, list, reason)
	}
	return fmt.Sprintf(`%[6]sSELECT g <> 0 AS total, %[1]s, %[2]s
FROM (
	SELECT grouping(%[1]s) AS g, %[1]s, kind, user_key, %[7]s
	FROM (SELECT kind, user_key, ivt, %[3]s%[8]s FROM (%[4]s) ev%[5]s)
	GROUP BY GROUPING SETS ((%[1]s, kind, user_key), (kind, user_key))
)
GROUP BY g, %[1]s`, list, aggs, strings.Join(dims, ", "), ev, join, with, counts, first), plan, nil
}

// Report returns impressions, clicks and users of one campaign in
// [q.From, q.To), of the placements q.Placements names (all when it names
// none) and of the traffic q.Filter selects, with the invalid measures,
// broken down by q.By, with the rows sorted by their dimension values in
// store.Dimensions order. Impression ids are deduplicated among the events
// of the range, valid and invalid together. It returns EINVALID for a
// malformed query.
func (db *DB) Report(ctx context.Context, q store.ReportQuery) (*store.ReportResult, error) {
	if err := checkReportQuery(q); err != nil {
		return nil, err
	}
	res := &store.ReportResult{}
	sc, ok := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
	sc.streamAbove = db.streamAbove
	if !ok {
		return res, nil
	}
	err := db.read(ctx, func(tx *sql.Tx) error {
		query, plan, err := db.reportSQL(ctx, tx, q, sc)
		if err != nil || query == "" {
			return err
		}
		return db.scanReport(ctx, tx, query, plan, res)
	})
	if err != nil {
		return nil, fmt.Errorf("query report: %w", err)
	}
	return res, nil
}

// checkReportQuery checks the range, dimensions and filter of q (EINVALID
// errors).
func checkReportQuery(q store.ReportQuery) error {
	if err := store.CheckRange(q.Tenant, q.Campaign, q.From, q.To, q.Location); err != nil {
		return err
	}
	if err := store.CheckDimensions(q.By); err != nil {
		return err
	}
	return store.CheckFilter(q.Filter)
}

// scanReport runs a report query and fills res.
func (db *DB) scanReport(ctx context.Context, tx *sql.Tx, query string, plan reportPlan, res *store.ReportResult) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := len(plan.by)
	var total bool
	vals := make([]sql.NullInt64, n)
	var c store.Counts
	var anonImps, anonClicks int64
	dest := make([]any, 0, n+11)
	if n > 0 {
		dest = append(dest, &total)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
	}
	dest = append(dest, &c.Impressions, &c.Clicks, &c.UV, &c.ClickUV,
		&c.InvalidImpressions, &c.InvalidClicks, &c.InvalidUV, &c.InvalidClickUV, &anonImps, &anonClicks)
	var raw [][]int64 // dimension values of each row, -1 for NULL
	for rows.Next() {
		total = n == 0
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if total {
			res.Total, res.AnonymousImpressions, res.AnonymousClicks = c, anonImps, anonClicks
			continue
		}
		r := rawDims(vals)
		raw = append(raw, r)
		res.Rows = append(res.Rows, store.ReportRow{Counts: c})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i, dims := range db.label(plan, raw) {
		res.Rows[i].Dims = dims
	}
	sortRows(plan.by, res.Rows, func(r *store.ReportRow) []string { return r.Dims })
	return nil
}

// rawDims returns the dimension values of a result row, -1 for NULL.
func rawDims(vals []sql.NullInt64) []int64 {
	r := make([]int64, len(vals))
	for i, v := range vals {
		r[i] = -1
		if v.Valid {
			r[i] = v.Int64
		}
	}
	return r
}

// label returns the names of the dimension values of each row (-1 for
// NULL).
func (db *DB) label(plan reportPlan, raw [][]int64) [][]string {
	// Dictionary ids are labelled in one pass under the dictionary's lock.
	var ids []uint32
	for _, r := range raw {
		for i, d := range plan.by {
			if d == store.ByPlacement || d == store.ByRegion {
				ids = append(ids, uint32(r[i]))
			}
		}
	}
	strs := db.dict.labels(ids)
	out := make([][]string, len(raw))
	for k, r := range raw {
		dims := make([]string, len(plan.by))
		for i, d := range plan.by {
			v := r[i]
			switch d {
			case store.ByDay:
				dims[i] = dateOfDay(v).String()
			case store.ByHour:
				dims[i] = time.Unix(v*3600, 0).UTC().Format("2006-01-02T15")
			case store.ByPlacement, store.ByRegion:
				dims[i], strs = strs[0], strs[1:]
			case store.ByMedia:
				if v >= 0 && int(v) < len(plan.media) {
					dims[i] = plan.media[v]
				}
			case store.ByOS:
				dims[i] = admeter.OS(v).String()
			case store.ByDevice:
				dims[i] = admeter.DeviceType(v).String()
			case store.ByReason:
				// 0, one named reason's bit, or the unnamed bits: "valid",
				// the reason's code, or "unknown".
				dims[i] = admeter.IVT(v).String()
			}
		}
		out[k] = dims
	}
	return out
}

// sortRows sorts rows by their dimension values (dims of a row), taking
// the dimensions in store.Dimensions order.
func sortRows[R any](by []store.Dimension, rows []R, dims func(*R) []string) {
	order := make([]int, len(by)) // positions in Dims, in sort order
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ia, _ := store.DimensionOrder(by[a])
		ib, _ := store.DimensionOrder(by[b])
		return ia - ib
	})
	slices.SortFunc(rows, func(a, b R) int {
		da, db := dims(&a), dims(&b)
		for _, i := range order {
			if c := strings.Compare(da[i], db[i]); c != 0 {
				return c
			}
		}
		return 0
	})
}

// frequencySQL returns the SQL of the reach and frequency of sc's
// impressions of the traffic filter selects, or "" if no partition holds
// its events. Its rows are (by_day, key, users, impressions): by bucket
// (key = min(n, MaxFrequencyBucket), the users who saw n impressions and
// their impressions) and by first day (key = the local day number, the
// users first reached that day). Invalid impressions are left out after
// deduplication, which runs over all of them.
func (db *DB) frequencySQL(ctx context.Context, tx *sql.Tx, sc scope, filter store.TrafficFilter) (string, error) {
	src, err := sc.source(ctx, tx, "kind, impression, placement, ts, received, user_key, ivt", fmt.Sprint(sqlImpression))
	if err != nil || src.from == "" {
		return "", err
	}
	where := "user_key IS NOT NULL"
	if filter == store.FilterValid {
		where += " AND ivt = 0"
	}
	with, ev := dedupOf(src, ", user_key, ivt", "")
	return fmt.Sprintf(`%[5]sSELECT grouping(bucket) <> 0 AS by_day, coalesce(bucket, first_day) AS key, count(*) AS users, sum(n) AS impressions
FROM (
	SELECT least(count(*), %[1]d) AS bucket, min(%[2]s // %[3]d) AS first_day, count(*) AS n
	FROM (%[4]s) ev
	WHERE %[6]s
	GROUP BY user_key
)
GROUP BY GROUPING SETS ((bucket), (first_day))`, store.MaxFrequencyBucket, sc.zone.local(), msPerDay, ev, with, where), nil
}

// Frequency returns the reach and frequency distribution of one campaign's
// impressions in [q.From, q.To), of the placements q.Placements names (all
// when it names none) and of the traffic q.Filter selects, and the
// cumulative reach through each local day of the range. It returns
// EINVALID for a malformed query.
func (db *DB) Frequency(ctx context.Context, q store.FrequencyQuery) (*store.FrequencyResult, error) {
	if err := store.CheckRange(q.Tenant, q.Campaign, q.From, q.To, q.Location); err != nil {
		return nil, err
	}
	if err := store.CheckFilter(q.Filter); err != nil {
		return nil, err
	}
	first := store.DateOf(q.From.In(q.Location))
	last := store.DateOf(q.To.Add(-time.Nanosecond).In(q.Location))
	res := &store.FrequencyResult{}
	for d := first; !last.Before(d); d = d.AddDays(1) {
		res.CumulativeReach = append(res.CumulativeReach, store.DayReach{Day: d})
	}
	sc, ok := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
	sc.streamAbove = db.streamAbove
	if !ok {
		return res, nil
	}
	firstDay := epochDay(first)
	err := db.read(ctx, func(tx *sql.Tx) error {
		query, err := db.frequencySQL(ctx, tx, sc, q.Filter)
		if err != nil || query == "" {
			return err
		}
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var byDay bool
			var key, users, imps int64
			if err := rows.Scan(&byDay, &key, &users, &imps); err != nil {
				return err
			}
			switch i := int(key - int64(firstDay)); {
			case byDay && i >= 0 && i < len(res.CumulativeReach):
				res.CumulativeReach[i].Reach = users
			case !byDay && key >= 1 && key <= store.MaxFrequencyBucket:
				res.Distribution[key-1] = users
				res.Reach += users
				res.Impressions += imps
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("query frequency: %w", err)
	}
	for i := 1; i < len(res.CumulativeReach); i++ {
		res.CumulativeReach[i].Reach += res.CumulativeReach[i-1].Reach
	}
	return res, nil
}
