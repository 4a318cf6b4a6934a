package storetest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/admeter/admeter"
)

// GenConfig shapes the events a [Generator] makes.
type GenConfig struct {
	// Tenant owns every event; DefaultTenant when empty.
	Tenant admeter.TenantID
	// Campaigns and Placements (per campaign) are how many there are;
	// 1 and 10 when zero.
	Campaigns, Placements int
	// Users is the number of distinct users; 100 000 when zero. A few users
	// see many ads (the distribution is skewed), most see one or two.
	Users int
	// Start is the event time of the first event and Step the time between
	// consecutive events (1 ms when zero).
	Start time.Time
	Step  time.Duration
	// IVTPercent is the share of events, in percent, flagged as invalid
	// traffic with one or two random reasons (0 by default: every event
	// valid, and the stream the same as before verdicts existed).
	IVTPercent int
}

// Generator makes a reproducible stream of realistic events: about 88%
// impressions, 6% clicks and 6% served; 10% without a user; 70% with an
// impression id, 1% of which repeat the previous one (an SDK retry, whose
// verdict may differ from the first's); 90% in China across 31 provinces;
// assorted devices, apps and networks; GenConfig.IVTPercent invalid.
type Generator struct {
	cfg    GenConfig
	r      *rand.Rand
	at     time.Time
	lastVF admeter.Pseudonym
	vf     int
	camps  []admeter.CampaignID
	places [][]admeter.PlacementID
	nets   []admeter.NetBlock
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64, cfg GenConfig) *Generator {
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.Campaigns <= 0 {
		cfg.Campaigns = 1
	}
	if cfg.Placements <= 0 {
		cfg.Placements = 10
	}
	if cfg.Users <= 0 {
		cfg.Users = 100_000
	}
	if cfg.Step <= 0 {
		cfg.Step = time.Millisecond
	}
	g := &Generator{cfg: cfg, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), at: cfg.Start.UTC()}
	for c := range cfg.Campaigns {
		g.camps = append(g.camps, GenCampaign(c))
		var ps []admeter.PlacementID
		for p := range cfg.Placements {
			ps = append(ps, GenPlacement(c, p))
		}
		g.places = append(g.places, ps)
	}
	for i := range 256 {
		g.nets = append(g.nets, admeter.BlockOf(netip.AddrFrom4([4]byte{100, 64, byte(i), 1})))
	}
	return g
}

// GenCampaign returns the id of the generator's campaign c (from 0).
func GenCampaign(c int) admeter.CampaignID {
	return admeter.CampaignID(fmt.Sprintf("%d", 20000000+c))
}

// GenPlacement returns the id of placement p (from 0) of campaign c.
func GenPlacement(c, p int) admeter.PlacementID {
	return admeter.PlacementID(fmt.Sprintf("g%02d%03d", c%100, p))
}

// Now returns the event time the next event will have.
func (g *Generator) Now() time.Time { return g.at }

var (
	genProvinces = []string{"北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
		"安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
		"云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆"}
	genCountries = []string{"US", "JP", "KR", "SG", "DE", "GB"}
	genModels    = []string{"iPhone15,2", "iPhone14,5", "Pixel 8", "SM-S9180", "V2304A", "PJZ110", "22081212C", "ALN-AL00", "NOH-AN00", "M2102K1C"}
	genApps      = [][2]string{{"新闻", "com.example.news"}, {"视频", "com.example.video"}, {"Weather", "com.example.weather"}, {"", ""}}
	genBrowsers  = []string{"", "Chrome", "Safari", "WeChat", "UCBrowser"}
	genVersions  = []string{"14", "13", "17.4", "18.1", "12", "4.2"}
)

// Fill overwrites every element of dst with the next events.
func (g *Generator) Fill(dst []admeter.Event) {
	r := g.r
	for i := range dst {
		c := r.IntN(len(g.camps))
		e := admeter.Event{
			Kind:       admeter.KindImpression,
			Tenant:     g.cfg.Tenant,
			Campaign:   g.camps[c],
			Placement:  g.places[c][r.IntN(len(g.places[c]))],
			At:         g.at,
			Received:   g.at.Add(time.Duration(r.IntN(2000)) * time.Millisecond),
			KeyVersion: 1,
		}
		g.at = g.at.Add(g.cfg.Step)
		switch k := r.IntN(100); {
		case k < 6:
			e.Kind = admeter.KindClick
		case k < 12:
			e.Kind = admeter.KindServed
		}
		if r.IntN(10) != 0 {
			// Skewed: u² puts most events on a few users.
			u := r.Float64()
			e.User, e.UserType = RandomID(0x55, 1+int(u*u*float64(g.cfg.Users))), admeter.IDOAID
		}
		if r.IntN(10) < 7 {
			if r.IntN(100) == 0 && !g.lastVF.IsZero() {
				e.ImpressionID = g.lastVF
			} else {
				g.vf++
				e.ImpressionID = RandomID(0x76, g.vf)
				g.lastVF = e.ImpressionID
			}
		}
		if r.IntN(10) != 0 {
			e.Region = admeter.Region{Country: "CN", Province: genProvinces[r.IntN(len(genProvinces))]}
		} else {
			e.Region = admeter.Region{Country: genCountries[r.IntN(len(genCountries))]}
		}
		e.OS = admeter.OS(1 + r.IntN(3))
		e.OSVersion = genVersions[r.IntN(len(genVersions))]
		e.DeviceType = admeter.DeviceType(1 + r.IntN(3))
		e.Model = genModels[r.IntN(len(genModels))]
		e.Browser = genBrowsers[r.IntN(len(genBrowsers))]
		e.Network = admeter.Network(r.IntN(3))
		app := genApps[r.IntN(len(genApps))]
		e.App, e.AppPackage = app[0], app[1]
		e.Net = g.nets[r.IntN(len(g.nets))]
		if r.IntN(2) == 0 {
			e.Area, _ = admeter.AreaOf(20+r.Float64()*20, 100+r.Float64()*20)
		}
		if g.cfg.IVTPercent > 0 && r.IntN(100) < g.cfg.IVTPercent {
			reasons := admeter.IVTReasons()
			e.IVT = reasons[r.IntN(len(reasons))]
			if r.IntN(4) == 0 {
				e.IVT |= reasons[r.IntN(len(reasons))]
			}
		}
		dst[i] = e
	}
}

// RandomID returns a pseudonym that looks like a real one (an HMAC output:
// 128 random-looking bits) made from tag and n: the same arguments give the
// same pseudonym. Stores compress structured test pseudonyms such as
// [UserID]'s far better than real ones, so benchmarks use these.
func RandomID(tag byte, n int) admeter.Pseudonym {
	var p admeter.Pseudonym
	x := uint64(n)<<8 | uint64(tag)
	binary.LittleEndian.PutUint64(p[:8], splitmix(&x))
	binary.LittleEndian.PutUint64(p[8:], splitmix(&x))
	return p
}

// splitmix is the SplitMix64 step: a fast, well-mixed bijection.
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
