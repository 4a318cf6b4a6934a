package metatest

import (
	"crypto/sha256"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

var userIDRE = regexp.MustCompile(`^u_[a-z2-7]{12}$`)

// mustCreateUser creates a user of tenant with the given email and role.
func mustCreateUser(tb testing.TB, db *testDB, tenant admeter.TenantID, email string, role admeter.Role) *admeter.User {
	tb.Helper()
	u := &admeter.User{Tenant: tenant, Email: email, Name: "User " + email, Role: role}
	if err := db.CreateUser(tb.Context(), u, "hash-"+email); err != nil {
		tb.Fatal(err)
	}
	return u
}

func testCreateUser(t *testing.T, open Opener) {
	db := openDB(t, open)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")
	mustCreateUser(t, db, a.ID, "taken@a.example.com", admeter.RoleOwner)

	for _, tt := range []struct {
		name string
		user admeter.User
		hash string
		code string
	}{
		{"OK", admeter.User{Tenant: b.ID, Email: " new@b.example.com", Name: " Han ", Role: admeter.RoleAnalyst, TOTP: true}, "h", ""},
		{"Disabled", admeter.User{Tenant: b.ID, Email: "off@b.example.com", Name: "Off", Role: admeter.RoleViewer, Disabled: true}, "h", ""},
		{"NoTenant", admeter.User{Email: "x@b.example.com", Name: "X", Role: admeter.RoleViewer}, "h", admeter.EINVALID},
		{"BadEmail", admeter.User{Tenant: b.ID, Email: "Han <han@b.example.com>", Name: "X", Role: admeter.RoleViewer}, "h", admeter.EINVALID},
		{"NoName", admeter.User{Tenant: b.ID, Email: "x@b.example.com", Name: " ", Role: admeter.RoleViewer}, "h", admeter.EINVALID},
		{"LongName", admeter.User{Tenant: b.ID, Email: "x@b.example.com", Name: strings.Repeat("名", 101), Role: admeter.RoleViewer}, "h", admeter.EINVALID},
		{"BadRole", admeter.User{Tenant: b.ID, Email: "x@b.example.com", Name: "X", Role: "root"}, "h", admeter.EINVALID},
		{"UnknownTenant", admeter.User{Tenant: "t_aaaaaaaaaa", Email: "x@b.example.com", Name: "X", Role: admeter.RoleViewer}, "h", admeter.ENOTFOUND},
		{"EmailOfAnotherTenant", admeter.User{Tenant: b.ID, Email: "TAKEN@a.example.com", Name: "X", Role: admeter.RoleViewer}, "h", admeter.ECONFLICT},
		{"NoPasswordHash", admeter.User{Tenant: b.ID, Email: "x@b.example.com", Name: "X", Role: admeter.RoleViewer}, "", admeter.EINTERNAL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			u := tt.user
			err := db.CreateUser(t.Context(), &u, tt.hash)
			wantCode(t, err, tt.code)
			if tt.code != "" {
				if u.ID != "" || mustVersion(t, db) != version {
					t.Fatal("a refused user was written")
				}
				return
			}
			want := tt.user
			want.ID, want.Created, want.TOTP = u.ID, now, false
			want.Email, want.Name = strings.TrimSpace(want.Email), strings.TrimSpace(want.Name)
			if !userIDRE.MatchString(string(u.ID)) || !reflect.DeepEqual(&u, &want) {
				t.Fatalf("user = %+v, want %+v", u, want)
			}
			if got, err := db.User(t.Context(), b.ID, u.ID); err != nil || !reflect.DeepEqual(got, &want) {
				t.Fatalf("User() = %+v, %v; want %+v", got, err, want)
			}
			if mustVersion(t, db) != version+1 {
				t.Fatal("version not bumped")
			}
		})
	}
}

