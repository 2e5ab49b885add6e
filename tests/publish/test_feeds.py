"""
Atom feeds of changes: to a plan, to one point, to one party's stances. Each is parsed back
with feedparser as a feed reader would; every entry leads to the exact place on a page.
"""

from datetime import date
from urllib.parse import urlsplit

import feedparser
import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peaceplans.models import Annotation, Party, Point, Revision, Source
from peaceplans.publish.feeds import POSITION_VERBS

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
PLAN_FEED = f"/feeds/plans/{PLAN}/"
POINT_FEED = f"/feeds/plans/{PLAN}/points/6/"
PARTY_FEED = f"/feeds/plans/{PLAN}/parties/russia/"
FEEDS = [PLAN_FEED, POINT_FEED, PARTY_FEED]
PASSWORD = "a-long-test-password-1"
FEED_LIMIT = 50  # entries in a feed at most, whatever the data
HOSTILE = "Росія: <script>alert('x')</script> & «ні» </summary>]]>"


def atom(client, url):
    """The feed at `url`, parsed; fails unless it is well-formed Atom served as Atom."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    parsed.raw = response.content.decode()
    return parsed


def ids(feed) -> list[str]:
    return [entry.id for entry in feed.entries]


def tag(kind, pk) -> str:
    return f"tag:testserver,2025:{kind}/{pk}"


@pytest.fixture
def point(plan) -> Point:
    return plan.points.get(key="6")


@pytest.fixture
def editor(db) -> User:
    """A staff member of the Editors group, as in tests/web/test_notes.py."""
    user = User.objects.create_user(
        "nightdesk", email="desk@example.org", password=PASSWORD, is_staff=True, first_name="Olena", last_name="K."
    )
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def publish(point, body, *, author=None, status=Annotation.Status.PUBLISHED) -> Annotation:
    return Annotation.objects.create(point=point, body=body, status=status, author=author)


# The feeds as documents


@pytest.mark.parametrize(
    "url,title,link",
    [
        (PLAN_FEED, "Changes to ", f"/plans/{PLAN}/"),
        (POINT_FEED, "Point 6: Army cap · ", f"/plans/{PLAN}/points/6/"),
        (PARTY_FEED, "Russia: stances on ", f"/plans/{PLAN}/parties/russia/"),
    ],
)
def test_each_feed_is_atom_with_title_links_and_author(client, plan, url, title, link):
    feed = atom(client, url).feed
    assert feed.title == title + plan.title
    assert feed.link == "http://testserver" + link
    assert {(link_.rel, link_.href) for link_ in feed.links} == {
        ("alternate", "http://testserver" + link),
        ("self", "http://testserver" + url),
    }
    assert feed.id == "tag:testserver,2025:" + url
    assert feed.author == "peaceplans editors"
    assert feed.subtitle.endswith("newest first.")


@pytest.mark.parametrize("url", FEEDS)
def test_entries_are_newest_first_with_unique_ids_and_required_fields(client, url):
    entries = atom(client, url).entries
    assert entries
    assert len({e.id for e in entries}) == len(entries)
    times = [e.updated_parsed for e in entries]
    assert times == sorted(times, reverse=True)
    for entry in entries:
        assert entry.id.startswith("tag:testserver,2025:")
        assert entry.title and entry.summary and entry.author
        assert entry.link.startswith("http://testserver/plans/")
        assert entry.summary_detail.type == "text/plain"
        if "published_parsed" in entry:
            assert entry.published_parsed <= entry.updated_parsed, entry.id


def test_plan_feed_holds_at_most_fifty_entries_the_newest(client, plan):
    assert plan.stances.count() > FEED_LIMIT  # the demo alone fills it
    feed = atom(client, PLAN_FEED)
    assert len(feed.entries) == FEED_LIMIT
    newest = plan.stances.order_by("-updated_at", "-pk").first()
    assert feed.entries[0].id == tag("stance", newest.pk)


def test_point_feed_is_capped_at_fifty_too(client, point):
    notes = [publish(point, f"Note number {n}.") for n in range(FEED_LIMIT + 5)]
    feed = atom(client, POINT_FEED)
    assert len(feed.entries) == FEED_LIMIT
    assert ids(feed) == [tag("note", n.pk) for n in reversed(notes)][:FEED_LIMIT]


# What each feed holds


def test_point_feed_has_the_wording_in_each_text_and_the_stances(client, point):
    feed = atom(client, POINT_FEED)
    by_id = {e.id: e for e in feed.entries}
    e3 = point.clauses.get(revision__slug="e3-counter-proposal")
    entry = by_id[tag("clause", e3.pk)]
    assert entry.title == f"Point 6 in {e3.revision.title}"
    assert entry.link == f"http://testserver/plans/{PLAN}/points/6/#clause-e3-counter-proposal"
    assert e3.text in entry.summary and "800,000" in entry.summary
    assert {t.term for t in entry.tags} == {point.topic.name, e3.revision.title}
    assert set(by_id) == {tag("clause", c.pk) for c in point.clauses.all()} | {
        tag("stance", s.pk) for s in point.stances.all()
    }


def test_stance_entry_reads_as_a_sentence_with_its_evidence(client, point):
    stance = point.stances.filter(party__slug="russia").select_related("party", "source").last()
    feed = atom(client, POINT_FEED)
    entry = next(e for e in feed.entries if e.id == tag("stance", stance.pk))
    assert entry.title == f"Russia {POSITION_VERBS[stance.position]} point 6 ({point.title})"
    assert entry.author == "Russia"
    assert stance.summary in entry.summary
    assert f"Source: {stance.source.outlet}" in entry.summary
    assert {t.term for t in entry.tags} == {point.topic.name, "Russia"}
    assert entry.link == f"http://testserver/plans/{PLAN}/points/6/#stance-{stance.pk}"
    assert entry.published_parsed and entry.updated_parsed


def test_party_feed_holds_only_that_partys_stances_on_points_and_whole_texts(client, plan):
    russia = Party.objects.get(slug="russia")
    feed = atom(client, PARTY_FEED)
    expected = plan.stances.filter(party=russia)
    assert expected.count() <= FEED_LIMIT
    assert set(ids(feed)) == {tag("stance", s.pk) for s in expected}
    assert all(e.author == "Russia" and e.title.startswith("Russia ") for e in feed.entries)
    whole = expected.filter(point__isnull=True).select_related("revision").first()
    assert whole is not None, "the demo has Russia's statements on whole texts"
    entry = next(e for e in feed.entries if e.id == tag("stance", whole.pk))
    assert entry.title.endswith(f"{whole.revision.title} as a whole")
    assert entry.link == f"http://testserver/plans/{PLAN}/revisions/{whole.revision.slug}/#stance-{whole.pk}"


def test_a_newly_added_old_text_is_at_the_top_of_the_plan_feed(client, plan):
    """Texts are dated by when they reached the site: an old leak added today is today's news."""
    old = Revision.objects.create(
        plan=plan,
        slug="old-leak",
        title="An old leak",
        published_on=date(2025, 10, 1),
        status=Revision.Status.LEAKED_DRAFT,
        summary="Found late.",
    )
    old.authors.set(Party.objects.filter(slug__in=["us", "russia"]))
    entry = atom(client, PLAN_FEED).entries[0]
    assert entry.id == tag("revision", old.pk)
    assert entry.title == "New text: An old leak"
    assert entry.summary == "Leaked draft dated 1 Oct 2025, by United States and Russia. Found late."
    assert entry.author == "United States and Russia"
    assert entry.link == f"http://testserver/plans/{PLAN}/revisions/old-leak/"
    assert {t.term for t in entry.tags} == {"United States", "Russia", "leaked draft"}


