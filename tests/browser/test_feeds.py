"""A journalist finds a point's feed from its page, and the feed gains an entry when an editor publishes a note."""

import re

import feedparser
import pytest

from .conftest import admin_login, create_editor, manage

pytestmark = pytest.mark.browser

PLAN = "russia-ukraine-2025"
POINT_PAGE = f"/plans/{PLAN}/points/6/"


def read_feed(page, url):
    response = page.request.get(url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.body())
    assert feed.bozo == 0
    return feed


@pytest.mark.parametrize("width", [360, 1280])
def test_point_page_offers_its_feed_visibly_and_to_feed_readers(browser, server_url, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(server_url + POINT_PAGE)
    discovered = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    assert discovered.count() == 1
    href = discovered.get_attribute("href")
    visible = page.get_by_role("link", name="Follow changes (Atom feed)")
    assert visible.is_visible()
    assert visible.get_attribute("href") == href
    box = visible.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, "the link fits the screen"
    feed = read_feed(page, server_url + href)
    assert feed.feed.title.startswith("Point 6: Army cap")
    context.close()


def test_feed_gains_the_note_an_editor_publishes(browser, page, server_url, server_env):
    page.goto(server_url + POINT_PAGE)
    href = page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    before = read_feed(page, server_url + href).entries

    pk = manage(
        server_env,
        "shell",
        "--no-imports",
        "-c",
        f"from peaceplans.models import Point; print(Point.objects.get(plan__slug='{PLAN}', key='6').pk)",
    ).stdout.strip()
    editor = browser.new_context()
    desk = editor.new_page()
    admin_login(
        desk, server_url, create_editor(server_env, "feeddesk", "feeds-are-followed-2025"), "feeds-are-followed-2025"
    )
    desk.goto(server_url + f"/admin/peaceplans/annotation/add/?point={pk}")  # as the point page's "Add note" does
    desk.fill("#id_body", "Checked in Chromium: the cap stays at **800,000**.")
    desk.select_option("#id_status", "published")
    desk.click("input[name=_save]")
    desk.wait_for_url(re.compile(r"/admin/peaceplans/annotation/$"))
    editor.close()

    after = read_feed(page, server_url + href).entries
    assert len(after) == len(before) + 1
    top = after[0]
    assert top.title == "Note published on point 6 (Army cap)"
    assert "800,000" in top.summary
    page.goto(server_url + "/sources/")  # leave the point page, so the next visit loads it anew
    page.goto(top.link)
    fragment = top.link.split("#")[1]
    assert page.locator(f"#{fragment}").is_visible()
    assert "800,000" in page.locator(f"#{fragment}").inner_text()
