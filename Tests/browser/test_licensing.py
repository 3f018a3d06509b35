"""Licensing in the browser: a signal recorded about a supplier (an error
first), a suspension proposed with it as evidence, the due-process checklist,
a decision refused while due process is incomplete, the notice of intent
issued, approved, sent, delivered and answered from its letter page, the
four-eyes rule (the proposer is refused, a second officer decides), axe on the
pages on the way, and another agency that finds none of it.

The same flow over HTTP is `licensing()` in Tests/BarrierServerTests/PageTests.swift."""

import re

import pytest
from selenium.webdriver.common.by import By

from conftest import (axe_check, form_with_legend, button, choose, create_supplier, db_execute, db_value, fact, fill, flash, heading,
                      open_page, page_alerts, page_text, path_of, set_date, sign_in, submit)

SUPPLIER = "Schnellpost Eilboten KG"
INDICATOR = "Parcels with vacuum-sealed packets"
SOURCE = "Customs Bremen"
REPORTER = "Officer K"
LEGAL_BASIS = "Postal Act §36(2)"
RATIONALE = "Kept carrying the market's parcels after being informed."
JUSTIFICATION = "Repeated deliveries after the briefing."
NOTICE_MISSING = "A notice of intent was issued"
WAITING = "Waiting for a second officer"
NOT_COMPLETE = "Due process is not complete"
RESPONSE_WEIGHED = "The supplier's response is weighed in the decision"
CONSIDERATION = "The answer disputes the facts, but the consignment records bear them out; no measure was offered."


@pytest.fixture(scope="module")
def supplier(server):
    """A supplier with a postal address (its letters need street and city)."""
    return create_supplier(server, SUPPLIER, street="Am Markt 2", postal_code="28195", city="Bremen")


def sign_in_as(browser, email):
    """Signs the browser out (its cookies cleared) and in again as `email`."""
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    sign_in(browser, email)


def walk_letter(browser, today, answer=None):
    """On a draft letter's page: approves it, records it sent and delivered
    (today) and, with `answer`, the supplier's answer (today, by letter)."""
    assert submit(browser, button(browser, "Approve (fixes the text, date and reference)")) == 200
    assert flash(browser).startswith("The letter was approved"), flash(browser)
    assert fact(browser, "Status") == "approved"
    steps = [("Record the sending", "sent", {"method": "registered_post"}),
             ("Record the delivery", "delivered", {})]
    if answer is not None:
        steps.append(("Record the answer", "responded", {"channel": "letter", "summary": answer}))
    for legend, status, fields in steps:
        form = form_with_legend(browser, legend)
        set_date(browser, form.find_element(By.NAME, "on"), today)
        for name, value in fields.items():
            if name in ("method", "channel"):
                choose(form, name, value)
            else:
                fill(form, name, value)
        assert submit(browser, button(form, "Record")) == 200, page_alerts(browser)
        assert flash(browser) == f"Recorded: {status}.", page_alerts(browser)
        assert fact(browser, "Status") == status


def value_of(browser, name):
    return browser.find_element(By.CSS_SELECTOR, f"main form [name='{name}']").get_attribute("value")


def error_beside(browser, name):
    """The text of the `.error` shown in the same paragraph as the field named `name`, or ''."""
    control = browser.find_element(By.CSS_SELECTOR, f"main form [name='{name}']")
    errors = control.find_elements(By.XPATH, "ancestor::p[1]//*[contains(concat(' ', @class, ' '), ' error ')]")
    return " ".join(e.text.strip() for e in errors if e.text.strip())


def errors_shown(browser):
    """Field name -> the error shown beside it, for every field of the page's form."""
    shown = {}
    for control in browser.find_elements(By.CSS_SELECTOR, "main form [name]"):
        name = control.get_attribute("name")
        if control.get_attribute("type") != "hidden" and name not in shown and error_beside(browser, name):
            shown[name] = error_beside(browser, name)
    return shown


def checklist(browser):
    """The due-process checklist: element label -> whether it is present (✔) or missing (✘)."""
    items = {}
    for li in browser.find_elements(By.CSS_SELECTOR, "main ul.checklist li"):
        label = li.find_element(By.TAG_NAME, "strong").text.strip()
        assert li.text.startswith(("✔", "✘")), li.text
        items[label] = li.text.startswith("✔")
    return items


def decide_button(browser):
    return button(form_with_legend(browser, "Decide"), "Decide the action")


def action_status(server, action_id):
    return db_value(server, f"SELECT status FROM licensing_actions WHERE id = '{action_id}'")


