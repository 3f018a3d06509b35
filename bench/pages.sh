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

server_pid=""
cleanup() {
    local status=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ $keep == 0 && -n ${admin_url:-} ]]; then
        psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS barrier_pages_bench WITH (FORCE)' >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $pgbin ]] && export PATH="$pgbin:$PATH"
command -v psql >/dev/null || die "psql is needed: apt-get install postgresql-15"
command -v curl >/dev/null || die "curl is needed: apt-get install curl"
barrier=${BARRIER_BIN:-$root/.build/release/barrier}
[[ -x $barrier ]] || die "no barrier binary at $barrier (scripts/bench builds it)"

say "database"
unset DATABASE_URL
timeout 60 "$barrier" db start </dev/null >"$work/db-start.out" 2>>"$work/db-start.log" || { cat "$work/db-start.log" >&2; die "barrier db start failed"; }
admin_url=$(tail -n1 "$work/db-start.out")
[[ $admin_url == postgres* ]] || die "barrier db start printed '$admin_url', not a URL"
bench_url=$(sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/barrier_pages_bench#" <<<"$admin_url")
export DATABASE_URL=$bench_url
exists=$(psql -XAtq "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = 'barrier_pages_bench'")
if [[ $reuse == 1 && $exists == 1 ]]; then
    note "reusing $bench_url"
    timeout 300 "$barrier" migrate </dev/null >/dev/null 2>&1 || die "barrier migrate failed"
else
    psql -q -v ON_ERROR_STOP=1 "$admin_url" -c 'DROP DATABASE IF EXISTS barrier_pages_bench WITH (FORCE)' \
        -c 'CREATE DATABASE barrier_pages_bench' >/dev/null || die "could not create barrier_pages_bench"
    timeout 300 "$barrier" migrate </dev/null >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; die "barrier migrate failed"; }
    timeout 60 "$barrier" agency create --name "Bench Agency" --country NL </dev/null >/dev/null || die "barrier agency create failed"
    say "data: $rows suppliers (seed $seed)"
    gen_hash=$(sha256sum <"$root/bench/gen_facilitators.py" | cut -c1-8)
    csv_file="$out/facilitators-r$rows-s$seed-g$gen_hash.csv"
    if [[ ! -s $csv_file ]]; then
        venv="$root/.barrier/bench-venv"
        if ! "$venv/bin/python" -c 'import faker' 2>/dev/null; then
            note "setting up $venv with faker (pip)"
            python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check faker || die "pip install faker failed"
        fi
        timeout 1800 "$venv/bin/python" "$root/bench/gen_facilitators.py" --rows "$rows" --seed "$seed" --out "$csv_file" ||
            die "generating the CSV failed"
    fi
    timeout 1800 "$barrier" import facilitators "$csv_file" </dev/null >"$work/import.log" 2>&1 || { tail -n5 "$work/import.log" >&2; die "import failed"; }
    psql -XAtq "$bench_url" -c "VACUUM ANALYZE" >/dev/null
fi
note "registry: $(psql -XAtq "$bench_url" -c "SELECT count(*) FROM facilitators") suppliers"

say "server"
password=$(openssl rand -hex 16)
agency=$(psql -XAtq "$bench_url" -c "SELECT id FROM agencies ORDER BY created_at LIMIT 1")
email="bench-officer-$(date +%s)@bench.example"
timeout 60 "$barrier" user create --agency "$agency" --email "$email" --name "Bench Officer" --role officer --password "$password" \
    </dev/null >/dev/null || die "barrier user create failed"
token=$(timeout 60 "$barrier" user token --email "$email" --name bench </dev/null | tail -n1)
psql -XAtq -v ON_ERROR_STOP=1 "$bench_url" -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_server') THEN CREATE ROLE barrier_server LOGIN IN ROLE barrier_app; END IF;
    END \$\$" >/dev/null || die "could not create the server's role barrier_server"
serve_url=$(sed -E 's#^(postgres(ql)?://)[^@/]*@#\1barrier_server@#' <<<"$bench_url")
DATABASE_URL=$serve_url DATABASE_OWNER_URL=$bench_url PORT=$port LOG_LEVEL=warning COOKIE_SECURE=false \
    "$barrier" serve </dev/null >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { tail -n20 "$work/server.log" >&2; die "the server did not become ready"; }
note "serving on 127.0.0.1:$port"

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
