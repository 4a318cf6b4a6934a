package simulate

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

func TestGenerateDeterministic(t *testing.T) {
	cfg := testConfig(t)
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Requests, b.Requests) || !reflect.DeepEqual(a.events, b.events) {
		t.Fatal("the same config gave two different plans")
	}
	var ja, jb bytes.Buffer
	if err := a.Truth().WriteJSON(&ja); err != nil {
		t.Fatal(err)
	}
	if err := b.Truth().WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
		t.Fatal("the same config gave two different truths")
	}
	cfg.Seed++
	c, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Requests, c.Requests) {
		t.Fatal("another seed gave the same plan")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := map[string]func(*Config){
		"NoCampaign":      func(c *Config) { c.Campaigns = nil },
		"EndAfterNow":     func(c *Config) { c.End = c.Now.Add(time.Hour) },
		"EmptySpan":       func(c *Config) { c.Start = c.End },
		"NoSize":          func(c *Config) { c.Devices, c.Impressions = 0, 0 },
		"CTROver1":        func(c *Config) { c.CTR = 1.5 },
		"AppOptOutOver1":  func(c *Config) { c.AppOptOut = 1.5 },
		"NegativeRetries": func(c *Config) { c.Retries = -0.1 },
		"UnknownIVT":      func(c *Config) { c.IVT = map[IVTKind]float64{"bogus": 0.1} },
		"TooMuchIVT":      func(c *Config) { c.IVT = UniformIVT(1.5) },
		"BadTimezone":     func(c *Config) { c.Campaigns[0].Timezone = "Mars/Olympus" },
		"NoPlacement":     func(c *Config) { c.Campaigns[0].Placements = nil },
		"NotMonitoring":   func(c *Config) { c.Campaigns[0].Placements[0].ImpressionURL = "https://example.com/pixel" },
		"BadBatchSize":    func(c *Config) { c.BatchSize = 5000 },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			mod(&cfg)
			if _, err := Generate(cfg); err == nil {
				t.Fatal("Generate accepted a bad config")
			}
		})
	}
	if _, err := Generate(testConfig(t)); err != nil {
		t.Fatalf("good config: %v", err)
	}
}

