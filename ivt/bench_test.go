package ivt

import (
	"net/netip"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// benchEvents are typical events: what the collector passes to Check.
func benchEvents(tb testing.TB) []struct {
	name string
	hit  Hit
	ua   string
	ip   netip.Addr
} {
	p := useragent.New()
	app := Hit{Channel: ChannelRelay, DeclaredOS: admeter.OSAndroid}
	appUA := "Dalvik/2.1.0 (Linux; U; Android 13; V2227A Build/TP1A.220624.014)"
	app.UA = p.Parse(appUA)
	for _, id := range []struct {
		t admeter.IDType
		f pseudo.Form
		v string
	}{
		{admeter.IDOAID, pseudo.FormRaw, "3c1a6f0e6b1f4b8a9b0e1f2d3c4b5a69"},
		{admeter.IDAndroidID, pseudo.FormMD5, "8d3ebd3654fb46a2832296669cf1b536"},
		{admeter.IDMAC, pseudo.FormMD5, "e3f5536a141811db40efd6400f1d0a4e"},
	} {
		_, r := pseudo.Canonicalize(id.t, id.f, id.v)
		app.AddID(id.t, id.f, id.v, r)
	}
	web := Hit{Channel: ChannelWeb}
	webUA := "Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
	web.UA = p.Parse(webUA)
	desktop := Hit{Channel: ChannelWeb}
	desktopUA := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	desktop.UA = p.Parse(desktopUA)
	crawler := Hit{Channel: ChannelWeb}
	crawlerUA := "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)"
	crawler.UA = p.Parse(crawlerUA)
	listed := Hit{Channel: ChannelWeb}
	listedUA := "Mozilla/5.0 (compatible; SeznamBot/3.2; +http://napoveda.seznam.cz/en/seznambot-intro/)"
	listed.UA = useragent.Info{} // as if the parser did not know it
	return []struct {
		name string
		hit  Hit
		ua   string
		ip   netip.Addr
	}{
		{"ValidApp", app, appUA, netip.MustParseAddr("14.16.20.30")},
		{"ValidWeChatWebView", web, webUA, netip.MustParseAddr("14.16.20.31")},
		{"ValidDesktop", desktop, desktopUA, netip.MustParseAddr("240e:3b7:3272:d8d0::1")},
		{"CrawlerParsed", crawler, crawlerUA, netip.MustParseAddr("110.249.201.1")},
		{"CrawlerListed", listed, listedUA, netip.MustParseAddr("77.75.77.1")},
	}
}

func BenchmarkCheck(b *testing.B) {
	cfg := DefaultConfig()
	cfg.AllowUA = []string{"admeter-probe"}
	cfg.DataCentres = benchPrefixes(b, 2000)
	d, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range benchEvents(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			h := bc.hit
			for b.Loop() {
				d.Check(&h, bc.ua, bc.ip)
			}
		})
	}
}

func BenchmarkCrawlerMatch(b *testing.B) {
	m, err := crawlers()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range benchEvents(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.ua)))
			for b.Loop() {
				m.match(bc.ua)
			}
		})
	}
}

// benchPrefixes returns n disjoint IPv4 /20s and n/4 IPv6 /32s.
func benchPrefixes(tb testing.TB, n int) []netip.Prefix {
	var out []netip.Prefix
	for i := range n {
		a := netip.AddrFrom4([4]byte{byte(20 + i>>4&0x7f), byte(i * 37), byte(i << 4), 0})
		out = append(out, netip.PrefixFrom(a, 20).Masked())
	}
	for i := range n / 4 {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x24, 0x08, byte(i>>8), byte(i)
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(b), 32))
	}
	return out
}

func BenchmarkDataCentre(b *testing.B) {
	set, err := newPrefixSet(benchPrefixes(b, 20000))
	if err != nil {
		b.Fatal(err)
	}
	v4, v6 := netip.MustParseAddr("14.16.20.30"), netip.MustParseAddr("240e:3b7:3272:d8d0::1")
	b.Run("IPv4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			set.contains(v4)
		}
	})
	b.Run("IPv6", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			set.contains(v6)
		}
	})
}
