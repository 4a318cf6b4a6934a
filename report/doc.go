// Package report turns a tenant's request for a campaign report into a store
// query and the store's answer into what the API and the CLI show. It is the
// one place where tenant scoping, date ranges in the campaign's time zone,
// the allowed breakdowns and (later) aggregation thresholds are enforced.
package report
