package codes

import (
	"html"
	"net/url"
	"strings"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/collect/macro"
)

// Platform names the media platform whose macro convention a code follows.
type Platform string

// Platforms, in the order the console lists them.
const (
	MMA         Platform = "mma"         // MMA China / Miaozhen __X__ macros
	OceanEngine Platform = "oceanengine" // Ocean Engine (ByteDance) __X__ macros
	Tencent     Platform = "tencent"     // Tencent Ads (Guangdiantong) __X__ macros
	Baidu       Platform = "baidu"       // Baidu {{X}} macros
	Kuaishou    Platform = "kuaishou"    // Kuaishou __X__ macros
	Bilibili    Platform = "bilibili"    // Bilibili, which fills the MMA China macros
	Web         Platform = "web"         // a plain web pixel: no macros
)

// MaxLandingLen is the longest landing URL Codes accepts, in bytes. The
// collector refuses request targets over macro.MaxTargetLen (16 KiB); 8 KiB
// leaves room for the macros once the media has filled them, and for the
// media's own limits.
const MaxLandingLen = 8 << 10

// maxIDLen bounds a campaign or placement id.
const maxIDLen = 64

// Text is a piece of console text in Simplified Chinese and in English.
type Text struct {
	ZH string
	EN string
}

// PlatformInfo describes a platform for the console: its names and a
// one-line note on what it fills in.
type PlatformInfo struct {
	Platform Platform
	NameZH   string
	NameEN   string
	Note     Text
}

// Code is the monitoring code of one placement for one platform.
type Code struct {
	Platform Platform
	// Impression is the impression monitoring URL (曝光监测).
	Impression string
	// Click is the click monitoring URL (点击监测). It redirects to the
	// landing URL after o=, which is always its last parameter.
	Click string
	// Snippet is an HTML <img> tag for the web platform, "" for the others.
	Snippet string
	// Notes say what the code does not carry and what to watch for when
	// pasting it, in the order the console should show them.
	Notes []Text
}

// param maps one of the collector's Miaozhen letters to a platform's macro.
type param struct {
	letter string
	macro  string
	click  bool // in the click code only
}

// platform is everything Codes knows about one platform.
type platform struct {
	info   PlatformInfo
	params []param // in letterOrder
	notes  []Text
}

// letterOrder is the order of the letters in every URL; it starts with the
// MMA set in the order api.ImpressionURL writes it.
var letterOrder = []string{"mo", "ns", "m0", "m1a", "m2", "m4", "m5", "m5a", "m6", "m6a", "m11", "m11a", "m14", "tr", "mt"}

// Notes shared by several platforms.
var (
	noteUnreplaced = Text{
		ZH: "媒体未替换的宏（如 __IDFA__、{{IDFA}}）按缺失处理，不会被当作设备标识。",
		EN: "Macros the platform does not replace (such as __IDFA__ or {{IDFA}}) count as absent, never as a device id.",
	}
	noteNoUA = Text{
		ZH: "不使用 User-Agent 宏：采集端只读取请求自身的 User-Agent 头。媒体服务器代发请求时，操作系统取自 OS 宏，设备类型可能未知。",
		EN: "No User-Agent macro is used: the collector reads only the request's own User-Agent header. When the platform calls from its servers, the OS comes from the OS macro and the device type may be unknown.",
	}
	noteNoIDFAMD5 = Text{
		ZH: "不使用 MD5 形式的 IDFA：采集端尚无对应参数。iOS 设备按 IDFA 原值和 CAID 计。",
		EN: "No MD5 IDFA macro is used: the collector has no parameter for one yet. iOS devices are counted by the raw IDFA and the CAID.",
	}
	noteNoOSUA = Text{
		ZH: "代码不含操作系统宏，操作系统取自请求的 User-Agent；媒体服务器代发时为未知。",
		EN: "The code has no OS macro: the OS comes from the request's User-Agent, and is unknown when the platform calls from its servers.",
	}
	noteClickO = Text{
		ZH: "点击代码会跳转到 o= 之后的落地页：o= 必须保持在最后，其后的网址原样保留，不要再编码。",
		EN: "The click code redirects to the landing URL after o=: keep o= last and leave the URL after it exactly as it is, without encoding it.",
	}
	noteClickEmptyO = Text{
		ZH: "点击代码以 o= 结尾：媒体可在其后直接拼接落地页；不拼接时，点击跳转到活动的落地页。",
		EN: "The click code ends with o=: the platform may append the landing URL right after it; if it does not, the click goes to the campaign's landing URL.",
	}
)

