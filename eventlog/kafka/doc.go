// Package kafka carries admeter's events through Kafka, between collectors
// and loaders: a [Producer] that collectors append to with the same
// guarantee as the local event log, and a [Consumer] that loaders read from.
//
// # Acknowledgement
//
// [Producer.Append] returns nil only once its events are durable, so a
// collector that answers after Append never acknowledges an event it could
// lose:
//
//   - normally, once the brokers acknowledged every record of the call. The
//     client requires acks=all (every in-sync replica has the record) and
//     produces idempotently (franz-go's default: a retried request never
//     duplicates or reorders records in a partition). With the topic's
//     min.insync.replicas at 2 or more, an acknowledged event survives the
//     loss of a broker; setting that is the cluster operator's job.
//   - if the brokers do not acknowledge every record within
//     Config.ProduceTimeout (default 2s), because they are down, unreachable
//     or overloaded, Append writes the events to a local spill log (an
//     [eventlog.Log] in Config.SpillDir, fsynced before Append returns with
//     the default options) and returns nil. Only the first Appends of an
//     outage wait for the timeout; the next ones go to the spill log at once.
//
// Append fails, and the events must not be acknowledged, only if the caller's
// context ends first or the spill log cannot take them either (a full or
// failed disk).
//
// # Spill and forward
//
// A forwarder goroutine delivers the spill log to Kafka in offset order, in
// batches, retrying with a backoff (100ms doubling up to
// Config.RetryBackoff) while the brokers stay away. After each acknowledged
// batch it saves its position in the file FORWARDED in the spill directory
// (written to a temporary file, fsynced, renamed, directory fsynced) and
// removes the spill segments wholly below it; once it has caught up it
// closes the active segment, so that delivered events leave the disk. A
// Producer opened on the directory later, after a crash or a Close with a
// backlog, resumes from the saved position. The metric
// admeter_kafka_spill_backlog_records says how many events wait; a backlog
// that does not shrink while Kafka is up (a damaged spill segment, say) is
// logged and needs an operator.
//
// # Ordering
//
// Records are keyed by the event's user pseudonym (16 bytes), or by its
// impression id if it has no user, so that all events of a user land in one
// partition, in order; events with neither are unkeyed and placed by the
// sticky partitioner. The key is copied into the record, so the pseudonym
// stays de-identified in Kafka as it is everywhere else.
//
// While the spill log holds events not yet delivered, every Append writes to
// the spill log too, even if Kafka is back: an event never overtakes one whose
// Append returned before its own began. Appends produce directly again only
// once the forwarder has delivered the whole backlog and no Append is writing
// to the spill log. Appends that run concurrently have no order between them,
// as with the local event log.
//
// # At-least-once into Kafka
//
// An event can reach Kafka more than once, never zero times:
//
//   - an Append whose produce timed out while its request was already with a
//     broker spills its events, but the idempotent client keeps (and retries)
//     a request it has sent, because it cannot know whether the broker
//     wrote it; the events may then arrive directly as well as through the
//     forwarder. Close gives such records up to Config.ProduceTimeout to
//     finish.
//   - a forwarded batch whose acknowledgement was lost, or whose position
//     was not saved before a crash, is delivered again.
//   - partial failures are retried whole.
//
// Exactly-once would need Kafka transactions spanning the spill log, which
// buys nothing here: duplicates are rare (outages only), they keep the order
// of first deliveries per user, and the loader removes them by impression id
// within its deduplication range, as it already does for clients that retry
// a request.
//
// # Consuming
//
// A [Consumer] is a member of Config.Group reading Config.Topic. It never
// commits on its own: [Consumer.Poll] returns [Record] batches with their
// partition and offset, [NextOffsets] gives the next offset per partition,
// and [Consumer.Commit] commits them once the caller has stored the events.
// Rebalances are held back between a Poll and the next, so a batch is
// committed by the member that owns it. For exactly-once loading, a loader
// stores the next offsets in the analytical store in the same transaction as
// the events and passes a [StartOffsets] function that returns them on
// every assignment; the Kafka commit then only serves lag monitoring and as
// the fallback for partitions the store knows nothing about. A new group
// starts at the first retained record.
//
// # Metrics
//
// Registered on the Registerer given to NewProducer, as admeter_kafka_*:
// produced_total, spilled_total, forwarded_total, produce_errors_total,
// produce_duration_seconds and spill_backlog_records.
package kafka
