"""Another agency's casework is out of sight: its pages answer 404."""

from selenium.webdriver.common.by import By

from conftest import heading, open_page, sign_in


def test_an_officer_of_another_agency_cannot_open_the_plan_by_its_address(browser, accounts, plan_a):
    sign_in(browser, accounts["officer_b"].email)
    assert open_page(browser, f"/plans/{plan_a['id']}") == 404
    assert heading(browser) != plan_a["title"]
    assert plan_a["title"] not in browser.find_element(By.TAG_NAME, "body").text

    assert open_page(browser, "/plans") == 200
    assert plan_a["title"] not in browser.find_element(By.TAG_NAME, "body").text, "agency B's list shows agency A's plan"


def test_an_officer_of_the_plans_agency_opens_it(browser, accounts, plan_a):
    """The control for the test above: the same address works for agency A."""
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/plans") == 200
    browser.find_element(By.LINK_TEXT, plan_a["title"]).click()
    assert heading(browser) == plan_a["title"]
    assert open_page(browser, f"/plans/{plan_a['id']}") == 200
    assert heading(browser) == plan_a["title"]