func testUser_TenantIsolation(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")
	ua := mustCreateUser(t, db, a.ID, "a@a.example.com", admeter.RoleOwner)
	ua2 := mustCreateUser(t, db, a.ID, "a2@a.example.com", admeter.RoleViewer)
	ub := mustCreateUser(t, db, b.ID, "b@b.example.com", admeter.RoleOwner)

	_, errForeign := db.User(ctx, b.ID, ua.ID)
	wantCode(t, errForeign, admeter.ENOTFOUND)
	_, errMissing := db.User(ctx, b.ID, "u_aaaaaaaaaaaa")
	if strings.ReplaceAll(admeter.ErrorMessage(errMissing), "u_aaaaaaaaaaaa", string(ua.ID)) != admeter.ErrorMessage(errForeign) {
		t.Fatalf("foreign user message %q differs from a missing one's %q", admeter.ErrorMessage(errForeign), admeter.ErrorMessage(errMissing))
	}
	for _, tt := range []struct {
		tenant admeter.TenantID
		want   []*admeter.User
	}{
		{a.ID, []*admeter.User{ua, ua2}},
		{b.ID, []*admeter.User{ub}},
		{"t_aaaaaaaaaa", nil},
	} {
		if got, err := db.Users(ctx, tt.tenant); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("Users(%s) = %v, %v; want %v", tt.tenant, got, err, tt.want)
		}
	}
	moved := *ua2
	moved.Tenant, moved.Role = b.ID, admeter.RoleAdmin
	wantCode(t, db.UpdateUser(ctx, &moved), admeter.ENOTFOUND)
	wantCode(t, db.DeleteUser(ctx, b.ID, ua2.ID), admeter.ENOTFOUND)
	if got, _ := db.User(ctx, a.ID, ua2.ID); !reflect.DeepEqual(got, ua2) {
		t.Fatalf("another tenant changed a user: %+v", got)
	}
}

func testUpdateUser(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenant := mustCreateTenant(t, db, "A")
	owner := mustCreateUser(t, db, tenant.ID, "owner@a.example.com", admeter.RoleOwner)
	admin := mustCreateUser(t, db, tenant.ID, "admin@a.example.com", admeter.RoleAdmin)

	for _, tt := range []struct {
		name   string
		user   *admeter.User
		change func(u *admeter.User)
		code   string
	}{
		{"Rename", admin, func(u *admeter.User) { u.Name = " Li Lei " }, ""},
		{"NoName", admin, func(u *admeter.User) { u.Name = "" }, admeter.EINVALID},
		{"BadRole", admin, func(u *admeter.User) { u.Role = "root" }, admeter.EINVALID},
		{"DemoteOnlyOwner", owner, func(u *admeter.User) { u.Role = admeter.RoleAdmin }, admeter.ECONFLICT},
		{"DisableOnlyOwner", owner, func(u *admeter.User) { u.Disabled = true }, admeter.ECONFLICT},
		{"Promote", admin, func(u *admeter.User) { u.Role = admeter.RoleOwner }, ""},
		{"DemoteWithAnotherOwner", owner, func(u *admeter.User) { u.Role = admeter.RoleAnalyst }, ""},
		{"DisableLastOwner", admin, func(u *admeter.User) { u.Disabled = true }, admeter.ECONFLICT},
		{"DisableAnalyst", owner, func(u *admeter.User) { u.Disabled = true }, ""},
		{"Unknown", &admeter.User{ID: "u_aaaaaaaaaaaa", Tenant: tenant.ID}, func(u *admeter.User) { u.Name, u.Role = "X", admeter.RoleViewer }, admeter.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := *tt.user
			tt.change(&u)
			err := db.UpdateUser(ctx, &u)
			wantCode(t, err, tt.code)
			got, _ := db.User(ctx, tenant.ID, tt.user.ID)
			if tt.code != "" {
				if tt.code != admeter.ENOTFOUND && !reflect.DeepEqual(got, tt.user) {
					t.Fatalf("a refused update changed the user: %+v", got)
				}
				return
			}
			if !reflect.DeepEqual(got, &u) {
				t.Fatalf("User() = %+v, want %+v", got, &u)
			}
			*tt.user = u
		})
	}
	if admin.Name != "Li Lei" || owner.Role != admeter.RoleAnalyst || !owner.Disabled {
		t.Fatalf("updates not kept: %+v %+v", admin, owner)
	}
}

func testDeleteUser(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenant := mustCreateTenant(t, db, "A")
	owner := mustCreateUser(t, db, tenant.ID, "owner@a.example.com", admeter.RoleOwner)
	viewer := mustCreateUser(t, db, tenant.ID, "viewer@a.example.com", admeter.RoleViewer)
	hash := sha256.Sum256([]byte("session"))
	s := &admeter.Session{User: viewer.ID, Expires: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, s, hash); err != nil {
		t.Fatal(err)
	}

	wantCode(t, db.DeleteUser(ctx, tenant.ID, owner.ID), admeter.ECONFLICT)
	if err := db.DeleteUser(ctx, tenant.ID, viewer.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteUser(ctx, tenant.ID, viewer.ID), admeter.ENOTFOUND)
	_, err := db.User(ctx, tenant.ID, viewer.ID)
	wantCode(t, err, admeter.ENOTFOUND)
	_, _, err = db.SessionByTokenHash(ctx, hash, time.Now())
	wantCode(t, err, admeter.ENOTFOUND)
	wantCode(t, db.TouchSession(ctx, s.ID, time.Now().Add(time.Hour)), admeter.ENOTFOUND) // the row went with the user
	// The email is free again.
	mustCreateUser(t, db, tenant.ID, "viewer@a.example.com", admeter.RoleViewer)
}

