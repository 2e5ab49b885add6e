"""
Sharing: canonical addresses with the whole state, Open Graph and Twitter card metadata on
every page, "Cite this" blocks ready to paste, and "Copy link" as a plain link.
"""

import re
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from peaceplans.models import Party, Revision, Source, Stance

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
HOST = "testserver"
SITE = f"http://{HOST}"
US_E3 = "a=us-28-point-draft&b=e3-counter-proposal"
PAGES = [
    "/",
    f"/plans/{PLAN}/",
    f"/plans/{PLAN}/?topic=nato&party=russia",
    f"/plans/{PLAN}/compare/",
    f"/plans/{PLAN}/compare/?{US_E3}",
    f"/plans/{PLAN}/compare/?{US_E3}&view=inline&changes=only",
    f"/plans/{PLAN}/compare/?a=berlin-joint-statement&b=berlin-joint-statement",
    f"/plans/{PLAN}/points/6/",
    f"/plans/{PLAN}/points/6/?against=us-28-point-draft",
    f"/plans/{PLAN}/revisions/us-28-point-draft/",
    f"/plans/{PLAN}/parties/russia/",
    f"/plans/{PLAN}/timeline/",
    f"/plans/{PLAN}/changes/",
    "/sources/",
    "/search/",
    "/search/?q=800%2C000",
    "/api/",
]
CARD = [
    ("meta", "name", "description"),
    ("meta", "property", "og:site_name"),
    ("meta", "property", "og:type"),
    ("meta", "property", "og:title"),
    ("meta", "property", "og:description"),
    ("meta", "property", "og:url"),
    ("meta", "name", "twitter:card"),
    ("meta", "name", "twitter:title"),
    ("meta", "name", "twitter:description"),
]


@pytest.fixture(autouse=True)
def _testserver_host(settings):
    settings.ALLOWED_HOSTS = [HOST]


