package metatest

import (
	"reflect"
	"testing"

	"github.com/admeter/admeter"
)

// testPlacementCategories proves that a placement's content categories are
// stored on create, read back by every campaign and placement read,
// changed by UpdateCampaign (also on a new placement), that a placement
// without categories reads nil, and that PlacementCategories maps every
// placement with categories, across tenants, to them.
func testPlacementCategories(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	other := mustCreateTenant(t, db, "Other")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	media := mustCreateTenantOfKind(t, db, "News", admeter.TenantMedia)

	c := newCampaign(adv.ID, "Spring", 3)
	c.Placements[0].Categories = []string{"483", "1"}
	c.Placements[2].Categories = []string{"JLBCU7"}
	c.Placements[2].MediaTenant = media.ID
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := c.Placements[1].Categories; got != nil {
		t.Fatalf("CreateCampaign left placement 1 with Categories %#v, want nil", got)
	}
	mustGrant(t, db, adv.ID, agency.ID, c.ID, admeter.GrantRead)
	o := newCampaign(other.ID, "Autumn", 1)
	o.Placements[0].Categories = []string{"42"}
	if err := db.CreateCampaign(ctx, o); err != nil {
		t.Fatal(err)
	}

	// check compares the categories of c's placements, as each read returns
	// them, with want (by placement id).
	check := func(t *testing.T, want map[admeter.PlacementID][]string) {
		t.Helper()
		reads := map[string]func() ([]*admeter.Campaign, error){
			"Campaign": func() ([]*admeter.Campaign, error) {
				got, err := db.Campaign(ctx, adv.ID, c.ID)
				return []*admeter.Campaign{got}, err
			},
			"Campaigns":        func() ([]*admeter.Campaign, error) { return db.Campaigns(ctx, adv.ID) },
			"AllCampaigns":     func() ([]*admeter.Campaign, error) { return db.AllCampaigns(ctx) },
			"GrantedCampaigns": func() ([]*admeter.Campaign, error) { return db.GrantedCampaigns(ctx, agency.ID) },
			"MediaCampaigns":   func() ([]*admeter.Campaign, error) { return db.MediaCampaigns(ctx, media.ID) },
			"MediaCampaign": func() ([]*admeter.Campaign, error) {
				got, err := db.MediaCampaign(ctx, media.ID, c.ID)
				return []*admeter.Campaign{got}, err
			},
		}
		for name, read := range reads {
			cs, err := read()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			found := false
			for _, got := range cs {
				if got.ID != c.ID {
					continue
				}
				found = true
				for _, p := range got.Placements {
					if w, ok := want[p.ID]; !ok {
						t.Errorf("%s: unexpected placement %s", name, p.ID)
					} else if !reflect.DeepEqual(p.Categories, w) {
						t.Errorf("%s: placement %s Categories = %#v, want %#v", name, p.ID, p.Categories, w)
					}
				}
			}
			if !found {
				t.Errorf("%s does not return campaign %s", name, c.ID)
			}
		}
		ps, err := db.PlacementsOfMedia(ctx, media.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if !reflect.DeepEqual(p.Categories, want[p.ID]) {
				t.Errorf("PlacementsOfMedia: placement %s Categories = %#v, want %#v", p.ID, p.Categories, want[p.ID])
			}
		}
		all, err := db.PlacementCategories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantAll := map[admeter.PlacementID][]string{o.Placements[0].ID: {"42"}}
		for id, cats := range want {
			if cats != nil {
				wantAll[id] = cats
			}
		}
		if !reflect.DeepEqual(all, wantAll) {
			t.Errorf("PlacementCategories() = %v, want %v", all, wantAll)
		}
	}
	p0, p1, p2 := c.Placements[0].ID, c.Placements[1].ID, c.Placements[2].ID

	t.Run("RoundTrip", func(t *testing.T) {
		check(t, map[admeter.PlacementID][]string{p0: {"483", "1"}, p1: nil, p2: {"JLBCU7"}})
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatalf("Campaign() =\n%#v\nwant\n%#v", got, c)
		}
	})

	t.Run("Update", func(t *testing.T) {
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Placements[0].Categories = nil
		got.Placements[1].Categories = []string{"596", "599"}
		got.Placements = append(got.Placements, admeter.Placement{Name: "new", Media: "news.example.com", Categories: []string{"653"}})
		if err := db.UpdateCampaign(ctx, got); err != nil {
			t.Fatal(err)
		}
		p3 := got.Placements[3].ID
		if p3 == "" {
			t.Fatal("UpdateCampaign gave the new placement no id")
		}
		check(t, map[admeter.PlacementID][]string{p0: nil, p1: {"596", "599"}, p2: {"JLBCU7"}, p3: {"653"}})
	})

	t.Run("Invalid", func(t *testing.T) {
		before, err := db.PlacementCategories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Campaign(ctx, adv.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, cats := range map[string][]string{
			"Eleven": {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"},
			"Twice":  {"483", "483"},
			"Blank":  {""},
		} {
			t.Run(name, func(t *testing.T) {
				bad := *got
				bad.Placements = append([]admeter.Placement(nil), got.Placements...)
				bad.Placements[1].Categories = cats
				if err := db.UpdateCampaign(ctx, &bad); admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("UpdateCampaign() err = %v, want EINVALID", err)
				}
				created := newCampaign(adv.ID, "Bad", 1)
				created.Placements[0].Categories = cats
				if err := db.CreateCampaign(ctx, created); admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("CreateCampaign() err = %v, want EINVALID", err)
				}
			})
		}
		if after, err := db.PlacementCategories(ctx); err != nil || !reflect.DeepEqual(after, before) {
			t.Fatalf("after refused writes: %v, %v; want %v", after, err, before)
		}
	})
}

// CheckMigratedPlacements checks campaign c of a store migrated from a
// schema without placement categories, where c was created: it reads back
// as created, every placement without categories, and a placement then
// takes categories. A store's migration test calls it after taking its
// schema back to before the categories column and reopening.
func CheckMigratedPlacements(t *testing.T, db CampaignStore, c *admeter.Campaign) {
	t.Helper()
	got, err := db.Campaign(t.Context(), c.Tenant, c.ID)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, c) {
		t.Fatalf("campaign after migration =\n%#v\nwant\n%#v", got, c)
	}
	for _, p := range got.Placements {
		if p.Categories != nil {
			t.Fatalf("placement %s has Categories %#v after migration, want nil", p.ID, p.Categories)
		}
	}
	if all, err := db.PlacementCategories(t.Context()); err != nil || len(all) != 0 {
		t.Fatalf("PlacementCategories() = %v, %v after migration, want none", all, err)
	}
	got.Placements[0].Categories = []string{"483"}
	if err := db.UpdateCampaign(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if again, err := db.Campaign(t.Context(), c.Tenant, c.ID); err != nil || !reflect.DeepEqual(again.Placements[0].Categories, []string{"483"}) {
		t.Fatalf("after update: %+v, %v", again, err)
	}
}
