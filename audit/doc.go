// Package audit keeps admeter's append-only record of who did what: end-user
// rights requests and their outcomes today, every access and change once
// accounts arrive (PRODUCT.md 二 (5), 四 (三), 五).
//
// The record is a file of JSON lines. Each line carries a sequence number and
// the SHA-256 of the line before it, so that removing, reordering or editing
// a line breaks the chain, which [Verify] detects. The file is opened with
// O_APPEND, every Record is fsynced before it returns, and a torn last line
// (a crash mid-write) is cut off when the file is opened again.
//
// Entries name actors and objects by their ids (tenant ids, request ids) and
// hold counts, never device identifiers or other personal data.
package audit
