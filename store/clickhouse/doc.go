// Package clickhouse is the ClickHouse analytical store: store.Store over
// one ClickHouse database, reached with clickhouse-go v2 over the native
// protocol (clickhouse://user:password@host:9000/database). It passes the
// same conformance suite (store/storetest) as the DuckDB store.
//
// Every statement is one that ClickHouse 18.16.1 (Debian bookworm's
// package, which CI runs) and current releases both accept: no TTL, CODEC,
// DateTime64, LowCardinality, window functions, lambdas that read other
// columns, mutations_sync or lightweight DELETE. Nothing is gated on the
// server version. What newer servers could do better is at the end.
//
// # Schema
//
// Open runs CREATE TABLE IF NOT EXISTS for four MergeTree tables:
//
//   - events: one row per event, PARTITION BY day (the UTC day number of
//     the event time, a UInt32 column Insert computes), ORDER BY (tenant,
//     campaign, placement, kind, ts). Strings stay String; ts and
//     received are Unix milliseconds (Int64); user_key and impression are
//     FixedString(16), sixteen zero bytes when absent; net, lat and lon are
//     Nullable (net encoded as in the DuckDB store: an IPv4 /24 as 2^48
//     plus its address, an IPv6 /48 as its top 48 bits); ivt is the
//     verdict; batch is the number of the batch that wrote the row (the
//     event-log offset of an Insert, the store's own sequence number for
//     an InsertFrom; see below). An OS or device type without a name is
//     stored as 0.
//   - meta: (key, value, at) rows for schema_version, offset and
//     retained_before (the latest DeleteBefore cut, Unix milliseconds).
//     Each only grows, so its value is max(value) of its rows and writing
//     one is an append (INSERT … SELECT, which needs no client data block:
//     clickhouse-go's INSERT … VALUES with parameters hangs against 18.16).
//   - batches: one row per batch loaded with InsertFrom, (batch,
//     partitions, nexts, at): its number and the positions it recorded,
//     as two arrays of the same length.
//   - daily: the rollups, one row per (tenant, campaign, local day number,
//     placement) with the valid, invalid and mixed counts of the DuckDB
//     store's daily table.
//
// Open refuses a database whose schema_version is newer than this
// program's (2), and records 1 in a new one. Version 2 is recorded by the
// first InsertFrom, before its rows: a program of version 1 reads only
// meta's offset as the latest batch, so it would hide and then delete the
// rows of InsertFrom's batches. A database loaded with Insert only stays
// at version 1.
//
// # Exactly-once loading
//
// ClickHouse 18.16 has no transactions, and an INSERT spanning several
// partitions is not atomic. Insert therefore marks every row of a batch
// with the batch's next offset (column batch), sends the rows as one
// native batch insert (naming its columns, which 18.16 requires), and only
// then appends the offset to meta. Every query reads rows with batch <= the
// recorded offset (read once per call, from meta, so a process that only
// queries sees what the loader recorded): a batch becomes visible whole
// when its offset is recorded, and readers never see part of one. If the
// process dies (or an Insert fails) between the rows and the offset, the
// rows are invisible; Open, and the next Insert after a failure, delete
// the rows with batch > the recorded offset (an ALTER … DELETE mutation,
// waited for) before anything else, so the retried batch counts once.
//
// InsertFrom (a partitioned source such as Kafka, whose positions are per
// partition and do not make one increasing number) numbers its batches
// itself: a batch is one more than the latest recorded batch, which is
// the larger of meta's offset and the largest batch in table batches.
// The rows are sent marked with that number, then one row is appended to
// batches holding the number and the positions of every partition of the
// batch. That row is the commit, as meta's offset row is for Insert: a
// single-row INSERT is atomic, so the batch's rows become visible and its
// positions recorded together. Every query reads rows with batch <= the
// latest recorded batch (one round trip: greatest of the two maxima), so
// the visibility rule is unchanged; Positions is, per partition, its
// position in the latest batch naming it (argMax over an ARRAY JOIN of
// batches). Open and the next insert after a failure delete the rows of
// batches beyond the latest recorded one, as for Insert. The writer keeps
// the latest batch and the positions in memory for its conflict checks,
// rereading them whenever it cleans up. A store switched from Insert to
// InsertFrom numbers its batches after the last offset; an Insert after
// an InsertFrom must pass InsertFrom's batches too (ECONFLICT otherwise):
// a store is fed by one kind of source.
//
// Limits: one loading process per database (two writers would delete each
// other's rows in flight); a failure while the offset or batch row is
// being written is resolved by rereading meta and batches, so it may have
// been recorded (a retried InsertFrom then gets ECONFLICT: it is stored);
// meta (or batches) grows by one small row per batch.
//
// # Queries
//
// Report, Frequency, RefreshRollups and InvalidSamples read the scope's
// rows (tenant, campaign, kinds, time range, day range for partition
// pruning, batch <= the latest recorded batch, placements as an IN list
// of literals).
// Retries are deduplicated with ORDER BY ts, received LIMIT 1 BY placement,
// kind, impression over the rows with an impression id, UNION ALL the rows
// without one; the first event counts with its own verdict. Local days and
// hours are integer divisions of ts plus the zone's offset, a multiIf over
// the offset changes in the range taken from Go's zone data (as the DuckDB
// store does), so the server's zone files do not matter. Users are exact:
// rows are grouped by (dimensions, kind, user) with n events, nb invalid
// and nv valid, then by dimensions, counting the users whose counted
// traffic is not zero. There are no GROUPING SETS in 18.16, so a report is
// two statements: the total over (kind, user) and the rows by dimension
// (skipped when the total is empty). ByReason is an arrayJoin over an
// array of if(bitAnd(ivt, reason) != 0, reason, sentinel) with the
// sentinels filtered out; ByMedia is a transform() of placement into
// media names (the empty string for unknown); ByRegion is
// if(country = 'CN', province, country). Frequency
// counts each user's impressions and first local day, then an ARRAY JOIN
// of (0, bucket) and (1, first day) gives both distributions in one
// statement. InvalidSamples is a total per reason and the examples with
// ORDER BY … LIMIT n BY reason.
//
// RefreshRollups deletes the days' rows of daily (a mutation, waited for)
// and inserts them again with one INSERT … SELECT, each local day
// deduplicated as if reported alone (the day is a LIMIT BY key); days
// that begin before the retention cut are left alone. A reader of Daily
// between the two sees the days without rows. Daily reads daily only.
//
// # Deletions
//
// DeleteBefore drops the partitions of whole UTC days before the cut
// (ALTER TABLE … DROP PARTITION, immediate), deletes the cut day's earlier
// rows with a mutation, and records the cut. DeleteUsers finds the
// campaigns, counts and time spans of the users' events (per chunk of
// 1000 users), then deletes them with ALTER TABLE events DELETE WHERE
// tenant = … AND user_key IN (…); DeleteTenant deletes a tenant's events
// and rollups the same way. Mutations are asynchronous: the store polls
// system.mutations until every mutation of the table is done
// (Options.MutationTimeout), since mutations_sync does not exist on 18.16.
// Unlike DuckDB's, a deletion is not one transaction: a reader may see
// one partition rewritten and another not yet, and a failed deletion may
// have removed part of what it was asked to (calling it again finishes).
//
// # Behaviour
//
// JudgeBehaviour needs sliding windows, which 18.16 lacks, so its rules
// run in Go over the rows one query returns: the day's impressions and
// clicks and the neighbouring days' within 24 hours of it, plus the day's
// other events (whose behavioural reasons are cleared). The rules are the
// DuckDB store's SQL done by hand (frequency windows with binary search
// over each key's times, orphan and fast clicks, CTR, hopping buckets,
// concentration), over the events deduplicated per (tenant, placement,
// kind, impression id); a retry takes the verdict of the day's first event
// of its impression id. Changed rows are written with ALTER TABLE events
// UPDATE ivt = bitOr(bitAnd(ivt, general), bits) WHERE day = … AND (tenant,
// placement, kind, ts, received, user_key, impression) IN (…), one
// mutation per set of bits and 500 rows, then waited for. Rows identical in
// that key are one row to it. The writer lock is held throughout, so a
// judgement and an Insert do not interleave.
//
// # Newer servers
//
// On a current ClickHouse the same design could use: window functions for
// the dedup (row_number) and the behavioural rules in SQL; GROUPING SETS
// for a report in one statement; mutations_sync = 2 (or lightweight
// DELETE) instead of polling system.mutations; LowCardinality(String) for
// tenant, campaign, placement, country, province and the device strings,
// and CODEC(Delta, ZSTD) for ts and received; insert deduplication tokens
// (insert_deduplication_token, non-replicated MergeTree since 22.x) or
// transactions (experimental) for exactly-once without the batch column;
// REPLACE PARTITION or ReplacingMergeTree for atomic rollup refreshes.
// None of these is used, so that one code path runs everywhere.
package clickhouse
