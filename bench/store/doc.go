// Command storebench measures admeter's embedded analytical store
// (store/duckdb) against DuckDB itself, for issue 3's targets: a report of
// one campaign's reach and frequency over 100 M stored events within 1.2×
// the time of the same SQL run directly in DuckDB on the same file,
// dashboards that read rollups in under 50 ms, and under 2 GB of resident
// memory while loading and while reporting.
//
//	storebench --file /tmp/store.duckdb --events 100000000
//
// It builds the store file through the store's own API (duckdb.Open and
// Insert in batches with increasing offsets), unless the file already holds
// enough events, from simulated traffic (package simulate): 30 days of a
// large campaign and nine smaller ones, turned into events as the collector
// would (package macro's parsing, package pseudo's pseudonyms under a fixed
// key), then replicated with fresh users and impression ids to the size
// asked for. It then measures, in one run and one process: the store's
// Report (totals) and Frequency of the large campaign over its 30 days; the
// same SQL on a plain DuckDB connection to the same file, with DuckDB's
// defaults and with the store's settings, checking the answers agree;
// RefreshRollups and Daily; and the peak RSS of each phase. It prints a
// Markdown table with PASS or MISS per target.
//
// Its reach phase measures issue 12's target: the store's ReachSets of all
// the tenant's campaigns over the 30 days, one group per medium (10), and
// reach.Analyze and mediaplan.Recommend of the answer, against two
// baselines on a plain DuckDB connection to the same file: the same
// statement without the impression-id dedup, and count(DISTINCT user_key)
// of the same impressions, checking that both find the store's users.
// Its cluster phase runs the store's Cluster over every day, as serve does
// on the days that have ended, before the reports. --phases picks the
// phases (load,cluster,report,rollup,reach), so that the reach phase can
// run alone on a file built before.
//
// bench/store.sh runs it; see bench/README.md.
package main