// platforms is the mapping of each platform's macros to our letters. The
// sources are in doc.go.
var platforms = []platform{
	{
		info: PlatformInfo{MMA, "MMA 中国 / 秒针", "MMA China / Miaozhen", Text{
			ZH: "MMA 中国与秒针的 __X__ 宏：OS、IP、IMEI(MD5)、Android ID(MD5)、OAID(原值与 MD5)、IDFA、MAC(MD5)、AAID、OpenUDID、CAID、请求 ID、时间戳。",
			EN: "MMA China and Miaozhen __X__ macros: OS, IP, IMEI (MD5), Android ID (MD5), OAID (raw and MD5), IDFA, MAC (MD5), AAID, OpenUDID, CAID, request id, timestamp.",
		}},
		params: []param{
			{"mo", "__OS__", false}, {"ns", "__IP__", false}, {"m0", "__OPENUDID__", false},
			{"m1a", "__ANDROIDID__", false}, {"m2", "__IMEI__", false}, {"m4", "__AAID__", false},
			{"m5", "__IDFA__", false}, {"m6", "__MAC1__", false}, {"m6a", "__MAC__", false},
			{"m11", "__OAID__", false}, {"m11a", "__OAID1__", false}, {"m14", "__CAID__", false},
			{"tr", "__REQUESTID__", false}, {"mt", "__TS__", false},
		},
		notes: []Text{
			{
				ZH: "适用于使用 MMA 中国 SDK 或接受秒针监测代码的媒体：作为第三方曝光、点击监测链接填写。",
				EN: "For media that use the MMA China SDK or accept Miaozhen monitoring codes: paste them as the third-party impression and click monitoring URLs.",
			},
			noteUnreplaced,
		},
	},
	{
		info: PlatformInfo{OceanEngine, "巨量引擎（字节跳动）", "Ocean Engine (ByteDance)", Text{
			ZH: "巨量引擎 __X__ 宏：OS、IP、IMEI(MD5)、Android ID(MD5)、OAID(原值与 MD5)、IDFA、MAC(MD5)、CAID、时间戳。",
			EN: "Ocean Engine __X__ macros: OS, IP, IMEI (MD5), Android ID (MD5), OAID (raw and MD5), IDFA, MAC (MD5), CAID, timestamp.",
		}},
		params: []param{
			{"mo", "__OS__", false}, {"ns", "__IP__", false}, {"m1a", "__ANDROIDID__", false},
			{"m2", "__IMEI__", false}, {"m5", "__IDFA__", false}, {"m6a", "__MAC__", false},
			{"m11", "__OAID__", false}, {"m11a", "__OAID_MD5__", false}, {"m14", "__CAID__", false},
			{"mt", "__TS__", false},
		},
		notes: []Text{
			noteUnreplaced,
			noteNoIDFAMD5,
			noteNoUA,
			{
				ZH: "不含转化回传与计划、创意宏（__CALLBACK_PARAM__、__AID__、__CID__ 等）：admeter 不记录它们。",
				EN: "Conversion-callback and plan or creative macros (__CALLBACK_PARAM__, __AID__, __CID__ …) are left out: admeter does not record them.",
			},
		},
	},
	{
		info: PlatformInfo{Tencent, "腾讯广告（广点通）", "Tencent Ads (Guangdiantong)", Text{
			ZH: "腾讯广告 __X__ 宏：IP、OAID(原值与 MD5)、Android ID(MD5)、IDFA、点击时间；暂不含 MUID 与操作系统。",
			EN: "Tencent Ads __X__ macros: IP, OAID (raw and MD5), Android ID (MD5), IDFA, click time; MUID and the OS are not carried yet.",
		}},
		params: []param{
			{"ns", "__IP__", false}, {"m1a", "__HASH_ANDROID_ID__", false}, {"m5", "__IDFA__", false},
			{"m11", "__OAID__", false}, {"m11a", "__HASH_OAID__", false}, {"mt", "__CLICK_TIME__", true},
		},
		notes: []Text{
			noteUnreplaced,
			{
				ZH: "暂不使用 __MUID__（安卓为 IMEI 的 MD5，iOS 为 IDFA 的 MD5）：采集端尚不能区分两者。只有 MUID 的设备不计入独立用户。",
				EN: "__MUID__ (the MD5 of the IMEI on Android, of the IDFA on iOS) is not used yet: the collector cannot tell which of the two it is. Devices that send only a MUID are not counted as unique users.",
			},
			noteNoOSUA,
			{
				ZH: "事件时间只在点击代码中传递（__CLICK_TIME__）；曝光按接收时间计。",
				EN: "The event time is carried by the click code only (__CLICK_TIME__); impressions take the time they are received.",
			},
		},
	},
	{
		info: PlatformInfo{Baidu, "百度营销", "Baidu", Text{
			ZH: "百度 {{X}} 宏：IP、IMEI(MD5)、Android ID(MD5)、OAID、IDFA、时间戳；不含操作系统（百度的编码不同）。",
			EN: "Baidu {{X}} macros: IP, IMEI (MD5), Android ID (MD5), OAID, IDFA, timestamp; not the OS (Baidu codes it differently).",
		}},
		params: []param{
			{"ns", "{{IP}}", false}, {"m1a", "{{ANDROID_ID_MD5}}", false}, {"m2", "{{IMEI_MD5}}", false},
			{"m5", "{{IDFA}}", false}, {"m11", "{{OAID}}", false}, {"mt", "{{TS}}", false},
		},
		notes: []Text{
			noteUnreplaced,
			{
				ZH: "不使用 {{OS}}：百度以 2 表示安卓、1 表示 iOS，而 admeter 的 mo 参数中 2 表示 Windows Phone。操作系统取自请求的 User-Agent；百度服务器代发时为未知。",
				EN: "{{OS}} is not used: Baidu sends 2 for Android and 1 for iOS, while admeter's mo reads 2 as Windows Phone. The OS comes from the request's User-Agent, and is unknown when Baidu calls from its servers.",
			},
			{
				ZH: "不使用 {{MAC}}：百度未说明其为原值还是 MD5、是否带冒号。",
				EN: "{{MAC}} is not used: Baidu does not say whether it is raw or MD5, with or without colons.",
			},
		},
	},
	{
		info: PlatformInfo{Kuaishou, "磁力引擎（快手）", "Kuaishou", Text{
			ZH: "快手 __X__ 宏：OS、IP、IMEI(MD5)、Android ID(MD5)、OAID、IDFA、时间戳。",
			EN: "Kuaishou __X__ macros: OS, IP, IMEI (MD5), Android ID (MD5), OAID, IDFA, timestamp.",
		}},
		params: []param{
			{"mo", "__OS__", false}, {"ns", "__IP__", false}, {"m1a", "__ANDROIDID2__", false},
			{"m2", "__IMEI2__", false}, {"m5", "__IDFA__", false}, {"m11", "__OAID__", false},
			{"mt", "__TS__", false},
		},
		notes: []Text{
			noteUnreplaced,
			{
				ZH: "不使用 __MAC2__：快手未说明取 MD5 前 MAC 的格式（大小写、是否带冒号）。",
				EN: "__MAC2__ is not used: Kuaishou does not say how the MAC is written (case, colons) before it is hashed.",
			},
			{
				ZH: "不使用 __IDFA2__（iOS，IDFA 的 MD5）：采集端尚无 MD5 形式 IDFA 的参数。",
				EN: "__IDFA2__ (iOS, the MD5 of the IDFA) is not used: the collector has no parameter for an MD5 IDFA yet.",
			},
			noteNoUA,
		},
	},
	{
		info: PlatformInfo{Bilibili, "哔哩哔哩", "Bilibili", Text{
			ZH: "哔哩哔哩按 MMA 中国宏替换：OS、IP、IMEI(MD5)、Android ID(MD5)、OAID(原值与 MD5)、IDFA、IDFV、MAC(MD5)、AAID、OpenUDID、CAID、请求 ID。",
			EN: "Bilibili fills the MMA China macros: OS, IP, IMEI (MD5), Android ID (MD5), OAID (raw and MD5), IDFA, IDFV, MAC (MD5), AAID, OpenUDID, CAID, request id.",
		}},
		params: []param{
			{"mo", "__OS__", false}, {"ns", "__IP__", false}, {"m0", "__OPENUDID__", false},
			{"m1a", "__ANDROIDID__", false}, {"m2", "__IMEI__", false}, {"m4", "__AAID__", false},
			{"m5", "__IDFA__", false}, {"m5a", "__IDFV__", false}, {"m6", "__MAC1__", false},
			{"m6a", "__MAC__", false}, {"m11", "__OAID__", false}, {"m11a", "__OAID1__", false},
			{"m14", "__CAID__", false}, {"tr", "__REQUESTID__", false},
		},
		notes: []Text{
			noteUnreplaced,
			{
				ZH: "哔哩哔哩的监测链接中未见时间戳宏：事件按接收时间计。",
				EN: "No timestamp macro is known for Bilibili: events take the time they are received.",
			},
		},
	},
	{
		info: PlatformInfo{Web, "网页像素", "Web pixel", Text{
			ZH: "网页像素：<img> 标签与点击链接，不含设备宏；浏览器以匿名 Cookie 计。",
			EN: "Web pixel: an <img> tag and a click link, with no device macros; browsers are counted by an anonymous cookie.",
		}},
		notes: []Text{
			{
				ZH: "把 <img> 标签放在展示广告的网页中；点击链接作为广告链接的 href。",
				EN: "Put the <img> tag in the page that shows the ad, and use the click URL as the ad link's href.",
			},
			{
				ZH: "选择退出或发送 GPC（Sec-GPC: 1）的浏览器不被计入。",
				EN: "Browsers that opted out or send Global Privacy Control (Sec-GPC: 1) are not counted.",
			},
		},
	},
}

