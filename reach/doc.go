// Package reach computes cross-media reach reports (issue 12) for a
// campaign, or a set of campaigns of one advertiser, over a date range:
// unique reach per group (a medium or a placement), the overlap matrix
// between groups, exclusive reach, the incremental reach curve, frequency
// waste, effective reach at 1+, 2+, … impressions and, when the groups'
// costs are known, cost per thousand unique users (CPUM), cost per
// exclusive and per incremental user, and the cost of waste.
//
// Service is the entry point of the API, the CLI and the console: it
// resolves the campaigns of a request (as the caller may see them), groups
// their placements by medium or placement, asks the store for the reach
// sets, computes each group's cost from its placements' prices and the
// delivery of Store.Report (rules in docs/reach.md), and runs Analyze —
// with the aggregation threshold when the campaigns belong to several
// advertisers — or, for Plan, package mediaplan.
//
// Analyze is pure: it takes the store's exact answer
// (store.ReachSetResult: users per combination of groups as a bitmask, the
// frequency distribution, per-group impressions and waste) and the groups'
// costs, and returns a Report that the API serves as JSON as it is. Every
// figure is exact, derived from the bitmasks without sketches:
//
//   - reach is the sum of the sets' users; a group's reach the sum over
//     the sets with its bit; exclusive reach the set with its bit alone;
//     overlap (i, j) the sum over the sets with both bits, in
//     O(sets × groups²) at worst;
//   - the curve is greedy: at each step the group that adds the most users
//     not yet reached (ties by key, so the order is stable) — one pass over
//     the sets not yet covered per step. Groups that add no one come last,
//     still in key order. Greedy increments never grow from one step to the
//     next;
//   - effective reach at level L is the users with L or more impressions
//     across all groups, from the union frequency distribution (its last
//     bucket is "20+");
//   - waste is the store's count of impressions beyond WasteAbove per user;
//     its share is of the impressions with a user. A group's cost of waste
//     is Cost × Waste / Billed (Billed counts every impression the cost
//     pays for, anonymous ones included), the total the sum over groups.
//
// # Rounding and units
//
// Shares, average frequency and duplication are float64 rounded to 4
// decimals. Money is int64 millionths of CNY (admeter.MicroCNY), written
// in JSON as a decimal string of yuan ("35.00", as prices are): costs per
// user are cost / users and CPUM is cost × 1000 / users, each rounded to
// the nearest millionth, halves up, from an exact 128-bit product. A cost
// is null (nil) when a group has no price (unknown, not zero); a total or
// cumulative cost is null as soon as one of its groups is. A ratio over
// zero (a cost per user of a group that added no one) is null too.
//
// # Aggregation threshold
//
// When Input.MinUsers (k) is above 1 (a report that combines several
// advertisers' data), no user count between 1 and k−1 may be published,
// nor be recoverable from published counts by adding and subtracting them
// (with two groups, for instance, reach A + reach B − total reach is the
// users of both; with three, the reaches, pairwise overlaps and total
// determine every combination by inclusion–exclusion). Analyze ensures it
// as follows; a withheld figure is null.
//
//  1. Total reach: if it is from 1 to k−1 every user count of the report
//     is withheld.
//  2. Groups: every user count about groups (reach, exclusive and
//     duplicated reach, overlap, curve) is a sum of the sets' users over
//     combinations of groups. Analyze keeps a subset of the groups whose
//     counts are published: it starts with all of them and, while some
//     combination holds 1 to k−1 users — counting the groups left out as
//     one "other" group — leaves out the group of that combination with
//     the least reach (ties by key; of all kept groups when the
//     combination is "other" alone), smallest combination first. Then
//     every combination of kept groups and "other" holds 0 or at least k
//     users, and every published group count is a sum of such
//     combinations, so no sum or difference of published counts isolates
//     fewer than k people. Published for a kept group: its reach,
//     exclusive and duplicated reach; for a pair of kept groups, their
//     overlap; on the curve, the increments and cumulative reach of the
//     steps before the first group left out (later cumulative reach is
//     withheld, except the last, which is the total reach). Gross reach
//     and duplication are published only when every group is kept (gross
//     minus the kept groups would be a group left out). The curve still
//     lists every group in its greedy order, which tells that a withheld
//     increment is no more than the one before it, not its size.
//  3. Frequency: the 20 buckets sum to the total reach and effective
//     level L is the sum of buckets L to 20. Each bucket and level from 1
//     to k−1 is withheld; then, while the withheld buckets between two
//     published levels (or the ends) sum to 1 to k−1, the smallest
//     published non-zero bucket between them is withheld too or, if there
//     is none, the later level (the earlier when the later is the end).
//     Each stretch between published levels then hides 0 or at least k
//     users.
//  4. Derived figures are withheld with their count: shares, average
//     frequency, CPUM and costs per user. Impression counts, waste, costs
//     and the cost of waste are not user counts and are always published.
//
// A zero is published: it describes no one. Report.Threshold is k;
// Report.Withheld counts the user counts withheld (a group's reach,
// exclusive and duplicated reach as three, an overlap pair once, a curve
// step's increment and cumulative reach as two; derived figures not
// counted).
package reach
