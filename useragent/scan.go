package useragent

import (
	"strings"

	"github.com/admeter/admeter"
)

// A user agent is read once, as words: runs of bytes between the separators
// space ; ( ) , [ ]. A word's product is the part before its first '/'
// ("MicroMessenger" in "MicroMessenger/8.0.33(0x18002129)"). Products are
// looked up in one map, so the cost does not grow with the number of apps,
// crawlers and TVs recognised, and a token matches only as a whole word
// ("TV" in "Android TV" but not in "MiTV-MSSP1" or a device model).

// scan is what one pass over a user agent found.
type scan struct {
	app      int    // 1 + index into apps of the best in-app browser, 0 if none
	engine   int    // 1 + index into engines of the best engine product, 0 if none
	bot      string // crawler name, "bot" when unnamed, "" when not a crawler
	tv       bool
	hint     osHint // strongest OS signal seen
	form     string // HarmonyOS NEXT form factor: Phone, Tablet, PC or 2in1
	mobile   bool   // a "Mobile" word: Android phones and every iOS WebView
	mobileID bool   // "Mobile/15E148": iOS build id, also on iPads in desktop mode
	ipad     bool
	wv       bool // "; wv)": Android System WebView inside an app
	safari   bool // a "Safari/…" word: Safari and browsers built on it, not WKWebView
	sogou    bool
	versions [numVersionKinds]string // raw versions, read from the word after their OS name
}

// osHint is an operating-system signal from a word, ordered so that a larger
// hint wins: HarmonyOS user agents also say Android, Windows Phone ones also
// say Android and Windows, and so on.
type osHint uint8

const (
	hintNone osHint = iota
	hintLinux
	hintOther // Tizen, KaiOS, BSDs, consoles: a known OS with no OS value of its own
	hintMac
	hintWindows
	hintChromeOS
	hintIOS
	hintAndroid
	hintWindowsPhone
	hintHarmony
)

// versionKind says which OS a version belongs to.
type versionKind uint8

const (
	verAndroid versionKind = iota
	verIOS
	verHarmony
	verWindowsNT
	verWindowsPhone
	verMac
	verChromeOS
	numVersionKinds
)

// token is what a product means.
type token struct {
	app     int    // 1 + index into apps
	engine  int    // 1 + index into engines
	bot     string // crawler name
	tv      bool
	hint    osHint
	special bool // one of specialProducts, handled by scan.special
}

// specialProducts need more than a table entry; see scan.special.
var specialProducts = []string{
	"Mobile", "iPad", "wv", "Safari", "Sogou", "Phone", "Tablet", "PC", "2in1", "TB", "XiaoMi",
}

// apps are in-app browsers and the browsers common in China, by product;
// medama names the others. The first in this list wins when a user agent
// has several: WeCom also
// sends MicroMessenger, WeChat on Android may send MQQBrowser, QQ sends
// MQQBrowser, Douyin sends BytedanceWebview.
var apps = []struct {
	name     string
	products []string
}{
	{"WeCom", []string{"wxwork"}},
	{"WeChat", []string{"MicroMessenger", "WindowsWechat", "MacWechat"}},
	{"QQ", []string{"QQ"}},
	{"Douyin", nil}, // aweme_230400, aweme_lite_…: matched by prefix
	{"TikTok", []string{"musical_ly"}},
	{"Toutiao", []string{"NewsArticle"}},
	{"Kuaishou", []string{"Kwai", "Kwai_Lite", "Kwai_Pro", "ksNebula"}},
	{"Weibo", []string{"Weibo"}}, // also __weibo__ inside a word
	{"Alipay", []string{"AlipayClient"}},
	{"Taobao", nil}, // AliApp(TB/…): matched by the word after AliApp
	{"DingTalk", []string{"DingTalk"}},
	{"Xiaohongshu", []string{"XiaoHongShu", "xhsdiscover"}},
	{"Baidu App", []string{"baiduboxapp"}},
	{"Baidu Browser", []string{"baidubrowser"}},
	{"ByteDance", []string{"BytedanceWebview"}},
	{"Facebook", []string{"FBAN", "FB_IAB"}},
	{"Instagram", []string{"Instagram"}},
	{"Quark", []string{"Quark"}},
	{"UC Browser", []string{"UCBrowser", "UCWEB", "UBrowser"}},
	{"QQ Browser", []string{"MQQBrowser", "QQBrowser"}},
	{"MIUI Browser", []string{"MiuiBrowser"}},
	{"HeyTap Browser", []string{"HeyTapBrowser"}},
	{"vivo Browser", []string{"VivoBrowser"}},
	{"Huawei Browser", []string{"HuaweiBrowser"}},
	{"Samsung Browser", []string{"SamsungBrowser"}},
	{"Sogou Browser", []string{"SogouMobileBrowser", "MetaSr"}},
	{"360 Browser", []string{"QihooBrowser", "360SE", "360EE"}},
}

