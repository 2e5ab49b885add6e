"""
Editors' links on the public point and compare pages (issue 20): a signed-in editor sees "Edit",
"Add note" and "Add stance", leading to the admin with the point (its plan, and on the compare page
the text in view) filled in; a reader never does, and no page with them is stored, nor a reader's
page served to an editor: the page cache's key never mixes the two, in either order.
"""

import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from peaceplans.models import Point, Revision
from peaceplans.ops import pagecache
from tests.editing.test_editors import make_editor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache_on")]

PLAN = "russia-ukraine-2025"
POINT = f"/plans/{PLAN}/points/21d/"
COMPARE = f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"


def links(html: str) -> dict[str, str]:
    """The editors' links of a page or a part of one: {text: address}."""
    found = re.findall(r'<p class="editor-links">.*?</p>', html, flags=re.S)
    return {
        text: unescape(href)
        for block in found
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)<span class="visually-hidden">', block)
    }


def test_an_editor_sees_the_links_with_the_point_filled_in_and_they_lead_to_its_forms(editor_client):
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    response = editor_client.get(POINT)
    assert links(response.content.decode()) == {
        "Edit": f"/admin/peaceplans/point/{donetsk.pk}/change/",
        "Add note": f"/admin/peaceplans/annotation/add/?point={donetsk.pk}",
        "Add stance": f"/admin/peaceplans/stance/add/?plan={donetsk.plan_id}&point={donetsk.pk}",
    }
    assert response["Cache-Control"] == "private, no-store" and response["X-Page-Cache"] == "bypass"
    assert "ETag" not in response
    note_form = editor_client.get(links(response.content.decode())["Add note"])
    assert note_form.context["adminform"].form.initial["point"] == str(donetsk.pk)
    assert f'<option value="{donetsk.pk}" selected>21d · Donetsk demilitarised buffer zone</option>' in (
        note_form.content.decode()
    )


def test_on_the_compare_page_each_row_offers_a_stance_answering_the_text_in_view(editor_client):
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    e3 = Revision.objects.get(slug="e3-counter-proposal")
    html = editor_client.get(COMPARE).content.decode()
    row = html[html.index('id="point-21d"') :]
    row = row[: row.index("</li>")]
    assert links(row) == {
        "Edit": f"/admin/peaceplans/point/{donetsk.pk}/change/",
        "Add note": f"/admin/peaceplans/annotation/add/?point={donetsk.pk}",
        "Add stance": f"/admin/peaceplans/stance/add/?plan={donetsk.plan_id}&point={donetsk.pk}&revision={e3.pk}",
    }
    assert html.count('<p class="editor-links">') == html.count('class="compare-row ')  # one set per row
    stance_form = editor_client.get(links(row)["Add stance"]).context["adminform"].form
    assert stance_form.initial == {"plan": str(donetsk.plan_id), "point": str(donetsk.pk), "revision": str(e3.pk)}


@pytest.mark.parametrize("who", ["reader", "staff without editing rights", "editor yet to give a code"])
def test_readers_and_staff_who_cannot_edit_see_no_links(client, who, settings):
    if who == "staff without editing rights":
        client.force_login(User.objects.create_user("staffonly", password="a-long-password-7", is_staff=True))
    elif who == "editor yet to give a code":
        settings.PEACEPLANS_REQUIRE_2FA = True  # the admin would send this session to its sign-in page
        client.force_login(make_editor())
    for url in (POINT, COMPARE):
        html = client.get(url).content.decode()
        assert "editor-links" not in html and "/admin/peaceplans/" not in html, url


@pytest.mark.parametrize("url", [POINT, COMPARE])
def test_a_reader_after_an_editor_gets_the_cached_readers_page(client, editor_client, url):
    """Reader, editor, reader: the editor's page is neither the cached one nor stored over it."""
    first = client.get(url)
    assert first["X-Page-Cache"] == "miss" and not links(first.content.decode())
    theirs = editor_client.get(url)
    assert theirs["X-Page-Cache"] == "bypass" and links(theirs.content.decode())
    assert theirs["Cache-Control"] == "private, no-store"
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit" and again.content == first.content
    assert "public" in again["Cache-Control"] and "Cookie" in again["Vary"]


@pytest.mark.parametrize("url", [POINT, COMPARE])
def test_an_editor_first_leaves_nothing_in_the_cache_for_readers(client, editor_client, url):
    """Editor, then readers: the first reader renders its own page (a miss), with no links, and that is what is kept."""
    assert links(editor_client.get(url).content.decode())
    reader = client.get(url)
    assert reader["X-Page-Cache"] == "miss" and not links(reader.content.decode())
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit" and not links(again.content.decode())
    assert links(editor_client.get(url).content.decode())  # and the editor still gets theirs, not the reader's


def test_a_page_marked_private_is_never_stored_even_without_a_session_cookie():
    """pagecache.keep_private, which the editors' links call: the guard beside the session cookie's."""
    calls = []

    def view(request):
        calls.append(request)
        pagecache.keep_private(request)
        return HttpResponse("one reader's own page")

    middleware = pagecache.PageCacheMiddleware(view)
    factory = RequestFactory()
    for _ in range(2):
        response = middleware(factory.get(POINT))
        assert response["X-Page-Cache"] == "bypass" and response["Cache-Control"] == "private, no-store"
        assert "ETag" not in response and "Last-Modified" not in response
    assert len(calls) == 2  # rendered both times: nothing was stored
    assert not any(key.startswith(":1:page:") for key in cache._cache)  # locmem's own store


def test_the_compare_rows_write_the_links_as_the_component_does():
    """compare/rows.py builds each row's links in Python (for its cost): components/editor_links.html is the model."""
    from django.template.loader import render_to_string

    from peaceplans.compare.rows import editor_links as row_links

    links = [("Edit", "/admin/x/?a=1&b=<2>", "point 21d"), ("Add note", "/admin/y/", "on point “21d” & more")]
    assert row_links(links) == render_to_string("peaceplans/components/editor_links.html", {"links": links}).strip()
    assert row_links([]) == render_to_string("peaceplans/components/editor_links.html", {"links": []}).strip() == ""
