"""
Embeds and oEmbed: the point card and the comparison for articles, with the editors' published
notes and a compact source list, who may frame what, no cookies and only our height-telling script
in the embeds, pym.js's address parameters, the snippet with its host script, hostile addresses,
and the oEmbed descriptions. How an embed grows in a real browser: tests/browser/test_embed.py.
"""

import json
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Annotation, Party, Revision, Source
from peaceplans.ops.staticfiles import EMBED_HOST_SCRIPT_MAX_AGE

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
HOST = "testserver"
EMBED_POINT = f"/embed/plans/{PLAN}/points/6/"
EMBED_COMPARE = f"/embed/plans/{PLAN}/compare/"
US_E3 = "a=us-28-point-draft&b=e3-counter-proposal"
POINT_PAGE = f"/plans/{PLAN}/points/6/"
COMPARE_PAGE = f"/plans/{PLAN}/compare/?{US_E3}"


@pytest.fixture(autouse=True)
def _testserver_host(settings):
    settings.ALLOWED_HOSTS = [HOST]


def html_of(client, url, status=200, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def iframe_attributes(html: str) -> dict[str, str]:
    """The attributes of the one <iframe> in `html`, decoded."""

    class Parser(HTMLParser):
        found: list[dict] = []

        def handle_starttag(self, tag, attrs):
            if tag == "iframe":
                self.found.append(dict(attrs))

    parser = Parser()
    parser.found = []
    parser.feed(html)
    assert len(parser.found) == 1, html
    return parser.found[0]


def csp(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        policy[name] = value
    return policy


# The point card


def test_point_embed_shows_the_wording_in_every_revision_that_has_the_point(client, plan):
    html = html_of(client, EMBED_POINT)
    assert "Army cap" in html
    for clause in plan.points.get(key="6").clauses.select_related("revision"):
        assert clause.revision.title.replace("'", "&#x27;") in html
        assert clause.text.replace("'", "&#x27;") in html
    assert "600,000" in html and "800,000" in html


def test_point_embed_leaves_out_revisions_without_the_point_by_default(client, plan):
    """Point 12a is only in the US draft: the E3 text is not listed as 'not in this text'."""
    html = html_of(client, f"/embed/plans/{PLAN}/points/12a/")
    assert "US 28-point peace plan" in html
    assert "E3 (UK, France, Germany)" not in html
    assert html.count('class="wording__item') == 1


def test_point_embed_shows_each_partys_latest_stance_with_date_and_source(client, plan):
    html = html_of(client, EMBED_POINT)
    point = plan.points.get(key="6")
    for party in Party.objects.all():
        latest = point.stances.filter(party=party).order_by("stated_on", "pk").last()
        card = between(html, f'class="stance stance--{party.slug}"', "</li>")
        assert party.name in card
        assert latest.get_position_display() in card
        assert latest.summary.replace("'", "&#x27;") in card
        assert f'datetime="{latest.stated_on.isoformat()}"' in card
        assert latest.source.outlet.replace("'", "&#x27;") in card


def test_point_embed_says_so_when_a_party_has_no_statement(client, plan):
    html = html_of(client, f"/embed/plans/{PLAN}/points/2/")
    assert html.count("No statement recorded.") == Party.objects.count()


def test_point_embed_honours_the_chosen_revisions_in_plan_order(client):
    html = html_of(client, EMBED_POINT + "?revisions=e3-counter-proposal,us-28-point-draft")
    assert html.count('class="wording__item') == 2
    assert html.index("US 28-point peace plan") < html.index("E3 (UK, France, Germany)")
    assert "Berlin joint statement" not in html


def test_point_embed_says_when_a_chosen_revision_lacks_the_point(client):
    html = html_of(client, f"/embed/plans/{PLAN}/points/12a/?revisions=e3-counter-proposal")
    assert "Not in this text." in between(html, 'class="wording__item', "</li>")


def test_point_embed_attributes_the_clause_sources(client, plan):
    html = html_of(client, EMBED_POINT + "?revisions=e3-counter-proposal")
    clause = plan.points.get(key="6").clauses.get(revision__slug="e3-counter-proposal")
    wording = between(html, 'class="wording"', "</ol>")
    for source in clause.sources.all():
        assert f'href="{source.url}" target="_blank" rel="noopener noreferrer"' in wording


def test_an_uncitable_source_is_named_but_not_linked(client, plan):
    clause = plan.points.get(key="6").clauses.get(revision__slug="e3-counter-proposal")
    hidden = Source.objects.create(
        url="https://example.org/pravda-copy", outlet="Pravda network copy", kind="aggregator", citable=False
    )
    clause.sources.add(hidden)
    html = html_of(client, EMBED_POINT)
    assert "Pravda network copy" in html and "not citable" in html
    assert "https://example.org/pravda-copy" not in html


def test_point_embed_links_back_to_the_full_page_in_the_top_window(client):
    html = html_of(client, EMBED_POINT)
    assert f'<a href="http://{HOST}{POINT_PAGE}" target="_top">Point 6 on peaceplans</a>' in html
    assert f'<link rel="canonical" href="http://{HOST}{POINT_PAGE}">' in html


# The comparison


def test_compare_embed_shows_only_the_points_asked_for(client):
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6,7,8")
    assert html.count('class="row row--') == 3
    for key in ("6", "7", "8"):
        assert f'id="point-{key}"' in html
    six = between(html, 'id="point-6"', "</li>")
    side_a, side_b = between(six, 'side--a"', "</div>"), between(six, 'side--b"', "</div>")
    assert "<del>" in side_a and "600,000" in side_a
    assert "<ins>" in side_b and "800,000" in side_b
    assert "Showing points 6, 7, 8" in html


def test_compare_embed_shows_every_row_by_default(client, plan):
    a = Revision.objects.get(plan=plan, slug="us-28-point-draft")
    b = Revision.objects.get(plan=plan, slug="e3-counter-proposal")
    rows = compare_revisions(plan, a, b).rows
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}")
    assert html.count('class="row row--') == len(rows) > 20
    assert "<strong>17</strong> changed" in html


def test_compare_embed_counts_cover_the_whole_comparison(client):
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")
    assert "<strong>17</strong> changed" in html and "<strong>4</strong> dropped" in html


def test_compare_embed_inline_view_is_one_redline(client):
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6&view=inline")
    six = between(html, 'id="point-6"', "</li>")
    assert 'class="sides"' not in six
    assert "<del>" in six and "<ins>" in six


def test_compare_embed_names_points_neither_text_words(client):
    """Point 10d is only in the US draft: Geneva → Berlin has no row for it."""
    html = html_of(client, f"{EMBED_COMPARE}?a=us-ukraine-geneva-framework&b=berlin-joint-statement&points=6,10d")
    assert "Neither text words: point 10d." in html


def test_compare_embed_with_changes_only_says_why_a_point_is_missing(client, plan):
    point = plan.points.get(key="1")
    e3 = point.clauses.get(revision__slug="e3-counter-proposal")
    e3.text = point.clauses.get(revision__slug="us-28-point-draft").text
    e3.save()
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&changes=only&points=6,1")
    assert 'id="point-6"' in html and 'id="point-1"' not in html
    assert "Unchanged, or worded by neither text: point 1." in html


def test_compare_embed_of_one_text_with_itself_says_so(client):
    html = html_of(client, f"{EMBED_COMPARE}?a=us-28-point-draft&b=us-28-point-draft")
    assert "Both sides are the same text" in html


def test_compare_embed_lists_both_texts_sources_and_links_back(client, plan):
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")
    sources = between(html, 'class="embed-sources"', "</div>")
    for slug in ("us-28-point-draft", "e3-counter-proposal"):
        for source in Revision.objects.get(plan=plan, slug=slug).sources.filter(citable=True):
            assert f'href="{source.url}"' in sources
    full = f"http://{HOST}/plans/{PLAN}/compare/?{US_E3}&view=side&changes=all#point-6".replace("&", "&amp;")
    assert f'<a href="{full}" target="_top">The full comparison on peaceplans</a>' in html


def test_compare_embed_diff_text_is_escaped(client, plan):
    clause = plan.points.get(key="6").clauses.get(revision__slug="e3-counter-proposal")
    clause.text = '<img src=x onerror=alert(1)> "800,000"'
    clause.save()
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# The editors' published notes


def note(plan, key: str, body: str, status=Annotation.Status.PUBLISHED) -> Annotation:
    return Annotation.objects.create(point=plan.points.get(key=key), body=body, status=status)


def row_of(html: str, key: str) -> str:
    return between(html, f'id="point-{key}"', '<li class="row')


def test_compare_embed_shows_the_published_notes_of_the_rows_it_shows(client, plan):
    on_six = note(plan, "6", "The **cap** was 600,000 in the US draft.")
    note(plan, "8", "A note on point 8, which this embed does not show.")
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6,7")
    six = row_of(html, "6")
    assert "Editors' note</h3>" in six and "The <strong>cap</strong> was 600,000 in the US draft." in six
    assert f'href="/plans/{PLAN}/points/6/#note-{on_six.pk}"' in six  # to the note on the point page
    assert "embed-notes" not in between(html, 'id="point-7"', "</ol>")  # no notes, no box
    assert "point 8, which this embed" not in html


def test_compare_embed_never_shows_a_draft_note(client, plan):
    note(plan, "6", "Published: the cap rose.")
    note(plan, "6", "Draft: unchecked claim about the cap.", status=Annotation.Status.DRAFT)
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}")
    assert "Published: the cap rose." in row_of(html, "6")
    assert "unchecked claim" not in html
    assert html.count('class="note"') == 1