// Platforms lists every platform, in the order the console shows them.
func Platforms() []PlatformInfo {
	out := make([]PlatformInfo, len(platforms))
	for i := range platforms {
		out[i] = platforms[i].info
	}
	return out
}

// Valid reports whether p is a known platform.
func (p Platform) Valid() bool { return find(p) != nil }

func find(p Platform) *platform {
	for i := range platforms {
		if platforms[i].info.Platform == p {
			return &platforms[i]
		}
	}
	return nil
}

// Codes returns the monitoring code of a placement for platform p.
//
// base is the collector's public origin, such as https://t.example.com (a
// trailing slash is dropped; a path, query or fragment is refused, because
// the collector reads /x and /r at the root). campaign and placement are
// the ids admeter gave them: ASCII letters and digits. landing is the URL a
// click goes to; it must be an absolute http or https URL without spaces or
// a user name, and it is put after o= exactly as given (surrounding white
// space aside). An empty landing gives a click code that ends with o=, for
// media that append the landing URL themselves; without one, the collector
// sends the click to the campaign's landing URL.
//
// Codes is deterministic: the same arguments give the same Code. Every
// error is an *admeter.Error with code EINVALID saying what to fix.
func Codes(base string, campaign admeter.CampaignID, placement admeter.PlacementID, landing string, p Platform) (Code, error) {
	pl := find(p)
	if pl == nil {
		return Code{}, admeter.Errorf(admeter.EINVALID, "unknown platform %q: use one of %s", p, platformList())
	}
	origin, err := checkBase(base)
	if err != nil {
		return Code{}, err
	}
	if !validID(string(campaign)) {
		return Code{}, admeter.Errorf(admeter.EINVALID, "campaign id %q must be 1 to %d ASCII letters or digits", campaign, maxIDLen)
	}
	if !validID(string(placement)) {
		return Code{}, admeter.Errorf(admeter.EINVALID, "placement id %q must be 1 to %d ASCII letters or digits", placement, maxIDLen)
	}
	landing = strings.TrimSpace(landing)
	if err := checkLanding(landing); err != nil {
		return Code{}, err
	}

	kp := "k=" + url.QueryEscape(string(campaign)) + "&p=" + url.QueryEscape(string(placement))
	var imp, clk strings.Builder
	imp.WriteString(origin + "/x/" + kp)
	clk.WriteString(origin + "/r/" + kp)
	for _, m := range pl.params {
		q := "&" + m.letter + "=" + m.macro
		if !m.click {
			imp.WriteString(q)
		}
		clk.WriteString(q)
	}
	clk.WriteString("&o=" + landing)

	c := Code{Platform: p, Impression: imp.String(), Click: clk.String()}
	if p == Web {
		c.Snippet = `<img src="` + html.EscapeString(c.Impression) +
			`" width="1" height="1" alt="" style="display:none" referrerpolicy="no-referrer-when-downgrade">`
	}
	c.Notes = append(c.Notes, pl.notes...)
	if landing == "" {
		c.Notes = append(c.Notes, noteClickEmptyO)
	} else {
		c.Notes = append(c.Notes, noteClickO)
	}
	return c, nil
}

