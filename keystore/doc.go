// Package keystore keeps admeter's pseudonymisation secrets: the HMAC keys
// with which package pseudo turns device identifiers into pseudonyms.
//
// Secrets never touch the disk in the clear. Each is sealed with AES-256-GCM
// under a master key, with its version number and purpose as additional data,
// and the sealed versions live in one small JSON file (by default
// <data>/keys.json, mode 0600) that is replaced atomically on every change.
// Rotation adds a version and makes it current; older versions stay readable
// so that pseudonyms made under them can still be matched, for instance when
// an opt-out arrives for an identifier first seen before the rotation.
//
// The master key comes from the operator (see [LoadMasterKey]): a flag or
// environment value, a key file, or, for a trial install only, a key file
// generated next to the data it protects. Neither the master key nor any
// secret is ever logged, printed by String methods or included in an error.
//
// One process owns a key store file at a time. Another process that rotates
// the file (the admeter keys command, say) is picked up by [Store.Rotate],
// which rereads the file before adding a version, and by any later [Open].
package keystore
