package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter/simulate"
)

// postLinkCampaigns are the accuracy test's campaigns for viewability,
// video and conversions, all of one tenant, so that attribution competes
// across them: each attribution rule of the design is in play.
var postLinkCampaigns = []struct {
	name        string
	placements  int
	attribution map[string]any
}{
	// The example: last click within 7 days, else last impression
	// within 1 day; orders by click within 30 days, never by view; the
	// click redirect appends a click id.
	{"后链路 A", 3, map[string]any{"click_window_days": 7, "view_window_days": 1,
		"rules": map[string]any{"order": map[string]any{"click_window_days": 30, "view_window_days": 0}}, "click_id_param": "admeter_click_id"}},
	// A click window shorter than the view window: a click outside it falls
	// back to a view; registrations by click within 2 days only.
	{"后链路 B", 3, map[string]any{"click_window_days": 1, "view_window_days": 3,
		"rules": map[string]any{"registration": map[string]any{"click_window_days": 2, "view_window_days": 0}}}},
	// No view path at all, and its own click-id parameter.
	{"后链路 C", 2, map[string]any{"click_window_days": 3, "view_window_days": 0, "click_id_param": "cid"}},
}

// TestPostLinkAccuracy sends simulated traffic with viewability pings,
// video plays and conversions (by device id and by click id, resent,
// opted out, too old, from device farms) through the real wiring, and
// asserts that the report API's viewability, video and conversion measures
// equal the simulator's independently computed truth exactly: per
// campaign, placement and day, and in total; and that the base counts
// still equal the truth (matchTruth). Behavioural invalid-traffic
// judgement is off (the simulator keeps behavioural kinds away from these
// measures anyway); the general kinds are detected, data-centre relays by
// the operator's list.
func TestPostLinkAccuracy(t *testing.T) {
	cidrs := dataCentreList(t)
	m, base := MustRunMain(t, func(c *ServeConfig) {
		c.Fsync = "interval"
		c.IVTInterval = 0
		c.DataCentres = cidrs
	})
	token, ids := postLinkSetup(t, base, m.Config.DataDir)
	tr := simulatePostLinkTruth(t, base, token, ids)
	matchTruth(t, base, token, tr, 30*time.Second)
	matchOutcomes(t, base, token, tr)
}