// Indexes of apps matched by something other than their product.
const (
	appDouyin = 3
	appWeibo  = 7
	appTaobao = 9
	appMIUI   = 20
)

// engines are the browser names used when medama names none (it misses
// some TV and HarmonyOS NEXT layouts), best first.
var engines = []struct {
	name     string
	products []string
}{
	{"ArkWeb", []string{"ArkWeb"}}, // HarmonyOS NEXT's web engine
	{"Edge", []string{"Edg", "Edge", "EdgA", "EdgiOS"}},
	{"Firefox", []string{"Firefox", "FxiOS"}},
	{"Chrome", []string{"Chrome", "CriOS"}},
	{"Safari", []string{"Safari"}},
}

// bots are crawlers and automation tools, by product or product prefix
// ("Googlebot-Image", "Baiduspider-render"). Crawlers not listed are caught
// by isBotProduct and reported as "bot".
var bots = []string{
	"Googlebot", "AdsBot-Google", "Mediapartners-Google", "Google-InspectionTool", "APIs-Google",
	"FeedFetcher-Google", "bingbot", "BingPreview", "Baiduspider", "Bytespider", "360Spider",
	"YisouSpider", "PetalBot", "YandexBot", "Applebot", "DuckDuckBot", "facebookexternalhit",
	"Twitterbot", "AhrefsBot", "SemrushBot", "MJ12bot", "DotBot", "GPTBot", "ClaudeBot",
	"Amazonbot", "HeadlessChrome", "PhantomJS", "Chrome-Lighthouse",
}

// tvProducts are whole words that only smart TVs, TV boxes, streaming sticks
// and consoles send.
var tvProducts = []string{
	"TV", "SmartTV", "SMART-TV", "Smart-TV", "SMARTTV", "AndroidTV", "GoogleTV", "HbbTV",
	"AppleTV", "tvOS", "CrKey", "Web0S", "webOSTV", "NetCast", "Roku", "BRAVIA", "MiBOX",
	"MIBOX", "Xbox", "PlayStation",
}

// osProducts are the words that name an operating system.
var osProducts = map[string]osHint{
	"Linux": hintLinux, "X11": hintLinux, "Ubuntu": hintLinux, "Fedora": hintLinux,
	"Tizen": hintOther, "KAIOS": hintOther, "KaiOS": hintOther, "FreeBSD": hintOther,
	"OpenBSD": hintOther, "NetBSD": hintOther, "PlayStation": hintOther, "Nintendo": hintOther,
	"BlackBerry": hintOther, "BB10": hintOther, "SymbianOS": hintOther,
	"Macintosh": hintMac,
	"Windows":   hintWindows,
	"CrOS":      hintChromeOS,
	"iPhone":    hintIOS, "iPad": hintIOS, "iPod": hintIOS,
	"Android":     hintAndroid,
	"HarmonyOS":   hintHarmony,
	"OpenHarmony": hintHarmony,
}

// maybeToken is a cheap pre-check before the tokens map: bit b of
// maybeToken[n] is set when some product of length n starts with a byte
// whose low six bits are b. Most words of a user agent ("Mozilla",
// "AppleWebKit", "KHTML", "like", "Gecko", "Build") fail it and skip the
// hash.
var maybeToken = func() (f [32]uint64) {
	for p := range tokens {
		if n := len(p); n < len(f) {
			f[n] |= 1 << (p[0] & 63)
		}
	}
	return f
}()

// lookup returns the meaning of product, if it has one.
func lookup(product string) (token, bool) {
	if n := len(product); n == 0 || n >= len(maybeToken) || maybeToken[n]&(1<<(product[0]&63)) == 0 {
		return token{}, false
	}
	t, ok := tokens[product]
	return t, ok
}

