package admeter

import "time"

// GrantID identifies a grant.
type GrantID string

// GrantLevel is how much of a campaign a grant lets its grantee see or do.
type GrantLevel string

// Grant levels.
const (
	// GrantRead reads the campaign, its reports and exports.
	GrantRead GrantLevel = "read"
	// GrantManage also edits the campaign.
	GrantManage GrantLevel = "manage"
)

// Valid reports whether l is a defined level.
func (l GrantLevel) Valid() bool {
	return l == GrantRead || l == GrantManage
}

// grantPerms lists what each level allows on the granted campaign.
var grantPerms = map[GrantLevel][]Permission{
	GrantRead:   {PermReadCampaigns, PermReadReports, PermExport},
	GrantManage: {PermReadCampaigns, PermManageCampaigns, PermReadReports, PermExport},
}

// Allows reports whether a grant of level l lets its grantee act on the
// granted campaign with permission p. An undefined level allows nothing.
func (l GrantLevel) Allows(p Permission) bool {
	for _, q := range grantPerms[l] {
		if q == p {
			return true
		}
	}
	return false
}

// Grant lets an agency see, or manage, one campaign of an advertiser. The
// advertiser revokes it when the agency no longer works on the campaign.
type Grant struct {
	ID GrantID
	// Owner is the advertiser that owns the campaign and gave the grant.
	Owner TenantID
	// Grantee is the agency that received it.
	Grantee  TenantID
	Campaign CampaignID
	Level    GrantLevel
	Created  time.Time
	// CreatedBy is the actor that made it ("user:u_…", "operator").
	CreatedBy string
	// Revoked is when it was revoked (zero: live).
	Revoked time.Time
}

// Validate returns an EINVALID error describing the first problem with g:
// the owner, the grantee (another tenant), the campaign and a defined level
// are required. Whether the tenants exist and are of the right kinds is for
// the metadata store to check.
func (g *Grant) Validate() error {
	switch {
	case g.Owner == "":
		return Errorf(EINVALID, "owner is required")
	case g.Grantee == "":
		return Errorf(EINVALID, "grantee is required: the account ID of the agency to grant access to")
	case g.Grantee == g.Owner:
		return Errorf(EINVALID, "grantee must be another account: an account already has access to its own campaigns")
	case g.Campaign == "":
		return Errorf(EINVALID, "campaign is required")
	case !g.Level.Valid():
		return Errorf(EINVALID, "level must be read (campaign, reports and exports) or manage (also edit the campaign), not %q", g.Level)
	}
	return nil
}