class Head(HTMLParser):
    """The <meta> and <link> elements of a page, attributes decoded as a browser reads them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, list[dict]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.meta.setdefault(key, []).append(attrs.get("content", ""))
        elif tag == "link":
            self.links.setdefault(attrs.get("rel", ""), []).append(attrs)

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, (key, values)
        return values[0]

    def canonical(self) -> str:
        links = self.links.get("canonical", [])
        assert len(links) == 1, links
        return links[0]["href"]


def html_of(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def citation(html: str) -> str:
    """The "Cite this" text as a reader copies it."""
    block = between(html, 'class="cite-block"', "</section>")
    return unescape(between(block, 'id="cite-text"', "</pre>").split(">", 1)[1])


def today() -> str:
    now = timezone.localdate()
    return f"{now.day} {now:%B %Y}"


# Link previews and canonical addresses


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_a_canonical_url_and_a_full_card(client, url):
    head = Head(html_of(client, url))
    for _, _, key in CARD:
        assert head.one(key).strip(), (url, key)
    assert head.one("og:site_name") == "peaceplans"
    assert head.one("twitter:card") == "summary"
    assert head.one("og:url") == head.canonical()
    assert head.canonical().startswith(SITE + "/")
    assert head.one("og:title") == head.one("twitter:title") != "peaceplans"
    assert head.one("og:description") == head.one("twitter:description") == head.one("description")


@pytest.mark.parametrize(
    "url,canonical",
    [
        ("/", f"/plans/{PLAN}/"),
        (f"/plans/{PLAN}/?topic=nato&party=russia", f"/plans/{PLAN}/?topic=nato&party=russia"),
        # The defaults are written out: one state, one address.
        (f"/plans/{PLAN}/compare/", f"/plans/{PLAN}/compare/?{US_E3}&view=side&changes=all"),
        (f"/plans/{PLAN}/compare/?changes=only&{US_E3}", f"/plans/{PLAN}/compare/?{US_E3}&view=side&changes=only"),
        (f"/plans/{PLAN}/points/6/", f"/plans/{PLAN}/points/6/"),
        (
            f"/plans/{PLAN}/points/6/?against=e3-counter-proposal",
            f"/plans/{PLAN}/points/6/?against=e3-counter-proposal",
        ),
        (f"/plans/{PLAN}/timeline/?party=us", f"/plans/{PLAN}/timeline/?party=us"),
        (f"/plans/{PLAN}/parties/us/", f"/plans/{PLAN}/parties/us/"),
    ],
)
def test_canonical_url_keeps_the_whole_state(client, url, canonical):
    assert Head(html_of(client, url)).canonical() == SITE + canonical


def test_comparison_card_says_what_changed(client):
    head = Head(html_of(client, f"/plans/{PLAN}/compare/?{US_E3}"))
    title = head.one("og:title")
    assert title.startswith("US 28-point peace plan (Witkoff-Dmitriev draft) → E3 (UK, France, Germany)")
    assert title.endswith(": 17 changed, 4 dropped, 6 unchanged, 18 not in B's text")
    description = head.one("og:description")
    assert "Word-level changes" in description and "(20 Nov 2025)" in description and "17 changed" in description
    assert head.one("og:type") == "article"


def test_comparison_card_follows_the_state(client):
    other = Head(html_of(client, f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=europe-24-point-telegraph"))
    assert "European 24-point peace plan" in other.one("og:title")
    same = Head(html_of(client, f"/plans/{PLAN}/compare/?a=berlin-joint-statement&b=berlin-joint-statement"))
    assert "compared with itself" in same.one("og:title")
    assert "Both sides are the same text" in same.one("og:description")


def test_point_card_names_the_latest_positions(client):
    head = Head(html_of(client, f"/plans/{PLAN}/points/6/"))
    assert head.one("og:title") == "Point 6: Army cap"
    description = head.one("og:description")
    assert "in 6 of 6 texts" in description
    for party in Party.objects.all():
        latest = Stance.objects.filter(point__key="6", party=party).order_by("stated_on", "pk").last()
        assert f"{party.short_name} {latest.get_position_display()}" in description


def test_party_card_tallies_its_positions(client):
    description = Head(html_of(client, f"/plans/{PLAN}/parties/russia/")).one("og:description")
    assert description.startswith("Russia's latest recorded position on ")
    assert "of 53 points" in description and "opposes" in description


def test_search_card_says_what_was_found_and_keeps_the_query(client):
    head = Head(html_of(client, "/search/?q=800%2C000"))
    assert head.one("og:title") == "Search: 800,000"
    assert re.match(r"^\d+ match(es)? for “800,000”", head.one("og:description"))
    assert head.canonical() == SITE + "/search/?q=800%2C000"


def test_pages_without_a_share_of_their_own_get_the_site_card(client):
    """A 404 (and pages other features add) still gets a complete card from base.html."""
    head = Head(html_of(client, "/nothing/here/", status=404))
    assert head.one("og:title") == "peaceplans"
    assert "compared point by point" in head.one("og:description")
    assert head.canonical() == SITE + "/nothing/here/"


def test_card_text_is_escaped_and_plain(client, plan):
    """A title with markup and quotes stays text inside the attribute: nothing breaks out."""
    point = plan.points.get(key="6")
    point.title = '<script>alert("x")</script> "Army" \'cap\''
    point.save()
    plan.title = 'Plan <img src=x onerror=alert(1)> "A&B"'
    plan.save()
    html = html_of(client, f"/plans/{PLAN}/points/6/")
    head_html = between(html, "<head>", "</head>")
    assert "<script>alert" not in head_html and "<img" not in head_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in head_html
    head = Head(html)
    assert head.one("og:title") == 'Point 6: <script>alert("x")</script> "Army" \'cap\''
    assert 'Plan <img src=x onerror=alert(1)> "A&B"' in head.one("og:description")


def test_long_descriptions_are_cut_at_a_word(client, plan):
    revision = Revision.objects.get(plan=plan, slug="us-28-point-draft")
    revision.summary = "word " * 400
    revision.save()
    description = Head(html_of(client, revision.get_absolute_url())).one("og:description")
    assert len(description) <= 300 and description.endswith("…")


def test_compare_page_and_point_page_announce_oembed(client):
    for url in (f"/plans/{PLAN}/compare/?{US_E3}", f"/plans/{PLAN}/points/6/"):
        links = Head(html_of(client, url)).links["alternate"]
        oembed = [link for link in links if link.get("type") == "application/json+oembed"]
        assert len(oembed) == 1 and oembed[0]["href"].startswith(SITE + "/oembed/?url=")


# "Copy link"


@pytest.mark.parametrize(
    "url,permalink,live",
    [
        (f"/plans/{PLAN}/points/6/", f"/plans/{PLAN}/points/6/", True),
        (
            f"/plans/{PLAN}/compare/?{US_E3}&view=inline",
            f"/plans/{PLAN}/compare/?{US_E3}&view=inline&changes=all",
            False,
        ),
        (f"/plans/{PLAN}/revisions/e3-counter-proposal/", f"/plans/{PLAN}/revisions/e3-counter-proposal/", False),
        (f"/plans/{PLAN}/parties/europe/", f"/plans/{PLAN}/parties/europe/", False),
        (f"/plans/{PLAN}/", f"/plans/{PLAN}/", True),
    ],
)
def test_copy_link_is_a_plain_link_to_the_permalink(client, url, permalink, live):
    html = html_of(client, url)
    tools = between(html, '<p class="share-tools"', "</p>")
    href = (SITE + permalink).replace("&", "&amp;")
    copy = 'data-copy="location">' if live else "data-copy>"
    assert f'<a class="copy-link" href="{href}" {copy}Copy link</a>' in tools
    assert 'role="status"' in tools


def test_compare_htmx_swap_carries_the_new_states_link_and_citation(client):
    """The share tools live in the swapped region, so they never describe the previous state."""
    response = client.get(f"/plans/{PLAN}/compare/?{US_E3}&changes=only", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="comparison"')
    permalink = f"{SITE}/plans/{PLAN}/compare/?{US_E3}&view=side&changes=only"
    assert f'href="{permalink.replace("&", "&amp;")}"' in between(html, '<p class="share-tools"', "</p>")
    assert permalink in citation(html)
    assert "changed points only" in citation(html)


def test_pages_load_copy_js_and_the_print_stylesheet(client):
    html = html_of(client, f"/plans/{PLAN}/points/6/")
    assert '<script src="/static/peaceplans/copy.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/peaceplans/print.css" media="print">' in html


# "Cite this"


def test_point_citation_has_title_plan_texts_date_url_and_sources(client, plan):
    text = citation(html_of(client, f"/plans/{PLAN}/points/6/?against=us-28-point-draft"))
    lines = text.splitlines()
    assert lines[0] == f"“Army cap” (point 6). In: {plan.title}. peaceplans."
    assert "Wording in US 28-point peace plan (Witkoff-Dmitriev draft) (20 November 2025); E3" in text
    assert f"Accessed {today()}. {SITE}/plans/{PLAN}/points/6/" in lines  # the point, not the view of it
    assert lines[lines.index("Sources:") - 1] == ""
    point = plan.points.get(key="6")
    expected = {s for c in point.clauses.all() for s in c.sources.all()} | {s.source for s in point.stances.all()}
    listed = lines[lines.index("Sources:") + 1 :]
    assert len(listed) == len(expected)
    for source in expected:
        assert any(source.outlet in line and source.url in line for line in listed), source


def test_citation_names_uncitable_sources_without_their_address(client, plan):
    point = plan.points.get(key="6")
    hidden = Source.objects.create(
        url="https://example.org/never-cite",
        outlet="Pravda network",
        title="A reprint",
        published_on=date(2025, 11, 22),
        kind=Source.Kind.AGGREGATOR,
        citable=False,
    )
    point.clauses.get(revision__slug="us-28-point-draft").sources.add(hidden)
    text = citation(html_of(client, point.get_absolute_url()))
    line = next(line for line in text.splitlines() if "Pravda network" in line)
    assert (
        line
        == "- Pravda network, “A reprint”, 22 November 2025 (aggregator); not citable, so named without its address."
    )
    assert "https://example.org/never-cite" not in text


def test_sources_are_listed_once_oldest_first(client, plan):
    text = citation(html_of(client, f"/plans/{PLAN}/points/6/"))
    listed = text.split("Sources:\n")[1].splitlines()
    assert len(listed) == len(set(listed))
    dates = [line for line in listed if "2025 (" in line]
    assert dates == listed  # every demo source is dated


def test_comparison_citation_has_both_texts_counts_url_and_their_sources(client, plan):
    text = citation(html_of(client, f"/plans/{PLAN}/compare/?{US_E3}"))
    assert text.startswith(
        "Comparison: US 28-point peace plan (Witkoff-Dmitriev draft) → E3 (UK, France, Germany) counter-proposal"
    )
    assert f"In: {plan.title}. peaceplans." in text
    assert "From US 28-point peace plan (Witkoff-Dmitriev draft) (20 November 2025) to E3" in text
    assert "Points: 17 changed, 4 dropped, 6 unchanged, 18 not in B's text." in text
    assert f"Accessed {today()}. {SITE}/plans/{PLAN}/compare/?{US_E3}&view=side&changes=all" in text
    for slug in ("us-28-point-draft", "e3-counter-proposal"):
        for source in Revision.objects.get(plan=plan, slug=slug).sources.all():
            assert source.outlet in text
            assert (source.url in text) == source.citable


def test_revision_party_and_overview_pages_have_a_citation(client, plan):
    revision = citation(html_of(client, f"/plans/{PLAN}/revisions/berlin-joint-statement/"))
    assert revision.startswith("Berlin joint statement of European leaders")
    assert "\nPublic statement by Europe" in revision and ", 15 December 2025.\n" in revision
    assert f"{SITE}/plans/{PLAN}/revisions/berlin-joint-statement/" in revision
    party = citation(html_of(client, f"/plans/{PLAN}/parties/russia/"))
    assert party.startswith("Russia: positions on every point.")
    latest = Stance.objects.filter(party__slug="russia", point__isnull=False).order_by("stated_on", "pk").last()
    assert latest.source.outlet in party
    overview = citation(html_of(client, "/"))
    assert f"{SITE}/plans/{PLAN}/" in overview and f"{SITE}/sources/" in overview
    assert "Texts compared: US 28-point peace plan" in overview


def test_citation_text_is_shown_as_typed(client, plan):
    point = plan.points.get(key="6")
    point.title = "<b>Cap</b> & {{ army }}"
    point.save()
    html = html_of(client, point.get_absolute_url())
    assert "&lt;b&gt;Cap&lt;/b&gt; &amp; {{ army }}" in between(html, 'id="cite-text" tabindex="0">', "</pre>")
    assert citation(html).startswith("“<b>Cap</b> & {{ army }}” (point 6).")


@pytest.mark.parametrize(
    "url",
    [
        f"/plans/{PLAN}/compare/?{US_E3}",
        f"/plans/{PLAN}/revisions/us-28-point-draft/",
        f"/plans/{PLAN}/parties/russia/",
    ],
)
def test_point_rows_have_stable_anchors(client, url):
    """Row permalinks: #point-<key> on every page that lists points."""
    html = html_of(client, url)
    assert html.count('id="point-6"') == 1 and html.count('id="point-10a"') == 1
