package socialsim

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/social/feed"
)

// mustGenerate generates cfg or fails the test.
func mustGenerate(t *testing.T, cfg Config) *Feed {
	t.Helper()
	f, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSocialGenerateDeterministic(t *testing.T) {
	a, b := mustGenerate(t, DefaultConfig()), mustGenerate(t, DefaultConfig())
	if !reflect.DeepEqual(a.Records, b.Records) || !reflect.DeepEqual(a.Truth, b.Truth) {
		t.Fatal("the same config gave two feeds")
	}
	cfg := DefaultConfig()
	cfg.Seed++
	if c := mustGenerate(t, cfg); reflect.DeepEqual(a.Records, c.Records) {
		t.Fatal("another seed gave the same feed")
	}
	// Moving the range does not change the feed...
	cfg = DefaultConfig()
	cfg.From, cfg.CampaignFrom, cfg.CampaignTo = "2027-03-01", "2027-03-24", "2027-03-28"
	c := mustGenerate(t, cfg)
	if len(c.Records) != len(a.Records) || c.Records[len(c.Records)/2].Text != a.Records[len(a.Records)/2].Text {
		t.Fatal("moving the range changed the feed's texts")
	}
	// ...but with DatedDays, a day's records depend on the seed and its
	// date only: a feed from a day later has the same records on the days
	// both have.
	cfg = DefaultConfig()
	cfg.DatedDays = true
	a = mustGenerate(t, cfg)
	cfg.From, cfg.Days = "2026-11-02", 29
	c = mustGenerate(t, cfg)
	byID := map[string]Record{}
	for _, r := range a.Records {
		byID[r.ID] = r
	}
	same := 0
	for _, r := range c.Records {
		if r.Kind == "search" || strings.HasPrefix(r.ID, "20261101-") {
			continue
		}
		if byID[r.ID] != r {
			t.Fatalf("record %s differs in the later feed: %+v, was %+v", r.ID, r, byID[r.ID])
		}
		same++
	}
	if same < 1000 {
		t.Fatalf("only %d records shared", same)
	}
}

func TestSocialTruthInvariants(t *testing.T) {
	cfg := DefaultConfig()
	f := mustGenerate(t, cfg)
	tr := f.Truth
	if tr.Records != len(f.Records) || tr.Unique >= tr.Records || tr.Unique != tr.Authored+tr.Searches {
		t.Fatalf("records %d, unique %d = %d authored + %d searches", tr.Records, tr.Unique, tr.Authored, tr.Searches)
	}
	if tr.Authored < 2000 || tr.Excluded == 0 || tr.Unmatched <= tr.Excluded {
		t.Errorf("authored %d, excluded %d, unmatched %d: want thousands, with exclusions and noise", tr.Authored, tr.Excluded, tr.Unmatched)
	}
	// A re-delivered record is the same record, later.
	first := map[string]int{}
	for i, r := range f.Records {
		key := r.Source + "\x00" + r.ID + "\x00" + r.Term + "\x00" + r.Day
		if j, ok := first[key]; ok {
			if f.Records[j] != r {
				t.Fatalf("record %d re-delivers %d with other fields", i, j)
			}
			continue
		}
		first[key] = i
	}
	if len(first) != tr.Unique {
		t.Errorf("%d distinct records, truth says %d", len(first), tr.Unique)
	}

	var sumRules int64
	for _, r := range tr.Rules {
		var m, s int64
		for _, d := range r.Days {
			m += d.Mentions
			s += d.Searches
			if d.People > d.Authors || d.Authors > d.Mentions || d.Contents > d.Mentions || int64(len(d.PeopleKeys)) != d.People {
				t.Errorf("%s %s: %+v is inconsistent", r.Name, d.Date, d.Counts)
			}
		}
		if m != r.Total.Mentions || s != r.Searches || r.Total.Mentions == 0 || r.Searches == 0 {
			t.Errorf("%s: days sum to %d mentions and %d searches, total %d and %d", r.Name, m, s, r.Total.Mentions, r.Searches)
		}
		sumRules += r.Total.Mentions
	}
	if tr.Total.Mentions > sumRules || tr.Total.Mentions < tr.Rules[0].Total.Mentions || tr.Total.Authors != tr.Total.People+1 {
		t.Errorf("total %+v against rules summing to %d", tr.Total, sumRules)
	}
	var bySource int64
	for _, c := range tr.Sources {
		bySource += c.Mentions
	}
	if bySource != tr.Total.Mentions {
		t.Errorf("sources sum to %d, total %d", bySource, tr.Total.Mentions)
	}

	// The campaign window has about Lift times the brand's mentions.
	var before, during float64
	for d, n := range tr.BrandDays {
		if d >= 23 && d <= 27 {
			during += float64(n) / 5
		} else if d < 23 {
			before += float64(n) / 23
		}
	}
	if r := during / before; r < 1.3 || r > 4 { // viral posts make it vary
		t.Errorf("brand mentions rise %.2f times during the campaign, planted %v", r, cfg.Lift)
	}

	// The official account posts once a day and names the brand.
	if len(tr.Official) != cfg.Days || tr.Rules[0].Total.Authors != tr.Rules[0].Total.People+1 {
		t.Errorf("%d official posts over %d days", len(tr.Official), cfg.Days)
	}
	for _, o := range tr.Official {
		if !strings.Contains(o.Text, "澜星") {
			t.Errorf("official post %q does not name the brand", o.Text)
		}
	}
}

// TestRecordsMeanWhatTruthSays checks, record by record, what the truth
// relies on: a repost carries its original's text and rules, the planted
// variants and personal data are there, and no record is out of range.
func TestSocialRecordsMeanWhatTruthSays(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Now = time.Date(2026, 11, 20, 15, 0, 0, 0, shanghai)
	f := mustGenerate(t, cfg)
	from, _ := time.ParseInLocation(time.DateOnly, cfg.From, shanghai)
	byText := map[string]meta{}
	for i, r := range f.Records {
		m := f.meta[i]
		if m.at.Before(from) || !m.at.Before(cfg.Now) {
			t.Fatalf("record %d at %s is outside %s…%s", i, m.at, from, cfg.Now)
		}
		if r.Kind != "repost" && r.Kind != "search" {
			byText[r.Text] = m
		}
	}
	seen := map[string]int{}
	for i, r := range f.Records {
		m := f.meta[i]
		switch {
		case r.Kind == "repost":
			_, orig, ok := strings.Cut(r.Text, "//@")
			for ok {
				_, orig, _ = strings.Cut(orig, ":")
				_, rest, more := strings.Cut(orig, "//@")
				if !more {
					break
				}
				orig = rest
			}
			o, found := byText[orig]
			if !ok || !found || !reflect.DeepEqual(o.rules, m.rules) || o.content != m.content || len(m.rules) == 0 {
				t.Fatalf("repost %q: its original is not a record with the same rules", r.Text)
			}
			seen["repost"]++
		case r.Kind == "search":
			if r.Count < 1 || r.Term == "" {
				t.Fatalf("search %+v", r)
			}
		}
		if strings.Contains(r.Text, "ＬａｎＳｔａｒ") || strings.Contains(r.Text, "LANSTAR") {
			seen["variant"]++
		}
		if strings.HasPrefix(r.Text, "@") {
			seen["mention"]++
		}
		if strings.Contains(r.Text, "打电话 1") {
			seen["phone"]++
		}
		if m.near {
			seen["near"]++
		}
		if len(m.rules) == 2 {
			seen["comparison"]++
		}
		if r.Kind == "comment" && len(m.rules) > 0 {
			seen["comment"]++
		}
	}
	for _, k := range []string{"repost", "variant", "mention", "phone", "near", "comparison", "comment"} {
		if seen[k] < 5 {
			t.Errorf("only %d records of kind %q", seen[k], k)
		}
	}
	if last := f.Truth.Rules[0].Days[len(f.Truth.Rules[0].Days)-1]; last.Mentions != 0 || last.Searches != 0 {
		t.Errorf("the days after Now have records: %+v", last)
	}
}

// TestWritersReadByFeed writes a feed as NDJSON and CSV and reads both
// back with the server's parsers: every record is accepted, unchanged.
func TestSocialWritersReadByFeed(t *testing.T) {
	f := mustGenerate(t, DefaultConfig())
	recs := f.Records[:2000]
	opt := feed.Options{Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	for _, format := range []string{"ndjson", "csv"} {
		var buf bytes.Buffer
		var got []feed.Record
		add := func(_ int, r feed.Record) error { got = append(got, r); return nil }
		var errs []feed.RecordError
		var err error
		if format == "csv" {
			if err = WriteCSV(&buf, recs); err == nil {
				errs, err = feed.ParseCSV(&buf, opt, add)
			}
		} else {
			if err = WriteNDJSON(&buf, recs); err == nil {
				errs, err = feed.ParseJSON(&buf, opt, add)
			}
		}
		if err != nil || len(errs) > 0 || len(got) != len(recs) {
			t.Fatalf("%s: %v, %d record errors (%v), %d of %d read", format, err, len(errs), errs, len(got), len(recs))
		}
		for i, r := range recs {
			g := got[i]
			want := r.Text + r.Term
			if g.Text != want || g.Author != r.Author || string(g.Kind) != r.Kind || g.Likes != r.Likes || g.Views != r.Views ||
				(r.Kind != "search" && g.ID != r.ID) || (r.Kind == "search" && g.Count != r.Count) {
				t.Fatalf("%s record %d: read %+v from %+v", format, i, g, r)
			}
			if r.Kind != string(admeter.SocialSearch) && g.At.Format(time.RFC3339) != mustTime(t, r.Time).UTC().Format(time.RFC3339) {
				t.Fatalf("%s record %d: time %s, want %s", format, i, g.At, r.Time)
			}
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSocialConfigRefused(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"bad from":              func(c *Config) { c.From = "2026/11/01" },
		"no days":               func(c *Config) { c.Days = 0 },
		"few authors":           func(c *Config) { c.Authors = 3 },
		"no official":           func(c *Config) { c.Official.Handle = "" },
		"campaign out of range": func(c *Config) { c.CampaignTo = "2026-12-05" },
		"no lift":               func(c *Config) { c.Lift = 0 },
		"share above 1":         func(c *Config) { c.Redeliver = 1.5 },
		"same names":            func(c *Config) { c.Competitors[0].Name = "澜星" },
		"shared term":           func(c *Config) { c.Competitors[0].Terms = []string{"北辰", "LANSTAR"} },
		"term in vocabulary":    func(c *Config) { c.Competitors[1].Terms = []string{"转发"} },
		"term in the chain":     func(c *Config) { c.Competitors[1].Terms = []string{"某人"} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Competitors = append([]Rule(nil), cfg.Competitors...)
			mod(&cfg)
			if _, err := Generate(cfg); err == nil {
				t.Fatal("generated")
			}
		})
	}
}

func TestSocialSettings(t *testing.T) {
	cfg := DefaultConfig()
	s := cfg.Settings()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s.Brands) != 1 || len(s.Competitors) != 2 || len(s.Official) != 1 || s.Official[0].Handle != cfg.Official.Handle {
		t.Fatalf("settings %+v", s)
	}
}
