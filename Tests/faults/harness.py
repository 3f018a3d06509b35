"""The fault tests' harness: real PostgreSQL clusters and real `barrier serve`
processes that the tests kill, stop, restart and run side by side.

Each test gets clusters of its own (`barrier db start` with BARRIER_CLUSTER set,
under .barrier/), so stopping or killing one never touches the cluster the
other suites use. Registries are made the way an operator makes them: `barrier
migrate`, `barrier agency create`, `barrier user create`, `barrier user token`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("BARRIER_BINARY", ROOT / ".build/debug/barrier"))
PSQL = shutil.which("psql") or "/usr/bin/psql"
PASSWORD = "faults-test-password-1"


def run(args, env=None, check=True, timeout=180):
    result = subprocess.run([str(a) for a in args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def psql(url, sql):
    return run([PSQL, url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tAc", sql]).stdout.strip()


def with_database(url, database, user=None):
    """The same server URL naming another database (and user)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = user + "@" + netloc.split("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, netloc, "/" + database, parts.query, parts.fragment))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    psql(owner, """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_server') THEN
                CREATE ROLE barrier_server LOGIN IN ROLE barrier_app;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        GRANT barrier_app TO barrier_server;
    """)
    registry.cli("agency", "create", "--name", registry.agency, "--country", "NL")
    for role in ("admin", "officer"):
        email = f"{role}@{database}.example"
        registry.emails[role] = email
        registry.cli("user", "create", "--agency", registry.agency, "--email", email, "--name", f"Fault {role.title()}",
                     "--role", role, "--password", PASSWORD)
        registry.tokens[role] = registry.cli("user", "token", "--email", email, "--name", "faults").stdout.strip().split()[-1]
    return registry


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
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"barrier serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"barrier serve did not get ready within {seconds} s:\n{self.log_tail()}")

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
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        if data is not None and raw is None:
            request.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            request.add_header(k, v)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, payload, hdrs = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, payload, hdrs = error.code, error.read(), error.headers
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return status, parsed, hdrs


def supplier(name, **fields):
    """A valid supplier body with a postal and an e-mail address."""
    return {"legal_name": name, "sector": "courier", "stages": ["shipping"], "country": "DE", "street": "Paketweg 1",
            "postal_code": "10115", "city": "Berlin", "email": "compliance@" + "".join(c for c in name.lower() if c.isalnum()) + ".example",
            **fields}
