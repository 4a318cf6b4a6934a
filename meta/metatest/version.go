package metatest

import (
	"crypto/sha256"
	"testing"

	"github.com/admeter/admeter"
)

func testVersion(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	if v := mustVersion(t, db); v != 0 {
		t.Fatalf("initial version = %d, want 0", v)
	}
	tenant := mustCreateTenant(t, db, "Acme")
	if v := mustVersion(t, db); v != 1 {
		t.Fatalf("version = %d after creating a tenant, want 1", v)
	}
	c := newCampaign(tenant.ID, "Spring", 3)
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if v := mustVersion(t, db); v != 2 {
		t.Fatalf("version = %d after creating a campaign, want 2", v)
	}

	// Failed writes and reads change nothing.
	if err := db.CreateCampaign(ctx, &admeter.Campaign{Tenant: tenant.ID}); err == nil {
		t.Fatal("invalid campaign accepted")
	}
	if err := db.CreateCampaign(ctx, newCampaign("t_missing", "x", 1)); err == nil {
		t.Fatal("campaign of a missing tenant accepted")
	}
	dup := &admeter.Tenant{Name: "Dup", Kind: admeter.TenantMedia}
	if err := db.CreateTenant(ctx, dup, sha256.Sum256([]byte("token-Acme"))); err == nil {
		t.Fatal("duplicate token accepted")
	}
	if _, err := db.AllCampaigns(ctx); err != nil {
		t.Fatal(err)
	}
	if v := mustVersion(t, db); v != 2 {
		t.Fatalf("version = %d after failed writes and reads, want 2", v)
	}
}
