"""
The stance matrix and stances in Chromium (issue 21, items 1 and 6): each stance names the text it
answers, the "positions on" choice and "+N earlier" work in place, and at 360 px every party's cell
of every row is on screen with no page scrolling sideways.
"""

import re

import pytest

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
US = "us-28-point-draft"
PHONE = {"width": 360, "height": 800}


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_point_21d_shows_us_ukraine_and_russia_each_naming_the_text_it_answers(page, server_url):
    """The Donetsk zone: 'where does Russia stand, on which text?' is answered on the point page."""
    page.goto(server_url + f"/plans/{PLAN}/points/21d/")
    for party in ("us", "ukraine", "russia"):
        section = page.locator(f"section[aria-labelledby='party-{party}']")
        card = section.locator(".stance-card").first
        assert card.is_visible(), party
        on = card.locator(".stance-card__on")
        assert on.is_visible(), party
        assert on.inner_text() == "on US draft", party
    russia = page.locator("section[aria-labelledby='party-russia'] .stance-card").first.inner_text()
    assert "proposes amendment" in russia and "12 Dec 2025" in russia and "Ushakov" in russia
    assert csp_violations(page) == []


def test_matrix_cells_on_point_8_name_the_berlin_statement(page, server_url):
    page.goto(server_url + f"/plans/{PLAN}/")
    row = page.locator("#point-8")
    europe, russia = row.locator("td.cell-stance").nth(2), row.locator("td.cell-stance").nth(3)
    assert europe.locator(".stance__on").inner_text().replace("\u00a0", " ") == "· on Berlin"
    assert russia.locator(".stance__on").inner_text().replace("\u00a0", " ") == "· on Berlin"
    assert "opposes" in russia.locator("a.stance").inner_text()


def test_choosing_a_text_swaps_the_matrix_in_place_with_a_permalink(page, server_url):
    """'Positions on: US draft' by HTMX: the URL says ?on=…; Russia's point 8 cell is its stance on the US wording."""
    page.goto(server_url + f"/plans/{PLAN}/")
    page.evaluate("window.__marker = 'still here'")
    page.select_option("#id_on", US)
    page.wait_for_url(re.compile(rf"[?&]on={US}"))
    page.wait_for_selector("th.party--russia:has-text('Russia on US draft')")
    assert page.evaluate("window.__marker") == "still here", "the choice reloaded the whole page"
    cells = page.locator("#point-8 td.cell-stance")
    russia = cells.nth(3).inner_text()
    assert "supports" in russia and "11 Dec 2025" in russia and "Berlin" not in russia
    europe = cells.nth(2)
    assert europe.locator("a.stance").count() == 0
    muted = [m.replace("\u00a0", " ") for m in europe.locator(".stance-other").all_inner_texts()]
    assert muted == ["(on Berlin: ✓ supports, 15 Dec 2025)", "(on E3: ✎ proposes amendment, 23 Nov 2025)"]
    assert csp_violations(page) == []


def test_plus_earlier_opens_the_partys_history_in_the_cell(page, server_url):
    page.goto(server_url + f"/plans/{PLAN}/")
    page.evaluate("window.__marker = 'still here'")
    russia = page.locator("#point-8 td.cell-stance").nth(3)
    russia.locator("a.cell__more").click()
    history = russia.locator("details.cell-history[open]")
    history.wait_for()
    assert page.evaluate("window.__marker") == "still here"
    assert page.url.endswith(f"/plans/{PLAN}/")
    items = history.locator(".cell-history__item").all_inner_texts()
    assert len(items) == 2
    assert "on Berlin" in items[0] and "28 Dec 2025" in items[0]
    assert "on US draft" in items[1] and "11 Dec 2025" in items[1]
    assert csp_violations(page) == []


def test_plus_earlier_without_javascript_goes_to_the_party_on_the_point_page(browser, server_url):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server_url + f"/plans/{PLAN}/")
    page.locator("#point-8 td.cell-stance").nth(3).locator("a.cell__more").click()
    page.wait_for_url(re.compile(rf"/plans/{PLAN}/points/8/#party-russia$"))
    assert page.locator("#party-russia").is_visible()
    context.close()


@pytest.mark.parametrize("query", ["?per_page=100", f"?per_page=100&on={US}"])
def test_at_360_px_every_row_shows_all_four_parties_on_screen(browser, server_url, query):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(server_url + f"/plans/{PLAN}/{query}")
    rows = page.locator("table.matrix tbody tr")
    count = rows.count()
    assert count > 40
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('table.matrix tbody tr')].map(tr =>
            [...tr.querySelectorAll('td.cell-stance')].map(td => {
                const r = td.getBoundingClientRect();
                return [r.left, r.right, r.width, td.innerText.split('\\n')[0]];
            }))"""
    )
    assert len(boxes) == count
    for n, cells in enumerate(boxes):
        assert len(cells) == 4, n
        for left, right, width, party in cells:
            assert left >= 0 and right <= 360 and width > 100, (n, party, left, right)
        assert [c[3] for c in cells] == ["US", "Ukraine", "Europe", "Russia"], n
    caption = page.locator("table.matrix caption").bounding_box()
    assert caption["x"] >= 0 and caption["x"] + caption["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        f"/plans/{PLAN}/",
        f"/plans/{PLAN}/?on={US}",
        f"/plans/{PLAN}/points/8/",
        f"/plans/{PLAN}/points/21d/",
        f"/plans/{PLAN}/parties/russia/",
        f"/plans/{PLAN}/revisions/e3-counter-proposal/",
    ],
)
def test_at_360_px_no_page_scrolls_sideways(browser, server_url, path):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(server_url + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
