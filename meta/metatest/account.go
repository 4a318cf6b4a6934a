package metatest

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// code with its check character (GB 32100-2015).
func creditCode(prefix string) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	w := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := range 17 {
		sum += strings.IndexByte(chars, prefix[i]) * w[i]
	}
	return prefix + string(chars[(31-sum%31)%31])
}

// newRegistration returns a valid registration whose credit code and email
// derive from n.
func newRegistration(n int) admeter.Registration {
	return admeter.Registration{
		Company:    fmt.Sprintf("Acme %d Ltd", n),
		CreditCode: creditCode(fmt.Sprintf("91110108%09d", n)),
		LicenceRef: "LIC-" + fmt.Sprint(n),
		Contact:    "Li Lei",
		Phone:      "13812345678",
		Email:      fmt.Sprintf("contact%d@acme.example.com", n),
	}
}

// mustRegister registers a media tenant from newRegistration(n) with an
// owner signing in as owner<n>@acme.example.com, and returns both.
func mustRegister(tb testing.TB, db *testDB, n int) (*admeter.Tenant, *admeter.User) {
	tb.Helper()
	t := &admeter.Tenant{Kind: admeter.TenantMedia, Registration: newRegistration(n)}
	u := &admeter.User{Email: fmt.Sprintf("owner%d@acme.example.com", n), Name: "Owner"}
	if err := db.RegisterTenant(tb.Context(), t, u, "hash-"+fmt.Sprint(n)); err != nil {
		tb.Fatal(err)
	}
	return t, u
}

// mustActivate moves tenant id from pending to active.
func mustActivate(tb testing.TB, db *testDB, id admeter.TenantID) {
	tb.Helper()
	for _, s := range []admeter.TenantStatus{admeter.TenantVerified, admeter.TenantActive} {
		if _, err := db.SetTenantStatus(tb.Context(), id, s, "checked"); err != nil {
			tb.Fatal(err)
		}
	}
}

// wantCode fails t unless err has code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := admeter.ErrorCode(err); got != code {
		t.Fatalf("code = %q (err %v), want %q", got, err, code)
	}
}

func testCreditCodeHelper(t *testing.T, open Opener) {
	if got := creditCode("91110108551385082"); got != "91110108551385082Q" {
		t.Fatalf("creditCode = %s, want the known code 91110108551385082Q", got)
	}
}

