package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/admeter/admeter/store"
)

// ReachSets returns, for the users who saw some campaigns of one tenant
// in [q.From, q.To), how many saw each combination of groups of
// placements, with their impressions, the impressions without a user,
// and, when q.WasteAbove is positive, the impressions per group beyond
// each user's first q.WasteAbove (store.ReachSetQuery). One statement
// over one view: the impressions of the campaigns on the placements
// q.Groups names, deduplicated as Report's, of the filtered traffic;
// per user the bit set of its groups (groupBitOr), its impressions and,
// for waste, the groups of its impressions sorted by (ts, received) past
// the threshold; then per bit set the users, the impressions and a
// sumMap of the wasted impressions per group. The impressions without a
// user are one row of bit set 0, which no user has. It returns EINVALID
// for a malformed query (store.CheckReachSets).
func (db *DB) ReachSets(ctx context.Context, q store.ReachSetQuery) (*store.ReachSetResult, error) {
	if err := store.CheckReachSets(q); err != nil {
		return nil, err
	}
	res := &store.ReachSetResult{}
	if q.WasteAbove > 0 {
		res.Waste = map[int]int64{}
	}
	if len(q.Groups) == 0 {
		return res, nil
	}
	v, err := db.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("query reach sets: %w", err)
	}
	sc := scope{tenant: q.Tenant, from: ceilMillis(q.From), to: ceilMillis(q.To), view: v, events: db.events}
	query := reachSetsSQL(q, sc)
	if len(query) > audienceQuerySize {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": 2 * len(query)}))
	}
	rows, err := db.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query reach sets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s store.ReachSet
		var groups []uint8
		var wasted []uint64
		if err := rows.Scan(&s.Mask, &s.Users, &s.Impressions, &groups, &wasted); err != nil {
			return nil, fmt.Errorf("read reach sets: %w", err)
		}
		for i, g := range groups {
			if i < len(wasted) && wasted[i] > 0 && res.Waste != nil {
				res.Waste[int(g)] += int64(wasted[i])
			}
		}
		if s.Mask == 0 {
			res.AnonymousImpressions += s.Impressions
			continue
		}
		res.Sets = append(res.Sets, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reach sets: %w", err)
	}
	slices.SortFunc(res.Sets, func(a, b store.ReachSet) int {
		switch {
		case a.Mask < b.Mask:
			return -1
		case a.Mask > b.Mask:
			return 1
		}
		return 0
	})
	return res, nil
}

// reachSetsSQL returns the statement of ReachSets: rows (mask, users,
// impressions, waste groups, waste counts), mask 0 being the impressions
// without a user (one row, users 1).
//
// The impressions are sc.dedup's over the campaigns and the placements
// of q.Groups (deduplicated per campaign, placement and impression id,
// as Report deduplicates a campaign's), then filtered. A placement's
// group is a transform() over literal arrays. Per user (the users
// without a pseudonym are one row): groupBitOr of 1 << group, count()
// and, for waste, groupArray of (ts, received, group) sorted, cut past
// WasteAbove and mapped to the groups (none for the impressions without a
// user, which are no one's frequency). sumMap adds up the wasted groups
// (an element each) per mask. Every level is an aggregation, which a
// Distributed table runs as Report's: the deduplication is merged on the
// coordinator and the rest runs there.
func reachSetsSQL(q store.ReachSetQuery, sc scope) string {
	var ps, gs []string
	for _, p := range slices.Sorted(maps.Keys(q.Groups)) {
		ps, gs = append(ps, quote(string(p))), append(gs, itoa(q.Groups[p]))
	}
	placements := strings.Join(ps, ", ")
	where := fmt.Sprintf("tenant = %s AND campaign IN (%s) AND kind = %d AND placement IN (%s) AND day >= %d AND day <= %d AND ts >= %d AND ts < %d%s",
		quote(string(q.Tenant)), stringList(q.Campaigns), sqlImpression, placements,
		floorDiv(sc.from, msPerDay), floorDiv(sc.to-1, msPerDay), sc.from, sc.to, sc.view.and())
	filter := "1"
	if q.Filter == store.FilterValid {
		filter = "ivt = 0"
	}
	wasted, sums := "emptyArrayUInt8()", "emptyArrayUInt8(), emptyArrayUInt64()"
	if q.WasteAbove > 0 {
		wasted = fmt.Sprintf("if(user_key = %s, emptyArrayUInt8(), arrayMap(x -> x.3, arraySlice(arraySort(groupArray(tuple(ts, received, g))), %d)))", noKey, q.WasteAbove+1)
		sums = "w.1, w.2"
	}
	return fmt.Sprintf(`SELECT mask, users, imps, %[1]s
FROM (
	SELECT mask, toInt64(count()) AS users, toInt64(sum(n)) AS imps, sumMap(wasted, arrayMap(x -> toUInt64(1), wasted)) AS w
	FROM (
		SELECT if(user_key = %[2]s, toUInt64(0), groupBitOr(bitShiftLeft(toUInt64(1), g))) AS mask, count() AS n, %[3]s AS wasted
		FROM (
			SELECT user_key, ts, received, toUInt8(transform(placement, [%[4]s], [%[5]s], 0)) AS g
			FROM (%[6]s)
			WHERE %[7]s
		)
		GROUP BY user_key
	)
	GROUP BY mask
)`, sums, noKey, wasted, placements, strings.Join(gs, ", "), sc.dedup(where, ", campaign", ", campaign"), filter)
}
