#!/usr/bin/env bash
# store.sh — benchmark of admeter's analytical store (store/duckdb) against
# the same SQL run directly in DuckDB on the same file, in one run, for the
# targets of issue 3, and of its cross-media reach against DuckDB baselines
# for issue 12. See bench/README.md.
#
#   bench/store.sh                               # 100 M events
#   BENCH_EVENTS=10000000 bench/store.sh         # a quicker run
#   BENCH_KEEP=1 BENCH_FILE=/data/store-100m.duckdb bench/store.sh   # keep the file, reuse it next time
#   BENCH_PHASES=reach BENCH_FILE=/data/store-100m.duckdb bench/store.sh   # issue 12's reach alone, on that file
#
# Environment (all optional):
#   BENCH_EVENTS   events in the store (default 100000000)
#   BENCH_RUNS     rounds of the report measurement, 5 or more (default 7)
#   BENCH_POOL     simulated events, replicated to reach BENCH_EVENTS (default 500000)
#   BENCH_BATCH    events per Insert (default 100000)
#   BENCH_FILE     the store file; reused when it already holds BENCH_EVENTS events
#                  (default: a new file in a temporary directory)
#   BENCH_KEEP     1 keeps the store file (and its directory) afterwards (default 0);
#                  a BENCH_FILE that existed before the run is never removed
#   BENCH_TMPDIR   where the temporary directory goes (default $TMPDIR or /tmp);
#                  put it on the disk you want to measure
#   BENCH_PHASES   phases to run, comma-separated, of load,cluster,report,rollup,reach
#                  (default all); without load, BENCH_FILE must already hold
#                  BENCH_EVENTS events: BENCH_PHASES=reach times only the
#                  cross-media reach of issue 12 on a file built before
#
# Needs go. Nothing touches the network. The temporary directory (store
# file, DuckDB's spill files, the binary) is removed on exit, also on Ctrl-C,
# unless BENCH_KEEP=1. The exit status is 0 whether targets pass or miss; it
# is non-zero only when the benchmark could not run.
set -euo pipefail

EVENTS=${BENCH_EVENTS:-100000000}
RUNS=${BENCH_RUNS:-7}
POOL=${BENCH_POOL:-500000}
BATCH=${BENCH_BATCH:-100000}
KEEP=${BENCH_KEEP:-0}
PHASES=${BENCH_PHASES:-load,cluster,report,rollup,reach}

die() { echo "store.sh: $*" >&2; exit 1; }
# in_range NAME VALUE MIN MAX dies unless VALUE is an integer in [MIN, MAX].
in_range() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then die "$1 must be an integer in $3..$4, not '$2'"; fi
}
in_range BENCH_EVENTS "$EVENTS" 1 10000000000
in_range BENCH_RUNS "$RUNS" 5 1000
in_range BENCH_POOL "$POOL" 1000 40000000
in_range BENCH_BATCH "$BATCH" 1 10000000
in_range BENCH_KEEP "$KEEP" 0 1
[[ $PHASES =~ ^(load|cluster|report|rollup|reach)(,(load|cluster|report|rollup|reach))*$ ]] ||
	die "BENCH_PHASES must be a comma-separated list of load, cluster, report, rollup and reach, not '$PHASES'"
if [[ ,$PHASES, != *,load,* && ! -e ${BENCH_FILE:-} ]]; then
	die "BENCH_PHASES without load needs BENCH_FILE, an existing store file of BENCH_EVENTS events"
fi
command -v go >/dev/null || die "go is required"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/admeter-store-bench.XXXXXX")
file=${BENCH_FILE:-$work/store.duckdb}
existed=0
[[ -e $file ]] && existed=1
pid=

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [[ -n $pid ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ $KEEP == 1 ]]; then
		echo "store.sh: kept $file (and $work)" >&2
		return
	fi
	if [[ -n ${BENCH_FILE:-} && $existed == 0 ]]; then
		rm -rf "$file" "$file.wal" "$file.tmp" # made by this run; a file given to reuse is left alone
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "store.sh: building storebench" >&2
(cd "$root" && go build -o "$work/storebench" ./bench/store)

cmd="BENCH_EVENTS=$EVENTS BENCH_RUNS=$RUNS"
[[ $POOL != 500000 ]] && cmd+=" BENCH_POOL=$POOL"
[[ $BATCH != 100000 ]] && cmd+=" BENCH_BATCH=$BATCH"
if [[ $PHASES != load,cluster,report,rollup,reach ]]; then
	cmd+=" BENCH_PHASES=$PHASES"
	[[ ,$PHASES, != *,load,* ]] && cmd+=" BENCH_FILE=$file"
fi
cmd+=" bench/store.sh"
echo "store.sh: $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), free disk $(df -h --output=avail "$(dirname "$file")" | tail -1 | tr -d ' ')" >&2

BENCH_COMMAND="$cmd" "$work/storebench" --file "$file" --events "$EVENTS" --runs "$RUNS" \
	--pool "$POOL" --batch "$BATCH" --phases "$PHASES" &
pid=$!
wait "$pid"
pid=
echo "store.sh: done $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