def record_signal_without_then_with_a_stage(browser, supplier, observed, check_axe=False):
    """From the supplier page: the signal form sent without a stage (refused,
    the error beside the stage, what was typed kept), then with one. Returns
    the signal page's path."""
    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    browser.find_element(By.LINK_TEXT, "Record a signal about this supplier").click()
    assert path_of(browser) == "/signals/new"
    assert heading(browser) == "Record a signal"
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/signals']")
    assert form.find_element(By.NAME, "facilitator_ids").get_attribute("value") == supplier["id"]
    choose(form, "type", "logistical")
    fill(form, "indicator_text", INDICATOR)
    fill(form, "observed_on", observed)
    fill(form, "source", SOURCE)
    fill(form, "reporter", REPORTER)
    assert submit(browser, button(form, "Record the signal")) == 422
    assert path_of(browser) == "/signals"
    assert errors_shown(browser) == {"stage": "choose the stage it concerns"}, errors_shown(browser)
    assert any("not valid" in a for a in page_alerts(browser)), page_alerts(browser)
    for name, typed in (("type", "logistical"), ("indicator_text", INDICATOR), ("observed_on", observed),
                        ("source", SOURCE), ("reporter", REPORTER), ("facilitator_ids", supplier["id"])):
        assert value_of(browser, name) == typed, f"{name} holds {value_of(browser, name)!r} after the error"
    if check_axe:
        axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/signals']")
    choose(form, "stage", "shipping")
    assert submit(browser, button(form, "Record the signal")) == 200
    path = path_of(browser)
    assert re.fullmatch(r"/signals/[0-9a-f-]{36}", path), path
    assert heading(browser) == f"Signal: {INDICATOR}"
    assert fact(browser, "Type") == "logistical"
    assert fact(browser, "Stage") == "shipping"
    assert fact(browser, "Observed on (YYYY-MM-DD)") == observed
    assert fact(browser, "Source") == SOURCE
    assert fact(browser, "Reported by") == REPORTER
    assert browser.find_elements(By.CSS_SELECTOR, f"main a[href='/suppliers/{supplier['id']}']"), \
        "the signal page does not link to its supplier"
    if check_axe:
        axe_check(browser)
    return path


