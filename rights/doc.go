// Package rights carries out end users' rights requests that customers
// forward to admeter (privacy policy 四(三), 八(一), 八(四)): a copy of the data
// admeter holds about a device (access), its deletion (delete), and stopping
// collection (optout).
//
// A request names one device identifier. It is canonicalised and
// pseudonymised on arrival, exactly like the collector does, and only the
// pseudonyms are kept: under the opt-out registry key, and under every
// pseudonymisation key version still alive, so that the events stored under
// each version can be found. The raw identifier is never stored.
//
// Submitting an optout or a delete request adds the device to the opt-out
// registry at once, so that no further event of it is logged; the rest runs
// in the background, minors' (guardians') requests first, then oldest first:
//
//   - access gathers the device's events in the requesting tenant's
//     campaigns (never another tenant's) into an export, served as JSON or
//     CSV;
//   - delete waits until every event already logged is in the store,
//     deletes the device's events of the requesting tenant, recomputes the
//     affected daily rollups, removes the loaded event-log segments (so no
//     copy stays in the log) and any access export made for the same device,
//     and records the counts.
//
// Every request is due 15 working days after it arrives, on China's
// working-day calendar (package workday). Every submission and outcome is
// written to the audit record.
package rights
