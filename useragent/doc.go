// Package useragent turns a User-Agent header into the coarse device and
// software facts admeter keeps: operating system and its version, browser or
// app name, and device type.
//
// Parse reads the user agent once, word by word, and looks each product
// ("MicroMessenger" in "MicroMessenger/8.0.33") up in tables of operating
// systems, in-app browsers, crawlers and TV platforms. That covers what ad
// traffic in China needs and general parsers miss: HarmonyOS (2–4 and NEXT),
// iPadOS in desktop mode, Android tablets, TVs and TV boxes, the in-app
// browsers of WeChat, WeCom, QQ, Douyin, Kuaishou, Weibo, Alipay, Taobao,
// Baidu and others, native apps' HTTP stacks (Dalvik, CFNetwork, okhttp),
// scripts and libraries (curl, python-requests, Go-http-client, Java, ...)
// and crawlers (Googlebot, Baiduspider, Bytespider, ...). The browser name of
// ordinary browsers, and anything the tables leave open, comes from
// github.com/medama-io/go-useragent, a trie-based parser that does not
// allocate.
//
// Every string in an [Info] comes from a fixed list of names or is a version
// made only of digits and dots, so no part of the raw user agent can reach
// storage through it. The raw string is only an argument; nothing is kept or
// logged.
package useragent
