package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/pseudo"
)

// rightsRequest is a rights request as the API shows it.
type rightsRequest struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	IDType    string `json:"id_type"`
	Minor     bool   `json:"minor"`
	Status    string `json:"status"`
	Due       string `json:"due"`
	DueExact  bool   `json:"due_exact"`
	DaysLeft  int    `json:"working_days_left"`
	Overdue   bool   `json:"overdue"`
	Duplicate bool   `json:"duplicate"`
	ExportURL string `json:"export_url"`
	Outcome   struct {
		Events         int64 `json:"events"`
		Campaigns      int   `json:"campaigns"`
		OptOutAdded    bool  `json:"optout_added"`
		ExportsRemoved int   `json:"exports_removed"`
	} `json:"outcome"`
}

// waitRequest polls a request until it is done (or failed), for up to a
// minute: a deletion drains the log and recomputes rollups, which under
// the race detector on a busy CI machine can take more than a few seconds.
func waitRequest(t *testing.T, base, tok, id string) rightsRequest {
	t.Helper()
	var r rightsRequest
	deadline := time.Now().Add(time.Minute)
	for {
		if st := apiCall(t, "GET", base+"/api/v1/requests/"+id, tok, nil, &r); st != 200 {
			t.Fatalf("get request: %d", st)
		}
		if r.Status == "done" || r.Status == "failed" || time.Now().After(deadline) {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRightsRequestsEndToEnd runs access and deletion requests through the
// real server: the access copy holds the device's events in the requesting
// tenant's campaigns only; deletion removes them, keeps reports consistent,
// removes the earlier copy, and stops further collection.
func TestRightsRequestsEndToEnd(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tok, c := setupCampaign(t, base, m.Config.DataDir, 2)
	otherTok, other := setupCampaign(t, base, m.Config.DataDir, 1)
	const victim, bystander = "a1b2c3d4e5f60718aa", "ffeeddccbbaa0099"
	now := time.Now().Unix()
	hit := func(k, p, oaid string) {
		t.Helper()
		if resp, _ := get(t, fmt.Sprintf("%s/x/k=%s&p=%s&m11=%s&mt=%d&ns=202.96.128.86&mo=0&mn=%s", base, k, p, oaid, now, "Demo%20App"), nil); resp.StatusCode != 200 {
			t.Fatalf("pixel: %d", resp.StatusCode)
		}
	}
	for range 3 {
		hit(c.ID, c.Placements[0].ID, victim)
	}
	hit(c.ID, c.Placements[1].ID, victim)
	hit(c.ID, c.Placements[0].ID, bystander)
	hit(other.ID, other.Placements[0].ID, victim) // the same device at another tenant

	day := time.Now().In(shanghai()).Format(time.DateOnly)
	reportURL := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&by=placement", base, c.ID, day, day)
	type counts struct {
		Impressions int64 `json:"impressions"`
		UV          int64 `json:"uv"`
	}
	var rep struct {
		Total counts `json:"total"`
	}
	deadline := time.Now().Add(3 * time.Second)
	for apiCall(t, "GET", reportURL, tok, nil, &rep); rep.Total.Impressions < 5 && time.Now().Before(deadline); apiCall(t, "GET", reportURL, tok, nil, &rep) {
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Total.Impressions != 5 || rep.Total.UV != 2 {
		t.Fatalf("before: %+v, want 5 impressions from 2 users", rep.Total)
	}

	// Bad input: clear errors, nothing stored.
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"type": "erase", "id_type": "oaid", "id": victim}, "type must be"},
		{map[string]any{"type": "access", "id_type": "phone", "id": victim}, "not supported"},
		{map[string]any{"type": "access", "id_type": "idfa", "id": "not-an-idfa"}, "UUID"},
		{map[string]any{"type": "access", "id_type": "oaid", "id": victim, "note": "device " + victim}, "must not repeat"},
		{map[string]any{"type": "access", "id_type": "oaid", "id": victim, "extra": 1}, "unknown field"},
	} {
		var e struct {
			Error struct{ Code, Message string }
		}
		if st := apiCall(t, "POST", base+"/api/v1/requests", tok, tc.body, &e); st != 400 || !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("%v: status %d %q, want 400 mentioning %q", tc.body, st, e.Error.Message, tc.want)
		}
		if strings.Contains(e.Error.Message, victim) {
			t.Errorf("error repeats the identifier: %q", e.Error.Message)
		}
	}
	if st := apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "access", "id_type": "oaid", "id": strings.Repeat("a", 2<<20)}, nil); st != 400 && st != 413 {
		t.Errorf("huge body: status %d", st)
	}
	if st := apiCall(t, "POST", base+"/api/v1/requests", "", map[string]any{"type": "access", "id_type": "oaid", "id": victim}, nil); st != 401 {
		t.Errorf("no token: status %d", st)
	}

	// Access: a copy of the victim's events in this tenant's campaigns.
	var acc rightsRequest
	if st := apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "access", "id_type": "oaid", "id": victim, "note": "ticket 42"}, &acc); st != 202 {
		t.Fatalf("submit access: %d", st)
	}
	if acc.Due == "" || acc.DaysLeft < 14 || acc.Overdue {
		t.Fatalf("access request deadline: %+v", acc)
	}
	acc = waitRequest(t, base, tok, acc.ID)
	if acc.Status != "done" || acc.Outcome.Events != 4 || acc.Outcome.Campaigns != 1 || acc.ExportURL == "" {
		t.Fatalf("access outcome %+v; want 4 events in 1 campaign", acc)
	}
	var exp struct {
		Events []struct {
			Campaign, Placement, Kind, OS, App, Province string
		}
	}
	if st := apiCall(t, "GET", base+acc.ExportURL, tok, nil, &exp); st != 200 || len(exp.Events) != 4 {
		t.Fatalf("export: %d, %d events", st, len(exp.Events))
	}
	for _, e := range exp.Events {
		if e.Campaign != c.ID || e.Kind != "impression" || e.App != "Demo App" || e.OS != "android" {
			t.Fatalf("export event %+v", e)
		}
	}
	resp, csvBody := get(t, base+acc.ExportURL+"?format=csv", map[string]string{"Authorization": "Bearer " + tok})
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || strings.Count(string(csvBody), "\n") != 5 {
		t.Fatalf("csv export: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), csvBody)
	}
	if st := apiCall(t, "GET", base+acc.ExportURL, otherTok, nil, nil); st != 404 {
		t.Fatalf("another tenant reads the copy: status %d", st)
	}

	// Deletion (a guardian's, so it goes first), then a replay.
	var del rightsRequest
	if st := apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "delete", "id_type": "oaid", "id": md5hex(victim), "minor": true}, &del); st != 202 {
		t.Fatalf("submit delete: %d", st)
	}
	var replay rightsRequest
	if st := apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "delete", "id_type": "oaid", "id": victim, "minor": true}, &replay); st != 200 && st != 202 {
		t.Fatalf("replay: %d", st)
	}
	if replay.Status != "done" && (!replay.Duplicate || replay.ID != del.ID) {
		t.Fatalf("replayed open request made a new one: %+v vs %+v", replay, del)
	}
	del = waitRequest(t, base, tok, del.ID)
	if del.Status != "done" || del.Outcome.Events != 4 || !del.Outcome.OptOutAdded || del.Outcome.ExportsRemoved != 1 {
		t.Fatalf("delete outcome %+v; want 4 events deleted, opted out, 1 copy removed", del)
	}
	if st := apiCall(t, "GET", base+acc.ExportURL, tok, nil, nil); st != 404 {
		t.Fatalf("the access copy survived the deletion: status %d", st)
	}
	hit(c.ID, c.Placements[0].ID, victim) // after deletion: opted out, dropped
	time.Sleep(300 * time.Millisecond)
	apiCall(t, "GET", reportURL, tok, nil, &rep)
	if rep.Total.Impressions != 1 || rep.Total.UV != 1 {
		t.Fatalf("after deletion: %+v, want only the bystander's impression", rep.Total)
	}
	var daily struct {
		Rows []struct {
			Impressions int64 `json:"impressions"`
			UV          int64 `json:"uv"`
		} `json:"rows"`
	}
	apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/daily?from=%s&to=%s", base, c.ID, day, day), tok, nil, &daily)
	var dailyImps int64
	for _, r := range daily.Rows {
		dailyImps += r.Impressions
	}
	if dailyImps != 1 {
		t.Fatalf("daily rollups after deletion: %+v, want 1 impression", daily.Rows)
	}
	// The other tenant's data is its own: the deletion came from this tenant.
	otherURL := fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s", base, other.ID, day, day)
	apiCall(t, "GET", otherURL, otherTok, nil, &rep)
	if rep.Total.Impressions != 1 {
		t.Fatalf("other tenant after deletion: %+v", rep.Total)
	}

	var list struct {
		Requests []rightsRequest `json:"requests"`
		Overdue  int             `json:"overdue"`
	}
	if st := apiCall(t, "GET", base+"/api/v1/requests", tok, nil, &list); st != 200 || len(list.Requests) != 2 || list.Overdue != 0 {
		t.Fatalf("list: %d %+v", st, list)
	}
	if st := apiCall(t, "GET", base+"/api/v1/requests", otherTok, nil, &list); st != 200 || len(list.Requests) != 0 {
		t.Fatalf("another tenant sees the requests: %+v", list)
	}

	// Every request and outcome is in the audit record, which is intact.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := (&AuditCommand{Out: &out}).Run(t.Context(), []string{"verify", "--data", m.Config.DataDir, "--master-key", testMasterKey}); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(filepath.Join(m.Config.DataDir, "meta.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, _ := db.AuditEntries(t.Context(), sqlite.AuditQuery{Limit: sqlite.MaxAuditLimit})
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
	}
	if actions["rights.request.submit"] != 2 || actions["rights.request.done"] != 2 {
		t.Fatalf("audit actions %v", actions)
	}
	// The log holds no event of the deleted device: the loaded segments went.
	can, _ := pseudo.Canonicalize(admeter.IDOAID, pseudo.FormRaw, victim)
	user := testPseudonymizer(t, m.Config.DataDir).Pseudonym(admeter.IDOAID, can)
	for _, ev := range readLog(t, m.Config.DataDir) {
		if ev.User == user {
			t.Fatal("the event log still holds an event of the deleted device")
		}
	}
	b, _ := json.Marshal(entries)
	if strings.Contains(string(b), victim) || strings.Contains(string(b), md5hex(victim)) {
		t.Fatal("the audit record holds the identifier")
	}
}

