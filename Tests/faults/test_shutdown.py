"""SIGTERM with a request in flight: the server stops accepting, finishes the
request (a CSV import that takes seconds), and exits 0."""

from __future__ import annotations

import threading
import time

from harness import Server

ROWS = 20000


def test_sigterm_finishes_the_request_in_flight_and_exits_0(registry, tmp_path):
    server = Server(registry, tmp_path).start()
    token = registry.tokens["officer"]
    csv = "legal_name,sector,stages,country,registration_number\n" + "".join(
        f"Shutdown Import {n:05d} Transport GmbH,courier,shipping,DE,HRB {700000 + n}\n" for n in range(ROWS))
    answer = {}

    def upload():
        started = time.monotonic()
        answer["result"] = server.api("POST", "/api/v1/imports/facilitators", token, raw=csv.encode(),
                                      headers={"Content-Type": "text/csv"}, timeout=300)
        answer["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.5)  # the import is being checked and written now
    assert thread.is_alive(), "the import finished before the signal: make it larger"
    signalled = time.monotonic()
    server.process.send_signal(15)
    time.sleep(0.5)
    # No new connections once the signal is handled.
    try:
        status, _, _ = server.api("GET", "/healthz", timeout=5)
        refused = False
    except OSError:
        refused = True
    exit_code = server.process.wait(timeout=120)
    exited = time.monotonic() - signalled
    thread.join(10)

    status, body, _ = answer["result"]
    assert status in (200, 201), f"the import in flight answered {status}: {body}"
    assert body["created"] == ROWS
    assert refused, "the server still accepted a new connection after SIGTERM"
    assert exit_code == 0, server.log_tail()
    stored = registry.sql("SELECT count(*) FROM facilitators WHERE legal_name LIKE 'Shutdown Import %'")
    assert stored == str(ROWS)
    print(f"\nSIGTERM {0.5:.1f} s into a {ROWS}-row import: the import finished ({answer['seconds']:.1f} s, {ROWS} rows stored), "
          f"new connections refused, exit 0 {exited:.1f} s after the signal")