func testRegisterTenant(t *testing.T, open Opener) {
	t.Run("OK", func(t *testing.T) {
		db := openDB(t, open)
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		db.SetNow(func() time.Time { return now })
		reg := newRegistration(1)
		reg.CreditCode = strings.ToLower(reg.CreditCode)
		reg.Phone = "+86 138-1234-5678"
		tenant := &admeter.Tenant{Kind: admeter.TenantAdvertiser, Status: admeter.TenantActive, Registration: reg}
		owner := &admeter.User{Email: " Owner@Acme.example.com ", Role: admeter.RoleViewer, Disabled: true}
		if err := db.RegisterTenant(t.Context(), tenant, owner, "argon2id$x"); err != nil {
			t.Fatal(err)
		}
		want := &admeter.Tenant{ID: tenant.ID, Name: "Acme 1 Ltd", Kind: admeter.TenantAdvertiser,
			Status: admeter.TenantPending, Registration: newRegistration(1), Created: now}
		if !tenantIDRE.MatchString(string(tenant.ID)) || !reflect.DeepEqual(tenant, want) {
			t.Fatalf("tenant = %+v, want %+v", tenant, want)
		}
		if got, err := db.Tenant(t.Context(), tenant.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Tenant() = %+v, %v; want %+v", got, err, want)
		}
		wantOwner := &admeter.User{ID: owner.ID, Tenant: tenant.ID, Email: "Owner@Acme.example.com", Name: "Li Lei",
			Role: admeter.RoleOwner, Created: now}
		if !userIDRE.MatchString(string(owner.ID)) || !reflect.DeepEqual(owner, wantOwner) {
			t.Fatalf("owner = %+v, want %+v", owner, wantOwner)
		}
		u, cred, err := db.UserCredentials(t.Context(), "owner@acme.EXAMPLE.com")
		if err != nil || !reflect.DeepEqual(u, wantOwner) || cred.PasswordHash != "argon2id$x" {
			t.Fatalf("UserCredentials() = %+v, %+v, %v", u, cred, err)
		}
		if toks, err := db.Tokens(t.Context(), tenant.ID); err != nil || len(toks) != 0 {
			t.Fatalf("a registration got tokens: %v, %v", toks, err)
		}
		if v := mustVersion(t, db); v != 1 {
			t.Fatalf("version = %d, want 1", v)
		}
	})

	db := openDB(t, open)
	first, _ := mustRegister(t, db, 1)
	for _, tt := range []struct {
		name   string
		change func(t *admeter.Tenant, u *admeter.User)
		code   string
		msg    string
	}{
		{"NoRegistration", func(t *admeter.Tenant, u *admeter.User) { t.Registration = admeter.Registration{}; t.Name = "X" }, admeter.EINVALID, "company"},
		{"BadCreditCode", func(t *admeter.Tenant, u *admeter.User) { t.Registration.CreditCode = "91110108551385082X" }, admeter.EINVALID, "check character"},
		{"BadPhone", func(t *admeter.Tenant, u *admeter.User) { t.Registration.Phone = "12345" }, admeter.EINVALID, "phone"},
		{"BadKind", func(t *admeter.Tenant, u *admeter.User) { t.Kind = "publisher" }, admeter.EINVALID, "kind"},
		{"BadOwnerEmail", func(t *admeter.Tenant, u *admeter.User) { u.Email = "owner" }, admeter.EINVALID, "email"},
		{"DuplicateCreditCode", func(t *admeter.Tenant, u *admeter.User) { t.Registration.CreditCode = first.Registration.CreditCode }, admeter.ECONFLICT, "credit code"},
		{"DuplicateEmail", func(t *admeter.Tenant, u *admeter.User) { u.Email = "OWNER1@acme.example.com" }, admeter.ECONFLICT, "email"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tenant := &admeter.Tenant{Kind: admeter.TenantAgency, Registration: newRegistration(2)}
			owner := &admeter.User{Email: "owner2@acme.example.com", Name: "O"}
			tt.change(tenant, owner)
			version := mustVersion(t, db)
			err := db.RegisterTenant(t.Context(), tenant, owner, "h")
			wantCode(t, err, tt.code)
			if !strings.Contains(admeter.ErrorMessage(err), tt.msg) {
				t.Fatalf("message %q does not mention %q", admeter.ErrorMessage(err), tt.msg)
			}
			if tenant.ID != "" || owner.ID != "" || mustVersion(t, db) != version {
				t.Fatal("a refused registration wrote")
			}
		})
	}
	if all, err := db.Tenants(t.Context(), ""); err != nil || len(all) != 1 {
		t.Fatalf("%d tenants after refused registrations (%v), want 1", len(all), err)
	}
	if err := db.RegisterTenant(t.Context(), &admeter.Tenant{Kind: admeter.TenantAgency, Registration: newRegistration(3)},
		&admeter.User{Email: "x@acme.example.com"}, ""); err == nil {
		t.Fatal("empty password hash accepted")
	}
}

func testSetTenantStatus(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		path []admeter.TenantStatus // from pending
		ok   bool
	}{
		{"Verify", []admeter.TenantStatus{admeter.TenantVerified}, true},
		{"Activate", []admeter.TenantStatus{admeter.TenantVerified, admeter.TenantActive}, true},
		{"ActivateUnverified", []admeter.TenantStatus{admeter.TenantActive}, false},
		{"SuspendPending", []admeter.TenantStatus{admeter.TenantSuspended}, false},
		{"SuspendAndResume", []admeter.TenantStatus{admeter.TenantVerified, admeter.TenantActive, admeter.TenantSuspended, admeter.TenantActive}, true},
		{"ClosePending", []admeter.TenantStatus{admeter.TenantClosed}, true},
		{"CloseTwice", []admeter.TenantStatus{admeter.TenantClosed, admeter.TenantClosed}, false},
		{"ReopenClosed", []admeter.TenantStatus{admeter.TenantClosed, admeter.TenantActive}, false},
		{"Undefined", []admeter.TenantStatus{"deleted"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, open)
			now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
			db.SetNow(func() time.Time { return now })
			tenant, _ := mustRegister(t, db, 1)
			var err error
			var got *admeter.Tenant
			for i, s := range tt.path {
				version := mustVersion(t, db)
				got, err = db.SetTenantStatus(t.Context(), tenant.ID, s, fmt.Sprintf("step %d", i))
				if err != nil {
					if mustVersion(t, db) != version {
						t.Fatal("a refused move wrote")
					}
					break
				}
			}
			if !tt.ok {
				wantCode(t, err, admeter.ECONFLICT)
				return
			} else if err != nil {
				t.Fatal(err)
			}
			last := tt.path[len(tt.path)-1]
			want := *tenant
			want.Status, want.StatusNote = last, fmt.Sprintf("step %d", len(tt.path)-1)
			if last == admeter.TenantClosed {
				want.Closed = now
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("SetTenantStatus() = %+v, want %+v", got, &want)
			}
			if stored, _ := db.Tenant(t.Context(), tenant.ID); !reflect.DeepEqual(stored, &want) {
				t.Fatalf("Tenant() = %+v, want %+v", stored, &want)
			}
		})
	}

	t.Run("Errors", func(t *testing.T) {
		db := openDB(t, open)
		tenant, _ := mustRegister(t, db, 1)
		_, err := db.SetTenantStatus(t.Context(), "t_aaaaaaaaaa", admeter.TenantVerified, "")
		wantCode(t, err, admeter.ENOTFOUND)
		_, err = db.SetTenantStatus(t.Context(), tenant.ID, admeter.TenantVerified, strings.Repeat("注", 1001))
		wantCode(t, err, admeter.EINVALID)
	})

	t.Run("ClosingFreesCreditCode", func(t *testing.T) {
		db := openDB(t, open)
		tenant, _ := mustRegister(t, db, 1)
		again := &admeter.Tenant{Kind: admeter.TenantMedia, Registration: newRegistration(1)}
		owner := &admeter.User{Email: "new@acme.example.com", Name: "N"}
		wantCode(t, db.RegisterTenant(t.Context(), again, owner, "h"), admeter.ECONFLICT)
		if _, err := db.SetTenantStatus(t.Context(), tenant.ID, admeter.TenantClosed, "asked to close"); err != nil {
			t.Fatal(err)
		}
		if err := db.RegisterTenant(t.Context(), again, owner, "h"); err != nil {
			t.Fatalf("registering a closed account's company again: %v", err)
		}
	})
}

