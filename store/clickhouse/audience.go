package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// audienceQuerySize is the length of an audience statement from which it
// raises the server's max_query_size (256 KiB by default) for itself: the
// placements' categories are literals in the statement.
const audienceQuerySize = 200_000

// Audience returns the reached audience of one campaign and the
// platform's baseline, as exact user counts per interest, region, OS and
// device (store.AudienceQuery). One statement over one view: the valid
// impressions of the range grouped per user, with the latest one of the
// platform and of the campaign (max of (ts, received, region, os,
// device)), UNION ALL the user's categories of the lookback and range
// held on enough days; grouped per user again, its top interests kept;
// then an ARRAY JOIN of the user's cells. Impression ids are not
// deduplicated: a retry names the same user. It returns EINVALID for a
// malformed query (store.CheckAudience).
func (db *DB) Audience(ctx context.Context, q store.AudienceQuery) (*store.AudienceResult, error) {
	if err := store.CheckAudience(q); err != nil {
		return nil, err
	}
	v, err := db.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("query audience: %w", err)
	}
	query := audienceSQL(q, db.events, v)
	if len(query) > audienceQuerySize {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": 2 * len(query)}))
	}
	rows, err := db.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query audience: %w", err)
	}
	defer rows.Close()
	res := &store.AudienceResult{}
	for rows.Next() {
		var c store.AudienceCell
		if err := rows.Scan(&c.Dimension, &c.Value, &c.Users, &c.BaselineUsers); err != nil {
			return nil, fmt.Errorf("read audience: %w", err)
		}
		switch c.Dimension {
		case "":
			res.Reach, res.Baseline = c.Users, c.BaselineUsers
			continue
		case store.AudienceOS, store.AudienceDevice:
			n, err := strconv.ParseUint(c.Value, 10, 8)
			if err != nil {
				return nil, fmt.Errorf("read audience: %s %q: %w", c.Dimension, c.Value, err)
			}
			if c.Dimension == store.AudienceOS {
				c.Value = admeter.OS(n).String()
			} else {
				c.Value = admeter.DeviceType(n).String()
			}
		}
		res.Cells = append(res.Cells, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audience: %w", err)
	}
	slices.SortFunc(res.Cells, func(a, b store.AudienceCell) int {
		if c := strings.Compare(a.Dimension, b.Dimension); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return res, nil
}

// audienceSQL returns the statement of Audience: rows (dimension, value,
// users, baseline users), the dimension "" holding reach and baseline.
//
// Per user (t = 1): whether it saw the campaign, and the latest valid
// impression of the range, of the platform (b) and of the campaign (c),
// as tuples (ts, received, region, os, device) whose max is the latest
// (ties by the values, so that the choice is the same on every run).
// Per user and category (t = 2): the distinct UTC days of the lookback
// and range with a valid impression on a placement of that category,
// when enough; the categories of a placement are an array in an array
// of arrays, its index a transform() of the placement, and arrayJoin
// makes a row of each. Both are aggregations over events, which a
// Distributed table runs on the shards and merges on the coordinator (a
// user's events are all on one shard, so nothing else crosses shards).
// Then per user, of the baseline only, its interests sorted by days
// descending then category and cut; and per user an ARRAY JOIN of
// (dimension, value, whose) cells, whose 0 for the baseline, 1 for the
// campaign, 2 for both (the total, the interests).
func audienceSQL(q store.AudienceQuery, events string, v view) string {
	from, to := ceilMillis(q.From), ceilMillis(q.To)
	valid := fmt.Sprintf("kind = %d AND ivt = 0 AND user_key != %s", sqlImpression, noKey)
	during := func(from int64) string {
		return fmt.Sprintf("day >= %d AND day <= %d AND ts >= %d AND ts < %d%s",
			floorDiv(from, msPerDay), floorDiv(to-1, msPerDay), from, to, v.and())
	}
	campaign := fmt.Sprintf("tenant = %s AND campaign = %s", quote(string(q.Tenant)), quote(string(q.Campaign)))
	if len(q.Placements) > 0 {
		campaign += " AND placement IN (" + stringList(q.Placements) + ")"
	}
	latest := "tuple(ts, received, " + regionSQL + ", os, device)"
	perUser := fmt.Sprintf(`SELECT user_key, toUInt8(1) AS t, toUInt8(max(%[1]s)) AS inc, max(%[2]s) AS b, maxIf(%[2]s, %[1]s) AS c, '' AS category, toUInt64(0) AS days
	FROM %[3]s WHERE %[4]s AND %[5]s GROUP BY user_key`, campaign, latest, events, valid, during(from))

	var ps, cats []string
	for _, p := range slices.Sorted(maps.Keys(q.Categories)) {
		if len(q.Categories[p]) > 0 {
			ps, cats = append(ps, quote(string(p))), append(cats, "["+stringList(q.Categories[p])+"]")
		}
	}
	if len(ps) > 0 {
		idx := make([]string, len(ps))
		for i := range idx {
			idx[i] = strconv.Itoa(i + 1)
		}
		none := "tuple(toInt64(0), toInt64(0), '', toUInt8(0), toUInt8(0))"
		placements := strings.Join(ps, ", ")
		perUser += fmt.Sprintf(`
	UNION ALL
	SELECT user_key, toUInt8(2) AS t, toUInt8(0) AS inc, %[1]s AS b, %[1]s AS c,
		arrayJoin([%[2]s][transform(placement, [%[3]s], [%[4]s], 0)]) AS category, toUInt64(uniqExact(day)) AS days
	FROM %[5]s WHERE %[6]s AND %[7]s AND placement IN (%[3]s) GROUP BY user_key, category HAVING days >= %[8]d`,
			none, strings.Join(cats, ", "), placements, strings.Join(idx, ", "), events, valid,
			during(max(from-q.InterestLookback.Milliseconds(), 0)), q.InterestDays)
	}

	return fmt.Sprintf(`SELECT e.1 AS dim, e.2 AS value, toInt64(sum(e.3 != 0 AND in_c)) AS users, toInt64(sum(e.3 != 1)) AS baseline
FROM (
	SELECT toUInt8(max(inc)) AS in_c, anyIf(b, t = 1) AS ub, anyIf(c, t = 1) AS uc,
		arrayMap(x -> x.2, arraySlice(arraySort(groupArrayIf(tuple(-toInt64(days), category), t = 2)), 1, %[1]d)) AS interests
	FROM (%[2]s)
	GROUP BY user_key
	HAVING max(t = 1) = 1
)
ARRAY JOIN arrayConcat([
	('', '', toUInt8(2)),
	(%[3]s, ub.3, toUInt8(0)), (%[4]s, toString(ub.4), toUInt8(0)), (%[5]s, toString(ub.5), toUInt8(0)),
	(%[3]s, uc.3, toUInt8(1)), (%[4]s, toString(uc.4), toUInt8(1)), (%[5]s, toString(uc.5), toUInt8(1))
], arrayMap(x -> (%[6]s, x, toUInt8(2)), interests)) AS e
GROUP BY dim, value
HAVING users + baseline > 0`, q.MaxInterests, perUser,
		quote(store.AudienceRegion), quote(store.AudienceOS), quote(store.AudienceDevice), quote(store.AudienceInterest))
}
