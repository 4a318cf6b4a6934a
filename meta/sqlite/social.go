package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/admeter/admeter"
)

// SocialSettings returns the tenant's social insight settings: empty
// settings if it has saved none.
func (db *DB) SocialSettings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error) {
	var doc, updated string
	err := db.read.QueryRowContext(ctx, `SELECT settings, updated FROM social_settings WHERE tenant_id = ?`, string(tenant)).Scan(&doc, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return &admeter.SocialSettings{Tenant: tenant}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read social settings: %w", err)
	}
	s := &admeter.SocialSettings{}
	if err := json.Unmarshal([]byte(doc), s); err != nil {
		return nil, fmt.Errorf("read social settings: %w", err)
	}
	if s.Updated, err = parseTime(updated); err != nil {
		return nil, fmt.Errorf("read social settings: %w", err)
	}
	s.Tenant = tenant
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
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE id = ?`, string(s.Tenant)).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		}
		s.Updated = tx.now
		doc, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO social_settings (tenant_id, settings, updated) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated = excluded.updated`,
			string(s.Tenant), string(doc), formatTime(tx.now))
		return err
	})
	return wrap("save social settings", err)
}
