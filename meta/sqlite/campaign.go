package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/metajson"
)

// Campaign ids are 8-digit numbers: the k parameter of monitoring URLs.
const (
	minCampaignID = 10_000_000
	maxCampaignID = 99_999_999
)

// placementIDLen is the length of a placement id: 62^6, about 57 billion ids.
const placementIDLen = 6

// CreateCampaign validates and normalises c (see admeter.Campaign.Validate)
// and stores it with its placements in one transaction. It assigns c.ID, a
// random unused 8-digit number; each placement's ID, 6 random base62
// characters unused anywhere in the system, and Campaign; and c.Created.
//
// A placement's MediaTenant, if set, must be a media tenant.
//
// Returns EINVALID if c is invalid and ENOTFOUND if its tenant does not
// exist.
func (db *DB) CreateCampaign(ctx context.Context, c *admeter.Campaign) error {
	if c.Tenant == "" {
		return admeter.Errorf(admeter.EINVALID, "tenant is required")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if len(c.AllowedHosts) == 0 {
		c.AllowedHosts = nil // one representation for "none", so reads compare equal
	}
	hosts, err := json.Marshal(c.AllowedHosts)
	if err != nil {
		return fmt.Errorf("create campaign: encode allowed hosts: %w", err)
	}
	if c.AllowedHosts == nil {
		hosts = []byte("[]")
	}
	if len(c.Attribution.ByType) == 0 {
		c.Attribution.ByType = nil // likewise
	}
	attribution, err := metajson.EncodeAttribution(c.Attribution)
	if err != nil {
		return fmt.Errorf("create campaign: %w", err)
	}

	placements := make([]admeter.Placement, len(c.Placements))
	var id admeter.CampaignID
	var created = c.Created
	err = db.update(ctx, func(tx *writeTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE id = ?`, string(c.Tenant)).Scan(&n); err != nil {
			return fmt.Errorf("check tenant: %w", err)
		} else if n == 0 {
			return admeter.Errorf(admeter.ENOTFOUND, "Tenant not found.")
		}
		if err := checkMediaTenants(ctx, tx, c.Placements); err != nil {
			return err
		}
		created = tx.now

		s, err := insertWithRandomID("campaign id",
			func() string { return strconv.Itoa(minCampaignID + db.intn(maxCampaignID-minCampaignID+1)) },
			func(id string) (bool, error) {
				res, err := tx.ExecContext(ctx, `
					INSERT INTO campaigns (id, tenant_id, name, landing_url, allowed_hosts, timezone, created, attribution, frequency_threshold)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (id) DO NOTHING`,
					id, string(c.Tenant), c.Name, c.LandingURL, string(hosts), c.Timezone, formatTime(created), attribution, c.FrequencyThreshold)
				if err != nil {
					return false, fmt.Errorf("insert campaign: %w", err)
				}
				return insertedOne(res)
			})
		if err != nil {
			return err
		}
		id = admeter.CampaignID(s)

		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO placements (id, campaign_id, position, name, media, media_tenant_id, categories, price_model, price_amount)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("prepare placement insert: %w", err)
		}
		defer stmt.Close()
		for i, p := range c.Placements {
			cats, err := metajson.EncodeCategories(p.Categories)
			if err != nil {
				return err
			}
			model, amount := priceArgs(p.Price)
			s, err := insertWithRandomID("placement id",
				func() string { return db.randomString(base62, placementIDLen) },
				func(pid string) (bool, error) {
					res, err := stmt.ExecContext(ctx, pid, string(id), i, p.Name, p.Media, nullIfEmpty(string(p.MediaTenant)), cats, model, amount)
					if err != nil {
						return false, fmt.Errorf("insert placement: %w", err)
					}
					return insertedOne(res)
				})
			if err != nil {
				return err
			}
			placements[i] = admeter.Placement{ID: admeter.PlacementID(s), Campaign: id, Name: p.Name, Media: p.Media, MediaTenant: p.MediaTenant, Categories: p.Categories, Price: copyPrice(p.Price)}
		}
		return nil
	})
	if err != nil {
		return wrap("create campaign", err)
	}
	c.ID, c.Created, c.Placements = id, created, placements
	return nil
}

// Campaign returns the campaign with the given id if it belongs to tenant.
// Returns ENOTFOUND if it does not exist or belongs to another tenant: the
// two cases cannot be told apart.
func (db *DB) Campaign(ctx context.Context, tenant admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error) {
	var cs []*admeter.Campaign
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, `c.tenant_id = ? AND c.id = ?`, string(tenant), string(id))
		return err
	})
	if err != nil {
		return nil, wrap("get campaign", err)
	} else if len(cs) == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", id)
	}
	return cs[0], nil
}

// Campaigns returns the campaigns of tenant, with their placements, oldest
// first.
func (db *DB) Campaigns(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Campaign, error) {
	var cs []*admeter.Campaign
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, `c.tenant_id = ?`, string(tenant))
		return err
	})
	if err != nil {
		return nil, wrap("list campaigns", err)
	}
	return cs, nil
}

// AllCampaigns returns every campaign of every tenant, with its placements,
// oldest first: the collector's catalog of what it may count. It is the one
// read not scoped to a tenant; nothing that answers a tenant may use it.
func (db *DB) AllCampaigns(ctx context.Context) ([]*admeter.Campaign, error) {
	var cs []*admeter.Campaign
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, `1 = 1`)
		return err
	})
	if err != nil {
		return nil, wrap("list all campaigns", err)
	}
	return cs, nil
}

// findCampaigns returns the campaigns (aliased c) that where selects, oldest
// first, with their placements. where is a constant of this package, never
// built from input.
func findCampaigns(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*admeter.Campaign, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT c.id, c.tenant_id, c.name, c.landing_url, c.allowed_hosts, c.timezone, c.created, c.attribution, c.frequency_threshold,
			(SELECT t.status <> 'active' FROM tenants t WHERE t.id = c.tenant_id)
		FROM campaigns c
		WHERE `+where+`
		ORDER BY c.created, c.rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("query campaigns: %w", err)
	}
	defer rows.Close()
	var cs []*admeter.Campaign
	byID := make(map[admeter.CampaignID]*admeter.Campaign)
	for rows.Next() {
		var c admeter.Campaign
		var hosts, created, attribution string
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Name, &c.LandingURL, &hosts, &c.Timezone, &created, &attribution, &c.FrequencyThreshold, &c.Stopped); err != nil {
			return nil, fmt.Errorf("scan campaign: %w", err)
		}
		if err := json.Unmarshal([]byte(hosts), &c.AllowedHosts); err != nil {
			return nil, fmt.Errorf("decode allowed hosts of campaign %s: %w", c.ID, err)
		}
		if len(c.AllowedHosts) == 0 {
			c.AllowedHosts = nil
		}
		if c.Attribution, err = metajson.DecodeAttribution(attribution); err != nil {
			return nil, fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		if c.Created, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		cs = append(cs, &c)
		byID[c.ID] = &c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query campaigns: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}

	rows, err = tx.QueryContext(ctx, `
		SELECT `+placementColumns+`
		FROM placements p
		JOIN campaigns c ON c.id = p.campaign_id
		WHERE `+where+`
		ORDER BY p.campaign_id, p.position`, args...)
	if err != nil {
		return nil, fmt.Errorf("query placements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPlacement(rows)
		if err != nil {
			return nil, err
		}
		c := byID[p.Campaign]
		if c == nil {
			return nil, errors.New("query placements: placement of an unselected campaign")
		}
		c.Placements = append(c.Placements, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query placements: %w", err)
	}
	return cs, nil
}

// placementColumns are the columns scanPlacement reads, from placements
// aliased p.
const placementColumns = `p.id, p.campaign_id, p.name, p.media, p.media_tenant_id, p.categories, p.price_model, p.price_amount`

// scanPlacement scans placementColumns.
func scanPlacement(row rowScanner) (admeter.Placement, error) {
	var p admeter.Placement
	var media sql.NullString
	var cats string
	var model sql.NullString
	var amount sql.NullInt64
	if err := row.Scan(&p.ID, &p.Campaign, &p.Name, &p.Media, &media, &cats, &model, &amount); err != nil {
		return p, fmt.Errorf("scan placement: %w", err)
	}
	p.MediaTenant = admeter.TenantID(media.String)
	if model.Valid && amount.Valid {
		p.Price = &admeter.Price{Model: admeter.BuyingModel(model.String), Amount: amount.Int64}
	}
	var err error
	if p.Categories, err = metajson.DecodeCategories(cats); err != nil {
		return p, fmt.Errorf("placement %s: %w", p.ID, err)
	}
	return p, nil
}

// checkMediaTenants returns EINVALID unless every placement's MediaTenant is
// "" or a media tenant.
func checkMediaTenants(ctx context.Context, tx *writeTx, ps []admeter.Placement) error {
	checked := make(map[admeter.TenantID]bool)
	for i, p := range ps {
		if p.MediaTenant == "" || checked[p.MediaTenant] {
			continue
		}
		var kind string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM tenants WHERE id = ?`, string(p.MediaTenant)).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) || err == nil && kind != string(admeter.TenantMedia) {
			return admeter.Errorf(admeter.EINVALID, "placements[%d].media_tenant %s is not a media tenant", i, p.MediaTenant)
		} else if err != nil {
			return fmt.Errorf("check media tenant: %w", err)
		}
		checked[p.MediaTenant] = true
	}
	return nil
}

