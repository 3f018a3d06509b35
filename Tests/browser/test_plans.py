"""Action plans in the browser, from sign-in: a plan written with an error
first (shown beside its field, what was typed kept), then saved; a manual
indicator measured and a measure moved to done from the plan's page; the plan
revised keeping both; axe on each page. The same over HTTP, with the other
agency and the auditor, is Tests/BarrierServerTests/PlanPageTests.swift."""

import secrets

from selenium.webdriver.common.by import By

from conftest import (axe_check, button, choose, db_value, fill, flash, heading, open_page, path_of, set_date, sign_in, submit)


def test_an_officer_writes_measures_and_revises_a_plan(browser, server, accounts):
    title = "Courier plan " + secrets.token_hex(3)
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/plans") == 200
    browser.find_element(By.LINK_TEXT, "Write an action plan").click()
    assert path_of(browser) == "/plans/new" and heading(browser) == "Write an action plan"
    axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/plans']")
    assert form.find_element(By.NAME, "coordinating_agency").get_attribute("value"), "the coordinating agency is not prefilled"
    fill(form, "title", title)
    set_date(browser, form.find_element(By.NAME, "starts_on"), "2026-01-01")
    set_date(browser, form.find_element(By.NAME, "ends_on"), "2026-12-31")
    fill(form, "objectives", "Inform every courier")
    fill(form, "measure0_description", "Send the first letters")
    fill(form, "measure0_objective", "0")
    fill(form, "indicator0_name", "Couriers informed")
    choose(form, "indicator0_metric", "manual")
    fill(form, "indicator0_target", "twenty")
    assert submit(browser, button(form, "Save the plan")) == 422
    assert browser.find_element(By.ID, "indicator0_target-error").text == "must be a number"
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/plans']")
    assert form.find_element(By.NAME, "title").get_attribute("value") == title
    assert form.find_element(By.NAME, "measure0_description").get_attribute("value") == "Send the first letters"
    axe_check(browser)

    fill(form, "indicator0_target", "20")
    assert submit(browser, button(form, "Save the plan")) == 200
    assert heading(browser) == title
    plan_path = path_of(browser)
    axe_check(browser)

    today = db_value(server, "SELECT current_date::text")
    measure = browser.find_element(By.CSS_SELECTOR, f"main form[action='{plan_path}/indicators/0']")
    fill(measure, "value", "5")
    set_date(browser, measure.find_element(By.NAME, "on"), today)
    assert submit(browser, button(measure, "Record")) == 200
    assert flash(browser) == "Recorded."
    assert browser.find_element(By.CSS_SELECTOR, "main progress[aria-label^='Couriers informed']").get_attribute("value") == "25"
    status = browser.find_element(By.CSS_SELECTOR, f"main form[action='{plan_path}/measures/0']")
    choose(status, "status", "done")
    assert submit(browser, button(status, "Set")) == 200
    assert "Measures done: 1 / 1" in browser.find_element(By.TAG_NAME, "main").text

    browser.find_element(By.LINK_TEXT, "Revise this plan").click()
    assert path_of(browser) == plan_path + "/edit"
    axe_check(browser)
    form = browser.find_element(By.CSS_SELECTOR, f"main form[action='{plan_path}']")
    fill(form, "title", title + " (revised)")
    fill(form, "measure1_description", "Meet the couriers' association")
    assert submit(browser, button(form, "Save the plan")) == 200
    assert flash(browser) == "The plan was revised."
    assert heading(browser) == title + " (revised)"
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Measures done: 1 / 2" in main and "Meet the couriers' association" in main
    assert browser.find_element(By.CSS_SELECTOR, "main progress[aria-label^='Couriers informed']").get_attribute("value") == "25"
