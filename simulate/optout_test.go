package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// TestOptOut checks browsers that opt out midway: from their opt-out time
// on, their requests carry the opt-out cookie and the truth leaves their
// events out exactly as if they had never been delivered, while the rest
// of the traffic does not change.
func TestOptOut(t *testing.T) {
	base := testConfig(t)
	base.Web, base.OptOut, base.AppOptOut = 0.3, 0, 0
	cfg := base
	cfg.OptOut = 0.5
	p0, err := Generate(base)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// The same traffic, request for request; only the opt-out flag differs.
	if len(p.Requests) != len(p0.Requests) {
		t.Fatalf("%d requests with opt-outs, %d without", len(p.Requests), len(p0.Requests))
	}
	optedOut := make([]int64, len(p.Requests)) // p0's answers, 0 where p opts out
	var requests, events int
	before, after := map[int32]bool{}, map[int32]bool{}
	for i := range p.Requests {
		r, r0 := p.Requests[i], p0.Requests[i]
		if r0.OptOut {
			t.Fatalf("request %d: opted out with OptOut 0", i)
		}
		r0.OptOut = r.OptOut
		if !reflect.DeepEqual(r, r0) {
			t.Fatalf("request %d differs with opt-outs on:\n%+v\n%+v", i, r, r0)
		}
		optedOut[i] = p0.Now.UnixNano()
		d := r.Device
		switch {
		case r.OptOut:
			if r.Method != "GET" || !r.Cookies || p.events[r.first].dev != d {
				t.Fatalf("request %d: opted out but not a browser that keeps cookies: %+v", i, r)
			}
			after[d] = true
			requests++
			events += r.Events
			optedOut[i] = 0
		case after[d]:
			t.Fatalf("request %d: browser %d opted out and then in again", i, d)
		case d >= 0 && p.Requests[i].Cookies:
			before[d] = true
		}
	}
	if requests == 0 {
		t.Fatal("no request carries the opt-out cookie")
	}
	midway := 0
	for d := range after {
		if before[d] {
			midway++
		}
	}
	if midway == 0 {
		t.Error("no browser counts before it opts out")
	}

	// The truth is that of the same traffic with the opted-out requests
	// undelivered.
	tr := p.Truth()
	var want Tally
	if err := want.Add(p0, optedOut); err != nil {
		t.Fatal(err)
	}
	wt := want.Truth()
	if !reflect.DeepEqual(tr.Campaigns, wt.Campaigns) || !reflect.DeepEqual(tr.IVT, wt.IVT) {
		t.Error("the truth counts opted-out events")
	}
	if tr.Traffic.OptedOut != int64(events) || wt.Traffic.Undelivered != int64(events) {
		t.Errorf("traffic %+v: want %d opted-out events", tr.Traffic, events)
	}
	if tr.Traffic.Events != int64(p.Events()) || tr.Traffic.Requests != int64(len(p.Requests)) {
		t.Errorf("traffic %+v: opted-out events are still sent", tr.Traffic)
	}
	if tr0 := p0.Truth(); tr0.Traffic.OptedOut != 0 || tr0.Campaigns[0].Total.Impressions <= tr.Campaigns[0].Total.Impressions {
		t.Errorf("without opt-outs: %d opted out, %d impressions (%d with)", tr0.Traffic.OptedOut,
			tr0.Campaigns[0].Total.Impressions, tr.Campaigns[0].Total.Impressions)
	}

	// The sender sends the opt-out cookie with exactly those requests.
	fc := newFakeCollector()
	srv := httptest.NewServer(fc)
	defer srv.Close()
	s, err := NewSender(srv.URL, DefaultSenderConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Send(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var wantTargets []string
	for _, r := range p.Requests {
		if r.OptOut {
			wantTargets = append(wantTargets, r.Target)
		}
	}
	slices.Sort(wantTargets)
	slices.Sort(fc.optedOut)
	if !slices.Equal(wantTargets, fc.optedOut) {
		t.Errorf("the server got %d requests with the opt-out cookie, the plan has %d", len(fc.optedOut), len(wantTargets))
	}
}

// optOutCall is an app device's opt-out call as the server reads it.
type optOutCall struct {
	typ  admeter.IDType
	form pseudo.Form
	can  pseudo.Canonical
}

// readOptOutCall reads an opt-out call's body the way the opt-out API does
// (optout/optouthttp: id_type in any case, form raw, md5 or left to the
// value: 32 hex digits are an MD5).
func readOptOutCall(tb testing.TB, r *Request) optOutCall {
	tb.Helper()
	var body struct {
		IDType string `json:"id_type"`
		ID     string `json:"id"`
		Form   string `json:"form"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		tb.Fatalf("opt-out call body %s: %v", r.Body, err)
	}
	typ, ok := admeter.ParseIDType(strings.ToLower(body.IDType))
	if !ok {
		tb.Fatalf("opt-out call names id type %q", body.IDType)
	}
	c := optOutCall{typ: typ, form: pseudo.FormRaw}
	switch {
	case body.Form == "md5", body.Form == "" && len(body.ID) == 32:
		c.form = pseudo.FormMD5
	case body.Form != "" && body.Form != "raw":
		tb.Fatalf("opt-out call has form %q", body.Form)
	}
	var reason pseudo.Reason
	if c.can, reason = pseudo.Canonicalize(typ, c.form, body.ID); reason != pseudo.ReasonOK {
		tb.Fatalf("opt-out call's %s in %s form is %s", typ, c.form, reason)
	}
	if r.Method != "POST" || r.Target != optOutPath || r.Events != 0 || r.Device < 0 || r.ClientIP == "" {
		tb.Fatalf("opt-out call %+v", r)
	}
	return c
}

// checkAppOptOuts checks the app opt-out calls of plans, taken in send
// order: a device calls at most once; the call names an identifier the
// device has and that the collector reads, the same, from every later
// event of the device; those events, and no earlier one, are marked
// dropped. It returns the calls and the devices that sent events both
// before and after theirs.
func checkAppOptOuts(t *testing.T, g *Generator, plans ...*Plan) (calls []optOutCall, midway int) {
	t.Helper()
	ua := useragent.New()
	called := map[int32]optOutCall{}
	before := map[int32]bool{}
	after := map[int32]bool{}
	for _, p := range plans {
		for i := range p.Requests {
			r := &p.Requests[i]
			if r.OptOutAPI {
				d := r.Device
				if _, ok := called[d]; ok {
					t.Fatalf("device %d calls the opt-out API twice", d)
				}
				dev := &g.pop.devices[d]
				c := readOptOutCall(t, r)
				if !dev.app() || int(d) >= g.pop.nNormal || !dev.hasID(c.typ) {
					t.Fatalf("device %d (class %d) opts out by its %s", d, dev.class, c.typ)
				}
				called[d] = c
				calls = append(calls, c)
				continue
			}
			views := collectorViews(t, ua, r)
			for j, ev := range p.eventsOf(i) {
				c, ok := called[ev.dev]
				if marked := ev.flags&evOptOutAPI != 0; marked != ok {
					t.Fatalf("request %d: device %d has called the opt-out API: %v; event marked dropped: %v", i, ev.dev, ok, marked)
				}
				if !ok {
					if _, opts := g.optOut[ev.dev]; opts && g.pop.devices[ev.dev].app() {
						before[ev.dev] = true
					}
					continue
				}
				after[ev.dev] = true
				if got, has := views[j].ids.Get(c.typ); !has || got != c.can {
					t.Fatalf("request %d: device %d opted out by its %s, which the collector does not find in its event (present %v)", i, ev.dev, c.typ, has)
				}
			}
		}
	}
	for d := range after {
		if before[d] {
			midway++
		}
	}
	return calls, midway
}

// TestAppOptOut checks app devices that opt out midway through the opt-out
// API: each calls once, naming an identifier the collector finds in its
// later events; the truth leaves those events out exactly as if they had
// never been delivered, unless the call went unanswered; and the rest of
// the traffic does not change.
func TestAppOptOut(t *testing.T) {
	base := testConfig(t)
	base.OptOut, base.AppOptOut, base.BatchFraction = 0, 0, 0
	cfg := base
	cfg.AppOptOut = 0.1
	p0, err := Generate(base)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Plan(cfg.Start, cfg.End, cfg.Now)
	if err != nil {
		t.Fatal(err)
	}

	calls, midway := checkAppOptOuts(t, g, p)
	if len(calls) < 50 || midway < len(calls)/5 {
		t.Fatalf("%d opt-out calls, %d devices with events before and after: want many of both", len(calls), midway)
	}
	seen := map[string]int{}
	for _, c := range calls {
		seen[c.typ.String()]++
		seen[c.form.String()]++
	}
	for _, want := range []string{"oaid", "idfa", "imei", pseudo.FormRaw.String(), pseudo.FormMD5.String()} {
		if seen[want] == 0 {
			t.Errorf("no opt-out call by %s (%v): the server's canonicalisation should see each", want, seen)
		}
	}

	// Without its calls, the plan is p0, request for request; only the
	// dropped mark differs. Opted-out events are p0's events undelivered.
	undelivered := make([]int64, len(p0.Requests))
	failed := make([]int64, len(p.Requests)) // every call unanswered
	var dropped, j int
	for i := range p.Requests {
		r := p.Requests[i]
		if r.OptOutAPI {
			continue
		}
		failed[i] = p.Now.UnixNano()
		r0 := p0.Requests[j]
		if !reflect.DeepEqual(r, r0) {
			t.Fatalf("request %d differs with app opt-outs on:\n%+v\n%+v", i, r, r0)
		}
		ev, ev0 := p.eventsOf(i)[0], p0.eventsOf(j)[0]
		undelivered[j] = p.Now.UnixNano()
		if ev.flags&evOptOutAPI != 0 {
			undelivered[j] = 0
			dropped++
		}
		ev.flags &^= evOptOutAPI
		if ev != ev0 {
			t.Fatalf("request %d: event %+v, without opt-outs %+v", i, ev, ev0)
		}
		j++
	}
	if j != len(p0.Requests) {
		t.Fatalf("%d requests besides the calls, %d without opt-outs", j, len(p0.Requests))
	}
	tr := p.Truth()
	var want Tally
	if err := want.Add(p0, undelivered); err != nil {
		t.Fatal(err)
	}
	wt := want.Truth()
	if !reflect.DeepEqual(tr.Campaigns, wt.Campaigns) || !reflect.DeepEqual(tr.IVT, wt.IVT) {
		t.Error("the truth counts events sent after an app's opt-out")
	}
	if tr.Traffic.OptedOut != int64(dropped) || tr.Traffic.OptOutCalls != int64(len(calls)) ||
		tr.Traffic.Events != int64(p.Events()) || tr.Traffic.Requests != int64(len(p.Requests)) {
		t.Errorf("traffic %+v: want %d opted-out events, %d calls, %d events and %d requests", tr.Traffic, dropped, len(calls), p.Events(), len(p.Requests))
	}

	// A call the server did not confirm opted nobody out.
	var unanswered Tally
	if err := unanswered.Add(p, failed); err != nil {
		t.Fatal(err)
	}
	ut := unanswered.Truth()
	if !reflect.DeepEqual(ut.Campaigns, p0.Truth().Campaigns) || ut.Traffic.OptedOut != 0 || ut.Traffic.OptOutCalls != 0 {
		t.Errorf("with every call unanswered the truth is not that of the traffic without opt-outs: %+v", ut.Traffic)
	}
}

// TestAppOptOutAcrossPlans checks the calls of successive plans (a
// Generator's windows, as admeter simulate and the demo send them): each
// device calls once, in the window of its opt-out time or earlier when an
// event of the device sent after that time comes first (a retry hours
// later), and then everything it sends in later plans is dropped; batched
// events of a device are never held past its call.
func TestAppOptOutAcrossPlans(t *testing.T) {
	cfg := testConfig(t)
	cfg.AppOptOut, cfg.BatchFraction, cfg.BatchSize = 0.1, 0.5, 40
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var plans []*Plan
	var tally Tally
	step := cfg.End.Sub(cfg.Start) / 6
	for w := range 6 {
		p, err := g.Plan(cfg.Start.Add(time.Duration(w)*step), cfg.Start.Add(time.Duration(w+1)*step), cfg.Now)
		if err != nil {
			t.Fatal(err)
		}
		if err := tally.Add(p, nil); err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
	}
	calls, midway := checkAppOptOuts(t, g, plans...)
	if len(calls) != len(g.appOptOuts) || midway == 0 {
		t.Errorf("%d calls for %d app opt-outs, %d midway", len(calls), len(g.appOptOuts), midway)
	}
	if tr := tally.Truth(); tr.Traffic.OptOutCalls != int64(len(calls)) || tr.Traffic.OptedOut == 0 || tr.Traffic.Batched == 0 {
		t.Errorf("traffic %+v: want %d calls, opted-out and batched events", tr.Traffic, len(calls))
	}

	// Once a device has called, whatever it sends later is dropped, even
	// events dated before its opt-out time: here the later half of the span
	// is sent first.
	g, err = NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mid := cfg.Start.Add(cfg.End.Sub(cfg.Start) / 2)
	second, err := g.Plan(mid, cfg.End, cfg.Now)
	if err != nil {
		t.Fatal(err)
	}
	first, err := g.Plan(cfg.Start, mid, cfg.Now)
	if err != nil {
		t.Fatal(err)
	}
	calls, _ = checkAppOptOuts(t, g, second, first)
	stale := 0
	for _, ev := range first.events {
		if at, ok := g.optOut[ev.dev]; ok && ev.flags&evOptOutAPI != 0 && at >= mid.UnixNano() {
			stale++
		}
	}
	if len(calls) != len(g.appOptOuts) || stale == 0 {
		t.Errorf("%d calls for %d app opt-outs; %d events sent after a call and dated before it", len(calls), len(g.appOptOuts), stale)
	}
}

// TestSenderAppOptOut checks that the sender makes each opt-out call as a
// barrier: when the server gets it, it has answered every earlier request of
// the plan and received no later one; a 429 is waited out and the call
// made again; a call the server refuses is counted failed, and the truth
// then counts that device's later events.
func TestSenderAppOptOut(t *testing.T) {
	cfg := testConfig(t)
	cfg.Devices, cfg.AppOptOut, cfg.BatchFraction, cfg.BatchSize = 600, 0.1, 0.5, 10
	p, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var positions []int // where the plan's calls are
	for i, r := range p.Requests {
		if r.OptOutAPI {
			positions = append(positions, i)
		}
	}
	if len(positions) < 10 {
		t.Fatalf("%d opt-out calls: want more", len(positions))
	}

	fc := newFakeCollector()
	var received []int // requests received when each call arrived
	attempts := 0
	fc.limit = func() bool {
		attempts++
		if attempts%2 == 1 {
			return true // every call is limited once
		}
		received = append(received, len(fc.targets))
		return false
	}
	// The server refuses the first call of a device that sends events after
	// it.
	refuse := -1
	for k, pos := range positions {
		for i := pos + 1; i < len(p.Requests) && refuse < 0; i++ {
			for _, ev := range p.eventsOf(i) {
				if ev.dev == p.Requests[pos].Device {
					refuse = k
				}
			}
		}
	}
	if refuse < 0 {
		t.Fatal("no device sends events after its opt-out call")
	}
	fc.fail = func(r *http.Request) bool {
		if r.URL.Path != optOutPath || attempts != 2*refuse+1 {
			return false
		}
		attempts++ // next call: limited once again
		received = append(received, -1)
		return true
	}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	s, err := NewSender(srv.URL, DefaultSenderConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Send(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(received) != len(positions) {
		t.Fatalf("the server got %d calls, the plan has %d", len(received), len(positions))
	}
	for k, pos := range positions {
		want := pos // every earlier request, calls included
		switch {
		case k == refuse:
			want = -1
		case k > refuse:
			want-- // the refused call is not in targets
		}
		if received[k] != want {
			t.Fatalf("call %d (request %d): the server had received %d requests, want %d", k, pos, received[k], want)
		}
	}
	if st.OptOuts != int64(len(positions)-1) || st.OptOutLimited != int64(len(positions)) || st.Failed != 1 || st.OptOutWait <= 0 {
		t.Errorf("stats: %d opt-outs, %d limited (waited %v), %d failed; want %d, %d, 1", st.OptOuts, st.OptOutLimited, st.OptOutWait, st.Failed, len(positions)-1, len(positions))
	}
	if st.Requests != int64(len(p.Requests)) || st.OK != st.Requests-1 || st.Answered[positions[refuse]] != 0 {
		t.Errorf("stats: %d requests, %d OK; want %d and one fewer", st.Requests, st.OK, len(p.Requests))
	}

	// The refused call's device counts after it; the others do not.
	var tally Tally
	if err := tally.Add(p, st.Answered); err != nil {
		t.Fatal(err)
	}
	refused := p.Requests[positions[refuse]].Device
	var dropped, kept int64
	for i := range p.Requests {
		for _, ev := range p.eventsOf(i) {
			switch {
			case ev.flags&evOptOut != 0: // a browser's opt-out cookie
				dropped++
			case ev.flags&evOptOutAPI == 0:
			case ev.dev == refused:
				kept++
			default:
				dropped++
			}
		}
	}
	tr := tally.Truth()
	if kept == 0 || tr.Traffic.OptedOut != dropped || tr.Traffic.OptOutCalls != st.OptOuts {
		t.Errorf("traffic %+v: want %d opted-out events (and %d of the refused device's counted), %d calls", tr.Traffic, dropped, kept, st.OptOuts)
	}
}
