"""The fault tests' harness: real PostgreSQL clusters and real `barrier serve`
processes that the tests kill, stop, restart and run side by side.

Each test gets clusters of its own (`barrier db start` with BARRIER_CLUSTER set,
under .barrier/), so stopping or killing one never touches the cluster the
other suites use. Registries are made the way an operator makes them: `barrier
migrate`, `barrier agency create`, `barrier user create`, `barrier user token`.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pysupport"))
from processes import PSQL, ROOT, SERVER_LOGIN_SQL, api_call, free_port, psql, run, wait_until_answering, with_database  # noqa: E402,F401

BINARY = Path(os.environ.get("BARRIER_BINARY", ROOT / ".build/debug/barrier"))
PASSWORD = "faults-test-password-1"


class Cluster:
    """An embedded PostgreSQL cluster of its own in .barrier/<name>."""

    def __init__(self, name):
        self.name = name
        self.env = dict(os.environ, BARRIER_CLUSTER=name, BARRIER_CLUSTER_FAST="1")
        self.env.pop("DATABASE_URL", None)
        self.url = None

    def start(self):
        self.url = run([BINARY, "db", "start"], env=self.env).stdout.strip().splitlines()[-1]
        return self.url

    def stop(self):
        run([BINARY, "db", "stop"], env=self.env, check=False)

    @property
    def socket_dir(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)["host"][0]

    @property
    def data_dir(self):
        return self.socket_dir


@dataclass
class Registry:
    """A migrated database with one agency, an administrator and an officer, and their API tokens."""
    owner_url: str
    app_url: str
    agency: str
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def cli(self, *args, check=True, env=None):
        """A `barrier` command as the operator (the owner's connection, no token)."""
        full = dict(os.environ, DATABASE_URL=self.owner_url)
        full.update(env or {})
        full.pop("DATABASE_OWNER_URL", None)
        full.pop("BARRIER_TOKEN", None)
        return run([BINARY, *args], env=full, check=check)

    def sql(self, statement):
        return psql(self.owner_url, statement)


def make_registry(cluster_url, name=None):
    database = name or "faults_" + secrets.token_hex(5)
    psql(cluster_url, f'CREATE DATABASE "{database}"')
    owner = with_database(cluster_url, database)
    registry = Registry(owner_url=owner, app_url=with_database(cluster_url, database, user="barrier_server"),
                        agency=f"Fault Agency {database[-5:]}")
    registry.cli("migrate")
    psql(owner, SERVER_LOGIN_SQL)
    registry.cli("agency", "create", "--name", registry.agency, "--country", "NL")
    for role in ("admin", "officer"):
        email = f"{role}@{database}.example"
        registry.emails[role] = email
        registry.cli("user", "create", "--agency", registry.agency, "--email", email, "--name", f"Fault {role.title()}",
                     "--role", role, "--password", PASSWORD)
        registry.tokens[role] = registry.cli("user", "token", "--email", email, "--name", "faults").stdout.strip().split()[-1]
    return registry


STARTED = []  # every Server started, so a failed test leaves none running (conftest's cleanup)


class Server:
    """`barrier serve` on a free port against a registry; `env` adds variables."""

    def __init__(self, registry, log_dir, env=None, port=None, name="serve"):
        self.registry = registry
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir) / f"{name}-{self.port}.log"
        self.env = dict(os.environ, PORT=str(self.port), HOST="127.0.0.1", DATABASE_URL=registry.app_url,
                        DATABASE_OWNER_URL=registry.owner_url, PDF_WORKERS="1", WORKER_POLL_SECONDS="1",
                        LOG_LEVEL="notice", BARRIER_AUDIT_KEY_FILE=str(Path(log_dir) / "audit-signing.key"))
        self.env.update(env or {})
        self.env.pop("BARRIER_TOKEN", None)
        self.process = None

    def start(self, wait=True):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([str(BINARY), "serve"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        STARTED.append(self)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, seconds=60):
        try:
            wait_until_answering(self.process, self.url, seconds, self.log_tail, path="/readyz")
        except RuntimeError as error:
            raise AssertionError(str(error)) from None

    def kill9(self):
        """SIGKILL to the server and its PDF workers (its process group), as a crash would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout=30):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
            raise AssertionError(f"barrier serve did not stop within {timeout} s of SIGTERM:\n{self.log_tail()}")

    def log_tail(self, lines=40):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method, path, token=None, body=None, headers=None, raw=None, timeout=30):
        """One HTTP call; returns (status, parsed JSON or text, headers). Raises OSError when nothing answers."""
        return api_call(self.url, method, path, token, body, headers, raw, timeout=timeout)


def supplier(name, **fields):
    """A valid supplier body with a postal and an e-mail address."""
    return {"legal_name": name, "sector": "courier", "stages": ["shipping"], "country": "DE", "street": "Paketweg 1",
            "postal_code": "10115", "city": "Berlin", "email": "compliance@" + "".join(c for c in name.lower() if c.isalnum()) + ".example",
            **fields}