def test_editing_a_stance_moves_it_to_the_top_of_its_feeds_keeping_its_id(client, plan):
    stance = plan.stances.filter(party__slug="russia", point__isnull=False).order_by("updated_at", "pk").first()
    assert tag("stance", stance.pk) != atom(client, PARTY_FEED).entries[0].id
    stance.summary = "Corrected: Moscow restated its demand."
    stance.save()
    point_feed = f"/feeds/plans/{PLAN}/points/{stance.point.key}/"
    for url in (PLAN_FEED, PARTY_FEED, point_feed):
        top = atom(client, url).entries[0]
        assert top.id == tag("stance", stance.pk), url
        assert top.title.startswith("Updated: Russia ")
        assert "Corrected: Moscow restated its demand." in top.summary


def test_a_note_entry_carries_the_sanitized_html_and_the_editors_name(client, point, editor):
    note = publish(point, "The cap was **600,000** in the US draft.", author=editor)
    for url in (PLAN_FEED, POINT_FEED):
        feed = atom(client, url)
        entry = feed.entries[0]
        assert entry.id == tag("note", note.pk)
        assert entry.title == "Note published on point 6 (Army cap)"
        assert entry.author == "Olena K."
        assert entry.summary == "The cap was 600,000 in the US draft."
        assert entry.content[0].type == "text/html"
        assert entry.content[0].value == "<p>The cap was <strong>600,000</strong> in the US draft.</p>"
        assert entry.link == f"http://testserver/plans/{PLAN}/points/6/#note-{note.pk}"
        assert "nightdesk" not in feed.raw and "desk@example.org" not in feed.raw


