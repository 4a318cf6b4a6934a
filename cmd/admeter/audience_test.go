package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// audienceJSON is the audience endpoint's answer, as far as the test reads
// it.
type audienceJSON struct {
	Reach      int64 `json:"reach"`
	MinUsers   int64 `json:"min_users"`
	Repeated   bool  `json:"repeated"`
	Dimensions []struct {
		Dimension string `json:"dimension"`
		Cells     []struct {
			Value string `json:"value"`
			Users int64  `json:"users"`
		} `json:"cells"`
		Other *struct {
			Users int64 `json:"users"`
		} `json:"other"`
	} `json:"dimensions"`
	Noise *struct {
		Mechanism string  `json:"mechanism"`
		Epsilon   float64 `json:"epsilon"`
	} `json:"noise"`
	Budget struct {
		Spent     float64 `json:"spent"`
		Remaining float64 `json:"remaining"`
	} `json:"budget"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestAudienceMinUsersFloor: the binary refuses to start with a threshold
// below 50, from a flag or from the environment.
func TestAudienceMinUsersFloor(t *testing.T) {
	bin := admeterBinary(t)
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--audience-min-users", "10"}, ""},
		{"env", nil, "ADMETER_AUDIENCE_MIN_USERS=49"},
		{"budget", []string{"--audience-budget", "0.0001"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "d"), "--master-key", testMasterKey}, tc.args...)
			cmd := exec.Command(bin, args...)
			cmd.Env = os.Environ()
			if tc.env != "" {
				cmd.Env = append(cmd.Env, tc.env)
			}
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("admeter serve %v started", tc.args)
			}
			if !strings.Contains(string(out), "audience") {
				t.Errorf("the refusal does not name the audience setting:\n%s", out)
			}
		})
	}
}

// TestAudienceEndToEnd runs the real binary and tries to single out users
// through the audience endpoint: a media partner's small view, a user seen
// on one extra day only (difference attack), repeated noisy requests and
// the privacy budget. It also checks that every answer and refusal is
// audited and that no answer holds a user key.
func TestAudienceEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	p := startBinary(t, dataDir, "--ivt-interval", "0")
	base := p.base
	op, err := os.ReadFile(filepath.Join(dataDir, "operator.token"))
	if err != nil {
		t.Fatal(err)
	}
	opTok := strings.TrimSpace(string(op))
	newTenant := func(name, kind string) (id, token string) {
		var tn struct{ ID, Token string }
		if st := apiCall(t, "POST", base+"/api/v1/tenants", opTok, map[string]string{"name": name, "kind": kind}, &tn); st != 201 {
			t.Fatalf("create tenant %s: status %d", name, st)
		}
		return tn.ID, tn.Token
	}
	_, advTok := newTenant("品牌甲", "advertiser")
	_, otherTok := newTenant("品牌乙", "advertiser")
	mediaID, mediaTok := newTenant("媒体丙", "media")
	var c testCampaign
	if st := apiCall(t, "POST", base+"/api/v1/campaigns", advTok, map[string]any{
		"name": "春季活动", "landing_url": "https://shop.example.com/sale",
		"placements": []map[string]any{
			{"name": "资讯横幅", "media": "news.example.com", "media_tenant": mediaID, "categories": []string{"483"}},
			{"name": "视频贴片", "media": "video.example.com"},
		},
	}, &c); st != 201 {
		t.Fatalf("create campaign: status %d", st)
	}
	placeA, placeB := c.Placements[0].ID, c.Placements[1].ID

	// Days in the campaign's time zone (Asia/Shanghai): d(1) is five days
	// ago; every event is within the collector's 7-day window.
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, sh)
	d := func(i int) time.Time { return today.AddDate(0, 0, i-6).Add(12 * time.Hour) }
	date := func(i int) string { return d(i).Format(time.DateOnly) }

	var events []map[string]string
	device := func(n int) string { return fmt.Sprintf("a1b2c3d4e5f6%08d", n) }
	// 150 users on placement B on days 1–3; 45 on the media's placement
	// A on days 1–3 (an interest in category 483); the target, on B on
	// day 4 only, from an address abroad.
	for u := range 150 {
		for day := 1; day <= 3; day++ {
			events = append(events, map[string]string{"campaign": c.ID, "placement": placeB, "oaid": device(u), "os": "android",
				"ip": "114.114.114.114", "ts": fmt.Sprint(d(day).Unix())})
		}
	}
	for u := 150; u < 195; u++ {
		for day := 1; day <= 3; day++ {
			events = append(events, map[string]string{"campaign": c.ID, "placement": placeA, "oaid": device(u), "os": "android",
				"ip": "114.114.114.114", "ts": fmt.Sprint(d(day).Unix())})
		}
	}
	target := device(999)
	events = append(events, map[string]string{"campaign": c.ID, "placement": placeB, "oaid": target, "os": "android",
		"ip": "8.8.8.8", "ts": fmt.Sprint(d(4).Unix())})
	for i := 0; i < len(events); i += 200 {
		var res struct {
			Accepted int `json:"accepted"`
		}
		batch := events[i:min(i+200, len(events))]
		if st := apiCall(t, "POST", base+"/v1/events", advTok, batch, &res); st != 200 || res.Accepted != len(batch) {
			t.Fatalf("send events: status %d, %d of %d accepted", st, res.Accepted, len(batch))
		}
	}
	// Wait until the store has them all.
	want := int64(len(events))
	deadline := time.Now().Add(60 * time.Second)
	for {
		var rep struct {
			Total struct{ Impressions int64 }
		}
		apiCall(t, "GET", fmt.Sprintf("%s/api/v1/campaigns/%s/report?from=%s&to=%s&filter=all", base, c.ID, date(1), date(6)), advTok, nil, &rep)
		if rep.Total.Impressions >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d impressions loaded after 60s", rep.Total.Impressions, want)
		}
		time.Sleep(200 * time.Millisecond)
	}

	var bodies []string
	ask := func(token, query string) (int, audienceJSON) {
		t.Helper()
		var a audienceJSON
		resp, body := get(t, fmt.Sprintf("%s/api/v1/campaigns/%s/audience?%s", base, c.ID, query), map[string]string{"Authorization": "Bearer " + token})
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("audience?%s: %v: %s", query, err, body)
		}
		bodies = append(bodies, string(body))
		return resp.StatusCode, a
	}
	checkK := func(t *testing.T, a audienceJSON) {
		t.Helper()
		if a.Reach < a.MinUsers || a.MinUsers != 50 {
			t.Errorf("reach %d with k %d", a.Reach, a.MinUsers)
		}
		for _, dim := range a.Dimensions {
			for _, cell := range dim.Cells {
				if cell.Users < 50 {
					t.Errorf("%s %q published with %d users", dim.Dimension, cell.Value, cell.Users)
				}
			}
			if dim.Other != nil && dim.Other.Users < 50 {
				t.Errorf("%s other published with %d users", dim.Dimension, dim.Other.Users)
			}
		}
	}
	rangeQ := func(from, to int) string { return fmt.Sprintf("from=%s&to=%s", date(from), date(to)) }

	var week audienceJSON
	t.Run("Advertiser", func(t *testing.T) {
		st, a := ask(advTok, rangeQ(1, 3))
		if st != 200 || a.Reach != 195 {
			t.Fatalf("status %d reach %d (%+v), want 200 and 195", st, a.Reach, a.Error)
		}
		checkK(t, a)
		week = a
	})
	t.Run("DifferenceAttack", func(t *testing.T) {
		st, a := ask(advTok, rangeQ(1, 4))
		if st != 200 || a.Reach != 196 {
			t.Fatalf("status %d reach %d (%+v), want 200 and 196", st, a.Reach, a.Error)
		}
		checkK(t, a)
		// Subtract: every value published in both answers, and the rest
		// of each one-value-per-user dimension, must be equal or differ
		// by at least k.
		for _, da := range a.Dimensions {
			for _, dw := range week.Dimensions {
				if da.Dimension != dw.Dimension {
					continue
				}
				cw := map[string]int64{}
				var sa, sw int64
				for _, cell := range dw.Cells {
					cw[cell.Value], sw = cell.Users, sw+cell.Users
				}
				for _, cell := range da.Cells {
					sa += cell.Users
					if n, ok := cw[cell.Value]; ok && n != cell.Users && abs(n-cell.Users) < 50 {
						t.Errorf("%s %q differs by %d between the two ranges", da.Dimension, cell.Value, abs(n-cell.Users))
					}
				}
				if da.Dimension != "interest" && len(da.Cells) > 0 && len(da.Cells) == len(dw.Cells) {
					if r := abs((a.Reach - sa) - (week.Reach - sw)); r > 0 && r < 50 {
						t.Errorf("the rest of %s differs by %d between the two ranges", da.Dimension, r)
					}
				}
			}
		}
	})
	t.Run("MediaView", func(t *testing.T) {
		// The media sees placement A alone: 45 users, below k.
		st, a := ask(mediaTok, rangeQ(1, 3))
		// The count must not appear as a number of its own (ids in the
		// message may contain the digits).
		if st != 403 || a.Error == nil || a.Error.Code != "forbidden" || regexp.MustCompile(`\b45\b`).MatchString(a.Error.Message) {
			t.Errorf("media's view of 45 users: status %d %+v, want 403 without the count", st, a.Error)
		}
		if st, _ := ask(mediaTok, rangeQ(1, 3)+"&placement="+placeB); st != 404 {
			t.Errorf("media asking for another's placement: status %d, want 404", st)
		}
		if st, _ := ask(otherTok, rangeQ(1, 3)); st != 404 {
			t.Errorf("another advertiser: status %d, want 404", st)
		}
		if st, _ := ask(advTok, rangeQ(1, 3)+"&placement="+placeA); st != 403 {
			t.Errorf("the advertiser asking for placement A alone: status %d, want 403", st)
		}
		if st, _ := ask(advTok, rangeQ(1, 3)+"&user=x"); st != 400 {
			t.Errorf("an unknown parameter: status %d, want 400", st)
		}
	})
	t.Run("NoiseAndBudget", func(t *testing.T) {
		q := rangeQ(1, 3) + "&noise=laplace&epsilon=2"
		st, first := ask(advTok, q)
		if st != 200 || first.Noise == nil || first.Noise.Epsilon != 2 || first.Budget.Spent != 2 {
			t.Fatalf("noisy request: status %d noise %+v budget %+v (%+v)", st, first.Noise, first.Budget, first.Error)
		}
		checkK(t, first)
		for range 5 {
			_, a := ask(advTok, q)
			if a.Reach != first.Reach || !a.Repeated || a.Budget.Spent != 2 {
				t.Fatalf("repeat: reach %d repeated %v spent %v; want the first answer (%d) at no charge", a.Reach, a.Repeated, a.Budget.Spent, first.Reach)
			}
		}
		if st, a := ask(advTok, rangeQ(1, 2)+"&noise=gaussian&epsilon=2"); st != 200 || a.Budget.Remaining != 1 {
			t.Fatalf("second noisy request: status %d budget %+v (%+v)", st, a.Budget, a.Error)
		}
		st, a := ask(advTok, rangeQ(2, 3)+"&noise=laplace&epsilon=2")
		if st != 409 || a.Error == nil || !strings.Contains(a.Error.Message, "budget") {
			t.Errorf("request past the budget: status %d %+v, want 409 about the budget", st, a.Error)
		}
	})
	t.Run("NoUserKeys", func(t *testing.T) {
		hexKey := regexp.MustCompile(`[0-9a-f]{32,}`)
		for _, b := range bodies {
			if strings.Contains(b, target) || strings.Contains(b, device(0)) || hexKey.MatchString(b) {
				t.Errorf("an answer holds a device or user key: %s", b)
			}
		}
	})
	t.Run("Audit", func(t *testing.T) {
		var trail struct {
			Entries []struct {
				Action  string `json:"action"`
				Outcome string `json:"outcome"`
			} `json:"entries"`
		}
		if st := apiCall(t, "GET", base+"/api/v1/admin/audit?action=report.audience&limit=100", opTok, nil, &trail); st != 200 {
			t.Fatalf("audit: status %d", st)
		}
		ok, refused := 0, 0
		for _, e := range trail.Entries {
			if e.Action != "report.audience" {
				continue
			}
			if e.Outcome == "ok" {
				ok++
			} else {
				refused++
			}
		}
		if ok < 9 || refused < 5 {
			t.Errorf("audit holds %d answered and %d refused audience requests, want at least 9 and 5", ok, refused)
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
