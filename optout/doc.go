// Package optout holds the end users who opted out of measurement (privacy
// policy 一(一)2 (6)–(7); privacy invariant 3). The collector asks Contains
// for every identifier of every event before the event is logged, so an
// opted-out user's events are dropped at the door.
//
// # What the registry holds
//
// [Registry] is the durable opt-out registry. Its entries are pseudonyms that
// the caller computed (package pseudo) under the dedicated opt-out registry
// key; a raw identifier is never given to it, written by it or logged by it,
// and without that key its file cannot be tied back to a device. [Set] is a
// small in-memory set with the same Contains, for tests and tools.
//
// # Durability
//
// The registry is one file (created 0600, in a directory created 0700): an
// 8-byte header "ADMOPT1\n" followed by fixed-size 20-byte records, each a
// 16-byte pseudonym and the CRC-32C (Castagnoli) of those 16 bytes,
// little-endian. [Registry.Add] appends its new records with one write and
// fdatasyncs once before it returns (a commit of more than 4096 records is
// written and synced 4096 at a time); Adds that arrive while a commit runs are
// committed together (group commit). An Add that returned nil survives a
// crash or power loss, and [Registry.Contains] reports it from that moment on,
// so an opt-out takes effect as soon as its fsync completes (milliseconds on
// a healthy disk; well within the one second required).
//
// [Open] loads the whole file. A tail that a crash cut short (records failing
// their checksum, or a partial one, with no valid record after them and no
// longer than one write: an Add that never returned) is truncated with a
// warning. A record failing its checksum before valid records, or a longer
// bad tail, is damage to acknowledged opt-outs: Open refuses the file with
// [ErrCorrupt] and a message saying what to do (restore a backup, or
// [Repair]). The file is flock'ed while open: a second
// Registry on it, in any process, fails with [ErrLocked], so opt-outs must be
// added through the process that owns the registry.
//
// # Lookup cost
//
// Contains is O(1), lock-free and allocation-free. The in-memory index is an
// insert-only open-addressing hash table, with linear probing, of 64-bit
// fingerprints: the first 8 bytes of each pseudonym, little-endian (0, the
// empty-slot marker, is mapped to 1). Pseudonyms are HMAC outputs, so the
// fingerprints are uniformly random and need no further hashing. Slots come
// in buckets of 8, one cache line, and a probe starts at the first slot of
// the fingerprint's home bucket, so that a lookup (above all a miss, which
// must reach an empty slot) seldom touches a second line. The slot count is
// any multiple of 8, sized for a load of 0.52 and regrown to it when the load
// would pass 0.7: 8 bytes per slot is 11.4–15.4 bytes per entry (15.4 at
// 10 M entries loaded from the file: 154 MB), plus the old table for the
// moment a growth takes. Readers load
// the table through an atomic pointer and read slots atomically; the single
// writer stores slots atomically, and builds a grown table privately before
// swapping the pointer. Open sizes the table from the file length, so loading
// never regrows.
//
// A lookup is one random access into a table that can be hundreds of MiB, so
// its cost is memory latency: with 4 KiB pages nearly every lookup also
// misses the TLB and walks the page tables. On Linux the table asks for
// transparent huge pages (madvise), which removes most of that walk: about a
// quarter to a third off a lookup at 10 M entries (docs/benchmarks.md).
//
// Fingerprints make false positives possible, never false negatives: a
// pseudonym that did not opt out matches one that did with probability about
// n/2^64 per lookup for n entries, about 5e-13 at 10 M entries, or one
// wrongly dropped event in every 2e12 lookups. Dropping is the safe
// direction. For the same reason Add treats a pseudonym whose fingerprint is
// already present as a duplicate and does not store it (Contains reports it
// anyway); among 10 M entries the chance that any two share a fingerprint is
// about 3e-6.
//
// See BenchmarkRegistryContains and BenchmarkRegistryOpen10M for the cost at
// 10 M entries.
//
// # Cluster replication
//
// When admeter runs as a cluster (many collectors behind a load balancer,
// API nodes, loaders), an opt-out accepted by any node must be honoured by
// every collector within seconds, survive the restart of any node, and never
// be lost once acknowledged. Each node keeps its own [Registry] file, for
// the nanosecond Contains, and wraps it in a [Shared] that keeps it in step
// with a [Feed]: an append-only, ordered record of opt-outs that every node
// shares (the optouts table of the PostgreSQL metadata store,
// meta/postgres).
//
//   - The feed is the truth. [Shared.Add] appends to the feed first and to
//     the local registry second; it acknowledges (returns nil) only after
//     both are durable. If the feed is unreachable, Add fails and the local
//     registry is left unchanged, so the end user is told the opt-out was
//     not recorded, never that it was when no other node will learn of it.
//   - Every node follows the feed ([Shared.Follow], one poll a second by
//     default): each poll adds the pseudonyms recorded after the node's
//     cursor to its registry, fsynced, and only then moves the cursor, kept
//     in a small file replaced atomically (written, fsynced, renamed). A
//     crash between the two repeats part of a poll, which is harmless:
//     adding is idempotent. A restarted node resumes from its cursor.
//   - A collector calls [Shared.Sync] before it serves, so that it starts
//     with every opt-out the cluster knows, and exports
//     admeter_optout_feed_last_sync_timestamp_seconds so that a node that
//     cannot reach the feed is seen: meanwhile it honours only the opt-outs
//     it already has.
//   - The feed never gives a new record a position at or before one it has
//     already shown: in the PostgreSQL table, inserts are serialised so that
//     rows become visible in seq order (a plain sequence can commit seq 11
//     before seq 10, and a follower past 11 would miss 10 forever).
//   - A node that has no cursor file yet (first start in a cluster, or an
//     upgraded single-node deployment) first publishes its registry's
//     entries to the feed, then reads the whole feed. To rebuild a node's
//     registry (after [Repair] dropped records, say), stop it, delete its
//     cursor file (or registry and cursor), and start it: it reads the feed
//     again from the start.
//   - Each poll checks that the feed still holds the record at the node's
//     cursor. If not, the feed lost records (its database was restored from
//     a backup), and new records may have taken positions the node has
//     passed: the node logs an error, publishes its registry to the feed,
//     which gives the feed back the opt-outs it lost, and reads it again
//     from the start. Records are never deleted from the feed; one deleted
//     by hand comes back this way.
//
// Every node must pseudonymise opt-outs with the same opt-out registry key,
// or their pseudonyms will not match. Neither the feed nor the cursor file
// nor any log line holds a raw identifier; logs do not hold pseudonyms
// either.
package optout
