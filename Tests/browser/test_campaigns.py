"""Campaigns in the browser: set up with the registry list's filters and a
language rule, previewed with its counts and sample letters, approved, watched
to the end on a page that reloads itself (a meta refresh, no script), and its
manifest and ZIP downloaded; an auditor is offered no button; another agency
gets the 404 page."""

import csv
import io
import time
import zipfile

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import (axe_check, axe_report, axe_results, axe_violations, button, choose, create_supplier, db_value, fact, fetch, field_errors, fill, flash, heading,
                      is_stale, open_page, page_text, path_of, sign_in, submit)

COUNTRY = "LU"  # no other browser test registers suppliers here, so the filter selects only these
ADDRESSED = ["Coursier Express Luxembourg SA", "Vélo Messagers Esch SARL", "Paket Blitz Diekirch SA"]
DONE = "Done: every letter is written and printed."
RELOAD = "5"  # seconds between two reloads of a running campaign's page


def axe_check_reloading(browser):
    """axe on a page that reloads itself: the issue asks for the meta refresh, which axe
    reports (WCAG 2.2.1); the page offers to stop it (checked with `axe_check` there).
    Any other serious or critical violation fails."""
    blocking = [v for v in axe_violations(axe_results(browser)) if v.get("id") != "meta-refresh"]
    assert not blocking, f"accessibility violations on {browser.current_url}:\n" + axe_report(blocking)


@pytest.fixture(scope="module")
def couriers(server):
    """Three couriers of Luxembourg with a postal address and one without (which a campaign leaves out)."""
    found = [create_supplier(server, name, country=COUNTRY, street=f"Rue du Fort {i + 1}", postal_code=f"{1210 + i}", city="Luxembourg")
             for i, name in enumerate(ADDRESSED)]
    found.append(create_supplier(server, "Sans Adresse Porteurs SARL", country=COUNTRY))
    return found


def wait_for_reload(browser, timeout=20):
    """Waits for the page to load itself again (its meta refresh), without touching it."""
    old = browser.find_element(By.TAG_NAME, "html")
    WebDriverWait(browser, timeout).until(lambda d: is_stale(old))
    WebDriverWait(browser, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")


def refresh_seconds(browser):
    """The page's meta refresh in seconds, or None."""
    metas = browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv='refresh']")
    return metas[0].get_attribute("content") if metas else None


