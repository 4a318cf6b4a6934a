package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/admeter/admeter/simulate"
	"github.com/admeter/admeter/store"
)

// reachOut is the part of a reach report the accuracy check reads.
type reachOut struct {
	Advertisers int `json:"advertisers"`
	Threshold   int `json:"threshold"`
	Totals      struct {
		Reach                *int64 `json:"reach"`
		Impressions          int64  `json:"impressions"`
		AnonymousImpressions int64  `json:"anonymous_impressions"`
	} `json:"totals"`
	Groups []struct {
		Key            string `json:"key"`
		Reach          *int64 `json:"reach"`
		Impressions    int64  `json:"impressions"`
		ExclusiveReach *int64 `json:"exclusive_reach"`
	} `json:"groups"`
	Overlap struct {
		Keys  []string   `json:"keys"`
		Users [][]*int64 `json:"users"`
	} `json:"overlap"`
	Curve []struct {
		CumulativeReach *int64 `json:"cumulative_reach"`
	} `json:"curve"`
	Frequency []struct {
		Frequency string `json:"frequency"`
		Users     *int64 `json:"users"`
	} `json:"frequency"`
}

// n returns *p, or -1 for a withheld number.
func n(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// matchReach asserts that the cross-media reach reports at base equal the
// truth exactly: per campaign by medium (reach, exclusive reach and overlap
// of every medium, total reach and the frequency distribution) and by
// placement (reach and impressions of every placement), and for all the
// campaigns together (a user two campaigns reached counts once). The
// truth counts every event sent, valid or not: the reports are asked for
// all traffic.
func matchReach(t *testing.T, base, token string, tr simulate.Truth) {
	t.Helper()
	get := func(path, from, to, by string) reachOut {
		t.Helper()
		v := url.Values{"from": {from}, "to": {to}, "by": {by}, "filter": {"all"}}
		var out reachOut
		if st := apiCall(t, "GET", base+path+"&"+v.Encode(), token, nil, &out); st != 200 {
			t.Fatalf("GET %s by %s: %d", path, by, st)
		}
		return out
	}
	var ids []string
	first, last := "9999-12-31", "0000-01-01"
	for _, want := range tr.Campaigns {
		ids = append(ids, want.ID)
		from, to := want.Days[0].Day, want.Days[len(want.Days)-1].Day
		first, last = min(first, from), max(last, to)
		path := "/api/v1/campaigns/" + want.ID + "/reach?"

		media := get(path, from, to, "media")
		if n(media.Totals.Reach) != want.Frequency.Reach || media.Threshold != 0 || media.Advertisers != 1 {
			t.Errorf("campaign %s: reach %d (threshold %d, %d advertisers), truth %d", want.ID, n(media.Totals.Reach), media.Threshold, media.Advertisers, want.Frequency.Reach)
		}
		if last := media.Curve[len(media.Curve)-1]; n(last.CumulativeReach) != want.Frequency.Reach {
			t.Errorf("campaign %s: the incremental curve ends at %d, reach is %d", want.ID, n(last.CumulativeReach), want.Frequency.Reach)
		}
		byKey := map[string]int{}
		for i, g := range media.Groups {
			byKey[g.Key] = i
		}
		if len(media.Groups) != len(want.Media) {
			t.Errorf("campaign %s: %d media, truth %d", want.ID, len(media.Groups), len(want.Media))
		}
		col := map[string]int{}
		for i, k := range media.Overlap.Keys {
			col[k] = i
		}
		for _, m := range want.Media {
			g := media.Groups[byKey[m.Media]]
			if g.Key != m.Media || n(g.Reach) != m.Reach || n(g.ExclusiveReach) != m.Exclusive {
				t.Errorf("campaign %s medium %s: reach %d exclusive %d, truth %d %d", want.ID, m.Media, n(g.Reach), n(g.ExclusiveReach), m.Reach, m.Exclusive)
			}
			for _, o := range want.Media {
				if o.Media == m.Media {
					continue
				}
				if got := n(media.Overlap.Users[col[m.Media]][col[o.Media]]); got != m.Overlap[o.Media] {
					t.Errorf("campaign %s: overlap %s–%s %d, truth %d", want.ID, m.Media, o.Media, got, m.Overlap[o.Media])
				}
			}
		}
		// The truth's distribution ends at 10+, the report's at 20+.
		for i, b := range want.Frequency.Distribution {
			got := int64(0)
			if i < len(want.Frequency.Distribution)-1 {
				got = n(media.Frequency[i].Users)
			} else {
				for _, r := range media.Frequency[i:] {
					got += n(r.Users)
				}
			}
			if got != b.Users {
				t.Errorf("campaign %s: %s users %d, truth %d", want.ID, b.Frequency, got, b.Users)
			}
		}
		if len(media.Frequency) != store.MaxReachFrequency {
			t.Errorf("campaign %s: %d frequency buckets", want.ID, len(media.Frequency))
		}

		places := get(path, from, to, "placement")
		got := map[string]string{}
		for _, g := range places.Groups {
			got[g.Key] = fmt.Sprintf("reach %d impressions %d", n(g.Reach), g.Impressions)
		}
		for _, p := range want.Placements {
			if w := fmt.Sprintf("reach %d impressions %d", p.Total.UV, p.Total.Impressions-p.Total.AnonymousImpressions); got[p.ID] != w {
				t.Errorf("campaign %s placement %s: %s, truth %s", want.ID, p.ID, got[p.ID], w)
			}
		}
	}

	// Together, over every day any campaign had in its own zone (the
	// report reads the dates in the first campaign's zone: one day more on
	// each side holds them all).
	d0, _ := store.ParseDate(first)
	d1, _ := store.ParseDate(last)
	all := get("/api/v1/reach?campaigns="+strings.Join(ids, ","), d0.AddDays(-1).String(), d1.AddDays(1).String(), "media")
	if n(all.Totals.Reach) != tr.Reach || all.Advertisers != 1 || all.Threshold != 0 {
		t.Errorf("campaigns %v together: reach %d (%d advertisers, threshold %d), truth %d", ids, n(all.Totals.Reach), all.Advertisers, all.Threshold, tr.Reach)
	}
	if !t.Failed() {
		t.Logf("reach: %d users over %d campaigns, every medium's reach, exclusive reach and overlap match the truth", tr.Reach, len(ids))
	}
}
