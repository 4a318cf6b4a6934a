package simulate

import (
	"fmt"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/api"
)

// testNow is a fixed send time: 2025-11-20 15:00 in Shanghai.
var testNow = time.Date(2025, 11, 20, 7, 0, 0, 0, time.UTC)

// testCampaigns returns campaigns with the monitoring URLs the real
// campaign API hands out.
func testCampaigns(placements ...int) []Campaign {
	media := []string{"示例视频", "新闻客户端", "短视频", "门户网站"}
	var cs []Campaign
	for i, n := range placements {
		id := fmt.Sprintf("4821330%d", i+1)
		c := Campaign{ID: id, Timezone: "Asia/Shanghai", LandingURL: "https://shop.example.com/sale"}
		for j := range n {
			pid := fmt.Sprintf("pl%d%03d", i, j)
			c.Placements = append(c.Placements, Placement{
				ID: pid, Media: media[j%len(media)],
				ImpressionURL: api.ImpressionURL("https://track.example.com", admeter.CampaignID(id), admeter.PlacementID(pid)),
				ClickURL:      api.ClickURL("https://track.example.com", admeter.CampaignID(id), admeter.PlacementID(pid), c.LandingURL),
			})
		}
		cs = append(cs, c)
	}
	return cs
}

// testConfig returns a small config with every feature on.
func testConfig(tb testing.TB) Config {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Now = testNow
	cfg.Start, cfg.End = testNow.Add(-72*time.Hour), testNow
	cfg.Devices = 3000
	cfg.Campaigns = testCampaigns(4, 2)
	cfg.IVT = UniformIVT(0.08)
	return cfg
}
