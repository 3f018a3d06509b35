"""The registry in the browser: registering a supplier (its errors, the
duplicate warning), searching and paging the list, editing, archiving, and
what an auditor is offered."""

import urllib.parse

import pytest
from selenium.webdriver.common.by import By

from conftest import (axe_check, button, choose, create_supplier, fact, field_errors, fill, flash, heading,
                      open_page, page_alerts, page_text, path_of, sign_in, submit)

FIRST = "Nachtfalke Versand GmbH"
SIMILAR = "Nachtfalke Versand"  # the same name without the legal form: a likely duplicate


def registration_form(browser):
    return browser.find_element(By.CSS_SELECTOR, "main form[action='/suppliers']")


def tick(form, name, value):
    box = form.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
    if not box.is_selected():
        box.click()


def value_of(browser, name):
    return browser.find_element(By.CSS_SELECTOR, f"main [name='{name}']").get_attribute("value")


def path_of_link(link):
    return urllib.parse.urlsplit(link.get_attribute("href")).path


def supplier_links(browser):
    """Names of the suppliers the list's table links to, in order."""
    return [a.text.strip() for a in browser.find_elements(By.CSS_SELECTOR, "main table tbody td:first-child a")]


def test_an_officer_registers_a_supplier_after_fixing_the_errors_and_past_the_duplicate_warning(browser, accounts):
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, "/suppliers") == 200
    browser.find_element(By.LINK_TEXT, "Register a supplier").click()
    assert path_of(browser) == "/suppliers/new"
    assert heading(browser) == "Register a supplier"
    axe_check(browser)

    # First with a country that does not exist and a broken e-mail address.
    form = registration_form(browser)
    fill(form, "legal_name", FIRST)
    choose(form, "sector", "courier")
    tick(form, "stages", "shipping")
    fill(form, "country", "XX")
    fill(form, "street", "Hafenstraße 4")
    fill(form, "postal_code", "20457")
    fill(form, "city", "Hamburg")
    fill(form, "email", "not-an-address")
    assert submit(browser, button(form, "Register")) == 422
    errors = field_errors(browser)
    assert set(errors) == {"country", "email"}, f"errors shown: {errors}"
    assert "XX" in errors["country"] and "country code" in errors["country"]
    assert "e-mail address" in errors["email"]
    assert any("not valid" in a for a in page_alerts(browser)), page_alerts(browser)
    # What was typed is still there.
    assert value_of(browser, "legal_name") == FIRST
    assert value_of(browser, "street") == "Hafenstraße 4"
    assert value_of(browser, "city") == "Hamburg"
    assert value_of(browser, "country") == "XX"
    assert value_of(browser, "email") == "not-an-address"
    assert browser.find_element(By.CSS_SELECTOR, "input[name='stages'][value='shipping']").is_selected()
    assert value_of(browser, "sector") == "courier"
    axe_check(browser)

    # Fixed: the supplier page, with the news and the name as its heading.
    form = registration_form(browser)
    fill(form, "country", "DE")
    fill(form, "email", "info@nachtfalke.example")
    assert submit(browser, button(form, "Register")) == 200
    assert flash(browser) == "The supplier was registered."
    assert heading(browser) == FIRST
    first_path = path_of(browser)
    assert first_path.startswith("/suppliers/") and first_path != "/suppliers/new"
    assert fact(browser, "Country (ISO code, e.g. DE)") == "DE"
    assert fact(browser, "Street") == "Hafenstraße 4, 20457 Hamburg"
    assert fact(browser, "E-mail") == "info@nachtfalke.example"
    assert accounts["officer_a1"].email in browser.find_element(By.CSS_SELECTOR, "ol.timeline").text
    axe_check(browser)

    # A similar name in the same country: the warning names the first one.
    assert open_page(browser, "/suppliers/new") == 200
    form = registration_form(browser)
    fill(form, "legal_name", SIMILAR)
    choose(form, "sector", "courier")
    tick(form, "stages", "shipping")
    fill(form, "country", "DE")
    assert submit(browser, button(form, "Register")) == 409
    warning = browser.find_element(By.CSS_SELECTOR, "main [role=alert]")
    assert "This supplier may be registered already" in warning.text
    listed = warning.find_elements(By.LINK_TEXT, FIRST)
    assert listed, f"the warning does not list {FIRST!r}: {warning.text!r}"
    assert path_of_link(listed[0]) == first_path
    assert field_errors(browser) == {}
    assert value_of(browser, "legal_name") == SIMILAR
    assert not [b for b in browser.find_elements(By.CSS_SELECTOR, "main form button") if b.text.strip() == "Register"], \
        "the plain Register button is still offered beside the warning"
    axe_check(browser)
    assert submit(browser, button(registration_form(browser), "Register anyway")) == 200
    assert flash(browser) == "The supplier was registered."
    assert heading(browser) == SIMILAR
    assert path_of(browser) not in (first_path, "/suppliers")

    # Both are found by a search from the list's form.
    assert open_page(browser, "/suppliers") == 200
    search = browser.find_element(By.CSS_SELECTOR, "main form[role=search]")
    fill(search, "q", "nachtfalke")
    assert submit(browser, button(search, "Show")) == 200
    assert "q=nachtfalke" in browser.current_url
    assert sorted(supplier_links(browser)) == sorted([FIRST, SIMILAR])
    assert value_of(browser, "q") == "nachtfalke"
    axe_check(browser)

    # One a page: the next page link leads to the other one, and back to the first page.
    assert open_page(browser, "/suppliers?q=nachtfalke&limit=1") == 200
    first_page = supplier_links(browser)
    assert len(first_page) == 1
    browser.find_element(By.CSS_SELECTOR, "main a[rel=next]").click()
    second_page = supplier_links(browser)
    assert len(second_page) == 1 and sorted(first_page + second_page) == sorted([FIRST, SIMILAR])
    assert not browser.find_elements(By.CSS_SELECTOR, "main a[rel=next]"), "a next page after the last"
    browser.find_element(By.LINK_TEXT, "First page").click()
    assert supplier_links(browser) == first_page

    # The dashboard counts them.
    assert open_page(browser, "/home") == 200
    assert heading(browser) == "Home"
    courier = browser.find_elements(By.XPATH, "//main//table//th[@scope='row'][normalize-space()='courier']/..")
    assert courier, "the dashboard has no row for the courier sector"
    assert int(courier[0].find_element(By.CSS_SELECTOR, "td:last-child").text) >= 2
    axe_check(browser)


