// Package simevents turns the requests of a simulated traffic plan (package
// simulate) into the events admeter's collector would log for them, without
// a server: the same parameter parsing (package macro), the same identifier
// priority and pseudonyms (package pseudo), the same event-time rule. Tests
// and benchmarks use it to load simulated traffic straight into a store.
//
// It differs from the collector where the collector needs its services: no
// user-agent parsing (the OS comes from the mo parameter, the device type is
// unknown), no GeoIP (the region is unknown; the network block is kept), and
// no opt-out: the opt-out cookie and the opt-out API are not applied, and
// POST requests other than the batch API (opt-out and conversion uploads)
// give no event. Configure the simulator with OptOut, AppOptOut and
// Conversions at 0 when the events must match its truth.
package simevents
