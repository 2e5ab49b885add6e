"""
Drafts never leak. A unique marker is written only where the public must not see it:

- the body of draft notes (Annotation.status "draft"), including a note that was public and
  then taken back to draft, and an earlier draft version of a note that is now published with
  other words (its simple-history record keeps the draft);
- an unpublished revision (Revision.public False: an editor still entering a newly leaked text):
  its title, summary, provenance, original language and translation, its clauses' wording and
  change notes (a dropped clause too), a point only it has (an import makes one, keyed by the
  revision's slug and titled from its wording) and a published note on that point, the stances
  answering it, on a point and on the text as a whole, and what a revision now published was
  called while it was unpublished (its history keeps the old title).

Then every public route of the URLconf is requested, with and without HX-Request, plus search
for the marker itself, the overview's text filter, and the comparison, its CSV and embed, the
point page's ?against=, the point embed's ?revisions= and oEmbed naming the unpublished
revision, and the revision's and its point's own addresses; the marker appears nowhere. For the
unpublished revision the bar is higher: every one of those responses is byte for byte what it
was before the revision existed, so no count, date or "last updated" gives it away either, and
its own addresses answer exactly as an unknown slug's do (404, or the 400 an unknown point gets).
Publishing it then makes it appear, so the checks can fail. A new route is covered automatically:
the test fails when the URLconf has a public route it does not know how to fill in.
"""

import datetime
import re
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from peaceplans.editing.services import revisions_publish
from peaceplans.models import Annotation, Clause, Party, Point, Revision, Source, Stance, Topic

PLAN = "russia-ukraine-2025"
MARKER = "zqxdraftmarker7719"
# A search for the marker prints the query back: it may appear as often as an unknown word of its length would.
CONTROL = "zqxnothingmarker00"
# What each URL argument is filled with: the point with the draft notes, a revision, a party.
ARGUMENTS = {"plan": PLAN, "point": "6", "revision": "e3-counter-proposal", "party": "russia"}
# Query strings that make a route show more than its bare address does.
QUERIES = {
    "compare": ["?a=us-28-point-draft&b=e3-counter-proposal", "?a=us-28-point-draft&b=e3-counter-proposal&view=inline"],
    "compare_csv": ["?a=us-28-point-draft&b=e3-counter-proposal"],
    "embed_compare": ["?a=us-28-point-draft&b=e3-counter-proposal"],
    "search": [f"?q={MARKER}", f"?q={MARKER}&kind=note", "?q=army"],
    "oembed": [f"?url=http://testserver/plans/{PLAN}/points/6/", f"?url=http://testserver/plans/{PLAN}/compare/"],
    "point_detail": ["?against=us-28-point-draft"],
    "plan_detail": ["?topic=military"],
    "source_list": [f"?q={MARKER}"],
}
NOT_PUBLIC = {"admin"}  # the admin's own routes are staff-only (tests/editing/test_authorization.py)


def public_routes(patterns=None, prefix="") -> list[tuple[str, URLPattern]]:
    """(name, pattern) of every named public route, walking included URLconfs."""
    found = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name in NOT_PUBLIC or entry.namespace in NOT_PUBLIC:
                continue
            found += public_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif entry.name:
            found.append((entry.name, entry))
    return found


def urls_for(name: str, pattern: URLPattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", {})
    missing = set(converters) - set(ARGUMENTS)
    assert not missing, f"route {name!r} takes {missing}: teach this test what to fill in"
    base = reverse(name, kwargs={k: ARGUMENTS[k] for k in converters})
    return [base] + [base + query for query in QUERIES.get(name, [])]


def fetch_body(client, url: str, headers: dict) -> bytes:
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 301, 302, 400, 404), (url, headers, response.status_code)
    return b"".join(response) if response.streaming else response.content