// postLinkSetup creates the tenant and the campaigns of postLinkCampaigns,
// and checks that the campaign API shows their attribution settings the way
// the simulator reads them.
func postLinkSetup(t *testing.T, base, dataDir string) (string, []string) {
	t.Helper()
	op, err := os.ReadFile(filepath.Join(dataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	var tenant struct{ Token string }
	if st := apiCall(t, "POST", base+"/api/v1/tenants", strings.TrimSpace(string(op)),
		map[string]string{"name": "后链路品牌", "kind": "advertiser"}, &tenant); st != 201 {
		t.Fatalf("create tenant: status %d", st)
	}
	var ids []string
	for _, pc := range postLinkCampaigns {
		ps := []map[string]string{}
		for i := range pc.placements {
			ps = append(ps, map[string]string{"name": "位置" + string(rune('A'+i)), "media": []string{"示例视频", "新闻客户端", "短视频"}[i%3]})
		}
		var c testCampaign
		if st := apiCall(t, "POST", base+"/api/v1/campaigns", tenant.Token, map[string]any{
			"name": pc.name, "landing_url": "https://shop.example.com/app?from=ad", "timezone": "Asia/Shanghai",
			"placements": ps, "attribution": pc.attribution,
		}, &c); st != 201 {
			t.Fatalf("create campaign %s: status %d", pc.name, st)
		}
		var got simulate.Campaign
		apiCall(t, "GET", base+"/api/v1/campaigns/"+c.ID, tenant.Token, nil, &got)
		b, _ := json.Marshal(pc.attribution)
		var want simulate.Attribution
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if got.Attribution != nil && len(got.Attribution.Rules) == 0 {
			got.Attribution.Rules = nil // {} and none are the same
		}
		if got.Attribution == nil || !reflect.DeepEqual(*got.Attribution, want) {
			t.Fatalf("campaign %s: the campaign API shows attribution %+v, the campaign was created with %+v: the simulator's truth attributes by what the API shows", c.ID, got.Attribution, want)
		}
		ids = append(ids, c.ID)
	}
	return tenant.Token, ids
}

// simulatePostLinkTruth runs admeter simulate with viewability, video and
// conversions on and returns its truth, after checking that the traffic
// holds every case under test.
func simulatePostLinkTruth(t *testing.T, target, token string, campaigns []string) simulate.Truth {
	t.Helper()
	truthPath := filepath.Join(t.TempDir(), "truth.json")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Seed 20261127 puts an SDK placement in every campaign (profiles go
	// round the placements); --video 0.5 makes the first and third of
	// them video placements.
	err := (&SimulateCommand{Stdout: &out}).Run(ctx, []string{
		"--target", target, "--token", token, "--campaign", strings.Join(campaigns, ","), "--rate", "0",
		"--devices", "2500", "--seed", "20261127", "--ivt", "0.08", "--batch", "0.15", "--web", "0.15", "--optout", "0.05",
		"--app-optout", "0.02", "--days", "5", "--too-late", "0.01",
		"--viewability", "0.7", "--video", "0.5", "--conversions", "0.5", "--truth", truthPath,
	})
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	t.Logf("simulate:\n%s", out.String())
	b, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var tr simulate.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	c := tr.Conversions
	var total simulate.Outcomes
	for _, ct := range tr.Campaigns {
		if ct.Outcomes == nil {
			t.Fatalf("campaign %s has no outcomes in the truth", ct.ID)
		}
		o := ct.Outcomes.Total
		total.Measurable += o.Measurable
		total.Viewable += o.Viewable
		total.VideoStarts += o.VideoStarts
		total.VideoQ100 += o.VideoQ100
		total.PostClick += o.PostClick
		total.PostView += o.PostView
	}
	if c == nil || c.WithClickID < 5 || c.Unattributed == 0 || c.TooOld == 0 || c.Duplicates == 0 ||
		total.Measurable == 0 || total.Viewable == total.Measurable || total.VideoStarts == 0 || total.VideoQ100 == 0 ||
		total.PostClick == 0 || total.PostView == 0 {
		t.Fatalf("the simulated traffic lacks the cases under test: conversions %+v, outcomes %+v", c, total)
	}
	return tr
}

// outcomeFields are the report API's names of the Outcomes compared, with
// how to read each from the truth.
var outcomeFields = []struct {
	name string
	get  func(*simulate.Outcomes) int64
}{
	{"measurable_impressions", func(o *simulate.Outcomes) int64 { return o.Measurable }},
	{"viewable_impressions", func(o *simulate.Outcomes) int64 { return o.Viewable }},
	{"viewable_uv", func(o *simulate.Outcomes) int64 { return o.ViewableUV }},
	{"video_starts", func(o *simulate.Outcomes) int64 { return o.VideoStarts }},
	{"video_q25", func(o *simulate.Outcomes) int64 { return o.VideoQ25 }},
	{"video_q50", func(o *simulate.Outcomes) int64 { return o.VideoQ50 }},
	{"video_q75", func(o *simulate.Outcomes) int64 { return o.VideoQ75 }},
	{"video_q100", func(o *simulate.Outcomes) int64 { return o.VideoQ100 }},
	{"conversions", func(o *simulate.Outcomes) int64 { return o.Conversions }},
	{"post_click_conversions", func(o *simulate.Outcomes) int64 { return o.PostClick }},
	{"post_view_conversions", func(o *simulate.Outcomes) int64 { return o.PostView }},
	{"conversion_value", func(o *simulate.Outcomes) int64 { return o.ValueMicros }},
}

// reportRow is a report row read field by field, so that a missing field
// is told from a zero.
type reportRow map[string]json.RawMessage

// measure returns field name of the row: counts as integers, the
// conversion value in millionths; ok is false when the field is missing.
func (r reportRow) measure(name string) (int64, bool) {
	raw, ok := r[name]
	if !ok {
		return 0, false
	}
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if name != "conversion_value" {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000")[:6]
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	return w*1_000_000 + f, err1 == nil && err2 == nil
}

func (r reportRow) str(name string) string {
	var s string
	_ = json.Unmarshal(r[name], &s)
	return s
}

// matchOutcomes asserts that the report API's viewability, video and
// conversion measures (valid traffic, the default filter) equal the
// truth's: in total, by day, by placement and by placement and day.
func matchOutcomes(t *testing.T, base, token string, tr simulate.Truth) {
	t.Helper()
	for _, want := range tr.Campaigns {
		from, to := want.Days[0].Day, want.Days[len(want.Days)-1].Day
		get := func(by string) (rows []reportRow, total reportRow) {
			v := url.Values{"from": {from}, "to": {to}}
			if by != "" {
				v.Set("by", by)
			}
			var rep struct {
				Rows  []reportRow `json:"rows"`
				Total reportRow   `json:"total"`
			}
			if st := apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/report?%s", base, want.ID, v.Encode()), token, nil, &rep); st != 200 {
				t.Fatalf("campaign %s report by %q: status %d", want.ID, by, st)
			}
			return rep.Rows, rep.Total
		}
		// The conversions wait for the loader like the events do.
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, total := get("")
			n, _ := total.measure("conversions")
			m, _ := total.measure("measurable_impressions")
			if n >= want.Outcomes.Total.Conversions && m >= want.Outcomes.Total.Measurable || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		same := func(what string, got reportRow, w simulate.Outcomes) {
			t.Helper()
			var diffs []string
			for _, f := range outcomeFields {
				g, ok := got.measure(f.name)
				switch {
				case !ok && got != nil:
					diffs = append(diffs, f.name+" missing")
				case g != f.get(&w):
					diffs = append(diffs, fmt.Sprintf("%s %d, truth %d", f.name, g, f.get(&w)))
				}
			}
			if len(diffs) > 0 {
				t.Errorf("campaign %s %s: %s", want.ID, what, strings.Join(diffs, "; "))
			}
		}
		_, total := get("")
		same("total", total, want.Outcomes.Total)

		rows, _ := get("day")
		byDay := map[string]reportRow{}
		for _, r := range rows {
			byDay[r.str("day")] = r
		}
		wantDays := map[string]simulate.Outcomes{}
		for _, d := range want.Outcomes.Days {
			wantDays[d.Day] = d.Outcomes
		}
		for day, r := range byDay {
			same("day "+day, r, wantDays[day])
		}
		for day, w := range wantDays {
			if byDay[day] == nil {
				same("day "+day+" (no row)", reportRow{}, w)
			}
		}

		for _, by := range []string{"placement", "placement,day"} {
			rows, _ := get(by)
			got := map[string]reportRow{}
			for _, r := range rows {
				got[r.str("placement")+" "+r.str("day")] = r
			}
			wantCells := map[string]simulate.Outcomes{}
			for _, p := range want.Outcomes.Placements {
				if by == "placement" {
					wantCells[p.ID+" "] = p.Total
					continue
				}
				for _, d := range p.Days {
					wantCells[p.ID+" "+d.Day] = d.Outcomes
				}
			}
			for k, r := range got {
				same(by+" "+k, r, wantCells[k])
			}
			for k, w := range wantCells {
				if got[k] == nil {
					same(by+" "+k+" (no row)", reportRow{}, w)
				}
			}
		}

		// The conversions report counts the same conversions, with the
		// time-to-convert distribution.
		var conv map[string]json.RawMessage
		v := url.Values{"from": {from}, "to": {to}}
		if st := apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/conversions?%s", base, want.ID, v.Encode()), token, nil, &conv); st != 200 {
			t.Errorf("campaign %s conversions report: status %d", want.ID, st)
		} else {
			var ctotal reportRow
			_ = json.Unmarshal(conv["total"], &ctotal)
			if n, ok := ctotal.measure("conversions"); !ok || n != want.Outcomes.Total.Conversions {
				t.Errorf("campaign %s conversions report: total conversions %d (present %v), truth %d", want.ID, n, ok, want.Outcomes.Total.Conversions)
			}
		}
		if !t.Failed() {
			o := want.Outcomes.Total
			t.Logf("campaign %s: %d measurable, %d viewable, %d video starts, %d conversions (%d post-click, %d post-view, %.2f CNY): every number matches the truth",
				want.ID, o.Measurable, o.Viewable, o.VideoStarts, o.Conversions, o.PostClick, o.PostView, o.ConversionValue)
		}
	}
}
