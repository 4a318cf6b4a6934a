package metatest

import (
	"reflect"
	"testing"

	"github.com/admeter/admeter"
)

// testCampaignFrequencyThreshold proves that a campaign's frequency
// threshold is stored on create, read back by every campaign read, changed
// and reset to the default (0) by UpdateCampaign, that a campaign created
// without one reads 0 (the default), and that an out-of-range threshold is
// refused with nothing stored.
func testCampaignFrequencyThreshold(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	media := mustCreateTenantOfKind(t, db, "News", admeter.TenantMedia)

	plain := mustCreateCampaign(t, db, adv.ID, "Plain", 1)
	c := newCampaign(adv.ID, "Spring", 2)
	c.Placements[1].MediaTenant = media.ID
	c.FrequencyThreshold = 3
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	mustGrant(t, db, adv.ID, agency.ID, c.ID, admeter.GrantRead)

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
	// check compares c's threshold, as each read returns it, with want.
	check := func(t *testing.T, want int) {
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
				if got.FrequencyThreshold != want {
					t.Errorf("%s: FrequencyThreshold = %d, want %d", r.name, got.FrequencyThreshold, want)
				}
			}
			if !found {
				t.Errorf("%s does not return campaign %s", r.name, c.ID)
			}
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		check(t, 3)
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatalf("Campaign() =\n%#v\nwant\n%#v", got, c)
		}
	})

	t.Run("Default", func(t *testing.T) {
		got, err := db.Campaign(ctx, adv.ID, plain.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FrequencyThreshold != 0 || got.WasteAbove() != admeter.DefaultFrequencyThreshold {
			t.Fatalf("a campaign created without a threshold: FrequencyThreshold = %d, WasteAbove() = %d; want 0 and %d",
				got.FrequencyThreshold, got.WasteAbove(), admeter.DefaultFrequencyThreshold)
		}
	})

	t.Run("Update", func(t *testing.T) {
		for _, want := range []int{admeter.MaxFrequencyThreshold, 1, 0} {
			got, err := db.Campaign(ctx, adv.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			got.FrequencyThreshold = want
			if err := db.UpdateCampaign(ctx, got); err != nil {
				t.Fatal(err)
			}
			check(t, want)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		before, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.Campaigns(ctx, adv.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, threshold := range []int{-1, admeter.MaxFrequencyThreshold + 1} {
			bad := *before
			bad.FrequencyThreshold = threshold
			if err := db.UpdateCampaign(ctx, &bad); admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("UpdateCampaign(threshold %d) err = %v, want EINVALID", threshold, err)
			}
			created := newCampaign(adv.ID, "Bad", 1)
			created.FrequencyThreshold = threshold
			if err := db.CreateCampaign(ctx, created); admeter.ErrorCode(err) != admeter.EINVALID {
				t.Fatalf("CreateCampaign(threshold %d) err = %v, want EINVALID", threshold, err)
			}
		}
		if after, err := db.Campaign(ctx, adv.ID, c.ID); err != nil || !reflect.DeepEqual(after, before) {
			t.Fatalf("after refused writes: %+v, %v; want %+v", after, err, before)
		}
		if after, err := db.Campaigns(ctx, adv.ID); err != nil || len(after) != len(n) {
			t.Fatalf("after refused creates: %d campaigns, %v; want %d", len(after), err, len(n))
		}
	})
}

// CheckMigratedFrequencyThreshold checks campaign c of a store migrated
// from a schema without the frequency threshold, where c was created: it
// reads back as created, with threshold 0 (the default), and then takes
// one. A store's migration test calls it after taking its schema back to
// before the frequency_threshold column and reopening.
func CheckMigratedFrequencyThreshold(t *testing.T, db CampaignStore, c *admeter.Campaign) {
	t.Helper()
	got, err := db.Campaign(t.Context(), c.Tenant, c.ID)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, c) || got.FrequencyThreshold != 0 {
		t.Fatalf("campaign after migration =\n%#v\nwant\n%#v", got, c)
	}
	got.FrequencyThreshold = 4
	if err := db.UpdateCampaign(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if again, err := db.Campaign(t.Context(), c.Tenant, c.ID); err != nil || again.FrequencyThreshold != 4 {
		t.Fatalf("after update: %+v, %v", again, err)
	}
}
