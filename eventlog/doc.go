// Package eventlog is admeter's embedded, append-only, durable event log: the
// collector appends every accepted event here and acknowledges the request only
// once the event is on disk; the ingest loop reads the log from a checkpointed
// offset and loads the events into the analytical store.
//
// # Offsets
//
// Every record has an offset: its logical record number, a uint64 that starts
// at 0 and grows by one per record, without gaps, across all segments. The
// offsets of the records of one [Log.Append] call are consecutive.
//
// # On-disk format
//
// A log is a directory holding a LOCK file (flock'ed while the log is open) and
// segment files named by the offset of their first record, as 20 decimal
// digits, so a reader finds the segment holding offset o as the file with the
// greatest name not above o:
//
//	00000000000000000000.seg   records 0 .. 41234
//	00000000000000041235.seg   records 41235 .. (the active segment)
//
// A segment starts with a 16-byte header, then holds records back to back:
//
//	segment header: magic "AMEL" | version uint8 (1) | 3 zero bytes | first offset uint64
//	record header:  word uint32 | crc uint32
//	                word = payload length (bits 0-30) | "more" flag (bit 31)
//	                crc  = CRC32C (Castagnoli) of the 4 bytes of word followed by the payload
//	payload:        length bytes
//
// All integers are little-endian. The checksum covers the length as well as the
// payload, so a header torn or zeroed by a crash never passes as a record
// (CRC32C of four zero bytes is not zero). The "more" flag is set on every
// record of an Append but the last: a batch is complete only when a record
// without the flag closes it. Records carry no offset; a record's offset is the
// segment's first offset plus its index in the segment.
//
// # Writing and durability
//
// Only the holder of the commit token writes to the active segment. An
// Append that finds the token free takes it and commits its records itself,
// with one write(2) and, in [FsyncAlways] mode, one fdatasync(2): no hand-off
// to another goroutine. Appends that arrive meanwhile add their records to
// the pending batch and wait. Before giving the token up, its holder commits
// what is pending, each batch with one write(2) (and one fdatasync(2)) for
// all the Appends in it (group commit), and wakes them: in FsyncInterval mode
// an Append commits up to a few pending batches itself; in FsyncAlways mode,
// and beyond those, it hands the token to a writer goroutine, which commits
// batches until none is pending, so that an Append never waits for a second
// fdatasync. An Append that returned nil in FsyncAlways mode is on stable
// storage. In [FsyncInterval] mode an Append returns once its write(2)
// returned, and a background goroutine calls fdatasync every
// Options.FsyncInterval: the records survive a crash of the process but the
// last interval may be lost on power failure.
//
// On Linux, FsyncInterval mode also maps the active segment, a 4 MiB window
// at a time, shared and writable: an Append that finds the token free copies
// its framed records into the window under the log's mutex and returns, with
// no system call and no hand-off. The copied bytes are in the page cache, as
// write(2) would have left them: same durability, same fdatasync. The
// window's blocks are allocated (fallocate) before it is mapped, so a full
// disk is an error, not a SIGBUS, and the segment file reaches past its last
// record with zeros until rollover or Close cuts it back (mapped.go).
//
// A batch never spans two segments. When the next batch would make the active
// segment exceed Options.SegmentSize, the token holder fdatasyncs the active
// segment, creates its successor (written and fsynced under a temporary name,
// renamed, then the directory fsynced) and continues there. Because a segment
// is durable before its successor exists, only the last segment can hold a
// torn tail.
//
// # Recovery
//
// Open scans the last segment, verifies every checksum and truncates the file
// after the last complete Append: a torn or corrupt record, trailing garbage,
// or an Append whose final record is missing. This is logged at WARN with the
// byte counts. No acknowledged record is lost by this: the truncated bytes were
// never acknowledged in FsyncAlways mode, and a crash of the process does not
// tear records that write(2) accepted in FsyncInterval mode. (Open cannot tell
// a torn write from media damage inside the last segment; it truncates both,
// and the WARN line and the torn_tail_truncations_total metric say how much.)
// A tail of nothing but zeros is what mapped appends allocated ahead: Open
// cuts it too, logs it at INFO and does not count it as torn.
//
// Earlier segments are not read at Open (a log may hold many gigabytes), and
// damage there cannot come from a crash: it is media corruption, and truncating
// it away would silently drop acknowledged events. A [Reader] that meets it
// returns a [*CorruptionError] naming the segment and the first unreadable
// offset, and [Log.Verify] checks the whole log on demand. There is therefore no
// separate Repair step: truncation at Open repairs everything a crash can do,
// and the operator decides what to do about real media damage (a consumer can
// skip it by opening a new Reader at the next segment's first offset).
//
// # Reading
//
// A [Reader] reads records in offset order from any retained offset. It sees
// only records that are durable (FsyncAlways) or written (FsyncInterval), and
// follows the writer into the active segment and across rollovers; [Reader.Next]
// blocks until a record is available, [Reader.TryNext] does not.
//
// # Removal
//
// Raw events must not outlive their retention, nor a deletion request, once
// they are in the analytical store. [Log.RemoveBefore] removes, oldest first,
// the closed segments all of whose records lie below an offset (the ingest
// checkpoint, say), and fsyncs the directory; the active segment is never
// removed. [Log.Roll] closes the active segment early, if it holds any
// record, so that after a deletion request everything loaded so far can be
// removed: Roll, then RemoveBefore([Log.NextOffset]) leaves only an empty
// active segment. Since segment names carry their first offset, a log
// reopened after removal starts at the first remaining segment
// ([Log.FirstOffset]) and offsets are never reused. A Reader that has a
// removed segment open reads it to its end; one that needs a removed record
// gets an error wrapping [ErrRemoved] and resumes at FirstOffset.
//
// # Metrics
//
// Registered on the Registerer given to Open, as admeter_eventlog_*:
// records_appended_total, bytes_appended_total (record headers included),
// fsync_duration_seconds, batch_records (records per group commit),
// segments, segments_removed_total, torn_tail_truncations_total and
// next_offset.
package eventlog
