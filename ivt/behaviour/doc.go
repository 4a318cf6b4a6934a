// Package behaviour decides sophisticated invalid traffic (SIVT): verdicts
// that no single request shows, only the behaviour of a device or a network
// over time. The collector decides general invalid traffic at arrival
// (package ivt); a [Job], run every few minutes by the server
// (--ivt-interval), asks the store to judge the raw events of recent UTC
// days under the rules ([DefaultRules], or a file read by [LoadRules]) and
// refreshes the rollups of the campaigns whose verdicts changed. The store
// evaluates the rules beside the loader and holds the writer only to record
// the verdicts that changed.
//
// Judging recomputes a day's behavioural verdicts from scratch, so a later
// run (after late events arrived, or with new thresholds) may clear a
// verdict as well as set one; general verdicts are never touched. Figures
// of the current day can therefore still move by the job's interval; a day
// is final once it is older than [Config.Days].
//
// # The rules and their defaults
//
// The public standards (MRC IVT Guidelines; MMA China's 2017 IVT standard;
// T/CAAAD 002-2020) name these behaviours but publish no thresholds, so the
// defaults are set where no person can be, from first principles, and
// every one is configuration (a JSON file, see [ParseRules]):
//
//   - excessive_frequency: more than 10 events of one device on one
//     placement in any minute, 30 in any hour or 300 in any 24 hours
//     (sliding windows). A feed that refreshes an ad every 10 seconds
//     while a person scrolls without stopping gives 6 a minute; 30 an
//     hour on one ad slot is one every 2 minutes for an hour; 300 a day
//     is one every 5 minutes for 24 hours. Per network (IPv4 /24, IPv6 /48) the limits are 600 a
//     minute and 20 000 an hour: Chinese mobile carriers put thousands of
//     subscribers behind one NAT block, so only a flood stands out.
//   - click_without_impression: a click from a device id (not a browser
//     cookie, which a browser may drop between impression and click) with
//     no impression of the device on the placement in the 24 hours before
//     it or the 5 minutes after (client clocks disagree). SDKs cache events
//     up to 7 days, so an impression may arrive after its click: the next
//     run clears the verdict.
//   - fast_click: a click less than 1 second after the device's impression
//     on the placement. Human reaction plus a tap takes longer; the MMA
//     event time (mt) has millisecond precision in current SDKs, and with
//     second precision only clicks in the same second as their impression
//     are caught.
//   - abnormal_ctr: the clicks of a device with at least 5 clicks on a
//     campaign in a UTC day and a click-through rate above 50 %, or of a
//     network with at least 30 clicks and a rate above 10 % (the blog
//     heuristics of docs/mma-protocol.md §4.2.9 for networks; far
//     stricter for single devices, which rarely click twice).
//   - network_hopping: every event of a device seen on more than 4
//     networks, or in more than 2 regions (provinces in China, countries
//     elsewhere), within one 10-minute bucket: a phone changes cell and
//     Wi-Fi, not province, in minutes; proxies and emulator farms do.
//   - concentrated_traffic: on a placement with at least 10 000
//     impressions in a UTC day, every event there of a device holding more
//     than 2 % of them (200 or more), or of a network holding more than
//     25 % (carriers spread subscribers over many blocks): relative to the
//     placement, beside the absolute frequency limits. Heavy real users make smaller placements
//     look concentrated (the simulator's heavy-tailed exposure flagged
//     3.5 % of valid traffic at 1 000 and 5 %), so lower it with care.
//
// The store counts retries of one impression id once, as reports do, so
// SDK retries never make a device look busier than it is.
package behaviour
