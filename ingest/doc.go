// Package ingest loads the durable event log into the analytical store.
//
// A Loader reads the log by offset from where the store says it stopped,
// gathers events into batches (up to MaxBatch events, or MaxDelay after the
// first one arrived), and hands each batch to the store together with the
// offset after its last record. The store commits rows and offset in one
// transaction, so a crash or restart neither loses nor double-counts an
// event: the loader simply resumes from the store's offset.
//
// After each batch the loader notes which campaign days changed, and every
// RollupInterval it asks the store to recompute those days' rollups.
package ingest
