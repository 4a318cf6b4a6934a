#!/usr/bin/env bash
# collector.sh — load benchmark of admeter's collector against baselines
# measured in the same run on the same machine. See bench/README.md.
#
#   bench/collector.sh                      # 20 s per run, 64 connections
#   BENCH_DURATION=10 bench/collector.sh
#
# Environment (all optional):
#   BENCH_DURATION  seconds per measured run (default 20)
#   BENCH_WARMUP    seconds of unmeasured load before each run (default 2)
#   BENCH_CONNS     wrk connections (default 64)
#   BENCH_THREADS   wrk threads (default 2)
#   BENCH_DEVICES   synthetic device population (default 100000)
#   BENCH_SOAK      seconds of an extra run h at full load, for admeter's steady-state
#                   memory once its in-memory windows have filled (default 0: skipped)
#   BENCH_TMPDIR    where the temporary data directory goes (default $TMPDIR or /tmp);
#                   it must be on the disk you want to measure, not tmpfs
#
# Needs go, wrk (Debian: apt-get install -y wrk) and curl. Only 127.0.0.1 is
# used. Every process it starts and its temporary directory are removed on
# exit, also on Ctrl-C. The exit status is 0 whether targets pass or miss;
# it is non-zero only when the benchmark could not run.
set -euo pipefail

DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
DEVICES=${BENCH_DEVICES:-100000}
SOAK=${BENCH_SOAK:-0}

die() { echo "collector.sh: $*" >&2; exit 1; }
isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
# in_range NAME VALUE MIN MAX dies unless VALUE is an integer in [MIN, MAX].
in_range() {
	if ! isnum "$2" || (($2 < $3 || $2 > $4)); then die "$1 must be an integer in $3..$4, not '$2'"; fi
}
in_range BENCH_DURATION "$DURATION" 1 600
in_range BENCH_WARMUP "$WARMUP" 0 60
in_range BENCH_CONNS "$CONNS" 1 10000
in_range BENCH_THREADS "$THREADS" 1 "$CONNS"
in_range BENCH_DEVICES "$DEVICES" 1 2147483647
in_range BENCH_SOAK "$SOAK" 0 3600
for tool in go wrk curl; do
	command -v "$tool" >/dev/null || die "$tool is required (wrk on Debian: apt-get install -y wrk)"
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lua="$root/bench/collector.lua"
work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/admeter-bench.XXXXXX")
pids=()

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found on 127.0.0.1"
}

# start NAME HEALTH_URL CMD... starts a server in the background, sets $pid,
# and waits until HEALTH_URL answers 200.
start() {
	local name=$1 health=$2
	shift 2
	"$@" >>"$work/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 300); do
		if curl -sf -o /dev/null --max-time 1 "$health"; then return; fi
		kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; die "$name exited during start-up"; }
		sleep 0.1
	done
	cat "$work/$name.log" >&2
	die "$name did not become ready in 30 s"
}

# stop PID stops a server gracefully (SIGTERM, then SIGKILL after 15 s).
stop() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || true
	for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	local keep=()
	for i in "${pids[@]}"; do [[ $i == "$p" ]] || keep+=("$i"); done
	pids=("${keep[@]}")
}