// TestShape checks the documented shape of the traffic (docs/simulation.md)
// within sampling tolerance.
func TestShape(t *testing.T) {
	cfg := testConfig(t)
	cfg.Devices = 30000
	cfg.Campaigns = testCampaigns(6)
	cfg.IVT = nil
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Plan(cfg.Start, cfg.End, cfg.Now)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f, want %.4f ± %.4f", name, got, want, tol)
		}
	}

	var app, android, ios, web, idfa, oaidOK, anon float64
	prov := map[string]float64{}
	for _, d := range g.pop.devices[:g.pop.nNormal] {
		prov[provinces[d.prov].name]++
		switch d.class {
		case classWeb:
			web++
			continue
		case classAndroid:
			android++
			if d.hasID(admeter.IDOAID) {
				oaidOK++
			}
		case classIOS:
			ios++
			if d.hasID(admeter.IDIDFA) {
				idfa++
			}
		}
		app++
		if d.key == admeter.IDNone {
			anon++
		}
	}
	n := float64(g.pop.nNormal)
	near("web share", web/n, cfg.Web, 0.01)
	near("Android share of app devices", android/app, shareAndroid, 0.015)
	near("iOS share of app devices", ios/app, shareIOS, 0.015)
	near("IDFA share of iOS", idfa/ios, shareATT, 0.03)
	near("valid OAID share of Android", oaidOK/android, 0.82, 0.03)
	near("Guangdong share", prov["广东"]/n, 126.0/1411.8, 0.01)
	if anon/app < 0.02 || anon/app > 0.12 {
		t.Errorf("anonymous app devices %.3f, want a few percent", anon/app)
	}

	// Diurnal: the evening peak is many times the small hours.
	var hours [24]float64
	var imps, clicks float64
	for _, ev := range p.events {
		if ev.kind == admeter.KindImpression && ev.flags&(evLate|evTooLate|evRetry) == 0 {
			hours[time.UnixMilli(ev.mt).In(shanghai).Hour()]++
			imps++
		}
		if ev.kind == admeter.KindClick {
			clicks++
		}
	}
	if peak, trough := hours[20]+hours[21], hours[3]+hours[4]; peak < 5*trough {
		t.Errorf("20–22h has %.0f impressions, 03–05h %.0f: want a diurnal curve", peak, trough)
	}
	near("CTR / configured CTR", clicks/imps/cfg.CTR, 1, 0.25)

	// Heavy-tailed exposure: most users see the campaign once or twice, a
	// few dozens of times.
	tr := p.Truth()
	f := tr.Campaigns[0].Frequency
	low := float64(f.Distribution[0].Users+f.Distribution[1].Users) / float64(f.Reach)
	if low < 0.6 || f.Distribution[9].Users == 0 {
		t.Errorf("frequency 1–2 is %.2f of reach, 10+ has %d users: want most at 1–2 and a tail", low, f.Distribution[9].Users)
	}
	var top int64
	users := map[uint64]int64{}
	for _, ev := range p.events {
		if ev.kind == admeter.KindImpression && ev.key != 0 && ev.flags&evRetry == 0 {
			users[ev.key]++
			top = max(top, users[ev.key])
		}
	}
	if top < 20 {
		t.Errorf("the most exposed user saw %d impressions; want dozens", top)
	}
	traffic := tr.Traffic
	near("retry share of impressions", float64(traffic.Retries)/float64(traffic.Impressions), cfg.Retries/3, 0.01)
	near("batched share", float64(traffic.Batched)/float64(traffic.Events), cfg.BatchFraction*(1-cfg.Web), 0.02)
}

