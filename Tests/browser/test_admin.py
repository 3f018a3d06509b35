"""The agency's administration in the browser: an administrator edits the
letterhead (fixing an error on the way), previews a new version of a letter
template against a supplier of the registry, meets the compile error with its
line, fixes it and saves; an officer reads the same pages without any control
to change them, and a post of theirs is refused."""

import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import (axe_check, button, choose, create_supplier, db_value, field_errors, fill, flash, heading, open_page,
                      page_alerts, path_of, sign_in, submit)

# A key no other browser test drafts from (no stealth-packaging supplier writes in English there),
# so the version saved here changes no other test's letters.
KEY = "inform_call_to_action.packaging.en"
SUPPLIER = "Discreet Wrap Supplies Ltd"
MARKER = "Write to our packaging desk."


@pytest.fixture(scope="module")
def supplier(server):
    """A stealth-packaging supplier with a postal address, in a country written to in English."""
    return create_supplier(server, SUPPLIER, sector="stealth_packaging", country="IE", street="Quay Street 9",
                           postal_code="D02 X285", city="Dublin")


def value_of(browser, name):
    return browser.find_element(By.CSS_SELECTOR, f"main [name='{name}']").get_attribute("value")


def agency_versions(server):
    """How many template versions agency A owns (its own, not the shipped ones)."""
    return int(db_value(server, "SELECT count(*) FROM letter_templates t JOIN agencies a ON a.id = t.agency_id "
                                f"WHERE a.name = '{server.agencies['a']}'"))


def selected_value(form, name):
    return form.find_element(By.NAME, name).get_attribute("value")


def nav_link(browser, text):
    found = browser.find_elements(By.XPATH, f"//header//nav//a[normalize-space()='{text}']")
    return found[0] if found else None


def test_an_administrator_edits_the_letterhead(browser, server, accounts):
    sign_in(browser, accounts["admin_a"].email)
    link = nav_link(browser, "Agency")
    assert link is not None, "an administrator's navigation has no Agency link"
    link.click()
    assert path_of(browser) == "/admin/agency"
    assert heading(browser) == f"Agency settings: {server.agencies['a']}"
    axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/admin/agency']")
    days = value_of(browser, "response_days")
    fill(form, "street", "Koningskade 4")
    fill(form, "postal_code", "2596 AA")
    fill(form, "city", "Den Haag")
    fill(form, "email", "not-an-address")
    fill(form, "signatory_name", "H. J. Bakker")
    fill(form, "signatory_title", "Director of Supervision")
    assert submit(browser, button(form, "Save the settings")) == 422
    errors = field_errors(browser)
    assert set(errors) == {"email"}, f"errors shown: {errors}"
    assert "e-mail address" in errors["email"]
    assert any("not valid" in a for a in page_alerts(browser)), page_alerts(browser)
    assert value_of(browser, "street") == "Koningskade 4"
    assert value_of(browser, "email") == "not-an-address"
    assert value_of(browser, "response_days") == days
    axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/admin/agency']")
    fill(form, "email", "barrier@authority.example")
    assert submit(browser, button(form, "Save the settings")) == 200
    assert flash(browser) == "The agency's settings were saved."
    assert field_errors(browser) == {}
    assert value_of(browser, "street") == "Koningskade 4"
    assert value_of(browser, "signatory_name") == "H. J. Bakker"
    status, agency, _ = server.api("GET", "/api/v1/agency", server.tokens["admin_a"])
    assert status == 200 and agency["street"] == "Koningskade 4" and agency["email"] == "barrier@authority.example", agency
    assert str(agency["response_days"]) == days, "a period nobody touched changed"


