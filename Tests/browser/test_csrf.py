"""A form posted without the session's CSRF token is refused (403) and changes nothing."""

import urllib.error
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By

from conftest import heading, open_page, page_alerts, sign_in, sign_out_button, signed_in_as, submit


def path_of(browser):
    return urllib.parse.urlsplit(browser.current_url).path


def still_signed_in_as(browser, email):
    assert open_page(browser, "/reports") == 200
    assert path_of(browser) == "/reports", "the session ended"
    assert email in signed_in_as(browser)


def test_sign_out_without_the_csrf_token_is_refused_and_the_session_goes_on(browser, accounts):
    email = accounts["officer_a1"].email
    sign_in(browser, email)
    open_page(browser, "/reports")
    # Tamper with the page's own form: take its hidden token out (a WebDriver
    # script is not bound by the page's Content-Security-Policy).
    removed = browser.execute_script(
        "const f = document.querySelector(\"form[action='/logout']\");"
        "const t = f && f.querySelector(\"input[name='csrf']\"); if (!t) return false; t.remove(); return true;")
    assert removed, "the sign-out form has no hidden csrf field"
    assert submit(browser, sign_out_button(browser)) == 403
    assert page_alerts(browser), "the refusal says nothing to the user"
    still_signed_in_as(browser, email)


def test_sign_out_with_a_wrong_csrf_token_is_refused(browser, accounts):
    email = accounts["officer_a1"].email
    sign_in(browser, email)
    open_page(browser, "/reports")
    browser.execute_script(
        "document.querySelector(\"form[action='/logout'] input[name='csrf']\").value = 'forged-token-0123456789';")
    assert submit(browser, sign_out_button(browser)) == 403
    assert page_alerts(browser), "the refusal says nothing to the user"
    still_signed_in_as(browser, email)


def test_sign_out_with_its_token_ends_the_session(browser, accounts):
    """The control for the two above: the form as served does sign out."""
    sign_in(browser, accounts["officer_a1"].email)
    submit(browser, sign_out_button(browser))
    assert path_of(browser) == "/login"
    assert signed_in_as(browser) == ""
    open_page(browser, "/reports")
    assert path_of(browser) == "/login", "after signing out /reports still opens"


def test_a_post_from_elsewhere_with_the_session_cookie_but_no_token_is_refused(browser, server, accounts):
    """As if another site made the browser post to /logout: the cookie goes with it, the token cannot."""
    email = accounts["officer_a1"].email
    sign_in(browser, email)
    cookie = next(c for c in browser.get_cookies() if c["name"] == "barrier_session")
    request = urllib.request.Request(server.url + "/logout", data=b"", method="POST")
    request.add_header("Cookie", f"{cookie['name']}={cookie['value']}")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 403
    still_signed_in_as(browser, email)


def test_sign_in_without_the_form_token_is_refused(browser, accounts):
    account = accounts["officer_a1"]
    assert open_page(browser, "/login") == 200
    browser.execute_script("document.querySelector(\"form[action='/login'] input[name='csrf']\").remove();")
    form = browser.find_element(By.CSS_SELECTOR, "form[action='/login']")
    form.find_element(By.NAME, "email").send_keys(account.email)
    form.find_element(By.NAME, "password").send_keys(account.password)
    assert submit(browser, form.find_element(By.TAG_NAME, "button")) == 403
    assert signed_in_as(browser) == ""
    heading(browser)
    assert page_alerts(browser), "the refusal says nothing to the user"
    open_page(browser, "/reports")
    assert path_of(browser) == "/login", "signed in without the form's token"
