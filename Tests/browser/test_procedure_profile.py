"""The procedure profile in the browser: an officer of another agency reads its
shipped profile (no restrictive power, the notice that a lawyer must confirm it)
without a control to change it; an administrator stores a broken profile and
sees each broken rule by its path beside the text, nothing stored, then a
corrected one with a reason: a new version, shown with its reason and served
by the API."""

import json

from selenium.webdriver.common.by import By

from conftest import axe_check, button, field_errors, fill, flash, heading, open_page, page_alerts, path_of, sign_in, submit

PATH = "/agency/procedure-profile"


def nav_link(browser, text):
    found = browser.find_elements(By.XPATH, f"//header//nav//a[normalize-space()='{text}']")
    return found[0] if found else None


def power_row(browser, action_type):
    return browser.find_element(By.XPATH, f"//main//table//tr[th[normalize-space()='{action_type}']]").text


def set_text(browser, name, text):
    """A long text straight into the field (typing 20 kB key by key takes minutes)."""
    control = browser.find_element(By.CSS_SELECTOR, f"main [name='{name}']")
    browser.execute_script("arguments[0].value = arguments[1];", control, text)
    return control


def stored_versions(server):
    status, body, _ = server.api("GET", "/api/v1/agency/procedure-profile/versions", server.tokens["admin_a"])
    assert status == 200, body
    return body["items"]


def test_an_officer_of_another_agency_reads_its_shipped_profile_without_controls(browser, server, accounts):
    sign_in(browser, accounts["officer_b"].email)
    link = nav_link(browser, "Procedure profile")
    assert link is not None, "the navigation has no Procedure profile link"
    link.click()
    assert path_of(browser) == PATH
    assert heading(browser).startswith("Procedure profile: Belgium"), heading(browser)
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "a lawyer of the agency must confirm the profile" in text
    assert "shipped:BE" in text
    for action_type in ("conditions", "fine", "suspension", "revocation"):
        assert "No power: the agency can only warn the supplier or refer the case" in power_row(browser, action_type), action_type
    assert "Conseil d" in text or "Raad van State" in text, "the Belgian remedy is not shown"
    assert not browser.find_elements(By.CSS_SELECTOR, "main form[action='/agency/procedure-profile']"), "an officer gets the edit form"
    assert "Only an administrator of the agency can store a new version." in text
    axe_check(browser)


def test_an_administrator_stores_a_new_version_after_fixing_the_broken_rules(browser, server, accounts):
    before = stored_versions(server)
    sign_in(browser, accounts["admin_a"].email)
    assert open_page(browser, PATH) == 200
    assert heading(browser).startswith("Procedure profile: Netherlands"), heading(browser)
    assert "Artikel 12" in power_row(browser, "fine") or "Article 12" in power_row(browser, "fine"), power_row(browser, "fine")
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/agency/procedure-profile']")
    profile = json.loads(form.find_element(By.NAME, "profile").get_attribute("value"))
    assert profile["jurisdiction"] == "NL"

    # Broken: a period of 13 months, a holiday calendar that does not exist, and no reason.
    broken = json.loads(json.dumps(profile))
    remedy = broken["actions"]["fine"]["remedy"]
    broken["remedies"][remedy]["period"] = {"count": 13, "unit": "months"}
    broken["deadlines"]["holidays"] = "XX"
    typed = json.dumps(broken, indent=2, ensure_ascii=False)
    set_text(browser, "profile", typed)
    fill(form, "reason", "")
    assert submit(browser, button(form, "Store the new version")) == 422
    problems = " ".join(page_alerts(browser))
    assert f"remedies.{remedy}.period.count" in problems and "deadlines.holidays" in problems, problems
    errors = field_errors(browser)
    assert set(errors) == {"profile", "reason"}, errors
    assert "nothing was stored" in errors["profile"]
    assert json.loads(browser.find_element(By.NAME, "profile").get_attribute("value")) == broken, "the typed profile was not kept"
    assert stored_versions(server) == before
    axe_check(browser)

    # Fixed, with the reason: a new version.
    fixed = json.loads(json.dumps(profile))
    fixed["record_years"] = 3
    set_text(browser, "profile", json.dumps(fixed, indent=2, ensure_ascii=False))
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/agency/procedure-profile']")
    fill(form, "reason", "Record period confirmed by legal services, memo 2026-44")
    assert submit(browser, button(form, "Store the new version")) == 200
    assert flash(browser) == "The new version of the procedure profile is stored."
    assert field_errors(browser) == {}
    after = stored_versions(server)
    assert len(after) == len(before) + 1 and after[0]["reason"] == "Record period confirmed by legal services, memo 2026-44"
    assert "memo 2026-44" in browser.find_element(By.TAG_NAME, "main").text
    status, current, headers = server.api("GET", PATH.replace("/agency", "/api/v1/agency"), server.tokens["admin_a"])
    assert status == 200 and current["profile"]["record_years"] == 3 and headers.get("ETag") == f'"{after[0]["version"]}"'
