package simulate

import (
	"bytes"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

// postLinkConfig is testConfig with viewability, video and conversions on,
// and campaigns whose attribution settings differ.
func postLinkConfig(tb testing.TB) Config {
	tb.Helper()
	cfg := testConfig(tb)
	cfg.Viewability, cfg.Video, cfg.Conversions = 0.7, 0.5, 0.3
	cfg.Campaigns[0].Attribution = &Attribution{ClickWindowDays: 7, ViewWindowDays: 1,
		Rules: map[string]AttributionRule{"order": {ClickWindowDays: 30}}, ClickIDParam: "admeter_click_id"}
	cfg.Campaigns[1].Attribution = &Attribution{ClickWindowDays: 1, ViewWindowDays: 3}
	return cfg
}

// TestPostLinkPlan checks a plan with viewability, video and conversions:
// the same config gives the same truth; the pings leave the base counts as
// they are; every kind of outcome is there.
func TestPostLinkPlan(t *testing.T) {
	cfg := postLinkConfig(t)
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ja, jb bytes.Buffer
	ta, tb := a.Truth(), b.Truth()
	if err := ta.WriteJSON(&ja); err != nil {
		t.Fatal(err)
	}
	_ = tb.WriteJSON(&jb)
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
		t.Fatal("the same config gave two different truths")
	}
	c := ta.Conversions
	if c == nil || c.Stored == 0 || c.WithClickID == 0 || c.PostClick == 0 || c.PostView == 0 || c.Unattributed == 0 || c.TooOld == 0 || c.Duplicates == 0 {
		t.Fatalf("conversions lack a case: %+v", c)
	}
	var o Outcomes
	for _, ct := range ta.Campaigns {
		if ct.Outcomes == nil {
			t.Fatalf("campaign %s has no outcomes", ct.ID)
		}
		x := ct.Outcomes.Total
		o.Measurable += x.Measurable
		o.Viewable += x.Viewable
		o.ViewableUV += x.ViewableUV
		o.VideoStarts += x.VideoStarts
		o.VideoQ25 += x.VideoQ25
		o.VideoQ100 += x.VideoQ100
		o.Conversions += x.Conversions
	}
	if o.Measurable == 0 || o.Viewable == 0 || o.Viewable >= o.Measurable || o.ViewableUV == 0 || o.ViewableUV > o.Viewable ||
		o.VideoStarts == 0 || o.VideoQ25 == 0 || o.VideoQ100 == 0 || o.VideoQ100 >= o.VideoQ25 || o.Conversions != c.Attributed {
		t.Fatalf("outcomes out of shape: %+v (conversions %+v)", o, c)
	}

	// Viewability and video pings are neither impressions nor clicks.
	off := cfg
	off.Conversions = 0
	on, err := Generate(off)
	if err != nil {
		t.Fatal(err)
	}
	off.Viewability, off.Video = 0, 0
	plain, err := Generate(off)
	if err != nil {
		t.Fatal(err)
	}
	pt, ot := plain.Truth(), on.Truth()
	for i := range pt.Campaigns {
		if pt.Campaigns[i].Total != ot.Campaigns[i].Total {
			t.Errorf("campaign %d: %+v with pings, %+v without", i, ot.Campaigns[i].Total, pt.Campaigns[i].Total)
		}
	}
	if on.Events() <= plain.Events() {
		t.Errorf("the pings added no events: %d and %d", on.Events(), plain.Events())
	}
}