def test_point_embed_shows_the_published_notes_and_never_a_draft(client, plan):
    note(plan, "6", "First published note, with a [link](https://example.org/report).")
    note(plan, "6", "Second published note.")
    note(plan, "6", "Draft: not for readers.", status=Annotation.Status.DRAFT)
    note(plan, "7", "A note on another point.")
    html = html_of(client, EMBED_POINT)
    notes = between(html, 'aria-labelledby="notes-heading"', "</section>")
    assert "Editors' notes</h2>" in notes and notes.count('class="note"') == 2
    assert '<a href="https://example.org/report" rel="noopener nofollow">link</a>' in notes
    assert "Second published note." in notes
    assert "not for readers" not in html and "another point" not in html


def test_an_embed_without_published_notes_has_no_notes_section(client, plan):
    note(plan, "6", "Draft only.", status=Annotation.Status.DRAFT)
    assert "notes-heading" not in html_of(client, EMBED_POINT)
    assert "embed-notes" not in html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")


@pytest.mark.parametrize("url", [EMBED_POINT, f"{EMBED_COMPARE}?{US_E3}&points=6"])
def test_notes_in_embeds_go_through_the_sanitizer(client, plan, url):
    note(plan, "6", "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)> **kept**")
    html = html_of(client, url)
    body = between(html, 'class="note__body">', "</div>")
    assert "<strong>kept</strong>" in body
    assert "<script" not in body and "javascript:" not in body and "<img" not in body


