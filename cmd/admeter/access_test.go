package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
)

// accessPassword is the password of every user the access tests make.
const accessPassword = "Tq7#mLw2!xVb9pZ"

// accessCred is how a caller authenticates: a bearer token, or a session
// cookie and the session's CSRF token (sent on unsafe methods when set).
type accessCred struct {
	bearer string
	cookie string
	csrf   string
}

// accessResp is an answer with its body read.
type accessResp struct {
	status int
	header http.Header
	body   []byte
}

// accessDo sends a request with credentials c and a JSON body (if not nil).
func accessDo(tb testing.TB, method, url string, c accessCred, body any) accessResp {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: c.cookie})
	}
	if c.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return accessResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// accessJSON sends a request that must answer want and decodes the answer
// into out (if not nil).
func accessJSON(tb testing.TB, method, url string, c accessCred, body any, want int, out any) {
	tb.Helper()
	r := accessDo(tb, method, url, c, body)
	if r.status != want {
		tb.Fatalf("%s %s: status %d, want %d: %s", method, url, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, url, r.body, err)
		}
	}
}

// accessCreditCode completes 17 characters into a unified social credit code
// with its check character (GB 32100-2015).
func accessCreditCode(first17 string) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := range 17 {
		sum += strings.IndexByte(chars, first17[i]) * weights[i]
	}
	return first17 + string(chars[(31-sum%31)%31])
}

// accessTenant is a registered, verified and active enterprise account with
// its owner signed in.
type accessTenant struct {
	id, name, creditCode, contact, phone string
	ownerID, ownerEmail                  string
	owner                                accessCred // with its CSRF token
}

// accessRegister registers an account whose every name and address contains
// label (and its lowercase form), has the operator verify and activate it,
// and signs its owner in.
func accessRegister(t *testing.T, base, op, label string, n int) *accessTenant {
	t.Helper()
	lower := strings.ToLower(label)
	at := &accessTenant{
		name:       label + "品牌",
		creditCode: accessCreditCode(fmt.Sprintf("91310000MA1K%05d", n)),
		contact:    label + "联系人",
		phone:      fmt.Sprintf("139123400%02d", n),
		ownerEmail: "owner@" + lower + ".example.com",
	}
	var acct struct {
		ID string `json:"id"`
	}
	accessJSON(t, "POST", base+"/api/v1/register", accessCred{}, map[string]any{
		"kind": "advertiser", "name": at.name,
		"registration": map[string]string{
			"company": label + "科技有限公司", "credit_code": at.creditCode, "licence_ref": "LIC-" + label,
			"contact": at.contact, "phone": at.phone, "email": "contact@" + lower + ".example.com",
		},
		"owner": map[string]string{"email": at.ownerEmail, "name": label + " Owner", "password": accessPassword},
	}, http.StatusCreated, &acct)
	at.id = acct.ID
	status := base + "/api/v1/admin/tenants/" + at.id + "/status"
	accessJSON(t, "POST", status, accessCred{bearer: op}, map[string]string{"status": "verified", "note": "licence and credit code checked"}, http.StatusOK, nil)
	accessJSON(t, "POST", status, accessCred{bearer: op}, map[string]string{"status": "active"}, http.StatusOK, nil)
	at.owner, at.ownerID = accessSignIn(t, base, at.ownerEmail)
	return at
}

// accessSignIn signs a user in and returns the session and the user's id.
func accessSignIn(t *testing.T, base, email string) (accessCred, string) {
	t.Helper()
	r := accessDo(t, "POST", base+"/api/v1/session", accessCred{}, map[string]string{"email": email, "password": accessPassword})
	if r.status != http.StatusOK {
		t.Fatalf("sign in %s: status %d: %s", email, r.status, r.body)
	}
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	c := accessCred{csrf: out.CSRF}
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == api.SessionCookie {
			c.cookie = ck.Value
		}
	}
	if c.cookie == "" || c.csrf == "" || out.User.ID == "" {
		t.Fatalf("sign in %s: no session cookie, CSRF token or user: %s", email, r.body)
	}
	return c, out.User.ID
}

// accessToken is an API token as created: its id and its secret.
type accessToken struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// accessNewToken creates a token with a signed-in user's session.
func accessNewToken(t *testing.T, base string, s accessCred, name string, scopes ...string) accessToken {
	t.Helper()
	var tk accessToken
	accessJSON(t, "POST", base+"/api/v1/tokens", s, map[string]any{"name": name, "scopes": scopes}, http.StatusCreated, &tk)
	if tk.ID == "" || tk.Token == "" {
		t.Fatalf("token %s: no id or secret", name)
	}
	return tk
}

// accessMarker is a string that belongs to tenant A and must reach no
// other tenant's caller, unless its group is one the caller may see (a
// campaign granted to an agency, a media's own placement).
type accessMarker struct {
	group, label, value string
}

// accessVisible returns the markers of ms outside the groups a caller may see.
func accessVisible(ms []accessMarker, allowed []string) []accessMarker {
	var out []accessMarker
	for _, m := range ms {
		if !slices.Contains(allowed, m.group) {
			out = append(out, m)
		}
	}
	return out
}

// accessIsWordByte reports whether b is an ASCII letter or digit.
func accessIsWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// accessFind returns the labels of the markers found in text as whole words
// (not inside a longer run of letters and digits, so that an 8-digit
// campaign id is not found inside a timestamp), except those that occur in
// except (what the caller itself sent, such as the id in the path).
func accessFind(text string, ms []accessMarker, except string) []string {
	var found []string
	for _, m := range ms {
		if m.value == "" || strings.Contains(except, m.value) {
			continue
		}
		for i := 0; ; {
			j := strings.Index(text[i:], m.value)
			if j < 0 {
				break
			}
			j += i
			end := j + len(m.value)
			if (j == 0 || !accessIsWordByte(text[j-1])) && (end == len(text) || !accessIsWordByte(text[end])) {
				found = append(found, m.label)
				break
			}
			i = j + 1
		}
	}
	return found
}

