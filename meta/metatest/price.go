package metatest

import (
	"reflect"
	"testing"

	"github.com/admeter/admeter"
)

// testPlacementPrice proves that a placement's price is stored on create,
// read back by every campaign and placement read, set, changed and cleared
// by UpdateCampaign (also on a new placement), that a placement without a
// price reads nil, and that an invalid price is refused with nothing
// stored.
func testPlacementPrice(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	media := mustCreateTenantOfKind(t, db, "News", admeter.TenantMedia)

	c := newCampaign(adv.ID, "Spring", 4)
	c.Placements[0].Price = &admeter.Price{Model: admeter.CPM, Amount: 35 * admeter.MicroCNY}
	c.Placements[1].Price = &admeter.Price{Model: admeter.CPC, Amount: 1_500_000}
	c.Placements[3].Price = &admeter.Price{Model: admeter.Fixed, Amount: admeter.MaxPriceAmount}
	for i := range c.Placements {
		c.Placements[i].MediaTenant = media.ID
	}
	callers := c.Placements[0].Price
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	callers.Amount = 1 // the stored campaign does not share the caller's price
	mustGrant(t, db, adv.ID, agency.ID, c.ID, admeter.GrantRead)
	p0, p1, p2, p3 := c.Placements[0].ID, c.Placements[1].ID, c.Placements[2].ID, c.Placements[3].ID

	// check compares the prices of c's placements, as each read returns
	// them, with want (by placement id).
	check := func(t *testing.T, want map[admeter.PlacementID]*admeter.Price) {
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
			"PlacementsOfMedia": func() ([]*admeter.Campaign, error) {
				ps, err := db.PlacementsOfMedia(ctx, media.ID)
				return []*admeter.Campaign{{ID: c.ID, Placements: ps}}, err
			},
		}
		for name, read := range reads {
			cs, err := read()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			seen := 0
			for _, got := range cs {
				if got.ID != c.ID {
					continue
				}
				for _, p := range got.Placements {
					seen++
					if w, ok := want[p.ID]; !ok {
						t.Errorf("%s: unexpected placement %s", name, p.ID)
					} else if !reflect.DeepEqual(p.Price, w) {
						t.Errorf("%s: placement %s Price = %+v, want %+v", name, p.ID, p.Price, w)
					}
				}
			}
			if seen != len(want) {
				t.Errorf("%s returned %d placements of campaign %s, want %d", name, seen, c.ID, len(want))
			}
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		check(t, map[admeter.PlacementID]*admeter.Price{
			p0: {Model: admeter.CPM, Amount: 35 * admeter.MicroCNY},
			p1: {Model: admeter.CPC, Amount: 1_500_000},
			p2: nil,
			p3: {Model: admeter.Fixed, Amount: admeter.MaxPriceAmount},
		})
		if got := c.Placements[0].Price; got.Amount != 35*admeter.MicroCNY {
			t.Errorf("CreateCampaign's placement shares the caller's price: %+v", got)
		}
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
		got.Placements[0].Price = nil                                                    // cleared
		got.Placements[1].Price = &admeter.Price{Model: admeter.CPD, Amount: 0}          // changed, free
		got.Placements[2].Price = &admeter.Price{Model: admeter.CPM, Amount: 12_345_678} // set
		got.Placements = append(got.Placements, admeter.Placement{Name: "new", Media: "news.example.com",
			MediaTenant: media.ID, Price: &admeter.Price{Model: admeter.CPC, Amount: 800_000}})
		if err := db.UpdateCampaign(ctx, got); err != nil {
			t.Fatal(err)
		}
		p4 := got.Placements[4].ID
		if p4 == "" {
			t.Fatal("UpdateCampaign gave the new placement no id")
		}
		check(t, map[admeter.PlacementID]*admeter.Price{
			p0: nil,
			p1: {Model: admeter.CPD, Amount: 0},
			p2: {Model: admeter.CPM, Amount: 12_345_678},
			p3: {Model: admeter.Fixed, Amount: admeter.MaxPriceAmount},
			p4: {Model: admeter.CPC, Amount: 800_000},
		})
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
		for name, price := range map[string]admeter.Price{
			"NoModel":  {Amount: 1},
			"Unknown":  {Model: "cpa", Amount: 1},
			"Negative": {Model: admeter.CPM, Amount: -1},
			"TooMuch":  {Model: admeter.Fixed, Amount: admeter.MaxPriceAmount + 1},
		} {
			t.Run(name, func(t *testing.T) {
				bad := *before
				bad.Placements = append([]admeter.Placement(nil), before.Placements...)
				bad.Placements[2].Price = &price
				if err := db.UpdateCampaign(ctx, &bad); admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("UpdateCampaign() err = %v, want EINVALID", err)
				}
				created := newCampaign(adv.ID, "Bad", 1)
				created.Placements[0].Price = &price
				if err := db.CreateCampaign(ctx, created); admeter.ErrorCode(err) != admeter.EINVALID {
					t.Fatalf("CreateCampaign() err = %v, want EINVALID", err)
				}
			})
		}
		if after, err := db.Campaign(ctx, adv.ID, c.ID); err != nil || !reflect.DeepEqual(after, before) {
			t.Fatalf("after refused writes: %+v, %v; want %+v", after, err, before)
		}
		if after, err := db.Campaigns(ctx, adv.ID); err != nil || len(after) != len(n) {
			t.Fatalf("after refused creates: %d campaigns, %v; want %d", len(after), err, len(n))
		}
	})
}

// CheckMigratedPrices checks campaign c of a store migrated from a schema
// without placement prices, where c was created: it reads back as created,
// every placement without a price, and a placement then takes one. A
// store's migration test calls it after taking its schema back to before
// the price columns and reopening.
func CheckMigratedPrices(t *testing.T, db CampaignStore, c *admeter.Campaign) {
	t.Helper()
	got, err := db.Campaign(t.Context(), c.Tenant, c.ID)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, c) {
		t.Fatalf("campaign after migration =\n%#v\nwant\n%#v", got, c)
	}
	for _, p := range got.Placements {
		if p.Price != nil {
			t.Fatalf("placement %s has Price %+v after migration, want nil", p.ID, p.Price)
		}
	}
	want := admeter.Price{Model: admeter.CPM, Amount: 35 * admeter.MicroCNY}
	got.Placements[0].Price = &want
	if err := db.UpdateCampaign(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if again, err := db.Campaign(t.Context(), c.Tenant, c.ID); err != nil || !reflect.DeepEqual(again.Placements[0].Price, &want) {
		t.Fatalf("after update: %+v, %v", again, err)
	}
}
