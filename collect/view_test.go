package collect_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect"
	"github.com/admeter/admeter/geoip"
)

// last returns the last logged event, failing when none was logged since
// before.
func (f *fixture) last(t *testing.T, before int) admeter.Event {
	t.Helper()
	evs := f.log.all()
	if len(evs) != before+1 {
		t.Fatalf("logged %d events, want 1", len(evs)-before)
	}
	return evs[len(evs)-1]
}

// checkView checks that one valid event was logged since before, with the
// kind and the viewability and video fields of want.
func (f *fixture) checkView(t *testing.T, before int, want admeter.Event) {
	t.Helper()
	ev := f.last(t, before)
	if err := ev.Validate(); err != nil {
		t.Fatalf("logged an invalid event: %v", err)
	}
	got := admeter.Event{Kind: ev.Kind, View: ev.View, ViewArea: ev.ViewArea, ViewSeconds: ev.ViewSeconds,
		VideoDuration: ev.VideoDuration, VideoPlay: ev.VideoPlay, VideoProgress: ev.VideoProgress, VideoQuartiles: ev.VideoQuartiles}
	if got != want {
		t.Fatalf("logged %+v\nwant %+v", got, want)
	}
}

func TestViewabilityAndVideoPings(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name   string
		target string
		want   admeter.Event // the fields compared; Kind zero means rejected
		reject string
	}{
		{"impression starts a measurement", "&vf=a1&vx=0", admeter.Event{Kind: admeter.KindImpression, View: admeter.ViewStarted}, ""},
		{"impression of a video ad, query form", "?vf=a2&vx=0&vb=15.5&vg=1&vh=60&vi=3",
			admeter.Event{Kind: admeter.KindImpression, View: admeter.ViewStarted, VideoDuration: 15500 * time.Millisecond, VideoPlay: admeter.PlayAuto, ViewArea: 60, ViewSeconds: 3}, ""},
		{"plain impression has no view state", "&vf=a3", admeter.Event{Kind: admeter.KindImpression}, ""},
		{"served ping with vx=0 stays served", "&vf=a4&br=0&vx=0", admeter.Event{Kind: admeter.KindServed}, ""},
		{"viewable result", "&vf=a1&vx=1", admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewViewable}, ""},
		{"not viewable result with quartiles", "&vf=a2&vx=4&vj=1100", admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewNotViewable, VideoQuartiles: admeter.Quartile25 | admeter.Quartile50}, ""},
		{"unmeasurable result", "&vf=a3&vx=2", admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewUnmeasurable}, ""},
		{"strong interaction makes it viewable", "&vf=a5&vx=4&vk=1", admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewViewable}, ""},
		{"vk=0 changes nothing", "&vf=a6&vx=4&vk=0", admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewNotViewable}, ""},
		{"video start", "&vf=a2&vc=0", admeter.Event{Kind: admeter.KindVideo, VideoProgress: admeter.ProgressStart}, ""},
		{"video complete", "&vf=a2&vc=100&vb=15.5", admeter.Event{Kind: admeter.KindVideo, VideoProgress: admeter.Progress100, VideoDuration: 15500 * time.Millisecond}, ""},
		{"video ping without vf", "&vc=50", admeter.Event{Kind: admeter.KindVideo, VideoProgress: admeter.Progress50}, ""},
		{"a result wins over a progress point", "&vf=a7&vx=1&vc=25", admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewViewable}, ""},
		{"unreplaced macros are absent", "&vf=a8&vx=0&vb=__DURATION__&vg=__AUTOPLAY__&vc={VC}&vh=[M_VH]", admeter.Event{Kind: admeter.KindImpression, View: admeter.ViewStarted}, ""},
		{"vx out of its enum", "&vf=b1&vx=3", admeter.Event{}, "bad_viewability"},
		{"result without vf", "&vx=1", admeter.Event{}, "bad_viewability"},
		{"result with an unreplaced vf", "&vf=__VF__&vx=4", admeter.Event{}, "bad_viewability"},
		{"vh out of range", "&vf=b2&vh=0", admeter.Event{}, "bad_viewability"},
		{"vi out of range", "&vf=b2&vi=121", admeter.Event{}, "bad_viewability"},
		{"vk out of its enum", "&vf=b2&vx=4&vk=2", admeter.Event{}, "bad_viewability"},
		{"vc out of its enum", "&vf=b3&vc=30", admeter.Event{}, "bad_video"},
		{"vg out of its enum", "&vf=b3&vg=3", admeter.Event{}, "bad_video"},
		{"vj malformed", "&vf=b3&vx=1&vj=12", admeter.Event{}, "bad_video"},
		{"vb over two hours", "&vf=b3&vb=7200.5", admeter.Event{}, "bad_video"},
		{"vb negative", "&vf=b3&vb=-3", admeter.Event{}, "bad_video"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.log.all())
			target := f.prefix + tt.target
			if strings.HasPrefix(tt.target, "?") {
				target = "/x?k=12345678&p=pA1b2C&" + tt.target[1:]
			}
			w := f.get(target)
			if w.Code != 200 || w.Header().Get("Content-Type") != "image/gif" {
				t.Fatalf("answer %d %s, want the GIF either way", w.Code, w.Header().Get("Content-Type"))
			}
			if got := w.Header().Get("X-Admeter-Rejected"); got != tt.reject {
				t.Fatalf("rejected %q, want %q", got, tt.reject)
			}
			if tt.want.Kind == admeter.KindUnknown {
				if n := len(f.log.all()) - before; n != 0 {
					t.Fatalf("logged %d events, want none", n)
				}
				return
			}
			f.checkView(t, before, tt.want)
		})
	}

	// A result carries the impression's id, so a report can link them.
	evs := f.log.all()
	if evs[0].ImpressionID.IsZero() || evs[0].ImpressionID != evs[4].ImpressionID || evs[4].Kind != admeter.KindViewability {
		t.Fatal("the viewable result of vf=a1 does not carry the impression's id")
	}
}

