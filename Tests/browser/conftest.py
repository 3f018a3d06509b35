"""The browser test harness: the real server, a real headless Chromium.

One session starts `.build/debug/barrier serve` against a fresh database in
the test cluster (BARRIER_TEST_DATABASE_URL, a superuser URL, as scripts/test
exports it; when unset the test cluster is started here, and stopped again if
it was not running). The server connects as `barrier_server`, a member of
`barrier_app`, so row-level security binds it as in production; migrations run
as the owner. Agencies, users and an API token are made with the CLI, the way
an operator would. Each test signs in through /login in one shared browser
whose cookies are cleared before every test.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("BARRIER_BINARY", ROOT / ".build/debug/barrier"))
CHROMIUM = os.environ.get("BARRIER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BARRIER_CHROMEDRIVER", "/usr/bin/chromedriver")

# Known passwords (the server wants at least 12 characters).
PASSWORD = "browser-test-password-1"


# --------------------------------------------------------------------------
# The database and the server
# --------------------------------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pysupport"))
from processes import (PSQL, SERVER_LOGIN_SQL, api_call, grant_test_powers, free_port as _free_port, psql as _psql, run as _run,  # noqa: E402,F401
                       wait_until_answering, with_database as _with_database)


def _wait_for_binary():
    """The binary is rebuilt from time to time: wait a little when it is missing."""
    deadline = time.monotonic() + 120
    while not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        if time.monotonic() > deadline:
            pytest.exit(f"{BINARY} is missing: build it first (swift build)", returncode=3)
        time.sleep(2)


@pytest.fixture(scope="session")
def cluster_url():
    """A superuser URL of the test cluster."""
    url = os.environ.get("BARRIER_TEST_DATABASE_URL")
    if url:
        yield url
        return
    env = dict(os.environ, BARRIER_CLUSTER="test-postgres", BARRIER_CLUSTER_FAST="1")
    _wait_for_binary()
    located = _run([str(BINARY), "db", "url"], env=env).stdout.strip()
    host = urllib.parse.parse_qs(urllib.parse.urlsplit(located).query).get("host", [""])[0]
    was_running = subprocess.run(["pg_isready", "-q", "-h", host], capture_output=True).returncode == 0 if host else False
    url = _run([str(BINARY), "db", "start"], env=env).stdout.strip().splitlines()[-1]
    yield url
    if not was_running:
        _run([str(BINARY), "db", "stop"], env=env, check=False)


@dataclass
class Account:
    email: str
    role: str
    agency: str
    password: str = PASSWORD


@dataclass
class Server:
    url: str
    owner_url: str
    app_url: str
    accounts: dict[str, Account]
    agencies: dict[str, str]  # agency key -> name
    tokens: dict[str, str] = field(default_factory=dict)  # account key -> API token
    log_path: Path | None = None

    def cli(self, *args, check=True):
        """A `barrier` command as the operator (the owner's connection, no token)."""
        env = dict(os.environ, DATABASE_URL=self.owner_url)
        env.pop("DATABASE_OWNER_URL", None)
        env.pop("BARRIER_TOKEN", None)
        return _run([str(BINARY), *args], env=env, check=check)

    def api(self, method, path, token, body=None, headers=None):
        """A JSON API call; returns (status, parsed body or text, headers)."""
        return api_call(self.url, method, path, token, body, headers)

    def log_tail(self, lines=40):
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# The pages a signed-in user reads (axe and the auditor's view check each);
# "{plan}" stands for the id of `plan_a`.
READ_PAGES = ["/reports", "/reports/cooperation", "/reports/matrix", "/agency/procedure-profile", "/plans", "/plans/{plan}",
              "/home", "/suppliers", "/letters", "/letters?overdue=1", "/campaigns", "/actions", "/audit",
              "/admin/agency", "/admin/templates"]
# Pages with forms, opened as an admin for the accessibility check.
FORM_PAGES = ["/account", "/admin/users", "/admin/users/new", "/suppliers/new", "/suppliers/import", "/plans/new",
              "/plans/{plan}/edit", "/campaigns/new", "/admin/agency"]

ACCOUNTS = {
    # key: (agency key, role, e-mail)
    "admin_a": ("a", "admin", "admin.a@browser.example"),
    "officer_a1": ("a", "officer", "officer.a1@browser.example"),
    "officer_a2": ("a", "officer", "officer.a2@browser.example"),
    "auditor_a": ("a", "auditor", "auditor.a@browser.example"),
    "officer_b": ("b", "officer", "officer.b@browser.example"),
}


@pytest.fixture(scope="session")
def server(cluster_url, tmp_path_factory):
    """`barrier serve` on a free port against a fresh database; dropped afterwards."""
    _wait_for_binary()
    database = "browser_" + secrets.token_hex(6)
    _psql(cluster_url, f'CREATE DATABASE "{database}"')
    process = None
    log_path = tmp_path_factory.mktemp("server") / "serve.log"
    try:
        owner_url = _with_database(cluster_url, database)
        app_url = _with_database(cluster_url, database, user="barrier_server")
        agencies = {"a": f"Browser Agency A {database[-6:]}", "b": f"Browser Agency B {database[-6:]}"}
        accounts = {k: Account(email=e, role=r, agency=agencies[a]) for k, (a, r, e) in ACCOUNTS.items()}
        srv = Server(url="", owner_url=owner_url, app_url=app_url, accounts=accounts, agencies=agencies, log_path=log_path)

        # Migrations as the owner; then the server's login role (roles are the
        # cluster's, so another test run may have made it already).
        srv.cli("migrate")
        _psql(owner_url, SERVER_LOGIN_SQL)
        srv.cli("agency", "create", "--name", agencies["a"], "--country", "NL")
        srv.cli("agency", "create", "--name", agencies["b"], "--country", "BE")
        for key, account in accounts.items():
            srv.cli("user", "create", "--agency", account.agency, "--email", account.email,
                    "--name", key.replace("_", " ").title(), "--role", account.role, "--password", account.password)
        for key in ("admin_a", "officer_b"):
            srv.tokens[key] = srv.cli("user", "token", "--email", accounts[key].email, "--name", "browser-tests").stdout.strip().split()[-1]

        port = _free_port()
        env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DATABASE_URL=app_url, DATABASE_OWNER_URL=owner_url,
                   PDF_WORKERS="1", LOG_LEVEL=os.environ.get("BARRIER_BROWSER_LOG_LEVEL", "warning"))
        env.pop("BARRIER_TOKEN", None)
        with open(log_path, "wb") as log:
            process = subprocess.Popen([str(BINARY), "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        srv.url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(process, srv.url, 60, srv.log_tail)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
        log_text = log_path.read_text(errors="replace")
        if "row-level security does not keep the agencies apart" in log_text:
            pytest.fail(f"the server does not run as a role bound by row-level security:\n{log_text}", pytrace=False)
        # Agency A's lawyer confirmed its powers: the shipped profile gives no restrictive one.
        grant_test_powers(srv.url, srv.tokens["admin_a"])
        yield srv
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        _run([PSQL, cluster_url, "-X", "-q", "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'], check=False)


@pytest.fixture(scope="session")
def accounts(server):
    return server.accounts


def create_supplier(server, legal_name, token_key="admin_a", **fields):
    """A supplier registered through `POST /api/v1/facilitators` (the registry is
    shared by the agencies); `fields` add to or replace the defaults. Returns its JSON."""
    body = {"legal_name": legal_name, "sector": "courier", "stages": ["shipping"], "country": "DE", **fields}
    status, supplier, _ = server.api("POST", "/api/v1/facilitators", server.tokens[token_key], body)
    assert status == 201, f"registering {legal_name!r} answered {status}: {supplier}"
    return supplier


def db_value(server, sql):
    """One value read from the session's database as its owner (past row-level security)."""
    return _psql(server.owner_url, sql)


def db_execute(server, sql):
    """Runs statements in the session's database as its owner, for what a
    test must set up that no user can (moving a frozen letter's dates back)."""
    _psql(server.owner_url, sql)


@pytest.fixture(scope="session")
def plan_a(server):
    """An action plan of agency A, written through the API with A's admin token."""
    body = {
        "title": "Parcel lockers plan " + secrets.token_hex(3),
        "description": "Cut the use of parcel lockers for shipping illicit goods.",
        "coordinating_agency": server.agencies["a"],
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "evaluation_dates": ["2026-06-30"],
        "objectives": ["Inform every parcel service"],
        "measures": [{"description": "Send the first letters", "objective": 0, "responsible": "Officer A1", "due_on": "2026-03-31"}],
        "indicators": [{"name": "Parcel services informed", "metric": "manual", "target": 10, "baseline": 0, "objective": 0}],
    }
    status, plan, _ = server.api("POST", "/api/v1/action-plans", server.tokens["admin_a"], body)
    assert status == 201, f"creating the action plan answered {status}: {plan}"
    return plan


# --------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _driver():
    profile = tempfile.mkdtemp(prefix="barrier-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--no-first-run", "--disable-extensions", "--lang=en-GB",
                     "--password-store=basic", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    # The performance log carries the HTTP status of every document the browser loads.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(_driver, server):
    """The shared Chromium, signed out (no cookies), with `base_url` set."""
    _driver.execute_cdp_cmd("Network.enable", {})
    _driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    _driver.get("about:blank")
    _drain_log(_driver)
    _driver.base_url = server.url
    yield _driver


# --------------------------------------------------------------------------
# Helpers for tests
# --------------------------------------------------------------------------

def _drain_log(driver):
    return driver.get_log("performance")


def document_statuses(driver):
    """(url, status) of each document loaded since the last call, in order."""
    found = []
    for entry in _drain_log(driver):
        message = json.loads(entry["message"]).get("message", {})
        if message.get("method") == "Network.responseReceived" and message["params"].get("type") == "Document":
            response = message["params"]["response"]
            found.append((response["url"], response["status"]))
    return found


def last_status(driver):
    """The HTTP status of the last document loaded since the last call."""
    statuses = document_statuses(driver)
    assert statuses, "no page was loaded"
    return statuses[-1][1]


def open_page(browser, path):
    """Loads a page of the site; returns its HTTP status."""
    _drain_log(browser)
    browser.get(browser.base_url + path)
    return last_status(browser)


def submit(browser, button):
    """Clicks a form's button and waits for the next page; returns its HTTP status."""
    _drain_log(browser)
    old = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 20).until(lambda d: is_stale(old))
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    return last_status(browser)


def is_stale(element):
    try:
        element.is_enabled()
        return False
    except Exception:  # StaleElementReferenceException: a new document
        return True


def submit_sign_in(browser, email, password):
    """Fills and sends the sign-in form (the one on the page, else /login's);
    returns the status of the page that follows."""
    if not browser.current_url.startswith(browser.base_url) or \
            not browser.find_elements(By.CSS_SELECTOR, "form[action='/login']"):
        status = open_page(browser, "/login")
        assert status == 200, f"/login answered {status}"
    form = browser.find_element(By.CSS_SELECTOR, "form[action='/login']")
    form.find_element(By.NAME, "email").clear()
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(password)
    return submit(browser, form.find_element(By.CSS_SELECTOR, "button, input[type=submit]"))


def sign_in(browser, email, password=PASSWORD):
    """Signs in through /login and checks the user is signed in (off the sign-in
    page, which names them); returns the HTTP status of the page landed on."""
    status = submit_sign_in(browser, email, password)
    path = urllib.parse.urlsplit(browser.current_url).path
    assert path != "/login", f"still on the sign-in page ({status}): {page_problems(browser)}"
    assert email in signed_in_as(browser), \
        f"after signing in, {browser.current_url} ({status}) does not say who is signed in: {signed_in_as(browser)!r}"
    return status


def path_of(browser):
    return urllib.parse.urlsplit(browser.current_url).path


def fill(scope, name, value):
    """Types `value` into the field named `name` (in a form, or anywhere on the page), replacing what it held."""
    control = scope.find_element(By.NAME, name)
    control.clear()
    if value:
        control.send_keys(value)
    return control


def choose(scope, name, value):
    """Picks the option of the select named `name` whose value (else whose text) is `value`."""
    select = Select(scope.find_element(By.NAME, name))
    try:
        select.select_by_value(value)
    except NoSuchElementException:  # options written without a value attribute
        select.select_by_visible_text(value)
    return select


def form_with_legend(browser, legend):
    """The form of the page's main content whose first fieldset is titled `legend`."""
    for form in browser.find_elements(By.CSS_SELECTOR, "main form"):
        legends = form.find_elements(By.TAG_NAME, "legend")
        if legends and legends[0].text.strip() == legend:
            return form
    raise AssertionError(f"no form {legend!r} on {browser.current_url}")


def button(scope, text):
    """The button (in a form, or anywhere on the page) whose text is `text`."""
    found = [b for b in scope.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == text]
    assert found, f"no button {text!r}"
    return found[0]


def set_date(browser, control, iso_day):
    """Enters a day (YYYY-MM-DD) in an <input type=date>: typed as a user would, in
    the browser's order of day, month and year; set by script if typing did not take."""
    year, month, day = iso_day.split("-")
    order = browser.execute_script(
        "return new Intl.DateTimeFormat(navigator.language).formatToParts(new Date(2000, 10, 22))"
        ".filter(p => ['day', 'month', 'year'].includes(p.type)).map(p => p.type);")
    parts = {"day": day, "month": month, "year": year}
    # No click first: it would put the caret on whichever part lies under the pointer.
    control.send_keys("".join(parts[p] for p in (order or ["day", "month", "year"])))
    if control.get_attribute("value") != iso_day:
        browser.execute_script("arguments[0].value = arguments[1]", control, iso_day)
    assert control.get_attribute("value") == iso_day, f"the date field holds {control.get_attribute('value')!r}"


def fetch(browser, path):
    """GETs a path of the site with the browser's session cookie (as a link the
    user follows would); returns (status, headers, body bytes)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    request = urllib.request.Request(browser.base_url + path, headers={"Cookie": cookies})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def page_text(browser):
    return browser.find_element(By.TAG_NAME, "body").text


def flash(browser):
    """The message a page shows about what was just done (role=status), or ''."""
    found = browser.find_elements(By.CSS_SELECTOR, "main [role=status]")
    return found[0].text.strip() if found else ""


def fact(browser, term):
    """The value beside a term of the page's facts list (<dl class=facts>)."""
    for dt in browser.find_elements(By.CSS_SELECTOR, "dl.facts dt"):
        if dt.text.strip() == term:
            return dt.find_element(By.XPATH, "following-sibling::dd[1]").text.strip()
    raise AssertionError(f"the page lists no fact {term!r}")


def signed_in_as(browser):
    """The text of the sign-out form (it names the signed-in user), or '' when signed out."""
    forms = browser.find_elements(By.CSS_SELECTOR, "form[action='/logout']")
    return forms[0].text if forms else ""


def sign_out_button(browser):
    return browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button, form[action='/logout'] input[type=submit]")


def heading(browser):
    """The page's first-level heading, asserted visible and not empty."""
    h1 = browser.find_element(By.TAG_NAME, "h1")
    assert h1.is_displayed(), "the page heading is not visible"
    assert h1.text.strip(), "the page heading is empty"
    return h1.text.strip()


def field_errors(browser):
    """The error shown beside each field, by field name: the element named by
    the field's aria-describedby when the field is marked aria-invalid, or an
    `.error` inside the field's label."""
    errors = {}
    for control in browser.find_elements(By.CSS_SELECTOR, "input[name], select[name], textarea[name]"):
        name = control.get_attribute("name")
        texts = []
        if control.get_attribute("aria-invalid") == "true":
            for ref in (control.get_attribute("aria-describedby") or "").split():
                for described in browser.find_elements(By.ID, ref):
                    if described.text.strip():
                        texts.append(described.text.strip())
        if not texts:
            for label in control.find_elements(By.XPATH, "ancestor::label[1]"):
                texts += [e.text.strip() for e in label.find_elements(By.CSS_SELECTOR, ".error") if e.text.strip()]
        if texts:
            errors[name] = " ".join(texts)
    return errors


def page_alerts(browser):
    """Texts of the messages announced to the user (role=alert or status)."""
    return [e.text.strip() for e in browser.find_elements(By.CSS_SELECTOR, "[role=alert], [role=status]") if e.text.strip()]


def page_problems(browser):
    return {"alerts": page_alerts(browser), "fields": field_errors(browser), "url": browser.current_url}


# --------------------------------------------------------------------------
# Accessibility
# --------------------------------------------------------------------------

BLOCKING_IMPACTS = ("serious", "critical")

# axe-selenium-python ships axe-core 3.1.1 (2018); BARRIER_AXE_SCRIPT may name
# a newer axe.min.js. Its known false positives, fixed in later axe-core, are
# left out node by node, so the same rule still catches real problems:
# - autocomplete-valid on <input type="email" autocomplete="username">, allowed
#   by HTML since 2020 (whatwg/html#5881) and by axe-core since 2021 (#2896).
def _known_false_positive(rule, node):
    html = node.get("html", "")
    return (rule == "autocomplete-valid" and re.search(r'type="email"', html)
            and re.search(r'autocomplete="username"', html))


def axe_results(browser):
    """axe-core's results for the current page (checked to have really run)."""
    from axe_selenium_python import Axe

    script = os.environ.get("BARRIER_AXE_SCRIPT")
    axe = Axe(browser, script_url=script) if script else Axe(browser)
    axe.inject()
    results = axe.run()
    assert isinstance(results, dict) and results.get("passes"), \
        f"axe did not run on {browser.current_url} (no passing rule reported): {str(results)[:500]}"
    return results


def axe_violations(results, impacts=BLOCKING_IMPACTS):
    """The violations of the given impacts, without the known false positives."""
    found = []
    for v in results.get("violations", []):
        if v.get("impact") not in impacts:
            continue
        nodes = [n for n in v.get("nodes", []) if not _known_false_positive(v.get("id"), n)]
        if nodes:
            found.append(dict(v, nodes=nodes))
    return found


def axe_check(browser):
    """Runs axe-core on the current page; fails on any serious or critical violation."""
    results = axe_results(browser)
    blocking = axe_violations(results)
    assert not blocking, f"accessibility violations on {browser.current_url}:\n" + axe_report(blocking)
    return results


def axe_report(violations):
    lines = []
    for v in violations:
        lines.append(f"- [{v.get('impact')}] {v.get('id')}: {v.get('help') or v.get('description')} ({v.get('helpUrl')})")
        for node in v.get("nodes", [])[:8]:
            target = " ".join(map(str, node.get("target", [])))
            html = re.sub(r"\s+", " ", node.get("html", ""))[:160]
            lines.append(f"    at {target}: {html}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + summary.replace("\n", "\n      "))
    return "\n".join(lines)
