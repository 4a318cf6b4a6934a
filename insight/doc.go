// Package insight answers audience insight: the interests, regions,
// operating systems and device types of a campaign's reached audience, each
// as a share of the audience and an index against the whole platform.
//
// It is the privacy layer of audience insight, and the only one: the store
// (store.Store.Audience) returns exact counts, and this package decides what
// of them may leave the process. It applies the aggregation threshold k to
// every published number (cells below k are folded into "other"), refuses a
// campaign whose reach is below k, keeps a ledger of every release (with its
// exact counts, which never leave the ledger) to block difference attacks
// between overlapping date ranges, and optionally adds differential-privacy
// noise (package dp) charged to a per-campaign privacy budget.
// docs/audience.md describes the rules and their limits.
package insight
