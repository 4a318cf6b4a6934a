package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
)

// mustCreateTenantOfKind creates a tenant of kind named name whose token is
// "token-"+name.
func mustCreateTenantOfKind(tb testing.TB, db *sqlite.DB, name string, kind admeter.TenantKind) *admeter.Tenant {
	tb.Helper()
	t := &admeter.Tenant{Name: name, Kind: kind}
	if err := db.CreateTenant(tb.Context(), t, sha256.Sum256([]byte("token-"+name))); err != nil {
		tb.Fatal(err)
	}
	return t
}

// mustCreateCampaign creates a campaign of tenant with n placements.
func mustCreateCampaign(tb testing.TB, db *sqlite.DB, tenant admeter.TenantID, name string, n int) *admeter.Campaign {
	tb.Helper()
	c := newCampaign(tenant, name, n)
	if err := db.CreateCampaign(tb.Context(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustGrant grants grantee level on campaign of owner.
func mustGrant(tb testing.TB, db *sqlite.DB, owner, grantee admeter.TenantID, campaign admeter.CampaignID, level admeter.GrantLevel) *admeter.Grant {
	tb.Helper()
	g := &admeter.Grant{Owner: owner, Grantee: grantee, Campaign: campaign, Level: level, CreatedBy: "user:u_owner"}
	if err := db.CreateGrant(tb.Context(), g); err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestGrants_Schema(t *testing.T) {
	path := t.TempDir() + "/meta.db"
	db := MustOpenDBAt(t, path)
	a, b := MustCreateTenant(t, db, "A"), MustCreateTenant(t, db, "B")
	g := mustCreateTenantOfKind(t, db, "G", admeter.TenantAgency)
	a1 := mustCreateCampaign(t, db, a.ID, "A1", 1)
	gA1 := mustGrant(t, db, a.ID, g.ID, a1.ID, admeter.GrantRead)

	raw, err := sql.Open("sqlite", path+"?_foreign_keys=1&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	insert := `INSERT INTO grants (id, owner_id, grantee_id, campaign_id, level, created, created_by)
		VALUES (?, ?, ?, ?, ?, '2026-03-01T00:00:00.000000Z', 'test')`
	for _, tt := range []struct {
		name                    string
		id, owner, grantee, cmp string
		level                   string
	}{
		{"OwnerDoesNotOwnCampaign", "gr_x1", string(b.ID), string(g.ID), string(a1.ID), "read"},
		{"SecondLiveGrant", "gr_x2", string(a.ID), string(g.ID), string(a1.ID), "manage"},
		{"SelfGrant", "gr_x3", string(a.ID), string(a.ID), string(a1.ID), "read"},
		{"BadLevel", "gr_x4", string(a.ID), string(b.ID), string(a1.ID), "write"},
		{"UnknownGrantee", "gr_x5", string(a.ID), "t_aaaaaaaaaa", string(a1.ID), "read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := raw.Exec(insert, tt.id, tt.owner, tt.grantee, tt.cmp, tt.level); err == nil {
				t.Fatal("the schema accepted the row")
			}
		})
	}
	// A revoked grant frees its place for a new live one.
	if _, err := raw.Exec(`UPDATE grants SET revoked = '2026-03-02T00:00:00.000000Z' WHERE id = ?`, string(gA1.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(insert, "gr_x6", string(a.ID), string(g.ID), string(a1.ID), "manage"); err != nil {
		t.Fatalf("new live grant after revocation: %v", err)
	}
}
