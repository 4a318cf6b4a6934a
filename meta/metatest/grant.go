package metatest

import (
	"crypto/sha256"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

var grantIDRE = regexp.MustCompile(`^gr_[a-z2-7]{12}$`)

// mustCreateTenantOfKind creates a tenant of kind named name whose token is
// "token-"+name.
func mustCreateTenantOfKind(tb testing.TB, db *testDB, name string, kind admeter.TenantKind) *admeter.Tenant {
	tb.Helper()
	t := &admeter.Tenant{Name: name, Kind: kind}
	if err := db.CreateTenant(tb.Context(), t, sha256.Sum256([]byte("token-"+name))); err != nil {
		tb.Fatal(err)
	}
	return t
}

// mustCreateCampaign creates a campaign of tenant with n placements.
func mustCreateCampaign(tb testing.TB, db *testDB, tenant admeter.TenantID, name string, n int) *admeter.Campaign {
	tb.Helper()
	c := newCampaign(tenant, name, n)
	if err := db.CreateCampaign(tb.Context(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustGrant grants grantee level on campaign of owner.
func mustGrant(tb testing.TB, db *testDB, owner, grantee admeter.TenantID, campaign admeter.CampaignID, level admeter.GrantLevel) *admeter.Grant {
	tb.Helper()
	g := &admeter.Grant{Owner: owner, Grantee: grantee, Campaign: campaign, Level: level, CreatedBy: "user:u_owner"}
	if err := db.CreateGrant(tb.Context(), g); err != nil {
		tb.Fatal(err)
	}
	return g
}

func testCreateGrant(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	adv := mustCreateTenant(t, db, "Advertiser")
	other := mustCreateTenant(t, db, "Other advertiser")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	agency2 := mustCreateTenantOfKind(t, db, "Agency 2", admeter.TenantAgency)
	closed := mustCreateTenantOfKind(t, db, "Closed agency", admeter.TenantAgency)
	if _, err := db.SetTenantStatus(ctx, closed.ID, admeter.TenantClosed, "left"); err != nil {
		t.Fatal(err)
	}
	media := mustCreateTenantOfKind(t, db, "Media", admeter.TenantMedia)
	camp := mustCreateCampaign(t, db, adv.ID, "Spring", 2)
	camp2 := mustCreateCampaign(t, db, adv.ID, "Summer", 1)
	foreign := mustCreateCampaign(t, db, other.ID, "Theirs", 1)
	agencyCamp := mustCreateCampaign(t, db, agency.ID, "Agency's own", 1)

	grant := func(owner, grantee admeter.TenantID, c admeter.CampaignID, level admeter.GrantLevel) admeter.Grant {
		return admeter.Grant{Owner: owner, Grantee: grantee, Campaign: c, Level: level, CreatedBy: "user:u_1"}
	}
	for _, tt := range []struct {
		name  string
		grant admeter.Grant
		code  string
		msg   string // in the message, when refused
	}{
		{"Read", grant(adv.ID, agency.ID, camp.ID, admeter.GrantRead), "", ""},
		{"Manage", grant(adv.ID, agency2.ID, camp.ID, admeter.GrantManage), "", ""},
		{"IgnoresRevoked", admeter.Grant{Owner: adv.ID, Grantee: agency.ID, Campaign: camp2.ID, Level: admeter.GrantRead,
			CreatedBy: "operator", Revoked: now}, "", ""},
		{"AgencysCampaign", grant(adv.ID, agency2.ID, agencyCamp.ID, admeter.GrantRead), admeter.ENOTFOUND, "not found"},
		{"ForeignCampaign", grant(adv.ID, agency.ID, foreign.ID, admeter.GrantRead), admeter.ENOTFOUND, "Campaign " + string(foreign.ID) + " not found"},
		{"ForeignCampaignToMedia", grant(adv.ID, media.ID, foreign.ID, admeter.GrantRead), admeter.ENOTFOUND, "not found"},
		{"MissingCampaign", grant(adv.ID, agency.ID, "99999999", admeter.GrantRead), admeter.ENOTFOUND, "Campaign 99999999 not found"},
		{"UnknownOwner", grant("t_aaaaaaaaaa", agency.ID, camp.ID, admeter.GrantRead), admeter.ENOTFOUND, "not found"},
		{"GranteeMedia", grant(adv.ID, media.ID, camp.ID, admeter.GrantRead), admeter.EINVALID, "only agencies receive grants"},
		{"GranteeAdvertiser", grant(adv.ID, other.ID, camp.ID, admeter.GrantRead), admeter.EINVALID, "only agencies receive grants"},
		{"GranteeUnknown", grant(adv.ID, "t_aaaaaaaaaa", camp.ID, admeter.GrantRead), admeter.EINVALID, "only agencies receive grants"},
		{"GranteeClosed", grant(adv.ID, closed.ID, camp.ID, admeter.GrantRead), admeter.EINVALID, "only agencies receive grants"},
		{"GranteeSelf", grant(adv.ID, adv.ID, camp.ID, admeter.GrantRead), admeter.EINVALID, "another account"},
		{"OwnerAgency", grant(agency.ID, agency2.ID, agencyCamp.ID, admeter.GrantRead), admeter.EINVALID, "Only an advertiser"},
		{"BadLevel", grant(adv.ID, agency.ID, camp.ID, "write"), admeter.EINVALID, "level"},
		{"NoLevel", grant(adv.ID, agency.ID, camp.ID, ""), admeter.EINVALID, "level"},
		{"NoCampaign", grant(adv.ID, agency.ID, "", admeter.GrantRead), admeter.EINVALID, "campaign"},
		{"NoCreator", admeter.Grant{Owner: adv.ID, Grantee: agency.ID, Campaign: camp.ID, Level: admeter.GrantRead}, admeter.EINTERNAL, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			g := tt.grant
			err := db.CreateGrant(ctx, &g)
			wantCode(t, err, tt.code)
			if tt.code != "" {
				if g.ID != "" || mustVersion(t, db) != version {
					t.Fatal("a refused grant was written")
				}
				if !strings.Contains(admeter.ErrorMessage(err), tt.msg) {
					t.Fatalf("message %q does not say %q", admeter.ErrorMessage(err), tt.msg)
				}
				return
			}
			if !grantIDRE.MatchString(string(g.ID)) {
				t.Fatalf("id = %q, want gr_ and 12 base32 characters", g.ID)
			}
			want := tt.grant
			want.ID, want.Created, want.Revoked = g.ID, now, time.Time{}
			if !reflect.DeepEqual(g, want) {
				t.Fatalf("grant = %+v, want %+v", g, want)
			}
			got, err := db.GrantFor(ctx, g.Grantee, g.Campaign)
			if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(got, &want) {
				t.Fatalf("GrantFor() = %+v, want %+v", got, want)
			}
		})
	}

	// A foreign campaign reads exactly like a missing one.
	g := grant(adv.ID, agency.ID, foreign.ID, admeter.GrantRead)
	errForeign := db.CreateGrant(ctx, &g)
	g = grant(adv.ID, agency.ID, "99999999", admeter.GrantRead)
	errMissing := db.CreateGrant(ctx, &g)
	if strings.ReplaceAll(admeter.ErrorMessage(errMissing), "99999999", string(foreign.ID)) != admeter.ErrorMessage(errForeign) {
		t.Fatalf("messages differ: %q, %q", admeter.ErrorMessage(errForeign), admeter.ErrorMessage(errMissing))
	}
}

func testCreateGrant_UpdatesLiveGrant(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tick := 0
	db.SetNow(func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Minute) })
	adv := mustCreateTenant(t, db, "Advertiser")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	camp := mustCreateCampaign(t, db, adv.ID, "Spring", 1)

	first := mustGrant(t, db, adv.ID, agency.ID, camp.ID, admeter.GrantRead)
	for _, tt := range []struct {
		name  string
		level admeter.GrantLevel
	}{
		{"Upgrade", admeter.GrantManage},
		{"Same", admeter.GrantManage},
		{"Downgrade", admeter.GrantRead},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			g := &admeter.Grant{Owner: adv.ID, Grantee: agency.ID, Campaign: camp.ID, Level: tt.level, CreatedBy: "user:u_other"}
			if err := db.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
			want := *first
			want.Level = tt.level
			if !reflect.DeepEqual(g, &want) {
				t.Fatalf("grant = %+v, want the existing one at the new level %+v", g, want)
			}
			if mustVersion(t, db) == version {
				t.Fatal("change counter not bumped")
			}
			if got, err := db.GrantFor(ctx, agency.ID, camp.ID); err != nil || !reflect.DeepEqual(got, &want) {
				t.Fatalf("GrantFor() = %+v, %v; want %+v", got, err, want)
			}
			if gs, err := db.Grants(ctx, adv.ID); err != nil || len(gs) != 1 {
				t.Fatalf("Grants() = %+v, %v; want one grant", gs, err)
			}
		})
	}

	// After revocation a new grant is a new one; the revoked one stays.
	if err := db.RevokeGrant(ctx, adv.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	second := mustGrant(t, db, adv.ID, agency.ID, camp.ID, admeter.GrantManage)
	if second.ID == first.ID || !second.Revoked.IsZero() {
		t.Fatalf("grant after revocation = %+v, want a new live grant", second)
	}
	gs, err := db.Grants(ctx, agency.ID)
	if err != nil || len(gs) != 2 || gs[0].ID != second.ID || gs[1].ID != first.ID || gs[1].Revoked.IsZero() {
		t.Fatalf("Grants() = %+v, %v; want the new grant, then the revoked one", gs, err)
	}
}