# The source list of a comparison: one line until opened


def test_compare_embed_sources_are_one_closed_details_saying_how_many(client, plan):
    a, b = (Revision.objects.get(plan=plan, slug=slug) for slug in ("us-28-point-draft", "e3-counter-proposal"))
    expected = {source.pk: source for revision in (a, b) for source in revision.sources.all()}
    assert len(expected) > 1
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")
    block = between(html, '<details class="embed-sources">', "</details>")  # no `open`: closed by default
    assert f"<summary>{len(expected)} sources</summary>" in block
    assert block.count("<li>") == len(expected)
    for source in expected.values():
        if source.citable:
            assert f'href="{source.url}"' in block


def test_compare_embed_sources_say_which_text_they_stand_behind(client, plan):
    a = Revision.objects.get(plan=plan, slug="us-28-point-draft")
    b = Revision.objects.get(plan=plan, slug="e3-counter-proposal")
    shared = Source.objects.create(
        url="https://example.org/both", outlet="Both Texts Gazette", kind=Source.Kind.ORIGINAL_REPORT
    )
    a.sources.add(shared)
    b.sources.add(shared)
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")
    block = between(html, '<details class="embed-sources">', "</details>")
    items = {item.split("</li>")[0] for item in block.split("<li>")[1:]}
    assert block.count("Both Texts Gazette") == 1  # listed once, counted once
    total = len({s.pk for r in (a, b) for s in r.sources.all()})
    assert f"<summary>{total} sources</summary>" in block and len(items) == total
    [both] = [item for item in items if "Both Texts Gazette" in item]
    assert both.endswith('<span class="meta">(A and B)</span>')
    only_a = next(s for s in a.sources.all() if s not in b.sources.all())
    [item] = [item for item in items if f">{only_a.outlet}</a>" in item]
    assert item.endswith('<span class="meta">(A)</span>')


