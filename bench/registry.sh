#!/usr/bin/env bash
# The registry benchmark: CSV import, GET by id, fuzzy search and server memory,
# each printed with its ratio to a ceiling measured in the same run on the same
# PostgreSQL (psql \copy, pgbench). Run it as `scripts/bench registry`.
#
# Exits 0 when it measured, whatever the figures; non-zero only on errors.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
    cat <<EOF
usage: scripts/bench registry [options]

  --rows N             suppliers in the generated CSV (default 1000000)
  --seed S             generator seed (default 42)
  --duration SECONDS   length of each measured load run (default 15)
  --connections N      concurrent connections for GET by id (default 8)
  --search-connections N
                       concurrent connections for fuzzy search (default 2:
                       officers searching, not a flood; latency is the figure)
  --db-url URL         use this PostgreSQL server (a superuser URL) instead of
                       the embedded cluster from \`barrier db start\`
  --ceilings-only      measure only the PostgreSQL ceilings (needs no barrier
                       binary; search runs on the ceiling table)
  --rss-baseline N     also import a generated file of N rows (into a scratch
                       database, first) and compare the import's peak RSS at
                       both sizes: within 15%, and < 600 MB (the scale run:
                       --rows 5000000 --rss-baseline 1000000)
  --keep               keep the bench databases afterwards
EOF
}

rows=1000000 seed=42 duration=15 conns=8 search_conns=2 db_url="" ceilings_only=0 keep=0 rss_base_rows=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) rows=${2:?--rows needs a number}; shift 2 ;;
        --seed) seed=${2:?--seed needs a number}; shift 2 ;;
        --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
        --connections) conns=${2:?}; shift 2 ;;
        --search-connections) search_conns=${2:?}; shift 2 ;;
        --db-url) db_url=${2:?--db-url needs a URL}; shift 2 ;;
        --ceilings-only) ceilings_only=1; shift ;;
        --rss-baseline) rss_base_rows=${2:?--rss-baseline needs a number}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "registry bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$rows" "$seed" "$duration" "$conns" "$search_conns" "$rss_base_rows"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "registry bench: '$n' is not a number" >&2; exit 2; }
done
(( rows >= 1000 )) || { echo "registry bench: --rows must be at least 1000" >&2; exit 2; }

export PGOPTIONS="-c client_min_messages=warning"  # no NOTICEs for IF EXISTS
out="$root/bench/out"
mkdir -p "$out"
work=$(mktemp -d "$out/run.XXXXXX")
say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { echo "registry bench: $*" >&2; exit 1; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# ratio A B [digits]: A / B
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.*f", d, a / b }'; }
# verdict VALUE OP LIMIT: PASS or FAIL
verdict() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "n/a") { print "FAIL"; exit }
    ok = (op == ">=") ? v >= l : (op == "<=") ? v <= l : (op == "<") ? v < l : v > l
    print ok ? "PASS" : "FAIL" }'; }
# field NAME LINE: the value of NAME=... in a "WRK ..." line
field() { sed -nE "s/.*(^| )$1=([^ ]+).*/\2/p" <<<"$2"; }

server_pid="" sampler_pid=""
cleanup() {
    local status=$?
    [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null || true
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ -n ${admin_url:-} && $keep == 0 ]]; then
        psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS bench_pgbench' >/dev/null 2>&1 || true
        [[ -n ${bench_url:-} ]] && psql -q "$bench_url" -c 'DROP TABLE IF EXISTS bench_copy_ceiling, bench_queries' >/dev/null 2>&1 || true
        if [[ $ceilings_only == 1 ]]; then
            psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS barrier_bench' >/dev/null 2>&1 || true
        fi
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
say "tools"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $pgbin ]] && export PATH="$pgbin:$PATH"
command -v psql >/dev/null && command -v pgbench >/dev/null ||
    die "psql and pgbench are needed: apt-get install postgresql-15 postgresql-contrib"
if ! command -v wrk >/dev/null; then
    note "installing wrk (apt-get)"
    [[ $(id -u) == 0 ]] || die "wrk is missing and installing it needs root: apt-get install wrk"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; } ||
        die "apt-get install wrk failed"
fi
venv="$root/.barrier/bench-venv"
if ! "$venv/bin/python" -c 'import faker' 2>/dev/null; then
    note "setting up $venv with faker (pip)"
    python3 -m venv "$venv" || die "python3 -m venv failed"
    "$venv/bin/pip" install -q --disable-pip-version-check faker || die "pip install faker failed"
fi
py="$venv/bin/python"
note "wrk $(wrk --version 2>&1 | head -n1 | awk '{print $2}'), $(pgbench --version), faker $("$py" -c 'import faker; print(faker.VERSION)')"

barrier=""
if [[ $ceilings_only == 0 ]]; then
    barrier=${BARRIER_BIN:-$root/.build/release/barrier}
    [[ -x $barrier ]] || die "no barrier binary at $barrier (scripts/bench builds it)"
    note "barrier: $barrier"
fi

# ---------------------------------------------------------------- data
say "data: $rows suppliers, seed $seed"
gen_hash=$(cat "$root/bench/gen_facilitators.py" | sha256sum | cut -c1-8)
# csv_for N: the generated file of N rows (made once per size, seed and generator version)
csv_for() {
    local n=$1 file="$out/facilitators-r$1-s$seed-g$gen_hash.csv" t0
    if [[ -s $file ]]; then
        note "cached: $file" >&2
    else
        rm -f "$out"/facilitators-r"$n"-s"$seed"-g*.csv "$out"/queries-r"$n"-s"$seed"-g*.txt
        t0=$(now)
        timeout 3600 "$py" "$root/bench/gen_facilitators.py" --rows "$n" --seed "$seed" --out "$file" >&2 ||
            die "generating the CSV failed"
        note "generated in $(elapsed "$t0" "$(now)") s: $file" >&2
    fi
    echo "$file"
}
csv_file=$(csv_for "$rows")
csv_mb=$(awk -v b="$(stat -c %s "$csv_file")" 'BEGIN { printf "%.0f", b / 1e6 }')
queries_file="$out/queries-r$rows-s$seed-g$gen_hash.txt"
if [[ ! -s $queries_file ]]; then
    python3 "$root/bench/bench_tools.py" queries "$csv_file" 200 "$seed" "$queries_file" || die "picking search strings failed"
fi
note "search strings: $queries_file ($(wc -l <"$queries_file") names, e.g. $(head -n3 "$queries_file" | paste -sd, -))"

# ---------------------------------------------------------------- database
say "database"
if [[ -n $db_url ]]; then
    admin_url=$db_url
    note "server: $admin_url"
else
    unset DATABASE_URL
    # output to files, not a pipe: a postgres started underneath may keep a pipe
    # open for as long as it runs, and $(...) would wait for it
    db_start() { timeout 60 "$barrier" db start </dev/null >"$work/db-start.out" 2>>"$work/db-start.log"; }
    if ! db_start || [[ ! -s $work/db-start.out ]]; then
        # db start is idempotent: once the cluster runs, another call only prints the URL
        note "barrier db start did not finish within 60 s; asking again"
        db_start || { cat "$work/db-start.log" >&2; die "barrier db start failed"; }
    fi
    admin_url=$(tail -n1 "$work/db-start.out")
    [[ $admin_url == postgres* ]] || die "barrier db start printed '$admin_url', not a URL"
    note "embedded cluster: $admin_url"
fi
# the same server, another database: replace the URL's path
db_in_url() { sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/$1#" <<<"$2"; }
bench_url=$(db_in_url barrier_bench "$admin_url")
pgbench_url=$(db_in_url bench_pgbench "$admin_url")
psql -q -v ON_ERROR_STOP=1 "$admin_url" \
    -c 'DROP DATABASE IF EXISTS barrier_bench WITH (FORCE)' -c 'CREATE DATABASE barrier_bench' >/dev/null ||
    die "could not create database barrier_bench on $admin_url"
note "fresh database: $bench_url"

export DATABASE_URL=$bench_url
token=""
if [[ $ceilings_only == 0 ]]; then
    timeout 300 "$barrier" migrate </dev/null >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; die "barrier migrate failed"; }
    agency=$(timeout 60 "$barrier" agency create --name "Bench Agency" --country NL </dev/null | tail -n1) ||
        die "barrier agency create failed"
    password=$(openssl rand -hex 16)
    timeout 60 "$barrier" user create --agency "$agency" --email bench-admin@bench.example --name "Bench Admin" \
        --role admin --password "$password" </dev/null >/dev/null || die "barrier user create failed"
    token=$(timeout 60 "$barrier" user token --email bench-admin@bench.example --name "bench-$(date +%s)" </dev/null | tail -n1) ||
        die "barrier user token failed"
    [[ -n $token ]] || die "barrier user token printed no token"
    note "migrated; agency $agency, admin bench-admin@bench.example with an API token"
    # The server connects as a member of barrier_app, which row-level security binds
    # (the owner and superusers are not bound); migrations and the CLI use the owner.
    psql -q -v ON_ERROR_STOP=1 "$bench_url" -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_server') THEN CREATE ROLE barrier_server LOGIN IN ROLE barrier_app; END IF;
        END \$\$" >/dev/null || die "could not create the server's role barrier_server"
    serve_url=$(sed -E 's#^(postgres(ql)?://)[^@/]*@#\1barrier_server@#' <<<"$bench_url")
    note "the server connects as barrier_server: $serve_url"
else
    psql -q -v ON_ERROR_STOP=1 "$bench_url" -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm' >/dev/null
fi

# ---------------------------------------------------------------- import memory baseline
if [[ $ceilings_only == 0 && $rss_base_rows -gt 0 ]]; then
    say "import memory at $rss_base_rows rows (a scratch database), to compare with $rows"
    base_csv=$(csv_for "$rss_base_rows")
    base_url=$(db_in_url barrier_bench_rss "$admin_url")
    psql -q -v ON_ERROR_STOP=1 "$admin_url" -c 'DROP DATABASE IF EXISTS barrier_bench_rss WITH (FORCE)' \
        -c 'CREATE DATABASE barrier_bench_rss' >/dev/null || die "could not create barrier_bench_rss"
    DATABASE_URL=$base_url timeout 300 "$barrier" migrate </dev/null >/dev/null 2>&1 || die "barrier migrate (baseline) failed"
    t0=$(now)
    DATABASE_URL=$base_url timeout 3600 python3 "$root/bench/bench_tools.py" peak-rss "$work/base.rss" -- \
        "$barrier" import facilitators "$base_csv" </dev/null >/dev/null 2>"$work/base-import.log" ||
        { tail -n5 "$work/base-import.log" >&2; die "barrier import (baseline) failed"; }
    base_s=$(elapsed "$t0" "$(now)")
    base_rss_mb=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/base.rss")
    note "barrier import of $rss_base_rows rows: $base_s s, $(awk -v n="$rss_base_rows" -v s="$base_s" 'BEGIN { printf "%.0f", n / s }') rows/s, peak RSS $base_rss_mb MB"
    psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS barrier_bench_rss WITH (FORCE)' >/dev/null || true
fi

# ---------------------------------------------------------------- import
say "import: psql \\copy ceiling, then barrier import ($csv_mb MB)"
cat "$csv_file" >/dev/null  # both read it from the page cache
psql -q -v ON_ERROR_STOP=1 "$bench_url" >/dev/null <<'SQL' || die "creating bench_copy_ceiling failed"
DROP TABLE IF EXISTS bench_copy_ceiling;
CREATE TABLE bench_copy_ceiling (
    id text, legal_name text, aliases text, sector text, stages text, markets text, country text,
    registration_number text, vat_number text, street text, postal_code text, city text,
    website text, email text, phone text, status text, notes text, contacts text,
    -- the text facilitators indexes: \copy reads an empty field as NULL, and
    -- a NULL alias list must not leave the name out of the index
    search_names text GENERATED ALWAYS AS (lower(legal_name || CASE WHEN coalesce(aliases, '') <> ''
                                                                 THEN ' ' || replace(aliases, '|', ' ') ELSE '' END)) STORED
);
CREATE INDEX bench_copy_ceiling_search_trgm ON bench_copy_ceiling USING gin (search_names gin_trgm_ops);
CREATE UNIQUE INDEX bench_copy_ceiling_registration_key ON bench_copy_ceiling (registration_number, country)
    WHERE registration_number <> '';
-- the rest of facilitators' indexes, so both loads maintain the same ones
ALTER TABLE bench_copy_ceiling ADD COLUMN pk uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(), ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX bench_copy_ceiling_vat_idx ON bench_copy_ceiling (vat_number) WHERE vat_number <> '';
CREATE INDEX bench_copy_ceiling_name_idx ON bench_copy_ceiling (lower(legal_name), pk);
CREATE INDEX bench_copy_ceiling_created_idx ON bench_copy_ceiling (created_at, pk);
CREATE INDEX bench_copy_ceiling_updated_idx ON bench_copy_ceiling (updated_at, pk);
CREATE INDEX bench_copy_ceiling_sector_country_idx ON bench_copy_ceiling (sector, country);
-- and its lookups and checks: every row's sector and country are looked up and
-- its formats checked with the same expressions as facilitators (on non-empty text)
ALTER TABLE bench_copy_ceiling ADD FOREIGN KEY (sector) REFERENCES sectors (code),
    ADD FOREIGN KEY (country) REFERENCES countries (code),
    ADD CHECK (legal_name = btrim(legal_name) AND length(legal_name) BETWEEN 1 AND 300),
    ADD CHECK (registration_number = '' OR registration_number ~ '^[A-Z0-9][A-Z0-9 ./-]{0,39}$'),
    ADD CHECK (vat_number = '' OR (vat_number ~ '^([A-Z]{2})[A-Z0-9+*]{2,16}$'
               AND (left(vat_number, 2) = country OR (country = 'GR' AND left(vat_number, 2) = 'EL')))),
    ADD CHECK (length(street) <= 300),
    ADD CHECK (postal_code = '' OR postal_code ~ '^[A-Za-z0-9][A-Za-z0-9 -]{0,11}$'),
    ADD CHECK (length(city) <= 120),
    ADD CHECK (website = '' OR website ~ '^https?://[^\s/$.?#][^\s]*$'),
    ADD CHECK (email = '' OR email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    ADD CHECK (phone = '' OR phone ~ '^\+?[0-9 ()./-]{5,30}$'),
    ADD CHECK (status IN ('', 'active', 'dormant', 'dissolved', 'archived')),
    ADD CHECK (length(notes) <= 10000);
SQL
columns="id, legal_name, aliases, sector, stages, markets, country, registration_number, vat_number, street, postal_code, city, website, email, phone, status, notes, contacts"
t0=$(now)
timeout 1800 psql -q -v ON_ERROR_STOP=1 "$bench_url" \
    -c "\\copy bench_copy_ceiling ($columns) FROM '$csv_file' WITH (FORMAT csv, HEADER true)" >/dev/null ||
    die "psql \\copy failed"
copy_s=$(elapsed "$t0" "$(now)")
copy_rps=$(awk -v n="$rows" -v s="$copy_s" 'BEGIN { printf "%.0f", n / s }')
note "psql \\copy (facilitators' eight indexes, keys and checks): $copy_s s, $copy_rps rows/s"

if [[ $ceilings_only == 0 ]]; then
    psql -q "$bench_url" -c 'DROP TABLE bench_copy_ceiling' >/dev/null
    psql -q "$bench_url" -c 'CHECKPOINT' >/dev/null
    t0=$(now)
    import_line=$(timeout 3600 python3 "$root/bench/bench_tools.py" peak-rss "$work/import.rss" -- \
        "$barrier" import facilitators "$csv_file" </dev/null | tail -n1) ||
        die "barrier import facilitators failed"
    import_s=$(elapsed "$t0" "$(now)")
    import_rss_mb=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/import.rss")
    note "barrier import: peak RSS $import_rss_mb MB"
    import_rps=$(awk -v n="$rows" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }')
    note "barrier import: $import_s s, $import_rps rows/s; it said: $import_line"
    loaded=$(psql -At "$bench_url" -c 'SELECT count(*) FROM facilitators')
    [[ $loaded == "$rows" ]] || die "facilitators holds $loaded rows after the import, not $rows"
    search_table=facilitators
else
    search_table=bench_copy_ceiling
fi
psql -q "$bench_url" -c "VACUUM ANALYZE $search_table" >/dev/null
note "VACUUM ANALYZE $search_table (both sides read the same analysed table)"

# ---------------------------------------------------------------- ceilings
say "ceiling: pgbench -S -M prepared -c $conns -j 2 -T $duration"
psql -q -v ON_ERROR_STOP=1 "$admin_url" \
    -c 'DROP DATABASE IF EXISTS bench_pgbench WITH (FORCE)' -c 'CREATE DATABASE bench_pgbench' >/dev/null
timeout 600 pgbench -i -s 10 -q "$pgbench_url" >"$work/pgbench-init.log" 2>&1 ||
    { cat "$work/pgbench-init.log" >&2; die "pgbench -i failed"; }
timeout $((duration + 120)) pgbench -S -M prepared -c "$conns" -j 2 -T "$duration" "$pgbench_url" \
    >"$work/pgbench-S.log" 2>&1 || { cat "$work/pgbench-S.log" >&2; die "pgbench -S failed"; }
pg_tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$work/pgbench-S.log")
pg_lat=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$work/pgbench-S.log")
[[ -n $pg_tps ]] || { cat "$work/pgbench-S.log" >&2; die "no tps in pgbench output"; }
pg_tps=$(awk -v t="$pg_tps" 'BEGIN { printf "%.0f", t }')
note "pgbench -S: $pg_tps tps, latency average $pg_lat ms"

say "ceiling: fuzzy-search SQL through pgbench (-M extended -c $search_conns -T $duration, per-transaction log)"
nq=$(wc -l <"$queries_file")
psql -q -v ON_ERROR_STOP=1 "$bench_url" >/dev/null <<SQL || die "loading bench_queries failed"
DROP TABLE IF EXISTS bench_queries;
CREATE TABLE bench_queries (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, q text NOT NULL);
\\copy bench_queries (q) FROM '$queries_file' WITH (FORMAT text)
SQL
if [[ $ceilings_only == 0 ]]; then
    # the very statement the server sends for GET /facilitators?q=...&limit=20, documents and all
    search_sql=$("$barrier" bench-search-sql --limit 20) || die "barrier bench-search-sql failed"
else
    search_sql="SELECT id, legal_name, word_similarity(:q, search_names) AS score FROM $search_table WHERE :q <% search_names ORDER BY score DESC, id LIMIT 20;"
fi
note "the search statement pgbench runs: $(tail -n1 <<<"$search_sql" | cut -c1-150)..."
cat >"$work/search.pgbench" <<EOF
\\set r random(1, $nq)
SELECT q FROM bench_queries WHERE id = :r \\gset
$search_sql
EOF
# Every string once before the timed run: the server's search comes later and
# reads pages this run left in the cache, so the ceiling must not be the only
# side measured cold (at 5M suppliers a cold first pass had p95 891 ms, a warm one 158).
{
    [[ $search_sql == *$'\n'* ]] && printf '%s\n' "${search_sql%$'\n'*}"  # its \set lines
    while IFS= read -r q; do
        printf "\\\\set q '%s'\n" "${q//\'/\'\'}"
        tail -n1 <<<"$search_sql" | sed "s/:q\b/:'q'/g"
    done <"$queries_file"
} >"$work/search-warmup.sql"
t0=$(now)
timeout 900 psql -q -v ON_ERROR_STOP=1 "$bench_url" -f "$work/search-warmup.sql" >/dev/null ||
    die "the search warm-up pass failed"
note "warm-up: each of the $nq strings once through psql ($(elapsed "$t0" "$(now)") s)"
mkdir -p "$work/pglog"
(cd "$work/pglog" && timeout $((duration + 120)) pgbench -n -M extended -c "$search_conns" -j 2 -T "$duration" -l \
    -f "$work/search.pgbench" "$bench_url" >"$work/pgbench-search.log" 2>&1) ||
    { cat "$work/pgbench-search.log" >&2; die "pgbench search run failed"; }
read -r sql_p95 sql_n < <(python3 "$root/bench/bench_tools.py" pgbench-p "$work/pglog/pgbench_log.*" --pct 95) ||
    die "no pgbench transaction log"
sql_tps=$(sed -nE 's/^tps = ([0-9.]+) \(without.*/\1/p' "$work/pgbench-search.log" | awk '{ printf "%.0f", $1 }')
note "search SQL: p95 $sql_p95 ms over $sql_n queries ($sql_tps per second; each also reads its string from bench_queries)"

say "EXPLAIN of the search SQL"
sample_q=$(head -n1 "$queries_file")
# the same statement again, in psql: its \set lines work there too, and :'q' quotes the text
explain_sql=$(sed -e '$ s/^/EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) /' -e "\$ s/:q\b/:'q'/g" <<<"$search_sql")
explain=$(psql -At -v ON_ERROR_STOP=1 -v q="$sample_q" "$bench_url" <<<"$explain_sql") || die "EXPLAIN failed"
sed 's/^/   /' <<<"$explain"
trgm_index=$(psql -At "$bench_url" -c "SELECT indexname FROM pg_indexes WHERE tablename = '$search_table' AND indexdef ILIKE '%gin_trgm_ops%' LIMIT 1")
if grep -q "Bitmap Index Scan on ${trgm_index:-__none__}" <<<"$explain"; then
    uses_index=yes
    note "q = '$sample_q': the plan uses the trigram index $trgm_index (Bitmap Index Scan)"
else
    uses_index=no
    note "q = '$sample_q': the plan does NOT use a trigram index (${trgm_index:-none found on $search_table})"
fi

# ---------------------------------------------------------------- server under load
if [[ $ceilings_only == 0 ]]; then
    port=$(python3 "$root/bench/bench_tools.py" free-port 18080)
    base="http://127.0.0.1:$port"
    say "barrier serve on 127.0.0.1:$port"
    # Casework for the agency boundary's cost: 10% of the suppliers have a cooperation level.
    psql -q -v ON_ERROR_STOP=1 "$bench_url" >/dev/null <<SQL || die "could not write the bench agency's cooperation levels"
INSERT INTO cooperation_levels (agency_id, facilitator_id, level, since)
SELECT '$agency', id, (ARRAY['informed', 'engaged', 'cooperating'])[1 + floor(random() * 3)::int], now()
FROM facilitators WHERE random() < 0.1 ON CONFLICT DO NOTHING;
ANALYZE cooperation_levels;
SQL
    printf '%s\n' "cooperation=engaged&limit=50" "cooperation=informed&limit=50" "cooperation=cooperating&sort=-name&limit=50" \
        "cooperation=engaged&country=DE&limit=50" "cooperation=informed&sector=courier&limit=50" >"$work/lists.txt"
    note "cooperation levels for $(psql -At "$bench_url" -c 'SELECT count(*) FROM cooperation_levels') suppliers"
    DATABASE_URL=$serve_url DATABASE_OWNER_URL=$bench_url PORT=$port "$barrier" serve </dev/null >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 600); do
        curl -fsS -o /dev/null --max-time 2 "$base/healthz" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$work/serve.log" >&2; die "barrier serve exited"; }
        sleep 0.1
    done
    curl -fsS -o /dev/null --max-time 2 "$base/healthz" || { tail -n 20 "$work/serve.log" >&2; die "barrier serve did not answer /healthz within 60 s"; }
    rss_start=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
    note "pid $server_pid, VmRSS $((rss_start / 1024)) MB after start"

    psql -At "$bench_url" -c 'SELECT id FROM facilitators ORDER BY random() LIMIT 1000' >"$work/ids.txt"
    one_id=$(head -n1 "$work/ids.txt")
    code=$(curl -sS -o "$work/one.json" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $token" "$base/api/v1/facilitators/$one_id")
    [[ $code == 200 ]] && grep -q "$one_id" "$work/one.json" ||
        { head -c 500 "$work/one.json" >&2; echo >&2; die "GET /api/v1/facilitators/$one_id answered $code"; }
    enc_q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$sample_q")
    code=$(curl -sS -o "$work/search.json" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $token" "$base/api/v1/facilitators?q=$enc_q&limit=20")
    [[ $code == 200 ]] || { head -c 500 "$work/search.json" >&2; echo >&2; die "GET /api/v1/facilitators?q=$enc_q answered $code"; }
    note "checked: GET by id and search answer 200 with the bench token"

    (while kill -0 "$server_pid" 2>/dev/null; do
        awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || true
        sleep 0.2
    done) >"$work/rss.txt" &
    sampler_pid=$!

    run_wrk() {  # NAME CONNECTIONS SCRIPT ARGS...
        local name=$1 c=$2 script=$3; shift 3
        local threads=$(( c < 2 ? c : 2 ))
        timeout 60 wrk -t"$threads" -c"$c" -d3s --timeout 10s -s "$script" "$base" -- "$@" >/dev/null 2>&1 || true  # warm-up
        timeout $((duration + 60)) wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s --latency -s "$script" "$base" -- "$@" \
            >"$work/wrk-$name.log" 2>&1 || { cat "$work/wrk-$name.log" >&2; die "wrk ($name) failed"; }
        grep '^WRK ' "$work/wrk-$name.log" | tail -n1
    }

    # The database's side of GET by id on the same table, in the same run: the very
    # document the server reads (facilitator_documents) for the same 1000 random ids,
    # through pgbench with prepared statements and as many connections.
    say "ceiling: the supplier document by id through pgbench (-M prepared -c $conns -T $duration, the same 1000 ids)"
    psql -q -v ON_ERROR_STOP=1 "$bench_url" \
        -c 'DROP TABLE IF EXISTS bench_ids' \
        -c 'CREATE TABLE bench_ids (n int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id uuid NOT NULL)' \
        -c "\\copy bench_ids (id) FROM '$work/ids.txt' WITH (FORMAT text)" \
        -c 'ANALYZE bench_ids' >/dev/null || die "loading bench_ids failed"
    printf '%s\n' '\set r random(1, 1000)' \
        'SELECT document::text, version FROM facilitator_documents WHERE id = (SELECT id FROM bench_ids WHERE n = :r);' \
        >"$work/byid.pgbench"
    timeout $((duration + 120)) pgbench -n -M prepared -c "$conns" -j 2 -T "$duration" -f "$work/byid.pgbench" "$bench_url" \
        >"$work/pgbench-byid.log" 2>&1 || { cat "$work/pgbench-byid.log" >&2; die "pgbench (document by id) failed"; }
    byid_tps=$(sed -nE 's/^tps = ([0-9.]+) \(without.*/\1/p' "$work/pgbench-byid.log" | awk '{ printf "%.0f", $1 }')
    [[ -n $byid_tps ]] || { cat "$work/pgbench-byid.log" >&2; die "no tps in the pgbench (document by id) output"; }
    note "the document by id through pgbench: $byid_tps tps, latency average $(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$work/pgbench-byid.log") ms"

    say "load: GET /api/v1/facilitators/{id}, wrk -t2 -c$conns -d${duration}s, 1000 random ids"
    get_line=$(run_wrk get "$conns" "$root/bench/random_get.lua" "$work/ids.txt" "$token" id)
    [[ -n $get_line ]] || die "wrk (get) printed no figures"
    get_rps=$(awk -v r="$(field rps "$get_line")" 'BEGIN { printf "%.0f", r }')
    get_p99=$(field p99_ms "$get_line")
    get_bad=$(( $(field errors_status "$get_line") + $(field errors_connect "$get_line") + $(field errors_read "$get_line") + $(field errors_timeout "$get_line") ))
    note "$get_rps req/s, p50 $(field p50_ms "$get_line") ms, p99 $get_p99 ms, $(field requests "$get_line") requests, $get_bad failed"

    # The same load on a request that reads no database (token check from the
    # cache, a small JSON answer): the most any GET could reach here.
    say "load: GET /api/v1/me (no SQL: the request floor), wrk -t2 -c$conns -d${duration}s"
    me_line=$(run_wrk me "$conns" "$root/bench/random_get.lua" "$work/ids.txt" "$token" me)
    [[ -n $me_line ]] || die "wrk (me) printed no figures"
    me_rps=$(awk -v r="$(field rps "$me_line")" 'BEGIN { printf "%.0f", r }')
    note "$me_rps req/s, p99 $(field p99_ms "$me_line") ms: $(ratio "$me_rps" "$pg_tps")x pgbench -S with no query at all"

    say "load: GET /healthz (no authentication, no SQL), wrk -t2 -c$conns -d${duration}s"
    healthz_line=$(run_wrk healthz "$conns" "$root/bench/random_get.lua" "$work/ids.txt" "$token" healthz)
    healthz_rps=$(awk -v r="$(field rps "$healthz_line")" 'BEGIN { printf "%.0f", r }')
    note "$healthz_rps req/s, p99 $(field p99_ms "$healthz_line") ms"

    # The additive bound: a request that costs the floor (everything but the SQL) plus the
    # database's time for the document reaches at best 1 / (1/floor + 1/pgbench).
    bound=$(awk -v f="$me_rps" -v p="$byid_tps" 'BEGIN { printf "%.0f", 1 / (1 / f + 1 / p) }')
    note "additive bound 1/(1/$me_rps + 1/$byid_tps) = $bound req/s; GET by id reached $get_rps ($(ratio "$get_rps" "$bound")x)"


    say "load: GET /api/v1/facilitators?q=...&limit=20, wrk -c$search_conns -d${duration}s, $nq search strings"
    search_line=$(run_wrk search "$search_conns" "$root/bench/random_get.lua" "$queries_file" "$token" search)
    [[ -n $search_line ]] || die "wrk (search) printed no figures"
    search_p95=$(field p95_ms "$search_line")
    search_bad=$(( $(field errors_status "$search_line") + $(field errors_connect "$search_line") + $(field errors_read "$search_line") + $(field errors_timeout "$search_line") ))
    note "$(field rps "$search_line") req/s, p50 $(field p50_ms "$search_line") ms, p95 $search_p95 ms, $(field requests "$search_line") requests, $search_bad failed"

    # The agency boundary's cost: GET by id and a list filtered by the agency's
    # cooperation levels with row-level security on, then off (for the bench only:
    # the owner disables it on every table that has it), twice each, alternating.
    rls_tables=$(psql -At "$bench_url" -c "SELECT string_agg(quote_ident(relname), ' ') FROM pg_class WHERE relrowsecurity AND relnamespace = 'public'::regnamespace")
    rls() {  # on|off
        local sql="" t
        for t in $rls_tables; do sql+="ALTER TABLE $t $([[ $1 == on ]] && echo ENABLE || echo DISABLE) ROW LEVEL SECURITY; "; done
        psql -q -v ON_ERROR_STOP=1 "$bench_url" -c "$sql" >/dev/null || die "could not switch row-level security $1"
    }
    declare -A rls_sum=()
    for round in 1 2; do
        for state in on off; do
            rls "$state"
            say "load (round $round, row-level security $state): GET by id and the cooperation list, wrk -c$conns -d${duration}s"
            line=$(run_wrk "get-rls-$state-$round" "$conns" "$root/bench/random_get.lua" "$work/ids.txt" "$token" id)
            rls_sum[get-$state]=$(awk -v a="${rls_sum[get-$state]:-0}" -v b="$(field rps "$line")" 'BEGIN { print a + b }')
            note "GET by id: $(field rps "$line") req/s, p99 $(field p99_ms "$line") ms"
            line=$(run_wrk "list-rls-$state-$round" "$conns" "$root/bench/random_get.lua" "$work/lists.txt" "$token" list)
            [[ $(field errors_status "$line") == 0 ]] || die "the cooperation list answered errors with row-level security $state"
            rls_sum[list-$state]=$(awk -v a="${rls_sum[list-$state]:-0}" -v b="$(field rps "$line")" 'BEGIN { print a + b }')
            note "cooperation list: $(field rps "$line") req/s, p99 $(field p99_ms "$line") ms"
        done
    done
    rls on
    for k in get-on get-off list-on list-off; do rls_sum[$k]=$(awk -v s="${rls_sum[$k]}" 'BEGIN { printf "%.0f", s / 2 }'); done

    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
    rss_kb=$(python3 "$root/bench/bench_tools.py" rss-max "$work/rss.txt")
    rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    note "server VmRSS max $rss_mb MB over $(wc -l <"$work/rss.txt") samples"

    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$server_pid" 2>/dev/null && { note "server ignored SIGTERM for 10 s; killed"; kill -KILL "$server_pid"; }
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
fi

# ---------------------------------------------------------------- summary
say "summary ($rows suppliers, $csv_mb MB CSV; ceilings measured in this run)"
table="$work/summary.tsv"
: >"$table"
add() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$table"; }
if [[ $ceilings_only == 0 ]]; then
    r=$(ratio "$import_rps" "$copy_rps")
    add "import (rows/s)" "$import_rps" "$copy_rps" "$r" ">= 0.7" "$(verdict "$r" ">=" 0.7)"
    r=$(ratio "$import_rss_mb" 600)
    add "import peak RSS (MB)" "$import_rss_mb" "600" "$r" "< 600 MB" "$(verdict "$import_rss_mb" "<" 600)"
    if [[ $rss_base_rows -gt 0 ]]; then
        r=$(ratio "$import_rss_mb" "$base_rss_mb")
        add "import peak RSS, $rows vs $rss_base_rows rows (MB)" "$import_rss_mb" "$base_rss_mb" "$r" "<= 1.15" "$(verdict "$r" "<=" 1.15)"
    fi
    r=$(ratio "$get_rps" "$bound")
    v=$(verdict "$r" ">=" 0.6); [[ $get_bad == 0 ]] || v="FAIL ($get_bad failed)"
    add "GET by id vs additive bound (req/s)" "$get_rps" "$bound" "$r" ">= 0.6" "$v"
    add "GET by id p99 (ms)" "$get_p99" "-" "-" "< 5 ms" "$(verdict "$get_p99" "<" 5)"
    add "  bound's floor: GET /me (req/s)" "$me_rps" "-" "-" "-" "info"
    add "  bound's SQL: document by id, pgbench (tps)" "$byid_tps" "-" "-" "-" "info"
    add "  GET /healthz (req/s)" "$healthz_rps" "-" "-" "-" "info"
    add "  GET by id vs pgbench -S (req/s)" "$get_rps" "$pg_tps" "$(ratio "$get_rps" "$pg_tps")" "-" "info"
    r=$(ratio "$search_p95" "$sql_p95")
    v=$(verdict "$r" "<=" 1.5); [[ $search_bad == 0 ]] || v="FAIL ($search_bad failed)"
    add "search p95 (ms)" "$search_p95" "$sql_p95" "$r" "<= 1.5" "$v"
    add "search p95 absolute (ms)" "$search_p95" "-" "-" "< 50 ms" "$(verdict "$search_p95" "<" 50)"
    add "search uses trigram index" "$uses_index" "-" "-" "yes" "$([[ $uses_index == yes ]] && echo PASS || echo FAIL)"
    r=$(ratio "${rls_sum[get-on]}" "${rls_sum[get-off]}")
    add "GET by id, RLS on/off (req/s)" "${rls_sum[get-on]}" "${rls_sum[get-off]}" "$r" ">= 0.9" "$(verdict "$r" ">=" 0.9)"
    r=$(ratio "${rls_sum[list-on]}" "${rls_sum[list-off]}")
    add "cooperation list, RLS on/off (req/s)" "${rls_sum[list-on]}" "${rls_sum[list-off]}" "$r" ">= 0.9" "$(verdict "$r" ">=" 0.9)"
    r=$(ratio "$rss_mb" 150)
    add "server RSS max (MB)" "$rss_mb" "150" "$r" "< 150 MB" "$(verdict "$rss_mb" "<" 150)"
else
    add "psql \\copy (rows/s)" "$copy_rps" "-" "-" "-" "ceiling"
    add "pgbench -S (tps)" "$pg_tps" "-" "-" "-" "ceiling"
    add "search SQL p95 (ms)" "$sql_p95" "-" "-" "< 50 ms" "$(verdict "$sql_p95" "<" 50)"
    add "search uses trigram index" "$uses_index" "-" "-" "yes" "$([[ $uses_index == yes ]] && echo PASS || echo FAIL)"
fi
python3 "$root/bench/bench_tools.py" summary "$table"
if [[ $keep == 1 ]]; then
    note "kept: databases barrier_bench and bench_pgbench on $admin_url"
elif [[ $ceilings_only == 0 ]]; then
    note "database barrier_bench stays for a look (DATABASE_URL=$bench_url); the next run replaces it"
fi
exit 0