def test_a_note_without_a_named_author_is_signed_by_the_editors(client, point):
    publish(point, "Unsigned.", author=User.objects.create_user("anon-desk", password=PASSWORD))
    feed = atom(client, POINT_FEED)
    assert feed.entries[0].author == "peaceplans editors"
    assert "anon-desk" not in feed.raw


# Draft notes in no feed: tests/web/test_unpublished.py (every public route, these feeds included).


def test_a_source_that_is_not_citable_is_named_but_never_linked(client, plan):
    stance = plan.stances.filter(party__slug="russia").select_related("source").first()
    source = stance.source
    feed = atom(client, PARTY_FEED)
    assert source.url in feed.raw  # citable: the address is given
    Source.objects.filter(pk=source.pk).update(citable=False)
    feed = atom(client, PARTY_FEED)
    assert source.url not in feed.raw
    entry = next(e for e in feed.entries if e.id == tag("stance", stance.pk))
    assert f"Source: {source.outlet}" in entry.summary and "not citable" in entry.summary


# Every entry leads somewhere real


@pytest.mark.parametrize("url", FEEDS)
def test_every_entry_link_opens_a_page_holding_its_anchor(client, point, url):
    publish(point, "A note to link to.")
    pages = {}
    for entry in atom(client, url).entries:
        link = urlsplit(entry.link)
        assert (link.scheme, link.netloc) == ("http", "testserver")
        if link.path not in pages:
            response = client.get(link.path)
            assert response.status_code == 200, entry.link
            pages[link.path] = response.content.decode()
        if link.fragment:
            assert f'id="{link.fragment}"' in pages[link.path], entry.link


# An editor publishes through the admin


