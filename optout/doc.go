// Package optout holds the set of end users who opted out of measurement
// (privacy policy 一(一)2 (6)–(7); privacy invariant 3). The collector asks
// Contains for every identifier of every event before the event is logged, so
// an opted-out user's events are dropped at the door.
//
// Entries are pseudonyms: the registry never holds a raw identifier either.
// This package provides the in-memory O(1) set; the durable opt-out registry,
// the public page and the API that fill it arrive with end-user rights.
package optout
