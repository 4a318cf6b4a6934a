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

// ReachSets returns, for the users who saw some campaigns of some
// tenants in [q.From, q.To), how many saw each combination of groups of
// placements, with their impressions, the impressions without a user,
// the frequency distributions of all the groups and of each, and, when
// q.WasteAbove is positive, the impressions per group beyond each user's
// first q.WasteAbove (store.ReachSetQuery). One statement over one view:
// the impressions of the campaigns on the placements q.Groups names,
// deduplicated as Report's, of the filtered traffic; per user the bit
// set of its groups (groupBitOr), its impressions, its impressions per
// group (a sumMap) and, for waste, the groups of its impressions sorted
// by (ts, received) past the threshold; then per bit set the users, the
// impressions and sumMaps of the wasted impressions per group, of the
// users per frequency bucket, and of the impressions and the users per
// (group, bucket), which the client adds up over the bit sets. The
// impressions without a user are one row of bit set 0, which no user
// has, and are in no distribution. It returns EINVALID for a malformed
// query (store.CheckReachSets).
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
	sc := scope{from: ceilMillis(q.From), to: ceilMillis(q.To), view: v, events: db.events}
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
		var r reachRow
		if err := rows.Scan(&r.set.Mask, &r.set.Users, &r.set.Impressions, &r.wasteGroups, &r.wasted,
			&r.freqs, &r.freqUsers, &r.groups, &r.groupImps, &r.groupFreqs, &r.groupFreqUsers); err != nil {
			return nil, fmt.Errorf("read reach sets: %w", err)
		}
		r.addTo(res)
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

// reachRow is a row of reachSetsSQL: a bit set with its users and
// impressions, and the sumMaps of its users: wasted impressions per
// group, users per frequency bucket, impressions per group, and users
// per group and bucket (the key group*reachBucketKey + bucket).
type reachRow struct {
	set                        store.ReachSet
	wasteGroups, groups        []uint8
	wasted, groupImps          []uint64
	freqs, freqUsers           []uint64
	groupFreqs, groupFreqUsers []uint64
}

// reachBucketKey is the factor of a group in the key of a (group,
// frequency bucket) of reachSetsSQL: more than store.MaxReachFrequency.
const reachBucketKey = 32

// addTo adds r to res: the bit set 0 to the anonymous impressions
// (which no distribution counts), any other to Sets, Frequency and
// Groups; the waste to Waste when res has one (q.WasteAbove positive).
func (r *reachRow) addTo(res *store.ReachSetResult) {
	for i, g := range r.wasteGroups {
		if i < len(r.wasted) && r.wasted[i] > 0 && res.Waste != nil {
			res.Waste[int(g)] += int64(r.wasted[i])
		}
	}
	if r.set.Mask == 0 {
		res.AnonymousImpressions += r.set.Impressions
		return
	}
	res.Sets = append(res.Sets, r.set)
	addBuckets := func(f *[]int64, bucket, users uint64) {
		if bucket < 1 || bucket > store.MaxReachFrequency {
			return
		}
		if *f == nil {
			*f = make([]int64, store.MaxReachFrequency)
		}
		(*f)[bucket-1] += int64(users)
	}
	for i, b := range r.freqs {
		if i < len(r.freqUsers) {
			addBuckets(&res.Frequency, b, r.freqUsers[i])
		}
	}
	if res.Groups == nil {
		res.Groups = map[int]store.GroupReach{}
	}
	for i, g := range r.groups {
		gr := res.Groups[int(g)]
		if i < len(r.groupImps) {
			gr.Impressions += int64(r.groupImps[i])
		}
		res.Groups[int(g)] = gr
	}
	for i, k := range r.groupFreqs {
		if i >= len(r.groupFreqUsers) {
			break
		}
		g := int(k / reachBucketKey)
		gr := res.Groups[g]
		gr.Users += int64(r.groupFreqUsers[i])
		addBuckets(&gr.Frequency, k%reachBucketKey, r.groupFreqUsers[i])
		res.Groups[g] = gr
	}
}

