"""
Long pages in parts in a real browser (issue 18, item 2): the rows after the first 30 load as the
reader scrolls, once each and in order; an anchor to a row not loaded yet (a shared link, the
index) loads the parts up to it and lands on it; without JavaScript "Next rows" is a plain link.
A server of its own, on the demo and a small generated plan (81 rows both texts speak to).
"""

import re
from pathlib import Path

import pytest

from .conftest import gunicorn, manage

pytestmark = pytest.mark.browser

BIG = "/plans/synthetic-01/compare/?a=draft-001&b=draft-003"
PARTY = "/plans/russia-ukraine-2025/parties/russia/"
GENEVA = "/plans/russia-ukraine-2025/compare/?a=us-28-point-draft&b=us-ukraine-geneva-framework"
MAIN_ROWS = ".compare-main > .compare-rows > li.compare-row"


@pytest.fixture(scope="module")
def parts_url(server_env, server_url):
    """gunicorn on a database of its own (the demo and one generated plan), with the test server's static files."""
    tmp = Path(server_env["DJANGO_STATIC_ROOT"]).parent
    env = {**server_env, "DATABASE_URL": f"sqlite:///{tmp / 'parts.sqlite3'}"}
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo")
    spec = ["--plans", "1", "--revisions", "3", "--points", "80", "--stances", "1", "--events", "10", "--seed", "18"]
    manage(env, "generate_synthetic", *spec)
    with gunicorn(env, workers=1, pid_file=tmp / "gunicorn-parts.pid", ready_path="/sources/") as url:
        yield url


def row_ids(page, selector: str = MAIN_ROWS) -> list[str]:
    return page.eval_on_selector_all(selector, "rows => rows.map(row => row.id)")


def index_ids(page) -> list[str]:
    hrefs = page.eval_on_selector_all(".compare-index__list a", "links => links.map(a => a.getAttribute('href'))")
    return [href.split("#")[1] for href in hrefs if "#point-" in href]


def in_view(page, element_id: str) -> bool:
    return page.evaluate(
        """id => { const r = document.getElementById(id).getBoundingClientRect();
                   return r.top >= 0 && r.top < window.innerHeight; }""",
        element_id,
    )


def test_scrolling_down_loads_every_part_once_in_order(page, parts_url):
    page.goto(parts_url + BIG)
    expected = index_ids(page)
    assert len(expected) > 60 and len(row_ids(page)) == 30
    page.evaluate("window.__marker = 'kept'")
    for _ in range(10):
        if not page.locator(".compare-main > .compare-rows [data-rows-next]").count():
            break
        page.locator(".compare-main > .compare-rows .rows-next").scroll_into_view_if_needed()
        page.wait_for_function(f"n => document.querySelectorAll('{MAIN_ROWS}').length > n", arg=len(row_ids(page)))
    page.wait_for_timeout(500)  # a part asked for twice would arrive now
    assert row_ids(page) == expected  # every row once, in the index's order
    assert page.evaluate("window.__marker") == "kept", "a part reloaded the page"
    assert page.evaluate("window.__cspViolations") == []


def test_a_shared_link_to_a_row_past_the_first_part_lands_on_it(page, parts_url):
    page.goto(parts_url + BIG)
    far = index_ids(page)[-5]
    page.goto("about:blank")  # a fresh load of the shared link (the index test covers a hash change in place)
    page.goto(parts_url + BIG + "#" + far)
    page.wait_for_selector("#" + far)
    page.wait_for_function("id => document.querySelector(':target')?.id === id", arg=far)
    assert in_view(page, far)
    assert len(set(row_ids(page))) == len(row_ids(page))
    assert page.evaluate("window.__cspViolations") == []


def test_the_index_lands_on_a_row_not_loaded_yet_in_place(page, parts_url):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(parts_url + BIG)
    page.evaluate("window.__marker = 'kept'")
    link = page.locator(".compare-index__list a[data-rows-anchor]").nth(40)
    target = link.get_attribute("href").split("#")[1]
    link.click()
    page.wait_for_url(re.compile(rf"#{target}$"))
    page.wait_for_selector("#" + target)
    assert in_view(page, target)
    assert page.evaluate("window.__marker") == "kept", "the index link reloaded the page"
    assert "part=" not in page.url  # the address stays the comparison's permalink, with the anchor


def test_a_link_to_a_row_in_the_closed_section_opens_it(page, parts_url):
    page.goto(parts_url + GENEVA)
    assert not page.locator("#not-in-b").evaluate("d => d.open")
    page.wait_for_timeout(500)
    assert row_ids(page, "#not-in-b li.compare-row") == []  # nothing loads while the section is closed
    page.goto(parts_url + GENEVA + "#point-17")
    page.wait_for_selector("#point-17")
    assert page.locator("#not-in-b").evaluate("d => d.open") and in_view(page, "point-17")


def test_the_party_page_loads_its_rows_and_its_anchors(page, parts_url):
    page.goto(parts_url + PARTY + "#point-21d")
    page.wait_for_selector("#point-21d")
    assert in_view(page, "point-21d")
    page.goto(parts_url + PARTY)
    page.locator("tr.rows-next").scroll_into_view_if_needed()
    page.wait_for_function("() => !document.querySelector('tr.rows-next')")
    ids = row_ids(page, "table.positions tbody tr")
    assert len(ids) == len(set(ids)) > 30 and "point-21d" in ids


def test_next_rows_from_the_keyboard_moves_the_focus_to_the_first_new_row(page, parts_url):
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(parts_url + PARTY)
    link = page.locator("tr.rows-next a")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => !!document.activeElement?.closest('tr[id]')")
    focused = page.evaluate("document.activeElement.closest('tr').id")
    assert focused == row_ids(page, "table.positions tbody tr")[30]


@pytest.mark.parametrize("width", [360, 1280])
def test_without_javascript_next_rows_is_a_link_to_the_page_through_the_next_part(browser, parts_url, width):
    context = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(parts_url + BIG)
    assert len(row_ids(page)) == 30
    page.click(".compare-main > .compare-rows .rows-next a")
    page.wait_for_url(re.compile(r"part=2#point-"))
    ids = row_ids(page)
    assert len(ids) == 60 and in_view(page, ids[30])
    context.close()
