package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// AudienceRelease returns the record of the campaign's audience release
// filed under key. Returns ENOTFOUND if there is none (or the campaign is
// not the tenant's).
func (db *DB) AudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string) ([]byte, error) {
	var rec string
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT record FROM audience_releases WHERE campaign_id = $1 AND tenant_id = $2 AND release_key = $3`,
			string(campaign), string(tenant), key).Scan(&rec)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "No audience release of campaign %s under this key.", campaign)
	} else if err != nil {
		return nil, wrap("read audience release", err)
	}
	return []byte(rec), nil
}

// AudienceReleases returns the records of the campaign's audience releases
// whose range overlaps [from, to), oldest first.
func (db *DB) AudienceReleases(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) ([][]byte, error) {
	var out [][]byte
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT record FROM audience_releases
			WHERE campaign_id = $1 AND tenant_id = $2 AND range_from < $3 AND range_to > $4
			ORDER BY created, release_key`, string(campaign), string(tenant), ts(to), ts(from))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rec string
			if err := rows.Scan(&rec); err != nil {
				return err
			}
			out = append(out, []byte(rec))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list audience releases", err)
	}
	return out, nil
}

// AudienceBudgetSpent returns the epsilon, in thousandths, charged to the
// campaign's audience releases.
func (db *DB) AudienceBudgetSpent(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID) (int64, error) {
	var spent int64
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT COALESCE(SUM(epsilon_milli), 0)::bigint FROM audience_releases WHERE campaign_id = $1 AND tenant_id = $2`,
			string(campaign), string(tenant)).Scan(&spent)
	})
	if err != nil {
		return 0, wrap("read audience budget", err)
	}
	return spent, nil
}

// RecordAudienceRelease files an audience release of the campaign under
// key, covering [from, to), and charges epsilonMilli to the campaign's
// budget, in one transaction that holds the campaign's row lock, so that
// the releases of every admeter process are charged one after another. If
// a release is already filed under key it returns that record and charges
// nothing. Returns ECONFLICT, filing nothing, if the campaign's charges
// would exceed budgetMilli; ENOTFOUND if the campaign is not the tenant's;
// EINVALID for a negative charge or an empty range.
//
// Releases do not change the catalog, so they leave the change counter
// alone.
func (db *DB) RecordAudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string,
	from, to time.Time, epsilonMilli, budgetMilli int64, record []byte) ([]byte, error) {
	if epsilonMilli < 0 || key == "" || !from.Before(to) {
		return nil, admeter.Errorf(admeter.EINVALID, "an audience release needs a key, a range and a charge of at least 0")
	}
	var out []byte
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM campaigns WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, string(campaign), string(tenant)).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", campaign)
		} else if err != nil {
			return fmt.Errorf("lock campaign: %w", err)
		}
		var existing string
		err = tx.QueryRow(ctx, `SELECT record FROM audience_releases WHERE campaign_id = $1 AND release_key = $2`, string(campaign), key).Scan(&existing)
		if err == nil {
			out = []byte(existing)
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var spent int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(epsilon_milli), 0)::bigint FROM audience_releases WHERE campaign_id = $1`,
			string(campaign)).Scan(&spent); err != nil {
			return fmt.Errorf("read budget: %w", err)
		}
		if spent+epsilonMilli > budgetMilli {
			return admeter.Errorf(admeter.ECONFLICT, "The privacy budget of campaign %s is spent.", campaign)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audience_releases
			(campaign_id, tenant_id, release_key, range_from, range_to, epsilon_milli, record, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			string(campaign), string(tenant), key, ts(from), ts(to), epsilonMilli, string(record), ts(db.Now())); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		out = record
		return nil
	})
	if err != nil {
		return nil, wrap("record audience release", err)
	}
	return out, nil
}
