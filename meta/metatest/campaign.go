package metatest

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

var (
	campaignIDRE  = regexp.MustCompile(`^[1-9][0-9]{7}$`)
	placementIDRE = regexp.MustCompile(`^[0-9A-Za-z]{6}$`)
)

func testCreateCampaign(t *testing.T, open Opener) {
	t.Run("OK", func(t *testing.T) {
		db := openDB(t, open)
		tenant := mustCreateTenant(t, db, "Acme")
		c := &admeter.Campaign{
			Tenant:       tenant.ID,
			Name:         "  Spring sale ",
			LandingURL:   "https://shop.example.com/spring",
			AllowedHosts: []string{"M.Shop.Example.com", "app.example.cn"},
			Timezone:     "Asia/Urumqi",
			Placements: []admeter.Placement{
				{Name: "home banner", Media: "news.example.com"},
				{ID: "ignored", Name: " feed ", Media: " video.example.com"},
			},
		}
		before := time.Now().UTC()
		if err := db.CreateCampaign(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if !campaignIDRE.MatchString(string(c.ID)) {
			t.Fatalf("id = %q, want 8 digits", c.ID)
		}
		if c.Created.Before(before.Truncate(time.Microsecond)) || c.Created.After(time.Now()) {
			t.Fatalf("created = %v, not the time of creation", c.Created)
		}
		if c.Name != "Spring sale" || c.AllowedHosts[0] != "m.shop.example.com" {
			t.Fatalf("campaign not normalised: %+v", c)
		}
		ids := map[admeter.PlacementID]bool{}
		for i, p := range c.Placements {
			if !placementIDRE.MatchString(string(p.ID)) {
				t.Fatalf("placements[%d].ID = %q, want 6 base62 characters", i, p.ID)
			}
			if p.Campaign != c.ID {
				t.Fatalf("placements[%d].Campaign = %q, want %q", i, p.Campaign, c.ID)
			}
			ids[p.ID] = true
		}
		if len(ids) != 2 {
			t.Fatalf("placement ids repeat: %v", c.Placements)
		}
		if c.Placements[1].Name != "feed" || c.Placements[1].Media != "video.example.com" {
			t.Fatalf("placement not normalised: %+v", c.Placements[1])
		}

		got, err := db.Campaign(t.Context(), tenant.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatalf("Campaign() =\n%#v\nwant\n%#v", got, c)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		db := openDB(t, open)
		tenant := mustCreateTenant(t, db, "Acme")
		c := newCampaign(tenant.ID, "Spring", 1)
		c.AllowedHosts = []string{}
		if err := db.CreateCampaign(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if c.Timezone != admeter.DefaultTimezone {
			t.Fatalf("timezone = %q, want %q", c.Timezone, admeter.DefaultTimezone)
		}
		got, err := db.Campaign(t.Context(), tenant.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatalf("Campaign() =\n%#v\nwant\n%#v", got, c)
		}
	})

	t.Run("ManyPlacements", func(t *testing.T) {
		db := openDB(t, open)
		tenant := mustCreateTenant(t, db, "Acme")
		c := newCampaign(tenant.ID, "Big", 1000)
		if err := db.CreateCampaign(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		got, err := db.Campaign(t.Context(), tenant.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, c) {
			t.Fatal("a campaign with 1000 placements reads back differently")
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		db := openDB(t, open)
		tenant := mustCreateTenant(t, db, "Acme")
		for _, tt := range []struct {
			name   string
			change func(c *admeter.Campaign)
		}{
			{"NoTenant", func(c *admeter.Campaign) { c.Tenant = "" }},
			{"NoName", func(c *admeter.Campaign) { c.Name = " " }},
			{"LongName", func(c *admeter.Campaign) { c.Name = strings.Repeat("n", 201) }},
			{"RelativeLandingURL", func(c *admeter.Campaign) { c.LandingURL = "/spring" }},
			{"JavaScriptLandingURL", func(c *admeter.Campaign) { c.LandingURL = "javascript:alert(1)" }},
			{"HostWithPath", func(c *admeter.Campaign) { c.AllowedHosts = []string{"shop.example.com/x"} }},
			{"BadTimezone", func(c *admeter.Campaign) { c.Timezone = "Mars/Olympus" }},
			{"NoPlacements", func(c *admeter.Campaign) { c.Placements = nil }},
			{"TooManyPlacements", func(c *admeter.Campaign) { c.Placements = newCampaign("", "", 1001).Placements }},
			{"PlacementWithoutName", func(c *admeter.Campaign) { c.Placements[0].Name = "" }},
			{"PlacementWithoutMedia", func(c *admeter.Campaign) { c.Placements[0].Media = " " }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := newCampaign(tenant.ID, "Spring", 2)
				tt.change(c)
				err := db.CreateCampaign(t.Context(), c)
				if code := admeter.ErrorCode(err); code != admeter.EINVALID {
					t.Fatalf("code = %q (err %v), want %q", code, err, admeter.EINVALID)
				}
				if c.ID != "" {
					t.Fatalf("an invalid campaign got id %s", c.ID)
				}
			})
		}
		if cs, err := db.AllCampaigns(t.Context()); err != nil || len(cs) != 0 {
			t.Fatalf("AllCampaigns() = %d campaigns, %v after invalid creates", len(cs), err)
		}
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		db := openDB(t, open)
		err := db.CreateCampaign(t.Context(), newCampaign("t_aaaaaaaaaa", "Spring", 1))
		if code := admeter.ErrorCode(err); code != admeter.ENOTFOUND {
			t.Fatalf("code = %q (err %v), want %q", code, err, admeter.ENOTFOUND)
		}
	})

	t.Run("IDCollisions", func(t *testing.T) {
		db := openDB(t, open)
		tenant := mustCreateTenant(t, db, "Acme")
		db.SetIntn(func(int) int { return 0 })
		a := newCampaign(tenant.ID, "A", 1)
		if err := db.CreateCampaign(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if a.ID != "10000000" || a.Placements[0].ID != "000000" {
			t.Fatalf("ids %s/%s with a zero random source", a.ID, a.Placements[0].ID)
		}

		// B's first campaign id and first placement id repeat A's; two
		// placements of B collide with each other.
		script := []int{0, 5} // campaign: taken, then 10000005
		script = append(script, 0, 0, 0, 0, 0, 0)
		script = append(script, 1, 1, 1, 1, 1, 1)
		script = append(script, 1, 1, 1, 1, 1, 1)
		script = append(script, 2, 2, 2, 2, 2, 2)
		db.SetIntn(func(int) int {
			v := script[0]
			script = script[1:]
			return v
		})
		b := newCampaign(tenant.ID, "B", 2)
		if err := db.CreateCampaign(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		if b.ID != "10000005" {
			t.Fatalf("id = %s, want 10000005 after one collision", b.ID)
		}
		if b.Placements[0].ID != "111111" || b.Placements[1].ID != "222222" {
			t.Fatalf("placement ids = %s, %s; want 111111, 222222", b.Placements[0].ID, b.Placements[1].ID)
		}
		if len(script) != 0 {
			t.Fatalf("%d random draws unused", len(script))
		}

		// With every id taken, creation fails and writes nothing.
		db.SetIntn(func(int) int { return 0 })
		version := mustVersion(t, db)
		err := db.CreateCampaign(t.Context(), newCampaign(tenant.ID, "C", 1))
		if err == nil || admeter.ErrorCode(err) != admeter.EINTERNAL || !strings.Contains(err.Error(), "allocate campaign id") {
			t.Fatalf("err = %v, want an internal allocation error", err)
		}
		if mustVersion(t, db) != version {
			t.Fatal("failed creation changed the version")
		}
		if cs, _ := db.Campaigns(t.Context(), tenant.ID); len(cs) != 2 {
			t.Fatalf("%d campaigns, want 2", len(cs))
		}
	})
}

func testCampaign_TenantIsolation(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tick := 0
	db.SetNow(func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Minute) })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")

	var aCampaigns, bCampaigns, all []*admeter.Campaign
	for i, tenant := range []*admeter.Tenant{a, b, a, a, b} {
		c := newCampaign(tenant.ID, fmt.Sprintf("campaign %d", i), i+1)
		if err := db.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
		if tenant == a {
			aCampaigns = append(aCampaigns, c)
		} else {
			bCampaigns = append(bCampaigns, c)
		}
	}

	// B cannot see A's campaign, and cannot tell it from a missing one.
	_, errForeign := db.Campaign(ctx, b.ID, aCampaigns[0].ID)
	if admeter.ErrorCode(errForeign) != admeter.ENOTFOUND {
		t.Fatalf("B reading A's campaign: err = %v, want ENOTFOUND", errForeign)
	}
	_, errMissing := db.Campaign(ctx, b.ID, "99999999")
	want := strings.ReplaceAll(admeter.ErrorMessage(errMissing), "99999999", string(aCampaigns[0].ID))
	if admeter.ErrorMessage(errForeign) != want {
		t.Fatalf("foreign campaign message %q differs from missing one %q", admeter.ErrorMessage(errForeign), want)
	}
	if got, err := db.Campaign(ctx, a.ID, aCampaigns[0].ID); err != nil || !reflect.DeepEqual(got, aCampaigns[0]) {
		t.Fatalf("A reading its own campaign: %v", err)
	}

	for _, tt := range []struct {
		name   string
		tenant admeter.TenantID
		want   []*admeter.Campaign
	}{
		{"A", a.ID, aCampaigns},
		{"B", b.ID, bCampaigns},
		{"Unknown", "t_aaaaaaaaaa", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Campaigns(ctx, tt.tenant)
			if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Campaigns() = %v, want %v", ids(got), ids(tt.want))
			}
		})
	}
	got, err := db.AllCampaigns(ctx)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, all) {
		t.Fatalf("AllCampaigns() = %v, want %v", ids(got), ids(all))
	}
}

func testCampaign_CanceledContext(t *testing.T, open Opener) {
	db := openDB(t, open)
	tenant := mustCreateTenant(t, db, "Acme")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.CreateCampaign(ctx, newCampaign(tenant.ID, "x", 1)); err == nil || admeter.ErrorCode(err) != admeter.EINTERNAL {
		t.Fatalf("CreateCampaign() err = %v, want a context error", err)
	}
	if _, err := db.Campaigns(ctx, tenant.ID); err == nil {
		t.Fatal("Campaigns() succeeded with a canceled context")
	}
	if v := mustVersion(t, db); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
}

// TestConcurrentWrites creates campaigns from many goroutines while others
// read, as concurrent HTTP requests do: none may fail with SQLITE_BUSY.
func testConcurrentWrites(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenants := []*admeter.Tenant{mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")}
	const writers, perWriter = 20, 5

	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter+100)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				c := newCampaign(tenants[w%2].ID, fmt.Sprintf("w%d-%d", w, i), 3)
				if err := db.CreateCampaign(ctx, c); err != nil {
					errs <- err
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				switch r % 3 {
				case 0:
					_, err = db.Campaigns(ctx, tenants[r%2].ID)
				case 1:
					_, err = db.AllCampaigns(ctx)
				case 2:
					_, err = db.Version(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	all, err := db.AllCampaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*perWriter {
		t.Fatalf("%d campaigns, want %d", len(all), writers*perWriter)
	}
	placements := map[admeter.PlacementID]bool{}
	for _, c := range all {
		for _, p := range c.Placements {
			placements[p.ID] = true
		}
	}
	if len(placements) != writers*perWriter*3 {
		t.Fatalf("%d distinct placement ids, want %d", len(placements), writers*perWriter*3)
	}
	if v := mustVersion(t, db); v != int64(len(tenants)+writers*perWriter) {
		t.Fatalf("version = %d, want %d", v, len(tenants)+writers*perWriter)
	}
}

func ids(cs []*admeter.Campaign) []admeter.CampaignID {
	var out []admeter.CampaignID
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testUpdateCampaign(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tn := mustCreateTenant(t, db, "Acme")
	other := mustCreateTenant(t, db, "Other")
	c := &admeter.Campaign{Tenant: tn.ID, Name: "old", LandingURL: "https://shop.example.com/",
		Placements: []admeter.Placement{{Name: "p1", Media: "m1"}}}
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	first := c.Placements[0].ID
	c.Name, c.LandingURL = "new", "https://shop.example.com/sale"
	c.Placements[0].Name = "p1 renamed"
	c.Placements = append(c.Placements, admeter.Placement{Name: "p2", Media: "m2"})
	if err := db.UpdateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.Campaign(ctx, tn.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "new" || got.LandingURL != "https://shop.example.com/sale" || len(got.Placements) != 2 ||
		got.Placements[0].ID != first || got.Placements[0].Name != "p1 renamed" || got.Placements[1].ID == "" || got.Placements[1].Name != "p2" {
		t.Fatalf("after update: %+v", got)
	}
	bad := *got
	bad.Tenant = other.ID
	if err := db.UpdateCampaign(ctx, &bad); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("another tenant's campaign: %v, want ENOTFOUND", err)
	}
	wrong := *got
	wrong.Placements = append([]admeter.Placement{}, got.Placements...)
	wrong.Placements[0].ID = "zzzzzz"
	if err := db.UpdateCampaign(ctx, &wrong); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Fatalf("a foreign placement id: %v, want EINVALID", err)
	}
}
