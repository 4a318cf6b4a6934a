package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// SocialSettings returns the tenant's social insight settings: empty
// settings if it has saved none.
func (db *DB) SocialSettings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error) {
	var doc []byte
	var updated time.Time
	err := db.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT settings::text, updated FROM social_settings WHERE tenant_id = $1`, string(tenant)).Scan(&doc, &updated)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return &admeter.SocialSettings{Tenant: tenant}, nil
	} else if err != nil {
		return nil, wrap("read social settings", err)
	}
	s := &admeter.SocialSettings{}
	if err := json.Unmarshal(doc, s); err != nil {
		return nil, wrap("read social settings", err)
	}
	s.Tenant, s.Updated = tenant, updated.UTC()
	return s, nil
}

// SetSocialSettings replaces the tenant's social insight settings and sets
// s.Updated. Returns EINVALID for settings that do not validate and
// ENOTFOUND for an unknown tenant.
func (db *DB) SetSocialSettings(ctx context.Context, s *admeter.SocialSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM tenants WHERE id = $1`, string(s.Tenant)).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		}
		s.Updated = tx.now
		doc, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO social_settings (tenant_id, settings, updated) VALUES ($1, $2::jsonb, $3)
			ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated = excluded.updated`,
			string(s.Tenant), string(doc), tx.now)
		return err
	})
	return wrap("save social settings", err)
}
