#!/usr/bin/env bash
# The writes benchmark (issue 16): PATCH /api/v1/facilitators/{id} with If-Match,
# each client on suppliers of its own, with the audit chain as it runs, against
# the same load with the audit append switched off — for the bench only, in the
# bench's own database: the owner swaps audit_append() for a function that
# appends nothing, and swaps it back. One client, then eight; the on and off
# runs alternate, twice each. Run it as `scripts/bench writes`.
#
# Exits 0 when it measured, whatever the figures; non-zero only on errors.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
    cat <<EOF
usage: scripts/bench writes [options]

  --rows N        suppliers (default 100000)
  --seed S        generator seed of the supplier CSV (default 42)
  --duration S    seconds of each measured run (default 15)
  --port P        port of the benchmarked server (default 18093)
  --keep          keep the database barrier_writes_bench afterwards (reuse it with --reuse)
  --reuse         measure on the database kept by an earlier --keep run
EOF
}

rows=100000 seed=42 duration=15 port=18093 keep=0 reuse=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) rows=${2:?--rows needs a number}; shift 2 ;;
        --seed) seed=${2:?--seed needs a number}; shift 2 ;;
        --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
        --port) port=${2:?--port needs a number}; shift 2 ;;
        --keep) keep=1; shift ;;
        --reuse) reuse=1; keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "writes bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$rows" "$seed" "$duration" "$port"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "writes bench: '$n' is not a number" >&2; exit 2; }
done
(( rows >= 10000 )) || { echo "writes bench: --rows must be at least 10000" >&2; exit 2; }

export PGOPTIONS="-c client_min_messages=warning"
out="$root/bench/out"
mkdir -p "$out"
work=$(mktemp -d "$out/writes.XXXXXX")
say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { echo "writes bench: $*" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v l="$2" 'BEGIN { print (v != "n/a" && v >= l) ? "PASS" : "FAIL" }'; }
field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\2/p" <<<"$2"; }
source "$root/bench/lib.sh"

signature="uuid, text, uuid, text, text, text, jsonb, jsonb, text"
audit_state=on
audit() {  # on|off: the real audit_append, or one that appends nothing (this database only)
    local sql
    [[ $1 == "$audit_state" ]] && return 0
    if [[ $1 == off ]]; then
        sql="ALTER FUNCTION audit_append($signature) RENAME TO audit_append_bench_real;
             CREATE FUNCTION audit_append($signature) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';"
    else
        sql="DROP FUNCTION audit_append($signature);
             ALTER FUNCTION audit_append_bench_real($signature) RENAME TO audit_append;"
    fi
    psql -XAtq -v ON_ERROR_STOP=1 "$bench_url" -c "$sql" >/dev/null || die "could not switch the audit append $1"
    audit_state=$1
}
# On the way out the real audit_append is put back first; the script's status is kept for bench_cleanup.
trap 'status=$?; if [[ $audit_state == off ]]; then audit on; fi; (exit $status); bench_cleanup barrier_writes_bench' EXIT
trap 'exit 130' INT TERM

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $pgbin ]] && export PATH="$pgbin:$PATH"
for tool in psql curl wrk; do command -v "$tool" >/dev/null || die "$tool is needed (scripts/bench registry installs wrk)"; done
barrier=${BARRIER_BIN:-$root/.build/release/barrier}
[[ -x $barrier ]] || die "no barrier binary at $barrier (scripts/bench builds it)"

say "database"
bench_database barrier_writes_bench
if [[ $bench_fresh == 1 ]]; then
    say "data: $rows suppliers (seed $seed)"
    bench_registry "$rows" "$seed"
    psql -XAtq "$bench_url" -c "VACUUM ANALYZE" >/dev/null
fi
note "registry: $(psql -XAtq "$bench_url" -c "SELECT count(*) FROM facilitators") suppliers"

say "server"
bench_serve "$port" officer

run() {  # NAME CLIENTS: PATCH load on 4000 suppliers (their current versions); prints the WRK line
    local name=$1 c=$2 threads=$(( $2 < 2 ? $2 : 2 )) line
    psql -XAtq -F ' ' "$bench_url" -c "SELECT id, version FROM facilitators WHERE status = 'active' ORDER BY random() LIMIT 4000" \
        >"$work/suppliers.txt"
    timeout $((duration + 60)) wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s --latency -s "$root/bench/patch.lua" \
        "http://127.0.0.1:$port" -- "$work/suppliers.txt" "$token" >"$work/wrk-$name.log" 2>&1 ||
        { cat "$work/wrk-$name.log" >&2; die "wrk ($name) failed"; }
    line=$(grep '^WRK ' "$work/wrk-$name.log" | tail -n1)
    [[ -n $line ]] || { cat "$work/wrk-$name.log" >&2; die "wrk ($name) printed no figures"; }
    (( $(field errors_status "$line") == 0 )) || die "PATCH answered $(field errors_status "$line") errors ($name): a version clash or a failure"
    echo "$line"
}

events_before=$(psql -XAtq "$bench_url" -c "SELECT count(*) FROM audit_events")
declare -A sum=()
for c in 1 8; do
    for round in 1 2; do
        for state in on off; do
            audit "$state"
            say "PATCH with If-Match, $c client(s), audit append $state (round $round), wrk -d${duration}s"
            line=$(run "c$c-$state-$round" "$c")
            sum[$c-$state]=$(awk -v a="${sum[$c-$state]:-0}" -v b="$(field rps "$line")" 'BEGIN { print a + b }')
            note "$(field rps "$line") req/s, p50 $(field p50_ms "$line") ms, p99 $(field p99_ms "$line") ms, $(field requests "$line") requests"
        done
    done
done
audit on
for k in "${!sum[@]}"; do sum[$k]=$(awk -v s="${sum[$k]}" 'BEGIN { printf "%.0f", s / 2 }'); done
events=$(( $(psql -XAtq "$bench_url" -c "SELECT count(*) FROM audit_events") - events_before ))
verified=$(timeout 600 "$barrier" audit verify </dev/null 2>&1 | tail -n1 || true)
note "audit events appended by the on runs: $events; barrier audit verify: $verified"

say "summary (each figure the mean of two runs; the ceilings measured in this run)"
printf '%-52s %8s %8s %6s %8s %s\n' figure value ceiling ratio target result
r=$(ratio "${sum[8-on]}" "${sum[8-off]}")
printf '%-52s %8s %8s %6s %8s %s\n' "PATCH, 8 clients, audit on vs off (req/s)" "${sum[8-on]}" "${sum[8-off]}" "$r" ">= 0.5" "$(verdict "$r" 0.5)"
r=$(ratio "${sum[1-on]}" "${sum[1-off]}")
printf '%-52s %8s %8s %6s %8s %s\n' "PATCH, 1 client, audit on vs off (req/s)" "${sum[1-on]}" "${sum[1-off]}" "$r" "-" "info"
r=$(ratio "${sum[8-on]}" "$(awk -v a="${sum[1-on]}" 'BEGIN { print a * 8 }')")
printf '%-52s %8s %8s %6s %8s %s\n' "PATCH, 8 clients vs 8 x 1 client, audit on (req/s)" "${sum[8-on]}" "$(( ${sum[1-on]} * 8 ))" "$r" "-" "info"
