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

var tenantIDRE = regexp.MustCompile(`^t_[a-z2-7]{10}$`)

func testCreateTenant(t *testing.T, open Opener) {
	t.Run("OK", func(t *testing.T) {
		db := openDB(t, open)
		now := time.Date(2026, 3, 1, 8, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
		db.SetNow(func() time.Time { return now })

		tenant := &admeter.Tenant{Name: "  Acme Media ", Kind: admeter.TenantMedia}
		hash := sha256.Sum256([]byte("secret token"))
		if err := db.CreateTenant(t.Context(), tenant, hash); err != nil {
			t.Fatal(err)
		}
		if !tenantIDRE.MatchString(string(tenant.ID)) {
			t.Fatalf("id = %q, want t_ and 10 base32 characters", tenant.ID)
		}
		if want := now.UTC().Truncate(time.Microsecond); tenant.Created != want {
			t.Fatalf("created = %v, want %v", tenant.Created, want)
		}
		if tenant.Name != "Acme Media" {
			t.Fatalf("name = %q, want it trimmed", tenant.Name)
		}

		got, err := db.Tenant(t.Context(), tenant.ID)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, tenant) {
			t.Fatalf("Tenant() = %#v, want %#v", got, tenant)
		}
		got, err = db.TenantByTokenHash(t.Context(), hash)
		if err != nil {
			t.Fatal(err)
		} else if !reflect.DeepEqual(got, tenant) {
			t.Fatalf("TenantByTokenHash() = %#v, want %#v", got, tenant)
		}
	})

	t.Run("DistinctIDs", func(t *testing.T) {
		db := openDB(t, open)
		seen := map[admeter.TenantID]bool{}
		for i := range 20 {
			tenant := mustCreateTenant(t, db, strings.Repeat("x", i+1))
			if seen[tenant.ID] {
				t.Fatalf("id %s assigned twice", tenant.ID)
			}
			seen[tenant.ID] = true
		}
	})

	t.Run("IDCollision", func(t *testing.T) {
		db := openDB(t, open)
		db.SetIntn(func(int) int { return 0 })
		a := mustCreateTenant(t, db, "A")
		if a.ID != "t_aaaaaaaaaa" {
			t.Fatalf("id = %s with a zero random source", a.ID)
		}
		calls := 0
		db.SetIntn(func(int) int { // the first id repeats a's, the second is all b
			calls++
			if calls <= 10 {
				return 0
			}
			return 1
		})
		b := mustCreateTenant(t, db, "B")
		if b.ID != "t_bbbbbbbbbb" {
			t.Fatalf("id = %s, want t_bbbbbbbbbb after one collision", b.ID)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		db := openDB(t, open)
		for _, tt := range []struct {
			name   string
			tenant admeter.Tenant
		}{
			{"NoName", admeter.Tenant{Name: "  ", Kind: admeter.TenantAgency}},
			{"LongName", admeter.Tenant{Name: strings.Repeat("n", 201), Kind: admeter.TenantAgency}},
			{"NoKind", admeter.Tenant{Name: "Acme"}},
			{"BadKind", admeter.Tenant{Name: "Acme", Kind: "publisher"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := db.CreateTenant(t.Context(), &tt.tenant, sha256.Sum256([]byte(tt.name)))
				if code := admeter.ErrorCode(err); code != admeter.EINVALID {
					t.Fatalf("code = %q (err %v), want %q", code, err, admeter.EINVALID)
				}
			})
		}
		if v := mustVersion(t, db); v != 0 {
			t.Fatalf("invalid tenants wrote: version %d", v)
		}
		if err := db.CreateTenant(t.Context(), &admeter.Tenant{Name: "Acme", Kind: admeter.TenantMedia}, [32]byte{}); err == nil {
			t.Fatal("zero token hash accepted")
		}
	})

	t.Run("DuplicateToken", func(t *testing.T) {
		db := openDB(t, open)
		mustCreateTenant(t, db, "Acme")
		err := db.CreateTenant(t.Context(), &admeter.Tenant{Name: "Other", Kind: admeter.TenantAgency}, sha256.Sum256([]byte("token-Acme")))
		if code := admeter.ErrorCode(err); code != admeter.ECONFLICT {
			t.Fatalf("code = %q (err %v), want %q", code, err, admeter.ECONFLICT)
		}
	})
}

func testTenant_NotFound(t *testing.T, open Opener) {
	db := openDB(t, open)
	mustCreateTenant(t, db, "Acme")
	if _, err := db.Tenant(t.Context(), "t_aaaaaaaaaa"); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("Tenant() err = %v, want ENOTFOUND", err)
	}
	if _, err := db.TenantByTokenHash(t.Context(), sha256.Sum256([]byte("wrong token"))); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("TenantByTokenHash() err = %v, want ENOTFOUND", err)
	}
}
