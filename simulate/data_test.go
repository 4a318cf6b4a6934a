package simulate

import (
	"net/netip"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/geoip"
	"github.com/admeter/admeter/useragent"
)

// TestProvinceBlocks checks every province's blocks against the embedded
// IP database the server uses, so that a relayed address lands where the
// simulator meant it to.
func TestProvinceBlocks(t *testing.T) {
	db, err := geoip.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, p := range provinces {
		total += p.weight
		for _, b := range p.blocks {
			for c := 0; c < 256; c += 5 {
				a := netip.AddrFrom4([4]byte{b[0], b[1], byte(c), byte(1 + c%254)})
				if r := db.Lookup(a); r.Country != "CN" || r.Province != p.name {
					t.Fatalf("%s: %s is in %q %q", p.name, a, r.Country, r.Province)
				}
			}
		}
	}
	if len(provinces) != 31 || total < 1400 || total > 1420 {
		t.Errorf("%d provinces with %.1f million people: want the 31 of the mainland, about 1,412 million", len(provinces), total)
	}
}

// TestUserAgents checks that the server's user-agent parser classifies the
// simulator's clients as intended: browsers get a cookie, spiders are bots,
// app HTTP clients are not browsers.
func TestUserAgents(t *testing.T) {
	p := useragent.New()
	browser := func(i useragent.Info) bool {
		return i.Browser != "" && !i.NonBrowser() && i.DeviceType != admeter.DeviceBot
	}
	for _, a := range webAgents {
		if i := p.Parse(a.ua); !browser(i) {
			t.Errorf("web agent parses as %+v, not a browser: %s", i, a.ua)
		}
	}
	for _, ua := range crawlerAgents {
		if i := p.Parse(ua); i.DeviceType != admeter.DeviceBot {
			t.Errorf("crawler parses as %+v, not a bot: %s", i, ua)
		}
	}
	g := &Generator{}
	pl := &placeInfo{}
	for _, d := range []device{{class: classAndroid}, {class: classIOS}, {class: classMacro}} {
		ua := userAgent(g, &d, pl)
		if i := p.Parse(ua); !i.NonBrowser() {
			t.Errorf("app client parses as %+v, a browser: %s", i, ua)
		}
	}
}
