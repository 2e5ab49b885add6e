"""An editor pastes a renumbered leaked draft in Chromium, checks the proposed points and creates the revision."""

import re

import pytest

from .conftest import admin_login, create_editor

pytestmark = pytest.mark.browser

PASSWORD = "paste-desk-password-2025"
DRAFT = """1. Ukraine's armed forces are capped at 800,000 personnel.
2. Ukraine puts into its constitution that it will not join NATO,
   and NATO adds to its statutes that Ukraine will never be admitted.
3. Ukrainian forces withdraw from the part of Donetsk oblast they hold; it becomes a neutral demilitarised
   buffer zone, recognised internationally as Russian territory, which Russian forces do not enter.
"""


@pytest.fixture(scope="module")
def editor(server_env, server_url):
    """An editor made the documented way (create_editor), not a superuser."""
    return create_editor(server_env, "pastedesk", PASSWORD)


@pytest.fixture
def admin_page(page, server_url, editor):
    return admin_login(page, server_url, editor, PASSWORD)


def test_editor_pastes_a_renumbered_draft_and_creates_the_revision(admin_page, server_url, tmp_path):
    """
    From the revision list: paste, see points 6, 7 and 21d proposed first of three, with scores and
    the shared words marked; a point typed wrong is refused on its row, typing its number puts it
    right; confirm, land on the revision; it is unpublished until the list's "Publish selected
    revisions" action, then public.
    """
    page = admin_page
    page.goto(server_url + "/admin/peaceplans/revision/")
    page.get_by_role("link", name="Paste a new draft").click()
    page.wait_for_url(re.compile(r"/admin/peaceplans/revision/paste/$"))
    page.fill("#id_title", "Renumbered draft (browser)")
    page.fill("#id_published_on", "2025-12-20")
    page.get_by_label("United States").check()
    page.get_by_label("Ukraine").check()
    page.select_option("#id_status", "leaked-draft")
    page.fill("#id_sources", "https://example.org/renumbered-leak | Example News | 2025-12-20 | original-report")
    page.fill("#id_text", DRAFT)
    page.screenshot(path=str(tmp_path / "paste-step1-1280.png"), full_page=True)
    page.get_by_role("button", name="Line up the clauses").click()

    clauses = page.locator("#pasted-clauses > li")
    clauses.first.wait_for()
    assert clauses.count() == 3
    for n, (number, point) in enumerate([("1", "6 · Army cap"), ("2", "7 · No NATO membership"), ("3", "21d · ")]):
        clause = clauses.nth(n)
        assert clause.locator(".clause-number").inner_text() == f"{number}."
        proposals = clause.locator(".proposals > li")
        assert proposals.count() == 3, "the three best proposals"
        assert proposals.first.locator(".proposal-label").inner_text().startswith(point)
        assert re.fullmatch(r"\d{2,3}%", proposals.first.locator(".proposal-score").inner_text().strip())
        assert clause.locator(".clause-text mark").count() >= 2, "the words it shares with the point are marked"
    assert page.input_value("#id_clause-2-point") == "21d · Donetsk demilitarised buffer zone"
    assert page.get_attribute("#id_clause-2-point", "list") == "plan-points"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the confirm page overflows by {overflow}px at 1280px"
    assert page.evaluate("window.__cspViolations") == []
    page.screenshot(path=str(tmp_path / "paste-step2-1280.png"), full_page=True)

    # A wrong choice typed is refused on its row, nothing imported; typing the number puts it right.
    page.fill("#id_clause-0-point", "no such point")
    page.get_by_role("button", name="Create the revision").click()
    page.locator(".errornote").wait_for()
    assert "No point is numbered or titled “no such point”." in page.inner_text("#clause-0 .errorlist")
    assert page.input_value("#id_clause-0-point") == "no such point"
    page.fill("#id_clause-0-point", "6")
    page.get_by_role("button", name="Create the revision").click()
    page.wait_for_url(re.compile(r"/admin/peaceplans/revision/\d+/change/$"))
    assert (
        "Created “Renumbered draft (browser)” with 3 clauses: 3 matched to existing points, 0 new."
        in page.inner_text(".messagelist")
    )
    assert page.evaluate("window.__cspViolations") == []

    # A pasted draft starts unpublished: readers get the 404 of an unknown text until it is published.
    public_url = server_url + "/plans/russia-ukraine-2025/revisions/renumbered-draft-browser/"
    assert page.goto(public_url).status == 404
    page.goto(server_url + "/admin/peaceplans/revision/?public__exact=0")
    row = page.locator("#result_list tbody tr", has_text="Renumbered draft (browser)")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", label="Publish selected revisions")
    page.get_by_role("button", name="Run").click()
    assert "Published 1 revision." in page.inner_text(".messagelist")
    assert page.evaluate("window.__cspViolations") == []

    assert page.goto(public_url).status == 200
    body = page.inner_text("main")
    assert "capped at 800,000 personnel" in body
    assert "NATO adds to its statutes" in body, "continuation lines carried through the hidden field"
    assert page.evaluate("window.__cspViolations") == []


def test_messy_paste_is_explained_on_the_page(admin_page, server_url):
    page = admin_page
    page.goto(server_url + "/admin/peaceplans/revision/paste/")
    page.fill("#id_title", "Messy")
    page.fill("#id_published_on", "2025-12-20")
    page.get_by_label("Russia").check()
    page.select_option("#id_status", "counter-proposal")
    page.fill("#id_text", "Leaked text follows.\n1. a\n2. b\n2) c")
    page.get_by_role("button", name="Line up the clauses").click()
    page.wait_for_selector(".errornote")
    errors = page.inner_text(".field-text .errorlist")
    assert "Line 1 comes before the first numbered line" in errors
    assert page.input_value("#id_text").startswith("Leaked text follows."), "the paste is kept for correcting"
    assert page.evaluate("window.__cspViolations") == []