// tokens maps every recognised product to its meaning.
var tokens = func() map[string]token {
	m := map[string]token{}
	for i, a := range apps {
		for _, p := range a.products {
			t := m[p]
			t.app = i + 1
			m[p] = t
		}
	}
	for i, e := range engines {
		for _, p := range e.products {
			t := m[p]
			t.engine = i + 1
			m[p] = t
		}
	}
	for _, b := range bots {
		t := m[b]
		t.bot = b
		m[b] = t
	}
	for _, p := range tvProducts {
		t := m[p]
		t.tv = true
		m[p] = t
	}
	for p, h := range osProducts {
		t := m[p]
		t.hint = h
		m[p] = t
	}
	for _, p := range specialProducts {
		t := m[p]
		t.special = true
		m[p] = t
	}
	return m
}()

// scanUA reads ua word by word.
func scanUA(ua string) scan {
	var s scan
	var prev1, prev2 string // products of the two previous words
	for i := 0; i < len(ua); {
		if sep[ua[i]] {
			i++
			continue
		}
		// Find the end of the word and its first slash in one pass.
		slash, j := -1, i
		for ; j < len(ua) && !sep[ua[j]]; j++ {
			if ua[j] == '/' && slash < 0 {
				slash = j
			}
		}
		word, product, rest := ua[i:j], ua[i:j], ""
		if slash >= 0 {
			product, rest = ua[i:slash], ua[slash+1:j]
		}
		if numeric(product) {
			s.version(prev1, prev2, product)
		} else {
			s.word(word, product, rest, slash >= 0, prev1)
		}
		prev2, prev1 = prev1, product
		i = j
	}
	return s
}

// sep marks the bytes that separate words.
var sep = [256]bool{' ': true, ';': true, '(': true, ')': true, ',': true, '[': true, ']': true}

// numeric reports whether p is a version: digits, dots and underscores,
// starting with a digit ("13", "17_1_2", "10.0"). Products such as 360SE
// start with a digit too but are words.
func numeric(p string) bool {
	if p == "" || p[0] < '0' || p[0] > '9' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if c := p[i]; (c < '0' || c > '9') && c != '.' && c != '_' {
			return false
		}
	}
	return true
}

// word records what one non-numeric word says.
func (s *scan) word(word, product, rest string, slash bool, prev1 string) {
	if t, ok := lookup(product); ok {
		if t.app != 0 {
			s.setApp(t.app - 1)
		}
		if t.engine != 0 && (s.engine == 0 || t.engine < s.engine) {
			s.engine = t.engine
		}
		if t.bot != "" && (s.bot == "" || s.bot == genericBot) {
			s.bot = t.bot
		}
		s.tv = s.tv || t.tv
		s.hint = max(s.hint, t.hint)
		if t.special {
			s.special(product, rest, slash, prev1)
		}
	}
	// Products matched by prefix.
	if len(product) >= 4 {
		switch product[0] {
		case 'a':
			if strings.HasPrefix(product, "aweme") { // aweme_230400, aweme_lite
				s.setApp(appDouyin)
			}
		case 'M':
			if strings.HasPrefix(product, "MiTV") { // MiTV-MSSP1
				s.tv = true
			}
		case 'A':
			if isFireTV(product) {
				s.tv = true
			}
		}
	}
	// Weibo hides its name inside the device word:
	// "(iPhone13,2__weibo__12.3.2__iphone__os15.4)".
	if len(word) > 9 && strings.IndexByte(word, '_') >= 0 && strings.Contains(word, "__weibo__") {
		s.setApp(appWeibo)
	}
	if s.bot == "" || s.bot == genericBot {
		s.botWord(product)
	}
}

// special handles the products whose meaning depends on their context.
func (s *scan) special(product, rest string, slash bool, prev1 string) {
	switch product {
	case "Mobile":
		s.mobile = true
		s.mobileID = s.mobileID || slash
	case "iPad":
		s.ipad = true
	case "wv":
		s.wv = true
	case "Safari":
		s.safari = true
	case "Sogou":
		s.sogou = true
	case "Phone", "Tablet", "PC", "2in1":
		switch prev1 {
		case "Mozilla": // HarmonyOS NEXT: "Mozilla/5.0 (Phone; OpenHarmony 5.0)"
			s.form = product
		case "Windows": // Windows Phone 10.0
			if product == "Phone" {
				s.hint = max(s.hint, hintWindowsPhone)
			}
		}
	case "TB":
		if prev1 == "AliApp" { // Taobao: AliApp(TB/10.26.0)
			s.setApp(appTaobao)
		}
	case "XiaoMi":
		if strings.HasPrefix(rest, "MiuiBrowser") { // XiaoMi/MiuiBrowser/17.6
			s.setApp(appMIUI)
		}
	}
}