func testUpdateRegistration(t *testing.T, open Opener) {
	db := openDB(t, open)
	a, _ := mustRegister(t, db, 1)
	b, _ := mustRegister(t, db, 2)
	changed := newRegistration(3)
	changed.Contact = " Han Meimei "

	for _, tt := range []struct {
		name   string
		tenant admeter.TenantID
		reg    admeter.Registration
		code   string
	}{
		{"OK", a.ID, changed, ""},
		{"KeepOwnCode", a.ID, changed, ""},
		{"OtherTenantsCode", a.ID, newRegistration(2), admeter.ECONFLICT},
		{"Invalid", a.ID, admeter.Registration{Company: "X"}, admeter.EINVALID},
		{"UnknownTenant", "t_aaaaaaaaaa", newRegistration(4), admeter.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			err := db.UpdateRegistration(t.Context(), tt.tenant, tt.reg)
			wantCode(t, err, tt.code)
			if tt.code != "" {
				if mustVersion(t, db) != version {
					t.Fatal("a refused update wrote")
				}
				return
			}
			got, err := db.Tenant(t.Context(), tt.tenant)
			want := tt.reg
			want.Normalize()
			if err != nil || got.Registration != want {
				t.Fatalf("registration = %+v (%v), want %+v", got.Registration, err, want)
			}
		})
	}
	if got, _ := db.Tenant(t.Context(), b.ID); got.Registration != newRegistration(2) {
		t.Fatalf("B's registration changed: %+v", got.Registration)
	}
	if _, err := db.SetTenantStatus(t.Context(), b.ID, admeter.TenantClosed, ""); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.UpdateRegistration(t.Context(), b.ID, newRegistration(5)), admeter.ECONFLICT)
}

