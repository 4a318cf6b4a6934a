// Package geoip maps an IP address to an [admeter.Region]: country (ISO
// 3166-1 alpha-2), province and city.
//
// Two database formats are supported, both loaded fully at open time and safe
// for concurrent lookups:
//
//   - IPIP.net .ipdb files ([IPDB]), read with github.com/ipipdotnet/ipdb-go.
//     The free IPv4 city database from that module (2018, Chinese names) is
//     embedded in the binary and returned by [Embedded], so a fresh install
//     reports Chinese provinces and cities with no download. See data/NOTICE.
//   - MaxMind .mmdb files ([MMDB]: GeoIP2/GeoLite2 City or any database with
//     the same record layout), read with
//     github.com/oschwald/maxminddb-golang/v2. They cover IPv4 and IPv6.
//
// [Open] picks the format from the file extension. Both types satisfy
// [Locator], which the collector declares for itself as well.
//
// Names follow the [admeter.Region] convention: Chinese names for places in
// China (CN, HK, MO, TW), shortened to the common form (广东 rather than 广东省,
// 深圳 rather than 深圳市), and English names elsewhere when the database has
// them. Addresses that are not a place — private, loopback, link-local,
// multicast, shared (100.64.0.0/10) and unspecified addresses, and database
// entries such as 局域网, 保留地址 or an anycast operator's domain name — give
// the zero Region.
//
// Privacy: an address is only ever a function argument. This package stores,
// caches and logs no address, and its errors never contain one.
package geoip