// botWord records product if it names a crawler the tokens map does not
// list as such.
func (s *scan) botWord(product string) {
	base := product
	if k := strings.IndexByte(product, '-'); k > 0 {
		// Variants of listed crawlers carry a suffix: Baiduspider-render,
		// Googlebot-Image, AdsBot-Google-Mobile.
		base = product[:k]
		if t, _ := lookup(base); t.bot != "" {
			s.bot = t.bot
			return
		}
	}
	if isBotProduct(product) || (base != product && isBotProduct(base)) {
		s.bot = botName(product)
	}
}

// genericBot is the name of a crawler this package does not know.
const genericBot = "bot"

// botName returns the listed crawler product is a variant of
// ("Baiduspider-render" → "Baiduspider"), or genericBot.
func botName(product string) string {
	for _, b := range bots {
		if strings.HasPrefix(product, b) {
			return b
		}
	}
	return genericBot
}

// setApp records apps[i] unless a better app was seen.
func (s *scan) setApp(i int) {
	if s.app == 0 || i+1 < s.app {
		s.app = i + 1
	}
}

// version records a numeric word by the words before it: "Android 13",
// "iPhone OS 17_1", "CPU OS 16_6", "Windows NT 10.0", "Windows Phone 10.0",
// "Mac OS X 10_15_7", "OpenHarmony 5.0", "CrOS x86_64 14541.0.0".
func (s *scan) version(prev1, prev2, word string) {
	k := numVersionKinds
	switch {
	case prev1 == "Android":
		k = verAndroid
	case prev1 == "OS" && (prev2 == "iPhone" || prev2 == "CPU"), prev1 == "iOS":
		k = verIOS
	case prev1 == "OpenHarmony", prev1 == "HarmonyOS":
		k = verHarmony
	case prev1 == "NT" && prev2 == "Windows":
		k = verWindowsNT
	case prev1 == "Phone" && prev2 == "Windows":
		k = verWindowsPhone
	case prev1 == "X" && prev2 == "OS":
		k = verMac
	case prev2 == "CrOS":
		k = verChromeOS
	}
	if k < numVersionKinds && s.versions[k] == "" {
		s.versions[k] = word
	}
}

// isFireTV reports whether product is an Amazon Fire TV model: AFT and
// capitals, such as AFTMM or AFTKA.
func isFireTV(product string) bool {
	if len(product) < 4 || len(product) > 8 || !strings.HasPrefix(product, "AFT") {
		return false
	}
	for i := 3; i < len(product); i++ {
		if c := product[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// isBotProduct reports whether product names an unlisted crawler: it ends
// in bot, Bot, spider, Spider, crawler or Crawler, or starts with Headless
// ("ExampleBot", "Sosospider", "SiteAuditCrawler", "HeadlessFirefox").
// Upper-case BOT is not matched: it ends Android phone models (CUBOT).
func isBotProduct(p string) bool {
	n := len(p)
	switch {
	case n < 3:
		return false
	case p[n-3:] == "bot" || p[n-3:] == "Bot":
		return true
	case n >= 6 && p[n-5:] == "pider" && (p[n-6] == 's' || p[n-6] == 'S'):
		return true
	case n >= 7 && p[n-6:] == "rawler" && (p[n-7] == 'c' || p[n-7] == 'C'):
		return true
	}
	return strings.HasPrefix(p, "Headless") || p == "Slurp"
}

// os turns the strongest hint into an OS.
func (h osHint) os() admeter.OS {
	switch h {
	case hintHarmony:
		return admeter.OSHarmonyOS
	case hintWindowsPhone:
		return admeter.OSWindowsPhone
	case hintAndroid:
		return admeter.OSAndroid
	case hintIOS:
		return admeter.OSIOS
	case hintChromeOS:
		return admeter.OSChromeOS
	case hintWindows:
		return admeter.OSWindows
	case hintMac:
		return admeter.OSMacOS
	case hintOther:
		return admeter.OSOther
	case hintLinux:
		return admeter.OSLinux
	}
	return admeter.OSUnknown
}
