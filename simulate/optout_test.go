package simulate

import (
	"context"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
)

// TestOptOut checks browsers that opt out midway: from their opt-out time
// on, their requests carry the opt-out cookie and the truth leaves their
// events out exactly as if they had never been delivered, while the rest
// of the traffic does not change.
func TestOptOut(t *testing.T) {
	base := testConfig(t)
	base.Web, base.OptOut = 0.3, 0
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