func testCredentials(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenant := mustCreateTenant(t, db, "A")
	u := mustCreateUser(t, db, tenant.ID, "Han@A.example.com", admeter.RoleAdmin)

	creds := func() (*admeter.User, *admeter.Credentials) {
		t.Helper()
		got, c, err := db.UserCredentials(ctx, " han@a.EXAMPLE.com ")
		if err != nil {
			t.Fatal(err)
		}
		return got, c
	}
	got, c := creds()
	if !reflect.DeepEqual(got, u) || !reflect.DeepEqual(c, &admeter.Credentials{PasswordHash: "hash-Han@A.example.com"}) {
		t.Fatalf("UserCredentials() = %+v, %+v", got, c)
	}
	_, _, err := db.UserCredentials(ctx, "nobody@a.example.com")
	wantCode(t, err, admeter.ENOTFOUND)

	if err := db.SetPassword(ctx, u.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if _, c := creds(); c.PasswordHash != "new-hash" {
		t.Fatalf("password hash = %q after SetPassword", c.PasswordHash)
	}

	sealed := []byte{0, 1, 2, 0xff, 'k'}
	if err := db.SetTOTP(ctx, u.ID, sealed); err != nil {
		t.Fatal(err)
	}
	if got, c := creds(); !got.TOTP || !slices.Equal(c.TOTPSecret, sealed) {
		t.Fatalf("after SetTOTP: TOTP %v, secret %x", got.TOTP, c.TOTPSecret)
	}
	for _, tt := range []struct {
		step int64
		code string
	}{
		{100, ""},
		{100, admeter.ECONFLICT}, // the same code again
		{99, admeter.ECONFLICT},
		{101, ""},
	} {
		wantCode(t, db.SetTOTPLastStep(ctx, u.ID, tt.step), tt.code)
	}
	if _, c := creds(); c.TOTPLastStep != 101 {
		t.Fatalf("last step = %d, want 101", c.TOTPLastStep)
	}
	if err := db.SetTOTP(ctx, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, c := creds(); got.TOTP || c.TOTPSecret != nil || c.TOTPLastStep != 101 {
		t.Fatalf("after disabling TOTP: TOTP %v, secret %x, step %d", got.TOTP, c.TOTPSecret, c.TOTPLastStep)
	}

	lock := time.Date(2026, 3, 1, 9, 15, 0, 0, time.UTC)
	for _, tt := range []struct {
		ok         bool
		lockUntil  time.Time
		wantFailed int
	}{
		{false, time.Time{}, 1},
		{false, time.Time{}, 2},
		{false, lock, 3},
		{true, time.Time{}, 0},
		{false, time.Time{}, 1},
	} {
		failed, err := db.RecordLogin(ctx, u.ID, tt.ok, tt.lockUntil)
		if err != nil || failed != tt.wantFailed {
			t.Fatalf("RecordLogin(%v) = %d, %v; want %d", tt.ok, failed, err, tt.wantFailed)
		}
		if _, c := creds(); c.FailedLogins != tt.wantFailed || !c.LockedUntil.Equal(tt.lockUntil) {
			t.Fatalf("after RecordLogin(%v): %d failures, locked until %v", tt.ok, c.FailedLogins, c.LockedUntil)
		}
	}

	for name, err := range map[string]error{
		"SetPassword":     db.SetPassword(ctx, "u_aaaaaaaaaaaa", "h"),
		"SetTOTP":         db.SetTOTP(ctx, "u_aaaaaaaaaaaa", sealed),
		"SetTOTPLastStep": db.SetTOTPLastStep(ctx, "u_aaaaaaaaaaaa", 5),
		"RecordLogin":     func() error { _, err := db.RecordLogin(ctx, "u_aaaaaaaaaaaa", false, time.Time{}); return err }(),
	} {
		if admeter.ErrorCode(err) != admeter.ENOTFOUND {
			t.Errorf("%s of an unknown user: err = %v, want ENOTFOUND", name, err)
		}
	}
	if err := db.SetPassword(ctx, u.ID, ""); err == nil {
		t.Fatal("empty password hash accepted")
	}
}