func testTenants(t *testing.T, open Opener) {
	db := openDB(t, open)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tick := 0
	db.SetNow(func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Minute) })
	op := mustCreateTenant(t, db, "Operator-made")
	p1, _ := mustRegister(t, db, 1)
	p2, _ := mustRegister(t, db, 2)
	if _, err := db.SetTenantStatus(t.Context(), p2.ID, admeter.TenantVerified, ""); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		status admeter.TenantStatus
		want   []admeter.TenantID
	}{
		{"", []admeter.TenantID{op.ID, p1.ID, p2.ID}},
		{admeter.TenantActive, []admeter.TenantID{op.ID}},
		{admeter.TenantPending, []admeter.TenantID{p1.ID}},
		{admeter.TenantVerified, []admeter.TenantID{p2.ID}},
		{admeter.TenantClosed, nil},
	} {
		t.Run(string(tt.status), func(t *testing.T) {
			ts, err := db.Tenants(t.Context(), tt.status)
			if err != nil {
				t.Fatal(err)
			}
			var got []admeter.TenantID
			for _, tn := range ts {
				got = append(got, tn.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Tenants(%q) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
	_, err := db.Tenants(t.Context(), "deleted")
	wantCode(t, err, admeter.EINVALID)
}

func testPlacementMediaTenant(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	adv := mustCreateTenant(t, db, "Advertiser")
	media := &admeter.Tenant{Name: "News", Kind: admeter.TenantMedia}
	if err := db.CreateTenant(ctx, media, sha256.Sum256([]byte("media"))); err != nil {
		t.Fatal(err)
	}
	c := newCampaign(adv.ID, "Spring", 3)
	c.Placements[0].MediaTenant = media.ID
	c.Placements[2].MediaTenant = media.ID
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.Placements[0].MediaTenant != media.ID || c.Placements[1].MediaTenant != "" {
		t.Fatalf("placements after create: %+v", c.Placements)
	}
	got, err := db.Campaign(ctx, adv.ID, c.ID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("Campaign() = %+v, %v; want %+v", got, err, c)
	}
	all, err := db.AllCampaigns(ctx)
	if err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], c) {
		t.Fatalf("AllCampaigns() = %+v, %v", all, err)
	}
	ps, err := db.PlacementsOfMedia(ctx, media.ID)
	if err != nil {
		t.Fatal(err)
	} else if want := []admeter.Placement{c.Placements[0], c.Placements[2]}; !reflect.DeepEqual(ps, want) {
		t.Fatalf("PlacementsOfMedia() = %+v, want %+v", ps, want)
	}
	if ps, err := db.PlacementsOfMedia(ctx, adv.ID); err != nil || len(ps) != 0 {
		t.Fatalf("PlacementsOfMedia(advertiser) = %+v, %v", ps, err)
	}

	for _, tt := range []struct {
		name  string
		media admeter.TenantID
	}{
		{"NotMedia", adv.ID},
		{"Unknown", "t_aaaaaaaaaa"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCampaign(adv.ID, "Bad", 2)
			c.Placements[1].MediaTenant = tt.media
			err := db.CreateCampaign(ctx, c)
			wantCode(t, err, admeter.EINVALID)
			if !strings.Contains(admeter.ErrorMessage(err), "placements[1]") {
				t.Fatalf("message %q does not name the placement", admeter.ErrorMessage(err))
			}
		})
	}
}

func testTenantByTokenHash_Scopes(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenant := mustCreateTenant(t, db, "Acme")
	for _, tt := range []struct {
		name   string
		scopes []admeter.TokenScope
		found  bool
	}{
		{"Manage", []admeter.TokenScope{admeter.ScopeManage}, true},
		{"CollectOnly", []admeter.TokenScope{admeter.ScopeCollect}, false},
		{"ReadOnly", []admeter.TokenScope{admeter.ScopeReportsRead}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hash := sha256.Sum256([]byte(tt.name))
			tok := &admeter.APIToken{Tenant: tenant.ID, Name: tt.name, Scopes: tt.scopes, CreatedBy: "operator"}
			if err := db.CreateToken(ctx, tok, hash); err != nil {
				t.Fatal(err)
			}
			_, err := db.TenantByTokenHash(ctx, hash)
			if tt.found && err != nil {
				t.Fatal(err)
			} else if !tt.found {
				wantCode(t, err, admeter.ENOTFOUND)
			}
		})
	}
}

func testCreateTenant_Registration(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	withReg := &admeter.Tenant{Name: "Acme", Kind: admeter.TenantAdvertiser, Status: admeter.TenantPending, Registration: newRegistration(1)}
	if err := db.CreateTenant(ctx, withReg, sha256.Sum256([]byte("a"))); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Tenant(ctx, withReg.ID); err != nil || got.Status != admeter.TenantActive || got.Registration != newRegistration(1) {
		t.Fatalf("Tenant() = %+v, %v; want it active with its registration", got, err)
	}
	partial := newRegistration(2)
	partial.Phone = ""
	for _, tt := range []struct {
		name   string
		tenant admeter.Tenant
		code   string
	}{
		{"BadStatus", admeter.Tenant{Name: "X", Kind: admeter.TenantMedia, Status: "deleted"}, admeter.EINVALID},
		{"PartialRegistration", admeter.Tenant{Name: "X", Kind: admeter.TenantMedia, Registration: partial}, admeter.EINVALID},
		{"DuplicateCreditCode", admeter.Tenant{Name: "X", Kind: admeter.TenantMedia, Registration: newRegistration(1)}, admeter.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			wantCode(t, db.CreateTenant(ctx, &tt.tenant, sha256.Sum256([]byte(tt.name))), tt.code)
			if mustVersion(t, db) != version {
				t.Fatal("a refused tenant was written")
			}
		})
	}
}