def admin_form_data(client, url) -> dict:
    """The admin form's current values, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = [v.pk if hasattr(v, "pk") else v for v in value] if isinstance(value, list) else value
    return data


def test_publishing_a_note_in_the_admin_adds_one_entry_at_the_top_a_draft_none(client, point, editor):
    reader = type(client)()
    before = {url: ids(atom(reader, url)) for url in (PLAN_FEED, POINT_FEED)}
    client.force_login(editor)

    add = reverse("admin:peaceplans_annotation_add")
    data = admin_form_data(client, add) | {"point": point.pk, "body": "Moscow wants *600,000*.", "status": "draft"}
    assert client.post(add, data).status_code == 302
    note = Annotation.objects.get(body="Moscow wants *600,000*.")
    for url, old in before.items():
        assert ids(atom(reader, url)) == old, "a draft adds nothing"

    change = reverse("admin:peaceplans_annotation_change", args=[note.pk])
    data = admin_form_data(client, change) | {"status": "published"}
    response = client.post(change, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    for url, old in before.items():
        feed = atom(reader, url)
        new = ids(feed)
        assert new[0] == tag("note", note.pk), url
        assert set(new) - set(old) == {tag("note", note.pk)}, url
        assert feed.entries[0].title == "Note published on point 6 (Army cap)"
        assert feed.entries[0].author == "Olena K."
        assert "<em>600,000</em>" in feed.entries[0].content[0].value


# Escaping


def test_cyrillic_and_markup_in_a_stance_are_escaped_and_parse_back_unchanged(client, plan):
    stance = plan.stances.filter(party__slug="russia", point__isnull=False).select_related("point").first()
    stance.summary = HOSTILE
    stance.quote = "«Ні» & <b>так</b>"
    stance.save()
    Point.objects.filter(pk=stance.point_id).update(title="Армія <i>&</i>")
    feed = atom(client, PARTY_FEED)
    assert "<script" not in feed.raw and "<b>" not in feed.raw and "<i>" not in feed.raw
    assert "&lt;script&gt;" in feed.raw
    top = feed.entries[0]
    assert HOSTILE in top.summary
    assert "“«Ні» & <b>так</b>”" in top.summary
    assert top.title.endswith(f"point {stance.point.key} (Армія <i>&</i>)")


def test_cyrillic_and_markup_in_a_note_are_escaped_and_parse_back_unchanged(client, point):
    note = publish(point, "Примітка: <script>alert(1)</script> & **так**")
    feed = atom(client, POINT_FEED)
    assert "<script" not in feed.raw and "&amp;lt;script&amp;gt;" in feed.raw
    entry = feed.entries[0]
    assert entry.id == tag("note", note.pk)
    assert entry.summary == "Примітка: <script>alert(1)</script> & так"
    assert entry.content[0].value == "<p>Примітка: &lt;script&gt;alert(1)&lt;/script&gt; &amp; <strong>так</strong></p>"


# Hostile and odd addresses


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/plans/no-such-plan/",
        "/feeds/plans/no-such-plan/points/6/",
        "/feeds/plans/no-such-plan/parties/russia/",
        f"/feeds/plans/{PLAN}/points/999/",
        f"/feeds/plans/{PLAN}/points/'%20OR%201=1%20--/",
        f"/feeds/plans/{PLAN}/points/%3Cscript%3E/",
        f"/feeds/plans/{PLAN}/points/%D0%BF%D1%83%D0%BD%D0%BA%D1%82/",
        f"/feeds/plans/{PLAN}/points/{'6' * 500}/",
        f"/feeds/plans/{PLAN}/points/6%2F..%2F7/",
        f"/feeds/plans/{PLAN}/points/6/extra/",
        f"/feeds/plans/{PLAN}/parties/nobody/",
        f"/feeds/plans/{PLAN}/parties/%D0%A0%D0%BE%D1%81%D1%96%D1%8F/",
        "/feeds/plans/%3Cscript%3E/",
        "/feeds/plans/" + "a" * 500 + "/",
        # NUL (a 400) and addresses over 1 KB (a 414): tests/ops/test_limits.py.
        "/feeds/",
        "/feeds/plans/",
    ],
)
def test_unknown_or_hostile_addresses_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404, (url, response.status_code)


# Cost


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        atom(client, url)
    return len(queries)


@pytest.mark.parametrize("url,expected", [(PLAN_FEED, 5), (POINT_FEED, 6), (PARTY_FEED, 3)])
@pytest.mark.usefixtures("page_cache_off")
def test_query_count_is_fixed_whatever_the_size_of_the_data(client, plan, point, url, expected):
    assert query_count(client, url) == expected
    writer = User.objects.create_user("writer", password=PASSWORD, first_name="Writer")
    for n in range(30):
        publish(point, f"Note {n}.", author=writer if n % 2 else None)
    template = plan.stances.filter(point=point, party__slug="russia").first()
    for n in range(30):
        template.pk = None
        template.summary = f"Stance {n}."
        template.save()
    extra = Revision.objects.create(
        plan=plan, slug="more", title="More", published_on=date(2025, 12, 20), status=Revision.Status.FRAMEWORK
    )
    extra.authors.set(Party.objects.all())
    assert query_count(client, url) == expected


# Discovery on the pages


@pytest.mark.parametrize(
    "page,feed,title",
    [
        (f"/plans/{PLAN}/", PLAN_FEED, "Changes to "),
        (f"/plans/{PLAN}/points/6/", POINT_FEED, "Changes to point 6: Army cap (Atom feed)"),
        (f"/plans/{PLAN}/parties/russia/", PARTY_FEED, "Russia: stances on "),
    ],
)
def test_pages_announce_their_feed_in_the_head_and_link_it_visibly(client, page, feed, title):
    html = client.get(page).content.decode()
    head, body = html.split("</head>")
    alternate = [line for line in head.splitlines() if 'rel="alternate" type="application/atom+xml"' in line]
    assert len(alternate) == 1
    assert f'href="{feed}"' in alternate[0] and f'title="{title}' in alternate[0]
    assert f'<a class="feed-link" href="{feed}" type="application/atom+xml">Follow changes (Atom feed)</a>' in body
    atom(client, feed)
