"""The timeline: events and texts by date, the party filter, links to sources and comparisons, bad input, queries."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Event, Party, Revision, Source
from peaceplans.web.timeline import timeline_entries

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = f"/plans/{PLAN}/timeline/"
PARTIES = ["us", "ukraine", "europe", "russia"]


def page(client, query="", status=200, **headers):
    response = client.get(URL + query, headers=headers)
    assert response.status_code == status, (query, response.status_code)
    return response.content.decode()


def anchors(html: str) -> list[str]:
    """The ids of the timeline's entries, in page order."""
    return re.findall(r'<li class="timeline__item[^"]*" id="((?:event|revision)-[^"]+)"', html)


def entry(html: str, anchor: str) -> str:
    """The HTML of one entry, found by its anchor."""
    return html.split(f'id="{anchor}"')[1].split('<li class="timeline__item')[0].split("</ol>")[0]


def expected_anchors(party: str | None = None) -> set[str]:
    """What the timeline should list, worked out from the database rather than from the page's code."""
    events, revisions = Event.objects.all(), Revision.objects.all()
    if party:
        events, revisions = events.filter(parties__slug=party), revisions.filter(authors__slug=party)
    return {f"event-{e.pk}" for e in events} | {f"revision-{r.slug}" for r in revisions}


def revisions_in_order() -> list[Revision]:
    return list(Revision.objects.filter(plan__slug=PLAN).order_by("published_on", "pk"))


# Content


def test_unfiltered_timeline_lists_every_event_and_revision_once(client):
    """All 32 events and 5 texts of the demo, each once."""
    found = anchors(page(client))
    assert len(found) == len(set(found)) == Event.objects.count() + Revision.objects.count() == 38
    assert set(found) == expected_anchors()


def test_entries_are_in_date_order_texts_first_on_a_shared_day(client):
    """Dates never go backwards; on 23 Nov the three texts come before that day's events."""
    html = page(client)
    dates = re.findall(r'<p class="timeline__date"><time datetime="([0-9-]+)">', html)
    assert len(dates) == 38 and dates == sorted(dates)
    day = [a for a, d in zip(anchors(html), dates, strict=True) if d == "2025-11-23"]
    kinds = [a.split("-")[0] for a in day]
    assert kinds == sorted(kinds, key=lambda kind: kind != "revision") and "event" in kinds


@pytest.mark.parametrize("party", PARTIES)
def test_party_filter_shows_that_partys_events_and_texts_only(client, party):
    """?party= keeps the events involving the party and the texts it wrote, and says how many."""
    html = page(client, f"?party={party}")
    found = anchors(html)
    assert set(found) == expected_anchors(party) and len(found) == len(set(found))
    name = Party.objects.get(slug=party).name
    events = Event.objects.filter(parties__slug=party).count()
    texts = Revision.objects.filter(authors__slug=party).count()
    assert f"{len(found)} entries involving {name}: {events} event" in html
    assert f"and {texts} text" in html
    assert f'<option value="{party}" selected>' in html


def test_russia_wrote_no_text_so_its_timeline_is_events_only(client):
    """The demo has no Russian-authored revision; every listed event names Russia among its parties."""
    html = page(client, "?party=russia")
    found = anchors(html)
    assert found and all(a.startswith("event-") for a in found)
    assert "and 0 texts it wrote" in html
    for anchor in found:
        assert "Russia" in entry(html, anchor).split('class="meta">Involving')[1].split("</p>")[0]


def test_empty_party_means_the_whole_timeline(client):
    assert set(anchors(page(client, "?party="))) == expected_anchors()


def test_event_shows_its_parties_summary_and_source(client):
    """The first event: its parties in words, its summary, and its source with outlet, date and kind."""
    event = Event.objects.order_by("date", "pk").first()
    html = entry(page(client), f"event-{event.pk}")
    assert event.title.replace("'", "&#x27;") in html
    assert "Involving " + ", ".join(p.name for p in event.parties.all()) in html
    assert f'<a href="{event.source.url}" rel="noopener noreferrer">{event.source.outlet}</a>' in html
    assert event.source.get_kind_display() in html


def test_uncitable_event_source_is_named_but_not_linked(client):
    event = Event.objects.order_by("date", "pk").first()
    Source.objects.filter(pk=event.source_id).update(citable=False)
    html = entry(page(client), f"event-{event.pk}")
    assert event.source.url not in html
    assert event.source.outlet in html and "not citable" in html


