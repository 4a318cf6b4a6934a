// Package retention enforces how long admeter keeps raw events (privacy
// policy 六): at least 180 days, then they go.
//
// A [Job] run, scheduled hourly by the server or started by an operator
// ("admeter retention run", with --dry-run to only show the plan):
//
//   - drops the raw events older than the retention period, by whole day
//     partitions (the daily rollups, which hold no user keys, stay);
//   - removes event-log segments whose events are all in the store, so no
//     copy of a raw event outlives its retention in the log;
//   - destroys every pseudonymisation key version that is no longer current
//     and under which no raw event remains, so nothing that is left can be
//     linked back to a device.
//
// Every run that changes something is written to the audit record.
package retention
