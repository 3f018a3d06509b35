"""PostgreSQL stopped and started again under a running server and load:
/readyz says so, requests fail fast with 503 problem details while it is down,
and service returns within 5 s of its return without restarting the server."""

from __future__ import annotations

import os
import threading
import time

from harness import Cluster, Server, make_registry, supplier

FAIL_FAST = 1.0      # seconds a request may take while the database is down
RECOVERY = 5.0       # seconds from the database's return to the first good answer


def test_database_restart_under_load(tmp_path):
    cluster = Cluster("faults-restart")
    cluster.start()
    try:
        registry = make_registry(cluster.url)
        server = Server(registry, tmp_path, env={"LOG_LEVEL": os.environ.get("BARRIER_FAULTS_LOG_LEVEL", "notice"),
                                                    "SHUTDOWN_GRACE_SECONDS": "5"}).start()
        token = registry.tokens["officer"]
        results = []  # (started, seconds, status, content type, method)
        lock = threading.Lock()
        stop = threading.Event()

        def load(worker):
            n = 0
            while not stop.is_set():
                n += 1
                if n % 2:
                    method, path, body = "GET", "/api/v1/facilitators?limit=5", None
                else:
                    method, path, body = "POST", "/api/v1/facilitators?create_anyway=true", \
                        supplier(f"Restart {worker}-{n} Logistik", registration_number=f"HRB {worker}{n:06d}")
                started = time.monotonic()
                try:
                    status, _, headers = server.api(method, path, token, body, timeout=10)
                    kind = headers.get("Content-Type", "")
                except OSError as error:
                    status, kind = 0, repr(error)
                with lock:
                    results.append((started, time.monotonic() - started, status, kind, method))
                time.sleep(0.02)

        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        pid = server.process.pid

        stopping_at = time.monotonic()
        cluster.stop()
        down_at = time.monotonic()
        time.sleep(0.5)
        t0 = time.monotonic()
        ready_status, ready_body, _ = server.api("GET", "/readyz")
        ready_seconds = time.monotonic() - t0
        time.sleep(3)

        cluster.start()
        up_at = time.monotonic()
        back_at = None
        while time.monotonic() - up_at < 30:
            status, _, _ = server.api("GET", "/api/v1/facilitators?limit=1", token)
            if status == 200:
                back_at = time.monotonic()
                break
            time.sleep(0.05)
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(60)
        ready_after, _, _ = server.api("GET", "/readyz")
        assert server.process.poll() is None and server.process.pid == pid, "the server restarted or died"
        # A request whose statement was running when PostgreSQL terminated its backend can go
        # unanswered: postgres-nio 1.33.2 drops that statement's promise (see the README). Every
        # request sent once the outage is known is answered.
        unanswered = [(round(r[0] - down_at, 2), r[4], r[3]) for r in results if r[2] == 0]
        unanswered_later = [u for u in unanswered if u[0] >= 0]
        assert not unanswered_later, f"requests sent while the database was down got no answer: {unanswered_later[:5]}"

        t0 = time.monotonic()
        exit_code = server.stop(timeout=20)
        stop_seconds = time.monotonic() - t0

        during = [r for r in results if down_at <= r[0] and r[0] + r[1] <= up_at]
        slow = [r for r in during if r[1] > FAIL_FAST]
        not_problem = [r for r in during if r[2] != 503 or "application/problem+json" not in r[3]]
        before = [r for r in results if r[0] + r[1] < stopping_at]
        assert ready_status == 503 and ready_seconds < FAIL_FAST, f"/readyz answered {ready_status} after {ready_seconds:.2f} s: {ready_body}"
        assert len(during) >= 20, f"only {len(during)} requests ran while the database was down"
        assert not slow, f"{len(slow)} of {len(during)} requests took longer than {FAIL_FAST} s while the database was down: {slow[:3]}"
        assert not not_problem, f"answers other than 503 problem details while down: {not_problem[:3]}"
        assert all(r[2] in (200, 201) for r in before), f"errors before the outage: {[r for r in before if r[2] not in (200, 201)][:3]}"
        assert back_at is not None and back_at - up_at < RECOVERY, \
            f"service came back {None if back_at is None else round(back_at - up_at, 2)} s after the database"
        assert ready_after == 200
        # SIGTERM: a clean exit, unless a request stayed stuck; then the watchdog ends the process after the grace period.
        assert exit_code == (1 if unanswered else 0), server.log_tail()
        print(f"\ndatabase down {up_at - down_at:.1f} s: {len(during)} requests answered 503 problem details, slowest "
              f"{max(r[1] for r in during) * 1000:.0f} ms; /readyz 503 in {ready_seconds * 1000:.0f} ms; service back "
              f"{back_at - up_at:.2f} s after the database's return, same server process; {len(unanswered)} request(s) in flight at the "
              f"outage unanswered; SIGTERM to exit {stop_seconds:.1f} s")
    finally:
        cluster.stop()
