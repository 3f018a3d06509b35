"""Letters in the browser: drafted from a supplier's page, read with its PDF,
approved, its sending and its answer (with a document) recorded; another
agency cannot open it."""

import re

import pytest
from selenium.webdriver.common.by import By

from conftest import (axe_check, button, choose, create_supplier, db_value, fact, fetch, field_errors, fill, flash,
                      heading, open_page, page_text, path_of, set_date, sign_in, submit)

KIND = "inform_call_to_action"


@pytest.fixture(scope="module")
def supplier(server):
    """A supplier with a postal address (a letter needs street and city)."""
    return create_supplier(server, "Kurier Süd Expressdienst GmbH", street="Ringstraße 1", postal_code="80331", city="München")


def step_form(browser, legend):
    """The step form whose fieldset is titled `legend`."""
    for form in browser.find_elements(By.CSS_SELECTOR, "main form[action$='/steps']"):
        if form.find_element(By.TAG_NAME, "legend").text.strip() == legend:
            return form
    raise AssertionError(f"no form {legend!r} on {browser.current_url}")


def the_pdf(browser, letter_path):
    """The letter's PDF as the link on its page serves it, to this browser's session."""
    link = browser.find_element(By.LINK_TEXT, "PDF")
    assert link.get_attribute("href").endswith(letter_path + ".pdf")
    status, headers, body = fetch(browser, letter_path + ".pdf")
    assert status == 200, f"the PDF answered {status}: {body[:300]!r}"
    assert headers.get("Content-Type", "").split(";")[0].strip() == "application/pdf", headers.get("Content-Type")
    assert body.startswith(b"%PDF"), body[:40]
    return headers


def test_an_officer_drafts_approves_sends_and_records_the_answer(browser, server, accounts, supplier, tmp_path):
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    assert heading(browser) == supplier["legal_name"]

    # Drafting from the supplier page.
    form = browser.find_element(By.CSS_SELECTOR, f"main form[action='/suppliers/{supplier['id']}/letters']")
    choose(form, "kind", KIND)
    choose(form, "language", "en")
    assert submit(browser, button(form, "Draft the letter")) == 200
    letter_path = path_of(browser)
    assert re.fullmatch(r"/letters/[0-9a-f-]{36}", letter_path), letter_path
    letter_id = letter_path.rsplit("/", 1)[1]
    assert heading(browser).endswith(f"· {KIND}")  # "Draft letter · …": see test_a_draft_letter_is_called_a_draft_letter
    assert fact(browser, "Status") == "draft"
    assert fact(browser, "Language") == "en"
    assert fact(browser, "Supplier") == supplier["legal_name"]
    text = browser.find_element(By.CSS_SELECTOR, "main pre").text
    assert supplier["legal_name"] in text and "Ringstraße 1" in text, text[:500]
    pdf = browser.find_element(By.CSS_SELECTOR, "main object")
    assert pdf.get_attribute("type") == "application/pdf"
    assert pdf.get_attribute("data").endswith(letter_path + ".pdf")
    the_pdf(browser, letter_path)
    axe_check(browser)

    # Approving fixes the text and gives the letter its reference.
    assert submit(browser, button(browser, "Approve (fixes the text, date and reference)")) == 200
    assert flash(browser).startswith("The letter was approved")
    reference = db_value(server, f"SELECT reference FROM letters WHERE id = '{letter_id}'")
    assert reference, "the approved letter has no reference"
    assert heading(browser) == f"{reference} · {KIND}"
    assert fact(browser, "Status") == "approved"
    assert not [b for b in browser.find_elements(By.CSS_SELECTOR, "main button") if b.text.startswith("Approve")]
    headers = the_pdf(browser, letter_path)
    assert f"{reference}.pdf" in headers.get("Content-Disposition", ""), headers.get("Content-Disposition")
    axe_check(browser)

    # Its sending, today (the database's today: the server judges by it).
    today = db_value(server, "SELECT current_date::text")
    form = step_form(browser, "Record the sending")
    set_date(browser, form.find_element(By.NAME, "on"), today)
    choose(form, "method", "registered_post")
    fill(form, "tracking_number", "RR123456789DE")
    assert submit(browser, button(form, "Record")) == 200, field_errors(browser)
    assert flash(browser) == "Recorded: sent."
    assert fact(browser, "Status") == "sent"
    assert fact(browser, "Sent on") == f"{today} registered_post RR123456789DE"

    # Not overdue: the list of overdue letters leaves it out, the list of letters has it.
    assert open_page(browser, "/letters?overdue=1") == 200
    assert heading(browser) == "Letters overdue"
    assert not browser.find_elements(By.CSS_SELECTOR, f"main a[href='{letter_path}']")
    assert open_page(browser, letter_path) == 200

    # The answer, with the document the supplier sent.
    answer = tmp_path / "answer.txt"
    answer.write_text("We will train our depot staff.\n")
    form = step_form(browser, "Record the answer")
    set_date(browser, form.find_element(By.NAME, "on"), today)
    choose(form, "channel", "letter")
    fill(form, "summary", "Will train depot staff.")
    form.find_element(By.NAME, "document").send_keys(str(answer.resolve()))
    assert submit(browser, button(form, "Record")) == 200, field_errors(browser)
    assert flash(browser) == "Recorded: responded."
    assert fact(browser, "Status") == "responded"
    assert fact(browser, "Answered on").startswith(today)
    assert fact(browser, "Summary of the answer") == "Will train depot staff."
    document = browser.find_element(By.LINK_TEXT, "answer.txt")
    assert document.get_attribute("href").endswith(letter_path + "/response-document")
    assert fact(browser, "Response document").startswith("answer.txt (31 bytes")
    status, _, body = fetch(browser, letter_path + "/response-document")
    assert status == 200 and body == b"We will train our depot staff.\n"

    # The list of letters shows it answered.
    assert open_page(browser, "/letters") == 200
    row = browser.find_element(By.XPATH, f"//main//table//a[@href='{letter_path}']/ancestor::tr")
    assert reference in row.text and "responded" in row.text


