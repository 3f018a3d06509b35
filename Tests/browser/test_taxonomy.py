"""The barrier model's catalogues in the browser: an officer reads them and is
offered no change; an administrator adds a sector (refused first without its
German name, the error beside that field and what was typed kept), changes its
label with a reason (a second version listed), and the supplier form offers the
new sector at once. axe checks the pages."""

from selenium.webdriver.common.by import By

from conftest import axe_check, button, db_value, fill, flash, heading, open_page, page_text, path_of, sign_in, submit
from test_licensing import sign_in_as

CODE = "cargo_bike_courier"


def add_form(browser, catalogue):
    return browser.find_element(By.CSS_SELECTOR, f"main form[action='/admin/taxonomy/{catalogue}']")


def error_of(browser, field_id):
    found = browser.find_elements(By.ID, f"{field_id}-error")
    return found[0].text.strip() if found else ""


def test_an_admin_adds_a_sector_and_changes_it_and_an_officer_only_reads(browser, server, accounts):
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/admin/taxonomy") == 200
    assert heading(browser) == "Catalogues of the barrier model"
    for catalogue in ("sectors", "indicators", "measures", "opportunities"):
        rows = browser.find_elements(By.CSS_SELECTOR, f"#table-{catalogue} tbody tr")
        assert rows, f"the {catalogue} table is empty"
    assert "Increased use of bitcoin-ATMs in public spaces" in page_text(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "main form[method=post]"), "an officer is offered a change"

    sign_in_as(browser, accounts["admin_a"].email)
    assert open_page(browser, "/admin/taxonomy") == 200
    axe_check(browser)
    form = add_form(browser, "sectors")
    fill(form, "code", CODE)
    fill(form, "label", "Cargo-bike courier")
    fill(form, "names.en", "cargo-bike courier")
    fill(form, "names.fr", "coursier à vélo cargo")
    fill(form, "names.nl", "bakfietskoerier")
    fill(form, "reason", "Cargo bikes carry parcels in the city centres.")
    assert submit(browser, button(form, "Add")) == 422
    assert error_of(browser, "new-sectors-names-de").startswith("is required"), error_of(browser, "new-sectors-names-de")
    form = add_form(browser, "sectors")
    assert form.find_element(By.NAME, "code").get_attribute("value") == CODE, "what was typed is lost"
    assert db_value(server, f"SELECT count(*) FROM sectors WHERE code = '{CODE}'") == "0"
    fill(form, "names.de", "Lastenradkurier")
    assert submit(browser, button(form, "Add")) == 200
    assert flash(browser) == "The entry was added."
    assert path_of(browser) == f"/admin/taxonomy/sectors/{CODE}"  # the query ?added=1 aside
    assert heading(browser) == "Cargo-bike courier"
    versions = browser.find_elements(By.CSS_SELECTOR, "#versions li")
    assert len(versions) == 1 and "Cargo bikes carry parcels" in versions[0].text

    # A change with its reason is a second version.
    form = browser.find_element(By.CSS_SELECTOR, f"main form[action='/admin/taxonomy/sectors/{CODE}']")
    fill(form, "label", "Cargo-bike courier service")
    fill(form, "reason", "The trade's own term.")
    assert submit(browser, button(form, "Save the change")) == 200
    assert flash(browser) == "The change was saved as a new version."
    assert heading(browser) == "Cargo-bike courier service"
    versions = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#versions li")]
    assert len(versions) == 2 and "The trade's own term." in versions[0], versions
    axe_check(browser)

    # The supplier form offers it at once.
    assert open_page(browser, "/suppliers/new") == 200
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "select[name='sector'] option")]
    assert CODE in options, options
