"""The audit log in the browser: an auditor reaches it from the navigation,
filters it by record, verifies the chain, and axe finds nothing serious; an
officer has no link to it and is refused by URL."""

from selenium.webdriver.common.by import By

from conftest import axe_check, button, create_supplier, fill, heading, open_page, path_of, sign_in, submit


def test_an_auditor_filters_the_log_and_verifies_the_chain(browser, server, accounts):
    supplier = create_supplier(server, "Audit Trail Kurier GmbH")
    sign_in(browser, accounts["auditor_a"].email)
    browser.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "Audit log").click()
    assert path_of(browser) == "/audit" and heading(browser) == "Audit log"
    axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/audit']")
    fill(form, "entity_type", "facilitator")
    fill(form, "entity_id", supplier["id"])
    assert submit(browser, button(form, "Show")) == 200
    rows = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    assert rows and all(supplier["id"] in r.text for r in rows), [r.text for r in rows]
    assert any("facilitator.create" in r.text for r in rows)
    rows[0].find_element(By.LINK_TEXT, supplier["id"]).click()
    assert path_of(browser) == f"/suppliers/{supplier['id']}"

    browser.back()
    browser.find_element(By.LINK_TEXT, "Verify the whole chain now").click()
    status = browser.find_element(By.CSS_SELECTOR, "main section p[role=status]").text
    assert status.startswith("The chain is intact:"), status
    axe_check(browser)

    # A bad filter: the message beside the field, nothing listed.
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/audit']")
    fill(form, "from", "last week")
    assert submit(browser, button(form, "Show")) == 400
    assert browser.find_element(By.ID, "from-error").text.startswith("must be a date")


def test_an_officer_cannot_read_the_log(browser, accounts):
    sign_in(browser, accounts["officer_a1"].email)
    assert not browser.find_elements(By.CSS_SELECTOR, "header nav a[href='/audit']")
    assert open_page(browser, "/audit") == 403