def test_an_officer_runs_a_campaign_to_the_end(browser, server, accounts, couriers):
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/campaigns") == 200
    assert heading(browser) == "Campaigns"
    axe_check(browser)
    assert submit(browser, browser.find_element(By.LINK_TEXT, "Set up a campaign")) == 200
    assert path_of(browser) == "/campaigns/new"
    assert heading(browser) == "Set up a campaign"
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/campaigns']")
    # The registry list's controls, each with its label.
    for name in ("q", "sector", "country", "stage", "market", "status", "cooperation"):
        control = form.find_element(By.NAME, name)
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{control.get_attribute('id')}']"), f"{name} has no label"
    axe_check(browser)

    # Errors beside their fields, with what was typed kept.
    choose(form, "sector", "courier")
    fill(form, "country", "ZZ")
    fill(form, "response_days", "many")
    assert submit(browser, button(form, "Save and preview")) == 422
    errors = field_errors(browser)
    assert "response_days" in errors, errors
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/campaigns']")
    assert form.find_element(By.NAME, "response_days").get_attribute("value") == "many"
    axe_check(browser)
    fill(form, "response_days", "")
    fill(form, "name", "")
    assert submit(browser, button(form, "Save and preview")) == 422
    errors = field_errors(browser)
    assert errors.get("name") == "must be 1 to 200 characters", errors
    assert "ISO 3166-1" in errors.get("country", ""), errors
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/campaigns']")
    assert form.find_element(By.NAME, "country").get_attribute("value") == "ZZ"
    assert form.find_element(By.CSS_SELECTOR, "select[name=sector] option[value=courier]").is_selected()
    axe_check(browser)

    # The campaign: Luxembourg's couriers, in German, one of them in English.
    name = "Luxembourg couriers " + str(int(time.time()))
    fill(form, "name", name)
    fill(form, "country", COUNTRY)
    fill(form, "language_country0", COUNTRY)
    choose(form, "language0", "de")
    fill(form, "override_supplier0", couriers[1]["id"])
    choose(form, "override_language0", "en")
    assert submit(browser, button(form, "Save and preview")) == 200, field_errors(browser)
    campaign_path = path_of(browser)
    campaign_id = campaign_path.rsplit("/", 1)[1]
    assert flash(browser).startswith("The campaign was saved as a draft")
    assert heading(browser) == name
    assert fact(browser, "Status") == "draft"
    assert fact(browser, "Letters approving would write") == "3"
    assert fact(browser, "Suppliers left out (no postal address)") == "1"
    assert fact(browser, "Language by country") == f"{COUNTRY} → de;"
    summaries = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "main details summary")]
    assert len(summaries) == 3, summaries
    assert sum("(de, template" in s for s in summaries) == 2 and sum("(en, template" in s for s in summaries) == 1, summaries
    sample = browser.find_element(By.CSS_SELECTOR, "main details[open] pre").text
    assert "Luxembourg" in sample, sample[:400]
    assert refresh_seconds(browser) is None, "a draft's page reloads itself"
    axe_check(browser)

    # Approving: the page reloads itself while the letters are written and printed.
    assert submit(browser, button(browser, "Approve and write the letters")) == 200
    assert path_of(browser) == campaign_path
    assert flash(browser).startswith("The campaign was approved")
    assert refresh_seconds(browser) == RELOAD, f"the running campaign's page does not reload itself: {page_text(browser)[:600]}"
    assert fact(browser, "Status") in ("generating", "generated")
    assert f"reloads itself every {RELOAD} seconds" in page_text(browser)
    axe_check_reloading(browser)
    assert browser.find_element(By.LINK_TEXT, "Stop reloading").get_attribute("href").endswith(f"{campaign_path}?reload=off")
    wait_for_reload(browser)  # Chromium reloads it by itself: no script
    assert path_of(browser) == campaign_path
    # The reloading can be stopped (and the page then passes axe whole), and started again; a small
    # campaign is often done by the first reload (CampaignPageTests checks the stopped page always).
    if DONE not in page_text(browser):
        assert submit(browser, browser.find_element(By.LINK_TEXT, "Stop reloading")) == 200
        assert refresh_seconds(browser) is None and "This page no longer reloads itself." in page_text(browser)
        axe_check(browser)
        assert submit(browser, browser.find_element(By.LINK_TEXT, f"Reload by itself every {RELOAD} seconds")) == 200
    deadline = time.monotonic() + 180
    while DONE not in page_text(browser):
        assert "The campaign failed" not in page_text(browser), page_text(browser)[:800]
        assert refresh_seconds(browser) == RELOAD, f"the campaign is not done and its page does not reload itself: {page_text(browser)[:600]}"
        assert time.monotonic() < deadline, f"the campaign was not done within 180 s: {page_text(browser)[:600]}"
        wait_for_reload(browser)
    assert path_of(browser) == campaign_path
    assert refresh_seconds(browser) is None, "a finished campaign's page still reloads itself"
    assert fact(browser, "Status") == "generated"
    assert "3 of 3" in page_text(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "main form[action$='/approve']")
    axe_check(browser)

    # The downloads: the manifest (a line per letter, each with its PDF's SHA-256) and the ZIP.
    manifest_link = browser.find_element(By.LINK_TEXT, "Manifest (CSV)")
    assert manifest_link.get_attribute("href").endswith(f"{campaign_path}/manifest.csv")
    status, headers, body = fetch(browser, f"{campaign_path}/manifest.csv")
    assert status == 200, body[:300]
    assert headers.get("Content-Type", "").startswith("text/csv"), headers.get("Content-Type")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    references = db_value(server, f"SELECT string_agg(reference, ',' ORDER BY reference) FROM letters WHERE campaign_id = '{campaign_id}'")
    assert [r["reference"] for r in rows] == references.split(","), rows
    assert sorted(r["supplier"] for r in rows) == sorted(ADDRESSED)
    assert {r["language"] for r in rows} == {"de", "en"}
    assert all(len(r["pdf_sha256"]) == 64 for r in rows), rows
    assert browser.find_element(By.LINK_TEXT, "ZIP of every PDF and the manifest").get_attribute("href").endswith(f"{campaign_path}.zip")
    status, headers, body = fetch(browser, f"{campaign_path}.zip")
    assert status == 200 and headers.get("Content-Type") == "application/zip", (status, headers.get("Content-Type"))
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert sorted(archive.namelist()) == sorted([f"{r}.pdf" for r in references.split(",")] + ["manifest.csv"])
    assert all(archive.read(f"{r}.pdf").startswith(b"%PDF") for r in references.split(","))

    # The list shows it done.
    assert open_page(browser, "/campaigns") == 200
    row = browser.find_element(By.XPATH, f"//main//table//a[@href='{campaign_path}']/ancestor::tr")
    assert "generated" in row.text and "3 / 3" in row.text


