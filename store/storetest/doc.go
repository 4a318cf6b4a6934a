// Package storetest is the conformance suite that every implementation of
// store.Store must pass, in the manner of litestream's replica-client tests:
// a backend's own test calls [Run] with a function that opens a fresh, empty
// store, and [RunReopen] with one that opens a store at a path, and every
// counting rule of package store is checked against hand-computed numbers
// (and, for queries restricted to placements and for the traffic filters,
// against numbers computed in the test from generated events as well).
//
// It also holds the helpers those tests are written with, for the backends'
// own tests and benchmarks to reuse: [Imp], [Click] and [Served] build one
// event with options such as [User], [VF], [Placement] and [IVT] (a
// verdict); [Viewed], [VideoPing] and [Conversion] build a viewability
// result, a video ping and a conversion, with options such as [View],
// [Video], [Progress], [Quartiles], [ClickID] and [Value]; [Insert] loads
// events with an offset; [Generator] makes a reproducible stream of
// realistic events for benchmarks, with invalid traffic if asked
// ([GenConfig].IVTPercent).
package storetest
