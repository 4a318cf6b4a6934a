package useragent

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/admeter/admeter"
)

const (
	android   = admeter.OSAndroid
	ios       = admeter.OSIOS
	harmony   = admeter.OSHarmonyOS
	windows   = admeter.OSWindows
	macos     = admeter.OSMacOS
	linux     = admeter.OSLinux
	chromeos  = admeter.OSChromeOS
	winPhone  = admeter.OSWindowsPhone
	other     = admeter.OSOther
	unknownOS = admeter.OSUnknown

	phone   = admeter.DevicePhone
	tablet  = admeter.DeviceTablet
	desktop = admeter.DeviceDesktop
	tv      = admeter.DeviceTV
	bot     = admeter.DeviceBot
	unknown = admeter.DeviceUnknown
)

// uaTests are real user agents (collected from browsers, apps and crawler
// documentation) with what Parse must say about them.
var uaTests = []struct {
	name string
	ua   string
	want Info
}{
	// Mobile browsers.
	{"AndroidChrome", "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
		Info{android, "13", "Chrome", phone}},
	{"AndroidTabletChrome", "Mozilla/5.0 (Linux; Android 12; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		Info{android, "12", "Chrome", tablet}},
	{"AndroidCubotNotBot", "Mozilla/5.0 (Linux; Android 11; CUBOT X30 Build/RP1A.200720.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
		Info{android, "11", "Chrome", phone}},
	{"iPhoneSafari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
		Info{ios, "17.1.2", "Safari", phone}},
	{"iPhoneChrome", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
		Info{ios, "17.2", "Chrome", phone}},
	{"iPhoneWebView", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		Info{ios, "17.2", "iOS WebView", phone}},
	{"iPadSafari", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
		Info{ios, "16.6", "Safari", tablet}},
	{"iPadDesktopModeWebView", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		Info{ios, "", "iOS WebView", tablet}},
	{"AndroidUC", "Mozilla/5.0 (Linux; U; Android 10; zh-CN; V1938CT Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
		Info{android, "10", "UC Browser", phone}},
	{"AndroidQQBrowser", "Mozilla/5.0 (Linux; U; Android 11; zh-cn; PEGM00 Build/RKQ1.200903.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.61 MQQBrowser/12.6 Mobile Safari/537.36 COVC/045730",
		Info{android, "11", "QQ Browser", phone}},
	{"AndroidMIUIBrowser", "Mozilla/5.0 (Linux; Android 13; 22081212C Build/TKQ1.220829.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.127 Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.6.100505",
		Info{android, "13", "MIUI Browser", phone}},
	{"WindowsPhoneEdge", "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977",
		Info{winPhone, "10.0", "Edge", phone}},

	// In-app browsers.
	{"WeChatAndroid", "Mozilla/5.0 (Linux; Android 12; V2148A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4343 MMWEBSDK/20220903 Mobile Safari/537.36 MMWEBID/4386 MicroMessenger/8.0.28.2240(0x28001C35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
		Info{android, "12", "WeChat", phone}},
	{"WeChatIOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.33(0x18002129) NetType/WIFI Language/zh_CN",
		Info{ios, "16.3", "WeChat", phone}},
	{"WeChatIPad", "Mozilla/5.0 (iPad; CPU OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x1800282a) NetType/WIFI Language/zh_CN",
		Info{ios, "15.7", "WeChat", tablet}},
	{"WeChatWindows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x6309092b) XWEB/8555 Flue",
		Info{windows, "10", "WeChat", desktop}},
	{"WeCom", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh ColorScheme/Light",
		Info{ios, "16.6", "WeCom", phone}},
	{"QQIOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 QQ/8.9.80.614 V1_IPH_SQ_8.9.80_1_APP_A Pixel/1170 MiniAppEnable SimpleUISwitch/0 StudyMode/0 CurrentMode/0 CurrentFontScale/1.000000 QQTheme/1000 AppId/537177286 Core/WKWebView Device/Apple(iPhone 12) UI/Default",
		Info{ios, "17.0", "QQ", phone}},
	{"BaiduApp", "Mozilla/5.0 (Linux; Android 10; SPN-AL00 Build/HUAWEISPN-AL00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/76.0.3809.89 Mobile Safari/537.36 T7/13.18 SP-engine/2.34.0 baiduboxapp/13.18.0.10 (Baidu; P1 10) NABar/1.0",
		Info{android, "10", "Baidu App", phone}},
	{"Douyin", "Mozilla/5.0 (Linux; Android 12; PFEM10 Build/SKQ1.211019.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/91.0.4472.114 Mobile Safari/537.36 aweme_230400 JsSdk/1.0 NetType/WIFI Channel/oppo_1128_64 app_version/23.4.0 ByteLocale/zh-CN Region/CN AppSkin/white AppTheme/light BytedanceWebview/d8a21c6 WebView/075113004008",
		Info{android, "12", "Douyin", phone}},
	{"Kuaishou", "Mozilla/5.0 (Linux; Android 11; M2012K11AC Build/RKQ1.200826.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.210 Mobile Safari/537.36 Kwai/11.2.40.6268 Yoda/3.1.3",
		Info{android, "11", "Kuaishou", phone}},
	{"Weibo", "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Weibo (iPhone13,2__weibo__12.3.2__iphone__os15.4)",
		Info{ios, "15.4", "Weibo", phone}},
	{"Alipay", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ChannelId(1) Ariver/1.1.0 AliApp(AP/10.3.20.6000) Nebula WK RVKType(0) AlipayDefined(nt:WIFI,ws:390|780|3.0) AlipayClient/10.3.20.6000 Language/zh-Hans Region/CN NebulaX/1.0.0",
		Info{ios, "16.1", "Alipay", phone}},
	{"QQAndroid", "Mozilla/5.0 (Linux; Android 12; M2102K1C Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/98.0.4758.102 MQQBrowser/6.2 TBS/046291 Mobile Safari/537.36 V1_AND_SQ_8.9.28_3700_YYB_D A_8092800 QQ/8.9.28.10155 NetType/WIFI WebP/0.3.0 AppId/537150355 Pixel/1440 StatusBarHeight/110 SimpleUISwitch/0 QQTheme/1000",
		Info{android, "12", "QQ", phone}},
	{"Taobao", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(TB/10.26.10) WindVane/8.7.2 UT4Aplus/0.0.4 1170x2532 WK",
		Info{ios, "16.5", "Taobao", phone}},
	{"360Windows", "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 QIHU 360SE",
		Info{windows, "10", "360 Browser", desktop}},
	{"iOSAppAFNetworking", "MyApp/3.2.1 (iPhone; iOS 16.1; Scale/3.00)",
		Info{ios, "16.1", "", phone}},
	{"InstagramNotBot", "Mozilla/5.0 (Linux; Android 12; Pixel 6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 Instagram 312.0.0.32.112 Android",
		Info{android, "12", "Instagram", phone}},

	// HarmonyOS.
	{"HarmonyOS4Phone", "Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00; HMSCore 6.1.0.314) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.105 HuaweiBrowser/12.0.3.310 Mobile Safari/537.36",
		Info{harmony, "", "Huawei Browser", phone}},
	{"HarmonyOS4Tablet", "Mozilla/5.0 (Linux; Android 10; HarmonyOS; BAH3-W09; HMSCore 6.12.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.1.320 Safari/537.36",
		Info{harmony, "", "Huawei Browser", tablet}},
	{"HarmonyOSNext", "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300",
		Info{harmony, "5.0", "Huawei Browser", phone}},
	{"HarmonyOSNextTabletWebView", "Mozilla/5.0 (Tablet; OpenHarmony 5.0.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1",
		Info{harmony, "5.0.1", "ArkWeb", tablet}},

	// Desktop.
	{"WindowsChrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		Info{windows, "10", "Chrome", desktop}},
	{"WindowsEdge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
		Info{windows, "10", "Edge", desktop}},
	{"Windows7Firefox", "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
		Info{windows, "7", "Firefox", desktop}},
	{"MacSafari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
		Info{macos, "10.15.7", "Safari", desktop}},
	{"MacChrome", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		Info{macos, "10.15.7", "Chrome", desktop}},
	{"LinuxChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		Info{linux, "", "Chrome", desktop}},
	{"ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		Info{chromeos, "14541.0.0", "Chrome", desktop}},

	// TVs and consoles.
	{"SamsungTizenTV", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
		Info{other, "", "Samsung Browser", tv}},
	{"LGWebOSTV", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 DMOST/2.0.0 (; LGE; webOSTV; WEBOS6.3.2 03.34.95; W6_lm21a;)",
		Info{linux, "", "Chrome", tv}},
	{"XiaomiTV", "Mozilla/5.0 (Linux; Android 9; MiTV-MSSP1 Build/PQ3B.190801.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/87.0.4280.101 Safari/537.36",
		Info{android, "9", "Android WebView", tv}},
	{"AndroidTV", "Mozilla/5.0 (Linux; Android 9; Hisense Android TV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0 Safari/537.36",
		Info{android, "9", "Chrome", tv}},
	{"FireTV", "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/88.0.4324.152 Mobile Safari/537.36",
		Info{android, "9", "Android WebView", tv}},
	{"Xbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edge/44.18363.8131",
		Info{windows, "10", "Edge", tv}},

	// Crawlers.
	{"Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		Info{unknownOS, "", "Googlebot", bot}},
	{"GooglebotSmartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		Info{android, "6.0.1", "Googlebot", bot}},
	{"Baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
		Info{unknownOS, "", "Baiduspider", bot}},
	{"Bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		Info{unknownOS, "", "bingbot", bot}},
	{"Bytespider", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
		Info{android, "10", "Bytespider", bot}},
	{"SogouSpider", "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
		Info{unknownOS, "", "Sogou Spider", bot}},
	{"BaiduspiderRender", "Mozilla/5.0 (iPhone; CPU iPhone OS 9_1 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) Version/9.0 Mobile/13B143 Safari/601.1 (compatible; Baiduspider-render/2.0; +http://www.baidu.com/search/spider.html)",
		Info{ios, "9.1", "Baiduspider", bot}},
	{"HeadlessChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.71 Safari/537.36",
		Info{linux, "", "HeadlessChrome", bot}},
	{"UnnamedBot", "Mozilla/5.0 (compatible; ExampleBot/1.0; +https://example.com/bot)",
		Info{unknownOS, "", "bot", bot}},

	// Clients that are not browsers.
	{"okhttp", "okhttp/4.9.3", Info{unknownOS, "", "okhttp", unknown}},
	{"Dalvik", "Dalvik/2.1.0 (Linux; U; Android 11; M2012K11AC Build/RKQ1.200826.002)", Info{android, "11", "Dalvik", phone}},
	{"CFNetwork", "MyApp/1.2.3 CFNetwork/1410.0.3 Darwin/22.6.0", Info{ios, "16", "CFNetwork", phone}},
	{"CFNetworkIOS26", "MyApp/2 CFNetwork/3826.500.111.2.2 Darwin/25.0.0", Info{ios, "26", "CFNetwork", phone}},
	{"curl", "curl/8.4.0", Info{unknownOS, "", "curl", unknown}},
	{"python-requests", "python-requests/2.31.0", Info{unknownOS, "", "python-requests", unknown}},
	{"Go-http-client", "Go-http-client/1.1", Info{unknownOS, "", "Go-http-client", unknown}},
	{"Java", "Java/1.8.0_151", Info{unknownOS, "", "Java", unknown}},
	{"ApacheHttpClient", "Apache-HttpClient/4.5.13 (Java/17.0.2)", Info{unknownOS, "", "Apache-HttpClient", unknown}},

	// Odd input.
	{"Empty", "", Info{}},
	{"Garbage", "\xff\xfe(((;;;)))", Info{}},
	{"Unknown", "SomeThing/1.0", Info{}},
}

func TestParse(t *testing.T) {
	p := New()
	for _, tt := range uaTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Parse(tt.ua); got != tt.want {
				t.Errorf("Parse =\n\t%+v, want\n\t%+v", got, tt.want)
			}
		})
	}
}

func TestNonBrowser(t *testing.T) {
	p := New()
	for _, tt := range uaTests {
		got := p.Parse(tt.ua).NonBrowser()
		want := false
		switch tt.want.Browser {
		case "okhttp", "Dalvik", "CFNetwork", "curl", "python-requests", "Go-http-client", "Java", "Apache-HttpClient":
			want = true
		}
		if got != want {
			t.Errorf("%s: NonBrowser = %v, want %v", tt.name, got, want)
		}
	}
}

// TestParseLong checks that oversized input is cut, not rejected, and that
// tokens past the cut are ignored.
func TestParseLong(t *testing.T) {
	p := New()
	chrome := uaTests[0].ua
	long := chrome + strings.Repeat(" x", maxParse) + " MicroMessenger/8.0"
	if got, want := p.Parse(long), uaTests[0].want; got != want {
		t.Errorf("Parse(long) = %+v, want %+v", got, want)
	}
	// A version longer than the field limit is clipped.
	v := "Mozilla/5.0 (Linux; Android " + strings.Repeat("1", 200) + "; X) Mobile"
	if got := p.Parse(v); len(got.OSVersion) > maxVersion {
		t.Errorf("OSVersion has %d bytes, want at most %d", len(got.OSVersion), maxVersion)
	}
}

func TestVersionAfter(t *testing.T) {
	for _, tt := range []struct{ s, prefix, want string }{
		{"Android 13;", "Android ", "13"},
		{"Android 8.1.0;", "Android ", "8.1.0"},
		{"iPhone OS 17_1_2 like", "iPhone OS ", "17.1.2"},
		{"Android 10.;", "Android ", "10"},
		{"Android ..1", "Android ", ""},
		{"Android 1__2", "Android ", "1"}, // a doubled separator ends the version
		{"Android;", "Android ", ""},
		{"Android ", "Android ", ""},
		{"no prefix", "Android ", ""},
		{"12345678901234567890", "", "1234567890123456"},
	} {
		if got := versionAfter(tt.s, tt.prefix); got != tt.want {
			t.Errorf("versionAfter(%q, %q) = %q, want %q", tt.s, tt.prefix, got, tt.want)
		}
	}
	for darwin, want := range map[string]string{"22.6.0": "16", "10.0": "4", "24.1": "18", "25.0.0": "26", "9.0": "", "": "", "x": "", "100": ""} {
		if got := iosFromDarwin(darwin); got != want {
			t.Errorf("iosFromDarwin(%q) = %q, want %q", darwin, got, want)
		}
	}
}

// TestAppIndexes checks the constants for apps matched by hand.
func TestAppIndexes(t *testing.T) {
	for i, want := range map[int]string{appDouyin: "Douyin", appWeibo: "Weibo", appTaobao: "Taobao", appMIUI: "MIUI Browser"} {
		if got := apps[i].name; got != want {
			t.Errorf("apps[%d] = %q, want %q", i, got, want)
		}
	}
}

func TestConcurrentParse(t *testing.T) {
	p := New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tt := uaTests[(g+i)%len(uaTests)]
				if got := p.Parse(tt.ua); got != tt.want {
					t.Errorf("%s: concurrent Parse = %+v, want %+v", tt.name, got, tt.want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzParse(f *testing.F) {
	for _, tt := range uaTests {
		f.Add(tt.ua)
	}
	p := New()
	f.Fuzz(func(t *testing.T, ua string) {
		info := p.Parse(ua)
		if len(info.OSVersion) > admeter.MaxShortField || len(info.Browser) > admeter.MaxShortField {
			t.Fatalf("field too long: %+v", info)
		}
		if !utf8.ValidString(info.OSVersion) || !utf8.ValidString(info.Browser) {
			t.Fatalf("invalid UTF-8: %+v", info)
		}
		if v := info.OSVersion; strings.Trim(v, "0123456789.") != "" && v != "Vista" && v != "XP" {
			t.Fatalf("OSVersion %q is not a version", info.OSVersion)
		}
		if info.Browser != "" && !knownBrowser(info.Browser) {
			t.Fatalf("Browser %q is not from the fixed list", info.Browser)
		}
		if _, ok := admeter.ParseOS(info.OS.String()); !ok || info.OS.String() == "unknown" && info.OS != admeter.OSUnknown {
			t.Fatalf("invalid OS %d", info.OS)
		}
		if _, ok := admeter.ParseDeviceType(info.DeviceType.String()); !ok || info.DeviceType.String() == "unknown" && info.DeviceType != admeter.DeviceUnknown {
			t.Fatalf("invalid device type %d", info.DeviceType)
		}
		if ua == "" && info != (Info{}) {
			t.Fatalf("Parse(\"\") = %+v, want zero", info)
		}
	})
}

// knownBrowser reports whether name is one Parse can return, so the fuzz
// target can prove no piece of the input leaks into Browser.
func knownBrowser(name string) bool {
	if _, ok := clientNames[name]; ok {
		return true
	}
	for _, list := range [][]struct {
		name     string
		products []string
	}{apps, engines} {
		for _, e := range list {
			if e.name == name {
				return true
			}
		}
	}
	for _, b := range bots {
		if b == name {
			return true
		}
	}
	switch name {
	case genericBot, "Sogou Spider", "Android WebView", "iOS WebView",
		"Android Browser", "Chrome", "Edge", "Firefox", "IE", "Opera", "Opera Mini", "Safari", "Vivaldi",
		"Amazon Silk", "Samsung Browser", "Falkon", "Nintendo Browser", "Yandex Browser", "Huawei Browser":
		return true
	}
	return false
}

// BenchmarkParse parses every user agent of the test table in turn: a mix of
// browsers, in-app browsers, crawlers and HTTP clients.
func BenchmarkParse(b *testing.B) {
	p := New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Parse(uaTests[i%len(uaTests)].ua)
		i++
	}
}

// BenchmarkParseOne parses single common user agents: an in-app browser,
// which needs no medama call, and a plain browser, which does.
func BenchmarkParseOne(b *testing.B) {
	for _, name := range []string{"WeChatAndroid", "Douyin", "AndroidChrome", "iPhoneSafari", "WindowsChrome"} {
		var ua string
		for _, tt := range uaTests {
			if tt.name == name {
				ua = tt.ua
			}
		}
		b.Run(name, func(b *testing.B) {
			p := New()
			b.ReportAllocs()
			for b.Loop() {
				p.Parse(ua)
			}
		})
	}
}