@pytest.fixture(scope="module")
def campaign_a(server, couriers):
    """A campaign of agency A over the same couriers, approved through the API."""
    token = server.tokens["admin_a"]
    status, campaign, headers = server.api("POST", "/api/v1/campaigns", token,
                                           {"name": "Agency A only " + str(int(time.time())), "filter": {"sector": "courier", "country": COUNTRY}})
    assert status == 201, f"creating the campaign answered {status}: {campaign}"
    status, campaign, _ = server.api("POST", f"/api/v1/campaigns/{campaign['id']}/approve", token, headers={"If-Match": headers["ETag"]})
    assert status == 202, f"approving answered {status}: {campaign}"
    return campaign


def test_an_officer_of_another_agency_gets_not_found_for_the_campaign(browser, accounts, campaign_a):
    path = f"/campaigns/{campaign_a['id']}"
    sign_in(browser, accounts["officer_b"].email)
    assert open_page(browser, path) == 404
    assert heading(browser) == "Not found"
    assert campaign_a["name"] not in browser.page_source
    for file in (path + ".zip", path + "/manifest.csv"):
        status, _, body = fetch(browser, file)
        assert status == 404, f"{file} answered {status}"
        assert not body.startswith(b"PK") and b"reference,facilitator_id" not in body
    assert open_page(browser, "/campaigns") == 200
    assert not browser.find_elements(By.CSS_SELECTOR, f"main a[href='{path}']"), "agency B's list shows agency A's campaign"
    assert campaign_a["name"] not in browser.page_source
    axe_check(browser)


def test_an_officer_of_the_campaigns_agency_opens_it(browser, accounts, campaign_a):
    """The control for the test above: the same addresses work for agency A."""
    path = f"/campaigns/{campaign_a['id']}"
    sign_in(browser, accounts["officer_a2"].email)
    assert open_page(browser, path) == 200
    assert heading(browser) == campaign_a["name"]
    status, _, body = fetch(browser, path + "/manifest.csv")
    assert status == 200 and body.startswith(b"reference,facilitator_id"), (status, body[:200])


def test_an_auditor_reads_a_campaign_but_is_offered_no_button(browser, server, accounts, couriers):
    status, draft, _ = server.api("POST", "/api/v1/campaigns", server.tokens["admin_a"],
                                  {"name": "Draft for the auditor", "filter": {"sector": "courier", "country": COUNTRY}})
    assert status == 201, draft
    sign_in(browser, accounts["auditor_a"].email)
    assert open_page(browser, "/campaigns") == 200
    assert not browser.find_elements(By.CSS_SELECTOR, "main a[href='/campaigns/new']")
    assert open_page(browser, f"/campaigns/{draft['id']}") == 200
    assert fact(browser, "Letters approving would write") == "3"
    assert not browser.find_elements(By.CSS_SELECTOR, "main button, main form"), "the auditor is offered a form"
    axe_check(browser)
    assert open_page(browser, "/campaigns/new") == 403
