package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/simevents"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/simulate"
)

// poolConfig is the simulated traffic the benchmark's events come from.
type poolConfig struct {
	Seed      int64
	Events    int       // about this many events in the pool
	Start     time.Time // first local midnight of the traffic
	Days      int       // days of traffic
	Campaigns int       // campaigns: one large, the rest sharing the remainder
	BigShare  float64   // the large campaign's share of the events
}

// Names of the simulated tenant and campaigns.
const (
	benchTenant   admeter.TenantID   = "bench"
	benchCampaign admeter.CampaignID = "big"
)

// benchMedia are the media of the simulated placements: the groups of the
// reach phase.
var benchMedia = []string{"今日头条", "抖音", "快手", "腾讯视频", "爱奇艺", "哔哩哔哩", "优酷", "微博", "腾讯新闻", "知乎"}

// campaigns returns the simulated campaigns: "big" with eight placements on
// different media, and n-1 others with two to four placements each, on the
// media of benchMedia in turn.
func campaigns(n int) (big simulate.Campaign, rest []simulate.Campaign) {
	media := benchMedia
	mk := func(id string, places int, m0 int) simulate.Campaign {
		c := simulate.Campaign{ID: id, Timezone: "Asia/Shanghai", LandingURL: "https://example.com/landing"}
		for j := range places {
			p := fmt.Sprintf("%s-p%d", id, j+1)
			q := "/x/k=" + id + "&p=" + p + standardMacros
			c.Placements = append(c.Placements, simulate.Placement{
				ID: p, Media: media[(m0+j)%len(media)],
				ImpressionURL: q,
				ClickURL:      strings.Replace(q, "/x/", "/r/", 1) + "&o=" + c.LandingURL,
			})
		}
		return c
	}
	big = mk(string(benchCampaign), 8, 0)
	for i := 1; i < n; i++ {
		rest = append(rest, mk(fmt.Sprintf("c%02d", i), 2+i%3, i))
	}
	return big, rest
}

// standardMacros are the macros of admeter's monitoring URLs (package api).
const standardMacros = "&mo=__OS__&ns=__IP__&m0=__OPENUDID__&m1a=__ANDROIDID__&m2=__IMEI__&m4=__AAID__" +
	"&m5=__IDFA__&m6=__MAC1__&m6a=__MAC__&m11=__OAID__&m11a=__OAID1__&m14=__CAID__&tr=__REQUESTID__&mt=__TS__"

// batchPath is the batch API's path, the only POST target of the pool's
// traffic.
const batchPath = "/v1/events"

// buildPool generates the pool: the traffic of cfg.Days days, generated one
// day at a time and sent at the end of that day, turned into events the way
// the collector turns requests into events (package internal/simevents).
//
// The traffic has no opt-out API calls and no conversion uploads, and
// buildPool fails if a plan has any other POST than the batch API's: the
// converter skips them where the one that built earlier store files
// failed, so a pool with them would not be the events of a file built
// before, which a run reuses.
func buildPool(cfg poolConfig, ps *pseudo.Pseudonymizer) ([]admeter.Event, error) {
	big, rest := campaigns(cfg.Campaigns)
	end := cfg.Start.AddDate(0, 0, cfg.Days)
	var pool []admeter.Event
	conv := simevents.New(ps, benchTenant)
	for i, part := range []struct {
		cs    []simulate.Campaign
		share float64
	}{{[]simulate.Campaign{big}, cfg.BigShare}, {rest, 1 - cfg.BigShare}} {
		if len(part.cs) == 0 || part.share <= 0 {
			continue
		}
		sc := simulate.DefaultConfig()
		sc.Seed = cfg.Seed + int64(i)*1_000_003
		sc.Now, sc.Start, sc.End = end, cfg.Start, end
		sc.Campaigns = part.cs
		sc.IVT = simulate.UniformIVT(0.03)
		sc.AppOptOut = 0   // the store benchmark loads events, not opt-out API calls
		sc.Conversions = 0 // nor conversion uploads (the default, made explicit)
		sc.SizeFor(int(float64(cfg.Events) * part.share))
		g, err := simulate.NewGenerator(sc)
		if err != nil {
			return nil, fmt.Errorf("generate traffic: %w", err)
		}
		for d := range cfg.Days {
			from := cfg.Start.AddDate(0, 0, d)
			to := from.AddDate(0, 0, 1)
			plan, err := g.Plan(from, to, to)
			if err != nil {
				return nil, fmt.Errorf("generate traffic: %w", err)
			}
			for i := range plan.Requests {
				if r := &plan.Requests[i]; r.Method == "POST" && r.Target != batchPath {
					return nil, fmt.Errorf("generate traffic: the simulator made a POST to %s; the store benchmark's pool must have none (bench/store/pool.go)", r.Target)
				}
			}
			pool, err = conv.Append(pool, plan)
			if err != nil {
				return nil, err
			}
		}
	}
	return pool, nil
}