@pytest.fixture
def drafts(plan, settings):
    settings.PAGE_CACHE_SECONDS = 0
    point = plan.points.get(key="6")
    other = Point.objects.filter(plan=plan).exclude(pk=point.pk).first()
    Annotation.objects.create(point=point, body=f"Draft: **{MARKER}** on the army cap", status="draft")
    Annotation.objects.create(point=other, body=f"[{MARKER}](https://example.org/{MARKER})", status="draft")
    # Public once, then taken back to draft with the marker added.
    retracted = Annotation.objects.create(point=point, body="A published note.", status="published")
    retracted.body, retracted.status = f"Retracted {MARKER}", "draft"
    retracted.save()
    # Drafted with the marker, then published with other words: the draft lives on in its history.
    rewritten = Annotation.objects.create(point=point, body=f"First try {MARKER}", status="draft")
    rewritten.body, rewritten.status = "The final, public wording.", "published"
    rewritten.save()
    assert rewritten.history.filter(body__contains=MARKER).exists()
    return point


def test_every_public_route_is_exercised():
    names = {name for name, _ in public_routes()}
    assert {"home", "search", "feed_plan", "api_point", "embed_point", "oembed", "sources_csv"} <= names
    assert len(names) >= 35


@pytest.mark.django_db
def test_a_draft_marker_appears_in_no_public_response(client, drafts):
    checked = 0
    for name, pattern in public_routes():
        for url in urls_for(name, pattern):
            for headers in ({}, {"HX-Request": "true"}):
                echoed = 0
                if MARKER in url:
                    echoed = fetch_body(client, url.replace(MARKER, CONTROL), headers).count(CONTROL.encode())
                assert fetch_body(client, url, headers).count(MARKER.encode()) == echoed, (
                    f"{url} {headers} shows a draft"
                )
                checked += 1
    assert checked >= 100
    # The check can fail: the published note's words are there, and so is a draft made public.
    assert b"The final, public wording." in client.get(f"/plans/{PLAN}/points/6/").content
    Annotation.objects.filter(body__contains=MARKER, point=drafts).update(status="published")
    assert MARKER.encode() in client.get(f"/plans/{PLAN}/points/6/").content
    assert MARKER.encode() in client.get(reverse("api_point", args=[PLAN, "6"])).content


# Unpublished revisions

UNPUBLISHED = "zqx-unpublished-text"  # its slug: named in addresses, shown nowhere else
HIDDEN_POINT = f"{UNPUBLISHED}-1"  # a point that only the unpublished revision has
OTHER = "e3-counter-proposal"
# Addresses naming the unpublished revision or its point, beyond each route's own (ARGUMENTS swapped).
NAMING = {
    "compare": [f"?a={UNPUBLISHED}&b={OTHER}", f"?a=us-28-point-draft&b={UNPUBLISHED}&view=inline&changes=only"],
    "compare_csv": [f"?a={UNPUBLISHED}&b={OTHER}"],
    "embed_compare": [f"?a={UNPUBLISHED}&b={OTHER}", f"?a=us-28-point-draft&b={UNPUBLISHED}&points=6"],
    "point_detail": [f"?against={UNPUBLISHED}"],
    "wording_csv": [f"?against={UNPUBLISHED}"],
    "embed_point": [f"?revisions={UNPUBLISHED}", f"?revisions={OTHER},{UNPUBLISHED}"],
    "plan_detail": [f"?q={MARKER}", "?q=army", "?party=russia&position=opposes", "?sort=russia"],
    "plan_matrix_csv": [f"?q={MARKER}", "?party=russia&position=opposes"],
    "timeline": ["?party=russia"],
    "timeline_csv": ["?party=russia"],
    "api_stances": [f"?point={HIDDEN_POINT}", "?party=russia"],
    "oembed": [
        "?url=" + quote(f"http://testserver/plans/{PLAN}/compare/?a={UNPUBLISHED}&b={OTHER}", safe=""),
        "?url=" + quote(f"http://testserver/plans/{PLAN}/points/{HIDDEN_POINT}/", safe=""),
        "?url=" + quote(f"http://testserver/embed/plans/{PLAN}/points/6/?revisions={UNPUBLISHED}", safe=""),
    ],
}
# What differs between two requests for the same data: the dataset download's moment of generation.
VOLATILE = re.compile(rb'"generated_at": "[^"]*"')