func TestViewPingsOnClicksAreIgnored(t *testing.T) {
	f := newFixture(t, nil)
	w := f.get("/r/k=12345678&p=pA1b2C&vf=a1&vx=3&vc=30&o=https://shop.example.com/x")
	if w.Code != http.StatusFound {
		t.Fatalf("click answered %d", w.Code)
	}
	ev := f.last(t, 0)
	if ev.Kind != admeter.KindClick || ev.View != admeter.ViewNone || ev.VideoProgress != admeter.ProgressNone {
		t.Fatalf("click logged as %+v", ev)
	}
}

func TestViewRetriesAreLoggedOnce(t *testing.T) {
	f := newFixture(t, nil)
	steps := []struct {
		target string
		logged bool
	}{
		{"&vf=v1&vx=0", true},
		{"&vf=v1&vx=0", false}, // impression retry
		{"&vf=v1&vx=4", true},  // its result is another kind
		{"&vf=v1&vx=4", false}, // result retry
		{"&vf=v1&vx=1", true},  // a later viewable result is not a retry of "not viewable"
		{"&vf=v1&vx=1", false},
		{"&vf=v1&vc=0", true},
		{"&vf=v1&vc=25", true}, // each progress point once
		{"&vf=v1&vc=25", false},
		{"&vf=v1&vc=50", true},
		{"&vc=50", true}, // no id: nothing to deduplicate by
		{"&vc=50", true},
		{"&vf=v2&vx=4", true}, // another impression's result
	}
	for i, s := range steps {
		before := len(f.log.all())
		w := f.get(f.prefix + s.target)
		if got := len(f.log.all()) - before; (got == 1) != s.logged {
			t.Errorf("step %d %s: logged %d, want logged=%v", i, s.target, got, s.logged)
		}
		if dup := w.Header().Get("X-Admeter-Rejected") == "duplicate"; dup == s.logged {
			t.Errorf("step %d %s: duplicate=%v", i, s.target, dup)
		}
	}
}

func TestBeaconPOST(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct {
		target string
		want   int
	}{
		{f.prefix + "&vf=b1&vx=4", 200},
		{"/r/k=12345678&p=pA1b2C", http.StatusMethodNotAllowed},
	} {
		r := httptest.NewRequest("POST", "http://t.example.com"+tt.target, strings.NewReader("ignored"))
		r.RequestURI = tt.target
		r.RemoteAddr = "203.0.113.9:5555"
		w := httptest.NewRecorder()
		f.c.ServeMonitoring(w, r)
		if w.Code != tt.want {
			t.Errorf("POST %s: %d, want %d", tt.target, w.Code, tt.want)
		}
	}
	if evs := f.log.all(); len(evs) != 1 || evs[0].Kind != admeter.KindViewability || evs[0].View != admeter.ViewNotViewable {
		t.Fatalf("logged %+v, want the beacon's not-viewable result", evs)
	}
}