# field LINE KEY prints the value of KEY=value in LINE, or "-".
field() { local v; v=$(sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"); echo "${v:--}"; }

# cpu_ticks PID prints the process's user+system CPU time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# hwm_mb PID prints the process's peak resident set (VmHWM) in MiB.
hwm_mb() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

declare -A rps p50 p99 maxl bad rss cpu
hz=$(getconf CLK_TCK)

# record RUN PID REQUESTS TICKS0 sets the RSS and CPU-per-request columns.
record() {
	local run=$1 p=$2 n=$3 t0=$4 t1
	rss[$run]=$(hwm_mb "$p")
	t1=$(cpu_ticks "$p")
	if isnum "$n" && ((n > 0)); then
		cpu[$run]=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$n" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')
	fi
}

# closed RUN BASE_URL PID [SECONDS]: wrk, closed loop, maximum throughput.
closed() {
	local run=$1 url=$2 p=$3 secs=${4:-$DURATION} out line t0
	if ((WARMUP > 0)); then
		timeout --signal=KILL $((WARMUP + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 5s \
			-s "$lua" "$url" -- "$K" "$P" "$DEVICES" >/dev/null 2>&1 || true
	fi
	t0=$(cpu_ticks "$p")
	out=$(timeout --signal=KILL $((secs + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 5s \
		-s "$lua" "$url" -- "$K" "$P" "$DEVICES" 2>&1) || true
	echo "$out" >>"$work/wrk.log"
	line=$(grep '^WRK_RESULT ' <<<"$out" || true)
	[[ -n $line ]] || { echo "  wrk failed:"; echo "    ${out//$'\n'/$'\n'    }"; }
	rps[$run]=$(field "$line" rps)
	p50[$run]=$(field "$line" p50_ms)
	p99[$run]=$(field "$line" p99_ms)
	maxl[$run]=$(field "$line" max_ms)
	local n2 er
	n2=$(field "$line" non2xx) er=$(field "$line" errors)
	bad[$run]="$n2/$er"
	record "$run" "$p" "$(field "$line" requests)" "$t0"
	printf '  %-30s %10s req/s  p50 %s ms  p99 %s ms  non-2xx/errors %s\n' "$run" "${rps[$run]}" "${p50[$run]}" "${p99[$run]}" "${bad[$run]}"
}

# open RUN BASE_URL PID RATE: loadgen, open loop at a constant rate.
open_loop() {
	local run=$1 url=$2 p=$3 rate=$4 out line t0
	t0=$(cpu_ticks "$p")
	out=$(timeout --signal=KILL $((WARMUP + DURATION + 30)) "$work/bin/loadgen" --target "$url" --k "$K" --p "$P" \
		--rate "$rate" --duration "${DURATION}s" --warmup "${WARMUP}s" --conns "$CONNS" --devices "$DEVICES" 2>&1) || true
	echo "$out" >>"$work/loadgen.log"
	line=$(grep '^RESULT ' <<<"$out" || true)
	[[ -n $line ]] || { echo "  loadgen failed:"; echo "    ${out//$'\n'/$'\n'    }"; }
	rps[$run]=$(field "$line" achieved)
	p50[$run]=$(field "$line" p50_ms)
	p99[$run]=$(field "$line" p99_ms)
	maxl[$run]=$(field "$line" max_ms)
	local n2 er un
	n2=$(field "$line" non2xx) er=$(field "$line" errors) un=$(field "$line" unsent)
	[[ $un == 0 || $un == - ]] || er=$((er + un))
	bad[$run]="$n2/$er"
	record "$run" "$p" "$(field "$line" requests)" "$t0"
	printf '  %-30s %10s req/s  p50 %s ms  p99 %s ms  non-2xx/errors %s\n' "$run" "${rps[$run]}" "${p50[$run]}" "${p99[$run]}" "${bad[$run]}"
}

# admeter_stats BASE_URL prints what admeter's metrics say about the last run.
admeter_stats() {
	local m
	m=$(curl -sf --max-time 5 "$1/metrics" || true)
	awk '
		/^admeter_collect_logged_total/ {logged += $2}
		/^admeter_collect_rejected_total/ {rej += $2; if ($2 > 0) reasons = reasons " " $1 "=" $2}
		/^admeter_eventlog_batch_records_sum/ {bs = $2}
		/^admeter_eventlog_batch_records_count/ {bc = $2}
		/^admeter_eventlog_fsync_duration_seconds_sum/ {fs = $2}
		/^admeter_eventlog_fsync_duration_seconds_count/ {fc = $2}
		END {
			printf "    admeter: %d events logged, %d rejected%s", logged, rej, reasons
			if (bc > 0) printf "; %d writes of %.1f events on average", bc, bs / bc
			if (fc > 0) printf "; %d fsyncs, %.2f ms on average", fc, fs / fc * 1000
			printf "\n"
		}' <<<"$m"
}

echo "== admeter collector benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "   machine: $(nproc) CPUs, $(uname -sr), $(go version | awk '{print $3}'), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}')"
echo "   each run: ${WARMUP} s warm-up + ${DURATION} s measured; wrk -t$THREADS -c$CONNS; $DEVICES devices"
echo "   data: $work ($(stat -f -c %T "$work") file system); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $(stat -f -c %T "$work") == tmpfs ]]; then
	echo "   WARNING: $work is on tmpfs, where fdatasync costs nothing: set BENCH_TMPDIR to a directory on disk"
fi
if (($(nproc) <= 4)); then
	echo "   NOTE: the load generator and the server share $(nproc) CPUs; absolute numbers are lower than on a"
	echo "         dedicated server, and only the ratios between runs of this same script are meaningful"
fi

echo "== building"
mkdir -p "$work/bin"
(cd "$root" && go build -o "$work/bin/admeter" ./cmd/admeter && go build -o "$work/bin/baseline" ./bench/baseline &&
	go build -o "$work/bin/loadgen" ./bench/loadgen) || die "build failed"

echo "== setting up a tenant and a campaign"
port=$(free_port)
base="http://127.0.0.1:$port"
data="$work/data"
admeter_cmd=("$work/bin/admeter" serve --addr "127.0.0.1:$port" --data "$data" --log-level warn)
start admeter "$base/healthz" "${admeter_cmd[@]}" --fsync always
op=$(tr -d ' \r\n' <"$data/operator.token")
tenant=$(curl -sf --max-time 10 -X POST -H "Authorization: Bearer $op" -H 'Content-Type: application/json' \
	-d '{"name":"Bench","kind":"advertiser"}' "$base/api/v1/tenants") || die "create tenant failed"
if command -v jq >/dev/null; then
	token=$(jq -r .token <<<"$tenant")
else
	token=$(grep -o '"token":"[^"]*"' <<<"$tenant" | head -1 | cut -d'"' -f4)
fi
campaign=$(curl -sf --max-time 10 -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"name":"Bench","landing_url":"https://shop.example.com/","placements":[{"name":"feed","media":"bench"}]}' \
	"$base/api/v1/campaigns") || die "create campaign failed"
if command -v jq >/dev/null; then
	K=$(jq -r .id <<<"$campaign")
	P=$(jq -r '.placements[0].id' <<<"$campaign")
else
	K=$(grep -o '"id":"[^"]*"' <<<"$campaign" | sed -n 1p | cut -d'"' -f4)
	P=$(grep -o '"id":"[^"]*"' <<<"$campaign" | sed -n 2p | cut -d'"' -f4)
fi
[[ -n $K && $K != null && -n $P && $P != null ]] || die "unexpected campaign answer: $campaign"
# One request by hand: it must be logged, not rejected.
hdrs=$(curl -s -D - -o /dev/null --max-time 5 -A 'Dalvik/2.1.0 (Linux; U; Android 12; V2145A Build/SP1A.210812.003)' \
	"$base/x/k=$K&p=$P&mo=0&ns=36.110.1.2&m11=51086638-e426-533f-e675-27ff13d631fa&mt=$(date +%s)")
grep -q '^HTTP/1.1 200' <<<"$hdrs" || die "probe impression not answered 200: $hdrs"
! grep -qi '^X-Admeter-Rejected' <<<"$hdrs" || die "probe impression rejected: $(grep -i '^X-Admeter-Rejected' <<<"$hdrs")"
stop "$pid"
echo "   campaign k=$K, placement p=$P"

echo "== runs"
bport=$(free_port)
bbase="http://127.0.0.1:$bport"

start baseline-bare "$bbase/" "$work/bin/baseline" --addr "127.0.0.1:$bport" --mode bare
closed "a bare baseline" "$bbase" "$pid"
stop "$pid"

start baseline-durable "$bbase/" "$work/bin/baseline" --addr "127.0.0.1:$bport" --mode durable --file "$work/floor.log"
closed "b durable floor" "$bbase" "$pid"
stop "$pid"
rm -f "$work/floor.log"

start admeter "$base/healthz" "${admeter_cmd[@]}" --fsync always
closed "c admeter --fsync=always" "$base" "$pid"
admeter_stats "$base"
stop "$pid"

start admeter "$base/healthz" "${admeter_cmd[@]}" --fsync interval
closed "d admeter --fsync=interval" "$base" "$pid"
admeter_stats "$base"
stop "$pid"

half=-
if isnum "${rps[c admeter --fsync=always]%.*}" && ((${rps[c admeter --fsync=always]%.*} >= 2)); then
	half=$((${rps[c admeter --fsync=always]%.*} / 2))
	start admeter "$base/healthz" "${admeter_cmd[@]}" --fsync always
	open_loop "e admeter always @ half load" "$base" "$pid" "$half"
	admeter_stats "$base"
	stop "$pid"

	start baseline-durable "$bbase/" "$work/bin/baseline" --addr "127.0.0.1:$bport" --mode durable --file "$work/floor.log"
	open_loop "f durable floor @ same rate" "$bbase" "$pid" "$half"
	stop "$pid"

	start baseline-bare "$bbase/" "$work/bin/baseline" --addr "127.0.0.1:$bport" --mode bare
	open_loop "g bare baseline @ same rate" "$bbase" "$pid" "$half"
	stop "$pid"
else
	echo "  (no half-load run: run c measured no throughput)"
fi

if ((SOAK > 0)); then
	start admeter "$base/healthz" "${admeter_cmd[@]}" --fsync always
	closed "h admeter always, soak ${SOAK}s" "$base" "$pid" "$SOAK"
	admeter_stats "$base"
	stop "$pid"
fi

echo
echo "== results (closed loop a–d, h: wrk; open loop e–g: loadgen at $half req/s, latency from intended send time)"
printf '%-30s %10s %9s %9s %9s %14s %9s %9s\n' run req/s "p50 ms" "p99 ms" "max ms" "non-2xx/err" "RSS MiB" "CPU µs/req"
for run in "a bare baseline" "b durable floor" "c admeter --fsync=always" "d admeter --fsync=interval" \
	"e admeter always @ half load" "f durable floor @ same rate" "g bare baseline @ same rate" \
	"h admeter always, soak ${SOAK}s"; do
	[[ -n ${rps[$run]:-} ]] || continue
	printf '%-30s %10s %9s %9s %9s %14s %9s %9s\n' "$run" "${rps[$run]}" "${p50[$run]}" "${p99[$run]}" "${maxl[$run]}" \
		"${bad[$run]}" "${rss[$run]:--}" "${cpu[$run]:--}"
done

# verdict NAME VALUE OP LIMIT prints PASS or MISS.
verdict() {
	local name=$1 value=$2 op=$3 limit=$4 ok
	if [[ $value == - || -z $value ]]; then
		printf '  %-44s %10s   %s %s   MISS (not measured)\n' "$name" - "$op" "$limit"
		return
	fi
	ok=$(awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN {print ((op == ">=" && v >= l) || (op == "<=" && v <= l) || (op == "==" && v == l)) ? "PASS" : "MISS"}')
	printf '  %-44s %10s   %s %s   %s\n' "$name" "$value" "$op" "$limit" "$ok"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }

r_always=$(ratio "${rps[c admeter --fsync=always]:--}" "${rps[b durable floor]:--}")
r_interval=$(ratio "${rps[d admeter --fsync=interval]:--}" "${rps[a bare baseline]:--}")
peak=-
bad_total=0
admeter_runs=("c admeter --fsync=always" "d admeter --fsync=interval" "e admeter always @ half load")
((SOAK == 0)) || admeter_runs+=("h admeter always, soak ${SOAK}s")
for run in "${admeter_runs[@]}"; do
	if [[ ${rss[$run]:--} != - ]] && { [[ $peak == - ]] || ((rss[$run] > peak)); }; then peak=${rss[$run]}; fi
	b=${bad[$run]:--/-}
	if [[ $b == */* && ${b%/*} != - && ${b#*/} != - ]]; then
		bad_total=$((bad_total + ${b%/*} + ${b#*/}))
	else
		bad_total=-
		break
	fi
done

echo
echo "== targets"
verdict "default (always) / durable floor, req/s" "$r_always" ">=" 0.8
verdict "interval / bare baseline, req/s" "$r_interval" ">=" 0.8
verdict "p99 at half load, ms (run e)" "${p99[e admeter always @ half load]:--}" "<=" 5
echo "     (same rate, same tools: durable floor p99 ${p99[f durable floor @ same rate]:--} ms, bare baseline p99 ${p99[g bare baseline @ same rate]:--} ms)"
verdict "admeter peak RSS, MiB (runs c, d, e$( ((SOAK == 0)) || echo ", h"))" "$peak" "<=" 256
((SOAK > 0)) || echo "     (runs of ${DURATION} s may end before admeter's in-memory windows fill: set BENCH_SOAK=90 for steady state)"
verdict "admeter non-2xx + errors (runs c, d, e$( ((SOAK == 0)) || echo ", h"))" "$bad_total" "==" 0
echo
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
