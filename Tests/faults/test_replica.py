"""Reports from a streaming replica: a standby made with `pg_basebackup -R`
serves DATABASE_READ_URL while every write goes to the primary."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

from harness import Cluster, Server, make_registry, psql, run, supplier, with_database


def pg_binary(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name)


def as_postgres(args):
    """PostgreSQL refuses to run as root: as root, its programs run as the postgres user (as the embedded cluster does)."""
    return (["/usr/sbin/runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + [str(a) for a in args]


def test_reports_are_served_from_a_streaming_replica(tmp_path):
    primary = Cluster("faults-primary")
    primary.start()
    standby = Path(primary.socket_dir).parent / "faults-standby"
    # A hot standby needs at least the primary's max_connections (the fast test cluster runs with 1000).
    options = f"-k {standby} -c listen_addresses='' -c hot_standby=on -c max_connections=1000 -c fsync=off"
    try:
        registry = make_registry(primary.url)
        if standby.exists():
            subprocess.run(as_postgres([pg_binary("pg_ctl"), "-D", standby, "-m", "immediate", "stop"]), capture_output=True)
            shutil.rmtree(standby)
        standby.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(standby, "postgres", "postgres")
        run(as_postgres([pg_binary("pg_basebackup"), "-D", standby, "-R", "-X", "stream", "--checkpoint=fast", "-h", primary.socket_dir, "-U", "barrier"]))
        # The embedded cluster keeps its socket in its data folder: the copy took the primary's socket lock file along.
        (standby / ".s.PGSQL.5432.lock").unlink(missing_ok=True)
        started = subprocess.run(as_postgres([pg_binary("pg_ctl"), "-D", standby, "-l", standby / "standby.log", "-w", "-t", "60",
                                              "-o", options, "start"]), capture_output=True, text=True)
        assert started.returncode == 0, (standby / "standby.log").read_text(errors="replace")[-2000:]
        database = urllib.parse.urlsplit(registry.owner_url).path.lstrip("/")
        standby_url = f"postgresql://barrier@/{database}?host={standby}"
        assert psql(standby_url, "SELECT pg_is_in_recovery()") == "t"

        server = Server(registry, tmp_path, env={"DATABASE_READ_URL": with_database(standby_url, database, user="barrier_server")}).start()
        token = registry.tokens["officer"]
        for n in range(5):
            status, body, _ = server.api("POST", "/api/v1/facilitators?create_anyway=true", token,
                                         supplier(f"Replica Test {n} Paket", registration_number=f"HRB {300000 + n}"))
            assert status == 201, body
        # The writes reach the standby by replication.
        deadline = time.monotonic() + 10
        while psql(standby_url, "SELECT count(*) FROM facilitators WHERE legal_name LIKE 'Replica Test %'") != "5":
            assert time.monotonic() < deadline, "the standby did not replay the writes within 10 s"
            time.sleep(0.1)

        status, report, _ = server.api("GET", "/api/v1/reports/cooperation?by=sector", token)
        assert status == 200, report
        # The report was read on the standby: the server holds connections there as its own role.
        on_standby = psql(standby_url, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'barrier_server'")
        assert int(on_standby) >= 1

        # With the standby stopped, reports answer 503 at once while writes still go to the primary.
        run(as_postgres([pg_binary("pg_ctl"), "-D", standby, "-w", "-t", "60", "-m", "fast", "stop"]))
        time.sleep(1)
        t0 = time.monotonic()
        status, problem, headers = server.api("GET", "/api/v1/reports/cooperation?by=sector", token)
        report_seconds = time.monotonic() - t0
        assert status == 503 and "problem+json" in headers.get("Content-Type", ""), (status, problem)
        assert report_seconds < 1.0
        status, body, _ = server.api("POST", "/api/v1/facilitators?create_anyway=true", token,
                                     supplier("Replica Test 9 Paket", registration_number="HRB 300009"))
        assert status == 201, body
        ready, _, _ = server.api("GET", "/readyz")
        assert ready == 503
        assert server.stop() == 0
        print(f"\nstandby by pg_basebackup -R: 5 writes replayed, the report read there ({on_standby} server connection(s) on the "
              f"standby); standby stopped: reports 503 in {report_seconds * 1000:.0f} ms, writes still 201 on the primary")
    finally:
        subprocess.run(as_postgres([pg_binary("pg_ctl"), "-D", standby, "-m", "immediate", "stop"]), capture_output=True)
        primary.stop()
        shutil.rmtree(standby, ignore_errors=True)
