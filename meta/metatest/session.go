package metatest

import (
	"crypto/sha256"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

var sessionIDRE = regexp.MustCompile(`^se_[a-z2-7]{16}$`)

func testCreateSession(t *testing.T, open Opener) {
	db := openDB(t, open)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")
	ua := mustCreateUser(t, db, a.ID, "a@a.example.com", admeter.RoleOwner)
	off := mustCreateUser(t, db, a.ID, "off@a.example.com", admeter.RoleViewer)
	off.Disabled = true
	if err := db.UpdateUser(t.Context(), off); err != nil {
		t.Fatal(err)
	}
	expires := now.Add(12 * time.Hour)
	if err := db.CreateSession(t.Context(), &admeter.Session{User: ua.ID, Expires: expires}, sha256.Sum256([]byte("taken"))); err != nil {
		t.Fatal(err)
	}

	const rawIP = "203.0.113.77"
	for _, tt := range []struct {
		name    string
		session admeter.Session
		hash    string
		code    string
	}{
		{"OK", admeter.Session{User: ua.ID, Tenant: a.ID, Expires: expires, IP: "203.0.113.0/24", UserAgentFamily: "Chrome"}, "ok", ""},
		{"TenantFromUser", admeter.Session{User: ua.ID, Expires: expires, IP: "2001:db8:1::/48"}, "tfu", ""},
		{"NoIP", admeter.Session{User: ua.ID, Expires: expires}, "noip", ""},
		{"RawIP", admeter.Session{User: ua.ID, Expires: expires, IP: rawIP}, "raw", admeter.EINTERNAL},
		{"HostPrefix", admeter.Session{User: ua.ID, Expires: expires, IP: rawIP + "/32"}, "host", admeter.EINTERNAL},
		{"UnmaskedBlock", admeter.Session{User: ua.ID, Expires: expires, IP: rawIP + "/24"}, "unmasked", admeter.EINTERNAL},
		{"WiderBlock", admeter.Session{User: ua.ID, Expires: expires, IP: "203.0.0.0/16"}, "wide", admeter.EINTERNAL},
		{"IPv6Address", admeter.Session{User: ua.ID, Expires: expires, IP: "2001:db8:1::5/128"}, "v6", admeter.EINTERNAL},
		{"UserAgentHeader", admeter.Session{User: ua.ID, Expires: expires,
			UserAgentFamily: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"}, "ua", admeter.EINTERNAL},
		{"AlreadyExpired", admeter.Session{User: ua.ID, Expires: now}, "exp", admeter.EINTERNAL},
		{"OtherTenant", admeter.Session{User: ua.ID, Tenant: b.ID, Expires: expires}, "other", admeter.ENOTFOUND},
		{"UnknownUser", admeter.Session{User: "u_aaaaaaaaaaaa", Expires: expires}, "unknown", admeter.ENOTFOUND},
		{"DisabledUser", admeter.Session{User: off.ID, Expires: expires}, "off", admeter.EFORBIDDEN},
		{"DuplicateHash", admeter.Session{User: ua.ID, Expires: expires}, "taken", admeter.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			s := tt.session
			hash := sha256.Sum256([]byte(tt.hash))
			err := db.CreateSession(t.Context(), &s, hash)
			wantCode(t, err, tt.code)
			if tt.code != "" {
				if strings.Contains(err.Error(), rawIP) {
					t.Fatalf("the error quotes the address: %v", err)
				}
				if s.ID != "" || mustVersion(t, db) != version {
					t.Fatal("a refused session was written")
				}
				return
			}
			want := tt.session
			want.ID, want.Tenant, want.Created, want.LastSeen = s.ID, a.ID, now, now
			if !sessionIDRE.MatchString(s.ID) || !reflect.DeepEqual(s, want) {
				t.Fatalf("session = %+v, want %+v", s, want)
			}
			got, u, err := db.SessionByTokenHash(t.Context(), hash, now)
			if err != nil || !reflect.DeepEqual(got, &want) || !reflect.DeepEqual(u, ua) {
				t.Fatalf("SessionByTokenHash() = %+v, %+v, %v; want %+v", got, u, err, want)
			}
		})
	}
}

func testSessionByTokenHash(t *testing.T, open Opener) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	expires := now.Add(time.Hour)
	for _, tt := range []struct {
		name   string
		setup  func(t *testing.T, db *testDB, tenant *admeter.Tenant, u *admeter.User, s *admeter.Session)
		at     time.Time
		hash   string
		found  bool
		reason string
	}{
		{"Live", nil, now.Add(59 * time.Minute), "s", true, ""},
		{"AtExpiry", nil, expires, "s", false, "expired"},
		{"Expired", nil, expires.Add(time.Second), "s", false, "expired"},
		{"UnknownHash", nil, now, "other", false, "unknown"},
		{"UserDisabled", func(t *testing.T, db *testDB, _ *admeter.Tenant, u *admeter.User, _ *admeter.Session) {
			u.Disabled = true
			if err := db.UpdateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
		}, now, "s", false, "disabled"},
		{"TenantSuspended", func(t *testing.T, db *testDB, tn *admeter.Tenant, _ *admeter.User, _ *admeter.Session) {
			if _, err := db.SetTenantStatus(t.Context(), tn.ID, admeter.TenantSuspended, ""); err != nil {
				t.Fatal(err)
			}
		}, now, "s", false, "suspended"},
		{"TenantResumed", func(t *testing.T, db *testDB, tn *admeter.Tenant, _ *admeter.User, _ *admeter.Session) {
			for _, s := range []admeter.TenantStatus{admeter.TenantSuspended, admeter.TenantActive} {
				if _, err := db.SetTenantStatus(t.Context(), tn.ID, s, ""); err != nil {
					t.Fatal(err)
				}
			}
		}, now, "s", true, ""},
		{"SignedOut", func(t *testing.T, db *testDB, _ *admeter.Tenant, _ *admeter.User, s *admeter.Session) {
			if err := db.DeleteSession(t.Context(), s.ID); err != nil {
				t.Fatal(err)
			}
		}, now, "s", false, "signed out"},
		{"SignedOutEverywhere", func(t *testing.T, db *testDB, _ *admeter.Tenant, u *admeter.User, _ *admeter.Session) {
			if n, err := db.DeleteUserSessions(t.Context(), u.ID); err != nil || n != 2 {
				t.Fatalf("DeleteUserSessions() = %d, %v; want 2", n, err)
			}
		}, now, "s", false, "signed out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, open)
			db.SetNow(func() time.Time { return now })
			tenant := mustCreateTenant(t, db, "A")
			owner := mustCreateUser(t, db, tenant.ID, "owner@a.example.com", admeter.RoleOwner)
			u := mustCreateUser(t, db, tenant.ID, "u@a.example.com", admeter.RoleAnalyst)
			s := &admeter.Session{User: u.ID, Expires: expires}
			if err := db.CreateSession(t.Context(), s, sha256.Sum256([]byte("s"))); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateSession(t.Context(), &admeter.Session{User: u.ID, Expires: expires}, sha256.Sum256([]byte("s2"))); err != nil {
				t.Fatal(err)
			}
			ownerHash := sha256.Sum256([]byte("owner"))
			if err := db.CreateSession(t.Context(), &admeter.Session{User: owner.ID, Expires: expires}, ownerHash); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, db, tenant, u, s)
			}
			got, gotUser, err := db.SessionByTokenHash(t.Context(), sha256.Sum256([]byte(tt.hash)), tt.at)
			if !tt.found {
				wantCode(t, err, admeter.ENOTFOUND)
				if got != nil || gotUser != nil {
					t.Fatalf("%s session returned", tt.reason)
				}
			} else if err != nil || got.ID != s.ID || gotUser.ID != u.ID {
				t.Fatalf("SessionByTokenHash() = %+v, %+v, %v", got, gotUser, err)
			}
			// Another user's session is untouched by this user's sign-outs.
			if tt.reason == "signed out" {
				if _, _, err := db.SessionByTokenHash(t.Context(), ownerHash, now); err != nil {
					t.Fatalf("the owner's session: %v", err)
				}
			}
		})
	}
}