def test_a_suspension_is_decided_by_a_second_officer_once_due_process_is_complete(browser, server, accounts, supplier):
    officer, second = accounts["officer_a1"], accounts["admin_a"]
    today = db_value(server, "SELECT current_date::text")
    observed = db_value(server, "SELECT (current_date - 5)::text")
    until = db_value(server, "SELECT (current_date + 90)::text")
    supplier_path = f"/suppliers/{supplier['id']}"

    # 1. A first letter reaches the supplier; then a month passes.
    sign_in(browser, officer.email)
    assert open_page(browser, supplier_path) == 200
    form = browser.find_element(By.CSS_SELECTOR, f"main form[action='{supplier_path}/letters']")
    choose(form, "kind", "inform_call_to_action")
    choose(form, "language", "en")
    assert submit(browser, button(form, "Draft the letter")) == 200
    first_id = path_of(browser).rsplit("/", 1)[1]
    walk_letter(browser, today)
    db_execute(server, f"""
        ALTER TABLE letters DISABLE TRIGGER letters_frozen;
        UPDATE letters SET letter_date = letter_date - 30, response_deadline = response_deadline - 30,
                           sent_on = sent_on - 30, delivered_on = delivered_on - 30
         WHERE id = '{first_id}';
        ALTER TABLE letters ENABLE TRIGGER letters_frozen;""")
    delivered = db_value(server, f"SELECT delivered_on::text FROM letters WHERE id = '{first_id}'")
    assert delivered == db_value(server, "SELECT (current_date - 30)::text")

    # 2. A signal observed since, recorded from the supplier page (an error first: no stage).
    signal_path = record_signal_without_then_with_a_stage(browser, supplier, observed)
    signal_id = signal_path.rsplit("/", 1)[1]

    # 3. A suspension proposed from the supplier page, with the signal as its evidence.
    assert open_page(browser, supplier_path) == 200
    browser.find_element(By.LINK_TEXT, "Propose a licensing action").click()
    assert path_of(browser) == "/actions/new"
    assert heading(browser) == f"Propose a licensing action: {SUPPLIER}"
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/actions']")
    choose(form, "type", "suspension")
    fill(form, "legal_basis", LEGAL_BASIS)
    fill(form, "rationale", RATIONALE)
    fill(form, "effective_from", today)
    fill(form, "effective_to", until)
    fill(form, "ladder_justification", JUSTIFICATION)
    evidence = form.find_element(By.CSS_SELECTOR, f"input[name='signal_ids'][value='{signal_id}']")
    label = evidence.find_element(By.XPATH, "ancestor::label[1]").text
    assert observed in label and INDICATOR in label and SOURCE in label, label
    evidence.click()
    assert submit(browser, button(form, "Propose")) == 200, errors_shown(browser)
    action_path = path_of(browser)
    assert re.fullmatch(r"/actions/[0-9a-f-]{36}", action_path), action_path
    action_id = action_path.rsplit("/", 1)[1]
    assert heading(browser) == f"suspension · {SUPPLIER}"
    assert fact(browser, "Status") == "proposed"
    assert fact(browser, "Legal basis (the provision that gives the power)") == LEGAL_BASIS
    assert fact(browser, "Rationale") == RATIONALE
    assert fact(browser, "Effective from (YYYY-MM-DD)") == today
    assert fact(browser, "Effective until (YYYY-MM-DD)") == until
    items = checklist(browser)
    assert items == {
        "A letter or warning reached the supplier": True,
        "Evidence observed after that notice is linked": True,
        NOTICE_MISSING: False,
        "The notice of intent was delivered": False,
        "Its response period ended, or the answer is recorded": False,
    }, items
    assert NOT_COMPLETE in page_text(browser)
    waiting = browser.find_element(By.CSS_SELECTOR, "main p.notice[role=status]")
    assert waiting.text.startswith(WAITING), waiting.text
    evidence = browser.find_element(By.XPATH, "//main//h2[@id='evidence']/following-sibling::ul[1]").text
    assert observed in evidence and INDICATOR in evidence, evidence

    # 4. A second officer tries to decide: refused, with what is missing.
    sign_in_as(browser, second.email)
    assert open_page(browser, action_path) == 200
    assert WAITING not in page_text(browser), "the second officer is told to wait for a second officer"
    assert submit(browser, decide_button(browser)) == 422
    refusal = browser.find_element(By.CSS_SELECTOR, "main section[role=alert]")
    assert refusal.find_element(By.TAG_NAME, "h2").text.strip() == "Due process incomplete", refusal.text
    assert "No notice of intent was sent for this action" in refusal.text, refusal.text
    assert fact(browser, "Status") == "proposed"
    assert not checklist(browser)[NOTICE_MISSING]
    assert action_status(server, action_id) == "proposed"

    # 7. axe, as the admin, on the pages so far (the action page before due process).
    axe_check(browser)
    record_signal_without_then_with_a_stage(browser, supplier, observed, check_axe=True)
    assert open_page(browser, f"/actions/new?facilitator_id={supplier['id']}") == 200
    assert heading(browser) == f"Propose a licensing action: {SUPPLIER}"
    axe_check(browser)
    assert open_page(browser, signal_path) == 200
    assert heading(browser) == f"Signal: {INDICATOR}"
    axe_check(browser)

    # 5. The first officer issues the notice of intent and walks its letter to the answer.
    sign_in_as(browser, officer.email)
    assert open_page(browser, action_path) == 200
    form = form_with_legend(browser, "Notice of intent")
    assert submit(browser, button(form, "Issue the notice of intent (a draft letter to approve and send)")) == 200
    assert flash(browser) == "The notice of intent was drafted; approve and send it from its page."
    letters = browser.find_element(By.XPATH, "//main//h2[.='Letters of this action']/following-sibling::ul[1]")
    notice_links = [a for a in letters.find_elements(By.CSS_SELECTOR, "a[href^='/letters/']") if "notice_of_intent" in a.text]
    assert len(notice_links) == 1, letters.text
    notice_links[0].click()
    assert heading(browser) == "Draft letter · notice_of_intent"
    assert fact(browser, "Supplier") == SUPPLIER
    walk_letter(browser, today, answer="Disputes the facts.")
    assert fact(browser, "Summary of the answer") == "Disputes the facts."

    # 6. The answer is recorded: one element is left, weighing it in the decision
    # itself; the proposer may not decide, the second officer does, saying how.
    assert open_page(browser, action_path) == 200
    items = checklist(browser)
    assert items.pop(RESPONSE_WEIGHED) is False, checklist(browser)
    assert all(items.values()), items
    assert page_text(browser).count("✘") == 1
    assert submit(browser, decide_button(browser)) == 403
    assert heading(browser) == "Not allowed"
    assert action_status(server, action_id) == "notice_of_intent"

    sign_in_as(browser, second.email)
    assert open_page(browser, action_path) == 200
    assert NOT_COMPLETE in page_text(browser)
    axe_check(browser)  # 7. the action page after due process, as the admin
    # Deciding without weighing the answer is refused, the reason beside nothing typed yet.
    assert submit(browser, decide_button(browser)) == 422
    refusal = browser.find_element(By.CSS_SELECTOR, "main section[role=alert]")
    assert "give consideration" in refusal.text, refusal.text
    assert action_status(server, action_id) == "notice_of_intent"
    fill(browser.find_element(By.ID, "decide"), "consideration", CONSIDERATION)
    assert submit(browser, decide_button(browser)) == 200
    assert flash(browser).startswith("The action was decided"), page_alerts(browser)
    assert fact(browser, "Status") == "decided"
    assert second.email in fact(browser, "Decided") or "Admin A" in fact(browser, "Decided"), fact(browser, "Decided")
    assert action_status(server, action_id) == "decided"
    assert db_value(server, f"SELECT consideration FROM licensing_actions WHERE id = '{action_id}'") == CONSIDERATION

    # 8. Another agency finds neither the action nor the signal.
    sign_in_as(browser, accounts["officer_b"].email)
    for path, secret in ((action_path, RATIONALE), (signal_path, INDICATOR)):
        assert open_page(browser, path) == 404, path
        assert heading(browser) == "Not found"
        assert secret not in page_text(browser) and secret not in browser.page_source
    assert open_page(browser, "/actions") == 200
    assert not browser.find_elements(By.CSS_SELECTOR, f"main a[href='{action_path}']"), "agency B's list shows agency A's action"