def test_a_comparison_of_one_text_with_itself_lists_its_sources_without_sides(client, plan):
    revision = Revision.objects.get(plan=plan, slug="us-28-point-draft")
    html = html_of(client, f"{EMBED_COMPARE}?a=us-28-point-draft&b=us-28-point-draft")
    block = between(html, '<details class="embed-sources">', "</details>")
    count = revision.sources.count()
    assert f"<summary>{count} source{'s' if count != 1 else ''}</summary>" in block
    assert '<span class="meta">(' not in block


def test_compare_embed_says_when_no_source_is_recorded(client, plan):
    for slug in ("us-28-point-draft", "e3-counter-proposal"):
        Revision.objects.get(plan=plan, slug=slug).sources.clear()
    html = html_of(client, f"{EMBED_COMPARE}?{US_E3}&points=6")
    assert "embed-sources" not in html and "No sources recorded for these texts." in html


# pym.js's parameters: the parent adds them to the address; the page ignores them


PYM_QUERY = "initialWidth=640&childId=example-1&parentTitle=Our%20story&parentUrl=https%3A%2F%2Fnews.example%2Fstory"


@pytest.mark.parametrize("url", [EMBED_POINT, f"{EMBED_COMPARE}?{US_E3}&points=6"])
def test_pym_parameters_change_nothing_in_the_embed(client, url):
    plain = html_of(client, url)
    with_pym = html_of(client, url + ("&" if "?" in url else "?") + PYM_QUERY)
    assert with_pym == plain
    assert "example-1" not in with_pym and "news.example" not in with_pym


@pytest.mark.parametrize(
    "child_id",
    ['"><script>alert(1)</script>', "x" * 500, "a xPYMx b", "%00", "é", "javascript:alert(1)"],
)
def test_a_hostile_child_id_is_never_in_the_page(client, child_id):
    """childId is read by embed.js alone (which ignores anything but a short token), never by the server."""
    response = client.get(EMBED_POINT, {"childId": child_id, "parentUrl": child_id})
    html = response.content.decode()
    assert response.status_code == 200 and "Army cap" in html
    assert child_id not in html and "alert(" not in html


def test_a_repeated_child_id_is_ignored_too(client):
    response = client.get(f"{EMBED_POINT}?childId=a&childId=b")
    assert response.status_code == 200


