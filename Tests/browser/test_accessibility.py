"""axe-core finds no serious or critical accessibility problem on the pages."""

import pytest

from conftest import FORM_PAGES, READ_PAGES, axe_check, field_errors, heading, open_page, sign_in, submit_sign_in


def test_sign_in_page_passes_axe(browser):
    assert open_page(browser, "/login") == 200
    heading(browser)
    axe_check(browser)


def test_sign_in_page_with_its_errors_passes_axe(browser, accounts):
    assert submit_sign_in(browser, accounts["admin_a"].email, "not-the-password-at-all") == 401
    assert field_errors(browser), "the refused sign-in shows no field error"
    axe_check(browser)


@pytest.mark.parametrize("path", READ_PAGES)
def test_signed_in_pages_pass_axe(browser, accounts, plan_a, path):
    sign_in(browser, accounts["admin_a"].email)
    assert open_page(browser, path.format(plan=plan_a["id"])) == 200
    heading(browser)
    results = axe_check(browser)
    assert len(results["passes"]) >= 5, "axe checked almost nothing"


@pytest.mark.parametrize("path", FORM_PAGES)
def test_form_pages_pass_axe(browser, accounts, plan_a, path):
    sign_in(browser, accounts["admin_a"].email)
    assert open_page(browser, path.format(plan=plan_a["id"])) == 200
    heading(browser)
    axe_check(browser)