// TestHolidaysFlag gives the server next year's holiday schedule with
// --holidays: a request received in late December is then due on a date
// counted with it, and says so.
func TestHolidaysFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cn-2027.json")
	if err := os.WriteFile(file, []byte(`{"year": 2027, "source": "test schedule, not the State Council's",
		"days_off": [{"date": "2027-01-01", "name": "元旦"}], "working_weekend_days": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		holidays string
		due      string
		exact    bool
	}{{"", "2027-01-11", false}, {file, "2027-01-12", true}} {
		cfg := DefaultServeConfig()
		cfg.Addr, cfg.DataDir, cfg.MasterKey, cfg.Holidays = "127.0.0.1:0", filepath.Join(t.TempDir(), "data"), testMasterKey, tc.holidays
		m := NewMain(cfg, nil)
		m.Now = func() time.Time { return time.Date(2026, 12, 21, 10, 0, 0, 0, shanghai()) }
		if err := m.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		base := "http://" + m.Addr()
		tok, _ := setupCampaign(t, base, cfg.DataDir, 1)
		var r rightsRequest
		if st := apiCall(t, "POST", base+"/api/v1/requests", tok, map[string]any{"type": "optout", "id_type": "imei", "id": "868049039501257"}, &r); st != 202 {
			t.Fatalf("submit: %d", st)
		}
		m.Close()
		if r.Due != tc.due || r.DueExact != tc.exact {
			t.Errorf("--holidays=%q: due %s exact %v; want %s %v", tc.holidays, r.Due, r.DueExact, tc.due, tc.exact)
		}
	}
	cfg := DefaultServeConfig()
	cfg.Addr, cfg.DataDir, cfg.MasterKey, cfg.Holidays = "127.0.0.1:0", filepath.Join(t.TempDir(), "data"), testMasterKey, filepath.Join(t.TempDir(), "missing.json")
	m := NewMain(cfg, nil)
	err := m.Open(t.Context())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "holiday") {
		t.Fatalf("a missing --holidays file: %v", err)
	}
}
