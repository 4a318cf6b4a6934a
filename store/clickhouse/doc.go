// Package clickhouse is the ClickHouse analytical store: store.Store over
// one ClickHouse database, or one sharded over a cluster's servers (see
// Sharding), reached with clickhouse-go v2 over the native
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
// Open runs CREATE TABLE IF NOT EXISTS for eight MergeTree tables:
//
//   - events: one row per event, PARTITION BY day (the UTC day number of
//     the event time, a UInt32 column Insert computes), ORDER BY (tenant,
//     campaign, placement, kind, ts). Strings stay String; ts and
//     received are Unix milliseconds (Int64); user_key and impression are
//     FixedString(16), sixteen zero bytes when absent; net, lat and lon are
//     Nullable (net encoded as in the DuckDB store: an IPv4 /24 as 2^48
//     plus its address, an IPv6 /48 as its top 48 bits); ivt is the
//     verdict; batch is the number of the batch that wrote the row (see
//     below). An OS or device type without a name is stored as 0. Last
//     come the columns of schema version 4: view, view_area,
//     view_seconds, video_duration (milliseconds), video_play,
//     video_progress, video_quartiles (UInt8 codes of admeter's types),
//     conversion_id and click_id (FixedString(16) pseudonyms, zero bytes
//     when absent), conversion_type, value (Int64 millionths of currency)
//     and currency. A conversion is a row of kind conversion with an empty
//     campaign and placement.
//   - loads: the rows that load batches, ORDER BY (intent_at, batch): a
//     batch's intent (state 1, with the range [from, next) of each of its
//     partitions as three arrays), its done row (2, the commit), void rows
//     (3) and, rarely, a withdrawn intent (4). Every row of a batch carries
//     its intent's server time (intent_at, Unix seconds) and its writer's
//     IntentTTL (ttl); at is the server time of the row; writer is a
//     random number per Open.
//   - checkpoints: (settled, partitions, nexts): the positions of every
//     batch whose intent is before settled, written by the clean-up; the
//     latest counts.
//   - dead: batches settled without committing, or voided: their rows
//     never count, whenever they arrive.
//   - meta: (key, value, at) rows for schema_version, retained_before
//     (the latest DeleteBefore cut, Unix milliseconds) and, up to schema
//     version 2, offset. Each only grows, so its value is max(value) of
//     its rows and writing one is an append (INSERT … SELECT, which needs
//     no client data block: clickhouse-go's INSERT … VALUES with
//     parameters hangs against 18.16).
//   - batches: the batches InsertFrom recorded under schema version 2,
//     (batch, partitions, nexts), read by the migration only.
//   - daily: the rollups, one row per (tenant, campaign, local day number,
//     placement) with the valid, invalid and mixed counts of the DuckDB
//     store's daily table.
//   - posts: the social records (schema version 5), one row per record,
//     PARTITION BY month (yyyymm of the record time in UTC, an Int32
//     column InsertPosts computes), ORDER BY (tenant, ts, source, id):
//     tenant, source, kind (String), id, author and exact_key
//     (FixedString(16); author zero bytes for a search aggregate), ts and
//     received (Unix milliseconds), text, likes, comments, shares, views,
//     record_count (Int64), key_version, sentiment (Float32),
//     fingerprint (UInt64) and stored, the Unix nanoseconds of the
//     InsertPosts call that wrote the row (see Social records).
//
// Open refuses a database whose schema_version is newer than this
// program's (5), records 5 in a new one, and migrates an older one. To
// version 5 it only records 5: table posts is created by every Open (on
// every shard and replica when sharded, with posts_all), and the version
// makes version-4 programs, whose deletions would leave social records
// behind, refuse the database. To version 4 it adds the columns of version 4 (ALTER TABLE … ADD COLUMN,
// after reading system.columns: 18.16 has no ADD COLUMN IF NOT EXISTS) to
// every events table that lacks them: each shard's local table (with
// replicas, on one replica of each, which ZooKeeper passes on, then waits
// until every replica that answers lists them), the coordinator's, and
// events_all; rows written before read the columns' defaults (zero, the
// empty string). Version 3 programs refuse a version-4 database; stop
// them first, although their inserts, which name their columns, would
// still work. A database of version 1 or 2 first goes to 3: it deletes the rows of the batches that version never recorded
// (numbered above meta's offset and table batches' largest batch, as
// those versions did at Open), writes their offset and positions as the
// first checkpoint (settled 0), before version 4's columns are added and
// 4 recorded, after which older programs refuse the database. Their batches keep their numbers (below
// 2^63) and count. Each step may run again, and none touches the rows of
// version-3 batches (numbered from 2^63). Stop the loaders of older
// versions first: one still running would delete the rows of version-3
// batches as rows of unrecorded ones.
//
// # Exactly-once loading
//
// ClickHouse 18.16 has no transactions, and an INSERT spanning several
// partitions is not atomic; a single-row INSERT is, and on one server a
// SELECT sees every INSERT acknowledged before it began. Any number of
// writers (DBs, in one process or many) may load one database at once.
// Insert, InsertFrom and InsertRange load a batch the same way (Insert
// is InsertFrom of one partition of its own, -1, whose position is the
// offset):
//
//  1. Begin. Read the window: the rows of loads whose intents are at or
//     after the latest checkpoint. The recorded positions are the
//     checkpoint's, advanced by each committed batch of the window that
//     is not at risk (below). Refuse with ECONFLICT as the store contract
//     says (a partition recorded at or beyond its new position), and find
//     the range of each partition: InsertRange's caller gives from; for
//     InsertFrom it is where this DB expects the caller's next batch of
//     the partition to start (the next of its last batch of it, else the
//     lowest position it reported for it, else the recorded one), and a
//     partition recorded beyond that is ECONFLICT too, since another
//     writer loaded it meanwhile and the batch may hold records it loaded
//     (a writer stalled with records read before a rebalance).
//  2. Intent. Append the intent row. The server numbers the batch as it
//     writes the row: 2^63, plus its time in seconds times 2^31, plus a
//     31-bit nonce (consecutive per writer from a random start), so that
//     numbers grow with the time of their intents. The writer reads the
//     row back; should another writer's intent have the same number (the
//     same second and nonce), it withdraws its own and takes another
//     before sending any row.
//  3. Rows. Send the events, each row marked with the number (one native
//     batch insert naming its columns, which 18.16 requires).
//  4. Check. Read the window. Refuse to commit (void, error) if the
//     intent is a TTL old by the server's clock. Rivals are the batches
//     whose range overlaps this one's in some partition: if one has
//     committed, void this one (ECONFLICT: that one may have been
//     reported, and stays); while a higher-numbered one is undecided
//     (intent, no done or void row, younger than twice its TTL), wait.
//  5. Done. Append the done row, stamped by the server: the commit, if
//     stamped within the TTL of the intent (each intent records its
//     writer's TTL, so writers agree on every batch), and never otherwise.
//  6. Resolve. Read the window until no higher rival is undecided. If one
//     has committed, this batch loses: void it, ECONFLICT. Otherwise it
//     wins: void the lower rivals that committed, and return.
//
// A batch counts, in queries and in positions, when it is committed
// (intent, done within the TTL) and not void. A void row makes queries
// drop the batch at once; its rows are then deleted (a mutation, not
// waited for). Of two overlapping committed batches the higher number
// counts (the later intent: the owner of a partition after a rebalance
// wins over a stalled earlier one, and a dead writer's intent never
// holds up a newer batch). The loser is voided by whichever writer sees
// both first, right after its done row, or by the next clean-up.
//
// Queries read rows through a view read once per call (one round trip),
// so that a call's statements agree: rows count when their batch is
// numbered below a bound and is not hidden, or is listed as recent. The
// bound is the first number of the intents a TTL before the view was read
// (or of the checkpoint, if later); the recent batches are the committed
// ones from the bound up; the hidden ones are the dead batches and those
// of the window below the bound that are not committed or are void. A
// batch begun after the view was read is above the bound and not listed,
// so its rows, sent before the query's statements run, do not count.
// The lists stay short: the hidden batches are those in flight, and one
// per batch that ever failed or lost; the recent ones are the commits of
// the last TTL. Reading the view is one query of table dead and of the
// window.
//
// Positions (and Offset) read the window and the latest checkpoint (read
// again once per CleanupInterval; an older one only makes the window
// longer). A committed batch is at risk while a higher-numbered rival is
// undecided or committed: its positions are not reported until that is
// decided, so that no one resumes after positions that may be voided.
//
// The clean-up runs at Open, at the start of a load once per
// CleanupInterval and after a failed load, by any writer, concurrently
// with others. It voids every committed batch of the window that a
// committed higher rival beats. Then it settles the batches whose intents
// are three TTLs old: by then every batch that could beat them is decided
// (a winning rival began before the loser's commit, within a TTL of its
// intent, and is decided two TTLs after its own). It records the ones
// not committed (or void) in dead, writes a checkpoint of the positions
// of the others, and deletes the rows of dead batches (a mutation,
// waited for, after a count that reads column batch; at Open also for
// rows that arrived after their batch was settled).
//
// What is guaranteed, across writers: a batch's rows count all at once,
// with its positions, or never; no writer deletes or hides the rows of
// another's committed batch, except a loser of an overlap; and a loser
// is never a batch that one of its writer's calls reported stored, nor
// one whose positions Positions reported (its rival's intent appeared
// before its commit, and its writer was still resolving): every record
// of a partition whose batches start where Positions or the writer's last
// batch said counts once. A duplicate counts while two overlapping batches
// are both committed: from the second done row to the first void row, one
// round trip of either writer (milliseconds), or, if both writers die in
// between, until the next clean-up or Open of any writer; Positions stays
// right meanwhile.
//
// Limits: one coordinating ClickHouse server (replicas would need
// sequential consistency for the checks' reads; events may be sharded
// and replicated, below); the server's clock
// must not step back by more than a TTL, and a one-row insert must become
// visible within a TTL of starting; a batch must commit within IntentTTL
// of its intent (1 minute by default), else it is refused and retried. A
// writer whose first batch of a partition it never loaded nor reported
// holds records from before another writer's commit is not detected by
// InsertFrom (InsertRange, told where the batch starts, detects it). A
// writer may wait up to two TTLs for a higher-numbered overlapping batch
// whose writer died. Each batch costs four reads of the window, the
// intent and done rows and its read back (the rows aside): more round
// trips than the one row of schema version 2. Table loads grows by two
// small rows per batch and is read from the latest checkpoint on (the
// order key starts with intent_at); dead grows by one number per failed
// or voided batch and is read by every query; checkpoints by one row per
// clean-up that settles something.
//
// # Queries
//
// Report, Frequency, RefreshRollups and InvalidSamples read the scope's
// rows (tenant, campaign, kinds, time range, day range for partition
// pruning, the view's condition on batch, placements as an IN list of
// literals).
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
// Viewability is one statement, the UNION ALL of two aggregations, each
// of which gives both the rows and the total from one scan: an
// arrayJoin makes of every source row a copy for its row (total = 0, the
// dimension values) and one for the total (total = 1, empty values); Go
// adds up the two parts of a row. Viewability: the deduplicated
// impressions with an impression id, of the filtered traffic, ANY INNER
// JOIN (one match each) the results of the range widened by
// store.ViewResultGrace grouped per (placement, impression id) with
// max(view = viewable); viewable users are uniqExactIf. Video: the events
// of the range with a video field (kinds impression, video and
// viewability), of the filtered traffic, grouped per (total, dimensions,
// placement, impression id) into plays with max() of their start and of
// each quartile reached (a ping's progress, or the quartile mask's bits at
// or past it), UNION ALL the events without an id, each a play; then
// summed per dimensions. Both subqueries of the JOIN read events_all as
// any query does and the JOIN runs on the coordinator.
//
// Attribution is two statements over one view. The conversions: kind
// conversion with the empty campaign and placement (the order key's
// prefix), deduplicated by ORDER BY received, ts, … LIMIT 1 BY
// conversion_id. The touches: the tenant's impressions and clicks of the
// lookback and range, of the filtered traffic (every stored one, not
// deduplicated), whose user_key, or (clicks) click_id, is GLOBAL
// IN the conversions' statement as a subquery: the users and click ids
// of a range's conversions may be too many for literal lists, and a
// Distributed table needs GLOBAL for an IN over itself (the subquery then
// runs once on the coordinator and goes to the shards as a temporary
// table; a single server takes GLOBAL IN too).
//
// Audience is one statement over one view, of valid impressions with a
// user (every stored one, not deduplicated: a retry names the same
// user). Per user over the range, every tenant's: whether the campaign
// (its placements) reached it, and the max of the tuples (ts, received,
// region, os, device) of the platform and, maxIf, of the campaign: the
// latest impression, ties by the values. UNION ALL per user and category
// over the lookback and range: uniqExact(day) of the impressions on the
// category's placements, HAVING enough days; a placement's categories are
// an element of a literal array of arrays, indexed by a transform() of
// the placement, and arrayJoin makes a row of each (the placements are
// also an IN list, so that the other rows are skipped). Both are aggregations over events,
// which the shards run and the coordinator merges. Then per user (of the
// baseline only) the interests, arraySort of (-days, category) cut to
// MaxInterests; then an ARRAY JOIN of its cells (dimension, value, and
// whether of the baseline, the campaign or both; a total cell of
// dimension "" gives reach and baseline) grouped by dimension and value.
// A statement over 200 kB raises max_query_size for itself.
//
// ReachSets is one statement over one view: the impressions of the
// tenants' campaigns (IN lists) on the placements of the groups,
// deduplicated as Report's (campaign is one more LIMIT BY key, and
// tenant when there are several), of the filtered traffic; a
// placement's group is a transform() over literal arrays. Per user,
// groupBitOr(bitShiftLeft(toUInt64(1), group)) is its bit set, count()
// its impressions, sumMap([group], [1]) its impressions per group and,
// for frequency waste, the groups of groupArray((ts, received, group))
// sorted with arraySort and cut past the threshold with arraySlice
// (18.16 has no window functions); then per bit set the users,
// impressions and sumMaps of the wasted groups, of the users per
// frequency bucket (least(n, 20)), of the impressions per group and of
// the users per (group, bucket), which the client adds up over the bit
// sets into the frequency distributions. The impressions without a user
// are one row of bit set 0 (no user has it), waste nothing and are in no
// distribution. A statement over 200 kB raises max_query_size for
// itself.
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
// DeleteUsers and DeleteTenant also count and delete the social records
// of the tenant (whose author is one of the users) with a mutation of
// posts, and DeletePostsBefore deletes them for retention as DeleteBefore
// does events, by month: DROP PARTITION for the whole months before the
// cut, a mutation for the cut month's earlier rows.
// Unlike DuckDB's, a deletion is not one transaction: a reader may see
// one partition rewritten and another not yet, and a failed deletion may
// have removed part of what it was asked to (calling it again finishes).
//
// # Social records
//
// InsertPosts makes (tenant, source, id) unique without a unique
// constraint: under the writer lock, which serialises every insert and
// deletion of a DB, it drops the repeats within the call (the first
// stays), reads which of the rest are stored (one query per tenant and
// 1000 ids, SELECT source, id … WHERE tenant = … AND id IN (…)), and
// sends only the others, synchronously. Every call thus sees the rows of
// the earlier ones, so the first record stored of a key wins, no key is
// stored twice and the count of new records is exact. It is not a
// ReplacingMergeTree with deduplication at read time: that would make
// every read sort or hash by key, and still not give the count. Limit:
// two processes inserting the same new record at the same moment could
// both store it (ScanPosts would then pass it twice); run one social
// loader per database. A failure part way leaves the rows written
// stored, and calling again stores the rest.
//
// ScanPosts is one query of the tenant's time range (and the months it
// spans, for partition pruning), sources and kinds as IN lists, ORDER BY
// ts, id, source, streamed to fn (fn's error cancels it). UserPosts is
// one query per 1000 authors with LIMIT limit+1, merged in Go, as
// UserEvents. KeyVersions adds a GROUP BY key_version of posts to the
// events', each record counting as one with a pseudonym.
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
// judgement and an insert of the same DB do not interleave; a batch
// another writer commits meanwhile is judged when the day is judged
// again.
//
// # Sharding
//
// With Options.Cluster set to a cluster of the servers' remote_servers
// config, the store spreads events over its shards (as system.clusters
// lists them on the DSN's server; a cluster whose shards have several
// replicas runs replicated, see Replication). The DSN's server is the coordinator: it holds meta,
// loads, checkpoints, dead, batches and daily, as a single server does,
// plus events_all, a Distributed(cluster, database, events, key) table
// over the shards' local events tables. Every shard (the coordinator is
// usually one of them) has the local events table, created by Open,
// which connects to each shard with the DSN's credentials and database
// (the database must exist on every shard). Every shard must weigh 1, and
// Open refuses an events_all made over another cluster or database (it
// holds no data: drop it and Open creates it again).
//
// The sharding key is cityHash64 of the user's pseudonym, or of the
// impression id for events without a user, modulo the number of shards
// (in shard_num order): Insert computes it in Go (CityHash64 v1.0.2, as
// ClickHouse's) and sends each row to its shard's local table itself,
// synchronously, all shards at once, one native batch insert per shard,
// every row marked with the batch's one number. So a user's events are
// on one shard. The commit protocol is unchanged and its rows stay on the
// coordinator: intent row, the rows to every shard, the checks, done row.
// Batch numbers are global, so the view (literal lists of batches) filters
// every shard alike, and a batch's rows count on all shards at once, when
// its done row is read.
//
// Queries (Report, Frequency, the source of RefreshRollups, RawDays,
// KeyVersions, RecentEvents, UserEvents, InvalidSamples, Viewability,
// Attribution, Audience, ReachSets and JudgeBehaviour's read) read events_all on the
// coordinator, which merges
// the shards' answers: ORDER BY … LIMIT 1 BY is applied again over the
// merged rows (deduplication is global), uniqExact and the two-level user
// counts are exact, and a scalar subquery (RecentEvents' latest day) runs
// once. Attribution's IN over events says GLOBAL IN (18.16 refuses an
// IN over a Distributed table inside a query over one without it), and
// Viewability's JOIN is between two subqueries, run on the coordinator;
// a new IN over events must say GLOBAL too. Daily reads the coordinator's daily table.
//
// Social records are sharded by tenant: posts_all is a
// Distributed(cluster, database, posts, cityHash64(tenant)) table over
// every shard's local posts table, and InsertPosts computes the key in
// Go and writes each tenant's records to its shard's local table (with
// replicas, as for events: to the first replica that takes them, then
// waits until every live replica of the shard holds them). Queries,
// InsertPosts' check for stored records and the counts before deletions
// read posts_all; the deletions' mutations and DROP PARTITION run on
// every shard (every replica). They are few, so a tenant's records
// stay together on one shard rather than spread by author.
//
// What changes events runs on every shard's local table, at once,
// through a connection to each (ON CLUSTER would need ZooKeeper): the
// deletion of the rows of void and dead batches and of unrecorded ones
// at migration, DeleteBefore's DROP PARTITION and cut-day mutation,
// DeleteUsers' and DeleteTenant's mutations, and JudgeBehaviour's
// ALTER … UPDATE; each waits for the mutations of every shard. Counts
// before them read events_all.
//
// Limits: without replicas, a shard down fails the loads and queries
// that touch it (a failed load's batch never commits, and a later
// clean-up deletes its rows from every shard). The Distributed table reaches the
// shards with the user and password of the remote_servers config, which
// must be valid on every shard. The coordinator should be one of the
// shards, so that a database that held events on one server keeps
// counting them once sharded. The coordinator is
// a single point of failure and of throughput for commits (the small
// round trips of each batch, above) and for every query's view; rows
// themselves go to the shards directly. Adding a shard changes where new
// rows of a user land (old ones stay): queries and deletions, which run
// on every shard, stay right, only per-shard locality of a user is lost.
// A reader sees a batch only after its done row, but a mutation running
// on one shard and not yet on another shows a deletion half done, as on
// one server across partitions.
//
// # Replication
//
// When a shard of Options.Cluster has more than one replica in
// system.clusters, the store runs replicated. Every server then needs
// <zookeeper> and the macros shard and replica (Open refuses a server
// without them, and a local events table that is not replicated), and
// remote_servers should set <internal_replication>true</internal_replication>
// on each shard, so that the Distributed table writes nothing itself and
// reads one replica per shard. The local events table is
// ReplicatedMergeTree('/clickhouse/tables/{shard}/<database>/events',
// '{replica}'), otherwise as above, and the local posts table likewise
// (…/<database>/posts). Open connects to every replica with
// the DSN's credentials and database and creates the table on each that
// answers (a replica down at Open is logged, not fatal, while each shard
// has one up).
//
// Writes. Insert sends a shard's rows to its first replica that takes
// them (one that cannot be reached is skipped for the next), then waits
// until every other replica of the shard that answers a ping holds them
// (a count of the batch's rows in its days, polled; 30 s at most, after
// which the load fails and its batch never commits). This is step 3 of
// the commit protocol, so a committed batch's rows are on every replica
// that was up during its load: losing any single replica loses no
// acknowledged batch. Were a replica down, the batch is on the others
// only until it returns and fetches it (ZooKeeper's replication log): with
// two replicas, a shard runs on one copy meanwhile, and loading goes on
// (the store logs nothing per batch; system.replicas shows it). A
// replica that answers but cannot fetch (cut off from ZooKeeper or from
// its peers' interserver port) fails every load of its shard after the
// 30 s: stop it, or remove it from remote_servers.
//
// Why not insert_quorum: ClickHouse 18.16 has insert_quorum,
// insert_quorum_timeout and select_sequential_consistency, but as tried
// against it (the tests' servers): it tracks one quorum insert per table
// at a time (a second, from another loader, fails with "Quorum for
// previous write has not been satisfied yet"); with a replica down a
// quorum of all replicas fails ("Number of alive replicas (1) is less
// than requested quorum (2)", or times out while ZooKeeper still counts
// the dead replica as active), and a part whose quorum failed stays on
// the replica it was written to; a DELETE mutation of a part written
// with insert_quorum = 2 never finished; and select_sequential_consistency
// hides every part written without a quorum after the last quorum part,
// so a degraded write would vanish from reads. Waiting for the rows
// ourselves gives the same guarantee without these.
//
// Reads. Queries read events_all as before; the Distributed table picks
// one replica per shard (load_balancing, by default random), failing over
// from one it cannot reach. The coordinator's sessions set
// max_replica_delay_for_distributed_queries = 1: a replica more than a
// second behind in fetching inserts (absolute_delay in system.replicas,
// such as one that restarted and is catching up) does not answer for its
// shard while another is current; if none is, the least behind answers
// (fallback_to_stale_replicas_for_distributed_queries = 1; with 0 the
// query fails instead, which the conformance suite's concurrent readers
// hit on a loaded machine: a replica fetching a batch being loaded counts
// as behind too). A committed batch is visible on whichever current
// replica is read: it was on every live replica before its done row, and
// the replica it was written to has no delay for it. Remaining gaps: a
// shard whose every replica lags (the least behind may lack a batch
// committed while the others were down); a replica in the first moments
// after it reconnects to ZooKeeper, before it has read the replication
// log, reports no delay and could answer without the batches committed
// while it was down; and a mutation (deletion, verdict update) made while
// a replica was down reaches it when it returns, and the delay does not
// count mutations, so it may show rows deleted meanwhile until it has
// applied them.
//
// Mutations and DROP PARTITION on a replicated table replicate through
// ZooKeeper, so each runs once per shard, on its first replica that
// answers; the store then waits until every replica of the shard that
// answers lists the mutation and has applied it (system.mutations), or
// has no active part of the dropped partition (system.parts), so that a
// deletion is done on every live replica when it returns.
//
// ReplicatedMergeTree drops an inserted block identical to one of the
// last ones inserted (deduplication); a batch's rows carry its number, so
// only a resend of the same batch's block is dropped, which is what a
// retry wants (the wait for the replicas then expects what the replica
// written to holds).
//
// Limits: the coordination tables (meta, loads, checkpoints, dead,
// batches) and the rollups (daily) stay plain MergeTree tables on the
// coordinator: it remains the single point of failure for commits and
// queries, and losing its disk loses the commit records (the events of
// committed batches would then no longer count). Replicating them needs
// sequential consistency for the protocol's reads of the window, which
// 18.16's quorum reads (above) do not give. The coordinator should not be
// the replica killed for maintenance: stop loading first.
//
// The tests run the conformance suite on 2 shards × 2 replicas (four
// servers and a ZooKeeper from Debian's zookeeper package), and kill
// (SIGKILL) and restart a replica of a cluster of their own.
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
// REPLACE PARTITION or ReplacingMergeTree for atomic rollup refreshes;
// ADD COLUMN IF NOT EXISTS for migrations; ASOF JOIN to find each
// conversion's last touch in SQL rather than returning the touches.
// None of these is used, so that one code path runs everywhere.
package clickhouse
