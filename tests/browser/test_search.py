"""Search in a real browser: results as you type with the address kept, landing on the row, and no JavaScript at all."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"


def test_typing_updates_the_results_and_the_address_without_a_reload(page, server_url):
    page.goto(server_url + "/search/")
    page.evaluate("window.__marker = 'kept'")
    assert page.evaluate("document.activeElement.id") == "search-q"  # the box has the focus: type at once
    page.keyboard.type("800,00", delay=40)
    page.wait_for_selector("#results mark")
    page.keyboard.type("0", delay=40)
    page.wait_for_url(re.compile(r"/search/\?q=800%2C000$"))
    # Polled by Playwright's own locators: a string given to wait_for_function would need eval, which CSP refuses.
    # Other browser tests share this server's database and may add matches, so counts are lower bounds.
    expect(page.locator("#search-status")).to_contain_text("for “800,000”")
    assert page.locator("#results-clause .search-hit").count() >= 2
    assert page.evaluate("window.__marker") == "kept", "typing reloaded the whole page"
    assert re.match(r"^\d+ matches for “800,000”", page.inner_text("#search-status"))
    assert page.title() == "Search: 800,000 · peaceplans"
    assert page.input_value("#search-q") == "800,000"
    assert page.evaluate("document.activeElement.id") == "search-q", "the swap took the focus from the box"
    assert page.evaluate("window.__cspViolations") == []


def test_clicking_the_800000_result_lands_on_its_comparison_row(page, server_url):
    page.goto(server_url + "/search/?q=800%2C000")
    page.click('#results-clause a[href$="/compare/?a=us-28-point-draft&b=e3-counter-proposal#point-6"]')
    page.wait_for_url(re.compile(r"/compare/\?a=us-28-point-draft&b=e3-counter-proposal#point-6$"))
    row = page.locator("#point-6")
    assert page.evaluate("document.querySelector(':target').id") == "point-6"
    assert "800,000" in row.inner_text() and "600,000" in row.inner_text()
    box = row.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"], "the row is not in view"
    assert page.evaluate("window.__cspViolations") == []


def test_the_wording_link_lands_on_the_clause_on_the_point_page(page, server_url):
    page.goto(server_url + "/search/?q=800%2C000")
    page.click(f'#results-clause a[href$="/plans/{PLAN}/points/6/#clause-berlin-joint-statement"]')
    page.wait_for_url(re.compile(rf"/plans/{PLAN}/points/6/#clause-berlin-joint-statement$"))
    assert "800,000" in page.inner_text("#clause-berlin-joint-statement")


def test_search_works_with_javascript_off(browser, server_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server_url + "/search/")
    page.fill("#search-q", '"peacetime level"')
    page.click("#search-form button[type=submit]")
    page.wait_for_url(re.compile(r"q=%22peacetime\+level%22"))
    assert "<mark>peacetime level</mark>" in page.inner_html("#results-clause")
    context.close()