def every_public_url() -> list[str]:
    """Each route as the draft-notes test requests it, and again naming the unpublished revision or its point."""
    urls = []
    for name, pattern in public_routes():
        urls += urls_for(name, pattern)
        converters = getattr(pattern.pattern, "converters", {})
        swapped = {**ARGUMENTS, "revision": UNPUBLISHED, "point": HIDDEN_POINT}
        if {"revision", "point"} & set(converters):
            urls.append(reverse(name, kwargs={k: swapped[k] for k in converters}))
        base = reverse(name, kwargs={k: ARGUMENTS[k] for k in converters})
        urls += [base + query for query in NAMING.get(name, [])]
    return list(dict.fromkeys(urls))


def public_responses(client, urls) -> dict:
    """(url, HX-Request or not) -> (status, body) of every public URL."""
    found = {}
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code in (200, 301, 302, 400, 404), (url, headers, response.status_code)
            body = b"".join(response) if response.streaming else response.content
            found[url, bool(headers)] = (response.status_code, VOLATILE.sub(b"", body))
    return found


def add_unpublished_revision(plan) -> Revision:
    """A revision as an editor leaves it half entered: the marker in every field a reader could see."""
    point, dropped = plan.points.get(key="6"), plan.points.get(key="7")
    russia, source = Party.objects.get(slug="russia"), Source.objects.order_by("pk").first()
    revision = Revision.objects.create(
        plan=plan,
        slug=UNPUBLISHED,
        title=f"Leaked {MARKER} text",
        published_on=datetime.date(2026, 1, 20),  # the newest text, were it shown
        status=Revision.Status.LEAKED_DRAFT,
        summary=f"Summary {MARKER}.",
        provenance=f"Leaked to {MARKER}.",
        original_language=MARKER,
        translation=f"Translated by {MARKER}",
        public=False,
    )
    revision.authors.add(russia)
    # A source the import brought with the text, cited by it alone: not on the sources page.
    own_source = Source.objects.create(
        url=f"https://example.org/{MARKER}",
        outlet=f"Outlet {MARKER}",
        title=f"Report {MARKER}",
        published_on=datetime.date(2026, 1, 20),
        kind=Source.Kind.ORIGINAL_REPORT,
    )
    revision.sources.add(source, own_source)
    Clause.objects.create(
        revision=revision,
        point=point,
        number="6",
        text=f"The army is capped at {MARKER} troops.",
        change_note=f"Raised {MARKER}.",
        material_change=True,
    )
    Clause.objects.create(revision=revision, point=dropped, number="7", dropped=True, change_note=f"Cut {MARKER}.")
    # A topic only the new point has: not among the overview's topics nor the API's.
    topic = Topic.objects.create(slug="hidden-topic", name=f"Topic {MARKER}", sort_order=99)
    new = Point.objects.create(plan=plan, key=HIDDEN_POINT, title=f"New {MARKER}"[:40], topic=topic, sort_order=10**6)
    clause = Clause.objects.create(revision=revision, point=new, number="1", text=f"A wholly new clause {MARKER}.")
    clause.sources.add(own_source)
    Annotation.objects.create(point=new, body=f"A published note on the new point: {MARKER}.", status="published")
    answer = {"plan": plan, "party": russia, "revision": revision, "source": source, "speaker": MARKER}
    latest = datetime.date(2026, 1, 21)  # the newest stance on the point, were it shown
    Stance.objects.create(**answer, point=point, position="opposes", stated_on=latest, summary=f"No {MARKER}.")
    Stance.objects.create(**answer, point=new, position="supports", stated_on=latest, summary=f"Yes {MARKER}.")
    Stance.objects.create(
        **answer, position="supports", stated_on=latest, summary=f"All of it {MARKER}.", quote=f"We {MARKER}"
    )
    # A stance answering no text, on the point only the unpublished text has: hidden with the point.
    Stance.objects.create(
        **{**answer, "revision": None, "source": own_source},
        point=new,
        position="opposes",
        stated_on=latest,
        summary=f"Never {MARKER}.",
    )
    return revision