// TestPingsAsTheCollectorReadsThem parses every viewability and video ping
// of a plan with the collector's parser and checks the letters are what
// the truth assumes.
func TestPingsAsTheCollectorReadsThem(t *testing.T) {
	p, err := Generate(postLinkConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[admeter.Kind]int{}
	for i := range p.Requests {
		r := &p.Requests[i]
		if r.Method != "GET" || r.Events != 1 {
			continue
		}
		ev := &p.events[r.first]
		_, q, err := macro.ParseTarget(r.Target)
		if err != nil {
			t.Fatalf("%s: %v", r.Target, err)
		}
		switch ev.kind {
		case admeter.KindViewability:
			if v, ok := admeter.ParseVX(q.VX); !ok || v != ev.view || q.VF == "" || q.BR != "" {
				t.Fatalf("result %s: vx %q vf %q br %q, want %v", r.Target, q.VX, q.VF, q.BR, ev.view)
			}
			if ev.quart&quartPresent != 0 {
				if m, ok := admeter.ParseVJ(q.VJ); !ok || m != admeter.Quartiles(ev.quart&0xf) {
					t.Fatalf("result %s: vj %q, want %04b", r.Target, q.VJ, ev.quart&0xf)
				}
			}
		case admeter.KindVideo:
			if pr, ok := admeter.ParseVC(q.VC); !ok || pr != admeter.VideoProgress(ev.video) || q.VF == "" {
				t.Fatalf("video ping %s: vc %q, want %v", r.Target, q.VC, ev.video)
			}
		case admeter.KindImpression:
			if ev.view == admeter.ViewStarted && q.VX != "0" {
				t.Fatalf("measured impression %s: vx %q", r.Target, q.VX)
			}
			if ev.video&videoHasLength != 0 && q.VB == "" || ev.video&videoPlayMask != 0 && q.VG == "" {
				t.Fatalf("video impression %s: vb %q vg %q", r.Target, q.VB, q.VG)
			}
		case admeter.KindClick:
			if q.VX != "" || q.VB != "" || q.VC != "" {
				t.Fatalf("click %s carries viewability letters", r.Target)
			}
		}
		seen[ev.kind]++
	}
	if seen[admeter.KindViewability] == 0 || seen[admeter.KindVideo] == 0 {
		t.Fatalf("no pings: %v", seen)
	}
}

// TestAttributionRules checks the truth's attribution against each rule of
// the design, on hand-made touches.
func TestAttributionRules(t *testing.T) {
	day := int64(24 * time.Hour)
	l := &layout{
		campaigns: []campaignInfo{
			{id: "100", loc: shanghai, first: 0, count: 2, attr: (&Attribution{ClickWindowDays: 7, ViewWindowDays: 1,
				Rules: map[string]AttributionRule{"order": {ClickWindowDays: 30}}, ClickIDParam: "cid"}).domain()},
			{id: "200", loc: shanghai, first: 2, count: 1, attr: (&Attribution{ClickWindowDays: 1, ViewWindowDays: 3}).domain()},
			{id: "300", loc: shanghai, first: 3, count: 1, attr: (*Attribution)(nil).domain()},
		},
		places: []placeInfo{{campaign: 0, id: "a1"}, {campaign: 0, id: "a2"}, {campaign: 1, id: "b1"}, {campaign: 2, id: "c1"}},
	}
	const conv = int64(100) * 24 * int64(time.Hour)
	tests := []struct {
		name    string
		typ     string
		touches []touch
		clicks  map[uint64]touch
		click   uint64
		noUser  bool
		want    int // index in touches, -1 none; -2 the click id's click
	}{
		{"LastClickInWindow", "activation", []touch{{conv - 2*day, 0, true}, {conv - day, 2, true}, {conv - day/2, 3, true}}, nil, 0, false, 2},
		{"ClickOutsideWindowFallsBackToView", "activation", []touch{{conv - 2*day, 2, true}, {conv - 2*day - 1, 2, false}}, nil, 0, false, 1},
		{"ViewOutsideWindow", "activation", []touch{{conv - 2*day, 0, false}}, nil, 0, false, -1},
		{"LongerViewWindow", "activation", []touch{{conv - 2*day, 2, false}}, nil, 0, false, 0},
		{"ClickBeatsLaterView", "activation", []touch{{conv - 3*day, 0, true}, {conv - day/10, 3, false}}, nil, 0, false, 0},
		{"OrderByClickWithin30Days", "order", []touch{{conv - 20*day, 0, true}, {conv - day/10, 0, false}}, nil, 0, false, 0},
		{"OrderNeverByView", "order", []touch{{conv - day/10, 0, false}}, nil, 0, false, -1},
		{"OtherCampaignsViewForOrder", "order", []touch{{conv - day/10, 0, false}, {conv - day/5, 3, false}}, nil, 0, false, 1},
		{"TouchAfterConversion", "activation", []touch{{conv + 1, 0, true}}, nil, 0, false, -1},
		{"AtTheConversion", "activation", []touch{{conv, 0, true}}, nil, 0, false, 0},
		{"TieGoesToLowerCampaign", "activation", []touch{{conv - day/2, 3, true}, {conv - day/2, 1, true}}, nil, 0, false, 1},
		{"TieGoesToLowerPlacement", "activation", []touch{{conv - day/2, 1, false}, {conv - day/2, 0, false}}, nil, 0, false, 1},
		{"ClickIDFirst", "activation", []touch{{conv - day/2, 3, true}}, map[uint64]touch{7: {conv - 2*day, 0, true}}, 7, false, -2},
		{"ClickIDOutsideWindowFallsBack", "activation", []touch{{conv - day/2, 3, true}}, map[uint64]touch{7: {conv - 8*day, 0, true}}, 7, false, 0},
		{"ClickIDOnly", "order", nil, map[uint64]touch{7: {conv - 25*day, 0, true}}, 7, true, -2},
		{"ClickIDUnknown", "activation", nil, nil, 7, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &convTally{}
			c.init()
			c.touches[1] = tt.touches
			for k, v := range tt.clicks {
				c.clicks[k] = v
			}
			r := convRecord{at: conv, typ: tt.typ, key: 1, click: tt.click}
			if tt.noUser {
				r.key = 0
			}
			got, ok := c.attribute(l, &r)
			var want touch
			switch {
			case tt.want == -1:
				if ok {
					t.Fatalf("attributed to %+v, want none", got)
				}
				return
			case tt.want == -2:
				want = tt.clicks[tt.click]
			default:
				want = tt.touches[tt.want]
			}
			if !ok || got != want {
				t.Fatalf("attributed to %+v (%v), want %+v", got, ok, want)
			}
		})
	}
}