// TestTruthConsistent checks the truth against itself: parts add up to
// wholes, distinct users never exceed events.
func TestTruthConsistent(t *testing.T) {
	cfg := testConfig(t)
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.Truth()
	if len(tr.Campaigns) != len(cfg.Campaigns) {
		t.Fatalf("%d campaigns in the truth, want %d", len(tr.Campaigns), len(cfg.Campaigns))
	}
	sane := func(where string, c Counts) {
		t.Helper()
		if c.UV > c.Impressions-c.AnonymousImpressions || c.ClickUV > c.Clicks-c.AnonymousClicks ||
			c.AnonymousImpressions > c.Impressions || c.UV < 0 {
			t.Errorf("%s: %+v is not possible", where, c)
		}
	}
	var ivtImp int64
	for _, c := range tr.Campaigns {
		sane(c.ID, c.Total)
		byDay := map[string]Counts{}
		var sum Counts
		for _, d := range c.Days {
			sane(c.ID+" "+d.Day, d.Counts)
			byDay[d.Day] = d.Counts
			sum.Impressions += d.Impressions
			sum.Clicks += d.Clicks
			sum.Served += d.Served
		}
		if sum.Impressions != c.Total.Impressions || sum.Clicks != c.Total.Clicks || sum.Served != c.Total.Served {
			t.Errorf("%s: days add up to %+v, total is %+v", c.ID, sum, c.Total)
		}
		placeDays := map[string]Counts{}
		var maxUV int64
		for _, pl := range c.Placements {
			sane(pl.ID, pl.Total)
			var pimp int64
			for _, d := range pl.Days {
				sane(pl.ID+" "+d.Day, d.Counts)
				x := placeDays[d.Day]
				x.Impressions += d.Impressions
				x.Clicks += d.Clicks
				x.UV += d.UV
				x.AnonymousImpressions += d.AnonymousImpressions
				placeDays[d.Day] = x
				pimp += d.Impressions
				if d.UV > byDay[d.Day].UV {
					t.Errorf("%s %s: placement uv %d above the campaign's %d", pl.ID, d.Day, d.UV, byDay[d.Day].UV)
				}
			}
			if pimp != pl.Total.Impressions {
				t.Errorf("%s: days add up to %d impressions, total %d", pl.ID, pimp, pl.Total.Impressions)
			}
			maxUV = max(maxUV, pl.Total.UV)
		}
		for day, x := range placeDays {
			cd := byDay[day]
			if x.Impressions != cd.Impressions || x.Clicks != cd.Clicks || x.AnonymousImpressions != cd.AnonymousImpressions {
				t.Errorf("%s %s: placements add up to %+v, campaign day is %+v", c.ID, day, x, cd)
			}
			if cd.UV > x.UV {
				t.Errorf("%s %s: campaign uv %d above the placements' sum %d", c.ID, day, cd.UV, x.UV)
			}
		}
		f := c.Frequency
		var users int64
		for _, b := range f.Distribution {
			users += b.Users
		}
		if users != f.Reach || f.Reach != c.Total.UV || f.Impressions != c.Total.Impressions-c.Total.AnonymousImpressions {
			t.Errorf("%s: distribution %d users, reach %d, uv %d, identified impressions %d/%d",
				c.ID, users, f.Reach, c.Total.UV, f.Impressions, c.Total.Impressions-c.Total.AnonymousImpressions)
		}
		if maxUV > f.Reach {
			t.Errorf("%s: a placement reaches %d, the campaign %d", c.ID, maxUV, f.Reach)
		}
		var prev int64
		for _, r := range f.CumulativeReach {
			if r.Reach < prev {
				t.Errorf("%s: cumulative reach falls on %s", c.ID, r.Day)
			}
			prev = r.Reach
		}
		if prev != f.Reach {
			t.Errorf("%s: cumulative reach ends at %d, reach is %d", c.ID, prev, f.Reach)
		}
		for k, v := range c.IVT {
			ivtImp += v.Impressions
			if v.Devices == 0 {
				t.Errorf("%s: ivt %s without devices", c.ID, k)
			}
		}
	}
	for _, k := range AllIVT() {
		if tr.IVT[k].Impressions+tr.IVT[k].Clicks == 0 {
			t.Errorf("no %s traffic was injected", k)
		}
	}
	if ivtImp == 0 {
		t.Error("no invalid impressions")
	}
	tf := tr.Traffic
	if tf.Retries == 0 || tf.Late == 0 || tf.TimeCorrected == 0 || tf.NoTime == 0 || tf.Batched == 0 || tf.Served == 0 {
		t.Errorf("traffic %+v: every feature should appear", tf)
	}
	if tf.Requests != int64(len(p.Requests)) || tf.Events != int64(p.Events()) {
		t.Errorf("traffic counts %d requests and %d events, the plan has %d and %d", tf.Requests, tf.Events, len(p.Requests), p.Events())
	}
}

// TestTallyReceiveTime checks that events the collector dates by its own
// clock follow the answer times.
func TestTallyReceiveTime(t *testing.T) {
	cfg := testConfig(t)
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	today := p.Now.In(shanghai).Format(time.DateOnly)
	later := p.Now.Add(5 * 24 * time.Hour)
	laterDay := later.In(shanghai).Format(time.DateOnly)
	answered := make([]int64, len(p.Requests))
	for i := range answered {
		answered[i] = later.UnixNano()
	}
	var at, atLater Tally
	if err := at.Add(p, nil); err != nil {
		t.Fatal(err)
	}
	if err := atLater.Add(p, answered); err != nil {
		t.Fatal(err)
	}
	a, b := at.Truth(), atLater.Truth()
	dayImps := func(tr *Truth, day string) (n int64) {
		for _, c := range tr.Campaigns {
			for _, d := range c.Days {
				if d.Day == day {
					n += d.Impressions
				}
			}
		}
		return n
	}
	if dayImps(b, laterDay) == 0 || dayImps(a, laterDay) != 0 {
		t.Errorf("impressions on %s: %d when sent then, %d when sent on %s; want only the former", laterDay, dayImps(b, laterDay), dayImps(a, laterDay), today)
	}
	if b.Traffic.TimeCorrected <= a.Traffic.TimeCorrected {
		t.Errorf("sent 5 days later, %d events are time corrected, %d when sent on time: events older than 7 days by then should join them", b.Traffic.TimeCorrected, a.Traffic.TimeCorrected)
	}

	// Undelivered requests are left out.
	for i := range answered {
		if i%2 == 0 {
			answered[i] = 0
		}
	}
	var half Tally
	if err := half.Add(p, answered); err != nil {
		t.Fatal(err)
	}
	h := half.Truth()
	if h.Traffic.Undelivered == 0 || h.Traffic.Events+h.Traffic.Undelivered != int64(p.Events()) {
		t.Errorf("traffic %+v of %d events", h.Traffic, p.Events())
	}
	if err := half.Add(p, answered[:1]); err == nil {
		t.Error("Add accepted answers that do not match the plan")
	}
}

