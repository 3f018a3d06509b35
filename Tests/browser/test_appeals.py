"""Appeals and referrals in the browser: a fine decided by agency A is taken to
objection, the court orders interim relief (refused first without the court's
name, the error beside the field), the objection is decided varied with a lower
amount (refused first with conditions a fine cannot have), and the court stage
follows; a referral to the authority the profile names is concluded with that
authority's outcome. Agency B finds none of it, and axe checks the page.

The same rules over the store are `LicensingAppealStoreTests`."""

import json

import pytest
from selenium.webdriver.common.by import By

from conftest import (axe_check, button, choose, create_supplier, db_execute, db_value, fact, fetch, fill, flash, form_with_legend,
                      open_page, page_alerts, page_text, sign_in, submit)
from test_licensing import error_beside, sign_in_as

SUPPLIER = "Pakketpost Noord B.V."


@pytest.fixture(scope="module")
def supplier(server):
    return create_supplier(server, SUPPLIER, street="Kade 7", postal_code="9711 AA", city="Groningen")


def agency_of(server, account):
    return db_value(server, f"SELECT id::text FROM agencies WHERE name = '{account.agency}'")


def insert_action(server, supplier, agency, kind):
    """A decided action of agency A, as if decided three days ago by its second officer."""
    if kind == "fine":
        terms = "'fine', 'Art. 12 Test Licensing Act', 2500000, 'EUR', current_date - 3"
    else:
        terms = "'referral', 'Art. 4 Postwet 2009', NULL, NULL, NULL"
    return db_value(server, f"""
        INSERT INTO licensing_actions (facilitator_id, agency_id, type, legal_basis, amount_minor, currency, effective_from, status, rationale,
            proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_suspends)
        VALUES ('{supplier['id']}', '{agency}', {terms}, 'decided', 'Kept carrying the market''s parcels.',
            'cli:officer', current_date - 3, now(), 'cli:director', 'warning', false)
        RETURNING id::text""")


def stage_rows(browser):
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#appeal-stages tbody tr")]


def test_an_objection_with_interim_relief_is_varied_and_taken_to_court(browser, server, accounts, supplier):
    officer = accounts["officer_a1"]
    today = db_value(server, "SELECT current_date::text")
    action_id = insert_action(server, supplier, agency_of(server, officer), "fine")
    path = f"/actions/{action_id}"
    sign_in(browser, officer.email)
    assert open_page(browser, path) == 200
    assert fact(browser, "Amount of a fine (e.g. 5000.00)") == "25000.00 EUR"

    # The objection, lodged today.
    form = form_with_legend(browser, "Record an appeal")
    fill(form, "lodged_on", today)
    fill(form, "grounds", "The amount is disproportionate.")
    assert submit(browser, button(form, "Record the appeal")) == 200
    assert flash(browser) == "The appeal was recorded.", page_alerts(browser)
    rows = stage_rows(browser)
    assert len(rows) == 1 and rows[0][0] == "1" and "bezwaar" in rows[0][1] and rows[0][2] == today, rows
    assert fact(browser, "Status") == "appealed"
    assert "suspended" not in page_text(browser), "a Dutch objection does not suspend the decision"

    # Interim relief: refused without the court's name (the error beside the field), then recorded.
    form = form_with_legend(browser, "Interim relief")
    fill(form, "ordered_on", today)
    fill(form, "reason", "Voorlopige voorziening, zaak 26/1234")
    assert submit(browser, button(form, "Record the order")) == 422
    assert "name the court" in error_beside(browser, "ordered_by"), error_beside(browser, "ordered_by")
    assert db_value(server, f"SELECT count(*) FROM licensing_appeals WHERE action_id = '{action_id}' AND relief_ordered_on IS NOT NULL") == "0"
    form = form_with_legend(browser, "Interim relief")
    fill(form, "ordered_on", today)
    fill(form, "ordered_by", "Rechtbank Den Haag, voorzieningenrechter")
    fill(form, "reason", "Voorlopige voorziening, zaak 26/1234")
    assert submit(browser, button(form, "Record the order")) == 200
    assert flash(browser).startswith("The order of interim relief was recorded"), page_alerts(browser)
    assert "The decision's effect is suspended while the appeal is pending." in page_text(browser)
    assert "Rechtbank Den Haag" in stage_rows(browser)[0][4]
    assert not browser.find_elements(By.XPATH, "//main//legend[.='Interim relief']"), "a second order is offered"
    axe_check(browser)

    # Varied: conditions are refused for a fine (beside the field), then a lower amount is recorded.
    form = form_with_legend(browser, "Outcome of the appeal")
    choose(form, "outcome", "varied")
    fill(form, "decided_on", today)
    fill(form, "reason", "Lowered on objection.")
    fill(form, "conditions", "Check every sender's ID.")
    assert submit(browser, button(form, "Record the outcome")) == 422
    assert "only an action of type conditions" in error_beside(browser, "conditions"), error_beside(browser, "conditions")
    assert db_value(server, f"SELECT status FROM licensing_actions WHERE id = '{action_id}'") == "appealed"
    form = form_with_legend(browser, "Outcome of the appeal")
    choose(form, "outcome", "varied")
    fill(form, "decided_on", today)
    fill(form, "reason", "Lowered on objection.")
    fill(form, "amount_minor", "1000000")
    assert submit(browser, button(form, "Record the outcome")) == 200
    assert flash(browser) == "The outcome of the appeal was recorded.", page_alerts(browser)
    assert fact(browser, "Status") == "varied"
    assert fact(browser, "Amount of a fine (e.g. 5000.00)") == "10000.00 EUR"
    row = stage_rows(browser)[0]
    assert row[3].startswith("varied") and "amount_minor: 1000000" in row[3], row
    assert db_value(server, f"SELECT previous_terms->>'amount_minor' FROM licensing_appeals WHERE action_id = '{action_id}'") == "2500000"

    # The court: a second stage, named by the profile.
    form = form_with_legend(browser, "Record an appeal")
    fill(form, "lodged_on", today)
    fill(form, "grounds", "Still disproportionate.")
    assert submit(browser, button(form, "Record the appeal")) == 200
    rows = stage_rows(browser)
    assert len(rows) == 2 and rows[1][0] == "2" and "beroep" in rows[1][1], rows

    # Agency B finds nothing of it.
    sign_in_as(browser, accounts["officer_b"].email)
    assert open_page(browser, path) == 404
    assert "Rechtbank Den Haag" not in browser.page_source