// reachSetsSQL returns the statement of ReachSets: rows (mask, users,
// impressions, waste groups, waste counts, frequency buckets, their
// users, groups, their impressions, (group, bucket) keys, their users),
// mask 0 being the impressions without a user (one row, users 1).
//
// The impressions are sc.dedup's over the tenants, the campaigns and the
// placements of q.Groups (deduplicated per campaign, placement and
// impression id, as Report deduplicates a campaign's, and per tenant
// when there are several), then filtered. A placement's group is a
// transform() over literal arrays. Per user (the users without a
// pseudonym are one row): groupBitOr of 1 << group, count(), sumMap of
// its groups' impressions and, for waste, groupArray of (ts, received,
// group) sorted, cut past WasteAbove and mapped to the groups (none for
// the impressions without a user, which are no one's frequency). Per
// mask, sumMaps add up the wasted groups (an element each), the users
// per bucket least(n, MaxReachFrequency), the impressions per group and
// the users per (group, bucket). Every level is an aggregation, which a
// Distributed table runs as Report's: the deduplication is merged on the
// coordinator and the rest runs there.
func reachSetsSQL(q store.ReachSetQuery, sc scope) string {
	var ps, gs []string
	for _, p := range slices.Sorted(maps.Keys(q.Groups)) {
		ps, gs = append(ps, quote(string(p))), append(gs, itoa(q.Groups[p]))
	}
	placements := strings.Join(ps, ", ")
	tenants := slices.Sorted(slices.Values(q.Tenants))
	tenants = slices.Compact(tenants)
	where := fmt.Sprintf("tenant IN (%s) AND campaign IN (%s) AND kind = %d AND placement IN (%s) AND day >= %d AND day <= %d AND ts >= %d AND ts < %d%s",
		stringList(tenants), stringList(q.Campaigns), sqlImpression, placements,
		floorDiv(sc.from, msPerDay), floorDiv(sc.to-1, msPerDay), sc.from, sc.to, sc.view.and())
	keys := ", campaign"
	if len(tenants) > 1 {
		keys += ", tenant"
	}
	filter := "1"
	if q.Filter == store.FilterValid {
		filter = "ivt = 0"
	}
	wasted, sums := "emptyArrayUInt8()", "emptyArrayUInt8(), emptyArrayUInt64()"
	if q.WasteAbove > 0 {
		wasted = fmt.Sprintf("if(user_key = %s, emptyArrayUInt8(), arrayMap(x -> x.3, arraySlice(arraySort(groupArray(tuple(ts, received, g))), %d)))", noKey, q.WasteAbove+1)
		sums = "w.1, w.2"
	}
	return fmt.Sprintf(`SELECT mask, users, imps, %[1]s, f.1, f.2, gi.1, gi.2, gf.1, gf.2
FROM (
	SELECT mask, toInt64(count()) AS users, toInt64(sum(n)) AS imps, sumMap(wasted, arrayMap(x -> toUInt64(1), wasted)) AS w,
		sumMap([least(n, toUInt64(%[8]d))], [toUInt64(1)]) AS f,
		sumMap(gm.1, gm.2) AS gi,
		sumMap(arrayMap((x, c) -> toUInt64(x) * %[9]d + least(c, toUInt64(%[8]d)), gm.1, gm.2), arrayMap(x -> toUInt64(1), gm.1)) AS gf
	FROM (
		SELECT if(user_key = %[2]s, toUInt64(0), groupBitOr(bitShiftLeft(toUInt64(1), g))) AS mask, count() AS n, %[3]s AS wasted,
			sumMap([g], [toUInt64(1)]) AS gm
		FROM (
			SELECT user_key, ts, received, toUInt8(transform(placement, [%[4]s], [%[5]s], 0)) AS g
			FROM (%[6]s)
			WHERE %[7]s
		)
		GROUP BY user_key
	)
	GROUP BY mask
)`, sums, noKey, wasted, placements, strings.Join(gs, ", "), sc.dedup(where, keys, keys), filter, store.MaxReachFrequency, reachBucketKey)
}
