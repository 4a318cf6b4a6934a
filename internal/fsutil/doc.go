// Package fsutil holds the few file-system calls that admeter's durable
// files (the event log, the opt-out registry, the key store) make the same
// way: fdatasync, syncing a directory after a rename or create, and an
// advisory lock that keeps a second process off the same file.
package fsutil
