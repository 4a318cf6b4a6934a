package admeter_test

import (
	"strings"
	"testing"

	"github.com/admeter/admeter"
)

func TestGrantLevel(t *testing.T) {
	for _, tc := range []struct {
		level admeter.GrantLevel
		valid bool
		perms []admeter.Permission // allowed; every other permission is refused
	}{
		{admeter.GrantRead, true, []admeter.Permission{admeter.PermReadCampaigns, admeter.PermReadReports, admeter.PermExport}},
		{admeter.GrantManage, true, []admeter.Permission{admeter.PermReadCampaigns, admeter.PermManageCampaigns,
			admeter.PermReadReports, admeter.PermExport}},
		{"", false, nil},
		{"admin", false, nil},
		{"READ", false, nil},
	} {
		if got := tc.level.Valid(); got != tc.valid {
			t.Errorf("%q.Valid() = %v, want %v", tc.level, got, tc.valid)
		}
		for _, p := range []admeter.Permission{admeter.PermReadCampaigns, admeter.PermManageCampaigns,
			admeter.PermReadReports, admeter.PermExport, admeter.PermCollect, admeter.PermRights,
			admeter.PermManageUsers, admeter.PermManageTokens, admeter.PermManageGrants,
			admeter.PermManageAccount, admeter.PermCloseAccount, admeter.PermReadAudit} {
			want := false
			for _, q := range tc.perms {
				want = want || q == p
			}
			if got := tc.level.Allows(p); got != want {
				t.Errorf("%q.Allows(%s) = %v, want %v", tc.level, p, got, want)
			}
		}
	}
}

func TestGrantValidate(t *testing.T) {
	good := func() admeter.Grant {
		return admeter.Grant{Owner: "t_advertiser", Grantee: "t_agency", Campaign: "12345678", Level: admeter.GrantRead}
	}
	g := good()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod  func(*admeter.Grant)
		want string
	}{
		{func(g *admeter.Grant) { g.Owner = "" }, "owner"},
		{func(g *admeter.Grant) { g.Grantee = "" }, "grantee"},
		{func(g *admeter.Grant) { g.Grantee = g.Owner }, "another account"},
		{func(g *admeter.Grant) { g.Campaign = "" }, "campaign"},
		{func(g *admeter.Grant) { g.Level = "" }, "level"},
		{func(g *admeter.Grant) { g.Level = "write" }, "level"},
	} {
		g := good()
		tc.mod(&g)
		if err := g.Validate(); admeter.ErrorCode(err) != admeter.EINVALID || !strings.Contains(admeter.ErrorMessage(err), tc.want) {
			t.Errorf("%+v: %v, want an invalid error about %s", g, err, tc.want)
		}
	}
}