def test_revision_links_to_its_page_and_lists_its_sources(client):
    """A text's entry links to its page; its sources sit in a disclosure, uncitable ones without a link."""
    revision = Revision.objects.get(slug="us-28-point-draft")
    hidden = revision.sources.first()
    Source.objects.filter(pk=hidden.pk).update(citable=False)
    html = entry(page(client), "revision-us-28-point-draft")
    assert f'<a href="/plans/{PLAN}/revisions/us-28-point-draft/">{revision.title}</a>' in html
    assert f"<summary>Sources ({revision.sources.count()})</summary>" in html
    for source in revision.sources.exclude(pk=hidden.pk):
        assert f'href="{source.url}"' in html
    assert hidden.url not in html and "not citable" in html


def test_each_text_links_to_a_comparison_with_the_plans_previous_text(client):
    """Every text but the first links to compare/?a=<previous>&b=<this>; the first says it is the first text."""
    html = page(client)
    revisions = revisions_in_order()
    first = entry(html, f"revision-{revisions[0].slug}")
    assert "First text: nothing earlier to compare with." in first and "/compare/" not in first
    for previous, revision in zip(revisions, revisions[1:], strict=False):
        link = f'href="/plans/{PLAN}/compare/?a={previous.slug}&amp;b={revision.slug}"'
        assert link in entry(html, f"revision-{revision.slug}"), revision.slug


def test_compare_links_resolve_and_compare_the_two_texts(client):
    """Each comparison link opens (200) on the two texts it names, A the earlier."""
    html = page(client)
    links = re.findall(r'href="(/plans/[^"]+/compare/\?a=[^"]+)"', html)
    assert len(links) == Revision.objects.count() - 1
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        a, b = re.search(r"a=([^&]+)&amp;b=(.+)", link).groups()
        body = response.content.decode()
        assert f'<option value="{a}" selected>' in body.split('id="pick-a"')[1].split("</select>")[0]
        assert f'<option value="{b}" selected>' in body.split('id="pick-b"')[1].split("</select>")[0]


def test_compare_link_is_the_same_when_filtered(client):
    """Filtered to Ukraine, the Geneva framework still compares with the plan's previous text, not Ukraine's."""
    revisions = revisions_in_order()
    geneva = next(r for r in revisions if r.slug == "us-ukraine-geneva-framework")
    previous = revisions[revisions.index(geneva) - 1]
    assert not previous.authors.filter(slug="ukraine").exists()
    html = entry(page(client, "?party=ukraine"), "revision-us-ukraine-geneva-framework")
    assert f"?a={previous.slug}&amp;b=us-ukraine-geneva-framework" in html


def test_entries_have_the_anchors_models_link_to(client):
    """Event.get_absolute_url points at an id that exists on the page."""
    html = page(client)
    for event in Event.objects.all()[:5]:
        assert f'id="{event.get_absolute_url().split("#")[1]}"' in html


def test_event_text_is_escaped(client):
    event = Event.objects.first()
    Event.objects.filter(pk=event.pk).update(title="<script>alert(1)</script>", summary="<b>x</b>")
    html = page(client)
    assert "<script>alert(1)" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# The filter form and HTMX


def test_filter_is_a_plain_get_form_with_htmx_on_top(client):
    """Without JavaScript the form submits a GET to the page; htmx swaps the list and pushes the URL."""
    html = page(client)
    form = html.split('<form id="timeline-filters"')[1].split("</form>")[0]
    assert 'method="get"' in form and f'action="{URL}"' in form
    assert f'hx-get="{URL}"' in form and 'hx-target="#timeline-entries"' in form and 'hx-push-url="true"' in form
    assert '<label for="id_party">Party</label>' in form and '<select name="party"' in form
    assert '<button type="submit">' in form
    assert "hx-on" not in html and "style=" not in html


