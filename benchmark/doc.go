// Package benchmark computes, publishes and compares against industry
// benchmarks: CTR, viewable rate, IVT rate and average frequency pooled
// across tenants by industry vertical (admeter.Tenant.Industry) and media
// (the placements' media, and all media together).
//
// A benchmark crosses customers, so privacy invariant 5 applies: no
// published cell may describe a single tenant or fewer than k people.
// Cell applies the rules, on exact counts read through store.Store:
//
//   - at least Rules.MinTenants tenants (default 5, configurable upward
//     only) have impressions in the cell;
//   - the cell has at least Rules.MinUsers distinct users (k, default 50,
//     the operator's audience-insight threshold). The store counts distinct
//     users per campaign only, and the same person may be reached by
//     several tenants (pseudonyms are platform-wide), so the union over
//     the cell cannot be summed from campaign reaches; but it is at least
//     the reach of its largest single campaign, so that lower bound is
//     what must reach k (the real figure is usually far higher);
//   - no tenant holds more than Rules.MaxShare (default 30 %, configurable
//     downward only) of the cell's impressions. A dominated cell is
//     withheld, not reweighted: capping a tenant's weight would publish a
//     rate that is no one's traffic and would still be steered by the
//     dominant tenant's own rate.
//
// Each measure of a published cell must pass the tenant count and the
// dominance rule again over its own denominator (valid impressions for
// CTR, measurable impressions for viewable rate, all impressions for IVT
// rate, reach for frequency); a measure that fails is withheld in the cell
// (BenchmarkValue.Tenants is 0).
//
// A measure is published as the pooled rate (total numerator over total
// denominator of every contributing tenant) and the quartiles of the
// tenants' own rates. Quartiles never equal a single tenant's value: the
// position of quartile p among n sorted tenant values is p·(n−1); when it
// falls between two tenants the quartile interpolates linearly between
// them (with n ≥ 5 each weighs at least a quarter), and when it falls
// exactly on one tenant the quartile is the mean of that tenant and its two
// neighbours. Absolute volumes (impressions, clicks, reach) are never
// published: with vertical × media and vertical × all-media cells side by
// side, the volume of a withheld media cell would be the difference.
// A contributor can still subtract its own traffic from a pooled rate it
// knows the volume of; the tenant minimum leaves at least four others in
// what remains, and the dominance rule keeps any one of them from
// steering it.
//
// Each campaign's period is taken in its own time zone, as its reports
// are; reach and frequency are per campaign (a user of two campaigns is
// reached twice), pooled as total impressions of reached users over total
// reach. Traffic is net of invalid traffic except for the IVT rate.
package benchmark
