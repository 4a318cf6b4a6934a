package api

import (
	"context"
	"net/http"
	"time"

	"github.com/admeter/admeter"
)

// GrantService stores the grants by which an advertiser lets an agency read
// or manage chosen campaigns.
type GrantService interface {
	CreateGrant(ctx context.Context, g *admeter.Grant) error
	Grants(ctx context.Context, tenant admeter.TenantID) ([]*admeter.Grant, error)
	RevokeGrant(ctx context.Context, owner admeter.TenantID, id admeter.GrantID) error
	GrantFor(ctx context.Context, grantee admeter.TenantID, campaign admeter.CampaignID) (*admeter.Grant, error)
	GrantedCampaigns(ctx context.Context, grantee admeter.TenantID) ([]*admeter.Campaign, error)
}

// grantJSON is a grant as the API shows it.
type grantJSON struct {
	ID       admeter.GrantID    `json:"id"`
	Owner    admeter.TenantID   `json:"owner"`
	Grantee  admeter.TenantID   `json:"grantee"`
	Campaign admeter.CampaignID `json:"campaign"`
	Level    admeter.GrantLevel `json:"level"`
	Created  time.Time          `json:"created"`
	Revoked  *time.Time         `json:"revoked,omitempty"`
}

func grantView(g *admeter.Grant) grantJSON {
	v := grantJSON{ID: g.ID, Owner: g.Owner, Grantee: g.Grantee, Campaign: g.Campaign, Level: g.Level, Created: g.Created}
	if !g.Revoked.IsZero() {
		rv := g.Revoked
		v.Revoked = &rv
	}
	return v
}

// createGrant serves POST /api/v1/grants {"grantee","campaign","level"}: an
// advertiser lets an agency read (reports, exports) or manage one of its
// campaigns. Granting again changes the level.
func (s *Server) createGrant(r *http.Request) (int, any, error) {
	p := principalFrom(r.Context())
	var in struct {
		Grantee  admeter.TenantID   `json:"grantee"`
		Campaign admeter.CampaignID `json:"campaign"`
		Level    admeter.GrantLevel `json:"level"`
	}
	if err := s.decode(r, &in); err != nil {
		return 0, nil, err
	}
	g := &admeter.Grant{Owner: p.tenant.ID, Grantee: in.Grantee, Campaign: in.Campaign, Level: in.Level, CreatedBy: p.actor()}
	if err := g.Validate(); err != nil {
		return 0, nil, err
	}
	if err := s.grants.CreateGrant(r.Context(), g); err != nil {
		s.audit(r, "grant.create", string(g.Campaign), "failed: "+admeter.ErrorCode(err), map[string]any{"grantee": string(g.Grantee)})
		return 0, nil, err
	}
	s.audit(r, "grant.create", string(g.ID), "ok", map[string]any{"grantee": string(g.Grantee), "campaign": string(g.Campaign), "level": string(g.Level)})
	return http.StatusCreated, grantView(g), nil
}

// listGrants serves GET /api/v1/grants: the grants the tenant gave or
// received.
func (s *Server) listGrants(r *http.Request) (int, any, error) {
	gs, err := s.grants.Grants(r.Context(), tenantFrom(r.Context()).ID)
	if err != nil {
		return 0, nil, err
	}
	out := []grantJSON{}
	for _, g := range gs {
		out = append(out, grantView(g))
	}
	return http.StatusOK, map[string]any{"grants": out}, nil
}

// revokeGrant serves DELETE /api/v1/grants/{id} (the owner only).
func (s *Server) revokeGrant(r *http.Request) (int, any, error) {
	id := admeter.GrantID(r.PathValue("id"))
	if err := s.grants.RevokeGrant(r.Context(), tenantFrom(r.Context()).ID, id); err != nil {
		return 0, nil, err
	}
	s.audit(r, "grant.revoke", string(id), "ok", nil)
	return http.StatusOK, map[string]any{"revoked": id}, nil
}

// ownerKey carries, for a request about a campaign, the tenant that owns it
// (the caller's own tenant, or the advertiser that granted it access).
const ownerKey ctxKey = iota + 30

// MediaService finds advertisers' campaigns that have placements on a
// media tenant.
type MediaService interface {
	MediaCampaigns(ctx context.Context, media admeter.TenantID) ([]*admeter.Campaign, error)
	MediaCampaign(ctx context.Context, media admeter.TenantID, id admeter.CampaignID) (*admeter.Campaign, error)
}