func TestClickIDFrom(t *testing.T) {
	tests := []struct {
		loc, param, want string
		ok               bool
	}{
		{"https://shop.example.com/app?from=ad&cid=abc123", "cid", "abc123", true},
		{"https://shop.example.com/app?cid=old&cid=new", "cid", "new", true},
		{"https://shop.example.com/app?cid=a%2Fb#frag", "cid", "a/b", true},
		{"https://shop.example.com/app?x=%zz&cid=ok", "cid", "ok", true},
		{"https://shop.example.com/app?from=ad", "cid", "", false},
		{"https://shop.example.com/app?cid=", "cid", "", false},
		{"", "cid", "", false},
		{"://bad", "cid", "", false},
	}
	for _, tt := range tests {
		got, ok := clickIDFrom(tt.loc, tt.param)
		if got != tt.want || ok != tt.ok {
			t.Errorf("clickIDFrom(%q, %q) = %q, %v; want %q, %v", tt.loc, tt.param, got, ok, tt.want, tt.ok)
		}
	}
}

// TestSenderClickIDs sends a plan with conversions to a server that
// redirects clicks with a click id and takes uploads: the uploads carry
// the click ids captured, and a conversion whose click id never came goes
// by its device ids or not at all, as the truth assumes.
func TestSenderClickIDs(t *testing.T) {
	cfg := postLinkConfig(t)
	cfg.AppOptOut, cfg.OptOut = 0, 0
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex // the handler runs on the sender's concurrent connections
		uploads [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == conversionPath:
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get(consentRefHeader) == "" {
				http.Error(w, "unauthenticated", http.StatusUnauthorized)
				return
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(r.Body)
			uploads = append(uploads, b.Bytes())
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"accepted":1,"duplicates":[],"opted_out":0,"rejected":[]}`))
		case strings.HasPrefix(r.URL.Path, "/r"):
			// Which clicks get an id depends on the click, not on the
			// order the concurrent connections deliver them in: the
			// outcome is the same on every run.
			h := fnv.New32a()
			_, _ = h.Write([]byte(r.RequestURI))
			n := int(h.Sum32() % 1000)
			if n%2 == 0 {
				http.Redirect(w, r, "https://shop.example.com/sale", http.StatusFound) // no id: some conversions lose theirs
				return
			}
			http.Redirect(w, r, "https://shop.example.com/sale?admeter_click_id=id"+strings.Repeat("x", n%3)+string(rune('a'+n%26)), http.StatusFound)
		default:
			w.WriteHeader(200)
		}
	}))
	defer srv.Close()
	scfg := DefaultSenderConfig()
	scfg.Token, scfg.Concurrency = "tok", 4
	scfg.Now = func() time.Time { return testNow }
	s, err := NewSender(srv.URL, scfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if st.ClickIDs == 0 || st.NoClickID == 0 || len(uploads) == 0 || st.ConversionRows == 0 {
		t.Fatalf("click ids %d, none %d, uploads %d, rows %d", st.ClickIDs, st.NoClickID, len(uploads), st.ConversionRows)
	}
	var tally Tally
	if err := tally.AddStats(p, st); err != nil {
		t.Fatal(err)
	}
	tr := tally.Truth()
	all := bytes.Join(uploads, nil)
	if got := int64(bytes.Count(all, []byte(`"click_id":"id`))); got < tr.Conversions.WithClickID {
		t.Fatalf("%d rows carry a click id, the truth stores %d conversions with one", got, tr.Conversions.WithClickID)
	}
	if got := int64(bytes.Count(all, []byte(`"conversion_id"`))); got != st.ConversionRows || got != tr.Conversions.Rows {
		t.Fatalf("%d rows uploaded, the sender counts %d, the truth %d", got, st.ConversionRows, tr.Conversions.Rows)
	}
	if c := tr.Conversions; c.WithClickID == 0 || c.PostClick == 0 {
		t.Fatalf("the case under test is missing: %+v", c)
	}
}
