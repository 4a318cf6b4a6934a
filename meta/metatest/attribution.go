package metatest

import (
	"reflect"
	"testing"

	"github.com/admeter/admeter"
)

// testCampaignAttribution proves that a campaign's attribution settings are
// stored on create, read back by every campaign read, changed by
// UpdateCampaign, and that a campaign without settings reads as the zero
// Attribution, whose rules are the defaults.
func testCampaignAttribution(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	media := mustCreateTenantOfKind(t, db, "News", admeter.TenantMedia)

	plain := mustCreateCampaign(t, db, adv.ID, "Plain", 1)
	c := newCampaign(adv.ID, "Spring", 2)
	c.Placements[1].MediaTenant = media.ID
	c.Attribution = admeter.Attribution{
		Default: &admeter.AttributionRule{ClickWindowDays: 14, ViewWindowDays: 0},
		ByType: map[string]admeter.AttributionRule{
			admeter.ConversionOrder: {ClickWindowDays: 30, ViewWindowDays: 0},
			"lead":                  {ClickWindowDays: 0, ViewWindowDays: 90},
		},
		ClickIDParam: "admeter_click_id",
	}
	want := c.Attribution
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	mustGrant(t, db, adv.ID, agency.ID, c.ID, admeter.GrantRead)

	// read finds c among what each campaign read returns.
	reads := []struct {
		name string
		read func() ([]*admeter.Campaign, error)
	}{
		{"Campaign", func() ([]*admeter.Campaign, error) {
			got, err := db.Campaign(ctx, adv.ID, c.ID)
			return []*admeter.Campaign{got}, err
		}},
		{"Campaigns", func() ([]*admeter.Campaign, error) { return db.Campaigns(ctx, adv.ID) }},
		{"AllCampaigns", func() ([]*admeter.Campaign, error) { return db.AllCampaigns(ctx) }},
		{"GrantedCampaigns", func() ([]*admeter.Campaign, error) { return db.GrantedCampaigns(ctx, agency.ID) }},
		{"MediaCampaigns", func() ([]*admeter.Campaign, error) { return db.MediaCampaigns(ctx, media.ID) }},
		{"MediaCampaign", func() ([]*admeter.Campaign, error) {
			got, err := db.MediaCampaign(ctx, media.ID, c.ID)
			return []*admeter.Campaign{got}, err
		}},
	}
	check := func(t *testing.T, want admeter.Attribution) {
		t.Helper()
		for _, r := range reads {
			cs, err := r.read()
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			found := false
			for _, got := range cs {
				if got.ID != c.ID {
					continue
				}
				found = true
				if !reflect.DeepEqual(got.Attribution, want) {
					t.Errorf("%s: Attribution = %+v, want %+v", r.name, got.Attribution, want)
				}
			}
			if !found {
				t.Errorf("%s does not return campaign %s", r.name, c.ID)
			}
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		check(t, want)
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatalf("Campaign() =\n%#v\nwant\n%#v", got, c)
		}
		if r := got.Attribution.Rule("order"); r != (admeter.AttributionRule{ClickWindowDays: 30}) {
			t.Fatalf("Rule(order) = %+v", r)
		}
		if r := got.Attribution.Rule("purchase"); r != (admeter.AttributionRule{ClickWindowDays: 14}) {
			t.Fatalf("Rule(purchase) = %+v, want the campaign's default", r)
		}
	})

	t.Run("Default", func(t *testing.T) {
		got, err := db.Campaign(ctx, adv.ID, plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Attribution, admeter.Attribution{}) {
			t.Fatalf("a campaign created without settings: Attribution = %+v, want the zero value", got.Attribution)
		}
		if r := got.Attribution.Rule("order"); r != admeter.DefaultAttributionRule {
			t.Fatalf("Rule(order) = %+v, want %+v", r, admeter.DefaultAttributionRule)
		}
	})

	t.Run("Update", func(t *testing.T) {
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Attribution = admeter.Attribution{
			ByType: map[string]admeter.AttributionRule{admeter.ConversionActivation: {ClickWindowDays: 1, ViewWindowDays: 1}},
		}
		before := mustVersion(t, db)
		if err := db.UpdateCampaign(ctx, got); err != nil {
			t.Fatal(err)
		}
		if mustVersion(t, db) == before {
			t.Fatal("changing the attribution did not change the version: collectors would keep the old click-id parameter")
		}
		check(t, got.Attribution)

		// Back to the defaults; an empty map is no rule.
		got.Attribution = admeter.Attribution{ByType: map[string]admeter.AttributionRule{}}
		if err := db.UpdateCampaign(ctx, got); err != nil {
			t.Fatal(err)
		}
		check(t, admeter.Attribution{})
	})

	t.Run("Invalid", func(t *testing.T) {
		stored := admeter.Attribution{ClickIDParam: "cid"}
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Attribution = stored
		if err := db.UpdateCampaign(ctx, got); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			a    admeter.Attribution
		}{
			{"ClickWindow91", admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 91}}},
			{"NegativeView", admeter.Attribution{ByType: map[string]admeter.AttributionRule{"order": {ViewWindowDays: -1}}}},
			{"BadType", admeter.Attribution{ByType: map[string]admeter.AttributionRule{"Order!": {}}}},
			{"BadParam", admeter.Attribution{ClickIDParam: "click id"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				bad := *got
				bad.Attribution = tt.a
				if err := db.UpdateCampaign(ctx, &bad); admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("UpdateCampaign() err = %v, want EINVALID", err)
				}
				created := newCampaign(adv.ID, "Bad", 1)
				created.Attribution = tt.a
				if err := db.CreateCampaign(ctx, created); admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("CreateCampaign() err = %v, want EINVALID", err)
				}
			})
		}
		check(t, stored)
	})
}

// CheckMigratedCampaign checks campaign c of a store migrated from a schema
// without attribution settings, where c was created: it reads back as
// created, with the zero Attribution (the default windows), and takes new
// settings. A store's migration test calls it after taking its schema back
// to before the attribution column and reopening.
func CheckMigratedCampaign(t *testing.T, db CampaignStore, c *admeter.Campaign) {
	t.Helper()
	got, err := db.Campaign(t.Context(), c.Tenant, c.ID)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, c) || !reflect.DeepEqual(got.Attribution, admeter.Attribution{}) {
		t.Fatalf("campaign after migration =\n%#v\nwant\n%#v", got, c)
	}
	got.Attribution.ClickIDParam = "cid"
	if err := db.UpdateCampaign(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if again, err := db.Campaign(t.Context(), c.Tenant, c.ID); err != nil || again.Attribution.ClickIDParam != "cid" {
		t.Fatalf("after update: %+v, %v", again, err)
	}
}
