package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/simulate"
)

// ivtReasonOf maps the simulator's general-IVT kinds to the reason the
// collector must give them.
var ivtReasonOf = map[simulate.IVTKind]admeter.IVT{
	simulate.IVTCrawler:     admeter.IVTCrawler,
	simulate.IVTDataCentre:  admeter.IVTDataCentre,
	simulate.IVTRiskyDevice: admeter.IVTRiskyDevice,
	simulate.IVTPlaceholder: admeter.IVTBadID | admeter.IVTMissingID,
	simulate.IVTMacro:       admeter.IVTUnreplacedMacro,
	kindTimeWindow:          admeter.IVTTimeWindow,
}

// kindTimeWindow marks events the simulator sends as valid but with an
// event time outside the collector's window (the SDK's late retries, more
// than 7 days old): the test's own truth, from the mt it sent.
const kindTimeWindow simulate.IVTKind = "time_window"

// outOfWindow reports whether a monitoring URL's mt is outside the
// collector's default window (7 days back, 5 minutes ahead) at now.
func outOfWindow(target string, now time.Time) bool {
	i := strings.Index(target, "&mt=")
	if i < 0 {
		return false
	}
	v := target[i+4:]
	if j := strings.IndexByte(v, '&'); j >= 0 {
		v = v[:j]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false
	}
	t := time.Unix(n, 0)
	if n > 1e12 {
		t = time.UnixMilli(n)
	}
	return t.Before(now.Add(-7*24*time.Hour)) || t.After(now.Add(5*time.Minute))
}

// TestGeneralIVTAccuracy sends simulated traffic with injected invalid
// traffic of known kinds, one request at a time, and scores the collector's
// verdict on every logged event against the simulator's truth: precision ≥
// 0.95 and recall ≥ 0.90 per general-IVT kind and overall, and under 1 % of
// valid traffic flagged.
func TestGeneralIVTAccuracy(t *testing.T) {
	cidrs := dataCentreList(t)
	m, base := MustRunMain(t, func(c *ServeConfig) { c.Fsync = "interval"; c.DataCentres = cidrs })
	_, c := setupCampaign(t, base, m.Config.DataDir, 3)

	kinds := sendIVTPlan(t, base, c, 11)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	events := readLog(t, m.Config.DataDir)
	if len(events) != len(kinds) {
		t.Fatalf("log has %d events, %d requests were logged", len(events), len(kinds))
	}

	per := map[simulate.IVTKind]*score{}
	var overall score
	valid, validFlagged := 0, 0
	for i, ev := range events {
		kind := kinds[i]
		want, general := ivtReasonOf[kind]
		for k, reason := range ivtReasonOf {
			s := per[k]
			if s == nil {
				s = &score{}
				per[k] = s
			}
			flagged := ev.IVT&reason != 0
			switch {
			case k == kind && flagged:
				s.tp++
			case k == kind:
				s.fn++
			case flagged && kind == "":
				s.fp++
			}
		}
		switch {
		case general && ev.IVT&want != 0:
			overall.tp++
		case general:
			overall.fn++
		case kind == "" && ev.IVT != 0:
			overall.fp++
		}
		if kind == "" {
			valid++
			if ev.IVT != 0 {
				validFlagged++
			}
		}
	}
	report := func(name string, s score) { s.check(t, name, 0.95, 0.90) }
	for _, k := range []simulate.IVTKind{simulate.IVTCrawler, simulate.IVTDataCentre, simulate.IVTRiskyDevice, simulate.IVTPlaceholder, simulate.IVTMacro, kindTimeWindow} {
		report(string(k), *per[k])
	}
	report("overall", overall)
	verdicts := make([]admeter.IVT, len(events))
	for i, ev := range events {
		verdicts[i] = ev.IVT
	}
	logConfusion(t, kinds, verdicts)
	rate := float64(validFlagged) / float64(max(1, valid))
	t.Logf("valid traffic flagged: %d of %d (%.2f%%)", validFlagged, valid, 100*rate)
	if rate >= 0.01 {
		t.Errorf("%.2f%% of valid traffic flagged; want under 1%%", 100*rate)
	}
}