def test_the_embed_script_keeps_only_a_short_token_as_child_id(client):
    """The rule embed.js applies to childId, and the message format it builds, read from the file itself."""
    script = client.get("/static/peaceplans/embed.js")
    text = b"".join(script.streaming_content).decode()
    assert "var ID = /^[A-Za-z0-9_-]{1,64}$/;" in text
    assert 'ID.test(given) ? given : ""' in text
    assert '["pym", childId, "height", String(height)].join(DELIMITER)' in text and 'DELIMITER = "xPYMx"' in text


# The host script other sites load


def test_the_host_script_may_be_loaded_by_other_sites_and_is_cached_an_hour(client):
    response = client.get("/static/peaceplans/embed-host.js")
    assert response.status_code == 200 and "javascript" in response["Content-Type"]
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["Cache-Control"] == f"max-age={EMBED_HOST_SCRIPT_MAX_AGE}, public"
    text = b"".join(response.streaming_content).decode()
    assert "iframe[data-peaceplans-embed]" in text and "event.origin !== frameOrigin(frame)" in text


@pytest.mark.parametrize("path", ["peaceplans/embed.js", "peaceplans/embed.css", "peaceplans/copy.js"])
def test_every_other_static_file_stays_same_origin(client, path):
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


# Hostile or odd addresses


@pytest.mark.parametrize(
    "url,status",
    [
        (EMBED_POINT + "?revisions=nope", 404),
        (EMBED_POINT + "?revisions=us-28-point-draft,nope", 404),
        (EMBED_POINT + "?revisions=%3Cscript%3E", 400),
        (EMBED_POINT + "?revisions=us-28-point-draft,,e3-counter-proposal", 400),
        (EMBED_POINT + "?revisions=a&revisions=b", 400),
        (EMBED_POINT + "?revisions=" + ",".join(["us-28-point-draft"] * 101), 400),
        (f"/embed/plans/{PLAN}/points/999/", 404),
        (f"/embed/plans/{PLAN}/points/%3Cb%3E/", 404),
        ("/embed/plans/nope/points/6/", 404),
        (f"{EMBED_COMPARE}?{US_E3}&points=6,999", 404),
        (f"{EMBED_COMPARE}?{US_E3}&points=6;7", 400),
        (f"{EMBED_COMPARE}?{US_E3}&points=%3Cscript%3E", 400),
        (f"{EMBED_COMPARE}?{US_E3}&points=", 200),
        (f"{EMBED_COMPARE}?{US_E3}&points=6&points=7", 400),
        (f"{EMBED_COMPARE}?a=nope&b=e3-counter-proposal", 404),
        (f"{EMBED_COMPARE}?a=%00&b=e3-counter-proposal", 400),
        (f"{EMBED_COMPARE}?{US_E3}&view=sideways", 400),
        (f"{EMBED_COMPARE}?{US_E3}&changes=%F0%9F%92%A5", 400),
    ],
)
def test_hostile_embed_addresses_get_a_clear_4xx(client, url, status):
    response = client.get(url)
    assert response.status_code == status, url
    if status != 200:
        html = response.content.decode()
        assert "<h1>" in html and "embed.css" in html  # the small embed page, not the site's


def test_embed_errors_can_be_shown_inside_the_frame(client):
    """A broken embed explains itself in the article instead of being refused by the browser."""
    response = client.get(EMBED_POINT + "?revisions=nope")
    assert response.status_code == 404
    assert "X-Frame-Options" not in response
    assert csp(response)["frame-ancestors"] == "*"
    assert "no revision called “nope”" in response.content.decode()


def test_embeds_answer_head_requests(client):
    assert client.head(EMBED_POINT).status_code == 200
    assert client.post(EMBED_POINT).status_code == 405


# Who may frame what


