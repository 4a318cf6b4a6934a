package social_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/meta/sqlite"
	"github.com/admeter/admeter/optout"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/social"
	"github.com/admeter/admeter/store"
	"github.com/admeter/admeter/store/duckdb"
	"github.com/admeter/admeter/store/storetest"
)

// keyring is a fixed set of pseudonymisation keys, the last current.
type keyring []*pseudo.Pseudonymizer

func (k keyring) Current() *pseudo.Pseudonymizer          { return k[len(k)-1] }
func (k keyring) Pseudonymizers() []*pseudo.Pseudonymizer { return k }

func newPS(t testing.TB, version uint32, fill byte) *pseudo.Pseudonymizer {
	t.Helper()
	secret := bytes.Repeat([]byte{fill}, 32)
	secret[0] = 1
	ps, err := pseudo.New(pseudo.Key{Version: version, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// fixture is a service over a real metadata store, a real DuckDB store and
// a real opt-out registry.
type fixture struct {
	svc      *social.Service
	meta     *sqlite.DB
	events   *duckdb.DB
	optouts  *optout.Registry
	optPS    *pseudo.Pseudonymizer
	keys     keyring
	tenant   *admeter.Tenant
	campaign *admeter.Campaign
	dir      string
	now      time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{dir: t.TempDir(), now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	f.meta = sqlite.NewDB(filepath.Join(f.dir, "meta.db"))
	if err := f.meta.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.meta.Close() })
	var err error
	if f.events, err = duckdb.Open(filepath.Join(f.dir, "events.duckdb"), duckdb.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.events.Close() })
	if f.optouts, err = optout.Open(filepath.Join(f.dir, "optout.reg"), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.optouts.Close() })
	f.optPS = newPS(t, 1, 0x42)
	f.keys = keyring{newPS(t, 1, 0x11), newPS(t, 2, 0x22)}
	f.tenant = &admeter.Tenant{Name: "Brand", Kind: admeter.TenantAdvertiser}
	if err := f.meta.CreateTenant(ctx, f.tenant, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	f.campaign = &admeter.Campaign{Tenant: f.tenant.ID, Name: "Launch", LandingURL: "https://a.example.com/", Timezone: "Asia/Shanghai",
		Placements: []admeter.Placement{{Name: "feed", Media: "Weibo"}}}
	if err := f.meta.CreateCampaign(ctx, f.campaign); err != nil {
		t.Fatal(err)
	}
	f.svc, err = social.New(social.Config{MinAuthors: 5, Now: func() time.Time { return f.now }},
		f.events, f.meta, f.meta, f.keys, f.optouts, f.optPS, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) settings(t *testing.T) {
	t.Helper()
	err := f.svc.SaveSettings(t.Context(), &admeter.SocialSettings{Tenant: f.tenant.ID,
		Brands:      []admeter.SocialRule{{Name: "华为", Terms: []string{"华为", "huawei"}, Exclusions: []string{"华为路由器"}}},
		Competitors: []admeter.SocialRule{{Name: "小米", Terms: []string{"小米", "xiaomi"}}},
		Official:    []admeter.SocialAccount{{Source: "weibo", Handle: "@华为终端", Name: "华为终端官方微博"}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ndjson(t *testing.T, recs ...map[string]any) *bytes.Reader {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return bytes.NewReader(b.Bytes())
}

// TestIngest proves what happens to each record of an upload: stored
// de-identified and redacted, a second delivery counted as a duplicate, an
// opted-out author's record dropped, invalid records refused with their
// index and nothing quoted, and the raw handles nowhere in the store's
// files.
func TestIngest(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	at := f.now.Add(-time.Hour).Format(time.RFC3339)
	const secretHandle, otherHandle, phone = "PrivCanaryAuthor", "MentionedCanary", "13987654321"
	optedOut, _ := pseudo.CanonicalHandle("weibo", "gone_user")
	if _, err := f.optouts.Add(ctx, f.optPS.Pseudonym(admeter.IDSocial, optedOut)); err != nil {
		t.Fatal(err)
	}
	body := ndjson(t,
		map[string]any{"source": "weibo", "id": "m1", "time": at, "author": secretHandle, "text": "华为拍照真好 @" + otherHandle + " 电话" + phone, "likes": 3},
		map[string]any{"source": "weibo", "id": "m1", "time": at, "author": secretHandle, "text": "again"},
		map[string]any{"source": "weibo", "id": "m2", "time": at, "author": "gone_user", "text": "华为"},
		map[string]any{"source": "weibo", "id": "m3", "time": at, "text": "no author"},
		map[string]any{"source": "weibo", "kind": "comment", "id": "c1", "time": at, "author": "@" + strings.ToUpper(secretHandle), "text": "小米也不错"},
		map[string]any{"source": "baidu", "kind": "search", "term": "华为mate70", "day": "2026-11-19", "count": 1200},
	)
	res, err := f.svc.Ingest(ctx, f.tenant.ID, social.FormatJSON, body)
	if err != nil {
		t.Fatal(err)
	}
	want := social.IngestResult{Received: 6, Stored: 3, Duplicates: 1, OptedOut: 1, Rejected: 1}
	got := *res
	got.Errors = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Ingest = %+v, want %+v", got, want)
	}
	if len(res.Errors) != 1 || res.Errors[0].Index != 3 || res.Errors[0].Field != "author" {
		t.Errorf("errors = %+v, want record 3's author", res.Errors)
	}

	var posts []admeter.SocialPost
	err = f.events.ScanPosts(ctx, store.PostQuery{Tenant: f.tenant.ID, From: f.now.Add(-72 * time.Hour), To: f.now.Add(time.Hour)},
		func(p *admeter.SocialPost) error { posts = append(posts, *p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 3 {
		t.Fatalf("stored %d records, want 3", len(posts))
	}
	byID := map[admeter.SocialKind]admeter.SocialPost{}
	for _, p := range posts {
		byID[p.Kind] = p
	}
	post, comment := byID[admeter.SocialPostKind], byID[admeter.SocialComment]
	if post.Author.IsZero() || post.Author != comment.Author {
		t.Error("the same handle (with @ and another case) is not one author")
	}
	if post.KeyVersion != 2 || post.Sentiment <= 0 || post.Fingerprint == 0 || post.Likes != 3 {
		t.Errorf("post = %+v: want the current key, a positive score, a fingerprint and its likes", post)
	}
	if strings.Contains(post.Text, phone) || strings.Contains(post.Text, otherHandle) || !strings.Contains(post.Text, "华为拍照真好") {
		t.Errorf("stored text %q: want the mention and the phone number cut out, the rest kept", post.Text)
	}
	if s := byID[admeter.SocialSearch]; s.Count != 1200 || !s.Author.IsZero() || s.Text != "华为mate70" {
		t.Errorf("search aggregate = %+v", s)
	}

	// After a key rotation, a resent record is still a duplicate.
	rotated, err := social.New(social.Config{MinAuthors: 5, Now: func() time.Time { return f.now }},
		f.events, f.meta, f.meta, append(f.keys, newPS(t, 3, 0x33)), f.optouts, f.optPS, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := rotated.Ingest(ctx, f.tenant.ID, social.FormatJSON, ndjson(t,
		map[string]any{"source": "weibo", "id": "m1", "time": at, "author": secretHandle, "text": "resent"}))
	if err != nil || again.Duplicates != 1 || again.Stored != 0 {
		t.Errorf("resent after a key rotation: %+v, %v; want a duplicate", again, err)
	}

	// The raw handles are in no file the store wrote.
	if err := f.events.Close(); err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(f.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, needle := range []string{secretHandle, strings.ToLower(secretHandle), otherHandle, phone, "gone_user"} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s holds %q", filepath.Base(path), needle)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIngestInvalid proves that an unreadable body stores nothing.
func TestIngestInvalid(t *testing.T) {
	f := newFixture(t)
	at := f.now.Format(time.RFC3339)
	body := strings.NewReader(fmt.Sprintf(`{"source":"weibo","id":"1","time":%q,"author":"a","text":"华为"}`+"\n{broken", at))
	if _, err := f.svc.Ingest(t.Context(), f.tenant.ID, social.FormatJSON, body); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Fatalf("broken JSON: %v, want EINVALID", err)
	}
	n := 0
	_ = f.events.ScanPosts(t.Context(), store.PostQuery{Tenant: f.tenant.ID, From: f.now.Add(-time.Hour), To: f.now.Add(time.Hour)},
		func(*admeter.SocialPost) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d records stored from a broken upload", n)
	}
	if _, err := f.svc.Ingest(t.Context(), f.tenant.ID, "xml", strings.NewReader("")); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Errorf("unknown format: %v", err)
	}
	// An upload without a record is a mistake upstream, not a success.
	for _, tc := range []struct {
		format social.Format
		body   string
	}{{social.FormatJSON, ""}, {social.FormatJSON, "[]"}, {social.FormatJSON, " \n\n"}, {social.FormatCSV, "source,id,time,author,text\n"}} {
		if _, err := f.svc.Ingest(t.Context(), f.tenant.ID, tc.format, strings.NewReader(tc.body)); admeter.ErrorCode(err) != admeter.EINVALID ||
			!strings.Contains(err.Error(), "no records") {
			t.Errorf("%s %q: %v, want EINVALID saying there are no records", tc.format, tc.body, err)
		}
	}
}

// TestReport runs the whole path: settings, an upload in CSV, delivery in
// the event store, and the report — counts, the threshold, official posts
// with their text, no other text or author, and the alignment with the
// campaign.
func TestReport(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.Report(ctx, social.ReportRequest{Tenant: f.tenant.ID, From: store.Date{Year: 2026, Month: 11, Day: 1}, To: store.Date{Year: 2026, Month: 11, Day: 19}}); admeter.ErrorCode(err) != admeter.EINVALID {
		t.Fatalf("report without settings: %v, want EINVALID asking for brands", err)
	}
	f.settings(t)

	// Days 1-19 November: 8 authors mention 华为 each day (more during
	// delivery, days 10-14), 2 authors mention 小米 (below k=5), and the
	// official account posts once a day.
	var csv strings.Builder
	csv.WriteString("source,id,time,author,text,likes\n")
	n := 0
	for d := 1; d <= 19; d++ {
		day := time.Date(2026, 11, d, 4, 0, 0, 0, time.UTC)
		posts := 8
		if d >= 10 && d <= 14 {
			posts = 24
		}
		for i := range posts {
			n++
			fmt.Fprintf(&csv, "weibo,p%d,%s,fan%d,华为新机第%d天体验很好 私密内容%d,1\n", n, day.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i%8, d, n)
		}
		for i := range 2 {
			n++
			fmt.Fprintf(&csv, "weibo,p%d,%s,rival%d,小米也行,0\n", n, day.Format(time.RFC3339), i)
		}
		n++
		fmt.Fprintf(&csv, "weibo,p%d,%s,华为终端,官方公告第%d天,100\n", n, day.Format(time.RFC3339), d)
	}
	res, err := f.svc.Ingest(ctx, f.tenant.ID, social.FormatCSV, strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != n || res.Rejected != 0 {
		t.Fatalf("Ingest = %+v, want %d stored", res, n)
	}
	var evs []admeter.Event
	for d := 10; d <= 14; d++ {
		evs = append(evs, storetest.Imp(time.Date(2026, 11, d, 4, 0, 0, 0, time.UTC), storetest.Tenant(f.tenant.ID),
			storetest.Campaign(f.campaign.ID), storetest.Placement(f.campaign.Placements[0].ID), storetest.User(d)))
	}
	if err := f.events.Insert(ctx, evs, uint64(len(evs))); err != nil {
		t.Fatal(err)
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	var days []store.Date
	for d := 10; d <= 14; d++ {
		days = append(days, store.Date{Year: 2026, Month: 11, Day: d})
	}
	if err := f.events.RefreshRollups(ctx, f.tenant.ID, f.campaign.ID, shanghai, days); err != nil {
		t.Fatal(err)
	}

	rep, err := f.svc.Report(ctx, social.ReportRequest{Tenant: f.tenant.ID, Campaign: f.campaign.ID,
		From: store.Date{Year: 2026, Month: 11, Day: 1}, To: store.Date{Year: 2026, Month: 11, Day: 19}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rules) != 2 || rep.Rules[0].Rule != "华为" || rep.Rules[0].Counts == nil {
		t.Fatalf("rules = %+v", rep.Rules)
	}
	brand := rep.Rules[0].Counts
	if want := int64(14*8 + 5*24); brand.Mentions != want || brand.Authors != 8 {
		t.Errorf("华为: %d mentions by %d authors, want %d by 8 (the official posts do not name it)", brand.Mentions, brand.Authors, want)
	}
	if !rep.Rules[1].Suppressed || rep.Rules[1].Counts != nil {
		t.Errorf("小米 (2 authors, k=5) = %+v, want suppressed", rep.Rules[1].Cell)
	}
	if len(rep.Official) != 19 || rep.Official[0].Account != "华为终端官方微博" || !strings.HasPrefix(rep.Official[0].Text, "官方公告") {
		t.Errorf("official posts = %d, first %+v", len(rep.Official), rep.Official)
	}
	a := rep.Alignment
	if a == nil || a.DeliveryFrom != "2026-11-10" || a.DeliveryTo != "2026-11-14" || a.Impressions != 5 {
		t.Fatalf("alignment = %+v", a)
	}
	if a.Lift.Insufficient || a.Lift.Ratio < 2 || a.Lift.Low > a.Lift.Ratio || a.Lift.High < a.Lift.Ratio {
		t.Errorf("lift = %+v: want about (24+1)/(8+1) with an interval around it", a.Lift)
	}
	out, _ := json.Marshal(rep)
	for _, needle := range []string{"私密内容", "小米也行", "fan1", "rival0"} {
		if bytes.Contains(out, []byte(needle)) {
			t.Errorf("the report holds %q", needle)
		}
	}

	// Another tenant sees nothing of it, and cannot name the campaign.
	other := &admeter.Tenant{Name: "Other", Kind: admeter.TenantAdvertiser}
	if err := f.meta.CreateTenant(ctx, other, [32]byte{2}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Report(ctx, social.ReportRequest{Tenant: other.ID, Campaign: f.campaign.ID,
		From: store.Date{Year: 2026, Month: 11, Day: 1}, To: store.Date{Year: 2026, Month: 11, Day: 19}}); err == nil {
		t.Error("another tenant got a report on this campaign")
	}
}

// TestSaveSettings proves that rules that do not compile and handles that
// cannot be read are refused.
func TestSaveSettings(t *testing.T) {
	f := newFixture(t)
	for name, s := range map[string]*admeter.SocialSettings{
		"NoTerms":      {Brands: []admeter.SocialRule{{Name: "x"}}},
		"SameName":     {Brands: []admeter.SocialRule{{Name: "x", Terms: []string{"a"}}}, Competitors: []admeter.SocialRule{{Name: "x", Terms: []string{"b"}}}},
		"EmptyHandle":  {Brands: []admeter.SocialRule{{Name: "x", Terms: []string{"a"}}}, Official: []admeter.SocialAccount{{Source: "weibo", Handle: "@"}}},
		"NoBrands":     {Competitors: []admeter.SocialRule{{Name: "x", Terms: []string{"a"}}}},
		"MacroHandle":  {Brands: []admeter.SocialRule{{Name: "x", Terms: []string{"a"}}}, Official: []admeter.SocialAccount{{Source: "weibo", Handle: "__H__"}}},
		"BadSourceAcc": {Brands: []admeter.SocialRule{{Name: "x", Terms: []string{"a"}}}, Official: []admeter.SocialAccount{{Source: "WB", Handle: "h"}}},
	} {
		s.Tenant = f.tenant.ID
		if err := f.svc.SaveSettings(t.Context(), s); admeter.ErrorCode(err) != admeter.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

// twiceStore is the real store, but every record read comes back twice, as
// two API nodes' simultaneous uploads of one record can leave it in a
// cluster store.
type twiceStore struct{ *duckdb.DB }

func (s twiceStore) ScanPosts(ctx context.Context, q store.PostQuery, fn func(*admeter.SocialPost) error) error {
	return s.DB.ScanPosts(ctx, q, func(p *admeter.SocialPost) error {
		if err := fn(p); err != nil {
			return err
		}
		return fn(p)
	})
}

// TestReportCountsRecordsOnce proves that a record the store holds twice
// counts once.
func TestReportCountsRecordsOnce(t *testing.T) {
	f := newFixture(t)
	f.settings(t)
	var recs []map[string]any
	for i := range 6 {
		recs = append(recs, map[string]any{"source": "weibo", "id": fmt.Sprint(i), "time": f.now.Add(-time.Hour).Format(time.RFC3339), "author": fmt.Sprint("a", i), "text": "华为"})
	}
	if _, err := f.svc.Ingest(t.Context(), f.tenant.ID, social.FormatJSON, ndjson(t, recs...)); err != nil {
		t.Fatal(err)
	}
	svc, err := social.New(social.Config{MinAuthors: 5, Now: func() time.Time { return f.now }},
		twiceStore{f.events}, f.meta, f.meta, f.keys, f.optouts, f.optPS, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := store.DateOf(f.now.In(time.FixedZone("CST", 8*3600)))
	rep, err := svc.Report(t.Context(), social.ReportRequest{Tenant: f.tenant.ID, From: day, To: day})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Rules[0].Counts; c == nil || c.Mentions != 6 {
		t.Errorf("华为 = %+v, want 6 mentions", rep.Rules[0])
	}
}
