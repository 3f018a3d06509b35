"""Signing in through /login, as a person would."""

import re
import urllib.parse

from selenium.webdriver.common.by import By

from conftest import field_errors, heading, open_page, page_alerts, sign_in, signed_in_as, submit_sign_in


def path_of(browser):
    return urllib.parse.urlsplit(browser.current_url).path


def test_admin_signs_in_and_lands_on_a_page_with_a_visible_heading(browser, accounts):
    status = open_page(browser, "/login")
    assert status == 200
    assert heading(browser)
    assert signed_in_as(browser) == "", "the sign-in page shows someone signed in"

    status = sign_in(browser, accounts["admin_a"].email)
    assert status == 200, f"signing in led to {browser.current_url}, which answered {status}"
    assert heading(browser)
    assert sign_out_visible(browser)


def sign_out_visible(browser):
    buttons = browser.find_elements(By.CSS_SELECTOR, "form[action='/logout'] button")
    return bool(buttons) and buttons[0].is_displayed()


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back_to_the_page_asked_for(browser, accounts):
    open_page(browser, "/plans")
    assert path_of(browser) == "/login", "a signed-out visitor saw /plans"
    assert signed_in_as(browser) == ""

    sign_in(browser, accounts["officer_a1"].email)
    assert path_of(browser) == "/plans"
    assert heading(browser)


def test_a_wrong_password_is_refused_and_marked_beside_the_password(browser, accounts):
    email = accounts["officer_a1"].email
    status = submit_sign_in(browser, email, "not-the-password-at-all")
    assert status == 401
    assert path_of(browser) == "/login"
    assert signed_in_as(browser) == ""
    errors = field_errors(browser)
    assert "password" in errors, f"no error beside the password: {errors}"
    assert re.search(r"not right|wrong|incorrect", errors["password"], re.I), errors["password"]
    assert browser.find_element(By.NAME, "email").get_attribute("value") == email, "the e-mail typed was lost"


def test_an_address_is_locked_after_repeated_wrong_passwords_even_for_the_right_one(browser, server, accounts):
    """AccessStore.SignInThrottle: the 5th wrong password within 15 minutes locks the address."""
    account = accounts["officer_a2"]
    try:
        for attempt in range(1, 5):
            assert submit_sign_in(browser, account.email, f"wrong password {attempt}") == 401, f"attempt {attempt}"
            assert not re.search(r"too many", field_errors(browser).get("password", ""), re.I), \
                f"locked after only {attempt} wrong password(s)"
        assert submit_sign_in(browser, account.email, "wrong password 5") == 429
        message = field_errors(browser).get("password", "") or " ".join(page_alerts(browser))
        assert re.search(r"too many wrong passwords", message, re.I), f"no lock message: {message!r}"
        assert re.search(r"\d+ minute", message), f"the lock message does not say for how long: {message!r}"

        # The right password does not help while the lock lasts.
        assert submit_sign_in(browser, account.email, account.password) == 429
        assert path_of(browser) == "/login"
        assert signed_in_as(browser) == ""
        assert re.search(r"too many wrong passwords", field_errors(browser).get("password", ""), re.I)

        # Another address is not locked with it.
        sign_in(browser, accounts["officer_a1"].email)
    finally:
        server.cli("user", "unlock", "--email", account.email, check=False)

    # The operator lifted the lock: the right password signs in again.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    sign_in(browser, account.email, account.password)
