// Command loadgen is the HTTP load generator of admeter's collector
// benchmark (bench/collector.sh). It sends realistic monitoring-URL traffic
// made by package simulate, either open loop at a constant rate, reporting
// latency from each request's intended send time, or closed loop, as fast as
// the server answers.
//
//	loadgen --target http://127.0.0.1:8080 --campaign campaign.json --rate 2000 --duration 20s
//	loadgen --target http://127.0.0.1:8080 --campaign campaign.json --rate 0 --requests 2000000 --duration 20s
//
// The traffic: --campaign is a campaign as the campaign API returns it (GET
// /api/v1/campaigns/{id}), with its placements' monitoring URL templates.
// Before the run, loadgen generates --requests requests for it with
// simulate.Generator (default shape: OS and identifier mix, the three media
// profiles, clicks, br=0 pings, SDK retries with the same impression id, late
// arrivals, event times over the last day; no invalid traffic) and keeps them
// serialised as they go on the wire, so that sending costs one write and the
// generator takes no CPU from the server during the run. Batch (POST)
// requests are left out: the benchmark loads the monitoring-URL path.
// Browsers' cookies are not returned (a request may go out on any
// connection), so a cookie-only browser is a new user each time.
//
// The pool must cover the run. If it runs out, loadgen starts it again and
// reports how many requests were repeats: the collector drops a repeated
// impression id as a duplicate for an hour, a cheaper path than a new event,
// so a run with repeats is not comparable. Open loop sizes the pool itself
// (rate × (warm-up + duration) and 5%); closed loop needs --requests.
//
// Open loop: a closed-loop tool such as wrk sends the next request only when
// a connection is free, so a server that stalls also stalls the load and its
// latency percentiles miss the requests that were never sent ("coordinated
// omission"). loadgen schedules request i at start + i/rate and charges any
// wait for a free connection to that request, as wrk2 does; with a rate well
// below the server's capacity, its p99 is the latency a client really sees.
//
// Closed loop (--rate 0): each of --conns connections sends its next request
// as soon as it has the answer to the last; latency is measured from the
// moment the request is written.
//
// With --server-pid, loadgen reads the server's CPU time (Linux /proc) at the
// start and end of the measured window. With --dump-urls FILE it writes the
// generated targets and User-Agents (target, tab, User-Agent, one request a
// line) and exits without sending. Only loopback targets are accepted.
//
// The last line of output is machine-readable:
//
//	RESULT rate=… requests=… ok=… non2xx=… errors=… unsent=… repeated=… achieved=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… server_ticks=…
//
// ok counts 2xx and 3xx answers (a click is answered 302); server_ticks is
// "-" without --server-pid.
package main