// accessErrorShape checks that body is the API's error shape,
// {"error":{"code":…,"message":…}} and nothing else, with the code of
// status.
func accessErrorShape(status int, body []byte) error {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(body, &outer); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if len(outer) != 1 || outer["error"] == nil {
		return fmt.Errorf("not the error shape: %s", body)
	}
	var e map[string]string
	if err := json.Unmarshal(outer["error"], &e); err != nil || len(e) != 2 || e["message"] == "" {
		return fmt.Errorf("not the error shape: %s", body)
	}
	want := map[int]string{400: admeter.EINVALID, 401: admeter.EUNAUTHORIZED, 403: admeter.EFORBIDDEN, 404: admeter.ENOTFOUND, 409: admeter.ECONFLICT}[status]
	if want != "" && e["code"] != want {
		return fmt.Errorf("code %q with status %d, want %q", e["code"], status, want)
	}
	return nil
}

// accessGhost returns an id of the same form as id that names nothing.
func accessGhost(id string) string {
	for _, s := range []string{"2222", "3333"} {
		if g := id[:len(id)-4] + s; g != id {
			return g
		}
	}
	panic("unreachable")
}

// accessRoute is one tenant-scoped endpoint of the API.
type accessRoute struct {
	name   string
	method string
	path   string // with tenant A's object id, if any, in it
	// id is tenant A's object that the request names, in the path or in
	// the body; "" for a collection.
	id   string
	perm admeter.Permission
	// body returns the request body; n is unique per request and id is the
	// object to name (A's, or one that does not exist).
	body func(n int, id string) any
	// ok is the status of a caller allowed to act on its own tenant (or on
	// an object it was let see).
	ok int
	// tokenStatus is the status of an allowed API token on a route that
	// only a signed-in user may use (0: tokens may use it).
	tokenStatus int
	// trail marks the audit trail, which rightly repeats the ids a caller
	// itself sent in its refused and failed attempts.
	trail bool
}

// accessKind is what a caller is to tenant A.
type accessKind int

const (
	accessUnauthenticated accessKind = iota // no or bad credentials: 401
	accessOperator                          // the operator token: 403 on tenant routes
	accessSuspended                         // a token of a suspended tenant: 403
	accessOwn                               // tenant A itself
	accessOther                             // another tenant
)

// accessCaller is one caller of the matrix.
type accessCaller struct {
	name    string
	cred    accessCred
	kind    accessKind
	session bool                 // a signed-in user rather than a token
	perms   []admeter.Permission // what the caller may do within its tenant
	// sees lists A's objects the caller may read (a granted campaign, one
	// with the media's placement); allowed the marker groups it may see.
	sees    []string
	allowed []string
}

// want returns the status the caller must get from route r.
func (c accessCaller) want(r accessRoute) int {
	switch c.kind {
	case accessUnauthenticated:
		return http.StatusUnauthorized
	case accessOperator, accessSuspended:
		return http.StatusForbidden
	}
	if c.session && c.cred.csrf == "" && r.method != http.MethodGet {
		return http.StatusForbidden
	}
	if !slices.Contains(c.perms, r.perm) {
		return http.StatusForbidden
	}
	if !c.session && r.tokenStatus != 0 {
		return r.tokenStatus
	}
	if c.kind == accessOther && r.id != "" && !slices.Contains(c.sees, r.id) {
		return http.StatusNotFound
	}
	return r.ok
}