@pytest.fixture(scope="module")
def letter_a(server, supplier):
    """An approved letter of agency A (drafted and approved through the API)."""
    token = server.tokens["admin_a"]
    status, letter, headers = server.api("POST", "/api/v1/letters", token,
                                         {"facilitator_id": supplier["id"], "kind": KIND, "language": "en"})
    assert status == 201, f"drafting answered {status}: {letter}"
    status, letter, _ = server.api("POST", f"/api/v1/letters/{letter['id']}/approve", token, headers={"If-Match": headers["ETag"]})
    assert status == 200, f"approving answered {status}: {letter}"
    return letter


def test_an_officer_of_another_agency_gets_not_found_for_the_letter(browser, accounts, letter_a):
    path = f"/letters/{letter_a['id']}"
    sign_in(browser, accounts["officer_b"].email)
    assert open_page(browser, path) == 404
    assert heading(browser) == "Not found"
    assert letter_a["reference"] not in page_text(browser)
    assert letter_a["reference"] not in browser.page_source
    for file in (path + ".pdf", path + ".txt"):
        status, _, body = fetch(browser, file)
        assert status == 404, f"{file} answered {status}"
        assert not body.startswith(b"%PDF")
    assert open_page(browser, "/letters") == 200
    assert not browser.find_elements(By.CSS_SELECTOR, f"main a[href='{path}']"), "agency B's list shows agency A's letter"


def test_an_officer_of_the_letters_agency_opens_it(browser, accounts, letter_a):
    """The control for the test above: the same address works for agency A."""
    sign_in(browser, accounts["officer_a2"].email)
    assert open_page(browser, f"/letters/{letter_a['id']}") == 200
    assert heading(browser) == f"{letter_a['reference']} · {KIND}"
    axe_check(browser)


def test_a_draft_letter_is_called_a_draft_letter(browser, server, accounts):
    """Drafted in agency B, so that agency A's lists (which other tests check with axe) hold no draft."""
    supplier = create_supplier(server, "Brieftaube Zustelldienst GmbH", token_key="officer_b", street="Markt 2", city="Köln")
    status, letter, _ = server.api("POST", "/api/v1/letters", server.tokens["officer_b"],
                                   {"facilitator_id": supplier["id"], "kind": KIND, "language": "en"})
    assert status == 201, f"drafting answered {status}: {letter}"
    path = f"/letters/{letter['id']}"
    sign_in(browser, accounts["officer_b"].email)
    problems = []
    assert open_page(browser, path) == 200
    if heading(browser) != f"Draft letter · {KIND}":
        problems.append(f"the letter page's heading is {heading(browser)!r}")
    for page in (f"/suppliers/{supplier['id']}", "/letters"):
        assert open_page(browser, page) == 200
        links = browser.find_elements(By.CSS_SELECTOR, f"main a[href='{path}']")
        assert links, f"{page} does not link to the draft"
        if links[0].text.strip() != "Draft letter":
            problems.append(f"{page} links to the draft with the text {links[0].text.strip()!r}")
    assert not problems, "; ".join(problems)
    axe_check(browser)