@pytest.mark.parametrize("url", [EMBED_POINT, f"{EMBED_COMPARE}?{US_E3}&points=6,7,8"])
def test_embeds_may_be_framed_by_any_site(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = csp(response)
    assert policy["frame-ancestors"] == "*"
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'none'" and policy["trusted-types"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "url,headers",
    [
        ("/", {}),
        (POINT_PAGE, {}),
        (COMPARE_PAGE, {}),
        (f"/plans/{PLAN}/revisions/us-28-point-draft/", {}),
        (f"/plans/{PLAN}/parties/russia/", {}),
        (f"/plans/{PLAN}/timeline/", {}),
        ("/sources/", {}),
        (COMPARE_PAGE + "&view=inline", {"HX-Request": "true"}),
        (POINT_PAGE + "?against=us-28-point-draft", {"HX-Request": "true"}),
        ("/admin/login/", {}),
        ("/nope/", {}),
        (f"/plans/{PLAN}/points/999/", {}),
        (f"/plans/{PLAN}/compare/?view=sideways", {}),
        (f"/oembed/?url=http://{HOST}{POINT_PAGE}", {}),
        # Almost embed addresses: only the two embed routes are exempt.
        (f"/embed/plans/{PLAN}/", {}),
        (f"/embed/plans/{PLAN}/points/6/extra/", {}),
    ],
)
def test_every_other_route_refuses_framing(client, url, headers):
    response = client.get(url, headers=headers)
    assert response["X-Frame-Options"] == "DENY", url
    assert csp(response)["frame-ancestors"] == "'none'", url


@pytest.mark.parametrize("url", [EMBED_POINT, f"{EMBED_COMPARE}?{US_E3}&points=6", EMBED_POINT + "?revisions=nope"])
def test_embeds_set_no_cookie_even_for_a_signed_in_editor(client, url):
    """
    No session, CSRF or message cookie, and no Vary: Cookie: the answer is the same for everyone.
    Public for readers; an editor's copy is never kept (they must see their edit at once).
    """
    anonymous = client.get(url)
    assert not anonymous.cookies and "public" in anonymous["Cache-Control"]
    client.force_login(User.objects.create_user("embed-editor", password="a-long-test-password-1", is_staff=True))
    response = client.get(url)
    assert not response.cookies and "Set-Cookie" not in response
    assert "cookie" not in response.get("Vary", "").lower()
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", [EMBED_POINT, f"{EMBED_COMPARE}?{US_E3}", EMBED_POINT + "?revisions=nope"])
def test_embeds_carry_one_script_file_and_nothing_inline(client, url):
    """Their only script is embed.js, from our origin (the height for the framing page); no form, no inline code."""
    response = client.get(url)
    html = response.content.decode()
    assert html.count("<script") == 1 and '<script src="/static/peaceplans/embed.js" defer></script>' in html
    assert "htmx" not in html and " on" + "load=" not in html
    assert "<form" not in html and "csrfmiddlewaretoken" not in html
    assert "style=" not in html and "<style" not in html
    assert "/static/peaceplans/embed.css" in html and "app.css" not in html


@pytest.mark.parametrize(
    "url,budget",
    [
        # plan, point, revisions, clauses, their sources, stances, parties, published notes
        (EMBED_POINT, 8),
        # plan, revisions, point keys, clauses of both sides, their stored word diffs, notes, sources of both sides
        (f"{EMBED_COMPARE}?{US_E3}&points=6,7,8", 7),
        (f"{EMBED_COMPARE}?{US_E3}", 6),
    ],
)
@pytest.mark.usefixtures("page_cache_off")
def test_embed_query_count_is_fixed(client, url, budget):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) == budget, [q["sql"][:100] for q in queries]


@pytest.mark.usefixtures("page_cache_off")
def test_point_embed_query_count_does_not_grow_with_stances(client, plan):
    client.get(EMBED_POINT)
    with CaptureQueriesContext(connection) as before:
        client.get(EMBED_POINT)
    point = plan.points.get(key="6")
    template = point.stances.first()
    for n in range(30):
        template.pk = None
        template.summary = f"generated {n}"
        template.save()
    with CaptureQueriesContext(connection) as after:
        client.get(EMBED_POINT)
    assert len(before) == len(after)


# The "Embed" snippet on the full pages


