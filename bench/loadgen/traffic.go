package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/admeter/admeter/simulate"
)

// maxPlanEvents bounds the events generated at once: the simulator holds a
// plan's events and targets in memory, so a large pool is built window by
// window, each plan dropped once its requests are copied into the pool.
const maxPlanEvents = 200_000

// pool is the traffic of a run: simulator requests serialised as they go on
// the wire, back to back in one buffer, so that sending one costs a write and
// no allocation.
type pool struct {
	buf  []byte
	ends []int // request i is buf[ends[i-1]:ends[i]] (ends[-1] = 0)
	// clicks and skipped count the GET requests that are clicks and the
	// batch (POST) requests left out.
	clicks, skipped int
}

// len returns the number of requests in the pool.
func (p *pool) len() int { return len(p.ends) }

// request returns request i mod len: a run that outgrows the pool starts it
// again from the beginning.
func (p *pool) request(i int) []byte {
	i %= len(p.ends)
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.buf[start:p.ends[i]]
}

// add appends a GET request for target, as a client sends it.
func (p *pool) add(host, target, ua string) {
	p.buf = append(p.buf, "GET "...)
	p.buf = append(p.buf, target...)
	p.buf = append(p.buf, " HTTP/1.1\r\nHost: "...)
	p.buf = append(p.buf, host...)
	p.buf = append(p.buf, "\r\nUser-Agent: "...)
	p.buf = append(p.buf, ua...)
	p.buf = append(p.buf, "\r\nAccept: */*\r\n\r\n"...)
	p.ends = append(p.ends, len(p.buf))
}

// readCampaign reads a campaign as the campaign API returns it (GET or POST
// /api/v1/campaigns), with its placements' monitoring URL templates.
func readCampaign(path string) (simulate.Campaign, error) {
	var cp simulate.Campaign
	b, err := os.ReadFile(path)
	if err != nil {
		return cp, fmt.Errorf("read campaign: %w", err)
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		return cp, fmt.Errorf("decode campaign %s: %w", path, err)
	}
	return cp, nil
}

// trafficConfig is the simulator configuration of a pool of about n
// requests for campaign cp: the documented default shape (OS and identifier
// mix, media profiles, clicks, br=0 pings, SDK retries, late arrivals, event
// times over the day before now), without batch requests, since the
// benchmark loads the monitoring-URL path, and without invalid traffic.
func trafficConfig(cp simulate.Campaign, n, devices int, seed int64, now time.Time) simulate.Config {
	cfg := simulate.DefaultConfig()
	cfg.Seed = seed
	// Truncated, so that no event time is ahead of the server's clock.
	cfg.Now = now.Truncate(time.Second)
	cfg.Start, cfg.End = cfg.Now.Add(-24*time.Hour), cfg.Now
	cfg.Campaigns = []simulate.Campaign{cp}
	cfg.BatchFraction = 0
	cfg.AppOptOut = 0 // opt-out API calls are not monitoring-URL load
	cfg.Devices = devices
	// A little more than n: the simulator sizes a plan by its expected
	// number of events, and the pool is cut at n.
	cfg.SizeFor(n + n/20 + 100)
	return cfg
}

// buildPool generates about n requests (exactly n unless the simulator
// falls short) with cfg, for a server at host.
func buildPool(cfg simulate.Config, n int, host string) (*pool, error) {
	gen, err := simulate.NewGenerator(cfg)
	if err != nil {
		return nil, fmt.Errorf("build traffic: %w", err)
	}
	p := &pool{
		ends: make([]int, 0, n),
		buf:  make([]byte, 0, n*(600+len(host))),
	}
	windows := max(1, (n+maxPlanEvents-1)/maxPlanEvents)
	step := cfg.End.Sub(cfg.Start) / time.Duration(windows)
	for w := range windows {
		start, end := cfg.Start.Add(time.Duration(w)*step), cfg.Start.Add(time.Duration(w+1)*step)
		if w == windows-1 {
			end = cfg.End
		}
		plan, err := gen.Plan(start, end, cfg.Now)
		if err != nil {
			return nil, fmt.Errorf("build traffic: %w", err)
		}
		for i := range plan.Requests {
			r := &plan.Requests[i]
			if r.Method != "GET" {
				p.skipped++
				continue
			}
			if p.len() == n {
				return p, nil
			}
			if strings.HasPrefix(r.Target, "/r") {
				p.clicks++
			}
			p.add(host, r.Target, r.UserAgent)
		}
	}
	if p.len() == 0 {
		return nil, fmt.Errorf("build traffic: the simulator made no requests")
	}
	return p, nil
}

// fields returns the target and User-Agent of request i.
func (p *pool) fields(i int) (target, ua string) {
	s := string(p.request(i))
	s = strings.TrimPrefix(s, "GET ")
	target, rest, _ := strings.Cut(s, " HTTP/1.1\r\n")
	_, rest, _ = strings.Cut(rest, "\r\nUser-Agent: ")
	ua, _, _ = strings.Cut(rest, "\r\n")
	return target, ua
}
