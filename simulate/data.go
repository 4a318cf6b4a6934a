package simulate

// The tables below give the simulated traffic its shape. Each one is
// explained, with its source or the reasoning behind it, in
// docs/simulation.md; change the two together. They are read-only.

// diurnal is the relative ad traffic in each hour of the day, Asia/Shanghai
// time (index 0 is 00:00–00:59). Mobile use in China bottoms out at 03:00–
// 05:00, climbs through the morning commute, has a lunch bump and peaks at
// 20:00–22:00; the trough is about a tenth of the peak.
var diurnal = [24]float64{
	0.45, 0.28, 0.17, 0.12, 0.10, 0.13, 0.28, 0.55, 0.72, 0.78, 0.80, 0.84,
	0.93, 0.88, 0.80, 0.79, 0.80, 0.83, 0.88, 0.93, 0.98, 1.00, 0.92, 0.70,
}

// province is a province-level division with its share of traffic and IPv4
// /16 blocks that the embedded IPIP.net database (geoip.Embedded) places
// there, so that a relayed ns= address lands in the intended province.
type province struct {
	name   string
	weight float64 // population in millions, 2020 census
	blocks [3][2]byte
}

var provinces = []province{
	{"广东", 126.0, [3][2]byte{{14, 16}, {14, 112}, {14, 144}}},
	{"山东", 101.5, [3][2]byte{{27, 192}, {27, 200}, {39, 64}}},
	{"河南", 99.4, [3][2]byte{{1, 192}, {1, 196}, {42, 224}}},
	{"江苏", 84.7, [3][2]byte{{49, 64}, {49, 72}, {36, 149}}},
	{"四川", 83.7, [3][2]byte{{110, 184}, {112, 192}, {117, 172}}},
	{"河北", 74.6, [3][2]byte{{27, 184}, {60, 0}, {101, 16}}},
	{"湖南", 66.4, [3][2]byte{{106, 16}, {106, 24}, {58, 44}}},
	{"浙江", 64.6, [3][2]byte{{36, 16}, {36, 112}, {39, 170}}},
	{"安徽", 61.0, [3][2]byte{{36, 4}, {36, 56}, {60, 166}}},
	{"湖北", 57.8, [3][2]byte{{27, 16}, {27, 24}, {58, 48}}},
	{"广西", 50.1, [3][2]byte{{113, 12}, {171, 36}, {171, 104}}},
	{"云南", 47.2, [3][2]byte{{106, 56}, {112, 112}, {182, 240}}},
	{"江西", 45.2, [3][2]byte{{39, 158}, {106, 224}, {59, 52}}},
	{"辽宁", 42.6, [3][2]byte{{42, 4}, {42, 52}, {42, 176}}},
	{"福建", 41.5, [3][2]byte{{27, 148}, {59, 56}, {110, 80}}},
	{"陕西", 39.5, [3][2]byte{{1, 80}, {36, 40}, {113, 132}}},
	{"贵州", 38.6, [3][2]byte{{1, 204}, {111, 120}, {117, 187}}},
	{"山西", 34.9, [3][2]byte{{1, 68}, {110, 176}, {118, 72}}},
	{"重庆", 32.1, [3][2]byte{{14, 104}, {27, 8}, {106, 80}}},
	{"黑龙江", 31.9, [3][2]byte{{1, 56}, {1, 188}, {112, 98}}},
	{"新疆", 25.9, [3][2]byte{{36, 182}, {49, 112}, {110, 152}}},
	{"甘肃", 25.0, [3][2]byte{{27, 224}, {42, 88}, {118, 180}}},
	{"上海", 24.9, [3][2]byte{{58, 24}, {58, 33}, {61, 152}}},
	{"吉林", 24.1, [3][2]byte{{119, 48}, {122, 136}, {36, 48}}},
	{"内蒙古", 24.0, [3][2]byte{{1, 24}, {1, 180}, {116, 112}}},
	{"北京", 21.9, [3][2]byte{{1, 88}, {1, 89}, {1, 202}}},
	{"天津", 13.9, [3][2]byte{{60, 24}, {111, 160}, {117, 8}}},
	{"海南", 10.1, [3][2]byte{{111, 28}, {112, 66}, {223, 198}}},
	{"宁夏", 7.2, [3][2]byte{{111, 49}, {14, 134}, {124, 224}}},
	{"青海", 5.9, [3][2]byte{{110, 166}, {223, 220}, {36, 100}}},
	{"西藏", 3.6, [3][2]byte{{101, 248}, {113, 62}, {124, 31}}},
}

// dataCentreBlocks are IPv4 networks of Chinese cloud providers (Alibaba
// Cloud, Tencent Cloud, Huawei Cloud, AWS China), given as first two octets
// and prefix length. Invalid traffic of kind IVTDataCentre is relayed from
// them.
var dataCentreBlocks = []struct {
	a, b byte
	bits int
}{
	{47, 92, 14},   // Alibaba Cloud (AS37963), Beijing/Zhangjiakou
	{120, 24, 14},  // Alibaba Cloud, Shenzhen
	{121, 40, 14},  // Alibaba Cloud, Hangzhou
	{119, 29, 16},  // Tencent Cloud (AS45090)
	{115, 159, 16}, // Tencent Cloud
	{121, 36, 16},  // Huawei Cloud (AS55990)
	{52, 80, 16},   // AWS China, Beijing (cn-north-1)
}

