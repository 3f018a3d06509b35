#!/usr/bin/env python3
"""API fuzzing: schemathesis against the real server and its /openapi.yaml.

Starts `.build/debug/barrier serve --port <free port>` against a fresh database
in the test cluster (BARRIER_TEST_DATABASE_URL, a superuser URL), the way
Tests/browser/conftest.py does: migrations as the owner, the server as
`barrier_server`, a member of `barrier_app`, so row-level security binds it.
An agency, an admin and an API token are made with the CLI; suppliers,
letters in every state, a campaign, signals with an attachment and a share,
cooperation, contacts, a measure commitment, a licensing action and an action
plan are seeded through the API, so that the operations that take an id hit
real records (schemathesis picks a seeded id for most cases and generates one
for the rest).

Then `st run` checks every operation with exactly these checks:
not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance and negative_data_rejection; it prints the cases
run per operation, the total and the failures, and exits non-zero on any
failure (or when fewer than --min-cases cases were run). The server is stopped
and the database dropped at the end.

    .barrier/test-venv/bin/python Tests/fuzz/run_fuzz.py [--max-examples N] [--seed N]
        [--serve]   (set up and seed, print the URL and token, and wait: for debugging)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pysupport"))
from processes import PSQL, ROOT, SERVER_LOGIN_SQL, api_call, grant_test_powers, free_port, psql, run, wait_until_answering, with_database  # noqa: E402,F401

BINARY = Path(os.environ.get("BARRIER_BINARY", ROOT / ".build/debug/barrier"))
ST = Path(sys.executable).with_name("st")
PASSWORD = "fuzz-test-password-1"
REJECTION_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection"]


def say(message):
    print(f"fuzz: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The database and the server (as Tests/browser/conftest.py)
# --------------------------------------------------------------------------

def stable_binary(workdir):
    """A copy of the binary in `workdir`, so that a rebuild during the run does not pull it away."""
    deadline = time.monotonic() + 300
    while True:
        try:
            before = BINARY.stat()
            time.sleep(1)
            if BINARY.stat().st_mtime == before.st_mtime and BINARY.stat().st_size == before.st_size:
                copy = Path(workdir) / "barrier"
                shutil.copy2(BINARY, copy)
                if subprocess.run([str(copy), "--help"], capture_output=True, timeout=60).returncode == 0:
                    return copy
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{BINARY} did not settle (a build is running?)")
        time.sleep(5)


class Server:
    """`barrier serve` on a free port against a fresh database; `close()` stops it and drops the database."""

    def __init__(self, cluster_url, workdir):
        self.binary = stable_binary(workdir)
        self.cluster_url = cluster_url
        self.database = "fuzz_" + secrets.token_hex(6)
        self.owner_url = with_database(cluster_url, self.database)
        self.app_url = with_database(cluster_url, self.database, user="barrier_server")
        self.log_path = Path(workdir) / "serve.log"
        self.process = None
        self.url = ""
        self.created = False

    def cli(self, *args):
        """A `barrier` command as the operator (the owner's connection, no token)."""
        env = dict(os.environ, DATABASE_URL=self.owner_url)
        env.pop("DATABASE_OWNER_URL", None)
        env.pop("BARRIER_TOKEN", None)
        return run([self.binary, *args], env=env)

    def start(self):
        psql(self.cluster_url, f'CREATE DATABASE "{self.database}"')
        self.created = True
        self.cli("migrate")
        psql(self.owner_url, SERVER_LOGIN_SQL)
        port = free_port()
        env = dict(os.environ, HOST="127.0.0.1", DATABASE_URL=self.app_url, DATABASE_OWNER_URL=self.owner_url,
                   PDF_WORKERS="1", LOG_LEVEL=os.environ.get("BARRIER_FUZZ_LOG_LEVEL", "warning"))
        env.pop("BARRIER_TOKEN", None)
        env.pop("PORT", None)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([str(self.binary), "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        wait_until_answering(self.process, self.url, 60, self.log_tail)
        if "row-level security does not keep the agencies apart" in self.log_path.read_text(errors="replace"):
            raise RuntimeError(f"the server does not run as a role bound by row-level security:\n{self.log_tail()}")

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.created:
            run([PSQL, self.cluster_url, "-X", "-q", "-c", f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'],
                check=False)

    def log_tail(self, lines=40):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Client:
    """JSON API calls with one token."""

    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, headers=None, raw=None, content_type="application/json"):
        return api_call(self.url, method, path, self.token, body, headers, raw, content_type=content_type, timeout=60)

    def expect(self, expected, method, path, body=None, headers=None, **kw):
        status, parsed, hdrs = self.call(method, path, body, headers, **kw)
        if status not in (expected if isinstance(expected, tuple) else (expected,)):
            raise RuntimeError(f"seeding: {method} {path} answered {status} (expected {expected}): {parsed}")
        return parsed, hdrs


# --------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------

def items(parsed):
    """The list of a list answer (`{"items": [...]}` or a bare list)."""
    if isinstance(parsed, list):
        return parsed
    return next(v for v in parsed.values() if isinstance(v, list))


def seed(server):
    """Real records for the operations that take an id; returns {name: value}."""
    suffix = server.database[-6:]
    agency, other = f"Fuzz Agency {suffix}", f"Fuzz Partner Agency {suffix}"
    server.cli("agency", "create", "--name", agency, "--country", "NL")
    server.cli("agency", "create", "--name", other, "--country", "BE")
    users = {"admin": ("admin", f"admin.{suffix}@fuzz.example"), "officer": ("officer", f"officer.{suffix}@fuzz.example")}
    for key, (role, email) in users.items():
        server.cli("user", "create", "--agency", agency, "--email", email, "--name", f"Fuzz {key.title()}",
                   "--role", role, "--password", PASSWORD)
    tokens = {key: server.cli("user", "token", "--email", email, "--name", "fuzz").stdout.strip().split()[-1]
              for key, (_, email) in users.items()}
    admin, officer = Client(server.url, tokens["admin"]), Client(server.url, tokens["officer"])
    today = date.today()
    ids = {"token": tokens["admin"], "agency_name": agency}

    def supplier(name, **fields):
        body = {"legal_name": name, "sector": "courier", "stages": ["shipping"], "country": "NL",
                "street": "Kade 1", "postal_code": "1011 AA", "city": "Amsterdam",
                "email": "compliance@" + name.lower().replace(" ", "-") + ".example", **fields}
        created, _ = admin.expect(201, "POST", "/api/v1/facilitators?create_anyway=true", body)
        return created

    main = supplier(f"Fuzz Parcels {suffix}", registration_number=f"KVK{suffix}")
    duplicate = supplier(f"Fuzz Parcels {suffix} BV")
    spare = supplier(f"Fuzz Hosting {suffix}", sector="hosting_provider", stages=["running_marketplace"])
    ids["facilitators"] = [main["id"], duplicate["id"], spare["id"]]

    def letter(facilitator_id, kind="inform_call_to_action", **fields):
        created, hdrs = admin.expect(201, "POST", "/api/v1/letters",
                                     {"facilitator_id": facilitator_id, "kind": kind, "language": "en", **fields})
        return created, hdrs["ETag"]

    def step(path, etag, body=None, expected=200, client=admin):
        parsed, hdrs = client.expect(expected, "POST", path, body, headers={"If-Match": etag})
        return parsed, hdrs.get("ETag")

    draft, _ = letter(main["id"])
    approved, etag = letter(main["id"])
    approved, etag = step(f"/api/v1/letters/{approved['id']}/approve", etag)
    sent, etag = letter(spare["id"])
    sent, etag = step(f"/api/v1/letters/{sent['id']}/approve", etag)
    sent, etag = step(f"/api/v1/letters/{sent['id']}/send", etag, {"method": "hand", "on": today.isoformat()})
    # The notice that reached the main supplier: sent, delivered and answered with a document.
    answered, etag = letter(main["id"])
    answered, etag = step(f"/api/v1/letters/{answered['id']}/approve", etag)
    answered, etag = step(f"/api/v1/letters/{answered['id']}/send", etag,
                          {"method": "registered_post", "on": today.isoformat(), "tracking_number": "RR123456789NL"})
    answered, etag = step(f"/api/v1/letters/{answered['id']}/delivered", etag, {"on": today.isoformat()})
    document = {"name": "answer.txt", "content_type": "text/plain",
                "content_base64": base64.b64encode(b"We will train our depot staff.\n").decode()}
    answered, etag = step(f"/api/v1/letters/{answered['id']}/responded", etag,
                          {"on": today.isoformat(), "channel": "letter", "summary": "Will train staff.", "document": document})
    ids["letters"] = [draft["id"], approved["id"], sent["id"], answered["id"]]

    campaign, hdrs = admin.expect(201, "POST", "/api/v1/campaigns",
                                  {"name": f"Fuzz couriers {suffix}", "filter": {"sector": "courier", "country": "NL"}})
    draft_campaign, _ = admin.expect(201, "POST", "/api/v1/campaigns",
                                     {"name": f"Fuzz hosting {suffix}", "filter": {"sector": "hosting_provider"}})
    step(f"/api/v1/campaigns/{campaign['id']}/approve", hdrs["ETag"], expected=202)
    ids["campaigns"] = [campaign["id"], draft_campaign["id"]]

    contact, _ = admin.expect(201, "POST", f"/api/v1/facilitators/{main['id']}/contacts",
                              {"kind": "meeting", "occurred_on": today.isoformat(), "participants": ["Compliance officer"],
                               "notes": "Agreed on training."})
    cooperation, hdrs = admin.expect(200, "GET", f"/api/v1/facilitators/{main['id']}/cooperation")
    step(f"/api/v1/facilitators/{main['id']}/cooperation", hdrs["ETag"],
         {"level": "engaged", "reason": "Met the compliance officer.", "contact_id": contact["id"]}, expected=(200, 201))
    measures, _ = admin.expect(200, "GET", "/api/v1/measures?sector=courier")
    measure_code = items(measures)[0]["code"]
    commitment, _ = admin.expect(201, "POST", f"/api/v1/facilitators/{main['id']}/measures",
                                 {"measure": measure_code, "committed_on": today.isoformat(),
                                  "due_on": (today + timedelta(days=90)).isoformat()})
    ids["commitments"] = [commitment["id"]]

    observed = today.isoformat()
    signal_body = {"type": "logistical", "stage": "shipping", "indicator_text": "Frequent consignments to one locker",
                   "observed_on": observed, "source": "Customs", "reporter": "Fuzz officer",
                   "description": "Many parcels.", "facilitator_ids": [main["id"]]}
    sig, hdrs = admin.expect(201, "POST", "/api/v1/signals", signal_body)
    sig2, _ = admin.expect(201, "POST", "/api/v1/signals", {**signal_body, "facilitator_ids": [spare["id"]]})
    attachment = {"name": "photo.txt", "content_type": "text/plain",
                  "content_base64": base64.b64encode(b"evidence\n").decode()}
    attached, _ = admin.expect(201, "POST", f"/api/v1/signals/{sig['id']}/attachments", attachment)
    share, _ = admin.expect(201, "POST", f"/api/v1/signals/{sig2['id']}/shares",
                            {"agency": other, "legal_basis": "Art. 5 cooperation agreement"})
    ids["signals"] = [sig["id"], sig2["id"]]
    ids["attached_signals"], ids["shared_signals"] = [sig["id"]], [sig2["id"]]
    ids["attachments"] = [attached["attachments"][-1]["id"] if "attachments" in attached else attached["id"]]
    ids["shares"] = [share["id"]]

    grant_test_powers(server.url, tokens["admin"])
    action, _ = admin.expect(201, "POST", "/api/v1/licensing-actions",
                             {"facilitator_id": main["id"], "type": "warning", "legal_basis": "Art. 3 Opium Act",
                              "rationale": "Keeps shipping after the letter.", "signal_ids": [sig["id"]]})
    restrictive, _ = admin.expect(201, "POST", "/api/v1/licensing-actions",
                                  {"facilitator_id": main["id"], "type": "fine", "legal_basis": "Art. 4 Opium Act",
                                   "rationale": "Keeps shipping after the warning.", "amount_minor": 500000,
                                   "currency": "EUR", "signal_ids": [sig["id"]], "ladder_justification": "Repeated."})
    ids["actions"] = [action["id"], restrictive["id"]]

    plan, _ = admin.expect(201, "POST", "/api/v1/action-plans", {
        "title": f"Fuzz plan {suffix}", "description": "Cut the use of parcel lockers.",
        "coordinating_agency": agency, "starts_on": f"{today.year}-01-01", "ends_on": f"{today.year}-12-31",
        "evaluation_dates": [f"{today.year}-06-30"], "objectives": ["Inform every parcel service"],
        "measures": [{"description": "Send the first letters", "objective": 0, "responsible": "Officer",
                      "due_on": f"{today.year}-03-31"}],
        "indicators": [{"name": "Parcel services informed", "metric": "manual", "target": 10, "baseline": 0,
                        "objective": 0}]})
    ids["plans"] = [plan["id"]]
    ids["positions"] = [0]
    ids["report_tables"] = ["levels", "monthly", "by_sector", "by_campaign", "fines", "cells"]
    templates, _ = admin.expect(200, "GET", "/api/v1/letter-templates")
    keys = sorted({".".join(p for p in (t["kind"], t["sector_group"], t["language"]) if p) for t in items(templates)})
    ids["template_keys"] = [k for k in keys if k.endswith(".en")][:8] + ["reminder.fr"]
    del officer
    return ids


# --------------------------------------------------------------------------
# Schemathesis
# --------------------------------------------------------------------------

def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


# (path regex, {parameter: dictionary}): the seeded ids the operations use. For
# each operation the first entry that matches applies, so the longer paths come first.
BINDINGS = [
    (r"^/api/v1/signals/\{id\}/attachments/\{attachment\}$", {"path.id": "attached_signals", "path.attachment": "attachments"}),
    (r"^/api/v1/signals/\{id\}/shares/\{share\}", {"path.id": "shared_signals", "path.share": "shares"}),
    (r"^/api/v1/action-plans/\{id\}/(indicators|measures)/\{position\}", {"path.id": "plans", "path.position": "positions"}),
    (r"^/api/v1/reports/\{report\}/\{table\}", {"path.table": "report_tables"}),
    (r"^/api/v1/facilitators/\{id\}/merge$", {"path.id": "facilitators", "body.duplicate_id": "facilitators"}),
    (r"^/api/v1/facilitators/\{id\}", {"path.id": "facilitators"}),
    (r"^/api/v1/letters$", {"query.facilitator_id": "facilitators", "body.facilitator_id": "facilitators"}),
    (r"^/api/v1/letters/\{id\}", {"path.id": "letters"}),
    (r"^/api/v1/campaigns/\{id\}", {"path.id": "campaigns"}),
    (r"^/api/v1/measure-commitments/\{id\}", {"path.id": "commitments"}),
    (r"^/api/v1/signals$", {"query.facilitator_id": "facilitators"}),
    (r"^/api/v1/signals/\{id\}", {"path.id": "signals"}),
    (r"^/api/v1/licensing-actions$", {"query.facilitator_id": "facilitators", "body.facilitator_id": "facilitators"}),
    (r"^/api/v1/licensing-actions/\{id\}", {"path.id": "actions"}),
    (r"^/api/v1/action-plans/\{id\}", {"path.id": "plans"}),
    (r"^/api/v1/letter-templates/\{key\}", {"path.key": "template_keys"}),
]


def write_config(path, ids, args):
    dictionaries = sorted({name for _, bound in BINDINGS for name in bound.values()})
    lines = ["# Written by Tests/fuzz/run_fuzz.py for one run.", "", "[dictionaries]"]
    lines += [f"{name} = {{ values = {toml_value(ids[name])} }}" for name in dictionaries]
    lines += ["", "[generation]", f"max-examples = {args.max_examples}", "",
              "[checks]", "enabled = false", *[f"{check}.enabled = true" for check in CHECKS],
              # schemathesis's own list plus 413: a body past the endpoint's byte limit (a
              # string far over its maxLength, sent escaped) is refused before it is read,
              # which is a rejection of invalid data like any 4xx it lists.
              f"negative_data_rejection.expected-statuses = {toml_value(REJECTION_STATUSES)}", "",
              # Error feedback rewrites the document from the server's 422 messages: a field
              # the server calls "required" for one type of record only (`conditions` for
              # type conditions, `amount_minor` for a fine) becomes required for every
              # type, and a valid request then counts as invalid data that was accepted.
              # The document is the contract the checks judge, so it is used as written.
              "[phases.fuzzing.error-feedback]", "enabled = false", ""]
    for regex, bound in BINDINGS:
        # A seeded record most of the time, a generated value otherwise.
        entries = ", ".join(f"{toml_value(parameter)} = {{ dictionary = {toml_value(name)}, "
                            f"probability = {args.real_id_share} }}" for parameter, name in bound.items())
        lines += ["[[operations]]", f"include-path-regex = {toml_value(regex)}", f"parameters = {{ {entries} }}", ""]
    Path(path).write_text("\n".join(lines))


def run_schemathesis(server, ids, args, workdir):
    config = Path(workdir) / "schemathesis.toml"
    write_config(config, ids, args)
    report = Path(workdir) / "report"
    schema = str(Path(args.schema).resolve()) if args.schema else f"{server.url}/openapi.yaml"
    command = [ST, "--config-file", config, "run", schema,
               "--url", server.url,
               "--checks", ",".join(CHECKS),
               "--phases", args.phases,
               "--workers", str(args.workers),
               "--header", f"Authorization: Bearer {ids['token']}",
               "--max-examples", str(args.max_examples),
               "--request-timeout", "60",
               "--generation-database", "none",
               "--report", "ndjson", "--report-dir", report,
               "--no-color"]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.max_failures:
        command += ["--max-failures", str(args.max_failures)]
    command += args.extra
    say("running " + " ".join(str(c) if "Authorization" not in str(c) else "'Authorization: Bearer …'" for c in command))
    started = time.monotonic()
    result = subprocess.run([str(c) for c in command], cwd=workdir)
    elapsed = time.monotonic() - started
    return result.returncode, report, elapsed


def summarise(report_dir):
    """Cases per operation and failures, from the ndjson events."""
    cases, failures, errors, operations = Counter(), [], [], set()
    for path in Path(report_dir).glob("*.ndjson"):
        for line in path.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            for kind, body in event.items():
                if not isinstance(body, dict):
                    continue
                if kind == "ScenarioFinished":
                    label = body.get("label") or (body.get("recorder") or {}).get("label")
                    recorder = body.get("recorder") or {}
                    count = len(recorder.get("cases") or {})
                    if label:
                        cases[label] += count
                        operations.add(label)
                    for check_list in (recorder.get("checks") or {}).values():
                        for check in check_list:
                            if check.get("status") == "failure":
                                failures.append((label, check.get("name"), (check.get("failure_info") or {})))
                elif kind == "NonFatalError":
                    errors.append(body.get("label") or body.get("info"))
    return cases, failures, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("BARRIER_FUZZ_MAX_EXAMPLES", "50")),
                        help="most cases per operation of the fuzzing phase (default 50; the coverage phase adds its own)")
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--real-id-share", type=float, default=0.8,
                        help="share of the cases that use a seeded id in the path (default 0.8)")
    parser.add_argument("--min-cases", type=int, default=2000, help="fail when fewer cases were run (default 2000)")
    parser.add_argument("--max-failures", type=int, default=None)
    parser.add_argument("--schema", default=None,
                        help="the document to test against (default: the server's /openapi.yaml; a path for trying edits without a rebuild)")
    parser.add_argument("--serve", action="store_true", help="set up, seed, print the URL and token, and wait")
    parser.add_argument("extra", nargs="*", help="more `st run` arguments (after --)")
    args = parser.parse_args()

    cluster_url = os.environ.get("BARRIER_TEST_DATABASE_URL")
    if not cluster_url:
        say("BARRIER_TEST_DATABASE_URL (a superuser URL of the test cluster) is not set")
        return 2
    if not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        say(f"{BINARY} is missing: build it first (swift build)")
        return 2
    if not ST.exists():
        say(f"{ST} is missing: pip install -r Tests/fuzz/requirements.txt into this venv")
        return 2

    def stop(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    workdir = tempfile.mkdtemp(prefix="barrier-fuzz-")
    started = time.monotonic()
    server, ok = None, False
    try:
        server = Server(cluster_url, workdir)
        server.start()
        ids = seed(server)
        say(f"server {server.url}, database {server.database}, seeded in {time.monotonic() - started:.0f} s")
        if args.serve:
            print(json.dumps({"url": server.url, "owner_url": server.owner_url, **ids}, indent=2), flush=True)
            try:
                server.process.wait()
            except KeyboardInterrupt:
                pass
            return 0
        status, report, elapsed = run_schemathesis(server, ids, args, workdir)
        cases, failures, errors = summarise(report)
        total = sum(cases.values())
        print("\nCases per operation:")
        for label in sorted(cases):
            print(f"  {cases[label]:5d}  {label}")
        print(f"fuzz: {total} cases over {len(cases)} operations in {elapsed:.0f} s; "
              f"{len(failures)} failed checks, {len(errors)} errors; schemathesis exit status {status}")
        if "500 Internal Server Error" in server.log_path.read_text(errors="replace"):
            say("the server log mentions a 500")
        if status != 0 or failures or errors:
            say(f"FAILED (the server log is {server.log_path})")
            return 1
        if total < args.min_cases:
            say(f"FAILED: only {total} cases were run (at least {args.min_cases} wanted)")
            return 1
        ok = True
        return 0
    except Exception as error:  # noqa: BLE001 - report and clean up
        say(f"{error}\n{server.log_tail() if server else ''}")
        return 1
    finally:
        if server is not None:
            server.close()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            Path(workdir, "barrier").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
