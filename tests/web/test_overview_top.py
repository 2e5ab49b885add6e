"""The overview's top (issue 21, item 7): "What is new" from the data, uncut revision cards, one share bar."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Party, Plan, Point, Stance
from peaceplans.web.summary import texts_of, what_is_new

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def between(html, start, end):
    return html.split(start, 1)[1].split(end, 1)[0]


def whats_new(html):
    return between(html, '<p class="whats-new__text">', "</p>")


def test_whats_new_names_the_newest_text_with_its_date_and_the_latest_statement(client):
    html = whats_new(html_of(client, f"/plans/{PLAN}/"))
    assert "The newest text is " in html
    assert '<a href="/plans/russia-ukraine-2025/revisions/ukraine-us-20-point-draft/">20-point</a>' in html
    assert '<time datetime="2025-12-23">23 Dec 2025</time>' in html
    latest = Stance.objects.filter(point__isnull=False).order_by("-stated_on", "-pk").first()
    assert f'The latest, on <time datetime="{latest.stated_on.isoformat()}">' in html
    # The statement names the text it answers: Russia opposed the Berlin wording of point 8 (a European
    # force in Ukraine), not the US draft's ban on NATO troops, which it backed on 11 Dec.
    assert f'href="/plans/{PLAN}/points/8/#stance-{latest.pk}">the Berlin wording of point 8 (' in html
    assert "Russia rejected" in html


def test_whats_new_counts_the_positions_recorded_since_the_newest_text(client):
    newest = datetime.date(2025, 12, 23)  # the 20-point text
    since = Stance.objects.filter(point__isnull=False, stated_on__gt=newest)
    n, points = since.count(), since.values("point").distinct().count()
    assert n > 1 and points > 1
    html = whats_new(html_of(client, f"/plans/{PLAN}/"))
    assert f"Since then {n} positions on {points} points have been recorded." in html


@pytest.mark.usefixtures("page_cache_off")
def test_whats_new_is_current_after_a_new_statement(client):
    """A statement recorded today leads the paragraph on the next request."""
    plan = Plan.objects.get(slug=PLAN)
    template = Stance.objects.filter(point__isnull=False).first()
    point = Point.objects.get(plan=plan, key="6")
    stance = Stance.objects.create(
        plan=plan,
        party=Party.objects.get(slug="ukraine"),
        point=point,
        revision=template.revision,
        position="supports",
        stated_on=datetime.date(2026, 1, 9),
        summary="test",
        source=template.source,
    )
    html = whats_new(html_of(client, f"/plans/{PLAN}/"))
    assert '<time datetime="2026-01-09">9 Jan 2026</time>: Ukraine backed' in html
    assert f'#stance-{stance.pk}">the {template.revision.label} wording of point 6 ({point.title})</a>.' in html


def test_whats_new_costs_two_queries_and_the_texts_none():
    """The texts come from the overview's one query of revisions (authors' ids included); "What is new" adds two."""
    plan = Plan.objects.get(slug=PLAN)
    parties = list(Party.objects.all())
    with CaptureQueriesContext(connection) as queries:
        revisions = list(plan.revisions.public().for_strip())
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        texts = texts_of(plan, revisions, parties)
        news = what_is_new(plan, texts, revisions, parties)
    assert len(queries) == 2, [q["sql"][:200] for q in queries]
    assert news.newest.slug == "ukraine-us-20-point-draft" and news.stances_since > 0
    assert news.newest.authors == "United States and Ukraine"  # in the parties' order
    assert all(said.party and said.url.endswith(f"#stance-{said.pk}") for said in news.latest)


def test_revision_cards_show_whole_titles_dates_and_a_latest_label(client):
    strip = between(html_of(client, f"/plans/{PLAN}/"), '<ol class="time-strip">', "</ol>")
    assert '">US draft</a></h3>' in strip
    assert '<p class="time-strip__full">US 28-point peace plan (Witkoff-Dmitriev draft)</p>' in strip
    assert "…" not in strip and "..." not in strip  # nothing cut mid-word
    assert strip.count('<h3 class="time-strip__title">') == 6
    assert strip.count("tag--latest") == 1
    latest_card = strip.split("time-strip__item--latest")[1]
    assert '<time datetime="2025-12-23">23 Dec 2025</time> <span class="tag tag--latest">Latest</span>' in latest_card
    assert "20-point" in latest_card


@pytest.mark.parametrize(
    "url,feed",
    [
        (f"/plans/{PLAN}/", f"/feeds/plans/{PLAN}/"),
        (f"/plans/{PLAN}/points/6/", f"/feeds/plans/{PLAN}/points/6/"),
        (f"/plans/{PLAN}/parties/russia/", f"/feeds/plans/{PLAN}/parties/russia/"),
    ],
)
def test_share_cite_and_feed_sit_in_one_bar(client, url, feed):
    html = html_of(client, url)
    body = html.split("</head>", 1)[1]
    bar = between(body, '<p class="share-tools"', "</p>")
    assert 'class="copy-link"' in bar and 'href="#cite-heading">Cite this</a>' in bar
    assert f'<a class="feed-link" href="{feed}" type="application/atom+xml">' in bar
    assert body.count('class="feed-link"') == 1  # nowhere else on the page
