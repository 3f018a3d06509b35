"""kill -9 of the server in the middle of 1,000 writes from several clients:
every acknowledged write is there afterwards, nothing is half-written, and the
audit chain verifies."""

from __future__ import annotations

import threading
import time

from harness import Server, supplier

WRITES = 1000
CLIENTS = 6
KILL_AFTER = 300  # acknowledged writes before the crash


def test_kill_9_during_writes_loses_no_acknowledged_write(registry, tmp_path):
    server = Server(registry, tmp_path).start()
    token = registry.tokens["officer"]
    lock = threading.Lock()
    next_write = [0]
    acknowledged = {}   # write number -> supplier id
    refused = []        # (write number, status, body) answered with an error other than "down"
    unanswered = []     # write numbers that got no answer (connection refused or reset)
    crashed = threading.Event()
    restarted = threading.Event()

    def client():
        while True:
            with lock:
                n = next_write[0]
                if n >= WRITES:
                    return
                next_write[0] += 1
            try:
                status, body, _ = server.api("POST", "/api/v1/facilitators?create_anyway=true", token,
                                             supplier(f"Crash Test {n:04d} Logistik", registration_number=f"HRB {900000 + n}"),
                                             timeout=20)
            except OSError:
                with lock:
                    unanswered.append(n)
                restarted.wait(60)
                continue
            with lock:
                if status == 201:
                    acknowledged[n] = body["id"]
                else:
                    refused.append((n, status, body))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < KILL_AFTER:
        assert not refused, f"writes refused: {refused[:5]}"
        assert time.monotonic() < deadline, f"only {len(acknowledged)} writes acknowledged in 120 s"
        time.sleep(0.01)
    server.kill9()
    crashed.set()
    acknowledged_before_crash = len(acknowledged)
    server.start()
    restarted.set()
    for t in threads:
        t.join(120)
    server.stop()

    assert not refused, f"writes refused: {refused[:5]}"
    assert len(acknowledged) + len(unanswered) == WRITES
    # Every acknowledged write is there, with its audit event; nothing half-written:
    # each stored supplier of the run (acknowledged or not) has exactly one creation event.
    ids = set(registry.sql("SELECT id FROM facilitators WHERE legal_name LIKE 'Crash Test %'").split())
    missing = set(acknowledged.values()) - ids
    assert not missing, f"{len(missing)} acknowledged writes are gone after kill -9"
    events = registry.sql("""
        SELECT count(*) FILTER (WHERE n <> 1) || ' ' || count(*) FROM (
            SELECT f.id, (SELECT count(*) FROM audit_events e WHERE e.entity_type = 'facilitator' AND e.entity_id = f.id::text
                          AND e.action = 'facilitator.create') AS n
            FROM facilitators f WHERE f.legal_name LIKE 'Crash Test %') x""").split()
    assert events == ["0", str(len(ids))], f"suppliers without exactly one creation event: {events}"
    verify = registry.cli("audit", "verify", check=False, env={"BARRIER_AUDIT_KEY_FILE": str(tmp_path / "audit-signing.key")})
    assert verify.returncode == 0, verify.stderr
    print(f"\nkill -9 after {acknowledged_before_crash} acknowledged writes: {len(acknowledged)} of {WRITES} writes acknowledged "
          f"in all, {len(unanswered)} unanswered, {len(ids)} stored, 0 acknowledged writes lost; {verify.stdout.strip()}")
