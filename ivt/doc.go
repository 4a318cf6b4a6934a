// Package ivt decides general invalid traffic (GIVT): the rule-based part of
// invalid-traffic detection, applied by the collector to every event as it
// arrives (MRC GIVT; MMA China IVT standard 2017; T/CAAAD 002-2020
// 一般无效流量). The verdict is an [admeter.IVT]: zero for valid traffic, else one
// bit per reason. Invalid events are flagged, never dropped, so gross and net
// figures reconcile. Activity-based rules (frequency, clicks without
// impressions, fast clicks) need state across events and are not here.
//
// A [Detector] is pure computation: no I/O in Check, no logging, no clock.
// [Detector.Check] takes what the collector already knows about the event
// (a [Hit]) plus the raw user agent and address as arguments, and keeps
// none of them. It does not allocate. The data-centre ranges are the only
// state, swapped atomically by [Detector.Reload] or
// [Detector.SetDataCentres] while events are being checked.
//
// # Rules
//
//	reason             fires when                                              on channels
//	crawler_ua         the parser calls the user agent a bot, or a pattern     all
//	                   of the crawler-user-agents list matches it
//	                   or it is a script or HTTP library (curl, python-        web
//	                   requests, Go-http-client, Java...) or empty
//	                   but never when it contains an AllowUA entry
//	datacentre_ip      the end user's address is in an operator-listed range   all
//	missing_id         no usable identifier, and the event's OS is in          app, relay, batch;
//	                   RequireID (Android by default)                          web from an app stack
//	bad_id             a malformed identifier (pseudo says malformed, or a     all
//	                   raw 15-digit IMEI fails its Luhn check), or only
//	                   placeholders and no usable identifier
//	platform_mismatch  an iOS id (IDFA, IDFV, CAID) with an Android id (OAID,  all
//	                   IMEI, Android ID, AAID), or either against the
//	                   declared OS
//	                   or the user agent's OS family differs from the          web, app, batch
//	                   declared one
//	risky_device       the SDK's svl reports root, emulator, hook or adb       all
//	time_window        the client's event time was outside the collector's     all
//	                   window (7 days back, 5 minutes ahead); not when absent
//	unreplaced_macro   the event-time macro (__TS__, {{TS}}...) arrived        all
//	                   unreplaced
//
// # Why these thresholds
//
// Crawler list. The crawler-user-agents list (github.com/monperrus/crawler-user-agents,
// MIT, v1.1.0) is the open counterpart of the IAB/ABC spiders and bots list
// that MRC GIVT filtration names. Its patterns are case-sensitive regular
// expressions and it spells out the case variants it means ("[wW]get"), so
// they are matched as written: folding case would turn "Sonic" into a match
// for every Panasonic TV. Three departures, each tested: okhttp is dropped
// (it is the HTTP stack of most Android apps and the ad SDKs inside them);
// "Sogou" is narrowed to "Sogou … spider" (it matches Sogou's own browser and
// search app, common in China); and the generic HTTP-client patterns (curl,
// wget, python-requests, Go-http-client, Apache-HttpClient, axios...) only
// count where a browser is expected, because media servers relay monitoring
// calls (ns=) with exactly these clients. Native app stacks (Dalvik,
// CFNetwork, okhttp, Dart) are never searched: app names come first in them
// ("Viber/20.1 CFNetwork/…"), and a declared bot never uses them.
//
// Web channel. A monitoring URL loaded with no device identifier and no
// relayed address is a tag in a page or WebView, so the client must be a
// browser: every browser sends a User-Agent, so an empty one, a script or an
// HTTP library there is not a person viewing an ad (MRC: non-browser user
// agents). An app's own stack there (Dalvik, okhttp...) is an app calling
// a web tag, which is not invalid.
//
// Data centres. Operator-supplied ranges only (MRC: known data-centre
// traffic). The address checked is the end user's: the relayed ns address
// when present, so a media server relaying from its own cloud is not
// flagged, but an app event relayed with a cloud address is.
//
// Missing identifier. Every Android app can read the Android ID without a
// permission and every platform's monitoring macros carry it, so an Android
// app event with none is missing key information (T/CAAAD 002-2020). iOS
// users who decline ATT and HarmonyOS NEXT users who refuse the OAID have
// no identifier an app may send, so those platforms are not required by
// default (RequireID). Web events never are: the browser gets a cookie.
//
// Bad identifier. A malformed value (non-UUID IDFA, non-hex MD5, a 15-digit
// IMEI whose Luhn check digit is wrong) is never produced by a real SDK or
// media server (mma-protocol.md §4.2 rule 4). A placeholder next to a real
// identifier is normal, and not flagged: Android 6+ and iOS 7+ report the MAC
// 02:00:00:00:00:00 with every event, and a device that limited ad tracking
// sends a zero OAID next to its Android ID. An event whose identifiers are
// all placeholders carries values that name no device (§4.2 rules 2 and 3).
// Note that an iPhone that declined ATT reports the all-zero IDFA: media
// that send that zero IDFA as the only identifier are flagged; a media that
// sends nothing instead is not.
//
// Platform mismatch. No device has both an IDFA and an OAID, and an IDFA
// cannot come from Android (§4.2 rule 5). Operating systems are compared by
// family, because one device reports itself in several ways: HarmonyOS 2–4
// declares Android (mo=0) and its browser says HarmonyOS; Android Chrome in
// desktop mode (the default on tablets) says Linux; iPadOS Safari says
// macOS. "Other" (mo=3) and unknown are never compared. The user agent is
// compared only where it is the device's (web, app, batch), not on a relay,
// whose User-Agent may be the media server's.
//
// Risky device. The MMA SDK's svl flags (root, emulator, Xposed/Substrate
// hook, adb) are each a high-risk-device signal (§1.8, §4.2 rule 6); any one
// flags the event.
//
// Time window. The MMA SDK retries cached events for at most 7 days (§1.5),
// so an older event time is a replay or a broken clock, and phones keep
// network time, so more than 5 minutes ahead is not clock drift. The window
// is the collector's (collect.Config MaxPast and MaxFuture), so the events
// flagged here are exactly those it gave FlagTimeCorrected for a time it did
// receive.
//
// Unreplaced macro. Media leave a device macro unreplaced when they do not
// have that value (a raw-id server sends __IDFA__ for an iPhone without
// ATT), which is why identifier macros are treated as absent and not as
// invalid. Every real ad call knows its own time, so an unreplaced time
// macro means no ad server or SDK filled the URL: it was pasted, scripted or
// replayed from a template.
//
// # Cost
//
// The crawler list (about 600 strings) is searched in one pass: each string
// is indexed by a 4-byte substring chosen to be rare in ordinary user agents,
// a 64 Ki-bit filter of those substrings rejects nearly every position with
// a multiply and a bit test, and the three patterns that are not plain
// strings run as one regexp, only when their literal was found. Native app
// stacks skip the search. The data-centre ranges are merged and searched by
// bisection. BenchmarkCheck and BenchmarkCrawlerMatch measure it.
package ivt