@pytest.mark.parametrize(
    "page,embed",
    [
        (POINT_PAGE, f"http://{HOST}{EMBED_POINT}"),
        (COMPARE_PAGE + "&changes=only", f"http://{HOST}{EMBED_COMPARE}?{US_E3}&view=side&changes=only"),
    ],
)
def test_full_pages_offer_an_iframe_snippet_of_their_embed(client, page, embed):
    html = html_of(client, page)
    details = between(html, '<details class="embed-snippet"', "</details>")
    snippet = unescape(between(details, "readonly", "</textarea>").split(">", 1)[1])
    iframe = iframe_attributes(snippet)
    assert iframe["src"] == embed
    assert iframe["title"].endswith("(peaceplans)")
    assert iframe["width"] == "100%" and int(iframe["height"]) >= 400 and iframe["loading"] == "lazy"
    assert "data-peaceplans-embed" in iframe  # what the host script looks for
    assert snippet.endswith(f'></iframe>\n<script src="http://{HOST}/static/peaceplans/embed-host.js" async></script>')
    assert html_of(client, embed.removeprefix(f"http://{HOST}"))  # the snippet's page exists
    assert 'data-copy-from="embed-code"' in details


def test_snippet_titles_are_escaped_inside_the_iframe_code(client, plan):
    point = plan.points.get(key="6")
    point.title = 'Cap "600,000" <b>'
    point.save()
    html = html_of(client, POINT_PAGE)
    code = between(html, 'id="embed-code"', "</textarea>").split(">", 1)[1]
    assert "<b>" not in code and "&lt;b&gt;" not in unescape(code).split("title=")[0]
    assert iframe_attributes(unescape(code))["title"] == 'Point 6: Cap "600,000" <b> (peaceplans)'


# oEmbed


def oembed(client, url, status=200, **params):
    response = client.get("/oembed/", {"url": url, **params})
    assert response.status_code == status, (url, params, response.status_code, response.content[:200])
    return response


@pytest.mark.parametrize(
    "url,embed,title",
    [
        (POINT_PAGE, EMBED_POINT, "Point 6: Army cap (peaceplans)"),
        (POINT_PAGE + "?against=us-28-point-draft", EMBED_POINT, "Point 6: Army cap (peaceplans)"),
        (EMBED_POINT + "?revisions=e3-counter-proposal", EMBED_POINT + "?revisions=e3-counter-proposal", "Army cap"),
        (COMPARE_PAGE, f"{EMBED_COMPARE}?{US_E3}&view=side&changes=all", "→"),
        (COMPARE_PAGE + "&view=inline#point-6", f"{EMBED_COMPARE}?{US_E3}&view=inline&changes=all&points=6", "→"),
        (f"{EMBED_COMPARE}?{US_E3}&points=6,7", f"{EMBED_COMPARE}?{US_E3}&view=side&changes=all&points=6%2C7", "→"),
    ],
)
def test_oembed_describes_our_point_compare_and_embed_pages(client, url, embed, title):
    response = oembed(client, f"http://{HOST}{url}", format="json")
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["version"] == "1.0" and data["type"] == "rich"
    assert data["provider_name"] == "peaceplans" and data["provider_url"] == f"http://{HOST}/"
    assert title in data["title"]
    assert data["width"] == 640 and data["height"] > 0
    src = f"http://{HOST}{embed}".replace("&", "&amp;")
    assert data["html"].startswith(f'<iframe src="{src}" title="')
    assert f'width="{data["width"]}" height="{data["height"]}"' in data["html"]
    assert data["html"].endswith(f'<script src="http://{HOST}/static/peaceplans/embed-host.js" async></script>')
    assert response["Access-Control-Allow-Origin"] == "*"


def test_oembed_honours_maxwidth_and_maxheight(client):
    data = json.loads(oembed(client, f"http://{HOST}{POINT_PAGE}", maxwidth="300", maxheight="200").content)
    assert (data["width"], data["height"]) == (300, 200)
    assert 'width="300" height="200"' in data["html"]
    data = json.loads(oembed(client, f"http://{HOST}{POINT_PAGE}", maxwidth="5000").content)
    assert data["width"] == 640  # never wider than the embed's own width


