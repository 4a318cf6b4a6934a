package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// session is a signed-in user's cookie and CSRF token.
type session struct {
	cookie *http.Cookie
	csrf   string
}

// call sends a JSON request with the session (cookie and, for unsafe
// methods, the CSRF header) and decodes the answer into out.
func (s session) call(t *testing.T, method, url string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.AddCookie(s.cookie)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" && s.csrf != "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

// signIn signs in and returns the session.
func signIn(t *testing.T, base, email, password string) (session, int) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := noRedirect.Post(base+"/api/v1/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	var s session
	for _, ck := range resp.Cookies() {
		if ck.Name == "admeter_session" {
			s.cookie = ck
		}
	}
	s.csrf = out.CSRF
	return s, resp.StatusCode
}

// TestEnterpriseAccountFlow registers an enterprise, has the operator
// verify and activate it, signs its owner in, adds users with roles, issues
// scoped tokens, and checks that each can do what its role or scope allows
// and nothing more; every step lands in the audit trail.
func TestEnterpriseAccountFlow(t *testing.T) {
	m, base := MustRunMain(t, nil)
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	const password = "Tq7#mLw2!xVb9pZ"
	reg := map[string]any{
		"kind": "advertiser",
		"registration": map[string]string{"company": "示例科技有限公司", "credit_code": "91350100M000100Y43", "licence_ref": "BL-2026-001",
			"contact": "张三", "phone": "13812345678", "email": "ops@example.com"},
		"owner": map[string]string{"email": "Owner@Example.com", "name": "张三", "password": password},
	}

	// Bad registrations: clear errors.
	for _, tc := range []struct {
		mod  func(map[string]any)
		want string
	}{
		{func(r map[string]any) { r["registration"].(map[string]string)["credit_code"] = "91350100M000100Y44" }, "check character"},
		{func(r map[string]any) { r["registration"].(map[string]string)["phone"] = "021-12345678" }, "mobile"},
		{func(r map[string]any) { r["owner"].(map[string]string)["password"] = "password123!" }, "password"},
		{func(r map[string]any) { r["owner"].(map[string]string)["password"] = "short" }, "12"},
	} {
		b, _ := json.Marshal(reg)
		var r map[string]any
		_ = json.Unmarshal(b, &r)
		for k, v := range r {
			if mv, ok := v.(map[string]any); ok {
				ms := map[string]string{}
				for kk, vv := range mv {
					ms[kk] = vv.(string)
				}
				r[k] = ms
			}
		}
		tc.mod(r)
		var e struct {
			Error struct{ Code, Message string }
		}
		if st := apiCall(t, "POST", base+"/api/v1/register", "", r, &e); st != 400 || !strings.Contains(strings.ToLower(e.Error.Message), tc.want) {
			t.Errorf("registration: %d %q, want 400 mentioning %q", st, e.Error.Message, tc.want)
		}
	}

	var acct struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if st := apiCall(t, "POST", base+"/api/v1/register", "", reg, &acct); st != 201 || acct.Status != "pending" {
		t.Fatalf("register: %d %+v", st, acct)
	}
	if st := apiCall(t, "POST", base+"/api/v1/register", "", reg, nil); st != 409 {
		t.Fatalf("second registration with the same credit code: %d, want 409", st)
	}
	// Pending: no sign-in.
	if _, st := signIn(t, base, "owner@example.com", password); st != 403 {
		t.Fatalf("sign-in while pending: %d, want 403", st)
	}
	// The operator verifies (a note is required) and activates.
	status := func(s, note string) int {
		return apiCall(t, "POST", base+"/api/v1/admin/tenants/"+acct.ID+"/status", opTok, map[string]string{"status": s, "note": note}, nil)
	}
	if st := status("active", ""); st != 409 {
		t.Fatalf("pending → active: %d, want 409 (verify first)", st)
	}
	if st := status("verified", ""); st != 400 {
		t.Fatalf("verify without a note: %d, want 400", st)
	}
	if status("verified", "licence and credit code checked against the national registry") != 200 || status("active", "") != 200 {
		t.Fatal("verify and activate failed")
	}

	// Sign in (email is case-insensitive); wrong passwords are refused.
	if _, st := signIn(t, base, "owner@example.com", password+"x"); st != 401 {
		t.Fatalf("wrong password: %d", st)
	}
	owner, st := signIn(t, base, "OWNER@example.com", password)
	if st != 200 || owner.cookie == nil || !owner.cookie.HttpOnly || owner.csrf == "" {
		t.Fatalf("sign-in: %d cookie %+v csrf %q", st, owner.cookie, owner.csrf)
	}
	// Unsafe requests with the cookie need the CSRF token.
	noCSRF := session{cookie: owner.cookie}
	if st := noCSRF.call(t, "POST", base+"/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"collect"}}, nil); st != 403 {
		t.Fatalf("POST without CSRF: %d, want 403", st)
	}

	// Users with roles.
	var analyst struct{ ID string }
	if st := owner.call(t, "POST", base+"/api/v1/users", map[string]string{"email": "analyst@example.com", "name": "李四", "role": "analyst", "password": "Lk9$wQe4#nMz2vR"}, &analyst); st != 201 {
		t.Fatalf("create analyst: %d", st)
	}
	an, st := signIn(t, base, "analyst@example.com", "Lk9$wQe4#nMz2vR")
	if st != 200 {
		t.Fatalf("analyst sign-in: %d", st)
	}
	if st := an.call(t, "POST", base+"/api/v1/campaigns", map[string]any{"name": "x", "landing_url": "https://shop.example.com/", "placements": []map[string]string{{"name": "p", "media": "m"}}}, nil); st != 403 {
		t.Fatalf("analyst creates a campaign: %d, want 403", st)
	}
	if st := an.call(t, "GET", base+"/api/v1/users", nil, nil); st != 403 {
		t.Fatalf("analyst lists users: %d, want 403", st)
	}
	var viewer struct{ ID string }
	owner.call(t, "POST", base+"/api/v1/users", map[string]string{"email": "viewer@example.com", "name": "孙八", "role": "viewer", "password": "Pm6*eTz9!qWc4nB"}, &viewer)
	if st := owner.call(t, "DELETE", base+"/api/v1/users/"+viewer.ID, nil, nil); st != 200 {
		t.Fatalf("delete a user: %d", st)
	}
	if _, st := signIn(t, base, "viewer@example.com", "Pm6*eTz9!qWc4nB"); st != 401 {
		t.Fatalf("a deleted user signs in: %d, want 401", st)
	}
	var camp testCampaign
	if st := owner.call(t, "POST", base+"/api/v1/campaigns", map[string]any{"name": "双十一", "landing_url": "https://shop.example.com/",
		"placements": []map[string]string{{"name": "开屏", "media": "媒体A"}}}, &camp); st != 201 {
		t.Fatalf("owner creates a campaign: %d", st)
	}
	if st := an.call(t, "GET", base+"/api/v1/campaigns/"+camp.ID+"/report?from=2026-12-01&to=2026-12-05&format=csv", nil, nil); st != 200 {
		t.Fatalf("analyst exports a report: %d", st)
	}

	// Scoped tokens: shown once, hashed, revocable, last used.
	newToken := func(scopes ...string) (string, string) {
		var tok struct{ ID, Token string }
		if st := owner.call(t, "POST", base+"/api/v1/tokens", map[string]any{"name": "ci " + strings.Join(scopes, "+"), "scopes": scopes}, &tok); st != 201 || tok.Token == "" {
			t.Fatalf("create token %v: %d", scopes, st)
		}
		return tok.ID, tok.Token
	}
	_, readTok := newToken("reports:read")
	collectID, collectTok := newToken("collect")
	reportURL := base + "/api/v1/campaigns/" + camp.ID + "/report?from=2026-12-01&to=2026-12-05"
	if st := apiCall(t, "GET", reportURL, readTok, nil, nil); st != 200 {
		t.Fatalf("reports:read token reads a report: %d", st)
	}
	if st := apiCall(t, "POST", base+"/api/v1/requests", readTok, map[string]string{"type": "optout", "id_type": "imei", "id": "868049039501257"}, nil); st != 403 {
		t.Fatalf("reports:read token submits a rights request: %d, want 403", st)
	}
	if st := apiCall(t, "GET", reportURL, collectTok, nil, nil); st != 403 {
		t.Fatalf("collect token reads a report: %d, want 403", st)
	}
	var tokens struct {
		Tokens []struct {
			ID       string  `json:"id"`
			Token    string  `json:"token"`
			LastUsed *string `json:"last_used"`
		} `json:"tokens"`
	}
	owner.call(t, "GET", base+"/api/v1/tokens", nil, &tokens)
	used := false
	for _, tk := range tokens.Tokens {
		if tk.Token != "" {
			t.Fatal("a token's secret is listed after creation")
		}
		if tk.LastUsed != nil {
			used = true
		}
	}
	if !used {
		t.Error("no token shows a last-used time")
	}
	var expiring struct{ Expires string }
	if st := owner.call(t, "POST", base+"/api/v1/tokens", map[string]any{"name": "temp", "scopes": []string{"reports:read"}, "expires_in_days": 7}, &expiring); st != 201 || expiring.Expires == "" {
		t.Fatalf("token with an expiry: %d %+v", st, expiring)
	}
	if st := owner.call(t, "POST", base+"/api/v1/tokens", map[string]any{"name": "bad", "scopes": []string{"collect"}, "expires_in_days": -1}, nil); st != 400 {
		t.Fatalf("negative expiry: %d, want 400", st)
	}
	if st := owner.call(t, "DELETE", base+"/api/v1/tokens/"+collectID, nil, nil); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if st := apiCall(t, "GET", base+"/api/v1/me", collectTok, nil, nil); st != 401 {
		t.Fatalf("revoked token: %d, want 401", st)
	}

	// Suspension stops every credential of the tenant.
	if status("suspended", "unpaid invoice") != 200 {
		t.Fatal("suspend failed")
	}
	if st := apiCall(t, "GET", reportURL, readTok, nil, nil); st != 403 {
		t.Fatalf("token of a suspended account: %d, want 403", st)
	}
	if st := owner.call(t, "GET", base+"/api/v1/me", nil, nil); st != 401 && st != 403 {
		t.Fatalf("session of a suspended account: %d", st)
	}
	pixel := base + "/x/k=" + camp.ID + "&p=" + camp.Placements[0].ID + "&m11=abcdef0123456789"
	if resp, _ := get(t, pixel, nil); resp.StatusCode != 200 || resp.Header.Get("X-Admeter-Rejected") != "campaign_stopped" {
		t.Fatalf("pixel of a suspended account: %d %q; want the GIF, rejected as campaign_stopped", resp.StatusCode, resp.Header.Get("X-Admeter-Rejected"))
	}
	if status("active", "paid") != 200 {
		t.Fatal("reactivate failed")
	}
	if resp, _ := get(t, pixel, nil); resp.Header.Get("X-Admeter-Rejected") != "" {
		t.Fatalf("pixel after reactivation rejected: %q", resp.Header.Get("X-Admeter-Rejected"))
	}

	// Sign out everywhere ends both of the owner's sessions.
	owner2, _ := signIn(t, base, "owner@example.com", password)
	if st := owner.call(t, "DELETE", base+"/api/v1/session?everywhere=1", nil, nil); st != 200 {
		t.Fatalf("sign out everywhere: %d", st)
	}
	if st := owner2.call(t, "GET", base+"/api/v1/me", nil, nil); st != 401 {
		t.Fatalf("the other session after sign-out everywhere: %d, want 401", st)
	}

	// The trail holds the sign-ins (failed ones too), the changes and the
	// data access, each with a network block and never a password.
	owner, _ = signIn(t, base, "owner@example.com", password)
	var trail struct {
		Entries []struct {
			Actor, Action, Outcome, IP, Target string
		} `json:"entries"`
	}
	if st := owner.call(t, "GET", base+"/api/v1/audit?limit=1000", nil, &trail); st != 200 {
		t.Fatalf("audit trail: %d", st)
	}
	seen := map[string]bool{}
	for _, e := range trail.Entries {
		seen[e.Action+" "+strings.SplitN(e.Outcome, ":", 2)[0]] = true
		if e.IP != "127.0.0.0/24" {
			t.Errorf("entry %s has ip %q, want the /24 block", e.Action, e.IP)
		}
	}
	for _, want := range []string{"session.signin ok", "session.signin failed", "user.create ok", "token.create ok", "token.revoke ok",
		"campaign.create ok", "report.read ok", "access.denied refused", "session.signout ok", "account.register ok", "admin.tenant.status ok"} {
		if !seen[want] {
			t.Errorf("audit trail lacks %q; has %v", want, seen)
		}
	}
	b, _ := json.Marshal(trail)
	if strings.Contains(string(b), password) {
		t.Fatal("the audit trail holds a password")
	}

	// Closing asks for the password and the company name, then stops
	// everything and says when the data goes.
	if st := owner.call(t, "POST", base+"/api/v1/account/close", map[string]string{"password": password, "confirm": "wrong"}, nil); st != 400 {
		t.Fatalf("close without the right confirmation: %d, want 400", st)
	}
	if st := owner.call(t, "POST", base+"/api/v1/account/close", map[string]string{"password": "not it", "confirm": "示例科技有限公司"}, nil); st != 401 {
		t.Fatalf("close with a wrong password: %d, want 401", st)
	}
	var closed struct {
		Account struct{ Status string } `json:"account"`
		Deleted string                  `json:"data_deleted_after"`
	}
	if st := owner.call(t, "POST", base+"/api/v1/account/close", map[string]string{"password": password, "confirm": "示例科技有限公司"}, &closed); st != 200 ||
		closed.Account.Status != "closed" || closed.Deleted == "" {
		t.Fatalf("close: %d %+v", st, closed)
	}
	if st := apiCall(t, "GET", reportURL, readTok, nil, nil); st != 401 {
		t.Fatalf("token after closing: %d, want 401 (revoked)", st)
	}
	if resp, _ := get(t, pixel, nil); resp.Header.Get("X-Admeter-Rejected") != "campaign_stopped" {
		t.Fatal("a closed account's campaign still collects")
	}
	if _, st := signIn(t, base, "owner@example.com", password); st != 403 {
		t.Fatalf("sign-in after closing: %d, want 403", st)
	}
}

// TestSignInLockout locks an account after five wrong passwords, with a
// clear message, even for the right password; the failures are audited.
func TestSignInLockout(t *testing.T) {
	m, base := MustRunMain(t, nil)
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	const password = "Zr8&hVp3!kLq6wN"
	var acct struct{ ID string }
	if st := apiCall(t, "POST", base+"/api/v1/register", "", map[string]any{"kind": "agency",
		"registration": map[string]string{"company": "代理有限公司", "credit_code": "91440300708461136T", "licence_ref": "BL-9",
			"contact": "王五", "phone": "13912345678", "email": "a@agency.example"},
		"owner": map[string]string{"email": "boss@agency.example", "name": "王五", "password": password}}, &acct); st != 201 {
		t.Fatalf("register: %d", st)
	}
	for _, s := range []string{"verified", "active"} {
		if st := apiCall(t, "POST", base+"/api/v1/admin/tenants/"+acct.ID+"/status", opTok, map[string]string{"status": s, "note": "checked"}, nil); st != 200 {
			t.Fatalf("%s: %d", s, st)
		}
	}
	for i := range 5 {
		if _, st := signIn(t, base, "boss@agency.example", "wrong password "+string(rune('a'+i))); st != 401 {
			t.Fatalf("wrong password %d: %d, want 401", i, st)
		}
	}
	b, _ := json.Marshal(map[string]string{"email": "boss@agency.example", "password": password})
	resp, err := noRedirect.Post(base+"/api/v1/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || !strings.Contains(string(body), "locked") || !strings.Contains(string(body), "try again in") {
		t.Fatalf("right password on a locked account: %d %s, want 429 saying until when", resp.StatusCode, body)
	}
	var trail struct {
		Entries []struct{ Action, Outcome string } `json:"entries"`
	}
	apiCall(t, "GET", base+"/api/v1/admin/audit?action=session.signin&limit=100", opTok, nil, &trail)
	failed, locked := 0, 0
	for _, e := range trail.Entries {
		switch {
		case e.Outcome == "failed":
			failed++
		case strings.HasPrefix(e.Outcome, "refused"):
			locked++
		}
	}
	if failed != 5 || locked != 1 {
		t.Fatalf("audit: %d failed and %d locked sign-ins, want 5 and 1", failed, locked)
	}
}

// TestAgencyGrant lets an advertiser grant an agency read access to one
// campaign: the agency sees and reports on that campaign only, until the
// grant is revoked; the advertiser's trail shows the agency's access.
func TestAgencyGrant(t *testing.T) {
	m, base := MustRunMain(t, nil)
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	const password = "Gv4@pXn7!rTm2sQ"
	var adv struct{ ID string }
	if st := apiCall(t, "POST", base+"/api/v1/register", "", map[string]any{"kind": "advertiser",
		"registration": map[string]string{"company": "品牌方有限公司", "credit_code": "91110108551385082Q", "licence_ref": "BL-7",
			"contact": "赵六", "phone": "13712345678", "email": "brand@example.com"},
		"owner": map[string]string{"email": "cmo@brand.example", "name": "赵六", "password": password}}, &adv); st != 201 {
		t.Fatalf("register: %d", st)
	}
	for _, s := range []string{"verified", "active"} {
		apiCall(t, "POST", base+"/api/v1/admin/tenants/"+adv.ID+"/status", opTok, map[string]string{"status": s, "note": "checked"}, nil)
	}
	var agency struct{ ID, Token string }
	if st := apiCall(t, "POST", base+"/api/v1/tenants", opTok, map[string]string{"name": "代理商", "kind": "agency"}, &agency); st != 201 {
		t.Fatalf("agency: %d", st)
	}
	owner, st := signIn(t, base, "cmo@brand.example", password)
	if st != 200 {
		t.Fatalf("sign-in: %d", st)
	}
	mk := func(name string) testCampaign {
		var c testCampaign
		if st := owner.call(t, "POST", base+"/api/v1/campaigns", map[string]any{"name": name, "landing_url": "https://shop.example.com/",
			"placements": []map[string]string{{"name": "p", "media": "m"}}}, &c); st != 201 {
			t.Fatalf("campaign: %d", st)
		}
		return c
	}
	c1, c2 := mk("授权活动"), mk("私有活动")
	var g struct{ ID string }
	if st := owner.call(t, "POST", base+"/api/v1/grants", map[string]string{"grantee": agency.ID, "campaign": c1.ID, "level": "read"}, &g); st != 201 {
		t.Fatalf("grant: %d", st)
	}
	if st := owner.call(t, "POST", base+"/api/v1/grants", map[string]string{"grantee": adv.ID, "campaign": c1.ID, "level": "read"}, nil); st != 400 {
		t.Fatalf("grant to itself: %d, want 400", st)
	}
	var list struct {
		Campaigns []struct{ ID, Owner string } `json:"campaigns"`
	}
	apiCall(t, "GET", base+"/api/v1/campaigns", agency.Token, nil, &list)
	if len(list.Campaigns) != 1 || list.Campaigns[0].ID != c1.ID || list.Campaigns[0].Owner != adv.ID {
		t.Fatalf("agency's campaigns: %+v, want only the granted one, with its owner", list.Campaigns)
	}
	report := func(c testCampaign) int {
		return apiCall(t, "GET", base+"/api/v1/campaigns/"+c.ID+"/report?from=2026-12-01&to=2026-12-05", agency.Token, nil, nil)
	}
	if report(c1) != 200 || report(c2) != 404 {
		t.Fatalf("agency reports: granted %d, private %d; want 200 and 404", report(c1), report(c2))
	}
	rename := func(name string) int {
		return apiCall(t, "PATCH", base+"/api/v1/campaigns/"+c1.ID, agency.Token, map[string]any{"name": name,
			"placements": []map[string]string{{"name": "新增位置", "media": "代理媒体"}}}, nil)
	}
	if st := rename("代理改名"); st != 403 {
		t.Fatalf("agency with a read grant edits the campaign: %d, want 403", st)
	}
	if st := owner.call(t, "POST", base+"/api/v1/grants", map[string]string{"grantee": agency.ID, "campaign": c1.ID, "level": "manage"}, nil); st != 201 {
		t.Fatalf("upgrade the grant: %d", st)
	}
	if st := rename("代理改名"); st != 200 {
		t.Fatalf("agency with a manage grant edits the campaign: %d", st)
	}
	var edited struct {
		Name       string
		Placements []struct{ Name string } `json:"placements"`
	}
	owner.call(t, "GET", base+"/api/v1/campaigns/"+c1.ID, nil, &edited)
	if edited.Name != "代理改名" || len(edited.Placements) != 2 {
		t.Fatalf("after the agency's edit: %+v", edited)
	}
	if st := apiCall(t, "PATCH", base+"/api/v1/campaigns/"+c2.ID, agency.Token, map[string]any{"name": "x"}, nil); st != 404 {
		t.Fatalf("agency edits a campaign it has no grant for: %d, want 404", st)
	}
	if st := owner.call(t, "DELETE", base+"/api/v1/grants/"+g.ID, nil, nil); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if report(c1) != 404 {
		t.Fatal("the agency still reads a campaign after the grant was revoked")
	}
	var trail struct {
		Entries []struct {
			Action  string
			Details map[string]any
		} `json:"entries"`
	}
	owner.call(t, "GET", base+"/api/v1/audit?action=report.read&limit=100", nil, &trail)
	found := false
	for _, e := range trail.Entries {
		if e.Details["via_grant_to"] == agency.ID {
			found = true
		}
	}
	if !found {
		t.Fatalf("the advertiser's trail does not show the agency's report: %+v", trail.Entries)
	}
}

// TestMediaSeesOwnPlacements: a media tenant named on a placement of an
// advertiser's campaign sees that placement's traffic and nothing else.
func TestMediaSeesOwnPlacements(t *testing.T) {
	m, base := MustRunMain(t, nil)
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	mk := func(name, kind string) (string, string) {
		var out struct{ ID, Token string }
		if st := apiCall(t, "POST", base+"/api/v1/tenants", opTok, map[string]string{"name": name, "kind": kind}, &out); st != 201 {
			t.Fatalf("tenant %s: %d", name, st)
		}
		return out.ID, out.Token
	}
	_, advTok := mk("品牌", "advertiser")
	mediaID, mediaTok := mk("媒体甲", "media")
	otherMediaID, otherMediaTok := mk("媒体乙", "media")
	var c testCampaign
	if st := apiCall(t, "POST", base+"/api/v1/campaigns", advTok, map[string]any{"name": "跨媒体", "landing_url": "https://shop.example.com/",
		"placements": []map[string]string{{"name": "甲-开屏", "media": "甲", "media_tenant": mediaID}, {"name": "乙-信息流", "media": "乙", "media_tenant": otherMediaID}, {"name": "自有", "media": "官网"}}}, &c); st != 201 {
		t.Fatalf("campaign: %d", st)
	}
	var private testCampaign
	apiCall(t, "POST", base+"/api/v1/campaigns", advTok, map[string]any{"name": "私有", "landing_url": "https://shop.example.com/",
		"placements": []map[string]string{{"name": "p", "media": "m"}}}, &private)
	hits := map[int]int{0: 3, 1: 5, 2: 2}
	for i, n := range hits {
		for j := range n {
			get(t, base+"/x/k="+c.ID+"&p="+c.Placements[i].ID+"&m11=mediaview000000"+string(rune('a'+i))+string(rune('a'+j)), nil)
		}
	}
	day := todayShanghai()
	type rep struct {
		Rows []struct {
			Placement   string `json:"placement"`
			Impressions int64  `json:"impressions"`
		} `json:"rows"`
		Total struct {
			Impressions int64 `json:"impressions"`
			UV          int64 `json:"uv"`
		} `json:"total"`
	}
	u := base + "/api/v1/campaigns/" + c.ID + "/report?from=" + day + "&to=" + day + "&by=placement"
	var all rep
	for i := 0; i < 150 && all.Total.Impressions < 10; i++ {
		apiCall(t, "GET", u, advTok, nil, &all)
		time.Sleep(20 * time.Millisecond)
	}
	if all.Total.Impressions != 10 {
		t.Fatalf("advertiser sees %d impressions, want 10", all.Total.Impressions)
	}
	var mine rep
	if st := apiCall(t, "GET", u, mediaTok, nil, &mine); st != 200 || mine.Total.Impressions != 3 || mine.Total.UV != 3 ||
		len(mine.Rows) != 1 || mine.Rows[0].Placement != c.Placements[0].ID {
		t.Fatalf("media report: %d %+v; want its 3 impressions on its one placement", st, mine)
	}
	var freq struct{ Reach int64 }
	apiCall(t, "GET", base+"/api/v1/campaigns/"+c.ID+"/frequency?from="+day+"&to="+day, otherMediaTok, nil, &freq)
	if freq.Reach != 5 {
		t.Fatalf("other media's reach %d, want 5", freq.Reach)
	}
	var list struct {
		Campaigns []struct {
			ID, Owner  string
			Placements []struct{ ID string } `json:"placements"`
		} `json:"campaigns"`
	}
	apiCall(t, "GET", base+"/api/v1/campaigns", mediaTok, nil, &list)
	if len(list.Campaigns) != 1 || len(list.Campaigns[0].Placements) != 1 || list.Campaigns[0].Placements[0].ID != c.Placements[0].ID {
		t.Fatalf("media's campaigns: %+v; want the one campaign with only its placement", list.Campaigns)
	}
	if st := apiCall(t, "GET", base+"/api/v1/campaigns/"+private.ID+"/report?from="+day+"&to="+day, mediaTok, nil, nil); st != 404 {
		t.Fatalf("media reads a campaign without its placements: %d, want 404", st)
	}
	if st := apiCall(t, "POST", base+"/api/v1/campaigns", advTok, map[string]any{"name": "x", "landing_url": "https://shop.example.com/",
		"placements": []map[string]string{{"name": "p", "media": "m", "media_tenant": "t_nosuchtenant"}}}, nil); st != 400 {
		t.Fatalf("placement naming an unknown media tenant: %d, want 400", st)
	}
}

func todayShanghai() string { return time.Now().In(shanghai()).Format(time.DateOnly) }

// TestBatchWithToken: a sender that authenticates the batch API with a token
// may send events only for its own tenant's campaigns; a token without the
// collect scope is refused; no token at all stays accepted (MMA SDKs).
func TestBatchWithToken(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tokA, a := setupCampaign(t, base, m.Config.DataDir, 1)
	_, b := setupCampaign(t, base, m.Config.DataDir, 1)
	ev := func(c testCampaign) []map[string]any {
		return []map[string]any{{"campaign": c.ID, "placement": c.Placements[0].ID, "oaid": "batchtoken000001"}}
	}
	var res struct {
		Accepted int
		Rejected []struct{ Reason string }
	}
	if st := apiCall(t, "POST", base+"/v1/events", tokA, ev(a), &res); st != 200 || res.Accepted != 1 {
		t.Fatalf("own campaign with a token: %d %+v", st, res)
	}
	if st := apiCall(t, "POST", base+"/v1/events", tokA, ev(b), &res); st != 200 || res.Accepted != 0 || len(res.Rejected) != 1 {
		t.Fatalf("another tenant's campaign with a token: %d %+v; want it rejected", st, res)
	}
	if st := apiCall(t, "POST", base+"/v1/events", "adm_t_nonsense", ev(a), nil); st != 401 {
		t.Fatalf("unknown token: %d, want 401", st)
	}
	if st := apiCall(t, "POST", base+"/v1/events", "", ev(b), &res); st != 200 || res.Accepted != 1 {
		t.Fatalf("no token: %d %+v; want accepted", st, res)
	}
}

// totpCode computes the RFC 6238 code of secret (base32) at t, as an
// authenticator app would.
func totpCode(t *testing.T, b32 string, at time.Time) string {
	t.Helper()
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(b32, "=")))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// TestTOTPSignIn turns on a second factor: sign-in then needs the current
// code, and the same code cannot be used twice.
func TestTOTPSignIn(t *testing.T) {
	m, base := MustRunMain(t, nil)
	op, _ := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	opTok := strings.TrimSpace(string(op))
	const password = "Hw5^cJt8!mVr3xK"
	var acct struct{ ID string }
	apiCall(t, "POST", base+"/api/v1/register", "", map[string]any{"kind": "media",
		"registration": map[string]string{"company": "媒体有限公司", "credit_code": "91350100M000100Y43", "licence_ref": "BL-3",
			"contact": "钱七", "phone": "13612345678", "email": "m@media.example"},
		"owner": map[string]string{"email": "ops@media.example", "name": "钱七", "password": password}}, &acct)
	for _, s := range []string{"verified", "active"} {
		apiCall(t, "POST", base+"/api/v1/admin/tenants/"+acct.ID+"/status", opTok, map[string]string{"status": s, "note": "ok"}, nil)
	}
	u, st := signIn(t, base, "ops@media.example", password)
	if st != 200 {
		t.Fatalf("sign-in: %d", st)
	}
	var enrol struct{ Secret, URI string }
	if st := u.call(t, "POST", base+"/api/v1/me/totp", map[string]string{"password": "wrong"}, nil); st != 401 {
		t.Fatalf("enrol with a wrong password: %d, want 401", st)
	}
	if st := u.call(t, "POST", base+"/api/v1/me/totp", map[string]string{"password": password}, &enrol); st != 200 || !strings.HasPrefix(enrol.URI, "otpauth://totp/") {
		t.Fatalf("enrol: %d %+v", st, enrol)
	}
	if st := u.call(t, "POST", base+"/api/v1/me/totp/confirm", map[string]string{"code": "000000"}, nil); st != 400 {
		t.Fatalf("confirm with a wrong code: %d, want 400", st)
	}
	if st := u.call(t, "POST", base+"/api/v1/me/totp/confirm", map[string]string{"code": totpCode(t, enrol.Secret, time.Now())}, nil); st != 200 {
		t.Fatalf("confirm: %d", st)
	}
	login := func(code string) int {
		return apiCall(t, "POST", base+"/api/v1/session", "", map[string]string{"email": "ops@media.example", "password": password, "totp": code}, nil)
	}
	if st := login(""); st != 401 {
		t.Fatalf("sign-in without the code: %d, want 401", st)
	}
	// The confirming code's step is used: the next step's code signs in,
	// once.
	next := totpCode(t, enrol.Secret, time.Now().Add(30*time.Second))
	if st := login(next); st != 200 {
		t.Fatalf("sign-in with the next code: %d", st)
	}
	if st := login(next); st == 200 {
		t.Fatal("the same code signed in twice")
	}
	if st := u.call(t, "DELETE", base+"/api/v1/me/totp", map[string]string{"password": password}, nil); st != 200 {
		t.Fatalf("disable the second factor: %d", st)
	}
	if st := login(""); st != 200 {
		t.Fatalf("sign-in without a code once the second factor is off: %d", st)
	}
}
