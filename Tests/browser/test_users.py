"""Users and API tokens in the browser: an admin adds a user (the generated
password shown once), the user signs in with it and changes it, an admin
issues a token (shown once) and revokes it, disables a user, unlocks an
address locked by wrong passwords; an officer is refused the admin pages."""

import re
import secrets
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

from conftest import (axe_check, button, choose, fact, field_errors, fill, flash, heading, open_page, page_text, path_of, set_date,
                      sign_in, sign_out_button, submit, submit_sign_in)


def one_time_secret(browser):
    return browser.find_element(By.ID, "one-time-secret").text.strip()


def sign_out(browser):
    submit(browser, sign_out_button(browser))
    assert path_of(browser) == "/login"


def unique_email(what):
    return f"{what}.{secrets.token_hex(4)}@browser.example"


def add_user(browser, email, name, role="officer", password=""):
    """Adds a user through the form (the admin signed in); returns the password shown once, or ''."""
    assert open_page(browser, "/admin/users") == 200
    browser.find_element(By.LINK_TEXT, "Add a user").click()
    assert path_of(browser) == "/admin/users/new"
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/admin/users']")
    fill(form, "email", email)
    fill(form, "name", name)
    choose(form, "role", role)
    fill(form, "password", password)
    assert submit(browser, button(form, "Add the user")) == 200
    if password:
        assert flash(browser) == "The user was added."
        return ""
    assert heading(browser) == "The user was added"
    return one_time_secret(browser)


def open_user(browser, name):
    assert open_page(browser, "/admin/users") == 200
    browser.find_element(By.LINK_TEXT, name).click()
    assert heading(browser) == name
    return browser.current_url


def user_form(browser, step):
    return browser.find_element(By.CSS_SELECTOR, f"main form[action$='/{step}']")


def api_refused_soon(server, token, seconds=12):
    """Whether the API refuses `token` (401) within `seconds`: a verified token is
    trusted for TOKEN_CACHE_SECONDS (5 s by default) before it is looked up again."""
    deadline = time.monotonic() + seconds
    while True:
        status = server.api("GET", "/api/v1/me", token)[0]
        if status == 401 or time.monotonic() > deadline:
            return status == 401
        time.sleep(0.5)