func TestBatchViewability(t *testing.T) {
	f := newFixture(t, nil)
	base := `"campaign":"12345678","placement":"pA1b2C"`
	tests := []struct {
		name   string
		item   string
		want   admeter.Event // Kind zero: rejected
		reason string        // part of the rejection reason
	}{
		{"impression starts a measurement", `"impression_id":"i1","view":"started","view_area":60,"view_seconds":"2"`,
			admeter.Event{Kind: admeter.KindImpression, View: admeter.ViewStarted, ViewArea: 60, ViewSeconds: 2}, ""},
		{"video impression", `"impression_id":"i2","view":"started","video_duration":30.25,"video_play":"manual"`,
			admeter.Event{Kind: admeter.KindImpression, View: admeter.ViewStarted, VideoDuration: 30250 * time.Millisecond, VideoPlay: admeter.PlayManual}, ""},
		{"viewable", `"type":"viewability","impression_id":"i1","view":"viewable"`, admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewViewable}, ""},
		{"not viewable with quartiles as a list", `"type":"viewability","impression_id":"i2","view":"not_viewable","video_quartiles":[25,50,75]`,
			admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewNotViewable, VideoQuartiles: admeter.Quartile25 | admeter.Quartile50 | admeter.Quartile75}, ""},
		{"unmeasurable", `"type":"viewability","impression_id":"i3","view":"unmeasurable"`, admeter.Event{Kind: admeter.KindViewability, View: admeter.ViewUnmeasurable}, ""},
		{"video start", `"type":"video","impression_id":"i2","video_progress":"start","video_play":1`,
			admeter.Event{Kind: admeter.KindVideo, VideoProgress: admeter.ProgressStart, VideoPlay: admeter.PlayAuto}, ""},
		{"video quartile with mask", `"type":"video","impression_id":"i2","video_progress":75,"video_quartiles":"1110"`,
			admeter.Event{Kind: admeter.KindVideo, VideoProgress: admeter.Progress75, VideoQuartiles: admeter.Quartile25 | admeter.Quartile50 | admeter.Quartile75}, ""},
		{"viewability without a result", `"type":"viewability","impression_id":"i1"`, admeter.Event{}, "needs its result"},
		{"viewability without an impression id", `"type":"viewability","view":"viewable"`, admeter.Event{}, "impression_id"},
		{"a result on an impression", `"impression_id":"i1","view":"viewable"`, admeter.Event{}, "type viewability"},
		{"view out of its enum", `"type":"viewability","impression_id":"i1","view":"half"`, admeter.Event{}, "view must be"},
		{"video without progress", `"type":"video","impression_id":"i2"`, admeter.Event{}, "needs video_progress"},
		{"progress out of its enum", `"type":"video","video_progress":30`, admeter.Event{}, "video_progress must be"},
		{"progress on an impression", `"video_progress":25`, admeter.Event{}, "type video"},
		{"play out of its enum", `"video_play":"sometimes"`, admeter.Event{}, "video_play must be"},
		{"duration too long", `"video_duration":7201`, admeter.Event{}, "video_duration"},
		{"area out of range", `"view_area":101`, admeter.Event{}, "view_area"},
		{"bad quartile", `"type":"video","video_progress":25,"video_quartiles":[30]`, admeter.Event{}, "not a quartile"},
		{"view fields on a click", `"type":"click","view":"viewable"`, admeter.Event{}, "click carries no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.log.all())
			r := httptest.NewRequest("POST", "/v1/events", strings.NewReader("[{"+base+","+tt.item+"}]"))
			w := httptest.NewRecorder()
			f.c.ServeBatch(w, r)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if tt.want.Kind == admeter.KindUnknown {
				if !strings.Contains(w.Body.String(), tt.reason) || len(f.log.all()) != before {
					t.Fatalf("answer %s, want a rejection naming %q and nothing logged", w.Body, tt.reason)
				}
				return
			}
			f.checkView(t, before, tt.want)
		})
	}
}

// clickIDCampaign adds campaign 87654321, whose clicks carry a click id in
// the parameter clid, to f's catalogue.
func clickIDCampaign(f *fixture, stopped bool) {
	f.cat.Replace([]*admeter.Campaign{
		{ID: "12345678", Tenant: "t_a", Name: "c", LandingURL: "https://shop.example.com/", Timezone: "Asia/Shanghai",
			Placements: []admeter.Placement{{ID: "pA1b2C", Campaign: "12345678", Name: "p", Media: "m"}}},
		{ID: "87654321", Tenant: "t_a", Name: "d", LandingURL: "https://shop.example.com/land?utm=a#top", Timezone: "Asia/Shanghai",
			Stopped: stopped, Attribution: admeter.Attribution{ClickIDParam: "clid"},
			Placements: []admeter.Placement{{ID: "pD", Campaign: "87654321", Name: "p", Media: "m"}}},
	})
}