// TestNext checks that successive windows continue one campaign: users come
// back, and the tally over them counts each user once.
func TestNext(t *testing.T) {
	cfg := testConfig(t)
	cfg.IVT = nil
	cfg.Campaigns = testCampaigns(2)
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all Tally
	var sumReach int64
	now := cfg.End
	for i := range 4 {
		now = now.Add(6 * time.Hour)
		p, err := g.Next(now, 6*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if p.Events() == 0 {
			t.Fatalf("window %d is empty", i)
		}
		for _, ev := range p.events {
			if ev.mt != 0 && ev.flags&(evLate|evTooLate) == 0 && (ev.mt > now.UnixMilli() || ev.mt < now.Add(-6*time.Hour).UnixMilli()-int64(10*time.Minute/time.Millisecond)) {
				t.Fatalf("window %d has an event at %s, outside (%s, %s]", i, time.UnixMilli(ev.mt), now.Add(-6*time.Hour), now)
			}
		}
		sumReach += p.Truth().Campaigns[0].Frequency.Reach
		if err := all.Add(p, nil); err != nil {
			t.Fatal(err)
		}
	}
	reach := all.Truth().Campaigns[0].Frequency.Reach
	if reach >= sumReach || reach == 0 {
		t.Errorf("reach over four windows %d, sum of the windows' reach %d: users should come back", reach, sumReach)
	}
	other, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := all.Add(other, nil); err == nil {
		t.Error("Tally accepted a plan of another generator")
	}
}

func TestSizeFor(t *testing.T) {
	cfg := testConfig(t)
	cfg.Devices = 0
	cfg.SizeFor(20000)
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Events(); n < 18000 || n > 22000 {
		t.Errorf("sized for 20000 events, the plan has %d", n)
	}
}

func TestTemplate(t *testing.T) {
	tpl, err := parseTemplate("https://t.example.com/r/k=1&p=ab&mo=__OS__&x=__WHO_KNOWS__&bad=__not__&mt=__TS__&o=https://shop.example.com/a?b=__X__&c=1")
	if err != nil {
		t.Fatal(err)
	}
	got := string(tpl.appendTo(nil, fakeFiller{"OS": "0", "TS": "1700000000"}, func(b []byte) []byte { return append(b, "&vf=1"...) }))
	want := "/r/k=1&p=ab&mo=0&x=__WHO_KNOWS__&bad=__not__&mt=1700000000&vf=1&o=https://shop.example.com/a?b=__X__&c=1"
	if got != want {
		t.Fatalf("filled:\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{"https://t.example.com", "x/k=1"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q) accepted", bad)
		}
	}
}

type fakeFiller map[string]string

func (f fakeFiller) fill(name string) (string, bool) { v, ok := f[name]; return v, ok }

// FuzzParseTemplate: a template with nothing filled is the template itself,
// less its scheme and host.
func FuzzParseTemplate(f *testing.F) {
	for _, c := range testCampaigns(1)[0].Placements {
		f.Add(c.ImpressionURL)
		f.Add(c.ClickURL)
	}
	f.Add("/x/k=1&p=2&a=____&b=__A__B__&o=__X__")
	f.Fuzz(func(t *testing.T, raw string) {
		tpl, err := parseTemplate(raw)
		if err != nil {
			return
		}
		got := string(tpl.appendTo(nil, fakeFiller{}, nil))
		want := raw
		if i := strings.Index(raw, "://"); i >= 0 {
			want = raw[i+3+strings.IndexByte(raw[i+3:], '/'):]
		}
		if got != want {
			t.Fatalf("unfilled template %q gives %q, want %q", raw, got, want)
		}
	})
}

// TestRequestsNameTheirIVTKind: every monitoring-URL request of an injected
// invalid event names its kind, and only those do.
func TestRequestsNameTheirIVTKind(t *testing.T) {
	cfg := testConfig(t)
	cfg.IVT = UniformIVT(0.1)
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[IVTKind]int{}
	for _, r := range p.Requests {
		if r.IVT != "" {
			if r.Method != "GET" {
				t.Fatalf("a %s request names IVT kind %s", r.Method, r.IVT)
			}
			seen[r.IVT]++
		}
	}
	for _, k := range []IVTKind{IVTCrawler, IVTDataCentre, IVTRiskyDevice, IVTPlaceholder, IVTMacro} {
		if seen[k] == 0 {
			t.Errorf("no request names %s (%v)", k, seen)
		}
	}
}

// TestMediaTruth checks the cross-media truth against the rest of the
// truth: a medium with one placement reaches that placement's users,
// overlaps are symmetric, and with two media inclusion–exclusion gives the
// campaign's reach exactly.
func TestMediaTruth(t *testing.T) {
	cfg := testConfig(t)
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.Truth()
	var most, sum int64
	for _, c := range tr.Campaigns {
		if len(c.Media) != len(c.Placements) { // testCampaigns puts each placement on its own medium
			t.Fatalf("campaign %s: %d media for %d placements", c.ID, len(c.Media), len(c.Placements))
		}
		byName := map[string]MediaReach{}
		var exclusive int64
		for i, m := range c.Media {
			byName[m.Media] = m
			exclusive += m.Exclusive
			if m.Reach != c.Placements[i].Total.UV || m.Exclusive > m.Reach || m.Reach == 0 {
				t.Errorf("campaign %s medium %s: %+v, placement UV %d", c.ID, m.Media, m, c.Placements[i].Total.UV)
			}
		}
		for _, m := range c.Media {
			for o, n := range m.Overlap {
				if byName[o].Overlap[m.Media] != n || n > m.Reach {
					t.Errorf("campaign %s: overlap %s–%s is %d one way and %d the other", c.ID, m.Media, o, n, byName[o].Overlap[m.Media])
				}
			}
		}
		if exclusive > c.Frequency.Reach {
			t.Errorf("campaign %s: %d exclusive users, more than its reach %d", c.ID, exclusive, c.Frequency.Reach)
		}
		if len(c.Media) == 2 {
			a, b := c.Media[0], c.Media[1]
			if got := a.Reach + b.Reach - a.Overlap[b.Media]; got != c.Frequency.Reach {
				t.Errorf("campaign %s: %d + %d − %d = %d, reach is %d", c.ID, a.Reach, b.Reach, a.Overlap[b.Media], got, c.Frequency.Reach)
			}
			if a.Exclusive != a.Reach-a.Overlap[b.Media] {
				t.Errorf("campaign %s: %+v", c.ID, a)
			}
		}
		most, sum = max(most, c.Frequency.Reach), sum+c.Frequency.Reach
	}
	if tr.Reach < most || tr.Reach > sum || tr.Reach == sum {
		t.Errorf("reach of all campaigns %d; each campaign's at most %d, sum %d (the campaigns share devices)", tr.Reach, most, sum)
	}
}
