"""
An editor's evening in the admin, in Chromium: record a stance with its source, correct and restore a
clause, add a stance by typing a point's number, and start a note from the public point page.
"""

import re

import pytest
from playwright.sync_api import expect

from .conftest import admin_login, create_editor, manage

pytestmark = pytest.mark.browser

PASSWORD = "evening-shift-password-2025"


def shell(env, code: str) -> str:
    """Run Python against the test server's database and return the last line it printed."""
    return manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def editor(server_env, server_url):
    return create_editor(server_env, "nightdesk", PASSWORD)


@pytest.fixture
def editor_page(page, server_url, editor):
    return admin_login(page, server_url, editor, PASSWORD)


def test_editor_records_a_stance_with_its_source(editor_page, server_url, server_env):
    page = editor_page
    point = shell(server_env, "from peaceplans.models import Point; print(Point.objects.get(key='25').pk)")
    page.goto(server_url + f"/admin/peaceplans/point/{point}/change/")
    assert page.evaluate("window.__cspViolations") == []
    page.click("#stances-group .add-row a")
    form = page.locator("#stances-group .inline-related:not(.empty-form)").last
    form.locator("select[name$='-party']").select_option(label="Russia")
    form.locator("select[name$='-position']").select_option("opposes")
    form.locator("input[name$='-stated_on']").fill("2025-12-20")
    form.locator("textarea[name$='-summary']").fill("Moscow said elections must wait for a settlement.")
    form.locator(".select2-selection").click()
    page.fill(".select2-search__field", "TASS")
    page.locator(".select2-results__option", has_text="TASS").first.click()
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/peaceplans/point/$"))
    assert "was changed successfully" in page.inner_text(".messagelist")
    page.goto(server_url + "/plans/russia-ukraine-2025/points/25/")
    russia = page.locator("section[aria-labelledby='party-russia']")
    assert "Moscow said elections must wait" in russia.inner_text()
    assert "TASS" in russia.locator(".stance-card__source").first.inner_text()
    assert page.evaluate("window.__cspViolations") == []


def test_editor_corrects_a_clause_then_restores_the_earlier_version(editor_page, server_url, server_env):
    page = editor_page
    clause = shell(
        server_env,
        "from peaceplans.models import Clause; "
        "print(Clause.objects.get(revision__slug='e3-counter-proposal', number='25').pk)",
    )
    page.goto(server_url + f"/admin/peaceplans/clause/{clause}/change/")
    original = page.input_value("#id_text")
    page.fill("#id_text", "A mistaken wording.")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/peaceplans/clause/$"))
    page.goto(server_url + f"/admin/peaceplans/clause/{clause}/history/")
    assert page.locator("#change-history del").count() > 0
    assert page.evaluate("window.__cspViolations") == []
    page.locator("#change-history tbody tr").nth(1).locator("a").first.click()  # the version before the mistake
    assert page.input_value("#id_text") == original
    assert page.evaluate("window.__cspViolations") == []
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/peaceplans/clause/"))
    page.goto(server_url + "/plans/russia-ukraine-2025/points/25/")
    assert original[:40] in page.inner_text("#clause-e3-counter-proposal")
    assert "A mistaken wording." not in page.content()
    assert page.evaluate("window.__cspViolations") == []


DONETSK = "21d · Donetsk demilitarised buffer zone"


def test_editor_adds_a_stance_on_21d_by_typing_its_number(editor_page, server_url, server_env):
    """Issue 20: the point is chosen by typing "21d", never by a database id."""
    page = editor_page
    page.goto(server_url + "/admin/peaceplans/stance/add/")
    assert page.locator("#id_point").count() == 1 and page.locator(".vForeignKeyRawIdAdminField").count() == 0
    page.locator(".field-point .select2-selection").click()
    page.fill(".select2-search__field", "21d")
    first = page.locator(".select2-results__option").first
    expect(first).to_have_text(DONETSK)  # ranked first, labelled by number and title, once the search answers
    first.click()
    assert page.inner_text(".field-point .select2-selection__rendered").endswith(DONETSK)
    page.select_option("#id_party", label="Russia")
    page.select_option("#id_position", "opposes")
    page.fill("#id_stated_on", "2025-12-21")
    page.fill("#id_summary", "Moscow called the buffer zone a non-starter.")
    page.locator(".field-source .select2-selection").click()
    page.fill(".select2-search__field", "TASS")
    page.locator(".select2-results__option", has_text="TASS").first.click()
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/peaceplans/stance/$"))
    stored = shell(
        server_env,
        "from peaceplans.models import Stance; "
        "print(Stance.objects.get(summary='Moscow called the buffer zone a non-starter.').point.key)",
    )
    assert stored == "21d"
    assert page.evaluate("window.__cspViolations") == []


def test_editor_starts_a_note_from_the_public_point_page(editor_page, server_url, server_env):
    """The point page's "Add note" opens the admin's note form with the point filled in."""
    page = editor_page
    page.goto(server_url + "/plans/russia-ukraine-2025/points/21d/")
    page.locator(".editor-links a", has_text="Add note").click()
    page.wait_for_url(re.compile(r"/admin/peaceplans/annotation/add/\?point=\d+$"))
    assert page.inner_text(".field-point .select2-selection__rendered").endswith(DONETSK)
    page.fill("#id_body", "Kyiv has never accepted leaving Donetsk: see the stances below.")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/peaceplans/annotation/$"))
    stored = shell(
        server_env,
        "from peaceplans.models import Annotation; "
        "print(Annotation.objects.get(body__startswith='Kyiv has never accepted').point.key)",
    )
    assert stored == "21d"
    assert page.evaluate("window.__cspViolations") == []
