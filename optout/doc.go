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
package optout
