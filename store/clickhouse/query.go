package clickhouse

import (
	"context"
	"fmt"
	"maps"
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
// it is the local day number, by an hour the local hour number. It is
// integer arithmetic with a multiIf over the offset changes in the range.
func (z zone) local() string {
	if len(z.Bounds) == 0 {
		return fmt.Sprintf("(ts + %d)", z.Offsets[0])
	}
	var b strings.Builder
	b.WriteString("multiIf(")
	for i, bound := range z.Bounds {
		fmt.Fprintf(&b, "ts < %d, ts + %d, ", bound, z.Offsets[i])
	}
	fmt.Fprintf(&b, "ts + %d)", z.Offsets[len(z.Offsets)-1])
	return b.String()
}

// Kinds in SQL.
const (
	sqlImpression = uint8(admeter.KindImpression)
	sqlClick      = uint8(admeter.KindClick)
)

// noReason marks an absent element of reasonList's array.
const noReason = "4294967295"

// reasonList is a SQL expression for the array of the reasons of column
// ivt, as the ByReason values: [0] for valid traffic, else each named
// reason's bit, in bit order, then the mask of every unnamed bit if any is
// set (one "unknown" reason, however many unnamed bits). ClickHouse 18.16
// lambdas cannot read other columns, so the array holds an if() per
// reason and the absent ones are filtered out.
var reasonList = func() string {
	elems := []string{"if(ivt = 0, toUInt32(0), " + noReason + ")"}
	var known admeter.IVT
	for _, r := range admeter.IVTReasons() {
		elems = append(elems, fmt.Sprintf("if(bitAnd(ivt, %d) != 0, toUInt32(%d), %s)", r, r, noReason))
		known |= r
	}
	elems = append(elems, fmt.Sprintf("if(bitAnd(ivt, %d) != 0, toUInt32(%d), %s)", uint32(^known), uint32(^known), noReason))
	return fmt.Sprintf("arrayFilter(x -> x != %s, [%s])", noReason, strings.Join(elems, ", "))
}()

// scope is what a query reads: one campaign's events in [from, to) (Unix
// milliseconds), of some placements (nil: every placement), of the
// batches the view does not hide.
type scope struct {
	tenant     admeter.TenantID
	campaign   admeter.CampaignID
	placements []admeter.PlacementID
	from, to   int64
	zone       zone
	view       view
	// events is the table to read (DB.events).
	events string
}

func (db *DB) newScope(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, placements []admeter.PlacementID, from, to time.Time, loc *time.Location) (scope, error) {
	v, err := db.view(ctx)
	if err != nil {
		return scope{}, err
	}
	return scope{tenant: tenant, campaign: campaign, placements: placements, from: ceilMillis(from), to: ceilMillis(to),
		zone: zoneOf(loc, from, to), view: v, events: db.events}, nil
}

// where returns the condition selecting the scope's events of kinds. The
// day bounds let the server skip partitions.
func (sc scope) where(kinds string) string {
	w := fmt.Sprintf("tenant = %s AND campaign = %s AND kind IN (%s) AND day >= %d AND day <= %d AND ts >= %d AND ts < %d",
		quote(string(sc.tenant)), quote(string(sc.campaign)), kinds, floorDiv(sc.from, msPerDay), floorDiv(sc.to-1, msPerDay), sc.from, sc.to) + sc.view.and()
	if len(sc.placements) > 0 {
		w += " AND placement IN (" + stringList(sc.placements) + ")"
	}
	return w
}

// dedup returns the SQL of the deduplicated events of the scope: events
// without an impression id all, and of those sharing (placement, kind,
// impression id, and extra keys) the first by event time, then receive
// time (ORDER BY … LIMIT 1 BY, since 18.16 has no window functions). It
// runs over valid and invalid events alike, before any traffic filter:
// the first event counts with its verdict. cols are the columns or
// expressions selected besides kind, placement, ts, received, impression,
// user_key and ivt; keys start with a comma.
func (sc scope) dedup(where, cols, keys string) string {
	sel := "kind, placement, ts, received, impression, user_key, ivt" + cols
	return fmt.Sprintf(`SELECT %[1]s FROM %[5]s WHERE %[2]s AND impression != %[3]s ORDER BY ts, received LIMIT 1 BY placement, kind, impression%[4]s
	UNION ALL
	SELECT %[1]s FROM %[5]s WHERE %[2]s AND impression = %[3]s`, sel, where, noKey, keys, sc.events)
}

// reportCols are the source columns each dimension needs.
var reportCols = map[store.Dimension]string{
	store.ByRegion: ", country, province",
	store.ByOS:     ", os",
	store.ByDevice: ", device",
}

// aggs returns the measures of a report over rows (kind, user_key, n, nb):
// n events of a kind and user, nb of them invalid. counted is the column
// of the main measures: n for all traffic, nv (n - nb) for valid.
func aggs(counted string) string {
	return fmt.Sprintf(`toInt64(sumIf(%[3]s, kind = %[1]d)), toInt64(sumIf(%[3]s, kind = %[2]d)),
	toInt64(countIf(kind = %[1]d AND %[3]s > 0 AND user_key != %[4]s)), toInt64(countIf(kind = %[2]d AND %[3]s > 0 AND user_key != %[4]s)),
	toInt64(sumIf(nb, kind = %[1]d)), toInt64(sumIf(nb, kind = %[2]d)),
	toInt64(countIf(kind = %[1]d AND nb > 0 AND user_key != %[4]s)), toInt64(countIf(kind = %[2]d AND nb > 0 AND user_key != %[4]s)),
	toInt64(sumIf(%[3]s, kind = %[1]d AND user_key = %[4]s)), toInt64(sumIf(%[3]s, kind = %[2]d AND user_key = %[4]s))`,
		sqlImpression, sqlClick, counted, noKey)
}

// reportSQL returns the SQL of the rows of q (by its dimensions, "" when it
// has none) and of its total.
func reportSQL(q store.ReportQuery, sc scope) (rowsSQL, totalSQL string) {
	cols := ""
	reason := false
	for _, d := range q.By {
		cols += reportCols[d]
		reason = reason || d == store.ByReason
	}
	counted := "nv"
	if q.Filter == store.FilterAll || reason {
		counted = "n"
	}
	ev := sc.dedup(sc.where(fmt.Sprintf("%d, %d", sqlImpression, sqlClick)), cols, "")
	// Two levels: events per (dimensions, kind, user), n of them, nb
	// invalid and nv valid; then per dimensions, a user counting where
	// the traffic counted has one of its events. The total is a second
	// statement over (kind, user), so that its users are distinct over
	// the whole range and an event with several reasons counts once.
	totalSQL = fmt.Sprintf(`SELECT %s
FROM (SELECT kind, user_key, count() AS n, countIf(ivt != 0) AS nb, countIf(ivt = 0) AS nv FROM (%s) GROUP BY kind, user_key)`, aggs(counted), ev)
	if len(q.By) == 0 {
		return "", totalSQL
	}
	var dims, names []string
	for i, e := range dimExprs(q, sc) {
		dims = append(dims, fmt.Sprintf("toString(%s) AS d%d", e, i))
		names = append(names, fmt.Sprintf("d%d", i))
	}
	list := strings.Join(names, ", ")
	rowsSQL = fmt.Sprintf(`SELECT %[1]s, %[2]s
FROM (
	SELECT %[1]s, kind, user_key, count() AS n, countIf(ivt != 0) AS nb, countIf(ivt = 0) AS nv
	FROM (SELECT %[3]s, kind, user_key, ivt FROM (%[4]s))
	GROUP BY %[1]s, kind, user_key
)
GROUP BY %[1]s`, list, aggs(counted), strings.Join(dims, ", "), ev)
	return rowsSQL, totalSQL
}

// dimExprs returns the SQL expressions of q's dimensions over the
// columns of an event (ts, placement, country, province, os, device,
// ivt), in q.By's order, each to be taken toString of.
func dimExprs(q store.ReportQuery, sc scope) []string {
	out := make([]string, len(q.By))
	for i, d := range q.By {
		var e string
		switch d {
		case store.ByDay:
			e = fmt.Sprintf("intDiv(%s, %d)", sc.zone.local(), msPerDay)
		case store.ByHour:
			e = fmt.Sprintf("intDiv(%s, %d)", sc.zone.local(), msPerHour)
		case store.ByPlacement:
			e = "placement"
		case store.ByMedia:
			var ps, ms []string
			for _, p := range slices.Sorted(maps.Keys(q.Media)) {
				if m := q.Media[p]; m != "" {
					ps, ms = append(ps, quote(string(p))), append(ms, quote(m))
				}
			}
			if len(ps) == 0 {
				e = "''"
			} else {
				e = fmt.Sprintf("transform(placement, [%s], [%s], '')", strings.Join(ps, ", "), strings.Join(ms, ", "))
			}
		case store.ByRegion:
			e = regionSQL
		case store.ByOS:
			e = "os"
		case store.ByDevice:
			e = "device"
		case store.ByReason:
			e = "arrayJoin(" + reasonList + ")"
		}
		out[i] = e
	}
	return out
}

// regionSQL is the ByRegion value of an event: the province in China,
// else the country code.
const regionSQL = "if(country = 'CN', province, country)"

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
	sc, err := db.newScope(ctx, q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
	if err != nil {
		return nil, fmt.Errorf("query report: %w", err)
	}
	res := &store.ReportResult{}
	rowsSQL, totalSQL := reportSQL(q, sc)
	if err := db.conn.QueryRow(ctx, totalSQL).Scan(countsDest(&res.Total, &res.AnonymousImpressions, &res.AnonymousClicks)...); err != nil {
		return nil, fmt.Errorf("query report total: %w", err)
	}
	if rowsSQL == "" || res.Total.Impressions+res.Total.Clicks+res.Total.InvalidImpressions+res.Total.InvalidClicks == 0 {
		return res, nil
	}
	rows, err := db.conn.Query(ctx, rowsSQL)
	if err != nil {
		return nil, fmt.Errorf("query report rows: %w", err)
	}
	defer rows.Close()
	n := len(q.By)
	for rows.Next() {
		vals := make([]string, n)
		var r store.ReportRow
		var anonImps, anonClicks int64
		dest := make([]any, 0, n+10)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, countsDest(&r.Counts, &anonImps, &anonClicks)...)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read report rows: %w", err)
		}
		r.Dims = label(q.By, vals)
		res.Rows = append(res.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report rows: %w", err)
	}
	sortRows(q.By, res.Rows, func(r *store.ReportRow) []string { return r.Dims })
	return res, nil
}

