package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// Audience dimension codes in the rows of audienceSQL.
const (
	audTotal = iota
	audInterest
	audRegion
	audOS
	audDevice
)

// audienceDims are the names of the audience dimension codes.
var audienceDims = [...]string{
	audInterest: store.AudienceInterest,
	audRegion:   store.AudienceRegion,
	audOS:       store.AudienceOS,
	audDevice:   store.AudienceDevice,
}

// Audience returns the reached audience of q's campaign and the platform
// baseline in [q.From, q.To), as exact user counts (store.AudienceQuery).
// One statement reads the valid impressions with a user of the range,
// every tenant's, into one row per user: whether the campaign (of
// q.Placements, when it names some) reached it, and the region, OS and
// device of its latest impression of the platform and of the campaign,
// packed into one integer. The interests are counted over the valid
// impressions with a user of [q.From-q.InterestLookback, q.To) on the
// placements of q.Categories, passed as two list parameters (placement
// dictionary id, category index) so the statement stays short however
// many placements there are; category indexes follow the category ids'
// order, so ordering by index is ordering by id. Impression ids are not
// deduplicated: a retry names the same user. It returns EINVALID for a
// malformed query (store.CheckAudience).
func (db *DB) Audience(ctx context.Context, q store.AudienceQuery) (*store.AudienceResult, error) {
	if err := store.CheckAudience(q); err != nil {
		return nil, err
	}
	res := &store.AudienceResult{}
	rng := msRange{ceilMillis(q.From), ceilMillis(q.To)}
	if rng.from >= rng.to {
		return res, nil
	}
	cats, pids, idxs := db.audienceCategories(q.Categories)
	var rows []audienceRow
	err := db.read(ctx, func(tx *sql.Tx) error {
		query, err := db.audienceSQL(ctx, tx, q, rng, len(pids) > 0)
		if err != nil || query == "" {
			return err
		}
		var args []any
		if len(pids) > 0 {
			args = []any{pids, idxs}
		}
		r, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var row audienceRow
			if err := r.Scan(&row.dim, &row.value, &row.users, &row.baseline); err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return r.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("query audience: %w", err)
	}
	db.audienceCells(rows, cats, res)
	return res, nil
}

// audienceRow is a row of audienceSQL: a dimension code, a value (a
// category index, a region dictionary id, an OS or a device type), and
// the users of the campaign and of the baseline with it. The row of
// audTotal holds Reach and Baseline.
type audienceRow struct {
	dim             int
	value           int64
	users, baseline int64
}

// audienceCategories returns the distinct categories of cats in order, and
// the pairs of (placement dictionary id, category index) of the placements
// the store has seen, sorted and without repeats, as two lists.
func (db *DB) audienceCategories(cats map[admeter.PlacementID][]string) (names []string, pids []uint32, idxs []int32) {
	for _, cs := range cats {
		names = append(names, cs...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	type pair struct {
		pid uint32
		idx int32
	}
	var pairs []pair
	for p, cs := range cats {
		id, ok := db.dict.lookup(string(p))
		if !ok {
			continue // no event names it
		}
		for _, c := range cs {
			i, _ := slices.BinarySearch(names, c)
			pairs = append(pairs, pair{id, int32(i)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Or(cmp.Compare(a.pid, b.pid), cmp.Compare(a.idx, b.idx)) })
	pairs = slices.Compact(pairs)
	for _, p := range pairs {
		pids, idxs = append(pids, p.pid), append(idxs, p.idx)
	}
	return names, pids, idxs
}

// audienceSQL returns the statement of q's audience over rng, or "" if no
// partition holds events of the range. With interests, it takes two list
// parameters: placement dictionary ids and the category index of each.
func (db *DB) audienceSQL(ctx context.Context, tx *sql.Tx, q store.AudienceQuery, rng msRange, interests bool) (string, error) {
	look := msRange{ceilMillis(q.From.Add(-q.InterestLookback)), rng.to}
	first, _ := look.utcDays()
	_, last := rng.utcDays()
	days, err := partitionDays(ctx, tx, first, last)
	if err != nil {
		return "", err
	}
	// mine: the impression is the campaign's (of its placements).
	mine := "false"
	if sc, ok := db.newScope(q.Tenant, q.Campaign, q.Placements, q.From, q.To, time.UTC); ok {
		mine = fmt.Sprintf("tenant = %d AND %s%s", sc.tenant, sc.campaignCond(), sc.placementCond())
	}
	valid := fmt.Sprintf("kind = %d AND ivt = 0 AND user_key IS NOT NULL", sqlImpression)
	// v packs region (a dictionary id), OS and device into one integer.
	cols := fmt.Sprintf("user_key, %s AS mine, ts, received, ((%s)::BIGINT << 16) | (os::BIGINT << 8) | device AS v", mine, db.regionExpr())
	src, n := source(days, []msRange{rng}, cols, valid)
	if n == 0 {
		return "", nil
	}
	// One row per user of the baseline: whether the campaign reached it,
	// and v of its latest impression (by event time, then receive time,
	// then the greatest v) of the platform (b) and of the campaign (c).
	with := fmt.Sprintf(`WITH users AS MATERIALIZED (
	SELECT user_key, bool_or(mine) AS mine, arg_max(v, (ts, received, v)) AS b, arg_max(v, (ts, received, v)) FILTER (WHERE mine) AS c
	FROM (%s)
	GROUP BY user_key
)`, src)
	interest := ""
	if interests {
		// The lookback range holds the range, so it has partitions.
		isrc, _ := source(days, []msRange{look}, "user_key, placement, ts", valid)
		with += fmt.Sprintf(`,
cats AS (SELECT unnest($1::UINTEGER[]) AS pid, unnest($2::INTEGER[]) AS cat),
held AS (
	SELECT user_key, cat, count(DISTINCT ts // %[1]d) AS days
	FROM (%[2]s) ev JOIN cats ON cats.pid = ev.placement
	GROUP BY user_key, cat
	HAVING days >= %[3]d
),
interests AS (
	SELECT held.user_key, cat, users.mine FROM held JOIN users USING (user_key)
	QUALIFY row_number() OVER (PARTITION BY held.user_key ORDER BY days DESC, cat) <= %[4]d
)`, msPerDay, isrc, q.InterestDays, q.MaxInterests)
		interest = fmt.Sprintf("\nUNION ALL\nSELECT %d, cat, count(*) FILTER (WHERE mine), count(*) FROM interests GROUP BY cat", audInterest)
	}
	return fmt.Sprintf(`%[1]s
SELECT %[2]d AS dim, 0::BIGINT AS value, count(*) FILTER (WHERE mine) AS users, count(*) AS baseline FROM users%[3]s
UNION ALL
SELECT dim, value, count(*) FILTER (WHERE w), count(*) FILTER (WHERE NOT w)
FROM (
	SELECT w, unnest([%[4]d, %[5]d, %[6]d]) AS dim, unnest([v >> 16, (v >> 8) & 255, v & 255]) AS value
	FROM (SELECT b AS v, false AS w FROM users UNION ALL SELECT c, true FROM users WHERE mine)
)
GROUP BY dim, value`, with, audTotal, interest, audRegion, audOS, audDevice), nil
}

// audienceCells labels the rows of audienceSQL into res: cells sorted by
// dimension then value, merging values that label alike.
func (db *DB) audienceCells(rows []audienceRow, cats []string, res *store.AudienceResult) {
	var ids []uint32
	for _, r := range rows {
		if r.dim == audRegion {
			ids = append(ids, uint32(r.value))
		}
	}
	regions := db.dict.labels(ids)
	index := map[[2]string]int{}
	for _, r := range rows {
		var v string
		switch r.dim {
		case audTotal:
			res.Reach, res.Baseline = r.users, r.baseline
			continue
		case audInterest:
			if r.value < 0 || int(r.value) >= len(cats) {
				continue
			}
			v = cats[r.value]
		case audRegion:
			v, regions = regions[0], regions[1:]
		case audOS:
			v = admeter.OS(r.value).String()
		case audDevice:
			v = admeter.DeviceType(r.value).String()
		default:
			continue
		}
		k := [2]string{audienceDims[r.dim], v}
		if i, ok := index[k]; ok {
			res.Cells[i].Users += r.users
			res.Cells[i].BaselineUsers += r.baseline
			continue
		}
		index[k] = len(res.Cells)
		res.Cells = append(res.Cells, store.AudienceCell{Dimension: k[0], Value: k[1], Users: r.users, BaselineUsers: r.baseline})
	}
	slices.SortFunc(res.Cells, func(a, b store.AudienceCell) int {
		return cmp.Or(cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value))
	})
}
