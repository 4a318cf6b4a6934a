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

var tokenIDRE = regexp.MustCompile(`^tk_[a-z2-7]{12}$`)

func testCreateTenant_BootstrapToken(t *testing.T, open Opener) {
	db := openDB(t, open)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	tenant := mustCreateTenant(t, db, "Acme")
	tok, tn, err := db.TokenByHash(t.Context(), sha256.Sum256([]byte("token-Acme")))
	if err != nil {
		t.Fatal(err)
	}
	want := &admeter.APIToken{ID: tok.ID, Tenant: tenant.ID, Name: "bootstrap",
		Scopes:  []admeter.TokenScope{admeter.ScopeCollect, admeter.ScopeReportsRead, admeter.ScopeManage},
		Created: now, CreatedBy: "operator"}
	if !tokenIDRE.MatchString(string(tok.ID)) || !reflect.DeepEqual(tok, want) || !reflect.DeepEqual(tn, tenant) {
		t.Fatalf("TokenByHash() = %+v, %+v; want %+v, %+v", tok, tn, want, tenant)
	}
	if toks, err := db.Tokens(t.Context(), tenant.ID); err != nil || !reflect.DeepEqual(toks, []*admeter.APIToken{want}) {
		t.Fatalf("Tokens() = %+v, %v", toks, err)
	}
}

func testCreateToken(t *testing.T, open Opener) {
	db := openDB(t, open)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	tenant := mustCreateTenant(t, db, "Acme")
	read := []admeter.TokenScope{admeter.ScopeReportsRead}

	for _, tt := range []struct {
		name   string
		token  admeter.APIToken
		hash   string
		code   string
		scopes []admeter.TokenScope // stored, when not the given ones
	}{
		{"OK", admeter.APIToken{Tenant: tenant.ID, Name: " app backend ", Scopes: read, CreatedBy: "user:u_x"}, "ok", "", nil},
		{"RepeatedScopes", admeter.APIToken{Tenant: tenant.ID, Name: "sdk", CreatedBy: "user:u_x",
			Scopes: []admeter.TokenScope{admeter.ScopeCollect, admeter.ScopeManage, admeter.ScopeCollect}}, "rep", "",
			[]admeter.TokenScope{admeter.ScopeCollect, admeter.ScopeManage}},
		{"IgnoresUseAndRevocation", admeter.APIToken{Tenant: tenant.ID, Name: "x", Scopes: read, CreatedBy: "operator",
			LastUsed: now, Revoked: now}, "ign", "", nil},
		{"LongChineseName", admeter.APIToken{Tenant: tenant.ID, Name: strings.Repeat("令", 100), Scopes: read, CreatedBy: "operator"}, "cn", "", nil},
		{"TooLongName", admeter.APIToken{Tenant: tenant.ID, Name: strings.Repeat("令", 101), Scopes: read, CreatedBy: "operator"}, "long", admeter.EINVALID, nil},
		{"NoName", admeter.APIToken{Tenant: tenant.ID, Name: "  ", Scopes: read, CreatedBy: "operator"}, "noname", admeter.EINVALID, nil},
		{"NoScopes", admeter.APIToken{Tenant: tenant.ID, Name: "x", CreatedBy: "operator"}, "noscope", admeter.EINVALID, nil},
		{"BadScope", admeter.APIToken{Tenant: tenant.ID, Name: "x", Scopes: []admeter.TokenScope{"admin"}, CreatedBy: "operator"}, "bad", admeter.EINVALID, nil},
		{"NoTenant", admeter.APIToken{Name: "x", Scopes: read, CreatedBy: "operator"}, "nt", admeter.EINVALID, nil},
		{"UnknownTenant", admeter.APIToken{Tenant: "t_aaaaaaaaaa", Name: "x", Scopes: read, CreatedBy: "operator"}, "ut", admeter.ENOTFOUND, nil},
		{"DuplicateHash", admeter.APIToken{Tenant: tenant.ID, Name: "x", Scopes: read, CreatedBy: "operator"}, "ok", admeter.ECONFLICT, nil},
		{"BootstrapHash", admeter.APIToken{Tenant: tenant.ID, Name: "x", Scopes: read, CreatedBy: "operator"}, "token-Acme", admeter.ECONFLICT, nil},
		{"NoCreator", admeter.APIToken{Tenant: tenant.ID, Name: "x", Scopes: read}, "nc", admeter.EINTERNAL, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			tok := tt.token
			hash := sha256.Sum256([]byte(tt.hash))
			err := db.CreateToken(t.Context(), &tok, hash)
			wantCode(t, err, tt.code)
			if tt.code != "" {
				if tok.ID != "" || mustVersion(t, db) != version {
					t.Fatal("a refused token was written")
				}
				return
			}
			want := tt.token
			want.ID, want.Created, want.Name, want.LastUsed, want.Revoked = tok.ID, now, strings.TrimSpace(want.Name), time.Time{}, time.Time{}
			if tt.scopes != nil {
				want.Scopes = tt.scopes
			}
			if !tokenIDRE.MatchString(string(tok.ID)) || !reflect.DeepEqual(&tok, &want) {
				t.Fatalf("token = %+v, want %+v", tok, want)
			}
			got, tn, err := db.TokenByHash(t.Context(), hash)
			if err != nil || !reflect.DeepEqual(got, &want) || tn.ID != tenant.ID {
				t.Fatalf("TokenByHash() = %+v, %+v, %v; want %+v", got, tn, err, want)
			}
		})
	}
	if err := db.CreateToken(t.Context(), &admeter.APIToken{Tenant: tenant.ID, Name: "x", Scopes: read, CreatedBy: "operator"}, [32]byte{}); err == nil {
		t.Fatal("zero hash accepted")
	}
}