// checkReportQuery returns an EINVALID error for a malformed query: its
// range, its dimensions or its filter.
func checkReportQuery(q store.ReportQuery) error {
	if err := store.CheckRange(q.Tenant, q.Campaign, q.From, q.To, q.Location); err != nil {
		return err
	}
	if err := store.CheckDimensions(q.By); err != nil {
		return err
	}
	return store.CheckFilter(q.Filter)
}

// countsDest returns the scan destinations of aggs's columns.
func countsDest(c *store.Counts, anonImps, anonClicks *int64) []any {
	return []any{&c.Impressions, &c.Clicks, &c.UV, &c.ClickUV,
		&c.InvalidImpressions, &c.InvalidClicks, &c.InvalidUV, &c.InvalidClickUV, anonImps, anonClicks}
}

// label turns the dimension values of a row into their names.
func label(by []store.Dimension, vals []string) []string {
	dims := make([]string, len(by))
	for i, d := range by {
		v := vals[i]
		n, _ := strconv.ParseInt(v, 10, 64)
		switch d {
		case store.ByDay:
			dims[i] = dateOfDay(n).String()
		case store.ByHour:
			dims[i] = time.Unix(n*3600, 0).UTC().Format("2006-01-02T15")
		case store.ByOS:
			dims[i] = admeter.OS(n).String()
		case store.ByDevice:
			dims[i] = admeter.DeviceType(n).String()
		case store.ByReason:
			// 0, one named reason's bit, or the unnamed bits: "valid",
			// the reason's code, or "unknown".
			dims[i] = admeter.IVT(n).String()
		default:
			dims[i] = v
		}
	}
	return dims
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

// Frequency returns the reach and frequency distribution of one campaign's
// impressions in [q.From, q.To), of the placements q.Placements names (all
// when it names none) and of the traffic q.Filter selects, and the
// cumulative reach through each local day of the range. One statement
// counts each user's impressions and first local day, then, through an
// ARRAY JOIN of (0, bucket) and (1, first day), the users per bucket and
// per first day. It returns EINVALID for a malformed query.
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
	sc, err := db.newScope(ctx, q.Tenant, q.Campaign, q.Placements, q.From, q.To, q.Location)
	if err != nil {
		return nil, fmt.Errorf("query frequency: %w", err)
	}
	where := "user_key != " + noKey
	if q.Filter == store.FilterValid {
		where += " AND ivt = 0"
	}
	query := fmt.Sprintf(`SELECT k.1 AS by_day, k.2 AS key, toInt64(count()), toInt64(sum(n))
FROM (
	SELECT toInt64(least(count(), %[1]d)) AS bucket, toInt64(min(intDiv(%[2]s, %[3]d))) AS first_day, toInt64(count()) AS n
	FROM (%[4]s)
	WHERE %[5]s
	GROUP BY user_key
)
ARRAY JOIN [(toInt64(0), bucket), (toInt64(1), first_day)] AS k
GROUP BY by_day, key`, store.MaxFrequencyBucket, sc.zone.local(), msPerDay, sc.dedup(sc.where(itoa(sqlImpression)), "", ""), where)
	rows, err := db.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query frequency: %w", err)
	}
	defer rows.Close()
	firstDay := epochDay(first)
	for rows.Next() {
		var byDay, key, users, imps int64
		if err := rows.Scan(&byDay, &key, &users, &imps); err != nil {
			return nil, fmt.Errorf("read frequency: %w", err)
		}
		switch i := key - firstDay; {
		case byDay == 1 && i >= 0 && i < int64(len(res.CumulativeReach)):
			res.CumulativeReach[i].Reach = users
		case byDay == 0 && key >= 1 && key <= store.MaxFrequencyBucket:
			res.Distribution[key-1] = users
			res.Reach += users
			res.Impressions += imps
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read frequency: %w", err)
	}
	for i := 1; i < len(res.CumulativeReach); i++ {
		res.CumulativeReach[i].Reach += res.CumulativeReach[i-1].Reach
	}
	return res, nil
}
