// Package keystore keeps admeter's secrets: the versioned HMAC keys with
// which package pseudo turns device identifiers into pseudonyms, and the
// opt-out registry secret.
//
// Secrets never touch the disk in the clear. Each is sealed with AES-256-GCM
// under a master key, with its version number and purpose as additional data
// (so that no secret can be moved to another version or another use), and
// the sealed secrets live in one small JSON document, kept by a [Backend]: a
// file (by default <data>/keys.json, mode 0600) replaced atomically on every
// change, or a row in a database that a cluster shares.
//
// Pseudonym keys rotate: [Store.Rotate] adds a version and makes it current;
// older versions stay readable so that pseudonyms made under them can still
// be matched, until [Store.Destroy] erases a version's secret for good (the
// version stays listed, with the time it was destroyed, so numbers are never
// reused). The current version cannot be destroyed. Destroying erases the
// secret from the key store; backups of it made before still hold it.
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
// ([RotateMasterBackend] the document of any backend) under a new master
// key; every process that has the store open must then be restarted with
// the new key (its next [Store.Reload] fails with [ErrWrongMasterKey]).
// Neither a master key nor any secret is ever logged, printed by String
// methods or included in an error.
//
// # Backends
//
// Where the sealed document lives is a [Backend]'s business; what is in it
// and how it changes is the Store's. A backend loads the document with a
// revision and saves it by compare-and-swap: Save fails with a conflict
// ([IsConflict]) if another process saved since the revision it was given.
// Every change (Rotate, Destroy, the format upgrade, RotateMasterBackend)
// loads the document, checks that it extends what the store holds (no
// version gone, changed or brought back after destruction: a document
// restored from an old backup is refused), applies itself and saves; on a
// conflict it loads again and reapplies itself, a bounded number of times,
// so that no process ever loses another's change. Creating the store is a
// save over no document, so of several processes that start at once on an
// empty backend one creates it and the others open theirs.
//
// [Open] keeps the document in a file, through [FileBackend]: mode 0600,
// replaced by an atomic rename (created by a hard link, so that it appears
// complete), and compared and swapped under an exclusive lock on
// <file>.lock, the lock that earlier versions of this package took for the
// whole change, so that old and new processes can share a file. One server
// process uses a key store file, and the admeter keys command changes it
// from another process.
//
// A cluster keeps the document in a backend that every node shares, such as
// the PostgreSQL table of package meta/postgres, opened with [OpenBackend]:
// every node then pseudonymises with the same keys. The document is safe to
// share: its secrets are sealed under the master key, which every node
// holds and the backend never sees. [Seed] copies a single machine's file
// into an empty shared backend first, so that a cluster keeps the keys and
// the opt-out registry secret that existing pseudonyms and opt-outs were
// made under.
//
// A server sees another process's changes by calling [Store.ReloadContext]
// every few seconds (a rotation or destruction done on one node reaches the
// others within that time), and takes the new current version when it
// reports a change. Reloading an unchanged document costs one Load and a
// comparison: nothing is decrypted.
package keystore