// brand is an Android handset maker: its share of Chinese Android devices,
// the shape of its OAID and whether it supports the MSA OAID at all.
type brand struct {
	name   string
	weight float64
	oaid   oaidShape
	msa    float64 // probability that the device returns an OAID
	models []string
}

// oaidShape is how a maker's OAID looks (pseudo package: "UUIDs from Huawei
// and Samsung, 16 or 64 hex digits from Xiaomi, vivo and OPPO").
type oaidShape uint8

const (
	oaidUUID   oaidShape = iota // 8-4-4-4-12 lowercase hex
	oaidHex16                   // 16 lowercase hex
	oaidHex64                   // 64 lowercase hex
	oaidHex64U                  // 64 uppercase hex
)

var brands = []brand{
	{"Huawei", 0.20, oaidUUID, 0.95, []string{"NOH-AL00", "ELS-AN00", "JAD-AL50", "ALN-AL00"}},
	{"Honor", 0.10, oaidUUID, 0.95, []string{"ANY-AN00", "FNE-AN00", "PGT-AN10"}},
	{"Xiaomi", 0.20, oaidHex16, 0.95, []string{"2211133C", "23127PN0CC", "M2102J2SC", "22081212C"}},
	{"OPPO", 0.18, oaidHex64U, 0.95, []string{"PGT110", "PHB110", "PJA110", "PFZM10"}},
	{"vivo", 0.18, oaidHex64, 0.95, []string{"V2227A", "V2309A", "V2154A"}},
	{"Samsung", 0.02, oaidUUID, 0.90, []string{"SM-S9180", "SM-S9210"}},
	{"other", 0.12, oaidUUID, 0.50, []string{"NX729J", "MEIZU 20", "L78121"}},
}

// androidVersion is an Android release with its share of Chinese devices and
// a build id for user agents.
type androidVersion struct {
	release string
	api     int
	weight  float64
	build   string
}

var androidVersions = []androidVersion{
	{"15", 35, 0.12, "AP3A.240905.015"},
	{"14", 34, 0.25, "UP1A.231005.007"},
	{"13", 33, 0.20, "TP1A.220624.014"},
	{"12", 31, 0.16, "SKQ1.211006.001"},
	{"11", 30, 0.10, "RKQ1.200826.002"},
	{"10", 29, 0.08, "QKQ1.190910.002"},
	{"9", 28, 0.05, "PKQ1.180904.001"},
	{"8.1.0", 27, 0.02, "OPM1.171019.011"},
	{"7.1.1", 25, 0.02, "NMF26F"},
}

// iosVersion is an iOS release with its share and the CFNetwork and Darwin
// versions an app's HTTP client reports on it.
type iosVersion struct {
	release, cfnetwork, darwin string
	weight                     float64
}

var iosVersions = []iosVersion{
	{"18.1", "1568.200.51", "24.1.0", 0.40},
	{"17.6", "1496.0.7", "23.6.0", 0.35},
	{"16.7", "1410.0.3", "22.6.0", 0.15},
	{"15.8", "1335.0.3", "21.6.0", 0.10},
}

var iphoneModels = []string{"iPhone16,1", "iPhone15,2", "iPhone14,2", "iPhone13,2", "iPhone12,1"}

// webAgent is a browser of cookie-only web traffic: its user agent, its share
// of web devices, and whether it returns a third-party cookie (Safari and
// every iOS WebView block them: Intelligent Tracking Prevention).
type webAgent struct {
	ua      string
	weight  float64
	cookies bool
	mo      string // the OS as the Miaozhen mo code would say
}

var webAgents = []webAgent{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 0.20, true, "3"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 0.14, true, "3"},
	{"Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.95 Safari/537.36 QIHU 360SE", 0.12, true, "3"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Core/1.116.454.400 QQBrowser/13.0.6071.400", 0.09, true, "3"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", 0.08, false, "3"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", 0.07, true, "0"},
	{"Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64", 0.08, true, "0"},
	{"Mozilla/5.0 (Linux; U; Android 12; zh-CN; 2201123C Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/17.1.5.1322 Mobile Safari/537.36", 0.05, true, "0"},
	{"Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AL00; HMSCore 6.13.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36", 0.05, true, "0"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", 0.07, false, "1"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN", 0.05, false, "1"},
}

// crawlerAgents are the user agents of IVTCrawler traffic: search-engine
// spiders that render pages with their ad tags, and a headless browser.
var crawlerAgents = []string{
	"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
	"Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
	"Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/69.0.3497.81 YisouSpider/5.0 Safari/537.36",
	"Mozilla/5.0 (compatible; 360Spider)",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
}

// harmonyAgent is the user agent of HarmonyOS NEXT apps (Miaozhen mo=3).
const harmonyAgent = "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile"

// emulatorModels are what emulators report as the device model.
var emulatorModels = []string{"sdk_gphone64_x86_64", "Android SDK built for x86", "MuMu", "LDPlayer"}