def status_without_redirect(url, cookie):
    """The status of a GET with a session cookie, redirects not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_adds_a_user_who_signs_in_with_the_password_shown_once_and_changes_it(browser, accounts):
    sign_in(browser, accounts["admin_a"].email)
    browser.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "Users").click()
    assert path_of(browser) == "/admin/users"
    assert heading(browser) == "Users"
    assert accounts["officer_a1"].email in page_text(browser)
    assert accounts["officer_b"].email not in page_text(browser), "another agency's user is listed"
    axe_check(browser)

    browser.find_element(By.LINK_TEXT, "Add a user").click()
    assert heading(browser) == "Add a user"
    axe_check(browser)
    email, name = unique_email("nora"), "Nora Vos " + secrets.token_hex(2)
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/admin/users']")
    fill(form, "email", "not-an-address")
    fill(form, "name", name)
    fill(form, "password", "too short")
    assert submit(browser, button(form, "Add the user")) == 422
    errors = field_errors(browser)
    assert set(errors) == {"email", "password"}, errors
    assert "e-mail address" in errors["email"] and "12 characters" in errors["password"]
    assert browser.find_element(By.NAME, "name").get_attribute("value") == name
    assert browser.find_element(By.NAME, "password").get_attribute("value") == "", "the password typed was sent back"
    axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/admin/users']")
    fill(form, "email", email)
    assert submit(browser, button(form, "Add the user")) == 200
    assert heading(browser) == "The user was added"
    password = one_time_secret(browser)
    assert len(password) >= 12
    assert "will not be shown again" in page_text(browser)
    axe_check(browser)
    browser.find_element(By.LINK_TEXT, "Open the user's page").click()
    assert heading(browser) == name
    assert fact(browser, "Role") == "officer" and fact(browser, "State") == "active"
    assert password not in browser.page_source
    axe_check(browser)
    sign_out(browser)

    # The new user signs in with it and changes it on their account page.
    sign_in(browser, email, password)
    assert not browser.find_elements(By.CSS_SELECTOR, "header nav a[href='/admin/users']"), "an officer is offered the Users link"
    browser.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, "Account").click()
    assert heading(browser) == "Your account"
    axe_check(browser)
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/account/password']")
    fill(form, "current_password", "not my password at all")
    fill(form, "new_password", "my own new passphrase")
    fill(form, "new_password_again", "my own new passphrase")
    assert submit(browser, button(form, "Change password")) == 422
    assert set(field_errors(browser)) == {"current_password"}, field_errors(browser)
    axe_check(browser)
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/account/password']")
    fill(form, "current_password", password)
    fill(form, "new_password", "my own new passphrase")
    fill(form, "new_password_again", "my own new passphrase")
    assert submit(browser, button(form, "Change password")) == 200
    assert flash(browser).startswith("Your password was changed.")
    sign_out(browser)
    assert submit_sign_in(browser, email, password) == 401
    sign_in(browser, email, "my own new passphrase")


def test_an_admin_issues_a_token_shown_once_and_revokes_it(browser, server, accounts):
    sign_in(browser, accounts["admin_a"].email)
    email, name = unique_email("tokens"), "Token Holder " + secrets.token_hex(2)
    add_user(browser, email, name, role="auditor")
    open_user(browser, name)
    form = user_form(browser, "tokens")
    fill(form, "token_name", "quarterly export")
    set_date(browser, form.find_element(By.NAME, "expires_on"), "2099-12-31")
    assert submit(browser, button(form, "Issue token")) == 200
    assert heading(browser) == "The API token was issued"
    token = one_time_secret(browser)
    assert token.startswith("brg_")
    assert "will not be shown again" in page_text(browser)
    axe_check(browser)
    status, me, _ = server.api("GET", "/api/v1/me", token)
    assert status == 200 and email in str(me), (status, me)

    browser.find_element(By.LINK_TEXT, "Open the user's page").click()
    assert token not in browser.page_source, "the token is shown again"
    row = browser.find_element(By.XPATH, "//main//table//tr[td[1][normalize-space()='quarterly export']]")
    assert "working" in row.text and "2100-01-01" in row.text, row.text
    axe_check(browser)
    assert submit(browser, row.find_element(By.TAG_NAME, "button")) == 200
    assert flash(browser).startswith("The token was revoked")
    row = browser.find_element(By.XPATH, "//main//table//tr[td[1][normalize-space()='quarterly export']]")
    assert "revoked" in row.text and not row.find_elements(By.TAG_NAME, "button")
    assert api_refused_soon(server, token), "the revoked token still works"


def test_an_admin_disables_a_user_whose_session_and_token_stop_working(browser, server, accounts):
    sign_in(browser, accounts["admin_a"].email)
    email, name = unique_email("leaving"), "Leaving Officer " + secrets.token_hex(2)
    add_user(browser, email, name, password="a passphrase for now")
    form = user_form(browser, "tokens")
    fill(form, "token_name", "scripts")
    assert submit(browser, button(form, "Issue token")) == 200
    token = one_time_secret(browser)
    assert server.api("GET", "/api/v1/me", token)[0] == 200
    sign_out(browser)

    # The user's own session, kept aside.
    sign_in(browser, email, "a passphrase for now")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies() if c["name"] == "barrier_session")
    assert status_without_redirect(browser.base_url + "/home", cookie) == 200
    sign_out(browser)

    sign_in(browser, accounts["admin_a"].email)
    open_user(browser, name)
    form = user_form(browser, "disable")
    assert submit(browser, button(form, "Disable")) == 200
    assert flash(browser).startswith("The user was disabled")
    assert fact(browser, "State") == "disabled"
    axe_check(browser)
    assert status_without_redirect(browser.base_url + "/home", cookie) == 303, "the disabled user's session still works"
    assert api_refused_soon(server, token), "the disabled user's token still works"
    sign_out(browser)
    assert submit_sign_in(browser, email, "a passphrase for now") == 401


def test_an_admin_unlocks_an_address_locked_by_wrong_passwords(browser, accounts):
    sign_in(browser, accounts["admin_a"].email)
    email, name = unique_email("forgetful"), "Forgetful Officer " + secrets.token_hex(2)
    add_user(browser, email, name, password="the right passphrase")
    sign_out(browser)

    for attempt in range(1, 5):
        assert submit_sign_in(browser, email, f"wrong passphrase {attempt}") == 401
    assert submit_sign_in(browser, email, "wrong passphrase 5") == 429
    assert submit_sign_in(browser, email, "the right passphrase") == 429

    sign_in(browser, accounts["admin_a"].email)
    assert open_page(browser, "/admin/users") == 200
    row = browser.find_element(By.XPATH, f"//main//table//tr[td[2][normalize-space()='{email}']]")
    assert "locked until" in row.text, row.text
    open_user(browser, name)
    assert fact(browser, "Sign-in").startswith("locked until")
    axe_check(browser)
    assert submit(browser, button(user_form(browser, "unlock"), "Unlock sign-in")) == 200
    assert flash(browser) == "The address was unlocked: the user can sign in again."
    assert fact(browser, "Sign-in") == "open"
    sign_out(browser)
    sign_in(browser, email, "the right passphrase")


def test_an_officer_is_refused_the_admin_pages_by_the_server(browser, accounts):
    sign_in(browser, accounts["officer_a1"].email)
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href='/admin/users']")
    for path in ("/admin/users", "/admin/users/new"):
        assert open_page(browser, path) == 403, path
        assert heading(browser) == "Not allowed"
        assert re.search(r"role \(officer\)", page_text(browser)), page_text(browser)
    axe_check(browser)
    assert open_page(browser, "/account") == 200
