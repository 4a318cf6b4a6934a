package ivt

import "github.com/admeter/admeter"

// realUA is a user agent of real, valid traffic, with the operating system
// and channel it arrives on.
type realUA struct {
	name    string
	ua      string
	os      admeter.OS // what the client would declare (mo); OSUnknown for desktop browsers
	channel Channel
}

// simulatorAgents are the user agents of the simulator's valid traffic,
// copied from simulate/data.go (webAgents, harmonyAgent) and
// simulate/request.go (userAgent): none of them may be flagged.
var simulatorAgents = []realUA{
	{"SimWinChrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", admeter.OSUnknown, ChannelWeb},
	{"SimWinEdge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", admeter.OSUnknown, ChannelWeb},
	{"Sim360", "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.95 Safari/537.36 QIHU 360SE", admeter.OSUnknown, ChannelWeb},
	{"SimQQBrowserPC", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Core/1.116.454.400 QQBrowser/13.0.6071.400", admeter.OSUnknown, ChannelWeb},
	{"SimMacSafari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", admeter.OSUnknown, ChannelWeb},
	{"SimAndroidChrome", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"SimWeChatAndroid", "Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64", admeter.OSAndroid, ChannelWeb},
	{"SimUC", "Mozilla/5.0 (Linux; U; Android 12; zh-CN; 2201123C Build/SKQ1.211006.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/17.1.5.1322 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"SimHuaweiBrowser", "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AL00; HMSCore 6.13.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"SimiPhoneSafari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", admeter.OSIOS, ChannelWeb},
	{"SimWeChatiOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN", admeter.OSIOS, ChannelWeb},
	{"SimHarmonyNEXT", "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile", admeter.OSHarmonyOS, ChannelApp},
	{"SimDalvik", "Dalvik/2.1.0 (Linux; U; Android 14; PGT110 Build/UP1A.231005.007)", admeter.OSAndroid, ChannelApp},
	{"SimCFNetwork", "NewsArticle/9.2.1 CFNetwork/1568.200.51 Darwin/24.1.0", admeter.OSIOS, ChannelApp},
	{"SimCFNetworkKwai", "Kwai/9.2.1 CFNetwork/1496.0.7 Darwin/23.6.0", admeter.OSIOS, ChannelApp},
}

// realAgents are user agents of real browsers, in-app browsers and app HTTP
// stacks, collected from devices and vendor documentation, Chinese traffic
// first. None of them is a crawler.
var realAgents = []realUA{
	// Chinese in-app browsers.
	{"WeChatAndroidOld", "Mozilla/5.0 (Linux; Android 12; V2148A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4343 MMWEBSDK/20220903 Mobile Safari/537.36 MMWEBID/4386 MicroMessenger/8.0.28.2240(0x28001C35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64", admeter.OSAndroid, ChannelWeb},
	{"WeChatiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.33(0x18002129) NetType/WIFI Language/zh_CN", admeter.OSIOS, ChannelWeb},
	{"WeChatMiniProgram", "Mozilla/5.0 (Linux; Android 13; 2211133C Build/TKQ1.220905.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MMWEBID/6541 MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin NetType/5G Language/zh_CN ABI/arm64 miniProgram/wx1234567890abcdef", admeter.OSAndroid, ChannelWeb},
	{"WeChatWindows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x6309092b) XWEB/8555 Flue", admeter.OSUnknown, ChannelWeb},
	{"WeComiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh ColorScheme/Light", admeter.OSIOS, ChannelWeb},
	{"QQiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 QQ/8.9.80.614 V1_IPH_SQ_8.9.80_1_APP_A Pixel/1170 MiniAppEnable SimpleUISwitch/0 StudyMode/0 CurrentMode/0 CurrentFontScale/1.000000 QQTheme/1000 AppId/537177286 Core/WKWebView Device/Apple(iPhone 12) UI/Default", admeter.OSIOS, ChannelWeb},
	{"QQAndroid", "Mozilla/5.0 (Linux; Android 12; M2102K1C Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/98.0.4758.102 MQQBrowser/6.2 TBS/046291 Mobile Safari/537.36 V1_AND_SQ_8.9.28_3700_YYB_D A_8092800 QQ/8.9.28.10155 NetType/WIFI WebP/0.3.0 AppId/537150355 Pixel/1440 StatusBarHeight/110 SimpleUISwitch/0 QQTheme/1000", admeter.OSAndroid, ChannelWeb},
	{"DouyinAndroid", "Mozilla/5.0 (Linux; Android 12; PFEM10 Build/SKQ1.211019.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/91.0.4472.114 Mobile Safari/537.36 aweme_230400 JsSdk/1.0 NetType/WIFI Channel/oppo_1128_64 app_version/23.4.0 ByteLocale/zh-CN Region/CN AppSkin/white AppTheme/light BytedanceWebview/d8a21c6 WebView/075113004008", admeter.OSAndroid, ChannelWeb},
	{"DouyiniPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 aweme_28.0.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/zh Region/CN AppTheme/light RevealType/Dialog WKWebView/1 BytedanceWebview/d8a21c6 Bullet/1", admeter.OSIOS, ChannelWeb},
	{"ToutiaoAndroid", "Mozilla/5.0 (Linux; Android 13; ELS-AN00 Build/HUAWEIELS-AN00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/99.0.4844.88 Mobile Safari/537.36 NewsArticle/9.6.2 ToutiaoMicroApp/3.3.1 PluginVersion/96205", admeter.OSAndroid, ChannelWeb},
	{"KuaishouAndroid", "Mozilla/5.0 (Linux; Android 11; M2012K11AC Build/RKQ1.200826.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.210 Mobile Safari/537.36 Kwai/11.2.40.6268 Yoda/3.1.3", admeter.OSAndroid, ChannelWeb},
	{"KuaishouiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Kwai/11.8.30.6574 ISLP/0 StatusHT/47 KDT/PHONE ISDM/0 TitleHT/44 NetType/WIFI ISLB/0 CT/0 Yoda/3.2.5 ISLM/0 WebViewType/WK BHT/102 AZPREFIX/az4", admeter.OSIOS, ChannelWeb},
	{"WeiboiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Weibo (iPhone13,2__weibo__12.3.2__iphone__os15.4)", admeter.OSIOS, ChannelWeb},
	{"AlipayiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ChannelId(1) Ariver/1.1.0 AliApp(AP/10.3.20.6000) Nebula WK RVKType(0) AlipayDefined(nt:WIFI,ws:390|780|3.0) AlipayClient/10.3.20.6000 Language/zh-Hans Region/CN NebulaX/1.0.0", admeter.OSIOS, ChannelWeb},
	{"TaobaoiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(TB/10.26.10) WindVane/8.7.2 UT4Aplus/0.0.4 1170x2532 WK", admeter.OSIOS, ChannelWeb},
	{"BaiduAppAndroid", "Mozilla/5.0 (Linux; Android 10; SPN-AL00 Build/HUAWEISPN-AL00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/76.0.3809.89 Mobile Safari/537.36 T7/13.18 SP-engine/2.34.0 baiduboxapp/13.18.0.10 (Baidu; P1 10) NABar/1.0", admeter.OSAndroid, ChannelWeb},
	{"BaiduAppiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 SP-engine/2.80.0 main/1.0 baiduboxapp/13.44.0.10 (Baidu; P2 17.0) NABar/1.0", admeter.OSIOS, ChannelWeb},
	{"XiaohongshuAndroid", "Mozilla/5.0 (Linux; Android 13; V2309A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.74 Mobile Safari/537.36 XiaoHongShu/8.10.0 NetType/WiFi Build/8100234 DeviceId/1 OSVersion/13 Device/V2309A Lang/zh-Hans", admeter.OSAndroid, ChannelWeb},
	{"DingTalkAndroid", "Mozilla/5.0 (Linux; U; Android 12; zh-CN; PGT110 Build/SKQ1.220303.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.49 Mobile Safari/537.36 AliApp(DingTalk/7.0.40) com.alibaba.android.rimet/33174587 Channel/700159 language/zh-CN abi/64 UT4Aplus/0.2.25 colorScheme/light", admeter.OSAndroid, ChannelWeb},
	{"JDAppAndroid", "jdapp;android;12.1.0;;;appBuild/98787;ef/1;ep/%7B%22hdid%22%3A%22JM9F1%22%7D;jdSupportDarkMode/0;Mozilla/5.0 (Linux; Android 12; M2102J2SC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/89.0.4389.72 MQQBrowser/6.2 TBS/046295 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"PinduoduoAndroid", "Mozilla/5.0 (Linux; Android 12; PGT110 Build/SKQ1.220303.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/103.0.5060.129 Mobile Safari/537.36  phh_android_version/6.80.0 phh_android_build/deb7d9a phh_android_channel/oppo pversion/0", admeter.OSAndroid, ChannelWeb},
	{"MeituaniPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 TitansX/20.0.1.old KNB/1.0 iOS/17.2 meituangroup/com.meituan.imeituan/12.16.202 meituangroup/12.16.202 App/10110/12.16.202 iPhone/iPhone14Pro WKWebView", admeter.OSIOS, ChannelWeb},
	{"BilibiliAndroid", "Mozilla/5.0 BiliDroid/7.38.0 (bbcallen@gmail.com) os/android model/22081212C mobi_app/android build/7380300 channel/xiaomi innerVer/7380310 osVer/13 network/2", admeter.OSAndroid, ChannelApp},
	{"FeishuiPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Lark/7.4.6 LarkLocale/zh_CN ChannelName/Feishu TTWebView/0141130026118", admeter.OSIOS, ChannelWeb},

	// Chinese browsers.
	{"QQBrowserAndroid", "Mozilla/5.0 (Linux; U; Android 11; zh-cn; PEGM00 Build/RKQ1.200903.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.61 MQQBrowser/12.6 Mobile Safari/537.36 COVC/045730", admeter.OSAndroid, ChannelWeb},
	{"UCAndroidOld", "Mozilla/5.0 (Linux; U; Android 10; zh-CN; V1938CT Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"MIUIBrowser", "Mozilla/5.0 (Linux; Android 13; 22081212C Build/TKQ1.220829.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.127 Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.6.100505", admeter.OSAndroid, ChannelWeb},
	{"HuaweiBrowserHarmony3", "Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00; HMSCore 6.1.0.314) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.105 HuaweiBrowser/12.0.3.310 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"HuaweiBrowserTablet", "Mozilla/5.0 (Linux; Android 10; HarmonyOS; BAH3-W09; HMSCore 6.12.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.1.320 Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"HuaweiBrowserNEXT", "Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300", admeter.OSHarmonyOS, ChannelWeb},
	{"vivoBrowser", "Mozilla/5.0 (Linux; Android 13; V2227A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/87.0.4280.141 Mobile Safari/537.36 VivoBrowser/17.5.0.1", admeter.OSAndroid, ChannelWeb},
	{"HeyTapBrowser", "Mozilla/5.0 (Linux; U; Android 13; zh-cn; PHB110 Build/TP1A.220905.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/115.0.5790.168 Mobile Safari/537.36 HeyTapBrowser/40.8.37.1", admeter.OSAndroid, ChannelWeb},
	{"QuarkAndroid", "Mozilla/5.0 (Linux; U; Android 13; zh-CN; 23127PN0CC Build/TKQ1.221114.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 Quark/6.9.6.501 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"SogouMobileBrowser", "Mozilla/5.0 (Linux; Android 10; ALN-AL00 Build/HUAWEIALN-AL00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/88.0.4324.93 Mobile Safari/537.36 SogouMSE,SogouMobileBrowser/5.39.10", admeter.OSAndroid, ChannelWeb},
	{"SogouSearchApp", "Mozilla/5.0 (Linux; Android 12; V2154A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/87.0.4280.141 Mobile Safari/537.36 SogouSearch Android1.0 version3.0 AppVersion/11.2.0", admeter.OSAndroid, ChannelWeb},
	{"SogouExplorerPC", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 SE 2.X MetaSr 1.0", admeter.OSUnknown, ChannelWeb},
	{"360SEOld", "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 QIHU 360SE", admeter.OSUnknown, ChannelWeb},
	{"2345Browser", "Mozilla/5.0 (Linux; Android 11; V2055A Build/RP1A.200720.012; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/87.0.4280.141 Mobile Safari/537.36 Mb2345Browser/14.7.2", admeter.OSAndroid, ChannelWeb},
	{"LiebaoPC", "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.25 Safari/537.36 LBBROWSER", admeter.OSUnknown, ChannelWeb},

	// Browsers everywhere.
	{"AndroidChrome", "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"AndroidTabletChrome", "Mozilla/5.0 (Linux; Android 12; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"AndroidCubot", "Mozilla/5.0 (Linux; Android 11; CUBOT X30 Build/RP1A.200720.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"AndroidDesktopMode", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"AndroidFirefox", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", admeter.OSAndroid, ChannelWeb},
	{"SamsungInternet", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S9210) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"AndroidEdge", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", admeter.OSAndroid, ChannelWeb},
	{"AndroidOpera", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0", admeter.OSAndroid, ChannelWeb},
	{"AndroidWebView", "Mozilla/5.0 (Linux; Android 14; 23127PN0CC Build/UKQ1.230804.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"iPhoneSafari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1", admeter.OSIOS, ChannelWeb},
	{"iPhoneChrome", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", admeter.OSIOS, ChannelWeb},
	{"iPhoneFirefox", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15", admeter.OSIOS, ChannelWeb},
	{"iPhoneWebView", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", admeter.OSIOS, ChannelWeb},
	{"iPadSafari", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", admeter.OSIOS, ChannelWeb},
	{"iPadDesktopMode", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", admeter.OSIOS, ChannelWeb},
	{"WinFirefox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", admeter.OSUnknown, ChannelWeb},
	{"Win7Firefox", "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0", admeter.OSUnknown, ChannelWeb},
	{"MacChrome", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", admeter.OSUnknown, ChannelWeb},
	{"ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", admeter.OSUnknown, ChannelWeb},
	{"YandexBrowser", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 YaBrowser/24.6.0.0 Safari/537.36", admeter.OSUnknown, ChannelWeb},
	{"Vivaldi", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 Vivaldi/6.9.3447.41", admeter.OSUnknown, ChannelWeb},
	{"WindowsPhoneEdge", "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977", admeter.OSWindowsPhone, ChannelWeb},
	{"FacebookInApp", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/442.0.0.38.109;FBBV/538216017;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]", admeter.OSIOS, ChannelWeb},
	{"InstagramInApp", "Mozilla/5.0 (Linux; Android 12; Pixel 6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 Instagram 312.0.0.32.112 Android", admeter.OSAndroid, ChannelWeb},

	// TVs and consoles.
	{"SamsungTV", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36", admeter.OSUnknown, ChannelWeb},
	{"LGwebOS", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 DMOST/2.0.0 (; LGE; webOSTV; WEBOS6.3.2 03.34.95; W6_lm21a;)", admeter.OSUnknown, ChannelWeb},
	{"XiaomiTV", "Mozilla/5.0 (Linux; Android 9; MiTV-MSSP1 Build/PQ3B.190801.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/87.0.4280.101 Safari/537.36", admeter.OSAndroid, ChannelWeb},
	{"PanasonicTV", "Mozilla/5.0 (X11; FreeBSD; U; Viera; ja-JP) AppleWebKit/537.11 (KHTML, like Gecko) Viera/3.10.14 Chrome/23.0.1271.97 Safari/537.11 Panasonic", admeter.OSUnknown, ChannelWeb},
	{"PlayStation5", "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", admeter.OSUnknown, ChannelWeb},

	// App HTTP stacks (SDK calls).
	{"DalvikXiaomi", "Dalvik/2.1.0 (Linux; U; Android 11; M2012K11AC Build/RKQ1.200826.002)", admeter.OSAndroid, ChannelApp},
	{"DalvikHonor", "Dalvik/2.1.0 (Linux; U; Android 12; ANY-AN00 Build/HONORANY-AN00)", admeter.OSAndroid, ChannelApp},
	{"OkHttp3", "okhttp/3.12.13", admeter.OSAndroid, ChannelApp},
	{"OkHttp4", "okhttp/4.9.3", admeter.OSAndroid, ChannelApp},
	{"CFNetworkApp", "MyApp/1.2.3 CFNetwork/1410.0.3 Darwin/22.6.0", admeter.OSIOS, ChannelApp},
	{"CFNetworkiOS26", "MyApp/2 CFNetwork/3826.500.111.2.2 Darwin/25.0.0", admeter.OSIOS, ChannelApp},
	{"AFNetworking", "MyApp/3.2.1 (iPhone; iOS 16.1; Scale/3.00)", admeter.OSIOS, ChannelApp},
	{"DouyinNative", "com.ss.android.ugc.aweme/230401 (Linux; U; Android 13; zh_CN; PGT110; Build/TP1A.220905.001; Cronet/TTNetVersion:5a8e3b9e 2023-03-06 QuicVersion:47946d2a 2020-10-14)", admeter.OSAndroid, ChannelApp},
	{"DouyinNativeiOS", "Aweme 28.0.0 rv:280015 (iPhone; iOS 17.1; zh_CN) Cronet", admeter.OSIOS, ChannelApp},
	{"FlutterApp", "Dart/3.2 (dart:io)", admeter.OSAndroid, ChannelApp},
}
