package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// TestMigrate_FromSchema2 opens a database written by the schema before
// accounts (migrations 0001 and 0002): each tenant's token must keep working
// as its bootstrap token, and campaigns must survive.
func TestMigrate_FromSchema2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	raw, err := sql.Open("sqlite", path+"?_foreign_keys=1")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)`)
	for _, name := range []string{"migration/0001_init.sql", "migration/0002_rights_requests.sql"} {
		buf, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(buf))
		exec(`INSERT INTO migrations (name, applied) VALUES (?, '2026-01-01T00:00:00.000000Z')`, name)
	}
	hashA, hashB := sha256.Sum256([]byte("token-A")), sha256.Sum256([]byte("token-B"))
	exec(`INSERT INTO tenants (id, name, kind, token_hash, created) VALUES
		('t_aaaaaaaaaa', 'A', 'advertiser', ?, '2026-01-02T03:04:05.000006Z'),
		('t_bbbbbbbbbb', 'B', 'media', ?, '2026-01-03T00:00:00.000000Z')`, hashA[:], hashB[:])
	exec(`INSERT INTO campaigns (id, tenant_id, name, landing_url, allowed_hosts, timezone, created)
		VALUES ('12345678', 't_aaaaaaaaaa', 'Spring', 'https://shop.example.com/', '[]', 'Asia/Shanghai', '2026-01-04T00:00:00.000000Z')`)
	exec(`INSERT INTO placements (id, campaign_id, position, name, media) VALUES ('abcDEF', '12345678', 0, 'banner', 'news.example.com')`)
	exec(`INSERT INTO rights_requests (id, tenant_id, type, id_type, minor, note, actor, status, received, due, due_exact,
		fingerprint, optout, users) VALUES ('rq_1', 't_aaaaaaaaaa', 'access', 'idfa', 0, '', 'x', 'pending',
		'2026-01-05T00:00:00.000000Z', '2026-01-26T00:00:00.000000Z', 1, 'ab', x'', x'')`)
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := MustOpenDBAt(t, path)
	ctx := t.Context()
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	wantA := &admeter.Tenant{ID: "t_aaaaaaaaaa", Name: "A", Kind: admeter.TenantAdvertiser, Status: admeter.TenantActive, Created: created}

	got, err := db.TenantByTokenHash(ctx, hashA)
	if err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, wantA) {
		t.Fatalf("TenantByTokenHash() = %+v, want %+v", got, wantA)
	}
	tok, tn, err := db.TokenByHash(ctx, hashA)
	if err != nil {
		t.Fatal(err)
	}
	wantTok := &admeter.APIToken{ID: "tk_aaaaaaaaaa", Tenant: "t_aaaaaaaaaa", Name: "bootstrap",
		Scopes:  []admeter.TokenScope{admeter.ScopeCollect, admeter.ScopeReportsRead, admeter.ScopeManage},
		Created: created, CreatedBy: "operator"}
	if !reflect.DeepEqual(tok, wantTok) || !reflect.DeepEqual(tn, wantA) {
		t.Fatalf("TokenByHash() = %+v, %+v; want %+v, %+v", tok, tn, wantTok, wantA)
	}
	if got, err := db.TenantByTokenHash(ctx, hashB); err != nil || got.ID != "t_bbbbbbbbbb" {
		t.Fatalf("B's token: %v, %v", got, err)
	}
	// The old column no longer holds a real hash.
	if n := rawQueryInt(t, path, fmt.Sprintf(`SELECT COUNT(*) FROM tenants WHERE token_hash IN (x'%x', x'%x')`, hashA, hashB)); n != 0 {
		t.Fatalf("%d tenants still hold their token hash in tenants.token_hash", n)
	}
	// Nothing cascaded away.
	c, err := db.Campaign(ctx, "t_aaaaaaaaaa", "12345678")
	if err != nil {
		t.Fatal(err)
	} else if len(c.Placements) != 1 || c.Placements[0].MediaTenant != "" {
		t.Fatalf("placements after migration: %+v", c.Placements)
	}
	if _, err := db.Request(ctx, "t_aaaaaaaaaa", "rq_1"); err != nil {
		t.Fatalf("rights request after migration: %v", err)
	}
	// The migrated tenant works with the new methods.
	if err := db.CreateUser(ctx, &admeter.User{Tenant: "t_aaaaaaaaaa", Email: "a@acme.example.com", Name: "A", Role: admeter.RoleOwner}, "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetTenantStatus(ctx, "t_aaaaaaaaaa", admeter.TenantSuspended, "unpaid"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TenantByTokenHash(ctx, hashA); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("suspended tenant's token: err = %v, want ENOTFOUND", err)
	}
}