def test_every_public_url_is_the_same_with_an_unpublished_revision_as_without(client, plan, settings):
    settings.PAGE_CACHE_SECONDS = 0
    urls = every_public_url()
    assert len(urls) >= 80
    before = public_responses(client, urls)
    revision = add_unpublished_revision(plan)
    after = public_responses(client, urls)
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"{len(changed)} public responses differ once an unpublished revision exists: {changed[:5]}"
    for (url, hx), (_status, body) in after.items():
        if MARKER not in url:  # a search for it prints it back, as before the revision existed (checked above)
            assert MARKER.encode() not in body, f"{url} (HX-Request: {hx}) shows the unpublished revision"
    own = [reverse("revision_detail", args=[PLAN, UNPUBLISHED]), reverse("api_revision", args=[PLAN, UNPUBLISHED])]
    own += [reverse("clauses_csv", args=[PLAN, UNPUBLISHED]), reverse("point_detail", args=[PLAN, HIDDEN_POINT])]
    own += [reverse("api_point", args=[PLAN, HIDDEN_POINT]), reverse("embed_point", args=[PLAN, HIDDEN_POINT])]
    own += [reverse("feed_point", args=[PLAN, HIDDEN_POINT])]
    assert {after[url, False][0] for url in own} == {404}

    # The check can fail: published, the same addresses show it (and unpublished again, they do not).
    revisions_publish(Revision.objects.filter(pk=revision.pk))
    shown = public_responses(client, urls)
    mark = MARKER.encode()
    showing = {url for (url, hx), (_status, body) in shown.items() if body.count(mark) > after[url, hx][1].count(mark)}
    expected = {f"/plans/{PLAN}/", "/", f"/plans/{PLAN}/timeline/", f"/plans/{PLAN}/changes/", f"/feeds/plans/{PLAN}/"}
    expected |= {f"/search/?q={MARKER}", f"/plans/{PLAN}/?q={MARKER}", reverse("plan_dataset", args=[PLAN])}
    expected |= {reverse("source_list"), reverse("sources_csv")}
    expected |= {
        reverse("api_plan", args=[PLAN]),
        reverse("api_revisions", args=[PLAN]),
        reverse("api_stances", args=[PLAN]) + f"?point={HIDDEN_POINT}",
    }
    expected |= {reverse("compare", args=[PLAN]) + f"?a={UNPUBLISHED}&b={OTHER}"} | set(own)
    assert expected <= showing, sorted(expected - showing)
    assert {shown[url, False][0] for url in own} == {200}
    revisions_publish(Revision.objects.filter(pk=revision.pk), public=False)
    assert public_responses(client, urls) == after


@pytest.mark.django_db
def test_a_published_revision_s_unpublished_past_stays_hidden(client, plan, settings):
    """
    A revision entered unpublished under a working title, then renamed and published: its history
    keeps the old title, which the change log and the feeds must not show; and the unpublished
    revision beside it shows in no public response either.
    """
    settings.PAGE_CACHE_SECONDS = 0
    add_unpublished_revision(plan)
    later = Revision.objects.create(
        plan=plan,
        slug="published-later",
        title=f"Working title {MARKER}",
        published_on=datetime.date(2026, 1, 5),
        status=Revision.Status.FRAMEWORK,
        summary=f"Draft summary {MARKER}",
        public=False,
    )
    later.title, later.summary = "The published title", "The published summary."
    later.save()
    revisions_publish(Revision.objects.filter(pk=later.pk))
    assert later.history.filter(title__contains=MARKER).exists()
    for (url, hx), (_status, body) in public_responses(client, every_public_url()).items():
        echoed = 0
        if MARKER in url:
            control = client.get(url.replace(MARKER, CONTROL), headers={"HX-Request": "true"} if hx else {})
            echoed = control.content.count(CONTROL.encode())
        assert body.count(MARKER.encode()) == echoed, f"{url} (HX-Request: {hx}) shows an unpublished text"
    assert b"The published title" in client.get(reverse("change_log", args=[PLAN])).content