func testSession_PendingTenant(t *testing.T, open Opener) {
	db := openDB(t, open)
	tenant, owner := mustRegister(t, db, 1)
	hash := sha256.Sum256([]byte("s"))
	if err := db.CreateSession(t.Context(), &admeter.Session{User: owner.ID, Expires: time.Now().Add(time.Hour)}, hash); err != nil {
		t.Fatal(err)
	}
	_, _, err := db.SessionByTokenHash(t.Context(), hash, time.Now())
	wantCode(t, err, admeter.ENOTFOUND)
	mustActivate(t, db, tenant.ID)
	if _, u, err := db.SessionByTokenHash(t.Context(), hash, time.Now()); err != nil || u.ID != owner.ID {
		t.Fatalf("after activation: %v, %v", u, err)
	}
}

func testTouchSession(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	tenant := mustCreateTenant(t, db, "A")
	u := mustCreateUser(t, db, tenant.ID, "u@a.example.com", admeter.RoleOwner)
	s := &admeter.Session{User: u.ID, Expires: now.Add(24 * time.Hour)}
	hash := sha256.Sum256([]byte("s"))
	if err := db.CreateSession(ctx, s, hash); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		at    time.Time
		want  time.Time
		wrote bool
	}{
		{"WithinAMinuteOfSignIn", now.Add(30 * time.Second), now, false},
		{"AfterAMinute", now.Add(2 * time.Minute), now.Add(2 * time.Minute), true},
		{"Soon", now.Add(2*time.Minute + time.Second), now.Add(2 * time.Minute), false},
		{"Later", now.Add(time.Hour), now.Add(time.Hour), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			if err := db.TouchSession(ctx, s.ID, tt.at); err != nil {
				t.Fatal(err)
			}
			if wrote := mustVersion(t, db) != version; wrote != tt.wrote {
				t.Fatalf("wrote = %v, want %v", wrote, tt.wrote)
			}
			got, _, err := db.SessionByTokenHash(ctx, hash, tt.at)
			if err != nil || !got.LastSeen.Equal(tt.want) {
				t.Fatalf("last seen = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
	wantCode(t, db.TouchSession(ctx, "se_aaaaaaaaaaaaaaaa", now), admeter.ENOTFOUND)
}

func testDeleteSessions(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	tenant := mustCreateTenant(t, db, "A")
	u := mustCreateUser(t, db, tenant.ID, "u@a.example.com", admeter.RoleOwner)
	var ids []string
	for i, life := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour} {
		s := &admeter.Session{User: u.ID, Expires: now.Add(life)}
		if err := db.CreateSession(ctx, s, sha256.Sum256([]byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if err := db.DeleteSession(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteSession(ctx, ids[2]), admeter.ENOTFOUND)
	if n, err := db.DeleteExpiredSessions(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions() = %d, %v; want 1", n, err)
	}
	if n, err := db.DeleteUserSessions(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions() = %d, %v; want the 1 left", n, err)
	}
	if n, err := db.DeleteUserSessions(ctx, u.ID); err != nil || n != 0 {
		t.Fatalf("DeleteUserSessions() again = %d, %v", n, err)
	}
}
