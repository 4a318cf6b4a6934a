package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// conversionsSQL returns the SQL of a tenant's conversions in [from, to)
// (Unix milliseconds) that the view counts, deduplicated by conversion
// id: of those sharing one, the first received (then by event time, then
// by the other columns, so that the choice is the same on every run).
// Conversions have no campaign or placement, so the order key's prefix
// (tenant, ”, ”, kind) finds them.
func conversionsSQL(events string, tenant admeter.TenantID, from, to int64, v view) string {
	return fmt.Sprintf(`SELECT conversion_id, conversion_type, ts, received, user_key, user_type, click_id, value, currency FROM %s
	WHERE tenant = %s AND campaign = '' AND placement = '' AND kind = %d AND day >= %d AND day <= %d AND ts >= %d AND ts < %d%s
	ORDER BY received, ts, user_key, click_id, conversion_type, value, currency LIMIT 1 BY conversion_id`,
		events, quote(string(tenant)), sqlConversion, floorDiv(from, msPerDay), floorDiv(to-1, msPerDay), from, to, v.and())
}

// Attribution returns the tenant's deduplicated conversions of
// [q.From, q.To) and the impressions and clicks of [q.From-q.Lookback,
// q.To) of their users, or whose click ids they report, of the traffic
// q.Filter selects (every stored one, each with its own verdict: a
// retried impression is as good a touch as the first). Two statements
// read the same view: the conversions, and the touches, whose users and
// click ids come from the conversions' statement as a GLOBAL IN subquery
// (which a Distributed table needs, and a single server takes too). It returns EINVALID for a malformed query
// (store.CheckAttribution).
func (db *DB) Attribution(ctx context.Context, q store.AttributionQuery) (*store.AttributionData, error) {
	if err := store.CheckAttribution(q); err != nil {
		return nil, err
	}
	v, err := db.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("query attribution: %w", err)
	}
	from, to := ceilMillis(q.From), ceilMillis(q.To)
	conv := conversionsSQL(db.events, q.Tenant, from, to, v)
	out := &store.AttributionData{}
	rows, err := db.conn.Query(ctx, "SELECT * FROM ("+conv+") ORDER BY ts, received, conversion_id")
	if err != nil {
		return nil, fmt.Errorf("query conversions: %w", err)
	}
	for rows.Next() {
		var c store.Conversion
		var ts, received int64
		var userType uint8
		if err := rows.Scan((*[16]byte)(&c.ID), &c.Type, &ts, &received, (*[16]byte)(&c.User), &userType, (*[16]byte)(&c.ClickID), &c.Value, &c.Currency); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read conversions: %w", err)
		}
		c.At, c.Received, c.UserType = time.UnixMilli(ts).UTC(), time.UnixMilli(received).UTC(), admeter.IDType(userType)
		out.Conversions = append(out.Conversions, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("read conversions: %w", err)
	}
	if len(out.Conversions) == 0 {
		return out, nil
	}

	tfrom := max(from-q.Lookback.Milliseconds(), 0)
	filter := ""
	if q.Filter == store.FilterValid {
		filter = " AND ivt = 0"
	}
	touches := fmt.Sprintf(`SELECT kind, campaign, placement, ts, user_key, click_id, os, device, %[1]s, ivt FROM %[2]s
WHERE tenant = %[3]s AND kind IN (%[4]d, %[5]d) AND day >= %[6]d AND day <= %[7]d AND ts >= %[8]d AND ts < %[9]d%[10]s%[11]s
	AND (user_key != %[12]s AND user_key GLOBAL IN (SELECT user_key FROM (%[13]s))
		OR kind = %[5]d AND click_id != %[12]s AND click_id GLOBAL IN (SELECT click_id FROM (%[13]s)))
ORDER BY ts, received, kind, campaign, placement, user_key`,
		regionSQL, db.events, quote(string(q.Tenant)), sqlImpression, sqlClick, floorDiv(tfrom, msPerDay), floorDiv(to-1, msPerDay), tfrom, to, v.and(), filter, noKey, conv)
	rows, err = db.conn.Query(ctx, touches)
	if err != nil {
		return nil, fmt.Errorf("query touches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t store.Touch
		var kind, os, device uint8
		var ts int64
		var ivt uint32
		var campaign, placement string
		if err := rows.Scan(&kind, &campaign, &placement, &ts, (*[16]byte)(&t.User), (*[16]byte)(&t.ClickID), &os, &device, &t.Region, &ivt); err != nil {
			return nil, fmt.Errorf("read touches: %w", err)
		}
		t.Kind, t.Campaign, t.Placement, t.At = admeter.Kind(kind), admeter.CampaignID(campaign), admeter.PlacementID(placement), time.UnixMilli(ts).UTC()
		t.OS, t.Device, t.IVT = admeter.OS(os), admeter.DeviceType(device), admeter.IVT(ivt)
		out.Touches = append(out.Touches, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read touches: %w", err)
	}
	return out, nil
}