def test_an_officer_edits_and_archives_a_supplier(browser, server, accounts):
    supplier = create_supplier(server, "Stille Post Paketdienst BV", country="NL", street="Kade 12", city="Rotterdam")
    sign_in(browser, accounts["officer_a2"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    assert heading(browser) == "Stille Post Paketdienst BV"
    browser.find_element(By.LINK_TEXT, "Edit").click()
    assert path_of(browser) == f"/suppliers/{supplier['id']}/edit"
    assert heading(browser) == "Edit Stille Post Paketdienst BV"
    assert value_of(browser, "legal_name") == "Stille Post Paketdienst BV"
    assert value_of(browser, "street") == "Kade 12"
    axe_check(browser)

    form = browser.find_element(By.CSS_SELECTOR, f"main form[action='/suppliers/{supplier['id']}']")
    fill(form, "legal_name", "Stille Post Pakketdienst B.V.")
    assert submit(browser, button(form, "Save")) == 200
    assert flash(browser) == "Saved."
    assert heading(browser) == "Stille Post Pakketdienst B.V."
    assert fact(browser, "Street") == "Kade 12, Rotterdam"
    assert open_page(browser, "/suppliers?q=pakketdienst") == 200
    assert "Stille Post Pakketdienst B.V." in supplier_links(browser)

    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    archive = browser.find_element(By.CSS_SELECTOR, f"main form[action='/suppliers/{supplier['id']}/archive']")
    assert submit(browser, button(archive, "Archive this supplier")) == 200
    assert flash(browser) == "The supplier was archived."
    assert heading(browser) == "Stille Post Pakketdienst B.V."
    assert fact(browser, "Status") == "archived"
    # An archived supplier is offered no edit link, no letter and no further archiving.
    assert not browser.find_elements(By.LINK_TEXT, "Edit")
    assert not browser.find_elements(By.CSS_SELECTOR, "main form[method=post]")


def test_an_auditor_reads_a_supplier_but_is_offered_no_change(browser, server, accounts):
    supplier = create_supplier(server, "Leisetreter Kurierdienst GmbH", street="Ufer 3", city="Berlin")
    sign_in(browser, accounts["auditor_a"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    assert heading(browser) == "Leisetreter Kurierdienst GmbH"
    assert fact(browser, "Street") == "Ufer 3, Berlin"
    assert "Timeline" in page_text(browser)
    assert not browser.find_elements(By.LINK_TEXT, "Edit")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href$='/edit']")
    for action in ("archive", "merge", "letters"):
        assert not browser.find_elements(By.CSS_SELECTOR, f"form[action$='/{action}']"), f"the auditor is offered the {action} form"
    posting = [f.get_attribute("action") for f in browser.find_elements(By.CSS_SELECTOR, "form")
               if (f.get_attribute("method") or "get").lower() == "post" and not f.get_attribute("action").endswith("/logout")]
    assert posting == []
    assert "Draft the letter" not in page_text(browser)
    axe_check(browser)

    assert open_page(browser, "/suppliers") == 200
    assert not browser.find_elements(By.LINK_TEXT, "Register a supplier")
    assert open_page(browser, "/suppliers/new") == 403
    assert page_alerts(browser), "the refusal says nothing to the user"
    assert open_page(browser, f"/suppliers/{supplier['id']}/edit") == 403


def test_a_contact_point_shows_only_what_is_known_of_it(browser, server, accounts):
    supplier = create_supplier(server, "Eilbote Logistik GmbH", contacts=[
        {"name": "Jana Roth"}, {"name": "Piet Kramer", "role": "Manager", "email": "piet@eilbote.example", "phone": "+31 20 123 4567"}])
    sign_in(browser, accounts["officer_a1"].email)
    assert open_page(browser, f"/suppliers/{supplier['id']}") == 200
    contacts = [li.text.strip() for li in browser.find_elements(
        By.XPATH, "//main//h2[normalize-space()='Contact point']/following-sibling::ul[1]/li")]
    assert contacts == ["Jana Roth", "Piet Kramer, Manager · piet@eilbote.example · +31 20 123 4567"]