// All returns the codes of a placement for every platform, in the order of
// Platforms. Its errors are those of Codes.
func All(base string, campaign admeter.CampaignID, placement admeter.PlacementID, landing string) ([]Code, error) {
	out := make([]Code, 0, len(platforms))
	for _, pl := range platforms {
		c, err := Codes(base, campaign, placement, landing, pl.info.Platform)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func platformList() string {
	names := make([]string, len(platforms))
	for i, pl := range platforms {
		names[i] = string(pl.info.Platform)
	}
	return strings.Join(names, ", ")
}

// checkBase validates the collector origin and returns it without a
// trailing slash.
func checkBase(base string) (string, error) {
	base = strings.TrimSpace(base)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", admeter.Errorf(admeter.EINVALID,
			"collector base URL %q must be an http or https origin such as https://t.example.com, without a path, query or user name", base)
	}
	return strings.TrimSuffix(base, "/"), nil
}

// checkLanding validates a landing URL that is already trimmed.
func checkLanding(landing string) error {
	if landing == "" {
		return nil
	}
	if len(landing) > MaxLandingLen {
		return admeter.Errorf(admeter.EINVALID, "the landing URL is %d bytes long; shorten it to at most %d bytes", len(landing), MaxLandingLen)
	}
	for i := 0; i < len(landing); i++ {
		if c := landing[i]; c <= ' ' || c == 0x7f {
			return admeter.Errorf(admeter.EINVALID, "the landing URL contains a space or a control character at byte %d; percent-encode it (a space is %%20)", i)
		}
	}
	u, err := url.Parse(landing)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return admeter.Errorf(admeter.EINVALID, "the landing URL must be an absolute http or https URL such as https://shop.example.com/sale")
	}
	if u.User != nil {
		return admeter.Errorf(admeter.EINVALID, "the landing URL must not contain a user name or password")
	}
	// The collector must be able to tell that o= is not itself URL-encoded
	// and must not take it for an unreplaced macro; an http(s) URL starting
	// with its own scheme can be neither, but keep the guarantee explicit.
	if macro.DecodeRedirect(landing) != landing || macro.IsUnreplacedMacro(landing) {
		return admeter.Errorf(admeter.EINVALID, "the landing URL must not be URL-encoded: give it as https://…, not https%%3A%%2F%%2F…")
	}
	return nil
}

// validID reports whether id is 1 to maxIDLen ASCII letters or digits.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
