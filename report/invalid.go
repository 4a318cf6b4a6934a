package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/store"
)

// DefaultExamples is the number of example devices per reason an invalid-
// traffic breakdown gives unless asked otherwise.
const DefaultExamples = 5

// Invalid is the evidence behind a campaign's invalid traffic: per reason,
// its events and example devices with the windows of their flagged events,
// so that a media partner can check a verdict against its own logs.
type Invalid struct {
	Campaign admeter.CampaignID
	From, To store.Date
	Timezone string
	Reasons  []store.ReasonSample
	// PlacementNames maps placement ids to names.
	PlacementNames map[admeter.PlacementID]string
	loc            *time.Location
}

// InvalidTraffic returns the invalid-traffic evidence of a campaign over
// req's range and placements (req.By and req.Filter are not used), with up
// to examples example devices per reason.
func (s *Service) InvalidTraffic(ctx context.Context, req Request, examples int) (*Invalid, error) {
	c, loc, f, t, err := s.scope(ctx, req.Tenant, req.Campaign, req.From, req.To)
	if err != nil {
		return nil, err
	}
	reasons, err := s.store.InvalidSamples(ctx, store.SampleQuery{Tenant: req.Tenant, Campaign: c.ID, Placements: req.Placements,
		From: f.In(loc), To: t.AddDays(1).In(loc), Examples: examples})
	if err != nil {
		return nil, fmt.Errorf("query invalid traffic: %w", err)
	}
	names := make(map[admeter.PlacementID]string, len(c.Placements))
	for _, p := range c.Placements {
		names[p.ID] = p.Name
	}
	return &Invalid{Campaign: c.ID, From: f, To: t, Timezone: c.Timezone, Reasons: reasons, PlacementNames: names, loc: loc}, nil
}

// ExampleKey returns the key an example device is shown under: a digest of
// its pseudonym and the campaign, so that it is stable within the campaign
// (a partner can see the same device again) and links to nothing outside
// it: not to the raw identifier, not to the pseudonym, not across
// campaigns.
func ExampleKey(campaign admeter.CampaignID, user admeter.Pseudonym) string {
	h := sha256.New()
	h.Write([]byte("admeter/ivt-example/v1\x00"))
	h.Write([]byte(campaign))
	h.Write([]byte{0})
	h.Write(user[:])
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ReasonText describes each invalid-traffic reason in English and Chinese.
var ReasonText = map[admeter.IVT][2]string{
	admeter.IVTCrawler:          {"known crawler, bot or non-browser user agent", "已知爬虫、机器人或非浏览器 UA"},
	admeter.IVTDataCentre:       {"address in a data-centre or hosting range", "来自机房或云主机 IP 段"},
	admeter.IVTMissingID:        {"no usable identifier where the channel must send one", "缺少必需的设备标识"},
	admeter.IVTBadID:            {"placeholder or malformed identifier", "占位或格式错误的设备标识"},
	admeter.IVTPlatformMismatch: {"identifiers or user agent contradict the platform", "设备标识或 UA 与平台不符"},
	admeter.IVTRiskyDevice:      {"SDK reports root, emulator, hook or ADB", "SDK 报告 root、模拟器、Hook 或 ADB"},
	admeter.IVTTimeWindow:       {"event time outside the accepted window", "事件时间超出可接受范围"},
	admeter.IVTUnreplacedMacro:  {"media left macros unreplaced", "媒体未替换宏"},
	admeter.IVTFrequency:        {"more events on one placement than a person can make", "单一广告位频次异常"},
	admeter.IVTOrphanClick:      {"click without a prior impression", "无曝光的点击"},
	admeter.IVTFastClick:        {"click faster than a person after the impression", "曝光后点击过快"},
	admeter.IVTAbnormalCTR:      {"click-through rate far above any person's", "点击率异常"},
	admeter.IVTNetworkHopping:   {"device on too many networks or regions within minutes", "设备短时间内跨多个网络或地区"},
	admeter.IVTConcentration:    {"one device or network holds an outsized share of a placement", "流量集中于少数设备或网络"},
}

type invalidJSON struct {
	Campaign string              `json:"campaign"`
	From     string              `json:"from"`
	To       string              `json:"to"`
	Timezone string              `json:"timezone"`
	Reasons  []invalidReasonJSON `json:"reasons"`
}

type invalidReasonJSON struct {
	Reason        string               `json:"reason"`
	Category      string               `json:"category"`
	Description   string               `json:"description"`
	DescriptionZh string               `json:"description_zh"`
	Impressions   int64                `json:"impressions"`
	Clicks        int64                `json:"clicks"`
	Devices       int64                `json:"devices"`
	Examples      []invalidExampleJSON `json:"examples"`
}

type invalidExampleJSON struct {
	Device        string `json:"device"`
	Placement     string `json:"placement"`
	PlacementName string `json:"placement_name,omitempty"`
	Impressions   int64  `json:"impressions"`
	Clicks        int64  `json:"clicks"`
	First         string `json:"first"`
	Last          string `json:"last"`
}

// MarshalJSON writes the breakdown, times in the campaign's zone.
func (v *Invalid) MarshalJSON() ([]byte, error) {
	loc := v.loc
	if loc == nil {
		loc = time.UTC
	}
	out := invalidJSON{Campaign: string(v.Campaign), From: v.From.String(), To: v.To.String(), Timezone: v.Timezone, Reasons: []invalidReasonJSON{}}
	for _, r := range v.Reasons {
		text := ReasonText[r.Reason]
		cat := "general"
		if r.Reason&admeter.SophisticatedIVT != 0 {
			cat = "sophisticated"
		}
		rj := invalidReasonJSON{Reason: r.Reason.String(), Category: cat, Description: text[0], DescriptionZh: text[1],
			Impressions: r.Impressions, Clicks: r.Clicks, Devices: r.Users, Examples: []invalidExampleJSON{}}
		for _, e := range r.Examples {
			rj.Examples = append(rj.Examples, invalidExampleJSON{Device: ExampleKey(v.Campaign, e.User), Placement: string(e.Placement),
				PlacementName: v.PlacementNames[e.Placement], Impressions: e.Impressions, Clicks: e.Clicks,
				First: e.First.In(loc).Format(time.RFC3339Nano), Last: e.Last.In(loc).Format(time.RFC3339Nano)})
		}
		out.Reasons = append(out.Reasons, rj)
	}
	return json.Marshal(out)
}