def test_an_administrator_previews_a_template_sees_the_compile_error_fixes_it_and_saves(browser, server, accounts, supplier):
    sign_in(browser, accounts["admin_a"].email)
    nav_link(browser, "Templates").click()
    assert path_of(browser) == "/admin/templates"
    assert heading(browser) == "Letter templates"
    axe_check(browser)
    browser.find_element(By.LINK_TEXT, KEY).click()
    assert urllib.parse.unquote(path_of(browser)) == f"/admin/templates/{KEY}"
    assert KEY in heading(browser)
    axe_check(browser)
    before = agency_versions(server)

    # The form holds the text in use; a line is added whose section closes with the wrong name.
    current = value_of(browser, "body")
    assert current.startswith("# "), current[:80]
    textarea = browser.find_element(By.CSS_SELECTOR, "main textarea[name='body']")
    textarea.send_keys(Keys.CONTROL, Keys.END)
    textarea.send_keys(Keys.ENTER, Keys.ENTER, "{{#agency.email}}" + MARKER + "{{/agency.phone}}")
    typed = value_of(browser, "body").replace("\r\n", "\n")
    broken_line = next(i for i, line in enumerate(typed.split("\n"), start=1) if MARKER in line)

    # The supplier, found by name, then the preview: refused with the line, nothing saved.
    form = browser.find_element(By.CSS_SELECTOR, "main form textarea[name='body']").find_element(By.XPATH, "ancestor::form")
    fill(form, "supplier_q", "Discreet Wrap")
    assert submit(browser, button(form, "Find")) == 200
    assert value_of(browser, "body").replace("\r\n", "\n") == typed, "finding a supplier lost the typed text"
    form = browser.find_element(By.CSS_SELECTOR, "main form textarea[name='body']").find_element(By.XPATH, "ancestor::form")
    choose(form, "supplier_id", supplier["id"])
    assert submit(browser, button(form, "Preview")) == 422
    errors = field_errors(browser)
    assert set(errors) == {"body"}, f"errors shown: {errors}"
    assert f"line {broken_line}: a section is closed with another name" in errors["body"], errors["body"]
    assert not browser.find_elements(By.ID, "preview-text"), "a template that does not compile was previewed"
    assert value_of(browser, "body").replace("\r\n", "\n") == typed
    assert agency_versions(server) == before
    axe_check(browser)

    # Fixed in place (the closing tag retyped): the preview shows the letter to that supplier, still nothing saved.
    textarea = browser.find_element(By.CSS_SELECTOR, "main textarea[name='body']")
    textarea.send_keys(Keys.CONTROL, Keys.END)
    textarea.send_keys(Keys.BACKSPACE * len("phone}}"), "email}}")
    form = textarea.find_element(By.XPATH, "ancestor::form")
    assert selected_value(form, "supplier_id") == supplier["id"], "the chosen supplier was forgotten"
    assert submit(browser, button(form, "Preview")) == 200
    assert field_errors(browser) == {}
    preview = browser.find_element(By.ID, "preview-text").text
    assert SUPPLIER in preview and MARKER in preview and "Quay Street 9" in preview, preview[:600]
    assert server.agencies["a"] in preview, "the preview does not carry the agency's letterhead"
    assert agency_versions(server) == before, "a preview saved a version"
    axe_check(browser)

    # Saved: a new version of the agency's, added by this administrator, now in use.
    form = browser.find_element(By.CSS_SELECTOR, "main form textarea[name='body']").find_element(By.XPATH, "ancestor::form")
    assert submit(browser, button(form, "Save as a new version")) == 200
    assert flash(browser).startswith("Version ") and "was saved" in flash(browser), flash(browser)
    assert agency_versions(server) == before + 1
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")]
    assert "in use" in rows[0] and accounts["admin_a"].email in rows[0] and "this agency's" in rows[0], rows
    assert value_of(browser, "body").replace("\r\n", "\n").endswith(MARKER + "{{/agency.email}}")
    audited = db_value(server, "SELECT actor_label FROM audit_events WHERE action = 'letter_template.add_version' "
                               "ORDER BY seq DESC LIMIT 1")
    assert audited == accounts["admin_a"].email
    axe_check(browser)


def test_an_officer_reads_the_settings_and_templates_without_controls(browser, server, accounts):
    sign_in(browser, accounts["officer_a1"].email)
    assert nav_link(browser, "Agency") is None and nav_link(browser, "Templates") is None

    assert open_page(browser, "/admin/agency") == 200
    assert heading(browser).startswith("Agency settings")
    assert not browser.find_elements(By.CSS_SELECTOR, "main form"), "an officer is offered a form on the settings"
    assert not browser.find_elements(By.CSS_SELECTOR, "main input, main textarea, main button")
    axe_check(browser)

    assert open_page(browser, "/admin/templates") == 200
    axe_check(browser)
    assert open_page(browser, f"/admin/templates/{KEY}") == 200
    assert not browser.find_elements(By.CSS_SELECTOR, "main form, main textarea, main button"), "an officer is offered template controls"
    assert browser.find_elements(By.CSS_SELECTOR, "main pre"), "the text in use is not shown"
    axe_check(browser)

    # A post made by hand, with the officer's own session and form token: refused, nothing changed.
    before = agency_versions(server)
    csrf = browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] input[name='csrf']").get_attribute("value")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    body = urllib.parse.urlencode({"csrf": csrf, "body": "# Forged\n\nDear {{supplier.name}},\n"}).encode()
    request = urllib.request.Request(browser.base_url + f"/admin/templates/{KEY}", data=body, method="POST",
                                     headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 403
    assert agency_versions(server) == before
