# Set-up shared by the benchmarks that run on a generated registry
# (bench/reports.sh, bench/pages.sh). Sourced; the caller defines say, note and
# die, and sets root, out, work, barrier, reuse and keep.

# bench_database NAME: starts the embedded cluster and sets admin_url and
# bench_url (the database NAME, exported as DATABASE_URL). With reuse=1 and
# NAME present, migrates it and sets bench_fresh=0; else creates NAME afresh,
# migrates it and creates its agency, and sets bench_fresh=1.
bench_database() {
    local name=$1 exists
    unset DATABASE_URL
    timeout 60 "$barrier" db start </dev/null >"$work/db-start.out" 2>>"$work/db-start.log" ||
        { cat "$work/db-start.log" >&2; die "barrier db start failed"; }
    admin_url=$(tail -n1 "$work/db-start.out")
    [[ $admin_url == postgres* ]] || die "barrier db start printed '$admin_url', not a URL"
    bench_url=$(sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/$name#" <<<"$admin_url")
    export DATABASE_URL=$bench_url
    exists=$(psql -XAtq "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")
    if [[ $reuse == 1 && $exists == 1 ]]; then
        note "reusing $bench_url"
        bench_fresh=0
        timeout 300 "$barrier" migrate </dev/null >/dev/null 2>&1 || die "barrier migrate failed"
        return
    fi
    bench_fresh=1
    psql -q -v ON_ERROR_STOP=1 "$admin_url" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" \
        -c "CREATE DATABASE $name" >/dev/null || die "could not create $name"
    timeout 300 "$barrier" migrate </dev/null >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; die "barrier migrate failed"; }
    timeout 60 "$barrier" agency create --name "Bench Agency" --country NL </dev/null >/dev/null || die "barrier agency create failed"
}

# bench_cleanup NAME (the EXIT trap): stops the server if one was started, drops
# the database NAME unless keep=1, removes $work, and exits with the status.
server_pid=""
bench_cleanup() {
    local status=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ $keep == 0 && -n ${admin_url:-} ]]; then
        psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit "$status"
}

# bench_registry ROWS SEED: imports ROWS generated suppliers (the CSV is made
# once per size, seed and generator version, and kept in $out).
bench_registry() {
    local rows=$1 seed=$2 gen_hash csv_file venv t0
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
    t0=$EPOCHREALTIME
    timeout 1800 "$barrier" import facilitators "$csv_file" </dev/null >"$work/import.log" 2>&1 || { tail -n5 "$work/import.log" >&2; die "import failed"; }
    note "imported $rows suppliers in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

# bench_serve PORT ROLE: a user of ROLE in the first agency (sets email,
# password and token), then `barrier serve` on PORT as barrier_server, a member
# of barrier_app that row-level security binds (sets server_pid); waits until ready.
bench_serve() {
    local port=$1 role=$2 agency serve_url
    password=$(openssl rand -hex 16)
    agency=$(psql -XAtq "$bench_url" -c "SELECT id FROM agencies ORDER BY created_at LIMIT 1")
    email="bench-$role-$(date +%s)@bench.example"
    timeout 60 "$barrier" user create --agency "$agency" --email "$email" --name "Bench ${role^}" --role "$role" --password "$password" \
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
}
