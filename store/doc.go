// Package store is the one contract every analytical store of admeter
// implements (DuckDB embedded by default; ClickHouse later): batch insert with
// the event-log offset committed in the same transaction, report queries, and
// deletions. It holds the contract and its query and result types only, no
// I/O. The conformance suite in store/storetest runs against every
// implementation.
//
// Counting rules (docs/metrics.md) that every implementation must apply:
//   - only KindImpression events are impressions, only KindClick events are
//     clicks; KindServed (br=0) is neither;
//   - events sharing a non-zero ImpressionID on the same placement and of the
//     same kind count once (an SDK retry); the first by event time wins. The
//     rule is applied within the queried range (an SDK retry carries its
//     original event time, so it falls in the same range as the original);
//     a day's rollup is that day reported alone;
//   - users are the non-zero User pseudonyms; events without a user count as
//     impressions and clicks but not as users, and are reported separately;
//   - unique users are exact (COUNT DISTINCT), never estimated;
//   - invalid traffic (a non-zero admeter.IVT verdict) is counted, never
//     dropped: the main measures follow the query's TrafficFilter (valid
//     only by default, or all), the invalid measures are always computed,
//     and rollups keep valid and invalid counts apart. Deduplication comes
//     first, over all traffic: of a retried impression the first event
//     counts with its own verdict, whatever a retry's verdict is (as for
//     every other field), so a valid retry of an invalid impression adds
//     nothing to valid traffic;
//   - in a report by reason, an event counts in the row of each of its
//     reasons, valid traffic in the row "valid"; the total counts it once;
//   - report rows are sorted by their dimension values, dimensions compared
//     in the order of Dimensions (not the query's order).
package store
