// Package duckdb is the embedded analytical store: store.Store over one
// DuckDB file (by default <data>/store.duckdb), for a single process.
//
// # Schema
//
// Raw events are partitioned by the UTC day of their event time: table
// events_YYYYMMDD holds that day's events, created by the first Insert that
// needs it and listed in the catalog table partitions (day, name). A
// partition has one fixed-width column per field of admeter.Event that a
// report or an invalid-traffic rule reads (see eventColumns):
//
//   - every string (tenant, campaign, placement, OS version, browser, model,
//     app, package, country, province, city) is a UINTEGER id in the
//     dictionary table strs (id, s), 0 being "": rows stay narrow, appends
//     do no per-string work in DuckDB, and filters compare integers;
//   - ts and received are Unix milliseconds (BIGINT);
//   - user_key and impression are UUIDs (the 16-byte pseudonyms), NULL
//     when absent; net is a BIGINT (an IPv4 /24 as 2^48 plus its address,
//     an IPv6 /48 as its top 48 bits), lat and lon the area's grid, NULL
//     when unknown;
//   - ivt is the invalid-traffic verdict (admeter.IVT as a UINTEGER, 0 for
//     valid traffic);
//   - then the viewability and video fields (view, view_area,
//     view_seconds, video_duration in milliseconds, video_play,
//     video_progress, video_quartiles), the conversion fields (conversion,
//     a UUID like impression; conversion_type and currency, dictionary
//     ids; value, in millionths) and click_id (a UUID), all 0 or NULL on
//     events without them. A conversion is a row of kind
//     admeter.KindConversion with campaign and placement 0 (""): it
//     belongs to its tenant, so every per-campaign query leaves it out.
//
// Table meta holds the schema version, the event-log offset and the latest
// retention cut (retained_before); table positions (partition, next) the
// position of each partition of a partitioned source (Kafka) that
// InsertFrom recorded; table daily holds the rollups (tenant, campaign,
// placement, local day, then the counts of valid traffic, of
// invalid traffic, and the users counted in both, so that either traffic
// filter can be answered from it). Open runs the schema's CREATE TABLE IF
// NOT EXISTS and INSERT … ON CONFLICT DO NOTHING on every file, so a row
// added to meta (as retained_before was) appears in older files without a
// migration step. A change older programs cannot live with raises the
// schema version: Open refuses a file of a later version, and migrates a
// file of an earlier one in one transaction that records the new version
// (so it runs once). Table positions needed no new version: older
// programs ignore it. Version 2 added column ivt to every partition and
// the invalid-traffic columns to daily, all ALTER TABLE … ADD COLUMN …
// DEFAULT 0: the events of a version-1 file were valid traffic, and its
// rollups counted them all. Version 3 added the viewability, video,
// conversion and click-id columns to every partition in the same way (0,
// or NULL for the UUIDs: older events had none of those fields).
//
// # Writes
//
// Insert runs in one transaction on the single writer connection: it
// creates missing partitions, interns the events' strings, inserts each
// day's events with INSERT INTO events_YYYYMMDD SELECT * FROM
// admeter_batch(), a table function registered on the writer connection
// whose rows DuckDB's threads fill from the batch in parallel (batch.go;
// faster than DuckDB's row appender, see docs/benchmarks.md), writes the
// new dictionary strings with the appender (which joins the open
// transaction), and records the offset, then commits. Either all of it is
// visible or none, after a crash too. InsertFrom is the same transaction
// recording, instead of the offset, the batch's partition positions (one
// INSERT … ON CONFLICT DO UPDATE into positions); a batch naming a
// partition whose position is at or beyond its new one is refused before
// the transaction begins. The committed offset and positions are kept in
// memory too (the positions as an immutable map swapped whole), so the
// conflict checks, Offset and Positions read no table. A store is fed by
// one kind of source: each records its own position and leaves the
// other's alone, so switching a store from Insert to InsertFrom is
// harmless, but nothing ties the two together. Writers take turns;
// queries run beside them, each in a read transaction, so a query sees
// the partition list and the events of one snapshot and never part of a
// batch.
//
// DeleteBefore drops the partitions of whole days before the cut and
// deletes rows only in the cut's own day, and records the cut in meta in
// the same transaction: RefreshRollups leaves the local days that begin
// before it as they are, since their raw events are incomplete and their
// rollups are the only complete count (a late event for such a day, or a
// deletion request, would otherwise make the rollup count only what is
// left). DeleteUsers first finds, with one query over every partition, the
// partitions and campaigns holding the users' events of the tenant and the
// span of their event times (returned for the caller to refresh rollups),
// then deletes in those partitions only.
//
// # Clustering
//
// The loader appends events in arrival order, every tenant and campaign
// at once, so each of a partition's row groups (122 880 rows) holds some
// of every campaign and a query of one campaign reads all of them.
// Cluster rewrites the partition of a day that has ended in (tenant,
// campaign, ts) order, in one transaction (CREATE, INSERT BY NAME … ORDER
// BY, DROP, RENAME), and records its rows in table clustered (day, rows);
// DuckDB's per-row-group minimum and maximum of tenant and campaign then
// let a scan skip the row groups of other campaigns. Late events are
// appended after the ordered rows; the day is rewritten again when they
// reach a tenth of it. serve runs Cluster every --store-cluster-interval
// for the days that ended over an hour ago. Answers do not change
// (TestConformanceClustered runs the conformance suite over clustered
// partitions); row ids do, which JudgeBehaviour detects (see below).
//
// # Queries
//
// Report and Frequency are each one SQL statement run inside DuckDB; only
// their result rows (a few hundred at most) reach Go, which names them and
// sorts them. The statement reads the UNION ALL of the partitions that
// overlap the range, filtered by tenant, campaign, kinds and time (days
// covered whole need no time filter), and by placement when the query names
// placements (their dictionary ids as an IN list; ids the dictionary lacks
// match nothing, so a query naming only those reads nothing). Filtering
// before deduplication is exact, since duplicates never span placements.
// It deduplicates impression ids with
// row_number() over (placement, kind, impression) ordered by event time then
// receive time, applied only to the events that have one, over valid and
// invalid events together: the first event counts with its verdict. The
// traffic filter applies after deduplication: events are counted per
// (dimensions, kind, user) as n, and nb of them invalid; the main measures
// sum n (all traffic) or n - nb (valid), a user counting where that is not
// zero, and the invalid measures sum nb. A report by reason unnests each
// event's list of reasons (list_filter over the reason bits) and counts
// the event in its total through its first reason only. Local days and
// hours are integer divisions of ts plus the zone's UTC offset, taken from
// Go's zone data as a CASE over the offset changes in the range: this
// agrees with the days the caller computes with the same *time.Location
// (fixed zones included) and is an order of magnitude cheaper than AT TIME
// ZONE (40 ms against 550 ms to bucket 2M events by day and hour). Users
// are counted exactly: events are grouped by (dimensions, kind, user) and
// the users of each group counted, with the total (users distinct over the
// range) as a second grouping set. Media come from a VALUES join built from
// the query's map. Duplicates are looked for within the query's range. Over more than 16 partitions the
// events are first read into a materialized CTE: each partition scan that
// feeds a window or aggregation directly costs DuckDB about a millisecond
// of setup. A scope of more than 4 M events (scope.large: the partitions'
// row counts, then the campaign's rollups) is not materialized (about 60
// bytes an event) but read again where it is referenced; its
// deduplicated events are materialized instead (CTE deduped), so that the
// aggregation does not compete with the dedup for memory.
//
// Viewability reads the campaign's events of the range widened by
// store.ViewResultGrace once (materialized over many partitions, like
// Report's) and runs two statements over it: the range's impressions with
// an id, deduplicated as in Report and filtered by verdict, joined with
// the measured results (viewable or not) of their placement and id; and
// the plays, grouped by placement and impression id, an event without an
// id being a play of its own (told apart by its rowid and UTC day, which
// name a row), within each group of the dimensions and, through a second
// grouping set, over the range for the total. Go merges the rows of the
// two by their dimension values. Attribution runs two statements over the
// tenant's partitions: the conversions of the range, deduplicated by
// conversion id with row_number() ordered by receive time; and the
// impressions and clicks of the range widened by the lookback whose user
// is in the deduplicated conversions, or (clicks) whose click id is, as
// semi-joins.
//
// RefreshRollups computes the chosen days in one INSERT … SELECT, each day
// deduplicated as if reported alone, counting valid and invalid traffic
// apart; Daily reads only the rollup table (its rows are per placement, so
// a placement filter only selects rows) and adds the invalid counts for
// the all-traffic filter (users: valid + invalid - both).
//
// # Reach index
//
// ReachSets (cross-media reach) needs every impression of a set of
// campaigns, user by user in event-time order: in SQL that is a sort of
// the whole range (at 100 M stored events, 100 s on two cores). The store
// keeps instead one file per day partition in a directory beside the
// database file (path + ".reach"; a temporary one for an in-memory
// store), with the day's impressions grouped by user key and, within a
// user, in time order, each with its placement, whether it is invalid
// traffic, and the time of the previous copy of its impression id in any
// earlier or the same partition (reachindex.go has the layout). ReachSets
// then merges the files of its range user by user in Go, one goroutine
// per slice of the user key space, and counts as reachSetsSQL would: an
// impression whose previous copy lies in the range is a repeat.
//
// The files are derived data. Every change to a partition's rows takes
// the next number of a change sequence and records it as the day's gen in
// table generations (touch), in the same transaction; a change that adds or removes copies
// of impression ids that later days hold also sets the day's dep (an
// insert probes the later partitions for its late impressions' ids). A
// file is up to date when neither its day's gen nor an earlier day's dep
// is later than the generation it was built at; a query builds the files
// of its range that are not, inside its read snapshot, and serve's
// clustering job builds the ended days' in the background
// (BuildReachIndex). Deletions of users or tenants remove the affected
// files at once (they hold the users' keys), and Open removes any file
// that is out of date or not an index. A retention cut needs no rebuild of
// later days: a previous copy before the cut no longer counts.
// TestReachIndexMatchesSQL holds the index to reachSetsSQL after each kind
// of change, and the conformance suite runs over it.
//
// # Behaviour
//
// JudgeBehaviour evaluates the sophisticated invalid-traffic rules of one
// UTC day in one statement, in a read transaction beside the loader: the
// day's partition and the neighbouring days' events within 24 hours of it,
// deduplicated per (tenant, placement, kind, impression id); frequency
// limits as pairs of window functions (events in [ts, ts+W], then whether
// any window starting within W before an event is over the limit),
// orphan and fast clicks from the user's latest and next impression on the
// placement, CTR and concentration as grouped aggregates joined back, and
// network hopping per fixed bucket. It yields the rows whose verdict
// changes (general bits kept, behavioural ones replaced; a retry takes its
// first event's) by rowid. Only then is the writer taken: UPDATE … FROM
// VALUES in chunks, each row matched by rowid, event time and receive time;
// if fewer rows match than were judged (a deletion and a checkpoint moved
// rows in between) the transaction is rolled back and the day judged again
// under the writer, through a temporary table.
//
// UserEvents (an access copy) is one query over the UNION ALL of every
// partition, filtered by tenant and user keys, ordered by event time and
// receive time with a LIMIT of one more than asked (to tell whether there
// are more); the rows are turned back into events with the dictionary. It
// costs a scan of every partition's tenant and user_key columns: 20–60 ms
// for one user over 30 days of 100 000 events on 2 cores, and about 4×
// that for ten users, the IN over UUIDs being evaluated per row (a
// semi-join against a list of keys is no faster); see BenchmarkUserRights.
// RawDays counts each partition; KeyVersions aggregates every partition by
// key_version.
package duckdb
