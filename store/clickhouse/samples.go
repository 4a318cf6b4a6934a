package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// maxExamples is the most example users InvalidSamples gives per reason.
const maxExamples = 20

// InvalidSamples returns each reason's invalid events of a campaign (or some
// of its placements) in [q.From, q.To), deduplicated as reports are, with
// up to q.Examples example users per reason, those with the most flagged
// events first. Two statements: the totals per reason, and the examples
// per reason with ORDER BY … LIMIT n BY reason.
func (db *DB) InvalidSamples(ctx context.Context, q store.SampleQuery) ([]store.ReasonSample, error) {
	switch {
	case q.Tenant == "" || q.Campaign == "":
		return nil, invalid("invalid-traffic samples need a tenant and a campaign")
	case q.Examples < 0 || q.Examples > maxExamples:
		return nil, invalid("examples must be between 0 and %d, not %d", maxExamples, q.Examples)
	case !q.From.Before(q.To):
		return nil, invalid("the range must not be empty: %s is not before %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	sc, err := db.newScope(ctx, q.Tenant, q.Campaign, q.Placements, q.From, q.To, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("invalid-traffic samples of campaign %s: %w", q.Campaign, err)
	}
	r := fmt.Sprintf("SELECT arrayJoin(%s) AS reason, kind, placement, ts, user_key FROM (%s) WHERE ivt != 0",
		reasonList, sc.dedup(sc.where(fmt.Sprintf("%d, %d", sqlImpression, sqlClick)), "", ""))
	out := []store.ReasonSample{}
	rows, err := db.conn.Query(ctx, fmt.Sprintf(`SELECT reason, toInt64(countIf(kind = %d)) AS imps, toInt64(countIf(kind = %d)) AS clicks,
	toInt64(uniqExactIf(user_key, user_key != %s))
FROM (%s) GROUP BY reason ORDER BY imps + clicks DESC, reason`, sqlImpression, sqlClick, noKey, r))
	if err != nil {
		return nil, fmt.Errorf("invalid-traffic samples of campaign %s: %w", q.Campaign, err)
	}
	index := map[admeter.IVT]int{}
	for rows.Next() {
		var reason uint32
		var s store.ReasonSample
		if err := rows.Scan(&reason, &s.Impressions, &s.Clicks, &s.Users); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read invalid-traffic samples: %w", err)
		}
		s.Reason = admeter.IVT(reason)
		s.Examples = []store.UserSample{}
		index[s.Reason] = len(out)
		out = append(out, s)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("read invalid-traffic samples: %w", err)
	}
	if q.Examples == 0 || len(out) == 0 {
		return out, nil
	}
	rows, err = db.conn.Query(ctx, fmt.Sprintf(`SELECT reason, user_key, placement, toInt64(countIf(kind = %d)) AS imps, toInt64(countIf(kind = %d)) AS clicks, min(ts), max(ts)
FROM (%s) WHERE user_key != %s
GROUP BY reason, user_key, placement
ORDER BY reason, imps + clicks DESC, user_key, placement
LIMIT %d BY reason`, sqlImpression, sqlClick, r, noKey, q.Examples))
	if err != nil {
		return nil, fmt.Errorf("invalid-traffic examples of campaign %s: %w", q.Campaign, err)
	}
	defer rows.Close()
	for rows.Next() {
		var reason uint32
		var e store.UserSample
		var placement string
		var first, last int64
		if err := rows.Scan(&reason, (*[16]byte)(&e.User), &placement, &e.Impressions, &e.Clicks, &first, &last); err != nil {
			return nil, fmt.Errorf("read invalid-traffic examples: %w", err)
		}
		i, ok := index[admeter.IVT(reason)]
		if !ok {
			continue
		}
		e.Placement, e.First, e.Last = admeter.PlacementID(placement), time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out[i].Examples = append(out[i].Examples, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read invalid-traffic examples: %w", err)
	}
	slices.SortStableFunc(out, func(a, b store.ReasonSample) int {
		return int((b.Impressions + b.Clicks) - (a.Impressions + a.Clicks))
	})
	return out, nil
}
