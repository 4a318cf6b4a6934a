package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/admeter/admeter"
)

// AudienceRelease returns the record of the campaign's audience release
// filed under key. Returns ENOTFOUND if there is none (or the campaign is
// not the tenant's).
func (db *DB) AudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string) ([]byte, error) {
	var rec string
	err := db.read.QueryRowContext(ctx, `SELECT record FROM audience_releases WHERE campaign_id = ? AND tenant_id = ? AND release_key = ?`,
		string(campaign), string(tenant), key).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "No audience release of campaign %s under this key.", campaign)
	} else if err != nil {
		return nil, fmt.Errorf("read audience release: %w", err)
	}
	return []byte(rec), nil
}

// AudienceReleases returns the records of the campaign's audience releases
// whose range overlaps [from, to), oldest first.
func (db *DB) AudienceReleases(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, from, to time.Time) ([][]byte, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT record FROM audience_releases
		WHERE campaign_id = ? AND tenant_id = ? AND range_from < ? AND range_to > ?
		ORDER BY created, release_key`, string(campaign), string(tenant), formatTime(to), formatTime(from))
	if err != nil {
		return nil, fmt.Errorf("list audience releases: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, fmt.Errorf("list audience releases: %w", err)
		}
		out = append(out, []byte(rec))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audience releases: %w", err)
	}
	return out, nil
}

// AudienceBudgetSpent returns the epsilon, in thousandths, charged to the
// campaign's audience releases.
func (db *DB) AudienceBudgetSpent(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID) (int64, error) {
	var spent int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(epsilon_milli), 0) FROM audience_releases WHERE campaign_id = ? AND tenant_id = ?`,
		string(campaign), string(tenant)).Scan(&spent); err != nil {
		return 0, fmt.Errorf("read audience budget: %w", err)
	}
	return spent, nil
}

// RecordAudienceRelease files an audience release of the campaign under
// key, covering [from, to), and charges epsilonMilli to the campaign's
// budget, in one transaction. If a release is already filed under key it
// returns that record and charges nothing. Returns ECONFLICT, filing
// nothing, if the campaign's charges would exceed budgetMilli; ENOTFOUND if
// the campaign is not the tenant's; EINVALID for a negative charge, an
// empty range or a record that is not JSON.
//
// Releases do not change the catalog, so they leave the change counter
// alone.
func (db *DB) RecordAudienceRelease(ctx context.Context, tenant admeter.TenantID, campaign admeter.CampaignID, key string,
	from, to time.Time, epsilonMilli, budgetMilli int64, record []byte) ([]byte, error) {
	if epsilonMilli < 0 || key == "" || !from.Before(to) {
		return nil, admeter.Errorf(admeter.EINVALID, "an audience release needs a key, a range and a charge of at least 0")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("record audience release: begin: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE id = ? AND tenant_id = ?`, string(campaign), string(tenant)).Scan(&n); err != nil {
		return nil, fmt.Errorf("record audience release: check campaign: %w", err)
	} else if n == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", campaign)
	}
	var existing string
	err = tx.QueryRowContext(ctx, `SELECT record FROM audience_releases WHERE campaign_id = ? AND release_key = ?`, string(campaign), key).Scan(&existing)
	if err == nil {
		return []byte(existing), nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("record audience release: %w", err)
	}
	var spent int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(epsilon_milli), 0) FROM audience_releases WHERE campaign_id = ?`,
		string(campaign)).Scan(&spent); err != nil {
		return nil, fmt.Errorf("record audience release: read budget: %w", err)
	}
	if spent+epsilonMilli > budgetMilli {
		return nil, admeter.Errorf(admeter.ECONFLICT, "The privacy budget of campaign %s is spent.", campaign)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audience_releases
		(campaign_id, tenant_id, release_key, range_from, range_to, epsilon_milli, record, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		string(campaign), string(tenant), key, formatTime(from), formatTime(to), epsilonMilli, string(record), formatTime(db.Now())); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		return nil, admeter.Errorf(admeter.EINVALID, "the audience release cannot be filed (is the record JSON?): %v", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("record audience release: commit: %w", err)
	}
	return record, nil
}
