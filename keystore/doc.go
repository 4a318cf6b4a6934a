// Package keystore keeps admeter's secrets: the versioned HMAC keys with
// which package pseudo turns device identifiers into pseudonyms, and the
// opt-out registry secret.
//
// Secrets never touch the disk in the clear. Each is sealed with AES-256-GCM
// under a master key, with its version number and purpose as additional data
// (so that no secret can be moved to another version or another use), and
// the sealed secrets live in one small JSON file (by default
// <data>/keys.json, mode 0600) that is replaced atomically on every change.
//
// Pseudonym keys rotate: [Store.Rotate] adds a version and makes it current;
// older versions stay readable so that pseudonyms made under them can still
// be matched, until [Store.Destroy] erases a version's secret for good (the
// version stays listed, with the time it was destroyed, so numbers are never
// reused). The current version cannot be destroyed. Destroying erases the
// secret from the file; backups of the file made before still hold it.
//
// The opt-out registry secret ([Store.OptOutSecret], purpose
// [PurposeOptOut]) is created with the key store and never rotated: the
// opt-out registry keeps pseudonyms made under it for ever, and opt-outs must
// survive rotations of the pseudonym keys. A key store file in format 1,
// which predates it, is upgraded by Open: the secret is added and the file
// rewritten in format 2.
//
// The master key comes from the operator (see [LoadMasterKey]): a flag or
// environment value, a key file, or, for a trial install only, a key file
// generated next to the data it protects. [RotateMaster] re-encrypts the file
// under a new master key; every process that has the store open must then
// be restarted with the new key (its next [Store.Reload] fails with
// [ErrWrongMasterKey]). Neither a master key nor any secret is ever logged,
// printed by String methods or included in an error.
//
// One server process uses a key store file, and the admeter keys command
// changes it from another process. Changes (Rotate, Destroy, RotateMaster,
// the format upgrade) reread the file under an exclusive lock on
// <file>.lock, so that they never lose one another's work, and refuse a
// file that no longer extends what the store holds (a version gone, changed
// or brought back after destruction: a file restored from an old backup).
// The server sees the command's changes by calling [Store.Reload], every few
// seconds, and takes the new current version when it reports a change.
package keystore
