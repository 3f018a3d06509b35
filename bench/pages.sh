#!/usr/bin/env bash
# The pages benchmark: the registry list, a supplier page with a long timeline
# (500 events: contacts and signals recorded through the API) and the dashboard,
# rendered by the server on a 1M-supplier registry; p95 of each page against the
# 50 ms ceiling, beside the JSON API's time for the same data, measured in the
# same run. Run it as `scripts/bench pages`.
#
# Exits 0 when it measured, whatever the figures; non-zero only on errors.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
    cat <<EOF
usage: scripts/bench pages [options]

  --rows N        suppliers (default 1000000)
  --seed S        generator seed of the supplier CSV (default 42)
  --events N      timeline events of the benchmarked supplier (default 500)
  --runs N        measured requests per page and per API call, after 5 warm-up ones (default 200)
  --port P        port of the benchmarked server (default 18091)
  --keep          keep the database barrier_pages_bench afterwards (reuse it with --reuse)
  --reuse         measure on the database kept by an earlier --keep run
EOF
}

rows=1000000 seed=42 events=500 runs=200 port=18091 keep=0 reuse=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) rows=${2:?--rows needs a number}; shift 2 ;;
        --seed) seed=${2:?--seed needs a number}; shift 2 ;;
        --events) events=${2:?--events needs a number}; shift 2 ;;
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --port) port=${2:?--port needs a number}; shift 2 ;;
        --keep) keep=1; shift ;;
        --reuse) reuse=1; keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "pages bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$rows" "$seed" "$events" "$runs" "$port"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "pages bench: '$n' is not a number" >&2; exit 2; }
done
(( rows >= 1000 )) || { echo "pages bench: --rows must be at least 1000" >&2; exit 2; }

export PGOPTIONS="-c client_min_messages=warning"
out="$root/bench/out"
mkdir -p "$out"
work=$(mktemp -d "$out/pages.XXXXXX")
say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { echo "pages bench: $*" >&2; exit 1; }
source "$root/bench/lib.sh"

trap 'bench_cleanup barrier_pages_bench' EXIT
trap 'exit 130' INT TERM

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $pgbin ]] && export PATH="$pgbin:$PATH"
command -v psql >/dev/null || die "psql is needed: apt-get install postgresql-15"
command -v curl >/dev/null || die "curl is needed: apt-get install curl"
barrier=${BARRIER_BIN:-$root/.build/release/barrier}
[[ -x $barrier ]] || die "no barrier binary at $barrier (scripts/bench builds it)"

say "database"
bench_database barrier_pages_bench
if [[ $bench_fresh == 1 ]]; then
    say "data: $rows suppliers (seed $seed)"
    bench_registry "$rows" "$seed"
    psql -XAtq "$bench_url" -c "VACUUM ANALYZE" >/dev/null
fi
note "registry: $(psql -XAtq "$bench_url" -c "SELECT count(*) FROM facilitators") suppliers"

say "server"
bench_serve "$port" officer

# The benchmarked supplier: the registry's first by name, given $events timeline
# events through the API (half contacts, half signals) unless it has them.
supplier=$(psql -XAtq "$bench_url" -c "SELECT id FROM facilitators ORDER BY legal_name, id LIMIT 1")
have=$(psql -XAtq "$bench_url" -c "SELECT (SELECT count(*) FROM supplier_contacts WHERE facilitator_id = '$supplier')
    + (SELECT count(*) FROM signal_facilitators WHERE facilitator_id = '$supplier')")
if (( have < events )); then
    say "timeline: $((events - have)) events for supplier $supplier through the API"
    for i in $(seq "$have" $((events - 1))); do
        day=$(date -u -d "-$((i % 700 + 1)) days" +%F)
        if (( i % 2 == 0 )); then
            body="{\"kind\": \"call\", \"occurred_on\": \"$day\", \"participants\": [\"Officer $i\"], \"notes\": \"Call $i about parcel screening.\"}"
            path="/api/v1/facilitators/$supplier/contacts"
        else
            body="{\"type\": \"logistical\", \"stage\": \"shipping\", \"indicator_text\": \"Vacuum-sealed parcels, batch $i\", \"observed_on\": \"$day\", \"source\": \"Customs\", \"reporter\": \"Officer $i\", \"facilitator_ids\": [\"$supplier\"]}"
            path="/api/v1/signals"
        fi
        curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" \
            "http://127.0.0.1:$port$path" || die "POST $path failed"
    done
fi

say "each page (p95 of $runs requests on one kept-alive connection, after 5 warm-up ones) against 50 ms, beside the JSON API"
python3 "$root/bench/pages.py" --port "$port" --email "$email" --password "$password" --token "$token" --supplier "$supplier" \
    --runs "$runs" | tee "$work/pages.out"
say "summary: $(grep '^RESULT' "$work/pages.out" | sed 's/^RESULT //')"