func testTokens_TenantIsolationAndRevocation(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tick := 0
	db.SetNow(func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Minute) })
	a, b := mustCreateTenant(t, db, "A"), mustCreateTenant(t, db, "B")
	extra := &admeter.APIToken{Tenant: a.ID, Name: "collector", Scopes: []admeter.TokenScope{admeter.ScopeCollect}, CreatedBy: "user:u_1"}
	extraHash := sha256.Sum256([]byte("extra"))
	if err := db.CreateToken(ctx, extra, extraHash); err != nil {
		t.Fatal(err)
	}
	aToks, err := db.Tokens(ctx, a.ID)
	if err != nil || len(aToks) != 2 || aToks[0].Name != "bootstrap" || aToks[1].ID != extra.ID {
		t.Fatalf("Tokens(A) = %+v, %v", aToks, err)
	}
	if bToks, err := db.Tokens(ctx, b.ID); err != nil || len(bToks) != 1 || bToks[0].Tenant != b.ID {
		t.Fatalf("Tokens(B) = %+v, %v", bToks, err)
	}

	// B cannot revoke A's token, nor tell it from a missing one.
	errForeign := db.RevokeToken(ctx, b.ID, extra.ID)
	wantCode(t, errForeign, admeter.ENOTFOUND)
	errMissing := db.RevokeToken(ctx, b.ID, "tk_aaaaaaaaaaaa")
	if strings.ReplaceAll(admeter.ErrorMessage(errMissing), "tk_aaaaaaaaaaaa", string(extra.ID)) != admeter.ErrorMessage(errForeign) {
		t.Fatalf("messages differ: %q, %q", admeter.ErrorMessage(errForeign), admeter.ErrorMessage(errMissing))
	}
	if _, _, err := db.TokenByHash(ctx, extraHash); err != nil {
		t.Fatalf("token revoked through another tenant: %v", err)
	}

	if err := db.RevokeToken(ctx, a.ID, extra.ID); err != nil {
		t.Fatal(err)
	}
	revokedAt := base.Add(time.Duration(tick) * time.Minute)
	_, _, err = db.TokenByHash(ctx, extraHash)
	wantCode(t, err, admeter.ENOTFOUND)
	if err := db.RevokeToken(ctx, a.ID, extra.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	aToks, _ = db.Tokens(ctx, a.ID)
	if len(aToks) != 2 || !aToks[1].Revoked.Equal(revokedAt) || !aToks[0].Revoked.IsZero() {
		t.Fatalf("after revocation: %+v, want the extra token revoked at %v", aToks, revokedAt)
	}

	// Revoking the bootstrap token ends the tenant-wide authentication too.
	boot := sha256.Sum256([]byte("token-A"))
	if err := db.RevokeToken(ctx, a.ID, aToks[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.TenantByTokenHash(ctx, boot)
	wantCode(t, err, admeter.ENOTFOUND)
	if _, err := db.TenantByTokenHash(ctx, sha256.Sum256([]byte("token-B"))); err != nil {
		t.Fatalf("B's token after A's revocation: %v", err)
	}
}

func testTokenByHash_TenantStatus(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenant := mustCreateTenant(t, db, "Acme")
	hash := sha256.Sum256([]byte("token-Acme"))
	if _, err := db.SetTenantStatus(ctx, tenant.ID, admeter.TenantSuspended, "unpaid"); err != nil {
		t.Fatal(err)
	}
	// TokenByHash leaves the status to the caller; TenantByTokenHash refuses.
	tok, tn, err := db.TokenByHash(ctx, hash)
	if err != nil || tok.Tenant != tenant.ID || tn.Status != admeter.TenantSuspended || tn.StatusNote != "unpaid" {
		t.Fatalf("TokenByHash() = %+v, %+v, %v", tok, tn, err)
	}
	_, err = db.TenantByTokenHash(ctx, hash)
	wantCode(t, err, admeter.ENOTFOUND)
	_, _, err = db.TokenByHash(ctx, sha256.Sum256([]byte("unknown")))
	wantCode(t, err, admeter.ENOTFOUND)
}

func testTouchToken(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	mustCreateTenant(t, db, "Acme")
	hash := sha256.Sum256([]byte("token-Acme"))
	tok, _, err := db.TokenByHash(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		at    time.Time
		want  time.Time // stored last use
		wrote bool
	}{
		{"First", at, at, true},
		{"WithinAMinute", at.Add(59 * time.Second), at, false},
		{"Earlier", at.Add(-time.Hour), at, false},
		{"AfterAMinute", at.Add(61 * time.Second), at.Add(61 * time.Second), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version := mustVersion(t, db)
			if err := db.TouchToken(ctx, tok.ID, tt.at); err != nil {
				t.Fatal(err)
			}
			if wrote := mustVersion(t, db) != version; wrote != tt.wrote {
				t.Fatalf("wrote = %v, want %v", wrote, tt.wrote)
			}
			got, _, _ := db.TokenByHash(ctx, hash)
			if !got.LastUsed.Equal(tt.want) {
				t.Fatalf("last used = %v, want %v", got.LastUsed, tt.want)
			}
		})
	}
	wantCode(t, db.TouchToken(ctx, "tk_aaaaaaaaaaaa", at), admeter.ENOTFOUND)
}

func testTokenExpiry(t *testing.T, open Opener) {
	db := openDB(t, open)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	db.SetNow(func() time.Time { return now })
	tenant := mustCreateTenant(t, db, "Acme")
	tok := &admeter.APIToken{Tenant: tenant.ID, Name: "ci", Scopes: []admeter.TokenScope{admeter.ScopeReportsRead},
		CreatedBy: "user:u_x", Expires: now.Add(time.Hour)}
	hash := sha256.Sum256([]byte("expiring"))
	if err := db.CreateToken(t.Context(), tok, hash); err != nil {
		t.Fatal(err)
	}
	if got, _, err := db.TokenByHash(t.Context(), hash); err != nil || !got.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("before expiry: %+v, %v", got, err)
	}
	now = now.Add(time.Hour)
	if _, _, err := db.TokenByHash(t.Context(), hash); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("at expiry: %v, want ENOTFOUND", err)
	}
	if toks, _ := db.Tokens(t.Context(), tenant.ID); len(toks) != 2 {
		t.Fatalf("expired tokens still listed: %d tokens, want 2", len(toks))
	}
}
