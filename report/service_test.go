package report_test

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/report"
	"github.com/admeter/admeter/store/duckdb"
	st "github.com/admeter/admeter/store/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// env is a report service over the real metadata store and DuckDB store,
// with one tenant and two campaigns: a (default windows: click 7 days,
// view 1 day; placements pa1 and pa2 on media M1 and M2) and b (click 1
// day, no view window; placement pb1).
type env struct {
	svc    *report.Service
	tenant admeter.TenantID
	a, b   *admeter.Campaign
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	meta := sqlite.NewDB(filepath.Join(dir, "meta.db"))
	if err := meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	events, err := duckdb.Open(filepath.Join(dir, "events.duckdb"), duckdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	ctx := context.Background()
	tenant := &admeter.Tenant{Name: "转化测试有限公司", Kind: admeter.TenantAdvertiser}
	if err := meta.CreateTenant(ctx, tenant, sha256.Sum256([]byte(t.Name()))); err != nil {
		t.Fatal(err)
	}
	a := &admeter.Campaign{Tenant: tenant.ID, Name: "A", LandingURL: "https://shop.example.com/",
		Placements: []admeter.Placement{{Name: "开屏", Media: "M1"}, {Name: "信息流", Media: "M2"}}}
	b := &admeter.Campaign{Tenant: tenant.ID, Name: "B", LandingURL: "https://shop.example.com/",
		Placements:  []admeter.Placement{{Name: "横幅", Media: "M1"}},
		Attribution: admeter.Attribution{Default: &admeter.AttributionRule{ClickWindowDays: 1, ViewWindowDays: 0}}}
	for _, c := range []*admeter.Campaign{a, b} {
		if err := meta.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{svc: report.New(meta, events), tenant: tenant.ID, a: a, b: b}
	pa1, pa2, pb1 := a.Placements[0].ID, a.Placements[1].ID, b.Placements[0].ID
	on := func(c *admeter.Campaign, p admeter.PlacementID) st.Opt {
		return func(ev *admeter.Event) { ev.Tenant, ev.Campaign, ev.Placement = tenant.ID, c.ID, p }
	}
	of := st.Tenant(tenant.ID)
	at := time.Date(2026, 11, 19, 10, 0, 0, 0, shanghai)
	h := time.Hour
	evs := []admeter.Event{
		// Impressions of a: users 1 and 2 on pa1 (measured: viewable, not
		// viewable), user 3 on pa2 (not measured).
		st.Imp(at.Add(-h), on(a, pa1), st.User(1), st.VF(1), st.View(admeter.ViewStarted)),
		st.Viewed(at.Add(-h+5*time.Second), admeter.ViewViewable, on(a, pa1), st.User(1), st.VF(1)),
		st.Imp(at, on(a, pa1), st.User(2), st.VF(2), st.View(admeter.ViewStarted)),
		st.Viewed(at.Add(3*time.Second), admeter.ViewNotViewable, on(a, pa1), st.User(2), st.VF(2)),
		st.Imp(at, on(a, pa2), st.User(3), st.VF(3)),
		// User 1 clicks a (with click id 1), then b later; user 5's click
		// of a is invalid.
		st.Click(at.Add(-30*time.Minute), on(a, pa1), st.User(1), st.VF(1), st.ClickID(1)),
		st.Click(at.Add(-10*time.Minute), on(b, pb1), st.User(1)),
		st.Click(at, on(a, pa1), st.User(5), st.IVT(admeter.IVTCrawler)),
		// c1: user 1, last click is b's: b wins 100 CNY.
		st.Conversion(at.Add(h), 1, admeter.ConversionOrder, of, st.User(1), st.Value(100_000_000, "CNY")),
		// The same conversion id again, later: deduplicated.
		st.Conversion(at.Add(h+time.Minute), 1, admeter.ConversionOrder, of, st.User(1), st.Value(100_000_000, "CNY")),
		// c2: an unknown device with a's click id 1: a, post-click, 5 USD.
		st.Conversion(at.Add(2*h), 2, admeter.ConversionActivation, of, st.User(4), st.ClickID(1), st.Value(5_000_000, "USD")),
		// c3: user 2, no value, 3 h after the impression: a, post-view.
		st.Conversion(at.Add(3*h), 3, admeter.ConversionRegistration, of, st.User(2)),
		// c4: user 3, 25 h after the impression: outside the view window.
		st.Conversion(at.Add(25*h), 4, admeter.ConversionOrder, of, st.User(3), st.Value(50_000_000, "CNY")),
		// c5: user 2 the next day, 23 h after: a, post-view, 20 CNY.
		st.Conversion(at.Add(23*h), 5, admeter.ConversionOrder, of, st.User(2), st.Value(20_000_000, "CNY")),
		// c6: user 5, whose only touch is invalid: unattributed.
		st.Conversion(at.Add(h), 6, admeter.ConversionOrder, of, st.User(5), st.Value(1_000_000, "CNY")),
	}
	st.Insert(t, events, 1, evs...)
	return e
}

func (e *env) request(c *admeter.Campaign, by string) report.Request {
	return report.Request{Tenant: e.tenant, Campaign: c.ID, From: "2026-11-19", To: "2026-11-20", By: by}
}

func TestReportMergesViewabilityAndConversions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pa1, pa2 := string(e.a.Placements[0].ID), string(e.a.Placements[1].ID)
	rep, err := e.svc.Report(ctx, e.request(e.a, "day,placement"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		dims                             string
		imps, clicks, measurable, viewed int64
		conv, post, view, value, other   int64
	}
	want := []row{
		{"2026-11-19/" + pa1, 2, 1, 2, 1, 2, 1, 1, 0, 1},
		{"2026-11-19/" + pa2, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		{"2026-11-20/" + pa1, 0, 0, 0, 0, 1, 0, 1, 20_000_000, 0},
	}
	// Placement ids are random: rows are sorted by them.
	slices.SortFunc(want, func(a, b row) int { return strings.Compare(a.dims, b.dims) })
	if len(rep.Rows) != len(want) {
		t.Fatalf("%d rows %+v, want %d", len(rep.Rows), rep.Rows, len(want))
	}
	for i, w := range want {
		r, v, o := rep.Rows[i], rep.ViewOf(i), rep.OutcomeOf(i)
		got := row{r.Dims[0] + "/" + r.Dims[1], r.Impressions, r.Clicks, v.Measurable, v.Viewable,
			o.Conversions, o.PostClick, o.PostView, o.Value, o.OtherCurrency}
		if got != w {
			t.Errorf("row %d: %+v, want %+v", i, got, w)
		}
	}
	if o := rep.OutcomeOf(-1); o.Conversions != 3 || o.PostClick != 1 || o.PostView != 2 || o.Value != 20_000_000 || o.OtherCurrency != 1 {
		t.Errorf("total outcome %+v, want 3 conversions (1 post-click), 20 CNY, 1 in another currency", o)
	}
	if v := rep.ViewOf(-1); v.Measurable != 2 || v.Viewable != 1 || v.ViewableUV != 1 || report.ViewableRate(v) != 0.5 {
		t.Errorf("total view %+v, want 2 measurable, 1 viewable", v)
	}
	if rep.Currency != "CNY" || rep.Note != "" {
		t.Errorf("currency %q note %q", rep.Currency, rep.Note)
	}

	// b wins user 1's order by the later click.
	rb, err := e.svc.Report(ctx, e.request(e.b, ""))
	if err != nil {
		t.Fatal(err)
	}
	if o := rb.OutcomeOf(-1); o.Conversions != 1 || o.PostClick != 1 || o.Value != 100_000_000 || report.CVR(o.Conversions, rb.Total.Clicks) != 1 {
		t.Errorf("b: %+v with %d clicks, want 1 post-click conversion of 100 CNY, CVR 1", o, rb.Total.Clicks)
	}

	// In USD: c2's 5 USD is valued, c5's CNY is not.
	req := e.request(e.a, "")
	req.Currency = "usd"
	usd, err := e.svc.Report(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if o := usd.OutcomeOf(-1); usd.Currency != "USD" || o.Value != 5_000_000 || o.OtherCurrency != 1 || o.Conversions != 3 {
		t.Errorf("USD report %s %+v, want 3 conversions, 5 USD, 1 in another currency", usd.Currency, o)
	}

	// A media partner that sees pa2 only sees none of a's conversions.
	req = e.request(e.a, "")
	req.Placements = []admeter.PlacementID{admeter.PlacementID(pa2)}
	media, err := e.svc.Report(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if o := media.OutcomeOf(-1); o.Conversions != 0 || media.Total.Impressions != 1 {
		t.Errorf("pa2 only: %+v, %d impressions; want no conversion, 1 impression", o, media.Total.Impressions)
	}

	// By reason: no viewability or conversions, and a note.
	byReason, err := e.svc.Report(ctx, e.request(e.a, "reason"))
	if err != nil {
		t.Fatal(err)
	}
	if byReason.Note == "" || byReason.Views != nil || byReason.OutcomeOf(-1).Conversions != 0 {
		t.Errorf("by reason: note %q views %v outcome %+v", byReason.Note, byReason.Views, byReason.OutcomeOf(-1))
	}

	req = e.request(e.a, "")
	req.Currency = "yuan"
	if _, err := e.svc.Report(ctx, req); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("currency yuan: %v, want EINVALID", err)
	}
}

func TestConversionsReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := e.svc.Conversions(ctx, e.request(e.a, "type"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		typ                  string
		conv, post, view, cl int64
		ttc                  [7]int64
	}
	want := []row{
		{admeter.ConversionActivation, 1, 1, 0, 1, [7]int64{0, 1}}, // 2 h 30 after the click
		{admeter.ConversionOrder, 1, 0, 1, 1, [7]int64{0, 0, 1}},   // 23 h after the impression
		{admeter.ConversionRegistration, 1, 0, 1, 1, [7]int64{0, 1}},
	}
	if len(c.Rows) != len(want) {
		t.Fatalf("%d rows %+v, want %d", len(c.Rows), c.Rows, len(want))
	}
	for i, w := range want {
		r := c.Rows[i]
		got := row{r.Dims[0], r.Conversions, r.PostClick, r.PostView, r.Clicks, r.TimeToConvert}
		if got != w {
			t.Errorf("row %d: %+v, want %+v", i, got, w)
		}
	}
	if c.Total.Conversions != 3 || c.Total.Clicks != 1 || c.Total.Value != 20_000_000 || c.Total.OtherCurrency != 1 ||
		c.Total.TimeToConvert != [7]int64{0, 2, 1} {
		t.Errorf("total %+v", c.Total)
	}

	// By day: the conversion's own day in the campaign's zone, and the
	// clicks of that day.
	byDay, err := e.svc.Conversions(ctx, e.request(e.a, "day"))
	if err != nil {
		t.Fatal(err)
	}
	if len(byDay.Rows) != 2 || byDay.Rows[0].Dims[0] != "2026-11-19" || byDay.Rows[0].Conversions != 2 || byDay.Rows[0].Clicks != 1 ||
		byDay.Rows[1].Dims[0] != "2026-11-20" || byDay.Rows[1].Conversions != 1 || byDay.Rows[1].Clicks != 0 {
		t.Errorf("by day: %+v", byDay.Rows)
	}

	if _, err := e.svc.Conversions(ctx, e.request(e.a, "reason")); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("by reason: %v, want EINVALID", err)
	}
	other := e.request(e.a, "")
	other.Tenant = "someone-else"
	if _, err := e.svc.Conversions(ctx, other); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("another tenant: %v, want ENOTFOUND", err)
	}
}