def test_htmx_request_gets_the_list_and_the_count_only(client):
    html = page(client, "?party=europe", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="timeline-entries"')
    assert "<html" not in html and 'id="timeline-filters"' not in html
    assert set(anchors(html)) == expected_anchors("europe")
    assert '<p id="timeline-count" hx-swap-oob="innerHTML">' in html


def test_htmx_history_restore_gets_the_whole_page(client):
    html = page(client, "?party=europe", **{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert html.startswith("<!doctype html>")


def test_timeline_varies_on_hx_request(client):
    assert "HX-Request" in client.get(URL)["Vary"]


def test_download_link_is_inside_the_swapped_list_and_carries_the_party(client):
    html = page(client, "?party=ukraine", **{"HX-Request": "true"})
    assert f'<a href="/plans/{PLAN}/timeline.csv?party=ukraine" download>Download CSV</a>' in html
    assert f'<a href="/plans/{PLAN}/timeline.csv" download>Download CSV</a>' in page(client)


# Bad input: a 400 with the reason, never a 500


@pytest.mark.parametrize(
    "query,shown",
    [
        ("?party='", "Select a valid choice. &#x27; is not one of the available choices."),
        ("?party=%3Cscript%3Ealert(1)%3C/script%3E", "&lt;script&gt;alert(1)&lt;/script&gt; is not one of"),
        ("?party=us&party=russia", "“party” was given 2 times in the address; give it once."),
        ("?party=" + "x" * 500, "x" * 500 + " is not one of the available choices."),
        # "?party=%00" never reaches the form: peaceplans/ops/limits.py refuses a NUL first (tests/ops/test_limits.py).
        ("?party=Росія", "Росія is not one of the available choices."),
        ("?party=US", "US is not one of the available choices."),
    ],
)
def test_bad_party_is_a_400_page_with_the_form_and_the_reason(client, query, shown):
    html = page(client, query, status=400)
    assert shown in html
    assert "<title>Error: Timeline" in html
    assert 'id="timeline-filters"' in html and "This filter could not be applied" in html
    assert "<script>alert" not in html
    assert anchors(html) == [] and "Download CSV" not in html


def test_bad_party_marks_the_field_invalid(client):
    html = page(client, "?party=martians", status=400)
    assert 'aria-invalid="true"' in html and '<ul class="errorlist" id="id_party_error">' in html


def test_bad_party_in_an_htmx_request_is_a_400_region(client):
    html = page(client, "?party=martians", 400, **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="timeline-entries"') and "Party: Select a valid choice." in html


def test_other_parameters_are_ignored(client):
    assert set(anchors(page(client, "?page=2&page=3&sort=x"))) == expected_anchors()


def test_unknown_plan_is_404(client):
    assert client.get("/plans/nope/timeline/?party=us").status_code == 404


def test_timeline_refuses_post(client):
    assert client.post(URL).status_code == 405


def test_each_entry_carries_its_parties_and_sources_as_recorded(plan):
    """An event's parties and source, a text's authors and sources: what the page and the CSV list for each entry."""
    entries = timeline_entries(plan, plan.events.all())
    assert {entry.kind for entry in entries} == {"event", "revision"}
    events = {event.pk: event for event in plan.events.all()}
    for entry in entries:
        item = entry.item
        if entry.kind == "revision":
            assert entry.parties == list(item.authors.all()) and entry.sources == list(item.sources.all())
        else:
            event = events.pop(item.pk)
            assert (item.date, item.title, item.summary) == (event.date, event.title, event.summary)
            assert entry.parties == list(event.parties.all())
            assert entry.sources == ([event.source] if event.source_id else [])  # Sources compare by pk
            for source in entry.sources:
                assert (source.url, source.outlet, source.citable) == (
                    event.source.url,
                    event.source.outlet,
                    event.source.citable,
                )
    assert not events


# Query counts


def grow_timeline(plan):
    """30 more events, each with two parties and its own source; two more texts with authors and sources."""
    parties = list(Party.objects.all())
    day = date(2026, 1, 1)
    sources = Source.objects.bulk_create(
        Source(url=f"https://example.org/grow/{i}", outlet=f"Outlet {i}", kind="original-report", published_on=day)
        for i in range(32)
    )
    for i in range(30):
        event = Event.objects.create(
            plan=plan, date=day + timedelta(days=i), title=f"Grown event {i}", source=sources[i]
        )
        event.parties.set(parties[i % 4 : i % 4 + 2] or parties[:2])
    for i in range(2):
        revision = Revision.objects.create(
            plan=plan,
            slug=f"grown-{i}",
            title=f"Grown text {i}",
            published_on=day + timedelta(days=40 + i),
            status="leaked-draft",
        )
        revision.authors.set(parties)
        revision.sources.set(sources[30:])


@pytest.mark.parametrize("query", ["", "?party=us"])
@pytest.mark.usefixtures("page_cache_off")
def test_query_count_is_pinned_and_does_not_grow_with_data(client, plan, query):
    """
    5 queries (plan, parties, events with their parties' ids, texts with their authors' ids, the
    texts' sources), before and after growth.
    """
    client.get(URL + query)
    with CaptureQueriesContext(connection) as before:
        assert client.get(URL + query).status_code == 200
    grow_timeline(plan)
    with CaptureQueriesContext(connection) as after:
        html = page(client, query)
    assert "Grown event 28" in html and "Grown text 1" in html  # event 28 involves the US and Ukraine
    assert len(before) == len(after) == 5, [q["sql"][:100] for q in after]


@pytest.mark.usefixtures("page_cache_off")
def test_htmx_query_count_is_pinned(client):
    client.get(URL + "?party=us", headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as queries:
        client.get(URL + "?party=us", headers={"HX-Request": "true"})
    assert len(queries) == 5, [q["sql"][:100] for q in queries]
