package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/admeter/admeter"
)

// CreateGrant gives g.Grantee access at g.Level to g.Campaign of g.Owner. It
// assigns g.ID ("gr_" and 12 random base32 characters) and g.Created, and
// clears g.Revoked. g.CreatedBy is required.
//
// If the grantee already has a live grant for the campaign, that grant is
// changed to g.Level instead of a second one being made, and *g becomes it:
// its ID, Created and CreatedBy are those of the existing grant.
//
// Returns EINVALID if g is invalid (see admeter.Grant.Validate), if the owner
// is not an advertiser, or if the grantee is not an open agency account
// (an unknown account, a media or an advertiser are refused alike);
// ENOTFOUND if the owner does not exist or the campaign is not the owner's:
// another tenant's campaign cannot be told from a missing one.
func (db *DB) CreateGrant(ctx context.Context, g *admeter.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.CreatedBy == "" {
		return errors.New("create grant: created_by required")
	}
	out := *g
	out.Revoked = time.Time{}
	err := db.update(ctx, func(tx *writeTx) error {
		var ownerKind string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM tenants WHERE id = ?`, string(g.Owner)).Scan(&ownerKind)
		if errors.Is(err, sql.ErrNoRows) {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		} else if err != nil {
			return fmt.Errorf("check owner: %w", err)
		}
		// The campaign comes before the owner's kind and the grantee, so
		// that a foreign campaign is always ENOTFOUND, whatever else.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE id = ? AND tenant_id = ?`,
			string(g.Campaign), string(g.Owner)).Scan(&n); err != nil {
			return fmt.Errorf("check campaign: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", g.Campaign)
		}
		if ownerKind != string(admeter.TenantAdvertiser) {
			return admeter.Errorf(admeter.EINVALID, "Only an advertiser grants access to its campaigns, and this account's kind is %s.", ownerKind)
		}
		var granteeKind, granteeStatus string
		err = tx.QueryRowContext(ctx, `SELECT kind, status FROM tenants WHERE id = ?`, string(g.Grantee)).Scan(&granteeKind, &granteeStatus)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check grantee: %w", err)
		} else if err != nil || granteeKind != string(admeter.TenantAgency) || granteeStatus == string(admeter.TenantClosed) {
			return admeter.Errorf(admeter.EINVALID, "grantee %s is not an open agency account: only agencies receive grants "+
				"(a media sees its own placements without one); check the agency's account ID", g.Grantee)
		}

		existing, err := queryGrants(ctx, tx.Tx, `WHERE grantee_id = ? AND campaign_id = ? AND revoked IS NULL`,
			string(g.Grantee), string(g.Campaign))
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE grants SET level = ? WHERE id = ?`,
				string(g.Level), string(existing[0].ID)); err != nil {
				return fmt.Errorf("update grant: %w", err)
			}
			out = *existing[0]
			out.Level = g.Level
			return nil
		}

		id, err := insertWithRandomID("grant id",
			func() string { return "gr_" + db.randomString(base32Lower, 12) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO grants (id, owner_id, grantee_id, campaign_id, level, created, created_by)
					VALUES (?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, string(g.Owner), string(g.Grantee), string(g.Campaign), string(g.Level),
					formatTime(tx.now), g.CreatedBy)
				if err != nil {
					return false, fmt.Errorf("insert grant: %w", err)
				}
				return insertedOne(res)
			})
		if err != nil {
			return err
		}
		out.ID, out.Created = admeter.GrantID(id), tx.now
		return nil
	})
	if err != nil {
		return wrap("create grant", err)
	}
	*g = out
	return nil
}

// Grants returns the grants tenant gave (as owner) or received (as grantee),
// live and revoked, newest first.
func (db *DB) Grants(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Grant, error) {
	var gs []*admeter.Grant
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		gs, err = queryGrants(ctx, tx, `WHERE owner_id = ? OR grantee_id = ? ORDER BY created DESC, rowid DESC`,
			string(tenant), string(tenant))
		return err
	})
	if err != nil {
		return nil, wrap("list grants", err)
	}
	return gs, nil
}

// RevokeGrant revokes owner's grant id at once: GrantFor and
// GrantedCampaigns no longer find it. Revoking a revoked grant keeps its
// first revocation time. Only the owner revokes; the grantee cannot.
//
// Returns ENOTFOUND if owner gave no such grant.
func (db *DB) RevokeGrant(ctx context.Context, owner admeter.TenantID, id admeter.GrantID) error {
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants WHERE id = ? AND owner_id = ?`,
			string(id), string(owner)).Scan(&n); err != nil {
			return fmt.Errorf("find grant: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Grant %s not found.", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET revoked = ? WHERE id = ? AND revoked IS NULL`,
			formatTime(tx.now), string(id)); err != nil {
			return fmt.Errorf("revoke grant: %w", err)
		}
		return nil
	})
	return wrap("revoke grant", err)
}

// GrantFor returns grantee's live grant for campaign.
//
// Returns ENOTFOUND if there is none: never granted, revoked, or no such
// campaign, which cannot be told apart.
func (db *DB) GrantFor(ctx context.Context, grantee admeter.TenantID, campaign admeter.CampaignID) (*admeter.Grant, error) {
	var gs []*admeter.Grant
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		gs, err = queryGrants(ctx, tx, `WHERE grantee_id = ? AND campaign_id = ? AND revoked IS NULL`,
			string(grantee), string(campaign))
		return err
	})
	if err != nil {
		return nil, wrap("get grant", err)
	} else if len(gs) == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", campaign)
	}
	return gs[0], nil
}

// GrantedCampaigns returns the campaigns grantee has a live grant for, with
// their placements, oldest first. Each campaign's Tenant is its owner.
func (db *DB) GrantedCampaigns(ctx context.Context, grantee admeter.TenantID) ([]*admeter.Campaign, error) {
	var cs []*admeter.Campaign
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, `c.id IN (
			SELECT g.campaign_id FROM grants g
			WHERE g.grantee_id = ? AND g.revoked IS NULL AND g.owner_id = c.tenant_id)`, string(grantee))
		return err
	})
	if err != nil {
		return nil, wrap("list granted campaigns", err)
	}
	return cs, nil
}

// queryGrants returns the grants that where (a constant of this package)
// selects.
func queryGrants(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*admeter.Grant, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT id, owner_id, grantee_id, campaign_id, level, created, created_by, revoked
		FROM grants `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query grants: %w", err)
	}
	defer rows.Close()
	var out []*admeter.Grant
	for rows.Next() {
		var g admeter.Grant
		var created string
		var revoked sql.NullString
		if err := rows.Scan(&g.ID, &g.Owner, &g.Grantee, &g.Campaign, &g.Level, &created, &g.CreatedBy, &revoked); err != nil {
			return nil, fmt.Errorf("scan grant: %w", err)
		}
		if g.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		if g.Revoked, err = parseNullTime(revoked); err != nil {
			return nil, err
		}
		out = append(out, &g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query grants: %w", err)
	}
	return out, nil
}
