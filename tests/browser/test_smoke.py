"""The journalist's first minute, in a real browser: overview, a point, its stances."""

import json
import re

import pytest

from .conftest import manage

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_open_overview_follow_a_point_and_see_its_stances(page, server_url):
    """From '/', the matrix row for point 7 leads to the point page, where Russia and Ukraine have stances."""
    page.goto(server_url + "/")
    assert page.get_by_role("columnheader", name=re.compile("Russia")).is_visible()
    page.get_by_role("link", name="No NATO membership").click()
    page.wait_for_url(re.compile(rf"/plans/{PLAN}/points/7/$"))
    for party in ("Russia", "Ukraine"):
        section = page.locator(f"section[aria-labelledby='party-{party.lower()}']")
        assert section.locator(".stance-card").first.is_visible()
        assert section.locator(".stance-card__source a").first.get_attribute("href").startswith("http")
    assert csp_violations(page) == []


def test_sorting_the_matrix_swaps_only_the_table_and_keeps_a_permalink(page, server_url):
    """Clicking a column heading swaps the table by HTMX, updates the URL, and Back restores it."""
    page.goto(server_url + f"/plans/{PLAN}/")
    page.evaluate("window.__marker = 'still here'")
    page.locator("thead").get_by_role("link", name=re.compile("^Russia")).click()
    page.wait_for_url(re.compile(r"\?sort=russia$"))
    page.wait_for_selector("th[aria-sort='ascending'].party--russia")
    assert page.evaluate("window.__marker") == "still here", "the click reloaded the whole page"
    first_russia_cell = page.locator("tbody tr").first.locator("td.cell-stance").last
    assert "not recorded" not in first_russia_cell.inner_text()
    page.go_back()
    page.wait_for_url(re.compile(rf"/plans/{PLAN}/$"))
    assert page.locator("tbody tr").first.locator("td").first.inner_text().strip() == "1"
    assert csp_violations(page) == []


def test_htmx_loaded_under_the_csp(page, server_url):
    page.goto(server_url + "/")
    assert page.evaluate("typeof htmx") == "object"
    assert csp_violations(page) == []


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_the_window_and_break_nothing(browser, server_url, width):
    """No horizontal scrolling of the page body (tables scroll inside their own box) and no console errors."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for path in (
        "/",
        f"/plans/{PLAN}/points/7/",
        f"/plans/{PLAN}/revisions/e3-counter-proposal/",
        f"/plans/{PLAN}/parties/russia/",
        f"/plans/{PLAN}/timeline/",
        "/sources/",
    ):
        page.goto(server_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} overflows by {overflow}px at {width}px"
    assert errors == []
    context.close()


LONG = "Unbroken" + "x" * 240  # a pasted URL or a hostile string: one word wider than any screen
LONG_DATA = """
import datetime
from peaceplans.models import Event, Party, Plan, Source, Stance
plan = Plan.objects.get(slug="{plan}")
source = Source.objects.get(url="https://example.org/{long}")
if not Event.objects.filter(title="{long}").exists():  # stored once, whichever width runs first
  russia, point = Party.objects.get(slug="russia"), plan.points.get(key="7")
  Stance.objects.create(plan=plan, party=russia, point=point, source=source,
    position="opposes", stated_on=datetime.date(2025, 12, 30), summary="{long}", quote="{long}", speaker="{long}"[:190])
  Event.objects.create(plan=plan, date=datetime.date(2025, 12, 30), title="{long}", summary="{long}", source=source)
"""


@pytest.mark.parametrize("width", [360, 1280])
def test_a_long_unbroken_word_wraps_instead_of_widening_the_page(browser, server_url, server_env, tmp_path, width):
    """
    A revision title and wording, a source, a stance and an event each holding one 248-letter word:
    every page that shows them still fits the window (tables scroll inside their own box).
    """
    slug = "long-words"
    revision = {
        "slug": slug,
        "title": LONG[:190],
        "author": ["russia"],
        "published_on": "2025-12-30",
        "status": "leaked draft",
        "summary": LONG,
        "sources": [
            {
                "url": f"https://example.org/{LONG}",
                "outlet": LONG[:190],
                "date": "2025-12-30",
                "title": LONG,
                "kind": "original-report",
            }
        ],
        "points": [{"number": "7", "topic": "nato", "text": LONG, "derived_from": "7", "change_note": LONG}],
    }
    path = tmp_path / "long.json"
    path.write_text(json.dumps(revision), encoding="utf-8")
    manage(server_env, "import_revision", str(path), "--plan", PLAN)  # a second run updates it in place
    manage(server_env, "shell", "-c", LONG_DATA.format(plan=PLAN, long=LONG))
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    for path in (
        "/",
        f"/plans/{PLAN}/points/7/",
        f"/plans/{PLAN}/revisions/{slug}/",
        f"/plans/{PLAN}/compare/?a=us-28-point-draft&b={slug}",
        f"/plans/{PLAN}/parties/russia/",
        f"/plans/{PLAN}/timeline/",
        f"/plans/{PLAN}/changes/",
        "/sources/",
        "/search/?q=" + LONG,
    ):
        page.goto(server_url + path)
        assert LONG[:40] in page.content(), path
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} overflows by {overflow}px at {width}px"
    context.close()
