package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/admeter/admeter"
)

// recentDays is how many of the latest day partitions RecentEvents reads.
const recentDays = 3

// RecentEvents returns the latest events of a campaign by receive time,
// newest first, at most limit, from the last few day partitions: the live
// check that shows a trafficker a placement's code works. It is not a
// report (an event whose client time is days old is not looked for).
func (db *DB) RecentEvents(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, limit int) ([]admeter.Event, error) {
	if tenant == "" || campaign == "" || limit < 1 {
		return nil, invalid("recent events need a tenant, a campaign and a limit of at least 1")
	}
	t, ok1 := db.dict.lookup(string(tenant))
	c, ok2 := db.dict.lookup(string(campaign))
	if !ok1 || !ok2 {
		return nil, nil
	}
	var found []storedEvent
	err := db.read(ctx, func(tx *sql.Tx) error {
		days, err := partitionDays(ctx, tx)
		if err != nil || len(days) == 0 {
			return err
		}
		if len(days) > recentDays {
			days = days[len(days)-recentDays:]
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT * FROM (%s)\nORDER BY received DESC, ts DESC LIMIT %d",
			unionAll(days, userEventCols, fmt.Sprintf("tenant = %d AND campaign = %d", t, c), false), limit))
		if err != nil {
			return err
		}
		for rows.Next() {
			var r storedEvent
			if err := rows.Scan(r.dest()...); err != nil {
				rows.Close()
				return err
			}
			found = append(found, r)
		}
		return errors.Join(rows.Err(), rows.Close())
	})
	if err != nil {
		return nil, fmt.Errorf("read recent events: %w", err)
	}
	return db.events(tenant, found), nil
}