// nullIfEmpty returns nil (NULL) for "" and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// priceArgs returns the price_model and price_amount column values of a
// placement's price: both NULL for none.
func priceArgs(p *admeter.Price) (model, amount any) {
	if p == nil {
		return nil, nil
	}
	return string(p.Model), p.Amount
}

// copyPrice returns a copy of p, nil for nil, so that a stored campaign does
// not share its prices with the caller's.
func copyPrice(p *admeter.Price) *admeter.Price {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// PlacementsOfMedia returns the placements whose MediaTenant is media, across
// the campaigns of every tenant, oldest campaign first and in each campaign's
// order. It returns the placements only, not their campaigns.
func (db *DB) PlacementsOfMedia(ctx context.Context, media admeter.TenantID) ([]admeter.Placement, error) {
	var out []admeter.Placement
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT `+placementColumns+`
			FROM placements p
			JOIN campaigns c ON c.id = p.campaign_id
			WHERE p.media_tenant_id = ?
			ORDER BY c.created, c.rowid, p.position`, string(media))
		if err != nil {
			return fmt.Errorf("query placements: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPlacement(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list placements of media", err)
	}
	return out, nil
}

// mediaWhere selects the campaigns (aliased c) with a placement of the media
// tenant given as the first argument.
const mediaWhere = `EXISTS (SELECT 1 FROM placements mp WHERE mp.campaign_id = c.id AND mp.media_tenant_id = ?)`

// MediaCampaigns returns the campaigns, of any advertiser, that have a
// placement on the media tenant media, with all their placements: the
// caller shows the media only its own. Campaign.Tenant is the owner.
func (db *DB) MediaCampaigns(ctx context.Context, media admeter.TenantID) ([]*admeter.Campaign, error) {
	var cs []*admeter.Campaign
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, mediaWhere, string(media))
		return err
	})
	if err != nil {
		return nil, wrap("list media campaigns", err)
	}
	return cs, nil
}

// MediaCampaign returns campaign id if it has a placement on the media
// tenant media; ENOTFOUND otherwise, as for a campaign that does not exist.
func (db *DB) MediaCampaign(ctx context.Context, media admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error) {
	var cs []*admeter.Campaign
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		cs, err = findCampaigns(ctx, tx, mediaWhere+` AND c.id = ?`, string(media), string(id))
		return err
	})
	if err != nil {
		return nil, wrap("get media campaign", err)
	} else if len(cs) == 0 {
		return nil, admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", id)
	}
	return cs[0], nil
}

// UpdateCampaign saves an edited campaign of c.Tenant: its name, landing
// URL, allowed hosts, time zone, attribution settings and frequency
// threshold, the names, media,
// media tenants, content categories and prices of its existing placements (matched by ID), and any new placement (ID empty),
// which gets an ID and is appended. A placement is never deleted or moved to
// another campaign: its events keep their meaning. c is validated and
// normalised as by CreateCampaign, and is updated in place.
//
// Returns EINVALID if c is invalid or names a placement it does not have,
// and ENOTFOUND if the campaign does not exist or belongs to another tenant.
func (db *DB) UpdateCampaign(ctx context.Context, c *admeter.Campaign) error {
	if c.Tenant == "" || c.ID == "" {
		return admeter.Errorf(admeter.EINVALID, "tenant and campaign are required")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	hosts, err := json.Marshal(c.AllowedHosts)
	if err != nil || len(c.AllowedHosts) == 0 {
		hosts = []byte("[]")
	}
	if len(c.Attribution.ByType) == 0 {
		c.Attribution.ByType = nil
	}
	attribution, err := metajson.EncodeAttribution(c.Attribution)
	if err != nil {
		return fmt.Errorf("update campaign: %w", err)
	}
	err = db.update(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, landing_url = ?, allowed_hosts = ?, timezone = ?, attribution = ?, frequency_threshold = ? WHERE id = ? AND tenant_id = ?`,
			c.Name, c.LandingURL, string(hosts), c.Timezone, attribution, c.FrequencyThreshold, string(c.ID), string(c.Tenant))
		if err != nil {
			return fmt.Errorf("update campaign: %w", err)
		}
		if ok, err := insertedOne(res); err != nil {
			return err
		} else if !ok {
			return admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", c.ID)
		}
		if err := checkMediaTenants(ctx, tx, c.Placements); err != nil {
			return err
		}
		var next int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position) + 1, 0) FROM placements WHERE campaign_id = ?`, string(c.ID)).Scan(&next); err != nil {
			return fmt.Errorf("update campaign: %w", err)
		}
		for i := range c.Placements {
			p := &c.Placements[i]
			cats, err := metajson.EncodeCategories(p.Categories)
			if err != nil {
				return err
			}
			model, amount := priceArgs(p.Price)
			if p.ID != "" {
				res, err := tx.ExecContext(ctx, `UPDATE placements SET name = ?, media = ?, media_tenant_id = ?, categories = ?, price_model = ?, price_amount = ? WHERE id = ? AND campaign_id = ?`,
					p.Name, p.Media, nullIfEmpty(string(p.MediaTenant)), cats, model, amount, string(p.ID), string(c.ID))
				if err != nil {
					return fmt.Errorf("update placement: %w", err)
				}
				if ok, err := insertedOne(res); err != nil {
					return err
				} else if !ok {
					return admeter.Errorf(admeter.EINVALID, "placement %s is not part of campaign %s", p.ID, c.ID)
				}
				continue
			}
			s, err := insertWithRandomID("placement id",
				func() string { return db.randomString(base62, placementIDLen) },
				func(pid string) (bool, error) {
					res, err := tx.ExecContext(ctx, `INSERT INTO placements (id, campaign_id, position, name, media, media_tenant_id, categories, price_model, price_amount)
						VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
						pid, string(c.ID), next, p.Name, p.Media, nullIfEmpty(string(p.MediaTenant)), cats, model, amount)
					if err != nil {
						return false, fmt.Errorf("insert placement: %w", err)
					}
					return insertedOne(res)
				})
			if err != nil {
				return err
			}
			next++
			p.ID, p.Campaign = admeter.PlacementID(s), c.ID
		}
		return nil
	})
	return wrap("update campaign", err)
}