def test_a_referral_is_concluded_with_the_authoritys_outcome(browser, server, accounts, supplier):
    officer = accounts["officer_a1"]
    today = db_value(server, "SELECT current_date::text")
    action_id = insert_action(server, supplier, agency_of(server, officer), "referral")
    path = f"/actions/{action_id}"
    sign_in(browser, officer.email)
    assert open_page(browser, path) == 200
    assert not browser.find_elements(By.XPATH, "//main//legend[.='Record an appeal']"), "a referral offers an appeal"
    assert not browser.find_elements(By.XPATH, "//main//legend[.='Lift the action']"), "a referral offers lifting"
    form = form_with_legend(browser, "Outcome of the referral")
    choose(form, "outcome", "action_taken")
    fill(form, "concluded_on", today)
    assert submit(browser, button(form, "Record the outcome of the referral")) == 422
    assert "say what the authority decided" in error_beside(browser, "note"), error_beside(browser, "note")
    assert db_value(server, f"SELECT status FROM licensing_actions WHERE id = '{action_id}'") == "decided"
    form = form_with_legend(browser, "Outcome of the referral")
    choose(form, "outcome", "action_taken")
    fill(form, "concluded_on", today)
    fill(form, "note", "ACM imposed conditions, ref. ACM/26/0042.")
    assert submit(browser, button(form, "Record the outcome of the referral")) == 200
    assert flash(browser) == "The outcome of the referral was recorded.", page_alerts(browser)
    assert fact(browser, "Status") == "concluded"
    outcome = browser.find_element(By.ID, "referral-outcome").text
    assert "action_taken" in outcome and "ACM/26/0042" in outcome, outcome
    axe_check(browser)
    sign_in_as(browser, accounts["officer_b"].email)
    assert open_page(browser, path) == 404


def test_a_sole_trader_is_marked_on_the_form_and_the_register_withholds_the_name(browser, server, accounts):
    """An officer marks a supplier a natural person on its edit form; once a fine
    against it is final, the public register lists the fine without the name
    (the NL profile publishes no names of natural persons)."""
    officer = accounts["officer_a1"]
    sole = create_supplier(server, "Pieter Bakker", country="NL", street="Markt 3", city="Zwolle", registration_number="KVK 87654321")
    sign_in(browser, officer.email)
    assert open_page(browser, f"/suppliers/{sole['id']}/edit") == 200
    form = browser.find_element(By.CSS_SELECTOR, f"main form[action='/suppliers/{sole['id']}']")
    box = form.find_element(By.NAME, "natural_person")
    assert not box.is_selected()
    box.click()
    assert submit(browser, button(form, "Save")) == 200
    assert flash(browser) == "Saved."
    assert fact(browser, "Natural person") == "yes (sole trader)"
    assert open_page(browser, f"/suppliers/{sole['id']}/edit") == 200
    assert browser.find_element(By.NAME, "natural_person").is_selected(), "the edit form forgets the mark"
    db_execute(server, f"""
        INSERT INTO licensing_actions (facilitator_id, agency_id, type, legal_basis, amount_minor, currency, effective_from, status, rationale,
            proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_ends_on)
        VALUES ('{sole['id']}', '{agency_of(server, officer)}', 'fine', 'Art. 12 Test Licensing Act', 50000, 'EUR', current_date - 60,
            'decided', 'Sold packaging to a market vendor.', 'cli:officer', current_date - 60, now(), 'cli:director', 'warning', current_date - 1)""")
    status, register = fetch_json(browser, "/public/register")
    assert status == 200
    rows = [r for r in register["items"] if r["legal_basis"] == "Art. 12 Test Licensing Act" and r["amount"] == "500.00"]
    assert len(rows) == 1, register["items"]
    assert rows[0]["supplier_name"] == "name withheld (natural person)" and rows[0]["supplier_registration_number"] is None
    assert rows[0]["supplier_name_withheld"] == "true"
    assert "Pieter Bakker" not in json.dumps(register) and "87654321" not in json.dumps(register)


def fetch_json(browser, path):
    status, _, body = fetch(browser, path)
    return status, json.loads(body)
