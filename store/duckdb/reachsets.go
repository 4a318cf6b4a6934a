package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/admeter/admeter/store"
)

// Row kinds of reachSetsSQL.
const (
	reachSet       = iota // key: a mask; its users and their impressions
	reachAnonymous        // key: a group; its impressions without a user
	reachFrequency        // freq: a frequency bucket; its users
	reachGroup            // key: a group; freq: a bucket; its users, their impressions and waste
)

// ReachSets returns, for the users q's campaigns reached in [q.From,
// q.To), how many were reached on each combination of q.Groups, with
// the frequency distributions of all the groups and of each
// (store.ReachSetQuery). It reads the reach index of the range's days
// (reachSetsIndexed), building the files that are missing or out of
// date; reachSetsSQL, the same answer in one statement over the raw
// events, is what tests hold it to, and what answers when the index
// cannot (a full disk, a damaged file). That statement reads the
// tenants' campaigns' impressions on the placements of the groups once, deduplicates them as
// Report does (the campaign, and the tenant, are dedup keys too when
// there are several, so each counts as if reported alone), keeps those
// of q.Filter, gives each its group by a join with two list parameters
// (placement dictionary id, group) and counts them per (user, group), a
// materialized aggregate from which everything else follows: per user
// the 64-bit mask of its groups (bit_or) and its total, counted per mask
// and per frequency bucket in one pass of grouping sets; per group and
// bucket, the users and their impressions. With q.WasteAbove, each
// user's impressions are first numbered in event-time order (then
// receive time) and those numbered above it are counted in the same
// (user, group) aggregate. It returns EINVALID for a malformed query
// (store.CheckReachSets).
func (db *DB) ReachSets(ctx context.Context, q store.ReachSetQuery) (*store.ReachSetResult, error) {
	if err := store.CheckReachSets(q); err != nil {
		return nil, err
	}
	res := &store.ReachSetResult{}
	sc, pids, groups, ok := db.reachScope(q)
	if !ok {
		return res, nil
	}
	if !db.noReachIndex {
		res, err := db.reachSetsIndexed(ctx, q, sc, pids, groups)
		if err == nil || ctx.Err() != nil {
			return res, err
		}
		// A full disk, or a damaged file the scan tripped on: the raw
		// events still give the answer, only slower.
		db.logger.Warn("reach index unusable; answering from the raw events", "err", err)
		res = &store.ReachSetResult{}
	}
	err := db.read(ctx, func(tx *sql.Tx) error {
		query, err := reachSetsSQL(ctx, tx, sc, q.Filter, q.WasteAbove)
		if err != nil || query == "" {
			return err
		}
		rows, err := tx.QueryContext(ctx, query, pids, groups)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind int
			var key uint64
			var freq int
			var users, imps, waste int64
			if err := rows.Scan(&kind, &key, &freq, &users, &imps, &waste); err != nil {
				return err
			}
			addReachRow(res, kind, key, freq, users, imps, waste)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("query reach sets: %w", err)
	}
	slices.SortFunc(res.Sets, func(a, b store.ReachSet) int { return cmp.Compare(a.Mask, b.Mask) })
	return res, nil
}

// addReachRow adds a row of reachSetsSQL to res. A frequency bucket
// outside 1 to store.MaxReachFrequency is not counted in a distribution.
func addReachRow(res *store.ReachSetResult, kind int, key uint64, freq int, users, imps, waste int64) {
	inBucket := freq >= 1 && freq <= store.MaxReachFrequency
	switch kind {
	case reachSet:
		res.Sets = append(res.Sets, store.ReachSet{Mask: key, Users: users, Impressions: imps})
	case reachAnonymous:
		res.AnonymousImpressions += imps
	case reachFrequency:
		if inBucket {
			if res.Frequency == nil {
				res.Frequency = make([]int64, store.MaxReachFrequency)
			}
			res.Frequency[freq-1] += users
		}
	case reachGroup:
		if res.Groups == nil {
			res.Groups = map[int]store.GroupReach{}
		}
		g := res.Groups[int(key)]
		g.Users += users
		g.Impressions += imps
		if inBucket {
			if g.Frequency == nil {
				g.Frequency = make([]int64, store.MaxReachFrequency)
			}
			g.Frequency[freq-1] += users
		}
		res.Groups[int(key)] = g
		if waste > 0 {
			if res.Waste == nil {
				res.Waste = map[int]int64{}
			}
			res.Waste[int(key)] += waste
		}
	}
}

// reachScope resolves q's tenants, campaigns and placements into a scope
// over [q.From, q.To), with the placements' dictionary ids and their
// groups as two lists, sorted by id; ok is false when nothing can match
// (the store has never seen any of the tenants, any of the campaigns or
// any of the placements, or the range holds no millisecond).
func (db *DB) reachScope(q store.ReachSetQuery) (sc scope, pids []uint32, groups []int32, ok bool) {
	names := make([]string, len(q.Tenants))
	for i, t := range q.Tenants {
		names[i] = string(t)
	}
	tenants := db.dict.lookupAll(names)
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	names = make([]string, len(q.Campaigns))
	for i, c := range q.Campaigns {
		names[i] = string(c)
	}
	campaigns := db.dict.lookupAll(names)
	slices.Sort(campaigns)
	campaigns = slices.Compact(campaigns)
	type pair struct {
		pid   uint32
		group int32
	}
	var pairs []pair
	for p, g := range q.Groups {
		if id, ok := db.dict.lookup(string(p)); ok {
			pairs = append(pairs, pair{id, int32(g)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.pid, b.pid) })
	for _, p := range pairs {
		pids, groups = append(pids, p.pid), append(groups, p.group)
	}
	rng := msRange{ceilMillis(q.From), ceilMillis(q.To)}
	sc = scope{
		tenants: tenants, campaigns: campaigns, placements: pids,
		ranges: []msRange{rng}, zone: zoneOf(time.UTC, q.From, q.To), materializeAbove: db.materializeAbove,
	}
	return sc, pids, groups, len(tenants) > 0 && len(campaigns) > 0 && len(pids) > 0 && rng.from < rng.to
}

// reachSetsSQL returns the statement of the reach sets of sc's
// impressions of the traffic filter selects, with the waste above
// wasteAbove when positive, or "" if no partition holds events of the
// range. It takes two list parameters: placement dictionary ids and the
// group of each. Its rows are (kind, key, freq, users, impressions,
// waste), of the row kinds reachSet, reachAnonymous, reachFrequency and
// reachGroup; freq is a frequency bucket, 1 to store.MaxReachFrequency
// (0 in the rows of the other kinds).
//
// The raw events are deduplicated by dedupHashed (only ids that more than
// one event may share go through the window; at 2 M events the statement
// takes 0.6× the time of the window over every id), read into ev, and
// aggregated once per (user, group) into ug, which is materialized: the per-user level (mask and
// total, GROUPING SETS of the mask and of the total's bucket) and the
// per-group level (anonymous impressions, and per group and bucket the
// users, impressions and waste) both read it.
func reachSetsSQL(ctx context.Context, tx *sql.Tx, sc scope, filter store.TrafficFilter, wasteAbove int) (string, error) {
	cols, keys := "kind, impression, placement, ts, received, campaign, user_key, ivt", ""
	if len(sc.campaigns) > 1 {
		keys += ", campaign"
	}
	if len(sc.tenants) > 1 {
		cols, keys = cols+", tenant", keys+", tenant"
	}
	src, err := sc.source(ctx, tx, cols, fmt.Sprint(sqlImpression))
	if err != nil || src.from == "" {
		return "", err
	}
	where := ""
	if filter == store.FilterValid {
		where = "\n\tWHERE ivt = 0"
	}
	// ev: the impressions counted, with their group and, for the waste,
	// their rank among their user's.
	rank, waste := "", "0"
	if wasteAbove > 0 {
		rank = ",\n\t\tCASE WHEN user_key IS NOT NULL THEN row_number() OVER (PARTITION BY user_key ORDER BY ts, received) END AS rank"
		waste = fmt.Sprintf("count(*) FILTER (WHERE rank > %d)", wasteAbove)
	}
	with := "WITH "
	if src.with != "" {
		with = strings.TrimSuffix(src.with, "\n") + ",\n"
	}
	with += dupKeysSQL(src.from, keys) + ",\n"
	return fmt.Sprintf(`%[1]sev AS (
	SELECT user_key, g%[2]s
	FROM (%[3]s) d
	JOIN (SELECT unnest($1::UINTEGER[]) AS pid, unnest($2::INTEGER[]) AS g) groups ON groups.pid = d.placement%[4]s
),
ug AS MATERIALIZED (
	SELECT user_key, g, count(*) AS n, %[5]s AS waste FROM ev GROUP BY user_key, g
)
SELECT CASE WHEN grouping(mask) = 0 THEN %[6]d ELSE %[7]d END AS kind, coalesce(mask, 0) AS key, coalesce(f, 0) AS freq,
	count(*) AS users, sum(n)::BIGINT AS impressions, 0::BIGINT AS waste
FROM (SELECT bit_or(1::UBIGINT << g) AS mask, sum(n) AS n, least(sum(n), %[10]d)::INTEGER AS f FROM ug WHERE user_key IS NOT NULL GROUP BY user_key)
GROUP BY GROUPING SETS ((mask), (f))
UNION ALL
SELECT CASE WHEN user_key IS NULL THEN %[8]d ELSE %[9]d END, g::UBIGINT, CASE WHEN user_key IS NULL THEN 0 ELSE least(n, %[10]d)::INTEGER END,
	count(*), sum(n)::BIGINT, sum(waste)::BIGINT
FROM ug
GROUP BY ALL`, with, rank, dedupHashed(src.from, ", user_key, ivt, received", keys), where, waste,
		reachSet, reachFrequency, reachAnonymous, reachGroup, store.MaxReachFrequency), nil
}

// reachSetsIndexed answers ReachSets from the reach index files of sc's
// range: up-to-date files are found (or built) in one read snapshot, then
// scanned by the store's threads, each over a slice of the user keys.
func (db *DB) reachSetsIndexed(ctx context.Context, q store.ReachSetQuery, sc scope, pids []uint32, groups []int32) (*store.ReachSetResult, error) {
	rng := sc.ranges[0]
	first, last := rng.utcDays()
	var files []*reachFile
	var retained int64
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'retained_before'`).Scan(&retained); err != nil {
			return fmt.Errorf("read the retention cut: %w", err)
		}
		var err error
		files, _, err = db.reachFiles(ctx, tx, first, last)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("query reach sets: %w", err)
	}
	defer closeReachFiles(files)
	in := func(ids []uint32, id uint32) bool { _, ok := slices.BinarySearch(ids, id); return ok }
	s := &reachScan{
		ctx: ctx, files: files, from: rng.from, to: rng.to, dropFrom: max(rng.from, retained),
		validOnly: q.Filter == store.FilterValid, wasteAbove: int64(q.WasteAbove),
	}
	for _, rf := range files {
		g := make([]int8, len(rf.placements))
		for i, p := range rf.placements {
			g[i] = -1
			if j, ok := slices.BinarySearch(pids, p.placement); ok && in(sc.tenants, p.tenant) && in(sc.campaigns, p.campaign) {
				g[i] = int8(groups[j])
			}
		}
		s.groupOf = append(s.groupOf, g)
	}
	res, err := s.run(db.opts.Threads)
	if err != nil {
		return nil, fmt.Errorf("query reach sets: %w", err)
	}
	return res, nil
}
