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
	reachAnonymous        // the impressions without a user
	reachWaste            // key: a group; its wasted impressions
)

// ReachSets returns, for the users q's campaigns reached in [q.From,
// q.To), how many were reached on each combination of q.Groups
// (store.ReachSetQuery). One statement reads the campaigns' impressions
// on the placements of the groups, deduplicates them as Report does (the
// campaign is a dedup key too when there are several, so each counts as
// if reported alone), keeps those of q.Filter, gives each its group by a
// join with two list parameters (placement dictionary id, group), and
// folds each user's groups into a 64-bit mask with bit_or; the users are
// then counted per mask. With q.WasteAbove, each user's impressions are
// numbered in event-time order (then receive time) and those numbered
// above it are counted per group. It returns EINVALID for a malformed
// query (store.CheckReachSets).
func (db *DB) ReachSets(ctx context.Context, q store.ReachSetQuery) (*store.ReachSetResult, error) {
	if err := store.CheckReachSets(q); err != nil {
		return nil, err
	}
	res := &store.ReachSetResult{}
	sc, pids, groups, ok := db.reachScope(q)
	if !ok {
		return res, nil
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
			var users, imps int64
			if err := rows.Scan(&kind, &key, &users, &imps); err != nil {
				return err
			}
			switch kind {
			case reachSet:
				res.Sets = append(res.Sets, store.ReachSet{Mask: key, Users: users, Impressions: imps})
			case reachAnonymous:
				res.AnonymousImpressions = imps
			case reachWaste:
				if res.Waste == nil {
					res.Waste = map[int]int64{}
				}
				res.Waste[int(key)] = imps
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("query reach sets: %w", err)
	}
	slices.SortFunc(res.Sets, func(a, b store.ReachSet) int { return cmp.Compare(a.Mask, b.Mask) })
	return res, nil
}

// reachScope resolves q's tenant, campaigns and placements into a scope
// over [q.From, q.To), with the placements' dictionary ids and their
// groups as two lists, sorted by id; ok is false when nothing can match
// (the store has never seen the tenant, any of the campaigns or any of
// the placements, or the range holds no millisecond).
func (db *DB) reachScope(q store.ReachSetQuery) (sc scope, pids []uint32, groups []int32, ok bool) {
	t, ok := db.dict.lookup(string(q.Tenant))
	if !ok {
		return scope{}, nil, nil, false
	}
	names := make([]string, len(q.Campaigns))
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
		tenant: t, campaigns: campaigns, placements: pids,
		ranges: []msRange{rng}, zone: zoneOf(time.UTC, q.From, q.To), materializeAbove: db.materializeAbove,
	}
	return sc, pids, groups, len(campaigns) > 0 && len(pids) > 0 && rng.from < rng.to
}

// reachSetsSQL returns the statement of the reach sets of sc's
// impressions of the traffic filter selects, with the waste above
// wasteAbove when positive, or "" if no partition holds events of the
// range. It takes two list parameters: placement dictionary ids and the
// group of each. Its rows are (kind, key, users, impressions), of the
// row kinds reachSet, reachAnonymous and reachWaste.
func reachSetsSQL(ctx context.Context, tx *sql.Tx, sc scope, filter store.TrafficFilter, wasteAbove int) (string, error) {
	src, err := sc.source(ctx, tx, "kind, impression, placement, ts, received, campaign, user_key, ivt", fmt.Sprint(sqlImpression))
	if err != nil || src.from == "" {
		return "", err
	}
	keys := ""
	if len(sc.campaigns) > 1 {
		keys = ", campaign"
	}
	where := ""
	if filter == store.FilterValid {
		where = "\n\tWHERE ivt = 0"
	}
	// ev: the impressions counted, with their group and, for the waste,
	// their rank among their user's.
	rank, materialized := "", ""
	if wasteAbove > 0 {
		materialized = "MATERIALIZED " // read twice
		rank = ",\n\t\tCASE WHEN user_key IS NOT NULL THEN row_number() OVER (PARTITION BY user_key ORDER BY ts, received) END AS rank"
	}
	with := "WITH "
	if src.with != "" {
		with = strings.TrimSuffix(src.with, "\n") + ",\n"
	}
	query := fmt.Sprintf(`%[1]sev AS %[7]s(
	SELECT user_key, g%[2]s
	FROM (%[3]s) d
	JOIN (SELECT unnest($1::UINTEGER[]) AS pid, unnest($2::INTEGER[]) AS g) groups ON groups.pid = d.placement%[4]s
)
SELECT CASE WHEN user_key IS NULL THEN %[5]d ELSE %[6]d END AS kind, mask AS key, count(*) AS users, sum(n)::BIGINT AS impressions
FROM (SELECT user_key, bit_or(1::UBIGINT << g) AS mask, count(*) AS n FROM ev GROUP BY user_key)
GROUP BY ALL`, with, rank, dedup(src.from, ", user_key, ivt, received", keys), where, reachAnonymous, reachSet, materialized)
	if wasteAbove > 0 {
		query += fmt.Sprintf(`
UNION ALL
SELECT %[1]d, g::UBIGINT, 0, count(*) FROM ev WHERE rank > %[2]d GROUP BY g`, reachWaste, wasteAbove)
	}
	return query, nil
}
