"""The barrier model as the paper draws it, on the matrix report's page: one row
per stage with its facilitators, the paper's opportunities, signals, partners and
barriers; its CSV link serves the same table."""

from selenium.webdriver.common.by import By

from conftest import axe_check, fetch, heading, open_page, sign_in

TITLE = "The barrier model: facilitators, opportunities, signals, partners and barriers per stage"


def test_the_barrier_model_per_stage_with_the_papers_opportunities_and_its_csv(browser, server, accounts):
    sign_in(browser, accounts["auditor_a"].email)
    assert open_page(browser, "/reports/matrix") == 200
    sections = [s for s in browser.find_elements(By.CSS_SELECTOR, "main section") if s.find_element(By.TAG_NAME, "h2").text == TITLE]
    assert len(sections) == 1, [s.find_element(By.TAG_NAME, "h2").text for s in browser.find_elements(By.CSS_SELECTOR, "main section")]
    table = sections[0].find_element(By.TAG_NAME, "table")
    columns = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert columns[:5] == ["stage", "suppliers", "facilitators", "opportunities", "signals"], columns
    rows = {tr.find_elements(By.TAG_NAME, "td")[0].text: [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert list(rows) == ["setting_up_marketplace", "running_marketplace", "selling", "shipping"], list(rows)
    assert rows["shipping"][3] == "Sophisticated concealment; Increase of parcel shipment"
    assert "Prohibition of drugs" in rows["selling"][3]
    link = sections[0].find_element(By.CSS_SELECTOR, "caption a").get_attribute("href")
    status, headers, body = fetch(browser, link.replace(browser.base_url, ""))
    assert status == 200 and headers.get("Content-Type", "").startswith("text/csv"), (status, headers)
    lines = body.decode().splitlines()
    assert lines[0].startswith("stage,suppliers,facilitators,opportunities,signals") and len(lines) == 5, lines[:2]
    axe_check(browser)
