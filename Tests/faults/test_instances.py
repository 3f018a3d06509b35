"""Two servers on different ports against one database: they share browser
sessions, and their background work never runs the same campaign job or sends
the same e-mail twice."""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
import urllib.request
from email import message_from_bytes

from aiosmtpd.controller import Controller

from harness import PASSWORD, Server, free_port, supplier

SUPPLIERS = 24


class Capture:
    """An SMTP relay that keeps every message it is handed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


def sign_in(server, email):
    """The browser's sign-in form, by hand: the login page's CSRF token and cookie, then the POST."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(server.url + "/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    jar = next(h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    plain = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf": csrf}).encode()
    try:
        plain.open(server.url + "/login", data=data)
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.read()[:500]
    session = next(c.value for c in jar if c.name == "barrier_session")
    return session


def page_status(server, path, session):
    request = urllib.request.Request(server.url + path, headers={"Cookie": f"barrier_session={session}"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect()).open(request) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


def test_two_instances_share_sessions_and_never_double_background_work(registry, tmp_path):
    capture = Capture()
    smtp = Controller(capture, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        env = {"SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "WORKER_POLL_SECONDS": "1"}
        a = Server(registry, tmp_path, env=env, name="a").start()
        b = Server(registry, tmp_path, env=env, name="b").start()
        officer, admin = registry.tokens["officer"], registry.tokens["admin"]

        # One sign-in, both instances: the session lives in PostgreSQL.
        session = sign_in(a, registry.emails["officer"])
        assert page_status(b, "/home", session) == 200
        assert page_status(a, "/home", session) == 200

        # The agency's letterhead, then couriers with postal and e-mail addresses.
        status, agency, headers = a.api("GET", "/api/v1/agency", admin)
        status, agency, _ = a.api("PATCH", "/api/v1/agency", admin, {
            "street": "Koningskade 4", "postal_code": "2596 AA", "city": "Den Haag", "email": "barrier@authority.example",
            "signatory_name": "H. J. Bakker"}, headers={"If-Match": headers["ETag"]})
        assert status == 200, agency
        for n in range(SUPPLIERS):
            status, body, _ = (a if n % 2 else b).api("POST", "/api/v1/facilitators?create_anyway=true", officer,
                                                      supplier(f"Twin Instance {n:02d} Kurier", registration_number=f"HRB {400000 + n}"))
            assert status == 201, body

        # A campaign over them, approved on A; both instances poll for jobs.
        status, campaign, headers = b.api("POST", "/api/v1/campaigns", officer,
                                          {"name": "Twin instances", "filter": {"sector": "courier", "country": "DE"}})
        assert status == 201, campaign
        status, approved, _ = a.api("POST", f"/api/v1/campaigns/{campaign['id']}/approve", admin, headers={"If-Match": headers["ETag"]})
        assert status == 202, approved
        deadline = time.monotonic() + 180
        while True:
            status, state, _ = b.api("GET", f"/api/v1/campaigns/{campaign['id']}", officer)
            if state["status"] in ("generated", "failed"):
                break
            assert time.monotonic() < deadline, f"the campaign did not finish: {state}"
            time.sleep(0.5)
        assert state["status"] == "generated", state
        letters = registry.sql(f"SELECT count(*) || ' ' || count(DISTINCT facilitator_id) FROM letters WHERE campaign_id = '{campaign['id']}'")
        assert letters == f"{SUPPLIERS} {SUPPLIERS}", letters
        # Each of the campaign's jobs (letters, then PDFs) was claimed and run once, by one instance.
        while registry.sql("SELECT count(*) FROM jobs WHERE state <> 'done'") != "0":
            assert time.monotonic() < deadline, registry.sql("SELECT kind, state, attempts, last_error FROM jobs")
            time.sleep(0.5)
        jobs = registry.sql("SELECT string_agg(kind || ':' || attempts, ',' ORDER BY id) FROM jobs")
        assert jobs == "campaign_letters:1,campaign_pdfs:1", jobs

        # Every letter queued for e-mail, half through each instance; the relay gets each once.
        status, listing, _ = a.api("GET", f"/api/v1/letters?campaign_id={campaign['id']}&limit=100", officer)
        ids = [item["id"] for item in listing["items"]]
        assert len(ids) == SUPPLIERS
        for n, letter in enumerate(ids):
            server = a if n % 2 else b
            _, _, headers = server.api("GET", f"/api/v1/letters/{letter}", officer)
            status, body, _ = server.api("POST", f"/api/v1/letters/{letter}/send", officer, {"method": "email"},
                                         headers={"If-Match": headers["ETag"]})
            assert status == 202, body
        deadline = time.monotonic() + 180
        while registry.sql("SELECT count(*) FROM letter_emails WHERE state = 'sent'") != str(SUPPLIERS):
            assert time.monotonic() < deadline, registry.sql("SELECT state, count(*) FROM letter_emails GROUP BY 1")
            time.sleep(0.5)
        time.sleep(3)  # a duplicate would arrive within a poll or two
        with capture.lock:
            ids_sent = [m["Message-ID"] for m in capture.messages]
        stored = set(registry.sql("SELECT message_id FROM letter_emails").split())
        assert len(ids_sent) == SUPPLIERS, f"{len(ids_sent)} messages for {SUPPLIERS} letters"
        assert len(set(ids_sent)) == SUPPLIERS
        assert {i.strip("<>") for i in ids_sent} == {i.strip("<>") for i in stored}

        assert a.stop() == 0 and b.stop() == 0
        print(f"\ntwo instances: one session served by both; the campaign's two jobs run once each ({SUPPLIERS} letters, each once); "
              f"{SUPPLIERS} e-mails queued through both, {len(ids_sent)} delivered, none twice")
    finally:
        smtp.stop()