def test_oembed_iframe_points_at_a_working_embed(client):
    data = json.loads(oembed(client, f"http://{HOST}{COMPARE_PAGE}#point-7").content)
    src = unescape(data["html"].split('src="')[1].split('"')[0])
    parts = urlsplit(src)
    assert parse_qs(parts.query)["points"] == ["7"]
    assert 'id="point-7"' in html_of(client, f"{parts.path}?{parts.query}")


def test_oembed_xml_is_not_implemented(client):
    response = oembed(client, f"http://{HOST}{POINT_PAGE}", status=501, format="xml")
    assert "format=json" in response.content.decode()


@pytest.mark.parametrize(
    "url,status",
    [
        ("", 400),
        ("   ", 400),
        ("javascript:alert(document.domain)", 400),
        ("JavaScript://testserver/%0aalert(1)", 400),
        ("data:text/html,<script>alert(1)</script>", 400),
        ("not a url", 400),
        (f"//{HOST}{POINT_PAGE}", 400),
        ("http://[::1/", 400),
        (f"http://{HOST}:99999{POINT_PAGE}", 400),
        (f"http://evil.example{POINT_PAGE}", 404),
        (f"http://{HOST}.evil.example{POINT_PAGE}", 404),
        (f"http://{HOST}@evil.example{POINT_PAGE}", 404),
        (f"http://evil.example@{HOST}{POINT_PAGE}", 404),
        (f"http://{HOST}:8080{POINT_PAGE}", 404),
        (f"http://{HOST}/sources/", 404),
        (f"http://{HOST}/admin/", 404),
        (f"http://{HOST}/nothing/here/", 404),
        (f"http://{HOST}/plans/{PLAN}/points/999/", 404),
        (f"http://{HOST}/plans/nope/points/6/", 404),
        (f"http://{HOST}/plans/{PLAN}/compare/?a=nope", 404),
        (f"http://{HOST}/plans/{PLAN}/compare/?view=%3Cscript%3E", 404),
        (f"http://{HOST}{EMBED_COMPARE}?points=999", 404),
        (f"http://{HOST}{EMBED_POINT}?revisions=nope", 404),
    ],
)
def test_oembed_refuses_what_it_cannot_describe(client, url, status):
    response = oembed(client, url, status=status)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.strip()


def test_oembed_without_url_is_a_400(client):
    response = client.get("/oembed/")
    assert response.status_code == 400
    assert "url" in response.content.decode()


@pytest.mark.parametrize("params", [{"maxwidth": "abc"}, {"maxwidth": "0"}, {"maxheight": "-5"}, {"maxwidth": "１２"}])
def test_oembed_bad_dimensions_are_a_400(client, params):
    oembed(client, f"http://{HOST}{POINT_PAGE}", status=400, **params)


@pytest.mark.parametrize("page", [POINT_PAGE, COMPARE_PAGE])
def test_pages_announce_their_oembed_description(client, page):
    html = html_of(client, page)
    link = between(html, '<link rel="alternate" type="application/json+oembed" href="', '"')
    parts = urlsplit(unescape(link))
    assert parts.path == "/oembed/"
    response = client.get(parts.path, parse_qs(parts.query))
    assert response.status_code == 200 and json.loads(response.content)["type"] == "rich"


@pytest.mark.usefixtures("page_cache_off")
def test_oembed_query_count_is_small(client):
    url = f"http://{HOST}{COMPARE_PAGE}#point-6"
    client.get("/oembed/", {"url": url})
    with CaptureQueriesContext(connection) as queries:
        client.get("/oembed/", {"url": url})
    assert len(queries) == 3, [q["sql"][:100] for q in queries]  # plan, revisions, the point