// accessAuditEntry is an audit record as the API shows it.
type accessAuditEntry struct {
	Seq     uint64         `json:"seq"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Tenant  string         `json:"tenant"`
	Target  string         `json:"target"`
	Outcome string         `json:"outcome"`
	Details map[string]any `json:"details"`
}

// accessTrailLeaks returns what of ms an audit trail shows, allowing an
// entry that did not succeed to name, as its target, what its caller sent.
func accessTrailLeaks(es []accessAuditEntry, ms []accessMarker) []string {
	var found []string
	for _, e := range es {
		except := ""
		if e.Outcome != "ok" {
			except = e.Target
		}
		b, _ := json.Marshal(e)
		for _, l := range accessFind(string(b), ms, except) {
			found = append(found, fmt.Sprintf("%s in %s", l, b))
		}
	}
	return found
}

// accessAudit reads a whole audit trail, page by page.
func accessAudit(t *testing.T, url string, c accessCred) []accessAuditEntry {
	t.Helper()
	var all []accessAuditEntry
	var after uint64
	for {
		var page struct {
			Entries []accessAuditEntry `json:"entries"`
		}
		accessJSON(t, "GET", fmt.Sprintf("%s?limit=1000&after=%d", url, after), c, nil, http.StatusOK, &page)
		all = append(all, page.Entries...)
		if len(page.Entries) < 1000 {
			return all
		}
		after = page.Entries[len(page.Entries)-1].Seq
	}
}

// accessOperatorTenant creates a tenant of kind with the operator token and
// returns its id and bootstrap token.
func accessOperatorTenant(t *testing.T, base, op, name, kind string) (string, string) {
	t.Helper()
	var out struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	accessJSON(t, "POST", base+"/api/v1/tenants", accessCred{bearer: op}, map[string]string{"name": name, "kind": kind}, http.StatusCreated, &out)
	return out.ID, out.Token
}

// TestAccessControl calls every tenant-scoped endpoint of the real server
// with every kind of wrong caller (none, a forged or revoked token, an ended
// session, the operator, a suspended tenant, a token without the scope, a
// session without its CSRF token, other tenants' tokens and users, an agency
// granted one campaign, a media with one placement) and checks the status,
// the error shape, that nothing of tenant A beyond what the caller may see is
// in any answer, and that another tenant cannot tell A's objects from ones
// that do not exist. Then it checks the batch API's tokens, that each
// tenant's audit trail is its own, that the operator's covers all, and that
// an edited record is caught.
func TestAccessControl(t *testing.T) {
	start := time.Now()
	m, base := MustRunMain(t, nil)
	opFile, err := os.ReadFile(filepath.Join(m.Config.DataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	op := strings.TrimSpace(string(opFile))

	// An agency and a media that A works with.
	gID, gTok := accessOperatorTenant(t, base, op, "AccessGamma代理", "agency")
	mID, mTok := accessOperatorTenant(t, base, op, "AccessMu媒体", "media")

	// Tenant A: an owner, an analyst, tokens of every kind; campaign 1 with
	// a placement on the media and a private one, granted to the agency;
	// campaign 2, private; an impression and a finished access request with
	// its copy.
	a := accessRegister(t, base, op, "AccessAlpha", 1)
	full := accessNewToken(t, base, a.owner, "AccessAlpha-token-full", "collect", "reports:read", "manage")
	collectOnly := accessNewToken(t, base, a.owner, "AccessAlpha-token-collect", "collect")
	reportsOnly := accessNewToken(t, base, a.owner, "AccessAlpha-token-reports", "reports:read")
	victim := accessNewToken(t, base, a.owner, "AccessAlpha-token-victim", "reports:read")
	revoked := accessNewToken(t, base, a.owner, "AccessAlpha-token-revoked", "collect", "reports:read", "manage")
	accessJSON(t, "DELETE", base+"/api/v1/tokens/"+revoked.ID, a.owner, nil, http.StatusOK, nil)
	var analyst struct {
		ID string `json:"id"`
	}
	accessJSON(t, "POST", base+"/api/v1/users", a.owner, map[string]string{
		"email": "analyst@accessalpha.example.com", "name": "AccessAlpha Analyst", "role": "analyst", "password": accessPassword,
	}, http.StatusCreated, &analyst)
	aFull := accessCred{bearer: full.Token}
	var camp, camp2 testCampaign
	accessJSON(t, "POST", base+"/api/v1/campaigns", aFull, map[string]any{
		"name": "Kamp1Alpha", "landing_url": "https://kamp1alpha.example.net/sale",
		"allowed_hosts": []string{"m.kamp1alpha.example.net"},
		"placements": []map[string]string{
			{"name": "Slot1Alpha", "media": "Media1Alpha", "media_tenant": mID},
			{"name": "Slot2Alpha", "media": "Media2Alpha"},
		},
	}, http.StatusCreated, &camp)
	accessJSON(t, "POST", base+"/api/v1/campaigns", aFull, map[string]any{
		"name": "Kamp2Alpha", "landing_url": "https://kamp2alpha.example.net/",
		"placements": []map[string]string{{"name": "Slot3Alpha", "media": "Media3Alpha"}},
	}, http.StatusCreated, &camp2)
	var grant struct {
		ID string `json:"id"`
	}
	accessJSON(t, "POST", base+"/api/v1/grants", a.owner, map[string]string{"grantee": gID, "campaign": camp.ID, "level": "read"}, http.StatusCreated, &grant)
	const device = "c0ffee00c0ffee00aa"
	for _, p := range []string{camp.Placements[0].ID, camp.Placements[1].ID} {
		pixel := fmt.Sprintf("%s/x/k=%s&p=%s&m11=%s&mt=%d&ns=202.96.128.86&mo=0", base, camp.ID, p, device, time.Now().Unix())
		if resp, _ := get(t, pixel, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("pixel: %d", resp.StatusCode)
		}
	}
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	dates := "?from=" + day + "&to=" + day
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var rep struct {
			Total struct {
				Impressions int64 `json:"impressions"`
			} `json:"total"`
		}
		accessJSON(t, "GET", base+"/api/v1/campaigns/"+camp.ID+"/report"+dates, aFull, nil, http.StatusOK, &rep)
		if rep.Total.Impressions >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the impressions never reached tenant A's report")
		}
	}
	var req rightsRequest
	accessJSON(t, "POST", base+"/api/v1/requests", aFull, map[string]string{
		"type": "access", "id_type": "oaid", "id": device, "note": "TicketAlpha",
	}, http.StatusAccepted, &req)
	if req = waitRequest(t, base, full.Token, req.ID); req.Status != "done" || req.ExportURL == "" || req.Outcome.Events != 2 {
		t.Fatalf("access request: %+v, want done with a copy of 2 events", req)
	}
	// A second session of A's owner, signed out: its cookie is dead.
	ended, _ := accessSignIn(t, base, a.ownerEmail)
	accessJSON(t, "DELETE", base+"/api/v1/session", ended, nil, http.StatusOK, nil)

	// Tenant B: a registered advertiser with a token and a campaign; O: an
	// advertiser the operator made, with its bootstrap token; S: one the
	// operator suspended.
	b := accessRegister(t, base, op, "AccessBeta", 2)
	bTok := accessNewToken(t, base, b.owner, "AccessBeta-token", "collect", "reports:read", "manage")
	var bCamp testCampaign
	accessJSON(t, "POST", base+"/api/v1/campaigns", accessCred{bearer: bTok.Token}, map[string]any{
		"name": "AccessBeta-campaign", "landing_url": "https://accessbeta.example.com/",
		"placements": []map[string]string{{"name": "AccessBeta-slot", "media": "AccessBeta-media"}},
	}, http.StatusCreated, &bCamp)
	oTok, _ := setupCampaign(t, base, m.Config.DataDir, 1)
	sID, sTok := accessOperatorTenant(t, base, op, "AccessSigma", "advertiser")
	accessJSON(t, "POST", base+"/api/v1/admin/tenants/"+sID+"/status", accessCred{bearer: op},
		map[string]string{"status": "suspended", "note": "unpaid"}, http.StatusOK, nil)

	slot1, slot2 := camp.Placements[0].ID, camp.Placements[1].ID
	aMarks := []accessMarker{
		{"account", "A's names", "AccessAlpha"}, {"account", "A's addresses", "accessalpha"},
		{"account", "A's credit code", a.creditCode}, {"account", "A's phone", a.phone},
		{"tenant", "A's tenant id", a.id},
		{"users", "A's owner id", a.ownerID}, {"users", "A's analyst id", analyst.ID},
		{"camp1", "campaign 1's id", camp.ID}, {"camp1", "campaign 1's name", "Kamp1Alpha"}, {"camp1", "campaign 1's landing", "kamp1alpha"},
		{"camp1", "placement 1's id", slot1}, {"camp1", "placement 1's name", "Slot1Alpha"}, {"camp1", "placement 1's media", "Media1Alpha"},
		{"slot2", "placement 2's id", slot2}, {"slot2", "placement 2's name", "Slot2Alpha"}, {"slot2", "placement 2's media", "Media2Alpha"},
		{"camp2", "campaign 2's id", camp2.ID}, {"camp2", "campaign 2's name", "Kamp2Alpha"}, {"camp2", "campaign 2's landing", "kamp2alpha"},
		{"camp2", "placement 3's id", camp2.Placements[0].ID}, {"camp2", "placement 3's name", "Slot3Alpha"},
		{"request", "A's request id", req.ID}, {"request", "A's request note", "TicketAlpha"},
		{"grant", "A's grant id", grant.ID},
		{"tokens", "A's full token id", full.ID}, {"tokens", "A's collect token id", collectOnly.ID},
		{"tokens", "A's reports token id", reportsOnly.ID}, {"tokens", "A's victim token id", victim.ID},
		{"tokens", "A's revoked token id", revoked.ID},
		{"secrets", "A's full token", full.Token}, {"secrets", "A's collect token", collectOnly.Token},
		{"secrets", "A's reports token", reportsOnly.Token}, {"secrets", "A's victim token", victim.Token},
		{"secrets", "A's revoked token", revoked.Token},
		{"secrets", "A's owner session", a.owner.cookie}, {"secrets", "A's owner CSRF token", a.owner.csrf},
	}
	bMarks := []accessMarker{
		{"", "B's names", "AccessBeta"}, {"", "B's addresses", "accessbeta"}, {"", "B's tenant id", b.id},
		{"", "B's credit code", b.creditCode}, {"", "B's owner id", b.ownerID}, {"", "B's campaign id", bCamp.ID},
		{"", "B's token id", bTok.ID}, {"", "B's token", bTok.Token},
	}

	const (
		readC   = admeter.PermReadCampaigns
		manageC = admeter.PermManageCampaigns
		readR   = admeter.PermReadReports
		export  = admeter.PermExport
		rightsP = admeter.PermRights
		users   = admeter.PermManageUsers
		tokens  = admeter.PermManageTokens
		grants  = admeter.PermManageGrants
		account = admeter.PermManageAccount
		closeP  = admeter.PermCloseAccount
		audit   = admeter.PermReadAudit
	)
	// What each kind of caller may do, written out here rather than taken
	// from the product's tables.
	scopeFull := []admeter.Permission{readC, manageC, readR, export, rightsP}
	scopeReports := []admeter.Permission{readC, readR, export}
	owner := []admeter.Permission{readC, manageC, readR, export, rightsP, users, tokens, grants, account, closeP, audit}

	callers := []accessCaller{
		{name: "anonymous", kind: accessUnauthenticated},
		{name: "forged-token", cred: accessCred{bearer: api.TenantTokenPrefix + "bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtLS0tLS0tLS0t"}, kind: accessUnauthenticated},
		{name: "revoked-token", cred: accessCred{bearer: revoked.Token}, kind: accessUnauthenticated},
		{name: "ended-session", cred: ended, kind: accessUnauthenticated, session: true},
		{name: "forged-session", cred: accessCred{cookie: "forged-session-cookie", csrf: "forged"}, kind: accessUnauthenticated, session: true},
		{name: "operator", cred: accessCred{bearer: op}, kind: accessOperator},
		{name: "suspended-tenant-token", cred: accessCred{bearer: sTok}, kind: accessSuspended},
		{name: "A-collect-token", cred: accessCred{bearer: collectOnly.Token}, kind: accessOwn},
		{name: "A-reports-token", cred: accessCred{bearer: reportsOnly.Token}, kind: accessOwn, perms: scopeReports},
		{name: "A-session-without-CSRF", cred: accessCred{cookie: a.owner.cookie}, kind: accessOwn, session: true, perms: owner},
		{name: "B-token", cred: accessCred{bearer: bTok.Token}, kind: accessOther, perms: scopeFull},
		{name: "O-bootstrap-token", cred: accessCred{bearer: oTok}, kind: accessOther, perms: scopeFull},
		{name: "G-agency-granted-campaign-1", cred: accessCred{bearer: gTok}, kind: accessOther, perms: scopeFull,
			sees: []string{camp.ID, grant.ID}, allowed: []string{"tenant", "camp1", "slot2", "grant"}},
		{name: "M-media-of-placement-1", cred: accessCred{bearer: mTok}, kind: accessOther, perms: scopeFull,
			sees: []string{camp.ID}, allowed: []string{"tenant", "camp1"}},
		// Last: on DELETE /api/v1/session it signs B's owner out.
		{name: "B-session", cred: b.owner, kind: accessOther, session: true, perms: owner},
	}

	var routes []accessRoute
	routes = append(routes,
		accessRoute{name: "campaigns.list", method: "GET", path: "/api/v1/campaigns", perm: readC, ok: 200},
		accessRoute{name: "campaigns.create", method: "POST", path: "/api/v1/campaigns", perm: manageC, ok: 201, body: func(int, string) any {
			return map[string]any{"name": "probe campaign", "landing_url": "https://probe.example.com/",
				"placements": []map[string]string{{"name": "probe slot", "media": "probe media"}}}
		}})
	for _, c := range []struct{ name, id string }{{"campaign1", camp.ID}, {"campaign2", camp2.ID}} {
		p := "/api/v1/campaigns/" + c.id
		routes = append(routes,
			accessRoute{name: c.name + ".show", method: "GET", path: p, id: c.id, perm: readC, ok: 200},
			accessRoute{name: c.name + ".report", method: "GET", path: p + "/report" + dates, id: c.id, perm: readR, ok: 200},
			accessRoute{name: c.name + ".report.by", method: "GET", path: p + "/report" + dates + "&by=placement,media", id: c.id, perm: readR, ok: 200},
			accessRoute{name: c.name + ".report.csv", method: "GET", path: p + "/report" + dates + "&by=placement&format=csv", id: c.id, perm: export, ok: 200},
			accessRoute{name: c.name + ".frequency", method: "GET", path: p + "/frequency" + dates, id: c.id, perm: readR, ok: 200},
			accessRoute{name: c.name + ".daily", method: "GET", path: p + "/daily" + dates, id: c.id, perm: readR, ok: 200},
			accessRoute{name: c.name + ".conversions", method: "GET", path: p + "/conversions" + dates, id: c.id, perm: readR, ok: 200},
		)
	}
	reqPath := "/api/v1/requests/" + req.ID
	routes = append(routes,
		accessRoute{name: "grants.list", method: "GET", path: "/api/v1/grants", perm: readC, ok: 200},
		// Another advertiser granting A's campaign to an agency.
		accessRoute{name: "grants.create", method: "POST", path: "/api/v1/grants", id: camp2.ID, perm: grants, ok: 201, body: func(_ int, id string) any {
			return map[string]string{"grantee": gID, "campaign": id, "level": "manage"}
		}},
		accessRoute{name: "grants.revoke", method: "DELETE", path: "/api/v1/grants/" + grant.ID, id: grant.ID, perm: grants, ok: 200},
		accessRoute{name: "requests.list", method: "GET", path: "/api/v1/requests", perm: rightsP, ok: 200},
		accessRoute{name: "requests.show", method: "GET", path: reqPath, id: req.ID, perm: rightsP, ok: 200},
		accessRoute{name: "requests.export", method: "GET", path: reqPath + "/export", id: req.ID, perm: rightsP, ok: 200},
		accessRoute{name: "requests.export.csv", method: "GET", path: reqPath + "/export?format=csv", id: req.ID, perm: rightsP, ok: 200},
		accessRoute{name: "requests.submit", method: "POST", path: "/api/v1/requests", perm: rightsP, ok: 202, body: func(n int, _ string) any {
			return map[string]string{"type": "optout", "id_type": "oaid", "id": fmt.Sprintf("b0b0c0c0d0d0%06d", n)}
		}},
		accessRoute{name: "users.list", method: "GET", path: "/api/v1/users", perm: users, ok: 200},
		accessRoute{name: "users.create", method: "POST", path: "/api/v1/users", perm: users, ok: 201, body: func(n int, _ string) any {
			return map[string]string{"email": fmt.Sprintf("member%d@probe.example.com", n), "name": "Probe Member", "role": "viewer", "password": accessPassword}
		}},
		accessRoute{name: "users.update", method: "PATCH", path: "/api/v1/users/" + analyst.ID, id: analyst.ID, perm: users, ok: 200, body: func(int, string) any {
			return map[string]any{"name": "renamed", "role": "admin"}
		}},
		accessRoute{name: "users.disable-owner", method: "PATCH", path: "/api/v1/users/" + a.ownerID, id: a.ownerID, perm: users, ok: 200, body: func(int, string) any {
			return map[string]any{"disabled": true}
		}},
		accessRoute{name: "tokens.list", method: "GET", path: "/api/v1/tokens", perm: tokens, ok: 200},
		accessRoute{name: "tokens.create", method: "POST", path: "/api/v1/tokens", perm: tokens, ok: 201, body: func(int, string) any {
			return map[string]any{"name": "probe token", "scopes": []string{"reports:read"}}
		}},
		accessRoute{name: "tokens.revoke", method: "DELETE", path: "/api/v1/tokens/" + victim.ID, id: victim.ID, perm: tokens, ok: 200},
		accessRoute{name: "account.update", method: "PATCH", path: "/api/v1/account", perm: account, ok: 200, body: func(int, string) any {
			return map[string]string{"contact": "Probe Contact"}
		}},
		// Another owner confirming with A's company name closes nothing.
		accessRoute{name: "account.close", method: "POST", path: "/api/v1/account/close", perm: closeP, ok: 400, tokenStatus: 403, body: func(int, string) any {
			return map[string]string{"password": accessPassword, "confirm": "AccessAlpha科技有限公司"}
		}},
		accessRoute{name: "me", method: "GET", path: "/api/v1/me", perm: readC, ok: 200},
		accessRoute{name: "industries", method: "GET", path: "/api/v1/industries", perm: readC, ok: 200},
		// Nothing is published in this test: a caller who may read gets
		// through to "none published yet".
		accessRoute{name: "benchmarks", method: "GET", path: "/api/v1/benchmarks", perm: readR, ok: 404},
		accessRoute{name: "audit", method: "GET", path: "/api/v1/audit?limit=1000", perm: audit, ok: 200, trail: true},
		accessRoute{name: "totp.start", method: "POST", path: "/api/v1/me/totp", perm: readC, ok: 200, tokenStatus: 403, body: func(int, string) any {
			return map[string]string{"password": accessPassword}
		}},
		accessRoute{name: "totp.confirm", method: "POST", path: "/api/v1/me/totp/confirm", perm: readC, ok: 400, tokenStatus: 403, body: func(int, string) any {
			return map[string]string{"code": "12345"}
		}},
		// Last: B's session ends here.
		accessRoute{name: "session.delete", method: "DELETE", path: "/api/v1/session", perm: readC, ok: 200, tokenStatus: 400},
	)

	n := 0
	// send calls r as c, naming object id (A's, or a ghost); it returns the
	// answer and what the caller sent (path and body).
	send := func(t *testing.T, r accessRoute, c accessCaller, id string) (accessResp, string) {
		t.Helper()
		path := r.path
		if r.id != "" {
			path = strings.ReplaceAll(path, r.id, id)
		}
		var body any
		sent := path
		if r.body != nil {
			n++
			body = r.body(n, id)
			b, _ := json.Marshal(body)
			sent += " " + string(b)
		}
		return accessDo(t, r.method, base+path, c.cred, body), sent
	}
	for _, r := range routes {
		for _, c := range callers {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				want := c.want(r)
				if c.kind == accessOwn && want < 300 && r.method != http.MethodGet {
					t.Fatal("test design: tenant A's callers must not change A's objects")
				}
				got, sent := send(t, r, c, r.id)
				text := string(got.body) + "\n" + got.header.Get("Content-Disposition")
				if got.status != want {
					t.Errorf("%s as %s: status %d, want %d: %.300s", sent, c.name, got.status, want, got.body)
				}
				if got.status >= 300 {
					if err := accessErrorShape(got.status, got.body); err != nil {
						t.Errorf("%s as %s: %v", sent, c.name, err)
					}
					if got.status == http.StatusUnauthorized && !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without WWW-Authenticate: Bearer")
					}
				}
				if c.kind == accessOwn {
					// The control: A sees its own object, so the markers
					// would find a leak.
					if got.status < 300 && r.id != "" && len(accessFind(text, aMarks, "")) == 0 {
						t.Errorf("%s as %s: A's own answer holds none of A's markers: %.300s", sent, c.name, text)
					}
					return
				}
				marks := accessVisible(aMarks, c.allowed)
				leaks := accessFind(text, marks, sent)
				if r.trail && got.status == http.StatusOK {
					var tr struct {
						Entries []accessAuditEntry `json:"entries"`
					}
					if err := json.Unmarshal(got.body, &tr); err != nil {
						t.Fatal(err)
					}
					leaks = accessTrailLeaks(tr.Entries, marks)
				}
				if len(leaks) > 0 {
					t.Errorf("LEAK: %s as %s (status %d) shows %v: %.500s", sent, c.name, got.status, leaks, text)
				}
				if got.status >= 300 && r.id != "" {
					// Another tenant's object and none at all must look alike.
					ghost := accessGhost(r.id)
					g, _ := send(t, r, c, ghost)
					norm := func(b []byte, id string) string { return strings.ReplaceAll(string(b), id, "{id}") }
					if g.status != got.status || norm(g.body, ghost) != norm(got.body, r.id) {
						t.Errorf("%s as %s: A's object and a missing one answer differently:\n A's:     %d %s\n missing: %d %s",
							r.name, c.name, got.status, got.body, g.status, g.body)
					}
				}
			})
		}
	}

	// The operator's endpoints: no tenant caller gets in.
	adminRoutes := []accessRoute{
		{name: "admin.tenant.create", method: "POST", path: "/api/v1/tenants", body: func(int, string) any { return map[string]string{"name": "probe", "kind": "advertiser"} }},
		{name: "admin.tenants", method: "GET", path: "/api/v1/admin/tenants"},
		{name: "admin.tenants.active", method: "GET", path: "/api/v1/admin/tenants?status=active"},
		{name: "admin.tenant.status", method: "POST", path: "/api/v1/admin/tenants/" + a.id + "/status", id: a.id,
			body: func(int, string) any { return map[string]string{"status": "suspended", "note": "probe"} }},
		{name: "admin.audit", method: "GET", path: "/api/v1/admin/audit?limit=1000"},
		{name: "admin.retention", method: "POST", path: "/api/v1/admin/retention", body: func(int, string) any { return map[string]bool{"dry_run": true} }},
	}
	bSession2, _ := accessSignIn(t, base, b.ownerEmail)
	adminCallers := []accessCaller{
		{name: "anonymous"},
		{name: "forged-token", cred: accessCred{bearer: api.OperatorTokenPrefix + "bm90LXRoZS1vcGVyYXRvci10b2tlbi0tLS0tLS0tLS0t"}},
		{name: "revoked-token", cred: accessCred{bearer: revoked.Token}},
		{name: "A-full-token", cred: aFull},
		{name: "A-owner-session", cred: a.owner},
		{name: "B-token", cred: accessCred{bearer: bTok.Token}},
		{name: "B-session", cred: bSession2},
		{name: "O-bootstrap-token", cred: accessCred{bearer: oTok}},
		{name: "G-agency-token", cred: accessCred{bearer: gTok}},
		{name: "operator-token-as-cookie", cred: accessCred{cookie: op, csrf: "x"}},
	}
	for _, r := range adminRoutes {
		for _, c := range adminCallers {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				got, sent := send(t, r, c, r.id)
				if got.status != http.StatusUnauthorized && got.status != http.StatusForbidden {
					t.Errorf("%s as %s: status %d, want 401 or 403: %.300s", sent, c.name, got.status, got.body)
				}
				if err := accessErrorShape(got.status, got.body); err != nil {
					t.Errorf("%s as %s: %v", sent, c.name, err)
				}
				if leaks := accessFind(string(got.body), aMarks, sent); len(leaks) > 0 {
					t.Errorf("LEAK: %s as %s shows %v: %s", sent, c.name, leaks, got.body)
				}
			})
		}
	}

	// Public endpoints take no credentials and show no tenant's data,
	// whoever calls.
	t.Run("public", func(t *testing.T) {
		public := []accessRoute{
			{name: "optout.page", method: "GET", path: "/optout"},
			{name: "optout.status", method: "GET", path: "/api/v1/optout/status?id_type=oaid&id=" + device},
			{name: "optout.submit", method: "POST", path: "/api/v1/optout", body: func(int, string) any {
				return map[string]string{"id_type": "oaid", "id": "d00dfeed00d00dfeed"}
			}},
			{name: "metrics", method: "GET", path: "/metrics"},
			{name: "healthz", method: "GET", path: "/healthz"},
		}
		for _, r := range public {
			for _, c := range []accessCaller{{name: "anonymous"}, {name: "A-full-token", cred: aFull}, {name: "A-owner-session", cred: a.owner}} {
				got, sent := send(t, r, c, "")
				if got.status >= 500 || got.status == 401 || got.status == 403 {
					t.Errorf("%s as %s: status %d: %.300s", sent, c.name, got.status, got.body)
				}
				if leaks := accessFind(string(got.body), aMarks, sent); len(leaks) > 0 {
					t.Errorf("LEAK: %s as %s shows %v", sent, c.name, leaks)
				}
			}
		}
	})

	// The batch API: no credentials is an MMA SDK and may send to any
	// campaign; a token sends only to its own tenant's, and another
	// tenant's campaign looks like one that does not exist.
	t.Run("events", func(t *testing.T) {
		type result struct {
			Accepted int `json:"accepted"`
			Rejected []struct {
				Reason string `json:"reason"`
			} `json:"rejected"`
		}
		for _, tc := range []struct {
			name     string
			cred     accessCred
			status   int
			accepted int
		}{
			{"anonymous", accessCred{}, 200, 1},
			{"A-collect-token", accessCred{bearer: collectOnly.Token}, 200, 1},
			{"A-full-token", aFull, 200, 1},
			{"A-reports-token", accessCred{bearer: reportsOnly.Token}, 403, 0},
			{"revoked-token", accessCred{bearer: revoked.Token}, 401, 0},
			{"forged-token", accessCred{bearer: api.TenantTokenPrefix + "forged"}, 401, 0},
			{"operator", accessCred{bearer: op}, 403, 0},
			{"suspended-tenant-token", accessCred{bearer: sTok}, 403, 0},
			{"B-token", accessCred{bearer: bTok.Token}, 200, 0},
			{"G-agency-granted-campaign-1", accessCred{bearer: gTok}, 200, 0},
			{"M-media-of-placement-1", accessCred{bearer: mTok}, 200, 0},
		} {
			n++
			ev := func(k, p string) []map[string]string {
				return []map[string]string{{"campaign": k, "placement": p, "oaid": fmt.Sprintf("e0e0e0e0e0e0%06d", n)}}
			}
			got := accessDo(t, "POST", base+"/v1/events", tc.cred, ev(camp.ID, slot1))
			if got.status != tc.status {
				t.Errorf("events as %s: status %d, want %d: %s", tc.name, got.status, tc.status, got.body)
				continue
			}
			if got.status != 200 {
				if err := accessErrorShape(got.status, got.body); err != nil {
					t.Errorf("events as %s: %v", tc.name, err)
				}
				continue
			}
			var res result
			if err := json.Unmarshal(got.body, &res); err != nil || res.Accepted != tc.accepted {
				t.Errorf("events as %s: %s, want %d accepted", tc.name, got.body, tc.accepted)
			}
			if tc.accepted == 0 {
				ghostK, ghostP := accessGhost(camp.ID), accessGhost(slot1)
				g := accessDo(t, "POST", base+"/v1/events", tc.cred, ev(ghostK, ghostP))
				norm := strings.NewReplacer(camp.ID, "{k}", slot1, "{p}", ghostK, "{k}", ghostP, "{p}")
				if g.status != got.status || norm.Replace(string(g.body)) != norm.Replace(string(got.body)) {
					t.Errorf("events as %s: A's campaign and a missing one answer differently:\n A's:     %s\n missing: %s", tc.name, got.body, g.body)
				}
			}
		}
	})

	// Nothing the other callers sent changed A.
	t.Run("A-unchanged", func(t *testing.T) {
		var cs struct {
			Campaigns []struct {
				ID string `json:"id"`
			} `json:"campaigns"`
		}
		accessJSON(t, "GET", base+"/api/v1/campaigns", a.owner, nil, 200, &cs)
		if len(cs.Campaigns) != 2 {
			t.Errorf("A's campaigns: %+v, want %s and %s", cs.Campaigns, camp.ID, camp2.ID)
		}
		var gs struct {
			Grants []struct {
				ID       string     `json:"id"`
				Grantee  string     `json:"grantee"`
				Campaign string     `json:"campaign"`
				Level    string     `json:"level"`
				Revoked  *time.Time `json:"revoked"`
			} `json:"grants"`
		}
		accessJSON(t, "GET", base+"/api/v1/grants", a.owner, nil, 200, &gs)
		if len(gs.Grants) != 1 || gs.Grants[0].ID != grant.ID || gs.Grants[0].Level != "read" || gs.Grants[0].Revoked != nil {
			t.Errorf("A's grants: %+v, want only the live read grant %s", gs.Grants, grant.ID)
		}
		var rs struct {
			Requests []rightsRequest `json:"requests"`
		}
		accessJSON(t, "GET", base+"/api/v1/requests", aFull, nil, 200, &rs)
		if len(rs.Requests) != 1 || rs.Requests[0].ID != req.ID {
			t.Errorf("A's requests: %+v, want only %s", rs.Requests, req.ID)
		}
		var us struct {
			Users []struct {
				ID       string `json:"id"`
				Name     string `json:"name"`
				Role     string `json:"role"`
				Disabled bool   `json:"disabled"`
			} `json:"users"`
		}
		accessJSON(t, "GET", base+"/api/v1/users", a.owner, nil, 200, &us)
		if len(us.Users) != 2 {
			t.Errorf("A's users: %+v, want the owner and the analyst", us.Users)
		}
		for _, u := range us.Users {
			if u.Disabled || u.Name == "renamed" || u.Role == "admin" {
				t.Errorf("A's user changed by another caller: %+v", u)
			}
		}
		var ts struct {
			Tokens []struct {
				ID      string     `json:"id"`
				Revoked *time.Time `json:"revoked"`
			} `json:"tokens"`
		}
		accessJSON(t, "GET", base+"/api/v1/tokens", a.owner, nil, 200, &ts)
		if len(ts.Tokens) != 5 {
			t.Errorf("A has %d tokens, want 5", len(ts.Tokens))
		}
		for _, tk := range ts.Tokens {
			if (tk.Revoked != nil) != (tk.ID == revoked.ID) {
				t.Errorf("A's token %s: revoked %v", tk.ID, tk.Revoked)
			}
		}
		var me struct {
			Account struct {
				Status       string `json:"status"`
				Registration struct {
					Contact string `json:"contact"`
				} `json:"registration"`
			} `json:"account"`
		}
		accessJSON(t, "GET", base+"/api/v1/me", a.owner, nil, 200, &me)
		if me.Account.Status != "active" || me.Account.Registration.Contact != a.contact {
			t.Errorf("A's account changed: %+v", me.Account)
		}
	})

	// A revoked grant lets the agency see nothing more.
	t.Run("grant-revoked", func(t *testing.T) {
		accessJSON(t, "DELETE", base+"/api/v1/grants/"+grant.ID, a.owner, nil, http.StatusOK, nil)
		for _, p := range []string{"", "/report" + dates, "/daily" + dates, "/frequency" + dates} {
			got := accessDo(t, "GET", base+"/api/v1/campaigns/"+camp.ID+p, accessCred{bearer: gTok}, nil)
			if got.status != http.StatusNotFound {
				t.Errorf("the agency after the grant was revoked: GET campaign%s: %d, want 404", p, got.status)
			}
		}
		got := accessDo(t, "GET", base+"/api/v1/campaigns", accessCred{bearer: gTok}, nil)
		if leaks := accessFind(string(got.body), aMarks, ""); len(leaks) > 0 {
			t.Errorf("the agency's campaigns after the grant was revoked show %v", leaks)
		}
	})

	// Each tenant reads its own audit trail only; the operator reads all.
	var aTrail []accessAuditEntry
	t.Run("audit", func(t *testing.T) {
		aTrail = accessAudit(t, base+"/api/v1/audit", a.owner)
		actions := map[string]int{}
		viaGrant := map[string]bool{}
		for _, e := range aTrail {
			actions[e.Action]++
			if e.Tenant != a.id {
				t.Errorf("A's trail holds an entry of tenant %q: %+v", e.Tenant, e)
			}
			if v, ok := e.Details["via_grant_to"].(string); ok {
				viaGrant[v] = true
			}
		}
		for _, want := range []string{"user.create", "token.create", "token.revoke", "campaign.create", "grant.create", "grant.revoke",
			"rights.request.api.submit", "rights.export.read", "report.read"} {
			if actions[want] == 0 {
				t.Errorf("A's trail lacks %s; it has %v", want, actions)
			}
		}
		// The agency's and the media's reads of A's campaign are A's to see.
		if !viaGrant[gID] || !viaGrant[mID] {
			t.Errorf("A's trail does not show the reads of its campaign by the agency and the media: %v", viaGrant)
		}
		b1, _ := json.Marshal(aTrail)
		if leaks := accessFind(string(b1), bMarks, ""); len(leaks) > 0 {
			t.Errorf("A's trail shows %v", leaks)
		}

		bSession3, _ := accessSignIn(t, base, b.ownerEmail)
		bTrail := accessAudit(t, base+"/api/v1/audit", bSession3)
		if len(bTrail) == 0 {
			t.Fatal("B's trail is empty")
		}
		bActions := map[string]int{}
		for _, e := range bTrail {
			bActions[e.Action+" "+e.Outcome]++
			if e.Tenant != b.id {
				t.Errorf("B's trail holds an entry of tenant %q: %+v", e.Tenant, e)
			}
		}
		t.Logf("B's trail: %v", bActions)
		// B's own attempts on A's ids are recorded with what B sent as the
		// target; nothing else of A may be there.
		for _, l := range accessTrailLeaks(bTrail, aMarks) {
			t.Errorf("B's trail shows %s", l)
		}

		all := accessAudit(t, base+"/api/v1/admin/audit", accessCred{bearer: op})
		var opA, opB, aSeqs, bSeqs []uint64
		for _, e := range all {
			switch e.Tenant {
			case a.id:
				opA = append(opA, e.Seq)
			case b.id:
				opB = append(opB, e.Seq)
			}
		}
		for _, e := range aTrail {
			aSeqs = append(aSeqs, e.Seq)
		}
		for _, e := range bTrail {
			bSeqs = append(bSeqs, e.Seq)
		}
		if !slices.Equal(opA, aSeqs) || !slices.Equal(opB, bSeqs) {
			t.Errorf("the operator's trail and the tenants' differ: A %d vs %d entries, B %d vs %d", len(opA), len(aSeqs), len(opB), len(bSeqs))
		}
	})

	// An edited record breaks the chain, and verify names it.
	t.Run("tamper", func(t *testing.T) {
		if len(aTrail) < 3 {
			t.Fatalf("A's trail has %d entries", len(aTrail))
		}
		seq := aTrail[len(aTrail)/2].Seq
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		verify := func() error {
			var out bytes.Buffer
			return (&AuditCommand{Out: &out}).Run(t.Context(), []string{"verify", "--data", m.Config.DataDir, "--master-key", testMasterKey})
		}
		if err := verify(); err != nil {
			t.Fatalf("before tampering: %v", err)
		}
		db, err := sql.Open("sqlite", filepath.Join(m.Config.DataDir, "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
			t.Fatal(err)
		}
		res, err := db.Exec(`UPDATE audit_log SET outcome = 'ok-edited' WHERE seq = ?`, int64(seq))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("edited %d records", n)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		err = verify()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("record %d ", seq)) {
			t.Fatalf("verify after editing record %d: %v", seq, err)
		}
	})
	t.Logf("%d routes × %d callers, %d admin routes × %d callers in %s", len(routes), len(callers), len(adminRoutes), len(adminCallers), time.Since(start).Round(time.Millisecond))
}
