package ivt

import (
	"net/netip"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

// FuzzCheck checks that Check never panics, whatever the user agent, the
// identifier values and the declared OS, and that its verdict depends only
// on its input.
func FuzzCheck(f *testing.F) {
	for _, u := range realAgents {
		f.Add(u.ua, uint8(u.os), uint8(u.channel), oaid.v, uint8(1))
	}
	f.Add("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", uint8(0), uint8(1), "", uint8(0))
	f.Add("curl/8.4.0", uint8(1), uint8(1), "868049039501258", uint8(3))
	f.Add("", uint8(255), uint8(255), "\x00\xff", uint8(255))
	d := mustNew(f, Config{AllowUA: []string{"admeter-probe"}, DataCentres: benchPrefixes(f, 50), RequireID: []admeter.OS{admeter.OSAndroid}})
	ip := netip.MustParseAddr("20.1.16.1")
	f.Fuzz(func(t *testing.T, ua string, os, channel uint8, value string, typ uint8) {
		h := Hit{Channel: Channel(channel), DeclaredOS: admeter.OS(os), UA: parser.Parse(ua), Risk: admeter.Risk(typ)}
		for _, form := range []pseudo.Form{pseudo.FormRaw, pseudo.FormMD5, 0} {
			it := admeter.IDType(typ % 16)
			_, r := pseudo.Canonicalize(it, form, value)
			h.AddID(it, form, value, r)
		}
		v := d.Check(&h, ua, ip)
		if again := d.Check(&h, ua, ip); again != v {
			t.Fatalf("verdict changed: %v then %v", v, again)
		}
		if v&^(admeter.IVTCrawler|admeter.IVTDataCentre|admeter.IVTMissingID|admeter.IVTBadID|
			admeter.IVTPlatformMismatch|admeter.IVTRiskyDevice|admeter.IVTTimeWindow|admeter.IVTUnreplacedMacro) != 0 {
			t.Fatalf("unknown reason bits in %v", v)
		}
	})
}
