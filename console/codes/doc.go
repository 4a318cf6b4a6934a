// Package codes makes the monitoring codes the web console shows for a
// placement, ready to paste into each major media platform (issue 7): an
// impression URL, a click URL and, for the web, an <img> pixel tag.
//
// Every code is a Miaozhen-form URL that the collector parses with
// collect/macro.ParseTarget: /x/k=…&p=… for impressions and /r/k=…&p=…&o=…
// for clicks, where o= is always last and the landing URL after it is kept
// verbatim. What changes between platforms is the macro each platform
// replaces with a device value, and which of the collector's parameter
// letters (collect/pixel.go fillFromParams) carries it. A macro the platform
// leaves unreplaced (__IDFA__, {{IDFA}} …) counts as absent.
//
// Codes are pure: no I/O, and the same arguments always give the same code.
//
// # Mapping
//
// Rows are the collector's letters and the form it reads; columns are the
// platforms; "-" means the platform's code does not carry that letter. A
// "(click)" macro is in the click code only. The web platform carries no
// macro: its URLs hold k and p only (and o= for the click). TestDocTable keeps
// this table equal to the code.
//
//	letter  collector reads     mma            oceanengine    tencent                 baidu               kuaishou        bilibili
//	mo      OS 0 Android/1 iOS  __OS__         __OS__         -                       -                   __OS__          __OS__
//	ns      client IP           __IP__         __IP__         __IP__                  {{IP}}              __IP__          __IP__
//	m0      OpenUDID, raw       __OPENUDID__   -              -                       -                   -               __OPENUDID__
//	m1a     Android ID, MD5     __ANDROIDID__  __ANDROIDID__  __HASH_ANDROID_ID__     {{ANDROID_ID_MD5}}  __ANDROIDID2__  __ANDROIDID__
//	m2      IMEI, MD5           __IMEI__       __IMEI__       -                       {{IMEI_MD5}}        __IMEI2__       __IMEI__
//	m4      AAID, raw or MD5    __AAID__       -              -                       -                   -               __AAID__
//	m5      IDFA, raw           __IDFA__       __IDFA__       __IDFA__                {{IDFA}}            __IDFA__        __IDFA__
//	m5a     IDFV, raw           -              -              -                       -                   -               __IDFV__
//	m6      MAC a:b:…, MD5      __MAC1__       -              -                       -                   -               __MAC1__
//	m6a     MAC ab…, MD5        __MAC__        __MAC__        -                       -                   -               __MAC__
//	m11     OAID, raw           __OAID__       __OAID__       __OAID__                {{OAID}}            __OAID__        __OAID__
//	m11a    OAID, MD5           __OAID1__      __OAID_MD5__   __HASH_OAID__           -                   -               __OAID1__
//	m14     CAID                __CAID__       __CAID__       -                       -                   -               __CAID__
//	tr      request id          __REQUESTID__  -              -                       -                   -               __REQUESTID__
//	mt      time, s or ms       __TS__         __TS__         __CLICK_TIME__ (click)  {{TS}}              __TS__          -
//
// # Sources
//
// Section numbers are those of shared/docs/mma-protocol.md ("the notes").
// Where a macro comes from a file the notes cite rather than from the notes'
// own tables, the file is named.
//
//   - mma: the Miaozhen letters and their macros, §2 (letter table) and §1.4
//     (MMA key → Miaozhen letter, value forms); __TS__ → mt, §1.4 and §3. The
//     set and its order are those of api.ImpressionURL and api.ClickURL.
//   - oceanengine: §3 rows __OS__ (0 Android, 1 iOS), __IMEI__ (MD5),
//     __ANDROIDID__ (MD5), __OAID__ (raw), __OAID_MD5__, __IDFA__ (raw),
//     __MAC__ (MD5, upper case, no colons), __IP__, __CAID__; all but
//     __CAID__ are also in x-rush/AdsAdmin ads_api/extend/Advertising/
//     services/platform/{android/OceanEngineAndroid,ios/OceanEngineIos}.php,
//     which §3 cites.
//     __TS__: §3 names it for "various" platforms without naming Ocean
//     Engine; the collector reads seconds and milliseconds alike. Left out:
//     __IDFA_MD5__ (§3; no collector letter for an MD5 IDFA), __UA__ (the
//     collector reads the User-Agent header only), the callback and plan
//     macros (§3; admeter does not record them).
//   - tencent: §3 rows __OAID__ (raw), __HASH_OAID__ (MD5),
//     __HASH_ANDROID_ID__ (MD5), __IP__, __IDFA__ (listed for all
//     platforms), and __CLICK_TIME__ (row __TS__; Unix seconds per the
//     Tencent click document); all but __IDFA__ are also in x-rush/AdsAdmin
//     …/android/TencentAdvertisingAndroid.php. Left out: __MUID__ (§3:
//     md5(lower(IMEI)) on Android, md5(upper(IDFA)) on iOS; the collector has
//     no letter that knows which), __USER_AGENT__, and __DEVICE_OS_TYPE__
//     ("android"/"ios" in the cited file, not in the notes; mo reads digits).
//   - baidu: §3 rows {{IP}}, {{TS}}, {{ANDROID_ID_MD5}} and {{OS}}.
//     {{IMEI_MD5}}, {{OAID}} (x-rush/AdsAdmin …/android/BaiduSearchAndroid.php
//     at c4b726fb) and {{IDFA}} (…/ios/BaiduSearchIos.php at d518156a) come
//     from the files §3 cites; the notes do not transcribe them. Left out:
//     {{OS}}, because Baidu sends Android=2 and iOS=1 (§3) while mo reads 2 as
//     Windows Phone; {{MAC}}, whose form the source does not state; {{UA}}.
//   - kuaishou: §3 rows __OS__ (0 Android, 1 iOS), __IMEI2__ and
//     __ANDROIDID2__ (MD5 of the raw value), __OAID__, __IP__, __IDFA__
//     (listed for all platforms), __TS__ ("various"); x-rush/AdsAdmin
//     …/android/KwaiAdsAndroid.php. Left out: __MAC2__ (§3: "md5 of the raw
//     value", with the MAC's case and colons unstated), __IDFA2__
//     (…/ios/KwaiAdsIos.php: the MD5 of the IDFA, upper-cased; no collector
//     letter), __UA__.
//   - bilibili: the Miaozhen URLs bilibili serves in its splash ads, cited by
//     §2 (m14, tr, vg): SocialSisterYi/bilibili-API-collect@abc93c16
//     APP_widget/splash.md, show_urls and click_urls, which carry the MMA
//     macros for bilibili to fill. Left out from those URLs: m1=__ANDROIDID1__
//     (a raw Android ID, §1.9; m1a carries the same device as an MD5),
//     m5b=__IDFA1__ (§2: format a guess; no collector letter), m14a=__CAID1__
//     (§2: format unknown), mn=__ANAME__ (the app name, which the MMA set
//     leaves out too), and letters the collector does not read (dx, rt, ni,
//     v, xa, vg, nh, m0a). The URLs carry no time macro.
//   - web: no macro. The snippet is
//     <img src="…/x/k=…&amp;p=…" width="1" height="1" alt="" style="display:none" referrerpolicy="no-referrer-when-downgrade">;
//     a browser that loads it is counted by the collector's first-party
//     cookie.
//
// Every code's Notes say, in Chinese and English, what it leaves out and why.
package codes
