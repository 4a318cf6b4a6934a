// Package simulate generates realistic ad traffic with a known answer, and
// sends it to an admeter server.
//
// A [Generator] builds a population of devices shaped like Chinese mobile
// and web traffic (OS mix, identifier availability per OS, raw and MD5 forms
// as different media send them, cookie-only browsers, a province mix) and
// turns it into a [Plan]: the monitoring-URL and batch-API requests, in send
// order, that media platforms and the MMA SDK would send for a set of
// campaigns — heavy-tailed exposure per user, a diurnal curve in
// Asia/Shanghai time, clicks, br=0 pings, SDK retries with the same vf, late
// arrivals, browsers that opt out midway (the opt-out cookie), app devices
// that opt out midway (a call to the opt-out API), and injected invalid
// traffic of known kinds. A [Sender] sends a plan over kept-alive
// connections at a bounded rate, returning cookies the way browsers do and
// making each opt-out call a barrier, so that the server sees a device's
// earlier events before its opt-out and its later ones after. A [Tally]
// counts what was delivered exactly as the server counts it, giving the
// [Truth]: per campaign, placement and day the impressions, clicks and
// distinct users, the frequency distribution, and the invalid traffic
// injected by kind.
//
// Everything is deterministic for a seed: the same [Config] gives the same
// plan, request for request, and the same truth. Identifiers are fake but
// valid (package pseudo accepts them), and each device always sends the
// identifier the collector will key it by, so the truth's unique users are
// exact. docs/simulation.md documents the shape and where each number comes
// from.
//
// The plan holds fake device identifiers and addresses in memory only;
// nothing here logs or writes them.
package simulate
