"""The registry's CSV import in the browser, from sign-in: a file with bad
lines (each listed with its number and reason, nothing imported), then a good
one (previewed, confirmed, imported), the export link, and axe on each page.
A second confirmation of the same file (404, nothing imported twice) is
checked over HTTP.

The same flow over HTTP is Tests/BarrierServerTests/ImportPageTests.swift."""

import secrets

from selenium.webdriver.common.by import By

from conftest import (axe_check, button, db_value, fetch, flash, heading, open_page, path_of, sign_in, submit)

COLUMNS = ("id,legal_name,aliases,sector,stages,markets,country,registration_number,vat_number,"
           "street,postal_code,city,website,email,phone,status,notes,contacts")


def row(name, sector="courier", country="DE", city="", registration=""):
    fields = ["", name, "", sector, "shipping", "", country, registration, "", "", "", city, "", "", "", "", "", ""]
    return ",".join(fields)


def count_named(server, tag):
    return int(db_value(server, f"SELECT count(*) FROM facilitators WHERE legal_name LIKE '%{tag}%'"))


def upload(browser, path):
    form = browser.find_element(By.CSS_SELECTOR, "main form[action='/suppliers/import']")
    form.find_element(By.NAME, "file").send_keys(str(path))
    return submit(browser, button(form, "Check the file"))


def problems(browser):
    """(line, column, reason) of each row of the bad-lines table."""
    rows = browser.find_elements(By.CSS_SELECTOR, "main table.problems tbody tr")
    return [tuple(td.text.strip() for td in r.find_elements(By.TAG_NAME, "td")) for r in rows]


def test_a_bad_file_is_refused_line_by_line_and_a_good_one_is_imported_once(browser, server, accounts, tmp_path):
    tag = "Importtest " + secrets.token_hex(3)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([COLUMNS, row(f"{tag} Kurier GmbH", city="Hamburg"), row(f"{tag} Fahrrad Ltd", sector="bicycles"),
                              row(f"{tag} Nirgendwo SARL", country="ZZ")]) + "\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("\n".join([COLUMNS, row(f"{tag} Kurier GmbH", city="Hamburg"), row(f"{tag} Paketdienst KG", city="Bremen"),
                               row(f"{tag} Bote OHG", city="Kiel")]) + "\n", encoding="utf-8")

    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/suppliers") == 200
    browser.find_element(By.LINK_TEXT, "Import a CSV file").click()
    assert path_of(browser) == "/suppliers/import"
    assert heading(browser) == "Import suppliers from a CSV file"
    axe_check(browser)

    # A file with two bad lines: each listed, nothing imported, nothing offered to import.
    assert upload(browser, bad) == 422
    assert "2 line(s) of the file are invalid; nothing was imported." in browser.find_element(By.CSS_SELECTOR, "main [role=alert]").text
    found = problems(browser)
    assert [(line, column) for line, column, _ in found] == [("3", "sector"), ("4", "country")], found
    assert "bicycles" in found[0][2] or "sector" in found[0][2], found
    assert not browser.find_elements(By.CSS_SELECTOR, "main form[action^='/suppliers/import/']")
    assert count_named(server, tag) == 0
    axe_check(browser)

    # The corrected file: a preview of its rows, nothing written until confirmed.
    browser.find_element(By.LINK_TEXT, "Upload a corrected file").click()
    assert upload(browser, good) == 200
    assert "3 supplier(s) will be registered" in flash(browser)
    preview = browser.find_element(By.CSS_SELECTOR, "main table.preview").text
    assert f"{tag} Paketdienst KG" in preview and "Bremen" in preview, preview
    assert count_named(server, tag) == 0
    axe_check(browser)
    confirm = browser.find_element(By.CSS_SELECTOR, "main form[action^='/suppliers/import/']")
    assert submit(browser, button(confirm, "Import the file")) == 200
    assert heading(browser) == "Import done"
    assert flash(browser) == "3 supplier(s) imported."
    assert count_named(server, tag) == 3
    axe_check(browser)

    # The export has them.
    assert open_page(browser, "/suppliers") == 200
    link = browser.find_element(By.LINK_TEXT, "Export the registry as CSV").get_attribute("href")
    status, headers, body = fetch(browser, link.replace(browser.base_url, ""))
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    text = body.decode("utf-8")
    assert text.startswith(COLUMNS) and f"{tag} Bote OHG" in text


def test_an_auditor_cannot_import(browser, accounts):
    sign_in(browser, accounts["auditor_a"].email)
    assert open_page(browser, "/suppliers") == 200
    assert not browser.find_elements(By.LINK_TEXT, "Import a CSV file")
    assert open_page(browser, "/suppliers/import") == 403


def test_a_file_with_more_flagged_rows_than_listed_says_how_many_there_are(browser, server, accounts, tmp_path):
    # 1,003 rows of one name: 1,002 are flagged as the same as line 2, the first 1,000 listed.
    tag = "Gleichname " + secrets.token_hex(3)
    many = tmp_path / "many.csv"
    many.write_text("\n".join([COLUMNS] + [row(f"{tag} Kurier GmbH", city="Hamburg")] * 1003) + "\n", encoding="utf-8")

    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/suppliers/import") == 200
    assert upload(browser, many) == 200
    assert "1003 supplier(s) will be registered" in flash(browser)
    main = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "1002 rows are flagged; these are the first 1000, by line." in main, main[:500]
    flagged = browser.find_elements(By.CSS_SELECTOR, "main table:not(.preview):not(.problems) tbody tr")
    assert len(flagged) == 1000
    assert flagged[0].text.split()[0] == "3" and "same name and country as line 2" in flagged[0].text
    # (axe runs on the preview of the first test: over 2,000 table rows it takes longer than its script timeout)
    confirm = browser.find_element(By.CSS_SELECTOR, "main form[action^='/suppliers/import/']")
    assert submit(browser, button(confirm, "Import the file")) == 200
    assert flash(browser) == "1003 supplier(s) imported."
    assert "1002 rows are flagged; these are the first 1000, by line." in browser.find_element(By.CSS_SELECTOR, "main").text
    assert count_named(server, tag) == 1003
