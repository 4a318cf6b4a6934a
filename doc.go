// Package admeter holds the domain of the admeter ad measurement platform:
// events, tenants, campaigns and placements, pseudonyms, and the one coded
// application error. It imports the standard library only; storage, HTTP and
// queues live in adapter packages that depend on this one, never the reverse.
//
// Privacy by construction: no exported type in this package can hold a raw
// device identifier, a raw IP address, a raw user-agent string or a precise
// location. A user is a [Pseudonym] (a keyed hash made by package pseudo), an
// address is a [NetBlock] (a /24 or /48 network), a location is an [Area]
// (about 1 km). Raw values exist only in memory inside the collector and are
// dropped once these have been derived from them.
package admeter
