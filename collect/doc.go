// Package collect is admeter's front door: the impression pixel, the click
// redirect and the batch event API.
//
// A request is parsed into an unexported rawHit that never leaves this
// package. Its device identifiers are canonicalised and pseudonymised
// (package pseudo), its IP address becomes a region and a /24 or /48 network
// block, its user agent becomes OS, browser and device type, and its location
// is coarsened to about 1 km. Then the opt-out set is asked about every
// pseudonym; an opted-out user's event is dropped here. What is left is an
// admeter.Event, which is appended to the durable log; the client gets its
// answer only after the log has it (or, with the interval fsync mode, after
// the operating system has it).
//
// The pixel never breaks a page: whatever is wrong with a request, it answers
// with the GIF, counts the rejection by reason and says why in the
// X-Admeter-Rejected header. A click always redirects, but only to the
// campaign's landing URL or to an allowed host: never an open redirect.
package collect
