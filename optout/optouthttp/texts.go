package optouthttp

import (
	"fmt"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/pseudo"
)

// texts is the wording of the page in one language. Fields that are format
// strings say so; the values are filled in by newTexts.
type texts struct {
	HTMLLang  string // the lang attribute
	Title     string
	Lead      string
	OtherLang string // the label of the link to the other language
	OtherCode string // its lang parameter

	WhatH   string
	What    []string
	EffectH string
	Effect  []string

	BrowserH         string
	BrowserOptedOut  string
	BrowserNotYet    string
	BrowserButton    string
	BrowserRenew     string
	BrowserCookie    string // format: opt-out cookie name, id cookie name
	BrowserClear     string
	BrowserPartition string
	GPC              string // shown only when the collector honours GPC
	GPCSent          string // shown when this request carries Sec-GPC: 1

	DeviceH      string
	DeviceIntro  string
	DeviceWhere  string
	TypeLabel    string
	IDLabel      string
	DeviceButton string

	DoneBrowser string
	DoneDevice  string // format: the identifier type's name

	// Problems by code; id_malformed is a format: name, description.
	Problems    map[string]string
	MD5Also     string // appended to the description of a raw format
	TypeLabels  map[admeter.IDType]string
	RawFormatOf func(admeter.IDType) string
}

var zhTexts = texts{
	HTMLLang:  "zh-CN",
	Title:     "退出 admeter 广告监测",
	Lead:      "您可以在本页退出 admeter 的广告监测。无需登录,也无需提供姓名或手机号。",
	OtherLang: "English",
	OtherCode: langEN,

	WhatH: "admeter 测量什么",
	What: []string{
		"admeter 是为广告主和媒体提供服务的第三方广告监测平台。当您看到或点击带有我们监测代码的广告时,我们记录一次展示或点击,用来统计广告被展示和点击的次数、看到广告的人数和频次,以及广告的效果。",
		"这些数据在到达时即被去标识化:设备标识符(如 OAID、IDFA、IMEI、Android ID)和我们的浏览器标识 Cookie 会立即经密钥哈希转换为无法还原的假名;IP 地址只用于判断大致地区,只保留所在网段;精确位置会被粗化。我们不收集您的姓名、手机号等能直接识别您身份的信息。",
	},
	EffectH: "退出后会怎样",
	Effect: []string{
		"退出后,我们从此不再记录、统计或转发来自此浏览器或此设备的任何数据:相关请求在到达时即被丢弃。退出在一秒内生效。",
		"退出不会删除此前已经处理的数据,删除是另一种请求。如需删除,请联系向您展示广告的广告主或媒体 App,由他们将您的请求转交给 admeter 处理。",
	},

	BrowserH:         "退出此浏览器",
	BrowserOptedOut:  "此浏览器已退出 admeter 广告监测。",
	BrowserNotYet:    "此浏览器尚未退出。",
	BrowserButton:    "让此浏览器退出",
	BrowserRenew:     "再次确认此浏览器退出",
	BrowserCookie:    "点击后,我们会在此浏览器中保存一个长期有效的退出 Cookie(%s),并删除我们的浏览器标识 Cookie(%s)。除此之外不会设置任何 Cookie。",
	BrowserClear:     "清除浏览器 Cookie 会同时清除退出 Cookie,此浏览器的退出随之失效。清除 Cookie 后请重新访问本页,或使用下方的设备退出。",
	BrowserPartition: "部分浏览器会按网站隔离 Cookie,此时在本页保存的退出 Cookie 可能无法作用于其他网站上的广告。",
	GPC:              "我们遵从全球隐私控制(Global Privacy Control,GPC):如果您的浏览器发送 GPC 信号(Sec-GPC: 1),我们不记录来自此浏览器的任何数据;它不依赖 Cookie,在所有网站上都有效。",
	GPCSent:          "您的浏览器正在发送 GPC 信号,我们不会记录来自此浏览器的数据。",

	DeviceH:      "退出移动设备",
	DeviceIntro:  "App 中的广告通过设备的广告标识符计量。输入设备的标识符,即可让这台设备退出。可以输入原始值,也可以输入其 MD5(32 位十六进制),两者效果相同。我们只保存标识符经密钥哈希后的假名,不保存您输入的值。",
	DeviceWhere:  "标识符通常可以在手机的隐私或广告设置中查看。退出只对您提交的标识符生效:如果设备有多个标识符(如 OAID 和 IMEI,或双卡手机的两个 IMEI),请逐一提交;如果您重置了广告标识符(如 OAID 或 IDFA),新的标识符需要重新退出。",
	TypeLabel:    "标识符类型",
	IDLabel:      "标识符",
	DeviceButton: "让此设备退出",

	DoneBrowser: "完成:此浏览器已退出。从现在起,我们不再记录来自此浏览器的数据。",
	DoneDevice:  "完成:该设备(%s)已退出。从现在起,我们不再记录带有此标识符的数据。",

	Problems: map[string]string{
		probBody:        "提交的内容无法识别,请重新提交。",
		probTooLarge:    "提交的内容过长。",
		probIDType:      "请选择标识符类型。",
		probForm:        "提交的内容无法识别,请重新提交。",
		probEmpty:       "请输入标识符。",
		probPlaceholder: "您输入的标识符是占位值(例如全为 0),不对应任何设备。请检查后重新输入。",
		probMalformed:   "标识符格式不正确:%s %s。",
		probAction:      "未知的操作,请使用本页的按钮。",
		probCrossSite:   "此请求来自其他网站,已被拒绝。请直接在本页操作。",
		probLimited:     "请求过于频繁,请稍后再试。",
		probInternal:    "退出未能保存,请稍后再试。",
	},
	MD5Also: ",也可以输入其 MD5(32 位十六进制)",
	TypeLabels: map[admeter.IDType]string{
		admeter.IDOAID:      "OAID(安卓手机)",
		admeter.IDIDFA:      "IDFA(iPhone / iPad)",
		admeter.IDIMEI:      "IMEI / MEID(安卓手机)",
		admeter.IDAndroidID: "Android ID",
		admeter.IDAAID:      "AAID(Google 广告 ID)",
		admeter.IDIDFV:      "IDFV(iPhone / iPad)",
		admeter.IDCAID:      "CAID(iPhone / iPad)",
		admeter.IDOpenUDID:  "OpenUDID(旧版 iOS)",
		admeter.IDMAC:       "MAC 地址",
	},
	RawFormatOf: func(t admeter.IDType) string { return typeInfos[t].zhRaw },
}

