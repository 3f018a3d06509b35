"""Cooperation and measures in the browser, from the supplier page: a level
change refused without a reason (the error beside the field), then made; a
contact logged; a commitment recorded and its implementation; axe on the page;
an auditor sees no form and another agency sees none of it."""

from selenium.webdriver.common.by import By

from conftest import (axe_check, form_with_legend, button, choose, create_supplier, db_value, fill, flash, heading, open_page, page_text,
                      path_of, sign_in, submit)


def test_an_officer_changes_the_level_logs_a_contact_and_records_a_commitment(browser, server, accounts):
    supplier = create_supplier(server, "Kooperativ Paket GmbH")
    today = db_value(server, "SELECT current_date::text")
    due = db_value(server, "SELECT (current_date + 60)::text")
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    browser.find_element(By.LINK_TEXT, "Cooperation, contacts and measures").click()
    assert path_of(browser) == f"/suppliers/{supplier['id']}/cooperation"
    assert "not_contacted" in heading(browser)
    axe_check(browser)

    form = form_with_legend(browser, "Change the level")
    choose(form, "level", "cooperating")
    assert submit(browser, button(form, "Change")) == 422
    assert browser.find_element(By.ID, "reason-error").text
    form = form_with_legend(browser, "Change the level")
    choose(form, "level", "cooperating")
    fill(form, "reason", "Agreed to screen parcels at the depot.")
    assert submit(browser, button(form, "Change")) == 200
    assert flash(browser) == "The level was changed."
    assert "cooperating" in heading(browser)
    assert "Agreed to screen parcels at the depot." in page_text(browser)

    form = form_with_legend(browser, "Log a contact")
    choose(form, "kind", "meeting")
    fill(form, "occurred_on", today)
    fill(form, "participants", "Officer A1\nHead of security")
    fill(form, "notes", "Walked through the parcel screening.")
    assert submit(browser, button(form, "Log")) == 200
    assert flash(browser) == "The contact was logged."
    assert "Walked through the parcel screening." in page_text(browser)

    form = form_with_legend(browser, "Record a commitment")
    fill(form, "committed_on", today)
    fill(form, "due_on", due)
    assert submit(browser, button(form, "Record")) == 200
    assert flash(browser) == "The commitment was recorded."
    row = browser.find_element(By.CSS_SELECTOR, "main table tbody tr:has(form)")
    step = row.find_element(By.CSS_SELECTOR, "form")
    fill(step, "on", today)
    assert submit(browser, button(step, "Record implemented")) == 200
    assert flash(browser) == "The step was recorded."
    axe_check(browser)

    # An auditor reads it without a form; another agency's officer sees its own, untouched level.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    sign_in(browser, accounts["auditor_a"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}/cooperation") == 200
    assert "cooperating" in heading(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "main form")
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    sign_in(browser, accounts["officer_b"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}/cooperation") == 200
    assert "not_contacted" in heading(browser)
    assert "Walked through the parcel screening." not in page_text(browser)
