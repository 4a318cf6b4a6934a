// Command baseline is the yardstick the collector benchmark (bench/collector.sh)
// measures admeter against: the fastest a Go HTTP server on this machine can
// answer an impression pixel, with and without making the hit durable first.
//
//	baseline --addr 127.0.0.1:8081 --mode bare
//	baseline --addr 127.0.0.1:8082 --mode durable --file /tmp/floor.log
//	baseline --addr 127.0.0.1:8083 --mode bare-fasthttp
//
// In bare mode every request gets the same 43-byte GIF, with the headers
// admeter's pixel sends, and nothing else happens: the ceiling of net/http on
// this machine. admeter with --fsync=interval, which answers once the
// operating system has the event, is compared with it.
//
// In durable mode each request's URI is appended to --file as one line before
// the GIF is sent, with group commit: handlers hand their line to one writer
// goroutine, which takes everything pending, issues one write(2) and one
// fdatasync(2) for the whole group, then wakes every waiter. That is the least
// work a collector can do and still acknowledge only what is on stable
// storage, with the same primitive admeter's event log uses, so it is the
// "durable floor" that admeter with --fsync=always is compared with: any gap
// between the two is admeter's own cost (parsing, pseudonymisation, geo and
// user-agent lookups, encoding, metrics), not the disk's.
//
// In bare-fasthttp mode the bare answer comes from fasthttp, with the limits of
// admeter's --pixel-addr listener: the ceiling of that listener, which the
// benchmark can print beside admeter's (BENCH_FASTHTTP_BASELINE=true).
//
// The request URI carries device identifiers. The benchmark sends only
// synthetic ones, and baseline refuses to listen anywhere but loopback so that
// real traffic, whose identifiers must never be written to disk raw, cannot
// reach it.
package main