func testGrants_IsolationAndRevocation(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tick := 0
	db.SetNow(func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Minute) })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")
	g, h := mustCreateTenantOfKind(t, db, "G", admeter.TenantAgency), mustCreateTenantOfKind(t, db, "H", admeter.TenantAgency)
	a1 := mustCreateCampaign(t, db, a.ID, "A1", 2)
	a2 := mustCreateCampaign(t, db, a.ID, "A2", 1)
	a3 := mustCreateCampaign(t, db, a.ID, "A3", 1)
	b1 := mustCreateCampaign(t, db, b.ID, "B1", 3)

	gA1 := mustGrant(t, db, a.ID, g.ID, a1.ID, admeter.GrantRead)
	gB1 := mustGrant(t, db, b.ID, g.ID, b1.ID, admeter.GrantManage)
	gA2 := mustGrant(t, db, a.ID, g.ID, a2.ID, admeter.GrantManage)
	hA1 := mustGrant(t, db, a.ID, h.ID, a1.ID, admeter.GrantManage)

	for _, tt := range []struct {
		name      string
		tenant    admeter.TenantID
		grants    []*admeter.Grant
		campaigns []*admeter.Campaign // GrantedCampaigns, oldest campaign first
	}{
		{"OwnerA", a.ID, []*admeter.Grant{hA1, gA2, gA1}, nil},
		{"OwnerB", b.ID, []*admeter.Grant{gB1}, nil},
		{"AgencyG", g.ID, []*admeter.Grant{gA2, gB1, gA1}, []*admeter.Campaign{a1, a2, b1}},
		{"AgencyH", h.ID, []*admeter.Grant{hA1}, []*admeter.Campaign{a1}},
		{"Unknown", "t_aaaaaaaaaa", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := db.Grants(ctx, tt.tenant)
			if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(gs, tt.grants) {
				t.Fatalf("Grants() = %+v, want %+v", gs, tt.grants)
			}
			cs, err := db.GrantedCampaigns(ctx, tt.tenant)
			if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(cs, tt.campaigns) {
				t.Fatalf("GrantedCampaigns() = %v, want %v", ids(cs), ids(tt.campaigns))
			}
		})
	}

	// Nobody but the owner can revoke, nor tell a foreign grant from a
	// missing one: not another advertiser, not the grantee.
	errMissing := db.RevokeGrant(ctx, a.ID, "gr_aaaaaaaaaaaa")
	wantCode(t, errMissing, admeter.ENOTFOUND)
	for _, tt := range []struct {
		name   string
		tenant admeter.TenantID
		grant  admeter.GrantID
	}{
		{"OtherAdvertiser", b.ID, gA1.ID},
		{"Grantee", g.ID, gA1.ID},
		{"OtherAgency", h.ID, gA1.ID},
		{"OwnerOfAnotherGrantOfTheAgency", a.ID, gB1.ID},
	} {
		t.Run("Revoke"+tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			err := db.RevokeGrant(ctx, tt.tenant, tt.grant)
			wantCode(t, err, admeter.ENOTFOUND)
			if strings.ReplaceAll(admeter.ErrorMessage(errMissing), "gr_aaaaaaaaaaaa", string(tt.grant)) != admeter.ErrorMessage(err) {
				t.Fatalf("messages differ: %q, %q", admeter.ErrorMessage(err), admeter.ErrorMessage(errMissing))
			}
			if mustVersion(t, db) != version {
				t.Fatal("a refused revocation wrote")
			}
			if _, err := db.GrantFor(ctx, g.ID, a1.ID); err != nil {
				t.Fatalf("grant revoked through another tenant: %v", err)
			}
		})
	}

	// GrantFor finds only the grantee's own live grant.
	for _, tt := range []struct {
		name     string
		grantee  admeter.TenantID
		campaign admeter.CampaignID
		want     *admeter.Grant
	}{
		{"Granted", g.ID, a1.ID, gA1},
		{"OtherAgency", h.ID, a1.ID, hA1},
		{"NotGranted", g.ID, a3.ID, nil},
		{"NotGrantedToThisAgency", h.ID, b1.ID, nil},
		{"Owner", a.ID, a1.ID, nil},
		{"Missing", g.ID, "99999999", nil},
	} {
		t.Run("GrantFor"+tt.name, func(t *testing.T) {
			got, err := db.GrantFor(ctx, tt.grantee, tt.campaign)
			if tt.want == nil {
				wantCode(t, err, admeter.ENOTFOUND)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("GrantFor() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}

	if err := db.RevokeGrant(ctx, a.ID, gA1.ID); err != nil {
		t.Fatal(err)
	}
	revokedAt := base.Add(time.Duration(tick) * time.Minute)
	_, err := db.GrantFor(ctx, g.ID, a1.ID)
	wantCode(t, err, admeter.ENOTFOUND)
	if got, err := db.GrantFor(ctx, h.ID, a1.ID); err != nil || got.ID != hA1.ID {
		t.Fatalf("H's grant on the same campaign after G's revocation: %+v, %v", got, err)
	}
	if cs, err := db.GrantedCampaigns(ctx, g.ID); err != nil || !reflect.DeepEqual(ids(cs), ids([]*admeter.Campaign{a2, b1})) {
		t.Fatalf("GrantedCampaigns() after revocation = %v, %v; want %v", ids(cs), err, ids([]*admeter.Campaign{a2, b1}))
	}
	if err := db.RevokeGrant(ctx, a.ID, gA1.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	gs, _ := db.Grants(ctx, g.ID)
	if len(gs) != 3 || gs[2].ID != gA1.ID || !gs[2].Revoked.Equal(revokedAt) || !gs[0].Revoked.IsZero() || !gs[1].Revoked.IsZero() {
		t.Fatalf("after revocation: %+v, want gA1 revoked at %v and kept in the list", gs, revokedAt)
	}
}

func testCreateGrant_Concurrent(t *testing.T, open Opener) {
	db := openDB(t, open)
	adv := mustCreateTenant(t, db, "Advertiser")
	agency := mustCreateTenantOfKind(t, db, "Agency", admeter.TenantAgency)
	camp := mustCreateCampaign(t, db, adv.ID, "Spring", 1)

	const n = 8
	got := make([]admeter.GrantID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			level := admeter.GrantRead
			if i%2 == 1 {
				level = admeter.GrantManage
			}
			g := &admeter.Grant{Owner: adv.ID, Grantee: agency.ID, Campaign: camp.ID, Level: level, CreatedBy: "user:u_1"}
			errs[i] = db.CreateGrant(t.Context(), g)
			got[i] = g.ID
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		} else if got[i] != got[0] {
			t.Fatalf("concurrent grants got ids %v, want one grant", got)
		}
	}
	if gs, err := db.Grants(t.Context(), agency.ID); err != nil || len(gs) != 1 {
		t.Fatalf("Grants() = %+v, %v; want one grant", gs, err)
	}
}
