"""The comparison in a real browser: HTMX swaps with a permalink, Back and Forward, and no JavaScript at all."""

import re

import pytest

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
COMPARE = f"/plans/{PLAN}/compare/"


def test_changing_a_picker_swaps_only_the_comparison_and_updates_the_url(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal")
    page.evaluate("window.__marker = 'kept'")
    page.select_option("#pick-b", "europe-24-point-telegraph")
    page.wait_for_url(re.compile(r"b=europe-24-point-telegraph"))
    page.wait_for_selector("#point-6 .renumbered")
    assert page.evaluate("window.__marker") == "kept", "the change reloaded the whole page"
    assert "B: no. 11" in page.inner_text("#point-6")
    assert page.evaluate("window.__cspViolations") == []


def test_back_and_forward_restore_the_state(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal")
    page.check("input[name=changes][value=only]")
    page.wait_for_url(re.compile(r"changes=only"))
    page.check("input[name=view][value=inline]")
    page.wait_for_url(re.compile(r"view=inline"))
    page.wait_for_selector(".compare-row__inline")
    page.go_back()
    page.wait_for_url(re.compile(r"view=side"))
    page.wait_for_selector(".compare-row__sides")
    assert page.is_checked("input[name=view][value=side]")
    page.go_forward()
    page.wait_for_url(re.compile(r"view=inline"))
    page.wait_for_selector(".compare-row__inline")


def test_the_comparison_works_with_javascript_off(browser, server_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server_url + COMPARE)
    page.select_option("#pick-b", "us-ukraine-geneva-framework")
    page.check("input[name=changes][value=only]")
    page.click("form.compare-form button[type=submit]")
    page.wait_for_url(re.compile(r"b=us-ukraine-geneva-framework.*changes=only"))
    assert "unnumbered" in page.inner_text("#point-6")
    context.close()


def test_point_page_compare_against_swaps_the_wording(page, server_url):
    page.goto(server_url + f"/plans/{PLAN}/points/6/")
    page.evaluate("window.__marker = 'kept'")
    page.select_option("#against", "us-28-point-draft")
    page.wait_for_url(re.compile(r"against=us-28-point-draft"))
    page.wait_for_selector("#clause-e3-counter-proposal del")
    assert page.evaluate("window.__marker") == "kept"
    assert "800,000" in page.inner_text("#clause-e3-counter-proposal ins >> nth=-1") or "800,000" in page.inner_text(
        "#clause-e3-counter-proposal"
    )
    assert page.evaluate("window.__cspViolations") == []


def test_a_row_permalink_scrolls_to_and_highlights_the_row(page, server_url):
    page.goto(server_url + COMPARE + "?a=us-28-point-draft&b=e3-counter-proposal#point-21")
    assert page.evaluate("document.querySelector(':target').id") == "point-21"
