package ivt

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
	"github.com/admeter/admeter/useragent"
)

// parser is shared: building medama's trie takes a while.
var parser = useragent.New()

// id is one identifier as it arrives.
type id struct {
	t admeter.IDType
	f pseudo.Form
	v string
}

// Identifier values: valid, placeholder and malformed.
var (
	oaid       = id{admeter.IDOAID, pseudo.FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"}
	oaidZero   = id{admeter.IDOAID, pseudo.FormRaw, "00000000-0000-0000-0000-000000000000"}
	oaidBug    = id{admeter.IDOAID, pseudo.FormMD5, "0ed86b8d2dfe3691c7e6c7f081c8e667"} // md5("OAID")
	idfa       = id{admeter.IDIDFA, pseudo.FormRaw, "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E"}
	idfaZero   = id{admeter.IDIDFA, pseudo.FormRaw, "00000000-0000-0000-0000-000000000000"}
	idfaNoDash = id{admeter.IDIDFA, pseudo.FormRaw, "E2DFA89F9A4B4D2C8C5E3F0A1B2C3D4E"}
	idfv       = id{admeter.IDIDFV, pseudo.FormRaw, "5B9D9A0C-2E4F-4A1B-9C3D-7E6F5A4B3C2D"}
	caid       = id{admeter.IDCAID, pseudo.FormMD5, "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
	imei       = id{admeter.IDIMEI, pseudo.FormRaw, "868049039501257"} // the Tencent documentation's example
	imeiLuhn   = id{admeter.IDIMEI, pseudo.FormRaw, "868049039501258"}
	imei14     = id{admeter.IDIMEI, pseudo.FormRaw, "86804903950125"}
	meid       = id{admeter.IDIMEI, pseudo.FormRaw, "A1000049C0FFEE"}
	imeiMD5    = id{admeter.IDIMEI, pseudo.FormMD5, "8d3ebd3654fb46a2832296669cf1b536"}
	imeiZero   = id{admeter.IDIMEI, pseudo.FormMD5, "5284047f4ffb4e04824a2fd1d1f0cd62"} // md5("000000000000000")
	imeiNoHex  = id{admeter.IDIMEI, pseudo.FormMD5, "8d3ebd3654fb46a2832296669cf1b53z"}
	androidID  = id{admeter.IDAndroidID, pseudo.FormMD5, "6f1ed002ab5595859014ebf0951522d9"}
	aaid       = id{admeter.IDAAID, pseudo.FormRaw, "38400000-8cf0-11bd-b23e-10b96e40000d"}
	macSDK     = id{admeter.IDMAC, pseudo.FormMD5, "e3f5536a141811db40efd6400f1d0a4e"} // md5("020000000000")
)

// hit builds a Hit the way the collector does: ua parsed, identifiers
// canonicalised by pseudo and recorded.
func hit(c Channel, declared admeter.OS, ua string, ids ...id) *Hit {
	h := &Hit{Channel: c, DeclaredOS: declared, UA: parser.Parse(ua)}
	for _, x := range ids {
		_, r := pseudo.Canonicalize(x.t, x.f, x.v)
		h.AddID(x.t, x.f, x.v, r)
	}
	return h
}

func mustNew(tb testing.TB, cfg Config) *Detector {
	tb.Helper()
	d, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

const (
	dalvikUA  = "Dalvik/2.1.0 (Linux; U; Android 13; V2227A Build/TP1A.220624.014)"
	cfnUA     = "NewsArticle/9.2.1 CFNetwork/1568.200.51 Darwin/24.1.0"
	chromeUA  = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
	safariUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1"
	desktopUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

var homeIP = netip.MustParseAddr("14.16.20.30")

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // part of the error, "" for success
	}{
		{"Default", DefaultConfig(), ""},
		{"Zero", Config{}, ""},
		{"Allow", Config{AllowUA: []string{" admeter-probe ", "UptimeRobot"}}, ""},
		{"AllowTooShort", Config{AllowUA: []string{"bot"}}, `allow_ua[0] "bot" is shorter than 4 bytes`},
		{"AllowEmpty", Config{AllowUA: []string{"ok-probe", "  "}}, "allow_ua[1]"},
		{"UnknownOS", Config{RequireID: []admeter.OS{admeter.OSUnknown}}, "require_id: 0 is not a known"},
		{"OSOutOfRange", Config{RequireID: []admeter.OS{200}}, "require_id: 200"},
		{"BadPrefix", Config{DataCentres: []netip.Prefix{{}}}, "is not valid"},
		{"AllErrors", Config{AllowUA: []string{"x"}, RequireID: []admeter.OS{99}}, "require_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCrawlerRule(t *testing.T) {
	d := mustNew(t, Config{AllowUA: []string{"UptimeRobot", "admeter-probe/"}})
	for _, tc := range []struct {
		name string
		c    Channel
		ua   string
		want bool
	}{
		// The simulator's crawlers (simulate/data.go crawlerAgents).
		{"Baiduspider", ChannelWeb, "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", true},
		{"Bytespider", ChannelWeb, "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", true},
		{"SogouSpider", ChannelWeb, "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", true},
		{"YisouSpider", ChannelWeb, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/69.0.3497.81 YisouSpider/5.0 Safari/537.36", true},
		{"360Spider", ChannelWeb, "Mozilla/5.0 (compatible; 360Spider)", true},
		{"Googlebot", ChannelWeb, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Bingbot", ChannelWeb, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", true},
		{"HeadlessChrome", ChannelWeb, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36", true},
		// Crawlers only the list knows, on every channel.
		{"Seznam", ChannelWeb, "Mozilla/5.0 (compatible; SeznamBot/3.2; +http://napoveda.seznam.cz/en/seznambot-intro/)", true},
		{"WebPageTest", ChannelWeb, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 Safari/537.36 PTST/211202.211915", true},
		{"AdsBotGoogle", ChannelWeb, "AdsBot-Google (+http://www.google.com/adsbot.html)", true},
		{"BlogTrafficRegexp", ChannelWeb, "Mozilla/5.0 (compatible; BlogTraffic/1.4 Feed-Fetcher; +http://www.blogtraffic.de/rss-bot.html)", true},
		{"GrapeshotOnRelay", ChannelRelay, "Mozilla/5.0 (compatible; GrapeshotCrawler/2.0; +http://www.grapeshot.co.uk/crawler.php)", true},
		{"PetalBotOnBatch", ChannelBatch, "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)", true},
		{"ToutiaoSpiderOnApp", ChannelApp, "Mozilla/5.0 (compatible; ToutiaoSpider/1.0; http://web.toutiao.com/media_cooperation/;)", true},
		// Scripts and HTTP libraries: invalid only where a browser is expected.
		{"CurlWeb", ChannelWeb, "curl/8.4.0", true},
		{"PythonWeb", ChannelWeb, "python-requests/2.31.0", true},
		{"GoWeb", ChannelWeb, "Go-http-client/1.1", true},
		{"JavaWeb", ChannelWeb, "Java/1.8.0_151", true},
		{"ApacheWeb", ChannelWeb, "Apache-HttpClient/4.5.13 (Java/17.0.2)", true},
		{"JettyWeb", ChannelWeb, "Jetty/9.3.z-SNAPSHOT", true},
		{"EmptyWeb", ChannelWeb, "", true},
		{"CurlRelay", ChannelRelay, "curl/8.4.0", false},
		{"ApacheRelay", ChannelRelay, "Apache-HttpClient/4.5.13 (Java/17.0.2)", false},
		{"GoBatch", ChannelBatch, "Go-http-client/1.1", false},
		{"JettyRelay", ChannelRelay, "Jetty/9.3.z-SNAPSHOT", false},
		{"EmptyRelay", ChannelRelay, "", false},
		{"EmptyBatch", ChannelBatch, "", false},
		{"EmptyUnknown", ChannelUnknown, "", false},
		// App stacks are never crawlers, not even on the web channel.
		{"OkHttpWeb", ChannelWeb, "okhttp/4.9.3", false},
		{"OkHttpApp", ChannelApp, "okhttp/3.12.13", false},
		{"DalvikWeb", ChannelWeb, dalvikUA, false},
		{"CFNetworkWeb", ChannelWeb, cfnUA, false},
		{"FlutterWeb", ChannelWeb, "Dart/3.2 (dart:io)", false},
		{"AppNamedLikeCrawler", ChannelApp, "Viber/20.1.0 CFNetwork/1410.0.3 Darwin/22.6.0", false},
		// Browsers that look like list entries.
		{"SogouBrowser", ChannelWeb, "Mozilla/5.0 (Linux; Android 10; ALN-AL00 Build/HUAWEIALN-AL00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/88.0.4324.93 Mobile Safari/537.36 SogouMSE,SogouMobileBrowser/5.39.10", false},
		{"Panasonic", ChannelWeb, "Mozilla/5.0 (X11; FreeBSD; U; Viera; ja-JP) AppleWebKit/537.11 (KHTML, like Gecko) Viera/3.10.14 Chrome/23.0.1271.97 Safari/537.11 Panasonic", false},
		{"Chrome", ChannelWeb, chromeUA, false},
		// The allow-list wins, without regard to case.
		{"AllowedMonitor", ChannelWeb, "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", false},
		{"AllowedProbeCase", ChannelWeb, "ADMETER-PROBE/1.0 curl/8.4.0", false},
		{"NotAllowedMonitor", ChannelWeb, "Mozilla/5.0 (compatible; Pingdom.com_bot_version_1.4_(http://www.pingdom.com/))", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hit(tc.c, admeter.OSUnknown, tc.ua)
			got := d.Check(h, tc.ua, netip.Addr{})&admeter.IVTCrawler != 0
			if got != tc.want {
				t.Errorf("crawler = %v, want %v (parsed %+v)", got, tc.want, h.UA)
			}
		})
	}
}

// TestRealTrafficValid checks every real user agent on its channel, with a
// usable identifier of its platform on app channels: none may be flagged
// for any reason.
func TestRealTrafficValid(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	all := append(append([]realUA{}, simulatorAgents...), realAgents...)
	if len(all) < 50 {
		t.Fatalf("only %d real user agents", len(all))
	}
	for _, u := range all {
		t.Run(u.name, func(t *testing.T) {
			var ids []id
			switch u.os {
			case admeter.OSIOS:
				ids = []id{idfa, caid}
			case admeter.OSAndroid, admeter.OSHarmonyOS, admeter.OSUnknown:
				ids = []id{oaid, androidID, macSDK}
			}
			for _, c := range []Channel{u.channel, ChannelBatch} {
				var h *Hit
				if c == ChannelWeb {
					h = hit(c, u.os, u.ua)
				} else {
					h = hit(c, u.os, u.ua, ids...)
				}
				if v := d.Check(h, u.ua, homeIP); v != 0 {
					t.Errorf("channel %d: verdict %v, want valid (parsed %+v)", c, v, h.UA)
				}
			}
		})
	}
}

func TestDataCentreRule(t *testing.T) {
	d := mustNew(t, Config{DataCentres: []netip.Prefix{
		netip.MustParsePrefix("47.92.0.0/14"),
		netip.MustParsePrefix("2400:3200::/32"),
	}})
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"47.92.0.0", true},
		{"47.95.255.255", true},
		{"47.96.0.0", false},
		{"47.91.255.255", false},
		{"::ffff:47.93.1.2", true},
		{"2400:3200::1", true},
		{"2400:3201::1", false},
		{"14.16.20.30", false},
		{"", false},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			var ip netip.Addr
			if tc.ip != "" {
				ip = netip.MustParseAddr(tc.ip)
			}
			h := hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaid)
			if got := d.Check(h, dalvikUA, ip)&admeter.IVTDataCentre != 0; got != tc.want {
				t.Errorf("datacentre = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMissingIDRule(t *testing.T) {
	def := mustNew(t, DefaultConfig())
	ios := mustNew(t, Config{RequireID: []admeter.OS{admeter.OSAndroid, admeter.OSIOS}})
	for _, tc := range []struct {
		name string
		d    *Detector
		h    *Hit
		want bool
	}{
		{"AndroidRelayNone", def, hit(ChannelRelay, admeter.OSAndroid, dalvikUA), true},
		{"AndroidBatchNone", def, hit(ChannelBatch, admeter.OSAndroid, ""), true},
		{"AndroidAppNone", def, hit(ChannelApp, admeter.OSAndroid, dalvikUA), true},
		{"AndroidOnlyPlaceholders", def, hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaidZero, macSDK), true},
		{"AndroidOnlyMalformed", def, hit(ChannelRelay, admeter.OSAndroid, dalvikUA, imeiNoHex), true},
		{"AndroidBadLuhnOnly", def, hit(ChannelRelay, admeter.OSAndroid, dalvikUA, imeiLuhn), true},
		{"AndroidOAID", def, hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaid), false},
		{"AndroidLATWithAndroidID", def, hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaidZero, androidID, macSDK), false},
		{"UndeclaredDalvikApp", def, hit(ChannelApp, admeter.OSUnknown, dalvikUA), true},
		{"UndeclaredDalvikRelay", def, hit(ChannelRelay, admeter.OSUnknown, dalvikUA), false},
		{"iOSNoneDefault", def, hit(ChannelRelay, admeter.OSIOS, cfnUA), false},
		{"iOSNoneRequired", ios, hit(ChannelRelay, admeter.OSIOS, cfnUA), true},
		{"iOSCAIDRequired", ios, hit(ChannelRelay, admeter.OSIOS, cfnUA, caid), false},
		{"HarmonyNone", def, hit(ChannelRelay, admeter.OSOther, "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile"), false},
		{"WebBrowserNeverRequired", def, hit(ChannelWeb, admeter.OSAndroid, chromeUA), false},
		{"WebDalvikNoID", def, hit(ChannelWeb, admeter.OSUnknown, dalvikUA), true},
		{"WebCFNetworkNoID", def, hit(ChannelWeb, admeter.OSUnknown, cfnUA), false},
		{"WebOkHttpNoOS", def, hit(ChannelWeb, admeter.OSUnknown, "okhttp/4.9.3"), false},
		{"WebOkHttpAndroid", def, hit(ChannelWeb, admeter.OSAndroid, "okhttp/4.9.3"), true},
		{"UnknownChannel", def, hit(ChannelUnknown, admeter.OSAndroid, dalvikUA), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Check(tc.h, "", homeIP)&admeter.IVTMissingID != 0; got != tc.want {
				t.Errorf("missing_id = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBadIDRule(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	for _, tc := range []struct {
		name string
		ids  []id
		want bool
	}{
		{"Valid", []id{oaid, androidID, imeiMD5}, false},
		{"ValidIMEI", []id{imei}, false},
		{"IMEI14Digits", []id{imei14}, false},
		{"MEIDHex", []id{meid}, false},
		{"IMEILuhn", []id{oaid, imeiLuhn}, true},
		{"IDFANotUUID", []id{idfaNoDash}, true},
		{"MD5NotHex", []id{oaid, imeiNoHex}, true},
		{"MalformedOAID", []id{oaid, {admeter.IDOAID, pseudo.FormRaw, "not an oaid!"}}, true},
		{"BadForm", []id{{admeter.IDOAID, 0, oaid.v}}, true},
		{"OnlyZeroIDFA", []id{idfaZero}, true},
		{"OnlyPlaceholders", []id{oaidZero, oaidBug, imeiZero}, true},
		{"OnlySDKMAC", []id{macSDK}, true},
		{"LATNextToAndroidID", []id{oaidZero, androidID}, false},
		{"SDKMACNextToOAID", []id{oaid, macSDK}, false},
		{"EmptyWords", []id{{admeter.IDOAID, pseudo.FormRaw, "null"}, {admeter.IDIDFA, pseudo.FormRaw, " "}}, false},
		{"None", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hit(ChannelRelay, admeter.OSUnknown, "", tc.ids...)
			if got := d.Check(h, "", homeIP)&admeter.IVTBadID != 0; got != tc.want {
				t.Errorf("bad_id = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIMEICheckDigit(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"868049039501257", true},
		{"490154203237518", true}, // the GSMA example
		{"356938035643809", true},
		{"868049039501258", false},
		{"490154203237517", false},
		{"000000000000000", true}, // a placeholder, which pseudo refuses first
		{"86804903950125", true},  // no check digit
		{"8680490395012571", true},
		{"A1000049C0FFEE0", true}, // hex: an MEID, no Luhn digit
	} {
		if got := imeiCheckDigitOK(tc.v); got != tc.want {
			t.Errorf("imeiCheckDigitOK(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestPlatformMismatchRule(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	const (
		android = admeter.OSAndroid
		ios     = admeter.OSIOS
		unknown = admeter.OSUnknown
	)
	huaweiUA := "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AL00; HMSCore 6.13.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36"
	linuxUA := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	macUA := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
	for _, tc := range []struct {
		name string
		h    *Hit
		want bool
	}{
		{"IDFAOnAndroid", hit(ChannelRelay, android, dalvikUA, idfa), true},
		{"CAIDOnAndroid", hit(ChannelRelay, android, dalvikUA, androidID, caid), true},
		{"IDFVOnHarmonyOS", hit(ChannelBatch, admeter.OSHarmonyOS, "", idfv), true},
		{"IDFAOnWindows", hit(ChannelBatch, admeter.OSWindows, "", idfa), true},
		{"OAIDOnIOS", hit(ChannelRelay, ios, cfnUA, oaid), true},
		{"IMEIOnIOS", hit(ChannelRelay, ios, cfnUA, imeiMD5), true},
		{"AndroidIDOnIOS", hit(ChannelRelay, ios, cfnUA, idfa, androidID), true},
		{"AAIDOnIOS", hit(ChannelRelay, ios, cfnUA, aaid), true},
		{"BothPlatformsUndeclared", hit(ChannelRelay, unknown, "", idfa, oaid), true},
		{"BothPlatformsOther", hit(ChannelRelay, admeter.OSOther, "", idfa, oaid), true},
		{"WebAndroidDeclaredIOSUA", hit(ChannelWeb, android, safariUA), true},
		{"BatchIOSDeclaredAndroidUA", hit(ChannelBatch, ios, dalvikUA, idfa), true},
		{"AppAndroidDeclaredCFNetwork", hit(ChannelApp, android, cfnUA, oaid), true},
		{"WindowsDeclaredAndroidUA", hit(ChannelBatch, admeter.OSWindows, chromeUA), true},
		// Valid combinations.
		{"AndroidIDs", hit(ChannelRelay, android, dalvikUA, oaid, imeiMD5, androidID, aaid, macSDK), false},
		{"IOSIDs", hit(ChannelRelay, ios, cfnUA, idfa, idfv, caid), false},
		{"HarmonyOAID", hit(ChannelBatch, admeter.OSHarmonyOS, "", oaid), false},
		{"OtherWithIDFA", hit(ChannelRelay, admeter.OSOther, "", idfa), false},
		{"ZeroIDFAOnAndroid", hit(ChannelRelay, android, dalvikUA, idfaZero, androidID), false},
		{"MalformedIDFAOnAndroid", hit(ChannelRelay, android, dalvikUA, idfaNoDash, androidID), false},
		{"HarmonyBrowserDeclaredAndroid", hit(ChannelWeb, android, huaweiUA), false},
		{"AndroidDesktopModeLinux", hit(ChannelWeb, android, linuxUA), false},
		{"IPadDesktopModeMac", hit(ChannelWeb, ios, macUA), false},
		{"OkHttpNoOS", hit(ChannelApp, android, "okhttp/4.9.3", oaid), false},
		{"RelayServerUA", hit(ChannelRelay, android, desktopUA, oaid), false},
		{"UndeclaredWeb", hit(ChannelWeb, unknown, safariUA), false},
		{"OtherDeclaredWeb", hit(ChannelWeb, admeter.OSOther, desktopUA), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.Check(tc.h, "", homeIP)&admeter.IVTPlatformMismatch != 0; got != tc.want {
				t.Errorf("platform_mismatch = %v, want %v (declared %v, UA OS %v)", got, tc.want, tc.h.DeclaredOS, tc.h.UA.OS)
			}
		})
	}
}

func TestFlagRules(t *testing.T) {
	d := mustNew(t, DefaultConfig())
	base := func() *Hit { return hit(ChannelRelay, admeter.OSAndroid, dalvikUA, oaid, androidID) }
	for _, tc := range []struct {
		name string
		set  func(*Hit)
		want admeter.IVT
	}{
		{"Valid", func(*Hit) {}, 0},
		{"Root", func(h *Hit) { h.Risk = admeter.RiskRoot }, admeter.IVTRiskyDevice},
		{"Emulator", func(h *Hit) { h.Risk = admeter.RiskEmulator }, admeter.IVTRiskyDevice},
		{"Hook", func(h *Hit) { h.Risk = admeter.RiskHook }, admeter.IVTRiskyDevice},
		{"ADB", func(h *Hit) { h.Risk = admeter.RiskADB }, admeter.IVTRiskyDevice},
		{"EmulatorADB", func(h *Hit) { h.Risk = admeter.RiskEmulator | admeter.RiskADB }, admeter.IVTRiskyDevice},
		{"TimeOutOfWindow", func(h *Hit) { h.TimeOutOfWindow = true }, admeter.IVTTimeWindow},
		{"TimeMacro", func(h *Hit) { h.TimeMacro = true }, admeter.IVTUnreplacedMacro},
		{"Both", func(h *Hit) { h.TimeMacro, h.Risk = true, admeter.RiskRoot }, admeter.IVTUnreplacedMacro | admeter.IVTRiskyDevice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := base()
			tc.set(h)
			if got := d.Check(h, dalvikUA, homeIP); got != tc.want {
				t.Errorf("verdict %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCheckAllReasons checks that reasons combine: a scripted replay of a
// web tag from a cloud server, with bad identifiers pasted in.
func TestCheckAllReasons(t *testing.T) {
	d := mustNew(t, Config{DataCentres: []netip.Prefix{netip.MustParsePrefix("52.80.0.0/16")}, RequireID: []admeter.OS{admeter.OSAndroid}})
	h := hit(ChannelApp, admeter.OSAndroid, "python-requests/2.31.0", idfaNoDash, imeiLuhn)
	h.UA = useragent.Info{OS: admeter.OSIOS, DeviceType: admeter.DeviceBot}
	h.Risk, h.TimeOutOfWindow, h.TimeMacro = admeter.RiskEmulator, true, true
	want := admeter.IVTCrawler | admeter.IVTDataCentre | admeter.IVTMissingID | admeter.IVTBadID |
		admeter.IVTPlatformMismatch | admeter.IVTRiskyDevice | admeter.IVTTimeWindow | admeter.IVTUnreplacedMacro
	if got := d.Check(h, "python-requests/2.31.0", netip.MustParseAddr("52.80.1.2")); got != want {
		t.Errorf("verdict %v, want %v", got, want)
	}
	var zero Hit
	if got := d.Check(&zero, "", netip.Addr{}); got != 0 {
		t.Errorf("zero hit: verdict %v, want valid", got)
	}
}

func TestCheckAllocs(t *testing.T) {
	d := mustNew(t, Config{AllowUA: []string{"admeter-probe"}, DataCentres: benchPrefixes(t, 100), RequireID: []admeter.OS{admeter.OSAndroid}})
	for _, bc := range benchEvents(t) {
		h := bc.hit
		if n := testing.AllocsPerRun(100, func() { d.Check(&h, bc.ua, bc.ip) }); n != 0 {
			t.Errorf("%s: %v allocations per Check", bc.name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		var h Hit
		h.AddID(imei.t, imei.f, imei.v, pseudo.ReasonOK)
	}); n != 0 {
		t.Errorf("AddID: %v allocations", n)
	}
}
