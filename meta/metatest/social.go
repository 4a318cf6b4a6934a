package metatest

import (
	"context"
	"reflect"
	"testing"

	"github.com/admeter/admeter"
)

// SocialSettings is what package social reads and writes of a tenant's
// social insight settings.
type SocialSettings interface {
	SocialSettings(ctx context.Context, tenant admeter.TenantID) (*admeter.SocialSettings, error)
	SetSocialSettings(ctx context.Context, s *admeter.SocialSettings) error
}

// RunSocialSettings tests a tenant's social insight settings.
func RunSocialSettings(t *testing.T, open Opener) {
	runTests(t, open, []test{
		{"RoundTrip", testSocialSettings},
		{"Invalid", testSocialSettingsInvalid},
		{"DeletedWithTenant", testSocialSettingsDeleted},
	})
}

// socialOf returns db's social settings methods, or fails the test.
func socialOf(tb testing.TB, db *testDB) SocialSettings {
	tb.Helper()
	s, ok := db.Store.(SocialSettings)
	if !ok {
		tb.Fatalf("%T has no social settings methods", db.Store)
	}
	return s
}

func sampleSocialSettings(tenant admeter.TenantID) *admeter.SocialSettings {
	return &admeter.SocialSettings{
		Tenant:      tenant,
		Brands:      []admeter.SocialRule{{Name: "华为 Mate", Terms: []string{"华为mate", "mate70"}, Exclusions: []string{"华为路由器"}}},
		Competitors: []admeter.SocialRule{{Name: "小米", Terms: []string{"小米", "xiaomi"}}},
		Official:    []admeter.SocialAccount{{Source: "weibo", Handle: "华为终端", Name: "华为终端官方微博"}},
	}
}

// testSocialSettings proves that a tenant without settings gets empty
// ones, that saved settings read back whole with their time, that saving
// again replaces them, and that another tenant's stay its own.
func testSocialSettings(t *testing.T, open Opener) {
	db := openDB(t, open)
	s := socialOf(t, db)
	ctx := t.Context()
	a := mustCreateTenant(t, db, "Brand")
	b := mustCreateTenant(t, db, "Other")

	got, err := s.SocialSettings(ctx, a.ID)
	if err != nil || got.Tenant != a.ID || len(got.Brands)+len(got.Competitors)+len(got.Official) != 0 || !got.Updated.IsZero() {
		t.Fatalf("SocialSettings before any = %+v, %v; want empty settings of %s", got, err, a.ID)
	}
	want := sampleSocialSettings(a.ID)
	if err := s.SetSocialSettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	if want.Updated.IsZero() {
		t.Fatal("SetSocialSettings did not set Updated")
	}
	got, err = s.SocialSettings(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Updated.Equal(want.Updated) {
		t.Errorf("Updated = %v, want %v", got.Updated, want.Updated)
	}
	got.Updated = want.Updated
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SocialSettings = %+v, want %+v", got, want)
	}

	next := sampleSocialSettings(a.ID)
	next.Competitors = nil
	if err := s.SetSocialSettings(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SocialSettings(ctx, a.ID); err != nil || len(got.Competitors) != 0 || len(got.Brands) != 1 {
		t.Errorf("after replacing: %+v, %v; want no competitors", got, err)
	}
	if got, err := s.SocialSettings(ctx, b.ID); err != nil || len(got.Brands) != 0 {
		t.Errorf("other tenant's settings = %+v, %v; want empty", got, err)
	}
}

// testSocialSettingsInvalid proves that invalid settings and an unknown
// tenant are refused.
func testSocialSettingsInvalid(t *testing.T, open Opener) {
	db := openDB(t, open)
	s := socialOf(t, db)
	a := mustCreateTenant(t, db, "Brand")
	bad := sampleSocialSettings(a.ID)
	bad.Official[0].Source = "Weibo!"
	if err := s.SetSocialSettings(t.Context(), bad); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("bad source: %v, want EINVALID", err)
	}
	if err := s.SetSocialSettings(t.Context(), sampleSocialSettings("t_aaaaaaaaaa")); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("unknown tenant: %v, want ENOTFOUND", err)
	}
}

// testSocialSettingsDeleted proves that deleting a closed tenant deletes
// its settings.
func testSocialSettingsDeleted(t *testing.T, open Opener) {
	db := openDB(t, open)
	s := socialOf(t, db)
	ctx := t.Context()
	a := mustCreateTenant(t, db, "Brand")
	if err := s.SetSocialSettings(ctx, sampleSocialSettings(a.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetTenantStatus(ctx, a.ID, admeter.TenantClosed, "closed"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTenant(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SocialSettings(ctx, a.ID); err != nil || len(got.Brands) != 0 {
		t.Errorf("settings after DeleteTenant = %+v, %v; want none", got, err)
	}
}
