"""What the Python harnesses share (Tests/browser, Tests/faults, Tests/fuzz):
running the project's programs and psql, naming another database on the same
PostgreSQL server, and finding a free port."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PSQL = shutil.which("psql") or "/usr/bin/psql"


def run(args, env=None, check=True, timeout=300):
    """Runs a program from the checkout; with `check`, a non-zero exit raises with its output."""
    result = subprocess.run([str(a) for a in args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def psql(url, sql):
    """One statement through psql; its rows as unaligned text."""
    return run([PSQL, url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tAc", sql]).stdout.strip()


def with_database(url, database, user=None):
    """The same server URL naming another database (and user)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = user + "@" + netloc.split("@", 1)[-1] if "@" in netloc else user + "@" + netloc
    return urllib.parse.urlunsplit((parts.scheme, netloc, "/" + database, parts.query, parts.fragment))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_call(base_url, method, path, token=None, body=None, headers=None, raw=None,
             content_type="application/json", timeout=30):
    """One HTTP call; returns (status, parsed JSON or text, headers). Raises OSError when nothing answers."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base_url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if data is not None and "Content-Type" not in (headers or {}):
        request.add_header("Content-Type", content_type)
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


# The server's login role (roles are the cluster's, so another run may have made it already).
SERVER_LOGIN_SQL = """
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_server') THEN
            CREATE ROLE barrier_server LOGIN IN ROLE barrier_app;
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$;
    GRANT barrier_app TO barrier_server;
"""


def wait_until_answering(process, url, seconds, log_tail, path="/healthz"):
    """Waits until `url + path` answers 200; raises RuntimeError if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"barrier serve exited with {process.returncode}:\n{log_tail()}")
        try:
            with urllib.request.urlopen(url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"barrier serve did not answer {path} within {seconds} s:\n{log_tail()}")
        time.sleep(0.1)


def grant_test_powers(base_url, admin_token):
    """Stores a version of the agency's procedure profile that gives it every restrictive
    power under a test licensing act (the shipped profiles give none), as an admin would
    once the agency's lawyer has confirmed its powers. Returns the new version."""
    status, current, headers = api_call(base_url, "GET", "/api/v1/agency/procedure-profile", admin_token)
    if status != 200:
        raise RuntimeError(f"GET procedure-profile answered {status}: {current}")
    profile = current["profile"]
    remedy = next((k for k in ("bezwaar", "widerspruch", "recours_contentieux", "annulation", "objection")
                   if k in profile["remedies"]), sorted(profile["remedies"])[0])
    every = lambda en, fr, nl, de: {"en": en, "fr": fr, "nl": nl, "de": de}
    for action_type in ("conditions", "fine", "suspension", "revocation"):
        profile["actions"][action_type] = {
            "legal_basis": every("Article 12 of the Test Licensing Act.", "Article 12 de la loi test sur les licences.",
                                 "Artikel 12 van de Testvergunningenwet.", "Artikel 12 des Testlizenzgesetzes."),
            "competence": every("The Test Licensing Act empowers us to take this measure.",
                                "La loi test nous habilite à prendre cette mesure.",
                                "De Testvergunningenwet geeft ons de bevoegdheid deze maatregel te nemen.",
                                "Das Testlizenzgesetz ermächtigt uns zu dieser Maßnahme."),
            "suspensive_effect": True,
            "effect": every("Lodging the remedy suspends this decision.", "Le recours suspend cette décision.",
                            "Het rechtsmiddel schorst dit besluit.", "Der Rechtsbehelf hat aufschiebende Wirkung."),
            "remedy": remedy, "source": "Test Licensing Act, art. 12 (test fixture)"}
    profile["fine_payment"] = {"beneficiary": "Test Inspectorate", "iban": "NL91 ABNA 0417 1643 00", "bic": "ABNANL2A", "days": 30}
    status, stored, _ = api_call(base_url, "PUT", "/api/v1/agency/procedure-profile", admin_token,
                                 {"profile": profile, "reason": "test fixture: the powers of the Test Licensing Act"},
                                 {"If-Match": headers.get("ETag")})
    if status != 200:
        raise RuntimeError(f"PUT procedure-profile answered {status}: {stored}")
    return stored["version"]