// placementsKey carries the placements a media tenant may see of a
// campaign it does not own.
const placementsKey ctxKey = iota + 40

// placementsFrom returns the placements a request is limited to, or nil.
func placementsFrom(ctx context.Context) []admeter.PlacementID {
	ps, _ := ctx.Value(placementsKey).([]admeter.PlacementID)
	return ps
}

// mediaView returns c cut down to the placements on media, and their ids.
func mediaView(c *admeter.Campaign, media admeter.TenantID) (*admeter.Campaign, []admeter.PlacementID) {
	v := *c
	v.Placements = nil
	var ids []admeter.PlacementID
	for _, p := range c.Placements {
		if p.MediaTenant == media {
			v.Placements = append(v.Placements, p)
			ids = append(ids, p.ID)
		}
	}
	return &v, ids
}

// campaignOwner returns the tenant that owns campaign id if the caller may
// act on it with permission perm: its own campaign; one granted to it at a
// level that allows perm by an active advertiser; or, for a media tenant
// reading, one with placements on it, limited to those (returned).
// Anything else is ENOTFOUND, as if the campaign did not exist.
func (s *Server) campaignOwner(ctx context.Context, id admeter.CampaignID, perm admeter.Permission) (admeter.TenantID, []admeter.PlacementID, error) {
	owner, err := s.grantedOwner(ctx, id, perm)
	if admeter.ErrorCode(err) != admeter.ENOTFOUND || s.media == nil || tenantFrom(ctx).Kind != admeter.TenantMedia {
		return owner, nil, err
	}
	if perm != admeter.PermReadCampaigns && perm != admeter.PermReadReports && perm != admeter.PermExport {
		return "", nil, err
	}
	c, merr := s.media.MediaCampaign(ctx, tenantFrom(ctx).ID, id)
	if merr != nil {
		return "", nil, err
	}
	_, ids := mediaView(c, tenantFrom(ctx).ID)
	if len(ids) == 0 { // never query with no filter: that would be every placement
		return "", nil, err
	}
	return c.Tenant, ids, nil
}

// grantedOwner is campaignOwner for own and granted campaigns.
func (s *Server) grantedOwner(ctx context.Context, id admeter.CampaignID, perm admeter.Permission) (admeter.TenantID, error) {
	p := principalFrom(ctx)
	own := tenantFrom(ctx).ID
	_, err := s.campaigns.Campaign(ctx, own, id)
	if err == nil || admeter.ErrorCode(err) != admeter.ENOTFOUND || s.grants == nil {
		return own, err
	}
	g, gerr := s.grants.GrantFor(ctx, own, id)
	if gerr != nil {
		return "", err // the campaign's own "not found"
	}
	if !g.Level.Allows(perm) {
		return "", admeter.Errorf(admeter.EFORBIDDEN, "the grant for campaign %s is %s-only", id, g.Level)
	}
	if p != nil && s.accounts != nil {
		if t, err := s.accounts.Tenant(ctx, g.Owner); err != nil || t.Status != admeter.TenantActive {
			return "", admeter.Errorf(admeter.ENOTFOUND, "Campaign %s not found.", id)
		}
	}
	return g.Owner, nil
}

// onCampaign wraps h, a handler of /api/v1/campaigns/{id}/…, so that it runs
// with the campaign's owner as the tenant: the caller's own campaign or one
// granted to it. The audit record names the owner, whose data it is.
func (s *Server) onCampaign(perm admeter.Permission, h apiFunc) apiFunc {
	return func(r *http.Request) (int, any, error) {
		owner, only, err := s.campaignOwner(r.Context(), admeter.CampaignID(r.PathValue("id")), perm)
		if err != nil {
			// An attempt on a campaign the caller may not reach lands in
			// its own trail.
			s.audit(r, "campaign.access", r.PathValue("id"), "failed: "+admeter.ErrorCode(err), map[string]any{"path": r.URL.Path})
			return 0, nil, err
		}
		ctx := context.WithValue(r.Context(), ownerKey, owner)
		if only != nil {
			ctx = context.WithValue(ctx, placementsKey, only)
		}
		return h(r.WithContext(ctx))
	}
}

// ownerFrom returns the campaign owner onCampaign resolved, or the caller's
// tenant.
func ownerFrom(ctx context.Context) admeter.TenantID {
	if o, ok := ctx.Value(ownerKey).(admeter.TenantID); ok {
		return o
	}
	return tenantFrom(ctx).ID
}
