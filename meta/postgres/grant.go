package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
)

// CreateGrant gives g.Grantee access at g.Level to g.Campaign of g.Owner. It
// assigns g.ID ("gr_" and 12 random base32 characters) and g.Created, and
// clears g.Revoked. g.CreatedBy is required.
//
// If the grantee already has a live grant for the campaign, that grant is
// changed to g.Level instead of a second one being made, and *g becomes it.
//
// Returns EINVALID if g is invalid, if the owner is not an advertiser, or if
// the grantee is not an open agency account; ENOTFOUND if the owner does not
// exist or the campaign is not the owner's.
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
		err := tx.QueryRow(ctx, `SELECT kind FROM tenants WHERE id = $1`, string(g.Owner)).Scan(&ownerKind)
		if errors.Is(err, pgx.ErrNoRows) {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		} else if err != nil {
			return fmt.Errorf("check owner: %w", err)
		}
		// The campaign comes before the owner's kind and the grantee, so
		// that a foreign campaign is always ENOTFOUND, whatever else.
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM campaigns WHERE id = $1 AND tenant_id = $2`,
			string(g.Campaign), string(g.Owner)).Scan(&n); err != nil {
			return fmt.Errorf("check campaign: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", g.Campaign)
		}
		if ownerKind != string(admeter.TenantAdvertiser) {
			return admeter.Errorf(admeter.EINVALID, "Only an advertiser grants access to its campaigns, and this account's kind is %s.", ownerKind)
		}
		var granteeKind, granteeStatus string
		err = tx.QueryRow(ctx, `SELECT kind, status FROM tenants WHERE id = $1`, string(g.Grantee)).Scan(&granteeKind, &granteeStatus)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("check grantee: %w", err)
		} else if err != nil || granteeKind != string(admeter.TenantAgency) || granteeStatus == string(admeter.TenantClosed) {
			return admeter.Errorf(admeter.EINVALID, "grantee %s is not an open agency account: only agencies receive grants "+
				"(a media sees its own placements without one); check the agency's account ID", g.Grantee)
		}

		existing, err := queryGrants(ctx, tx, `WHERE grantee_id = $1 AND campaign_id = $2 AND revoked IS NULL`,
			string(g.Grantee), string(g.Campaign))
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE grants SET level = $1 WHERE id = $2`,
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
				ok, err := execOne(ctx, tx, `
					INSERT INTO grants (id, owner_id, grantee_id, campaign_id, level, created, created_by)
					VALUES ($1, $2, $3, $4, $5, $6, $7)
					ON CONFLICT (id) DO NOTHING`,
					id, string(g.Owner), string(g.Grantee), string(g.Campaign), string(g.Level), tx.now, g.CreatedBy)
				if err != nil {
					return false, fmt.Errorf("insert grant: %w", err)
				}
				return ok, nil
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
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		gs, err = queryGrants(ctx, tx, `WHERE owner_id = $1 OR grantee_id = $1 ORDER BY created DESC, seq DESC`, string(tenant))
		return err
	})
	if err != nil {
		return nil, wrap("list grants", err)
	}
	return gs, nil
}

// RevokeGrant revokes owner's grant id at once. Revoking a revoked grant
// keeps its first revocation time. Only the owner revokes.
//
// Returns ENOTFOUND if owner gave no such grant.
func (db *DB) RevokeGrant(ctx context.Context, owner admeter.TenantID, id admeter.GrantID) error {
	err := db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM grants WHERE id = $1 AND owner_id = $2`,
			string(id), string(owner)).Scan(&n); err != nil {
			return fmt.Errorf("find grant: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Grant %s not found.", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE grants SET revoked = $1 WHERE id = $2 AND revoked IS NULL`,
			tx.now, string(id)); err != nil {
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
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		gs, err = queryGrants(ctx, tx, `WHERE grantee_id = $1 AND campaign_id = $2 AND revoked IS NULL`,
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
	err := db.view(ctx, func(tx pgx.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, `c.id IN (
			SELECT g.campaign_id FROM grants g
			WHERE g.grantee_id = $1 AND g.revoked IS NULL AND g.owner_id = c.tenant_id)`, string(grantee))
		return err
	})
	if err != nil {
		return nil, wrap("list granted campaigns", err)
	}
	return cs, nil
}

// queryGrants returns the grants that where (a constant of this package)
// selects.
func queryGrants(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]*admeter.Grant, error) {
	rows, err := tx.Query(ctx, `
		SELECT id, owner_id, grantee_id, campaign_id, level, created, created_by, revoked
		FROM grants `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query grants: %w", err)
	}
	defer rows.Close()
	var out []*admeter.Grant
	for rows.Next() {
		var g admeter.Grant
		var revoked *time.Time
		if err := rows.Scan(&g.ID, &g.Owner, &g.Grantee, &g.Campaign, &g.Level, &g.Created, &g.CreatedBy, &revoked); err != nil {
			return nil, fmt.Errorf("scan grant: %w", err)
		}
		g.Created, g.Revoked = g.Created.UTC(), fromNull(revoked)
		out = append(out, &g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query grants: %w", err)
	}
	return out, nil
}
