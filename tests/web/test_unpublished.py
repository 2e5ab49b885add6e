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

The editors' side (the second half of this module): a revision added in the admin or pasted
starts unpublished, `import_revision --unpublished` imports one so, and an editor publishes and
unpublishes with the revision list's actions (their own permission, migration 0009).
"""

import datetime
import json
import re
from io import StringIO
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from peaceplans.editing.services import revision_create_from_paste, revisions_publish
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


@pytest.mark.slow
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


# The editors' side: revisions start unpublished, and editors publish them

CHANGELIST = reverse("admin:peaceplans_revision_changelist")
PASSWORD = "a-long-test-password-1"


def editor() -> User:
    user = User.objects.create_user("newsdesk", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def new_revision(plan, slug: str, *, public: bool) -> Revision:
    revision = Revision.objects.create(
        plan=plan,
        slug=slug,
        title=f"Title of {slug}",
        published_on=datetime.date(2026, 1, 9),
        status=Revision.Status.LEAKED_DRAFT,
        public=public,
    )
    return revision


def shown_on_overview(client, revision) -> bool:
    return f"Title of {revision.slug}".encode() in client.get(reverse("plan_detail", args=[PLAN])).content


# The admin


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_a_revision_added_in_the_admin_starts_unpublished(client, who):
    user = editor() if who == "editor" else User.objects.create_superuser("chief", password=PASSWORD)
    client.force_login(user)
    page = client.get(reverse("admin:peaceplans_revision_add")).content.decode()
    checkbox = next(tag for tag in page.split("<input")[1:] if 'name="public"' in tag)
    assert 'type="checkbox"' in checkbox and "checked" not in checkbox.split(">")[0]
    assert "appear nowhere on the public site" in page  # the help text says what the box does
    if who == "superuser":  # an existing revision's form shows it as it is (editors see it read-only)
        existing = Revision.objects.get(plan__slug=PLAN, slug="us-28-point-draft")
        page = client.get(reverse("admin:peaceplans_revision_change", args=[existing.pk])).content.decode()
        checkbox = next(tag for tag in page.split("<input")[1:] if 'name="public"' in tag)
        assert "checked" in checkbox.split(">")[0]


@pytest.mark.django_db
def test_the_list_shows_and_filters_by_publication(client, plan):
    client.force_login(editor())
    hidden = new_revision(plan, "still-being-checked", public=False)
    page = client.get(CHANGELIST).content.decode()
    assert "column-public" in page and "?public__exact=0" in page
    unpublished = client.get(CHANGELIST + "?public__exact=0").content.decode()
    assert hidden.title in unpublished and "Draft of the 28-point plan" not in unpublished


@pytest.mark.django_db
def test_an_editor_publishes_and_unpublishes_with_the_list_actions(client, plan, settings):
    settings.PAGE_CACHE_SECONDS = 60  # the page cache is on: a publication must reach the next request anyway
    revision = new_revision(plan, "checked-text", public=False)
    other = new_revision(plan, "other-text", public=False)
    assert not shown_on_overview(client, revision)
    client.force_login(editor())
    page = client.get(CHANGELIST).content.decode()
    assert 'value="publish_selected"' in page and 'value="unpublish_selected"' in page
    data = {"action": "publish_selected", "_selected_action": [revision.pk], "index": "0"}
    response = client.post(CHANGELIST, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Published 1 revision."]
    revision.refresh_from_db(), other.refresh_from_db()
    assert revision.public and not other.public
    record = revision.history.first()
    assert record.public and record.history_user.username == "newsdesk"
    client.logout()
    assert shown_on_overview(client, revision)
    assert client.get(revision.get_absolute_url()).status_code == 200

    client.force_login(User.objects.get(username="newsdesk"))
    data = {"action": "unpublish_selected", "_selected_action": [revision.pk, other.pk], "index": "0"}
    response = client.post(CHANGELIST, data, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Unpublished 1 revision: readers no longer see them."]
    client.logout()
    assert not shown_on_overview(client, revision)
    assert client.get(revision.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_staff_without_the_publish_permission_cannot_publish(client, plan):
    revision = new_revision(plan, "not-yours", public=False)
    user = User.objects.create_user("viewer", password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Group.objects.get(name="Editors").permissions.exclude(codename="publish_revision"))
    client.force_login(user)
    assert 'value="publish_selected"' not in client.get(CHANGELIST).content.decode()
    data = {"action": "publish_selected", "_selected_action": [revision.pk], "index": "0"}
    assert client.post(CHANGELIST, data).status_code == 403
    revision.refresh_from_db()
    assert not revision.public


# Imports


def revision_file(tmp_path, slug: str, text: str = "The army is capped at 600,000.") -> str:
    data = {
        "slug": slug,
        "title": f"Title of {slug}",
        "author": "us",
        "published_on": "2026-01-09",
        "status": "leaked-draft",
        "points": [{"number": "1", "topic": "military-limits", "derived_from": "6", "text": text}],
    }
    path = tmp_path / f"{slug}.json"
    path.write_text(json.dumps(data))
    return str(path)


def import_revision(path: str, *flags: str) -> str:
    out = StringIO()
    call_command("import_revision", path, *flags, plan=PLAN, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_import_revision_unpublished(tmp_path, client, plan):
    out = import_revision(revision_file(tmp_path, "imported-quietly"), "--unpublished")
    revision = Revision.objects.get(plan=plan, slug="imported-quietly")
    assert not revision.public and "unpublished: publish it in the admin" in out
    assert not shown_on_overview(client, revision)
    # Re-importing without the flag does not publish what an editor has not.
    import_revision(revision_file(tmp_path, "imported-quietly", "The army is capped at 700,000."))
    revision.refresh_from_db()
    assert not revision.public and revision.clauses.get().text == "The army is capped at 700,000."


@pytest.mark.django_db
def test_import_revision_without_the_flag_publishes_a_new_revision(tmp_path, client, plan):
    out = import_revision(revision_file(tmp_path, "imported-openly"))
    revision = Revision.objects.get(plan=plan, slug="imported-openly")
    assert revision.public and "unpublished" not in out
    assert shown_on_overview(client, revision)
    import_revision(revision_file(tmp_path, "imported-openly"), "--unpublished")  # and the flag takes it back
    revision.refresh_from_db()
    assert not revision.public and not shown_on_overview(client, revision)


@pytest.mark.django_db
def test_a_pasted_draft_starts_unpublished(client, plan):
    data = {
        "slug": "pasted-quietly",
        "title": "Title of pasted-quietly",
        "author": "us",
        "published_on": "2026-01-09",
        "status": "leaked-draft",
        "points": [{"number": "1", "topic": "military-limits", "derived_from": "6", "text": "Half entered."}],
    }
    revision = revision_create_from_paste(data=data, plan_slug=PLAN).revision
    assert not revision.public and not shown_on_overview(client, revision)
    assert client.get(revision.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_the_demo_data_and_a_revision_made_in_code_are_public(plan):
    assert not plan.revisions.filter(public=False).exists()
    assert new_revision(plan, "made-in-code", public=True).public
    assert Revision._meta.get_field("public").default is True