var enTexts = texts{
	HTMLLang:  "en",
	Title:     "Opt out of admeter ad measurement",
	Lead:      "On this page you can opt out of admeter's ad measurement. You do not sign in, and you give no name or phone number.",
	OtherLang: "中文",
	OtherCode: langZH,

	WhatH: "What admeter measures",
	What: []string{
		"admeter is a third-party ad measurement platform working for advertisers and media. When you see or click an ad that carries our measurement code, we record one impression or click, to count how often ads are shown and clicked, how many people saw them and how often, and how well they worked.",
		"This data is de-identified on arrival: device identifiers (such as OAID, IDFA, IMEI, Android ID) and our browser id cookie are at once turned into pseudonyms by a keyed hash that cannot be reversed; the IP address is used only to find the approximate region, and only its network block is kept; precise locations are coarsened. We do not collect your name, phone number or anything else that identifies you directly.",
	},
	EffectH: "What opting out does",
	Effect: []string{
		"From the moment you opt out, nothing from this browser or device is recorded, counted or passed on: its requests are dropped on arrival. The opt-out takes effect within a second.",
		"Opting out does not delete data processed before; deletion is a separate request. To have it deleted, contact the advertiser or the media app that showed you the ad: they forward your request to admeter.",
	},

	BrowserH:         "Opt out this browser",
	BrowserOptedOut:  "This browser has opted out of admeter ad measurement.",
	BrowserNotYet:    "This browser has not opted out.",
	BrowserButton:    "Opt out this browser",
	BrowserRenew:     "Opt out this browser again",
	BrowserCookie:    "The button stores a long-lived opt-out cookie (%s) in this browser and deletes our browser id cookie (%s). No other cookie is set.",
	BrowserClear:     "Clearing your browser's cookies also clears the opt-out cookie, and this browser is then no longer opted out. After clearing cookies, come back to this page, or use the device opt-out below.",
	BrowserPartition: "Some browsers keep cookies apart per website; there the opt-out cookie stored by this page may not reach ads on other websites.",
	GPC:              "We honour Global Privacy Control (GPC): if your browser sends the GPC signal (Sec-GPC: 1), we record nothing from it. It needs no cookie and works on every website.",
	GPCSent:          "Your browser is sending the GPC signal, so we record nothing from it.",

	DeviceH:      "Opt out a mobile device",
	DeviceIntro:  "Ads in apps are measured by the device's advertising identifier. Enter the identifier to opt the device out. You may enter the value itself or its MD5 (32 hex digits); both have the same effect. We keep only a keyed-hash pseudonym of the identifier, never the value you enter.",
	DeviceWhere:  "You can usually find the identifier in your phone's privacy or advertising settings. An opt-out covers the identifier you enter: if the device has several (such as an OAID and an IMEI, or two IMEIs on a dual-SIM phone), enter each of them; if you reset your advertising identifier (such as the OAID or IDFA), the new one has to be opted out again.",
	TypeLabel:    "Identifier type",
	IDLabel:      "Identifier",
	DeviceButton: "Opt out this device",

	DoneBrowser: "Done: this browser has opted out. From now on we record nothing from it.",
	DoneDevice:  "Done: the device (%s) has opted out. From now on we record nothing that carries this identifier.",

	Problems: map[string]string{
		probBody:        "The form could not be read; please send it again.",
		probTooLarge:    "The form is too long.",
		probIDType:      "Please choose the identifier type.",
		probForm:        "The form could not be read; please send it again.",
		probEmpty:       "Please enter the identifier.",
		probPlaceholder: "The identifier you entered is a placeholder (for example all zeros) and names no device. Please check it and try again.",
		probMalformed:   "The %s you entered is not valid: it should be %s.",
		probAction:      "Unknown action; please use the buttons on this page.",
		probCrossSite:   "This request came from another website and was refused. Please use this page directly.",
		probLimited:     "Too many requests; please try again later.",
		probInternal:    "The opt-out could not be saved; please try again later.",
	},
	MD5Also: ", or its MD5 (32 hex digits)",
	TypeLabels: map[admeter.IDType]string{
		admeter.IDOAID:      "OAID (Android)",
		admeter.IDIDFA:      "IDFA (iPhone / iPad)",
		admeter.IDIMEI:      "IMEI / MEID (Android)",
		admeter.IDAndroidID: "Android ID",
		admeter.IDAAID:      "AAID (Google advertising ID)",
		admeter.IDIDFV:      "IDFV (iPhone / iPad)",
		admeter.IDCAID:      "CAID (iPhone / iPad)",
		admeter.IDOpenUDID:  "OpenUDID (old iOS)",
		admeter.IDMAC:       "MAC address",
	},
	RawFormatOf: func(t admeter.IDType) string { return typeInfos[t].enRaw },
}

// textsFor returns the wording for lang.
func textsFor(lang string) *texts {
	if lang == langEN {
		return &enTexts
	}
	return &zhTexts
}

// problemText is the page's message for e in the wording t.
func (t *texts) problemText(e *inputError) string {
	if e.prob == probMalformed && e.typ.Valid() {
		name := typeInfos[e.typ].name
		var desc string
		switch {
		case e.form == pseudo.FormMD5:
			name, desc = "MD5", t.RawFormatOf(admeter.IDCAID) // 32 hex digits
		case e.form == pseudo.FormRaw || e.typ == admeter.IDCAID:
			desc = t.RawFormatOf(e.typ)
		default:
			desc = t.RawFormatOf(e.typ) + t.MD5Also
		}
		return fmt.Sprintf(t.Problems[probMalformed], name, desc)
	}
	if s, ok := t.Problems[e.prob]; ok {
		return s
	}
	return t.Problems[probBody]
}
