// Command loadgen is an open-loop HTTP load generator for admeter's collector
// benchmark: it sends impression monitoring URLs at a constant rate, whatever
// the server's latency, and reports latency percentiles measured from each
// request's intended send time.
//
//	loadgen --target http://127.0.0.1:8080 --k CAMPAIGN --p PLACEMENT --rate 2000 --duration 20s
//
// A closed-loop tool such as wrk sends the next request only when a
// connection is free, so a server that stalls also stalls the load and its
// latency percentiles miss the requests that were never sent ("coordinated
// omission"). loadgen schedules request i at start + i/rate and charges any
// wait for a free connection to that request, as wrk2 does; with a rate well
// below the server's capacity, its p99 is the latency a client really sees.
//
// The URLs are the same synthetic Miaozhen impressions that
// bench/collector.lua sends: a random device of --devices per request, the
// raw OAID always and an IMEI md5 for one device in ten, mt = now. Only
// loopback targets are accepted.
//
// The last line of output is machine-readable:
//
//	RESULT rate=… requests=… ok=… non2xx=… errors=… unsent=… achieved=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=…
package main
