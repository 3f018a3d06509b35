"""An auditor reads; the pages offer them nothing to press but sign-out."""

import pytest
from selenium.webdriver.common.by import By

from conftest import READ_PAGES, heading, open_page, sign_in

BUTTONS = "button, input[type=submit], input[type=button], input[type=reset], input[type=image], [role=button]"


def changing_controls(browser):
    """Visible buttons other than sign-out that would send something: a
    filter form that only reads (method GET) does not count."""
    found = []
    for button in browser.find_elements(By.CSS_SELECTOR, BUTTONS):
        if not button.is_displayed():
            continue
        form = button.find_elements(By.XPATH, "ancestor::form[1]")
        if form and form[0].get_attribute("action").endswith("/logout"):
            continue
        if form and (form[0].get_attribute("method") or "get").lower() == "get":
            continue
        found.append((button.text or button.get_attribute("value") or button.get_attribute("outerHTML"))[:80])
    for form in browser.find_elements(By.CSS_SELECTOR, "form"):
        if (form.get_attribute("method") or "get").lower() != "get" and not form.get_attribute("action").endswith("/logout"):
            found.append("form posting to " + form.get_attribute("action"))
    return found


@pytest.mark.parametrize("path", READ_PAGES)
def test_an_auditor_sees_no_button_but_sign_out(browser, accounts, plan_a, path):
    sign_in(browser, accounts["auditor_a"].email)
    assert open_page(browser, path.format(plan=plan_a["id"])) == 200
    heading(browser)
    sign_out = browser.find_elements(By.CSS_SELECTOR, "form[action='/logout'] button")
    assert sign_out and sign_out[0].is_displayed(), "no sign-out button"
    assert changing_controls(browser) == []
