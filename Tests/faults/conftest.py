"""Fixtures of the fault tests (see harness.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import os  # noqa: E402
import signal  # noqa: E402

from harness import BINARY, STARTED, Cluster, make_registry  # noqa: E402


@pytest.fixture(autouse=True)
def no_server_left_running():
    """A test that fails half-way leaves its servers running: they are killed here."""
    yield
    while STARTED:
        server = STARTED.pop()
        if server.process.poll() is None:
            try:
                os.killpg(server.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.process.wait(timeout=10)


@pytest.fixture(scope="session")
def cluster():
    """One cluster for the tests that do not stop their database."""
    if not BINARY.exists():
        pytest.exit(f"{BINARY} is missing: build it first (swift build)", returncode=3)
    c = Cluster("faults-postgres")
    c.start()
    yield c
    c.stop()


@pytest.fixture
def registry(cluster):
    return make_registry(cluster.url)
