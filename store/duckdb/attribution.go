package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// conversionCols are the columns of a conversion Attribution reads.
const conversionCols = "conversion, conversion_type, ts, received, user_key, user_type, click_id, value, currency"

// touchCols are the columns of a touch Attribution reads.
const touchCols = "kind, campaign, placement, ts, received, user_key, click_id, os, device, country, province, ivt"

// Attribution returns the conversions of q.Tenant in [q.From, q.To),
// deduplicated by conversion id (the first received), and the tenant's
// impressions and clicks of the traffic q.Filter selects in
// [q.From-q.Lookback, q.To) of the users who have one of them, or
// carrying a click id one of them reports. Both are statements over the
// UNION ALL of the partitions of their ranges, filtered by tenant and
// kind; the touches are found with semi-joins against the deduplicated
// conversions. It returns EINVALID for a malformed query
// (store.CheckAttribution).
func (db *DB) Attribution(ctx context.Context, q store.AttributionQuery) (*store.AttributionData, error) {
	if err := store.CheckAttribution(q); err != nil {
		return nil, err
	}
	res := &store.AttributionData{}
	t, ok := db.dict.lookup(string(q.Tenant))
	if !ok {
		return res, nil
	}
	convRange := msRange{ceilMillis(q.From), ceilMillis(q.To)}
	touchRange := msRange{ceilMillis(q.From.Add(-q.Lookback)), convRange.to}
	var convs []storedConversion
	var touches []storedTouch
	err := db.read(ctx, func(tx *sql.Tx) error {
		first, _ := touchRange.utcDays()
		_, last := convRange.utcDays()
		days, err := partitionDays(ctx, tx, first, last)
		if err != nil {
			return err
		}
		convSrc, n := source(days, []msRange{convRange}, conversionCols, fmt.Sprintf("tenant = %d AND kind = %d", t, sqlConversion))
		if n == 0 {
			return nil
		}
		conv := fmt.Sprintf("SELECT * FROM (%s)\nQUALIFY row_number() OVER (PARTITION BY conversion ORDER BY received, ts) = 1", convSrc)
		rows, err := tx.QueryContext(ctx, conv+"\nORDER BY ts, received")
		if err != nil {
			return err
		}
		for rows.Next() {
			var c storedConversion
			if err := rows.Scan(&c.id, &c.typ, &c.ts, &c.received, &c.user, &c.userType, &c.clickID, &c.value, &c.currency); err != nil {
				rows.Close()
				return err
			}
			convs = append(convs, c)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(convs) == 0 {
			return err
		}

		where := fmt.Sprintf("tenant = %d AND kind IN (%d, %d)", t, sqlImpression, sqlClick)
		if q.Filter == store.FilterValid {
			where += " AND ivt = 0"
		}
		touchSrc, _ := source(days, []msRange{touchRange}, touchCols, where)
		rows, err = tx.QueryContext(ctx, fmt.Sprintf(`WITH conv AS (%s)
SELECT kind, campaign, placement, ts, user_key, click_id, os, device, %s, ivt FROM (%s)
WHERE user_key IN (SELECT user_key FROM conv WHERE user_key IS NOT NULL)
	OR kind = %d AND click_id IN (SELECT click_id FROM conv WHERE click_id IS NOT NULL)
ORDER BY ts, received, kind, campaign, placement`, conv, db.regionExpr(), touchSrc, sqlClick))
		if err != nil {
			return err
		}
		for rows.Next() {
			var tc storedTouch
			if err := rows.Scan(&tc.kind, &tc.campaign, &tc.placement, &tc.ts, &tc.user, &tc.clickID, &tc.os, &tc.device, &tc.region, &tc.ivt); err != nil {
				rows.Close()
				return err
			}
			touches = append(touches, tc)
		}
		return errors.Join(rows.Err(), rows.Close())
	})
	if err != nil {
		return nil, fmt.Errorf("query attribution data: %w", err)
	}

	// Label the dictionary ids in one pass.
	ids := make([]uint32, 0, 2*len(convs)+3*len(touches))
	for _, c := range convs {
		ids = append(ids, c.typ, c.currency)
	}
	for _, tc := range touches {
		ids = append(ids, tc.campaign, tc.placement, tc.region)
	}
	strs := db.dict.labels(ids)
	for _, c := range convs {
		out := store.Conversion{Type: strs[0], Currency: strs[1], At: time.UnixMilli(c.ts).UTC(), Received: time.UnixMilli(c.received).UTC(),
			UserType: admeter.IDType(c.userType), Value: c.value}
		strs = strs[2:]
		copy(out.ID[:], c.id)
		copy(out.User[:], c.user)
		copy(out.ClickID[:], c.clickID)
		res.Conversions = append(res.Conversions, out)
	}
	for _, tc := range touches {
		out := store.Touch{Kind: admeter.Kind(tc.kind), Campaign: admeter.CampaignID(strs[0]), Placement: admeter.PlacementID(strs[1]),
			Region: strs[2], At: time.UnixMilli(tc.ts).UTC(), OS: admeter.OS(tc.os), Device: admeter.DeviceType(tc.device), IVT: admeter.IVT(tc.ivt)}
		strs = strs[3:]
		copy(out.User[:], tc.user)
		copy(out.ClickID[:], tc.clickID)
		res.Touches = append(res.Touches, out)
	}
	return res, nil
}

// storedConversion is a row of conversionCols; typ and currency are
// dictionary ids.
type storedConversion struct {
	id, user, clickID []byte
	typ, currency     uint32
	ts, received      int64
	userType          uint8
	value             int64
}

// storedTouch is a touch as read: campaign, placement and region are
// dictionary ids.
type storedTouch struct {
	kind, os, device            uint8
	campaign, placement, region uint32
	ts                          int64
	user, clickID               []byte
	ivt                         uint32
}