// TestReportsNetOfInvalidTraffic: reports count valid traffic by default,
// show the invalid share next to it, give gross figures with filter=all, and
// break invalid traffic down by reason.
func TestReportsNetOfInvalidTraffic(t *testing.T) {
	m, base := MustRunMain(t, nil)
	tok, c := setupCampaign(t, base, m.Config.DataDir, 1)
	p := c.Placements[0].ID
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	send := func(q, ua string) {
		req, _ := http.NewRequest("GET", base+"/x/k="+c.ID+"&p="+p+q, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("", chrome)                                                     // valid browser
	send("&m11=netivt0000000001", "Dalvik/2.1.0 (Linux; U; Android 13)") // valid app
	send("", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	send("&m11=netivt0000000002&svl=%7B%22l1%22%3A1%2C%22l2%22%3A0%7D", "Dalvik/2.1.0 (Linux; U; Android 13)")
	day := time.Now().In(shanghai()).Format(time.DateOnly)
	u := base + "/api/v1/campaigns/" + c.ID + "/report?from=" + day + "&to=" + day
	type counts struct {
		Impressions        int64   `json:"impressions"`
		UV                 int64   `json:"uv"`
		ValidImpressions   int64   `json:"valid_impressions"`
		ValidUV            int64   `json:"valid_uv"`
		InvalidImpressions int64   `json:"invalid_impressions"`
		IVTRate            float64 `json:"ivt_rate"`
	}
	var rep struct {
		Total  counts `json:"total"`
		Filter string `json:"filter"`
		Rows   []struct {
			Reason string `json:"reason"`
			counts
		} `json:"rows"`
	}
	for i := 0; i < 150 && rep.Total.Impressions+rep.Total.InvalidImpressions < 4; i++ {
		apiCall(t, "GET", u, tok, nil, &rep)
		time.Sleep(20 * time.Millisecond)
	}
	if rep.Total.Impressions != 2 || rep.Total.InvalidImpressions != 2 || rep.Total.IVTRate != 0.5 || rep.Filter != "valid" {
		t.Fatalf("net report: %+v filter %q; want 2 valid, 2 invalid, rate 0.5", rep.Total, rep.Filter)
	}
	net := rep.Total
	if net.ValidImpressions != 2 || net.ValidUV != net.UV {
		t.Fatalf("net report's valid measures: %+v", net)
	}
	apiCall(t, "GET", u+"&filter=all", tok, nil, &rep)
	if rep.Total.Impressions != 4 || rep.Total.IVTRate != 0.5 || rep.Filter != "all" ||
		rep.Total.ValidImpressions != 2 || rep.Total.ValidUV != net.UV || rep.Total.UV <= net.UV {
		t.Fatalf("gross report: %+v; want 4 impressions, the same rate 0.5, and the net report's valid measures (%+v)", rep.Total, net)
	}
	apiCall(t, "GET", u+"&by=reason", tok, nil, &rep)
	reasons := map[string]int64{}
	for _, r := range rep.Rows {
		reasons[r.Reason] = r.Impressions
	}
	if reasons["valid"] != 2 || reasons["crawler_ua"] != 1 || reasons["risky_device"] != 1 {
		t.Fatalf("by reason: %v", reasons)
	}
	if st := apiCall(t, "GET", u+"&filter=some", tok, nil, nil); st != 400 {
		t.Fatalf("bad filter: %d, want 400", st)
	}
}

// sendIVTPlan sends a day of simulated app traffic to c with 5 % invalid
// traffic of every kind the simulator injects, one request at a time, and
// returns the simulator's kind of every event the collector logged, in log
// order ("" for valid traffic, kindTimeWindow for events sent as valid
// with an event time the collector must refuse).
func sendIVTPlan(t *testing.T, base string, c testCampaign, seed int64) []simulate.IVTKind {
	t.Helper()
	cfg := simulate.DefaultConfig()
	cfg.Seed, cfg.Devices, cfg.Web, cfg.BatchFraction, cfg.OptOut, cfg.AppOptOut = seed, 1500, 0, 0, 0, 0
	cfg.IVT = simulate.UniformIVT(0.05)
	cfg.Now = time.Now().Truncate(time.Second)
	cfg.Start, cfg.End = cfg.Now.Add(-24*time.Hour), cfg.Now
	var pls []simulate.Placement
	for _, p := range c.Placements {
		pls = append(pls, simulate.Placement{ID: p.ID, Media: "媒体", ImpressionURL: p.ImpressionURL, ClickURL: p.ClickURL})
	}
	cfg.Campaigns = []simulate.Campaign{{ID: c.ID, Timezone: "Asia/Shanghai", LandingURL: "https://shop.example.com/sale", Placements: pls}}
	cfg.SizeFor(6000)
	plan, err := simulate.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Send in order; remember the kind of every event the collector logged.
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var kinds []simulate.IVTKind
	for _, r := range plan.Requests {
		if r.Method != "GET" {
			continue
		}
		req, _ := http.NewRequest("GET", base+r.Target, nil)
		req.Header.Set("User-Agent", r.UserAgent)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 && resp.Header.Get("X-Admeter-Rejected") == "" {
			kind := r.IVT
			if kind == "" && outOfWindow(r.Target, time.Now()) {
				kind = kindTimeWindow
			}
			kinds = append(kinds, kind)
		}
	}
	return kinds
}

// logConfusion logs the confusion matrix of verdicts against the
// simulator's truth: one row per true kind ("valid" for valid traffic),
// with the number of its events and how many carry each reason (an event
// with two reasons counts in both columns) or none.
func logConfusion(t *testing.T, kinds []simulate.IVTKind, verdicts []admeter.IVT) {
	t.Helper()
	reasons := admeter.IVTReasons()
	rows := map[simulate.IVTKind][]int{}
	used := make([]bool, len(reasons)+1)
	var order []simulate.IVTKind
	for i, k := range kinds {
		if k == "" {
			k = "valid"
		}
		r := rows[k]
		if r == nil {
			r = make([]int, len(reasons)+2) // events, reasons…, none
			order = append(order, k)
		}
		r[0]++
		if verdicts[i] == 0 {
			r[len(reasons)+1]++
			used[len(reasons)] = true
		}
		for j, reason := range reasons {
			if verdicts[i]&reason != 0 {
				r[j+1]++
				used[j] = true
			}
		}
		rows[k] = r
	}
	slices.Sort(order)
	var b strings.Builder
	b.WriteString("confusion matrix (rows: truth; columns: verdict reasons)\n| truth | events |")
	for j, reason := range reasons {
		if used[j] {
			fmt.Fprintf(&b, " %s |", reason)
		}
	}
	b.WriteString(" none |\n")
	for _, k := range order {
		r := rows[k]
		fmt.Fprintf(&b, "| %s | %d |", k, r[0])
		for j := range reasons {
			if used[j] {
				fmt.Fprintf(&b, " %d |", r[j+1])
			}
		}
		fmt.Fprintf(&b, " %d |\n", r[len(reasons)+1])
	}
	t.Log(b.String())
}

// dataCentreList writes the operator's list of the cloud ranges the
// simulator relays from, and returns its path.
func dataCentreList(t *testing.T) string {
	t.Helper()
	cidrs := filepath.Join(t.TempDir(), "datacentres.txt")
	if err := os.WriteFile(cidrs, []byte("# test list\n47.92.0.0/14\n120.24.0.0/14\n121.40.0.0/14\n119.29.0.0/16\n115.159.0.0/16\n121.36.0.0/16\n52.80.0.0/16\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cidrs
}

// score counts a detector's true positives, false negatives and false
// positives for one kind of invalid traffic.
type score struct{ tp, fn, fp int }

// check logs s's precision and recall and fails t when they are below the
// bounds or nothing was scored.
func (s score) check(t *testing.T, name string, minPrec, minRec float64) {
	t.Helper()
	prec := float64(s.tp) / float64(max(1, s.tp+s.fp))
	rec := float64(s.tp) / float64(max(1, s.tp+s.fn))
	t.Logf("%-26s tp %5d fn %4d fp %4d  precision %.3f recall %.3f", name, s.tp, s.fn, s.fp, prec, rec)
	if s.tp+s.fn == 0 {
		t.Errorf("%s: no injected events to score", name)
		return
	}
	if prec < minPrec || rec < minRec {
		t.Errorf("%s: precision %.3f recall %.3f; want ≥ %.2f and ≥ %.2f", name, prec, rec, minPrec, minRec)
	}
}
