package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/admeter/admeter/simulate/socialsim"
	"github.com/admeter/admeter/social/analysis"
)

// TestSocialAccuracy uploads a month of simulated partner feeds (package
// socialsim: heavy-tailed authors, reposts, near copies, comments,
// exclusions, @mentions and phone numbers, an official account, search
// aggregates, some records delivered twice) through the real server, sends
// a campaign's impressions during the window in which the simulated brand
// mentions double, and checks the social report against the generator's
// truth: counts exactly, the threshold and its complementary suppression
// exactly, searches exactly, the lift's interval around the planted
// factor, the official posts, and no other text or handle in the answer.
func TestSocialAccuracy(t *testing.T) {
	const k = 5
	m, base := MustRunMain(t, func(c *ServeConfig) { c.SocialMinAuthors, c.SocialPreload = k, true })
	tok, camp := setupCampaign(t, base, m.Config.DataDir, 1)

	// The last 30 whole days; the campaign runs 6 to 2 days ago (within
	// the collector's 7-day window for event times).
	sh := shanghai()
	now := time.Now()
	y, mo, d := now.In(sh).Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, sh)
	day := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }
	cfg := socialsim.DefaultConfig()
	cfg.From, cfg.Days, cfg.Now = day(-30), 30, now
	cfg.CampaignFrom, cfg.CampaignTo = day(-6), day(-2)
	feed, err := socialsim.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	truth := feed.Truth
	if truth.To != day(-1) || truth.Unique == truth.Records {
		t.Fatalf("truth over %s…%s with %d of %d records unique; want the range to end yesterday and some re-deliveries", truth.From, truth.To, truth.Unique, truth.Records)
	}

	settings := cfg.Settings()
	if st := apiCall(t, "PUT", base+"/api/v1/social/settings", tok, &settings, nil); st != 200 {
		t.Fatalf("PUT settings: %d", st)
	}
	waitSocialReady(t, base)

	// Upload in parts, NDJSON and CSV in turn.
	var stored, dups, received int
	for i, part := 0, 0; i < len(feed.Records); i, part = i+800, part+1 {
		recs := feed.Records[i:min(i+800, len(feed.Records))]
		var body bytes.Buffer
		ct := "application/x-ndjson"
		if part%2 == 1 {
			ct = "text/csv"
			err = socialsim.WriteCSV(&body, recs)
		} else {
			err = socialsim.WriteNDJSON(&body, recs)
		}
		if err != nil {
			t.Fatal(err)
		}
		var up struct {
			Received, Stored, Duplicates, Rejected int
			Errors                                 []struct {
				Index   int
				Message string
			}
		}
		if st := postRaw(t, base+"/api/v1/social/posts", tok, ct, body.String(), &up); st != 200 || up.Rejected != 0 {
			t.Fatalf("upload part %d (%s): %d %+v", part, ct, st, up)
		}
		received, stored, dups = received+up.Received, stored+up.Stored, dups+up.Duplicates
	}
	if received != truth.Records || stored != truth.Unique || dups != truth.Records-truth.Unique {
		t.Fatalf("uploads: received %d, stored %d, duplicates %d; want %d, %d, %d", received, stored, dups, truth.Records, truth.Unique, truth.Records-truth.Unique)
	}

	// Impressions on the campaign's days only, from distinct devices.
	var events []map[string]string
	for n := -6; n <= -2; n++ {
		for i := range 20 {
			events = append(events, map[string]string{"campaign": camp.ID, "placement": camp.Placements[0].ID,
				"oaid": fmt.Sprintf("50c1a1%02d%010d", -n, i), "os": "android", "ip": "114.114.114.114",
				"ts": fmt.Sprint(today.AddDate(0, 0, n).Add(12 * time.Hour).Unix())})
		}
	}
	var res struct {
		Accepted int `json:"accepted"`
	}
	if st := apiCall(t, "POST", base+"/v1/events", tok, events, &res); st != 200 || res.Accepted != len(events) {
		t.Fatalf("send events: %d, %d of %d accepted", st, res.Accepted, len(events))
	}

	url := fmt.Sprintf("%s/api/v1/social/report?from=%s&to=%s&campaign=%s", base, truth.From, truth.To, camp.ID)
	var rep analysis.Report
	var body []byte
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		r, b := get(t, url, map[string]string{"Authorization": "Bearer " + tok})
		if r.StatusCode != 200 {
			t.Fatalf("report: %d %s", r.StatusCode, b)
		}
		rep, body = analysis.Report{}, b
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if a := rep.Alignment; a != nil && a.DeliveryFrom == cfg.CampaignFrom && a.DeliveryTo == cfg.CampaignTo {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the report's delivery is %+v after 60 s; want %s…%s", rep.Alignment, cfg.CampaignFrom, cfg.CampaignTo)
		}
	}

	// The threshold, replayed on the truth: a cell of 1 to k−1 people is
	// suppressed; of a published whole's parts, the smallest published ones
	// too while the suppressed ones together have 1 to k−1 people.
	below := func(c socialsim.Counts) bool { return c.People > 0 && c.People < k }
	var wantBelow, wantComp int
	series := func(total bool, parts []socialsim.Counts) []bool {
		sup := make([]bool, len(parts))
		union := map[string]bool{}
		var open []int
		for i, c := range parts {
			if sup[i] = below(c); sup[i] {
				wantBelow++
				for _, p := range c.PeopleKeys {
					union[p] = true
				}
			} else if c.Mentions > 0 {
				open = append(open, i)
			}
		}
		if !total {
			return sup
		}
		slices.SortStableFunc(open, func(a, b int) int {
			return cmp.Or(cmp.Compare(parts[a].Mentions, parts[b].Mentions), cmp.Compare(parts[a].Authors, parts[b].Authors))
		})
		for _, i := range open {
			if len(union) == 0 || len(union) >= k {
				break
			}
			sup[i] = true
			wantComp++
			for _, p := range parts[i].PeopleKeys {
				union[p] = true
			}
		}
		return sup
	}
	checkCell := func(what string, c analysis.Cell, want socialsim.Counts, suppressed bool) {
		t.Helper()
		switch {
		case c.Suppressed != suppressed || (c.Counts == nil) != suppressed:
			t.Errorf("%s: suppressed %v, want %v (%d people, %d mentions)", what, c.Suppressed, suppressed, want.People, want.Mentions)
		case c.Counts == nil:
		case c.Counts.Mentions != want.Mentions || c.Counts.Authors != want.Authors:
			t.Errorf("%s: %d mentions by %d authors, want %d by %d", what, c.Counts.Mentions, c.Counts.Authors, want.Mentions, want.Authors)
		case c.Counts.Original > want.Contents || c.Counts.Original < want.Contents-want.NearCopies-want.Contents/10:
			// Near copies are joined (nearly all: MinHash finds a
			// one-character edit with probability 0.99). The generator's
			// templates also make the same text for different people,
			// which is one content as a repost is (about 5 % here).
			t.Errorf("%s: %d original contents, want %d less at most the %d near copies and 10 %%", what, c.Counts.Original, want.Contents, want.NearCopies)
		case c.Counts.Likes != want.Likes || c.Counts.Views != want.Views:
			t.Errorf("%s: %d likes %d views, want %d, %d", what, c.Counts.Likes, c.Counts.Views, want.Likes, want.Views)
		}
	}

	if rep.From != truth.From || rep.To != truth.To || rep.Timezone != "Asia/Shanghai" {
		t.Errorf("report over %s…%s %s", rep.From, rep.To, rep.Timezone)
	}
	totalSup := below(truth.Total)
	if totalSup {
		wantBelow++
	}
	checkCell("total", rep.Total, truth.Total, totalSup)
	var names []string
	for s := range truth.Sources {
		names = append(names, s)
	}
	slices.Sort(names)
	parts := make([]socialsim.Counts, len(names))
	for i, n := range names {
		parts[i] = truth.Sources[n]
	}
	supSrc := series(!totalSup, parts)
	if len(rep.Sources) != len(names) {
		t.Fatalf("sources %+v, want %v", rep.Sources, names)
	}
	for i, n := range names {
		if rep.Sources[i].Source != n {
			t.Fatalf("source %d is %s, want %s", i, rep.Sources[i].Source, n)
		}
		checkCell("source "+n, rep.Sources[i].Cell, parts[i], supSrc[i])
	}

	if len(rep.Rules) != len(truth.Rules) {
		t.Fatalf("%d rules, want %d", len(rep.Rules), len(truth.Rules))
	}
	suppressedDays, belowDays := 0, 0
	for i, want := range truth.Rules {
		got := rep.Rules[i]
		if got.Rule != want.Name || got.Role != want.Role || len(got.Days) != len(want.Days) {
			t.Fatalf("rule %d = %s (%s, %d days), want %s (%s, %d days)", i, got.Rule, got.Role, len(got.Days), want.Name, want.Role, len(want.Days))
		}
		sup := below(want.Total)
		if sup {
			wantBelow++
		}
		checkCell(want.Name, got.Cell, want.Total, sup)
		days := make([]socialsim.Counts, len(want.Days))
		for d := range want.Days {
			days[d] = want.Days[d].Counts
			if below(days[d]) {
				belowDays++
			}
		}
		supDays := series(!sup, days)
		for d, w := range want.Days {
			if got.Days[d].Date != w.Date {
				t.Fatalf("%s day %d is %s, want %s", want.Name, d, got.Days[d].Date, w.Date)
			}
			if got.Days[d].Suppressed {
				suppressedDays++
			}
			checkCell(want.Name+" "+w.Date, got.Days[d].Cell, w.Counts, supDays[d])
		}
		// Searches are partner aggregates: never thresholded.
		s := rep.Searches[i]
		if s.Rule != want.Name || s.Searches != want.Searches {
			t.Errorf("%s searches %d, want %d", want.Name, s.Searches, want.Searches)
		}
		for d, w := range want.Days {
			if s.Days[d].Date != w.Date || s.Days[d].Searches != w.Searches {
				t.Errorf("%s searches on %s: %d, want %d", want.Name, w.Date, s.Days[d].Searches, w.Searches)
			}
		}
	}
	// The data must exercise the threshold: some days below it, some
	// suppressed only to protect others.
	if belowDays == 0 || suppressedDays <= belowDays {
		t.Errorf("%d rule-days below the threshold, %d suppressed: the simulated feed should have both kinds", belowDays, suppressedDays)
	}

	// Alignment: the brand's mentions before, during and after delivery,
	// and the lift.
	al := rep.Alignment
	var period [3]socialsim.Counts
	people := [3]map[string]bool{{}, {}, {}}
	first, last := len(truth.BrandDays)-6, len(truth.BrandDays)-2
	brand := truth.Rules[0]
	for d, w := range brand.Days {
		p := 1
		if d < first {
			p = 0
		} else if d > last {
			p = 2
		}
		period[p].Mentions += w.Mentions
		if w.Authors > w.People { // the official account posted
			period[p].Authors = 1
		}
		for _, k := range w.PeopleKeys {
			people[p][k] = true
		}
	}
	for p := range period {
		period[p].People = int64(len(people[p]))
		period[p].Authors += period[p].People
		period[p].PeopleKeys = slices.Sorted(func(yield func(string) bool) {
			for k := range people[p] {
				if !yield(k) {
					return
				}
			}
		})
	}
	supPeriod := series(!below(brand.Total), period[:])
	for p, got := range []analysis.Period{al.Before, al.During, al.After} {
		switch {
		case got.Suppressed != supPeriod[p]:
			t.Errorf("period %d suppressed %v, want %v", p, got.Suppressed, supPeriod[p])
		case got.Counts != nil && got.Counts.Mentions != period[p].Mentions:
			t.Errorf("period %d: %d mentions, want %d", p, got.Counts.Mentions, period[p].Mentions)
		}
	}
	lift := al.Lift
	beforeDays, duringDays := float64(first), float64(last-first+1)
	wantRatio := float64(period[1].Mentions) / duringDays / (float64(period[0].Mentions) / beforeDays)
	switch {
	case lift.Insufficient:
		t.Errorf("no lift: %s", lift.Reason)
	case math.Abs(lift.Ratio-wantRatio) > 1e-9*wantRatio:
		t.Errorf("lift ratio %v, want %v from the truth's daily mentions", lift.Ratio, wantRatio)
	case lift.Ratio <= 1 || lift.Low > cfg.Lift || lift.High < cfg.Lift:
		t.Errorf("lift %v [%v, %v], want above 1 with the planted %v inside the interval", lift.Ratio, lift.Low, lift.High, cfg.Lift)
	}
	t.Logf("lift %.3f [%.3f, %.3f] φ=%.2f, planted %v", lift.Ratio, lift.Low, lift.High, lift.Dispersion, cfg.Lift)

	// Privacy adds up: every visible suppressed cell is counted, below the
	// threshold or complementary (folding topics into "other" counts as
	// complementary without a visible cell).
	visible := 0
	for _, c := range []analysis.Cell{rep.Total, al.Before.Cell, al.During.Cell, al.After.Cell} {
		if c.Suppressed {
			visible++
		}
	}
	for _, s := range rep.Sources {
		if s.Suppressed {
			visible++
		}
	}
	otherSup := 0
	for _, r := range rep.Rules {
		if r.Suppressed {
			visible++
		}
		for _, d := range r.Days {
			if d.Suppressed {
				visible++
			}
		}
	}
	for _, tp := range rep.Topics {
		if tp.Suppressed {
			visible++
			otherSup++
		}
	}
	p := rep.Privacy
	if p.MinAuthors != k || p.SuppressedCells != wantBelow+otherSup || p.Complementary < wantComp ||
		visible < p.SuppressedCells || visible > p.SuppressedCells+p.Complementary {
		t.Errorf("privacy %+v with %d suppressed cells visible; want %d below the threshold and at least %d complementary", p, visible, wantBelow+otherSup, wantComp)
	}

	t.Logf("%d records (%d unique); privacy %d suppressed, %d complementary; replayed %d below, %d complementary; %d visible",
		truth.Records, truth.Unique, p.SuppressedCells, p.Complementary, wantBelow, wantComp, visible)

	// Official posts: all of them, in order, with their text.
	if len(rep.Official) != len(truth.Official) {
		t.Fatalf("%d official posts, want %d", len(rep.Official), len(truth.Official))
	}
	for i, want := range truth.Official {
		if got := rep.Official[i]; got.Text != want.Text || !got.At.Equal(want.At) || got.Account != cfg.Official.Name {
			t.Errorf("official post %d = %s %q by %s, want %s %q", i, got.At, got.Text, got.Account, want.At, want.Text)
		}
	}

	// No other text, handle or phone number leaves the server.
	official := map[string]bool{}
	for _, o := range truth.Official {
		official[o.Text] = true
	}
	for _, r := range feed.Records {
		if r.Kind == "search" || r.Author == cfg.Official.Handle {
			continue
		}
		if bytes.Contains(body, []byte(r.Author)) {
			t.Fatalf("the report holds the handle %q", r.Author)
		}
		text := strings.TrimSpace(r.Text)
		if utf8.RuneCountInString(text) >= 6 && !official[text] && bytes.Contains(body, []byte(text)) {
			t.Fatalf("the report holds the text %q", text)
		}
		if i := strings.Index(r.Text, "电话 "); i >= 0 && bytes.Contains(body, []byte(r.Text[i+len("电话 "):])) {
			t.Fatalf("the report holds the phone number of %q", r.Text)
		}
	}
}
