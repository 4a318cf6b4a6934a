package admeter_test

import (
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

func TestCheckCreditCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
		msg  string
	}{
		{"91350100M000100Y43", true, ""},
		{"91110108551385082Q", true, ""},
		{"91440300708461136T", true, ""},
		{"91440300708461136X", false, "check character"},
		{"91110108551385082", false, "18-character"},
		{"91110108551385082QQ", false, "18-character"},
		{"9111010855138508IQ", false, "not allowed"},
		{"91110108551385082q", false, "not allowed"}, // Validate uppercases; the check itself does not
	} {
		err := admeter.CheckCreditCode(tc.code)
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ok=%v (%q)", tc.code, err, tc.ok, tc.msg)
		}
	}
}

func FuzzCheckCreditCode(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		if err := admeter.CheckCreditCode(code); err == nil && len(code) != 18 {
			t.Fatalf("accepted %q", code)
		}
	})
}

func TestRegistrationValidate(t *testing.T) {
	good := func() admeter.Registration {
		return admeter.Registration{Company: " 示例科技有限公司 ", CreditCode: "91350100m000100y43", LicenceRef: "BL-2026-001",
			Contact: "张三", Phone: "+86 138-1234-5678", Email: "ops@example.com"}
	}
	r := good()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Company != "示例科技有限公司" || r.CreditCode != "91350100M000100Y43" || r.Phone != "13812345678" {
		t.Fatalf("not normalised: %+v", r)
	}
	for _, tc := range []struct {
		mod  func(*admeter.Registration)
		want string
	}{
		{func(r *admeter.Registration) { r.Company = "" }, "company"},
		{func(r *admeter.Registration) { r.CreditCode = "91350100M000100Y44" }, "credit_code"},
		{func(r *admeter.Registration) { r.LicenceRef = "" }, "licence_ref"},
		{func(r *admeter.Registration) { r.Contact = "" }, "contact"},
		{func(r *admeter.Registration) { r.Phone = "12812345678" }, "phone"},
		{func(r *admeter.Registration) { r.Phone = "010-12345678" }, "phone"},
		{func(r *admeter.Registration) { r.Email = "ops" }, "email"},
		{func(r *admeter.Registration) { r.Email = "Ops <ops@example.com>" }, "email"},
		{func(r *admeter.Registration) { r.Email = "ops@localhost" }, "email"},
	} {
		r := good()
		tc.mod(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("%+v: %v, want an invalid error about %s", r, err, tc.want)
		}
	}
}

func TestRolesAndScopes(t *testing.T) {
	for _, tc := range []struct {
		role admeter.Role
		perm admeter.Permission
		ok   bool
	}{
		{admeter.RoleOwner, admeter.PermCloseAccount, true},
		{admeter.RoleAdmin, admeter.PermCloseAccount, false},
		{admeter.RoleAdmin, admeter.PermManageUsers, true},
		{admeter.RoleAnalyst, admeter.PermExport, true},
		{admeter.RoleAnalyst, admeter.PermManageCampaigns, false},
		{admeter.RoleViewer, admeter.PermExport, false},
		{admeter.RoleViewer, admeter.PermReadReports, true},
		{admeter.Role("root"), admeter.PermReadReports, false},
	} {
		if got := tc.role.Allows(tc.perm); got != tc.ok {
			t.Errorf("%s allows %s = %v, want %v", tc.role, tc.perm, got, tc.ok)
		}
	}
	if admeter.ScopesAllow([]admeter.TokenScope{admeter.ScopeCollect}, admeter.PermReadReports) ||
		!admeter.ScopesAllow([]admeter.TokenScope{admeter.ScopeReportsRead}, admeter.PermReadReports) ||
		admeter.ScopesAllow([]admeter.TokenScope{admeter.ScopeManage}, admeter.PermManageUsers) {
		t.Error("scope permissions wrong")
	}
	if !admeter.TenantPending.CanMoveTo(admeter.TenantVerified) || admeter.TenantPending.CanMoveTo(admeter.TenantActive) ||
		!admeter.TenantSuspended.CanMoveTo(admeter.TenantActive) || admeter.TenantClosed.CanMoveTo(admeter.TenantActive) {
		t.Error("status transitions wrong")
	}
}