func TestClickID(t *testing.T) {
	idRE := regexp.MustCompile(`[?&]clid=([0-9a-f]{32})(?:#|$)`)
	const click = "/r/k=87654321&p=pD&m11=abcdef0123456789"
	tests := []struct {
		name     string
		target   string
		hdr      []string
		stopped  bool
		failLog  bool
		wantDest string // with ID standing for the id; "" means no id expected
	}{
		{"landing URL keeps its query and fragment", click, nil, false, false, "https://shop.example.com/land?utm=a&clid=ID#top"},
		{"o= URL without a query", click + "&o=https://shop.example.com/item", nil, false, false, "https://shop.example.com/item?clid=ID"},
		{"an existing clid is replaced", click + "&o=https%3A%2F%2Fshop.example.com%2Fi%3Fclid%3Dmedia%26x%3D1%26%23f", nil, false, false, "https://shop.example.com/i?x=1&clid=ID#f"},
		{"trailing ? and &&", click + "&o=https://shop.example.com/i?a=1&&b=2&", nil, false, false, "https://shop.example.com/i?a=1&b=2&clid=ID"},
		{"campaign without click ids", "/r/k=12345678&p=pA1b2C&o=https://shop.example.com/i?a=1", nil, false, false, ""},
		{"opted-out browser gets none", click, []string{"Cookie", "admeter_optout=1"}, false, false, ""},
		{"GPC gets none", click, []string{"Sec-GPC", "1"}, false, false, ""},
		{"stopped campaign gets none", click, nil, true, false, ""},
		{"prefetch gets none", click, []string{"Sec-Purpose", "prefetch"}, false, false, ""},
		{"a click the log could not take gets none", click, nil, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			clickIDCampaign(f, tt.stopped)
			if tt.failLog {
				f.log.err = errTest
			}
			w := f.get(tt.target, tt.hdr...)
			if w.Code != http.StatusFound {
				t.Fatalf("answer %d", w.Code)
			}
			loc := w.Header().Get("Location")
			m := idRE.FindStringSubmatch(loc)
			if tt.wantDest == "" {
				if strings.Contains(loc, "clid=") && !strings.Contains(tt.target, "clid") {
					t.Fatalf("Location %q has a click id", loc)
				}
				for _, ev := range f.log.all() {
					if !ev.ClickID.IsZero() {
						t.Fatal("a click without an id in its URL has a ClickID")
					}
				}
				return
			}
			if m == nil {
				t.Fatalf("Location %q has no 32-hex-digit clid", loc)
			}
			if want := strings.Replace(tt.wantDest, "ID", m[1], 1); loc != want {
				t.Fatalf("Location %q\nwant     %q", loc, want)
			}
			ev := f.last(t, 0)
			if ev.Kind != admeter.KindClick || ev.ClickID != f.ps.Token("admeter/click-id/v1", []byte(m[1])) {
				t.Fatalf("the click's ClickID is not the pseudonym of the id in its URL")
			}
		})
	}

	// Every click gets its own id.
	f := newFixture(t, nil)
	clickIDCampaign(f, false)
	a, b := f.get(click).Header().Get("Location"), f.get(click).Header().Get("Location")
	if a == b {
		t.Fatalf("two clicks got the same id: %s", a)
	}
}

var errTest = &admeter.Error{Code: admeter.EINTERNAL, Message: "log is full"}

func TestLoggedMetricByKind(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, nil)
	geo, err := geoip.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect.New(collect.DefaultConfig(), f.cat, f.log, f.ps, geo, f.opt, f.optPS, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"&vf=m1&vx=0", "&vf=m1&vx=1", "&vf=m1&vc=25", "&vf=m1&vc=50", "&vf=m1&vx=7"} {
		r := httptest.NewRequest("GET", "http://t.example.com/", nil)
		r.RequestURI = f.prefix + target
		r.RemoteAddr = "203.0.113.9:5555"
		c.ServeMonitoring(httptest.NewRecorder(), r)
	}
	want := `
# HELP admeter_collect_logged_total Events appended to the durable log, by kind.
# TYPE admeter_collect_logged_total counter
admeter_collect_logged_total{kind="click"} 0
admeter_collect_logged_total{kind="conversion"} 0
admeter_collect_logged_total{kind="impression"} 1
admeter_collect_logged_total{kind="served"} 0
admeter_collect_logged_total{kind="video"} 2
admeter_collect_logged_total{kind="viewability"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "admeter_collect_logged_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(mustRejected(t, reg, "bad_viewability")); got != 1 {
		t.Errorf("rejected{reason=bad_viewability} = %v, want 1", got)
	}
}

// mustRejected returns the rejected-events counter of reason.
func mustRejected(t *testing.T, reg *prometheus.Registry, reason string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "admeter_collect_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no rejected_total{reason=%q}", reason)
	return nil
}
