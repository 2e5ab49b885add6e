"""
History is the safety net (issue 8): every save through the admin is one revision, with its
editor and time, and a revert to any earlier revision restores its fields exactly, adds one
revision and deletes none.

Every edit and revert here goes through the real admin forms, as an editor makes it: a test
client with CSRF checks on, the form's own values read back from the page and posted with the
token. No model save stands in for a form; only the import test calls its service, which the
admin's paste page and `import_revision` share. Compared fields: every field the history keeps,
and its many-to-many sets, except `updated_at` (the time of any save, a revert's included).
Run time: 18-25 s on SQLite, 27-37 s on PostgreSQL on the shared 2-core machine (2026-11-29).
"""

import random
import re

import pytest
from django.contrib.auth.models import Group, User
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from peaceplans.models import Annotation, Clause, Event, Party, Point, Revision, Source, Stance, Topic

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WORDS = ["ceasefire", "army", "cap", "Donetsk", "guarantees", "NATO", "zone", "sanctions", "Zaporizhzhia", "Article"]
WORDS += ["5", "прифронтовий", "мир", "600,000", "«referendum»"]
# Set by every save, not by the editor: a revert is a new save, so its time is now.
SAVE_TIMES = {"updated_at"}


@pytest.fixture
def editor():
    user = User.objects.create_user("deskeditor", password="a-long-test-password-8", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def form_data(client: Client, url: str) -> dict:
    """What a browser would post back from the admin page at `url`: its values, inlines and CSRF token."""
    response = client.get(url)
    assert response.status_code == 200, url
    data = {"csrfmiddlewaretoken": CSRF.search(response.content.decode()).group(1)}
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets") or []:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is not None and value is not False:
                data[form.add_prefix(name)] = value
    return data


def post(client: Client, url: str, data: dict):
    """POST an admin form; it must be accepted (302), or the test shows the form's errors."""
    response = client.post(url, data)
    if response.status_code != 302:
        context = response.context or {}
        errors = context.get("errors") or getattr(context.get("adminform"), "form", None)
        pytest.fail(f"{url}: {response.status_code} {getattr(errors, 'errors', errors)}")
    return response


def change_url(obj) -> str:
    return reverse(f"admin:peaceplans_{obj._meta.model_name}_change", args=[obj.pk])


def revert_url(record) -> str:
    return reverse(
        f"admin:peaceplans_{record.instance_type._meta.model_name}_simple_history", args=[record.id, record.history_id]
    )


def tracked(obj_or_record) -> dict:
    """The fields a history record keeps, with the many-to-many sets it tracks, from an object or a record."""
    record_model = obj_or_record.history.model if hasattr(obj_or_record, "history") else type(obj_or_record)
    values = {f.attname: getattr(obj_or_record, f.attname) for f in record_model.tracked_fields}
    for field in record_model._history_m2m_fields:
        target = field.m2m_reverse_field_name() + "_id"
        if hasattr(obj_or_record, "history_id"):
            values[field.name] = {getattr(row, target) for row in getattr(obj_or_record, field.name).all()}
        else:
            values[field.name] = set(getattr(obj_or_record, field.name).values_list("pk", flat=True))
    return {name: value for name, value in values.items() if name not in SAVE_TIMES}


def records(obj) -> list[dict]:
    """Every history record of obj, oldest first, as data: to show that none changed or went."""
    rows = []
    for record in obj.history.order_by("history_id"):
        row = tracked(record)
        row.update(history_id=record.history_id, history_date=record.history_date, user=record.history_user_id)
        rows.append(row)
    return rows


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


# What each random edit may change, per model: field name -> new value from the random generator.
def _edits(source_pks: list[int], party_pks: list[int], topic_pks: list[int]) -> dict:
    return {
        Point: {"title": lambda r: words(r, 1, 6)[:120], "topic": lambda r: r.choice(topic_pks)},
        Clause: {
            "text": lambda r: words(r, 3, 30),
            "change_note": lambda r: words(r, 0, 12),
            "material_change": lambda r: r.random() < 0.5,
            "sources": lambda r: r.sample(source_pks, r.randint(0, 3)),
        },
        Stance: {
            "summary": lambda r: words(r, 2, 25),
            "position": lambda r: r.choice(Stance.Position.values),
            "quote": lambda r: words(r, 0, 12),
        },
        Annotation: {
            "body": lambda r: f"**{words(r, 1, 8)}** — {words(r, 1, 20)}",
            "status": lambda r: r.choice(["draft", "published"]),
        },
        Source: {"outlet": lambda r: words(r, 1, 4)[:200], "title": lambda r: words(r, 0, 10)},
        Event: {
            "title": lambda r: f"{words(r, 1, 5)} {r.randrange(10**6)}",
            "summary": lambda r: words(r, 0, 20),
            "parties": lambda r: r.sample(party_pks, r.randint(0, 3)),
        },
    }


def add_annotation(client: Client, point: Point, body: str) -> Annotation:
    url = reverse("admin:peaceplans_annotation_add")
    data = form_data(client, url) | {"point": point.pk, "body": body, "status": "draft"}
    post(client, url, data)
    return Annotation.objects.get(body=body)


@pytest.mark.slow
def test_random_edits_then_reverts_restore_every_field_exactly_adding_one_revision(editor):
    """
    120 random edits through the change forms, then reverts (the history page's "Revert" form) to
    the first and to random middle versions of objects of every editable model: each revert
    restores every tracked field and many-to-many set, adds one history record, and leaves every
    earlier record as it was.
    """
    rng = random.Random(8)
    client = signed_in(editor)
    points = list(Point.objects.annotate(n=Count("stances")).filter(n__gte=1).order_by("n", "pk")[:2])
    objects = [
        *points,
        *Clause.objects.filter(dropped=False, sources__isnull=False).distinct().order_by("pk")[:3],
        *Stance.objects.filter(point__isnull=False).order_by("pk")[:2],
        *Source.objects.order_by("pk")[:2],
        *Event.objects.order_by("pk")[:2],
        add_annotation(client, points[0], "First note on this point."),
        add_annotation(client, points[1], "Второй комментарий."),
    ]
    edits = _edits(
        list(Source.objects.order_by("pk").values_list("pk", flat=True)[:8]),
        list(Party.objects.values_list("pk", flat=True)),
        list(Topic.objects.values_list("pk", flat=True)),
    )
    for _ in range(120):
        obj = rng.choice(objects)
        url = change_url(obj)
        data = form_data(client, url)
        for name in rng.sample(sorted(edits[type(obj)]), rng.randint(1, 2)):
            value = edits[type(obj)][name](rng)
            if value is False:
                data.pop(name, None)
            else:
                data[name] = value
        post(client, url, data)

    reverts, reverted = 0, set()
    for obj in objects:
        obj.refresh_from_db()
        history = list(obj.history.order_by("history_id"))
        if len(history) < 3:
            continue
        # The first version, and one or two random ones from the middle.
        for record in [history[0], *rng.sample(history[1:-1], min(2, len(history) - 2))]:
            before = records(obj)
            form = form_data(client, revert_url(record))
            post(client, revert_url(record), form)
            obj.refresh_from_db()
            assert tracked(obj) == tracked(record), f"{obj!r} reverted to {record.history_id}"
            after = records(obj)
            assert after[: len(before)] == before, "a revert changed or deleted an earlier record"
            assert len(after) == len(before) + 1, "a revert adds exactly one record"
            newest = obj.history.order_by("history_id").last()
            assert tracked(newest) == tracked(record) and newest.history_user == editor
            reverts += 1
            reverted.add(type(obj))
    assert reverts >= 10 and reverted == set(edits), (reverts, reverted)
    assert {type(o) for o in objects if o.history.filter(history_type="~").count() > 2} >= set(edits)


# Every admin change: one record, with its user and time


def window(client: Client, url: str, data: dict, *, model) -> tuple[list, float, float]:
    """POST a form; the history records of `model` it wrote, and the request's time window."""
    last = model.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
    start = timezone.now()
    post(client, url, data)
    end = timezone.now()
    return list(model.history.filter(history_id__gt=last).order_by("history_id")), start, end


def add_payloads() -> dict:
    """Values for one new object of each model an editor adds through the admin."""
    point = Point.objects.order_by("pk").first()
    last_revision = Revision.objects.order_by("-pk").first()
    free_point = Point.objects.exclude(clauses__revision=last_revision).order_by("pk").first()
    sources = list(Source.objects.order_by("pk").values_list("pk", flat=True)[:2])
    parties = list(Party.objects.order_by("pk").values_list("pk", flat=True)[:2])
    return {
        Source: {
            "url": "https://example.org/history-8",
            "outlet": "Example Wire",
            "kind": "agency-copy",
            "citable": "on",
        },
        Event: {
            "plan": point.plan_id,
            "date": "2025-12-01",
            "title": "Talks in Miami (history test)",
            "parties": parties,
            "source": sources[0],
        },
        Stance: {
            "plan": point.plan_id,
            "party": parties[0],
            "point": point.pk,
            "position": "conditional",
            "stated_on": "2025-12-02",
            "summary": "Agrees if guarantees come first.",
            "source": sources[0],
        },
        Annotation: {"point": point.pk, "body": "A note on sources.", "status": "published"},
        Point: {"plan": point.plan_id, "key": "history-8", "title": "Added point", "topic": point.topic_id},
        Clause: {
            "revision": last_revision.pk,
            "point": free_point.pk,
            "number": "99",
            "text": "A clause added by hand.",
            "sources": sources,
        },
        Revision: {
            "plan": point.plan_id,
            "slug": "history-8-draft",
            "title": "A new leaked draft",
            "authors": parties,
            "published_on": "2025-12-20",
            "status": "leaked-draft",
            "sources": sources,
        },
    }


EDITABLE = [Source, Event, Stance, Annotation, Point, Clause]
ONE_CHANGE = {
    Source: ("outlet", "Reuters (via history test)"),
    Event: ("summary", "Summary corrected by the desk."),
    Stance: ("summary", "Summary corrected by the desk."),
    Annotation: ("body", "Corrected note."),
    Point: ("title", "Army cap (corrected)"),
    Clause: ("change_note", "Corrected change note."),
}


@pytest.mark.parametrize("model", [*EDITABLE, Revision], ids=lambda m: m.__name__)
def test_an_add_through_the_admin_writes_one_record_with_its_user_and_time(editor, model):
    client = signed_in(editor)
    url = reverse(f"admin:peaceplans_{model._meta.model_name}_add")
    data = form_data(client, url) | add_payloads()[model]
    written, start, end = window(client, url, data, model=model)
    assert len(written) == 1, [(r.history_type, r.history_id) for r in written]
    record, obj = written[0], model.objects.get(pk=written[0].id)
    assert record.history_type == "+" and record.history_user == editor and start <= record.history_date <= end
    assert tracked(record) == tracked(obj), "the record holds the object as saved, many-to-many sets included"


@pytest.mark.parametrize("model", EDITABLE, ids=lambda m: m.__name__)
def test_a_change_through_the_admin_writes_one_record_with_its_user_and_time(editor, model):
    client = signed_in(editor)
    obj = model.objects.order_by("pk").first() or add_annotation(client, Point.objects.first(), "A draft.")
    url = change_url(obj)
    field, value = ONE_CHANGE[model]
    written, start, end = window(client, url, form_data(client, url) | {field: value}, model=model)
    assert [(r.id, r.history_type, r.history_user) for r in written] == [(obj.pk, "~", editor)]
    assert start <= written[0].history_date <= end and getattr(written[0], field) == value


@pytest.mark.parametrize("model", [Clause, Event], ids=lambda m: m.__name__)
def test_a_change_of_a_many_to_many_set_writes_one_record_holding_the_new_set(editor, model):
    client = signed_in(editor)
    obj = model.objects.order_by("pk").first()
    field = model.history.model._history_m2m_fields[0].name
    related = field == "sources" and Source or Party
    new_set = set(
        related.objects.exclude(pk__in=getattr(obj, field).all()).order_by("pk").values_list("pk", flat=True)[:2]
    )
    url = change_url(obj)
    written, _, _ = window(client, url, form_data(client, url) | {field: sorted(new_set)}, model=model)
    assert len(written) == 1 and tracked(written[0])[field] == new_set == tracked(obj)[field]


@pytest.mark.parametrize("model", EDITABLE, ids=lambda m: m.__name__)
def test_a_save_that_changes_nothing_writes_no_record(editor, model):
    """
    Nothing changed, nothing written: no history record (which would say "saved" with no change),
    no new "last updated" time on the public page, and no new version that would make another
    editor's open form look stale and refuse their save as a conflict.
    """
    client = signed_in(editor)
    obj = model.objects.order_by("pk").first() or add_annotation(client, Point.objects.first(), "A draft.")
    before = records(obj)
    stamp = getattr(type(obj).objects.get(pk=obj.pk), "updated_at", None)
    url = change_url(obj)
    written, _, _ = window(client, url, form_data(client, url), model=model)
    assert written == [] and records(obj) == before
    assert getattr(type(obj).objects.get(pk=obj.pk), "updated_at", None) == stamp


def test_a_stale_form_is_not_refused_after_someone_saved_without_changes(editor):
    """The reason unchanged saves write nothing: they must not turn other editors' open forms stale."""
    stance = Stance.objects.order_by("pk").first()
    url = change_url(stance)
    other = signed_in(User.objects.create_superuser("chief", password="a-long-test-password-9"))
    client = signed_in(editor)
    mine = form_data(client, url)
    post(other, url, form_data(other, url))
    post(client, url, mine | {"summary": "My correction stands."})
    stance.refresh_from_db()
    assert stance.summary == "My correction stands."


def test_inline_stances_write_one_record_per_changed_stance_and_none_for_the_rest(editor):
    client = signed_in(editor)
    point = Point.objects.annotate(n=Count("stances")).filter(n__gte=3).order_by("n", "pk").first()
    stances = list(point.stances.order_by("pk"))
    url = change_url(point)
    data = form_data(client, url)
    index = {int(data[f"stances-{i}-id"]): i for i in range(len(stances))}
    data[f"stances-{index[stances[1].pk]}-summary"] = "Changed inline."
    before_point = point.history.count()
    written, start, end = window(client, url, data, model=Stance)
    assert [(r.id, r.summary, r.history_user) for r in written] == [(stances[1].pk, "Changed inline.", editor)]
    assert start <= written[0].history_date <= end
    assert point.history.count() == before_point, "the point itself did not change"


def test_inline_clauses_write_one_record_per_changed_clause_and_none_for_the_rest():
    """Editors do not change revisions; a user who may (here a superuser) edits their clauses inline."""
    chief = User.objects.create_superuser("chief", password="a-long-test-password-9")
    client = signed_in(chief)
    revision = Revision.objects.get(slug="e3-counter-proposal")
    clauses = list(revision.clauses.filter(dropped=False).order_by("pk")[:3])
    url = change_url(revision)
    data = form_data(client, url)
    ids = {int(value): key.split("-")[1] for key, value in data.items() if re.fullmatch(r"clauses-\d+-id", key)}
    data[f"clauses-{ids[clauses[0].pk]}-text"] = "Changed inline, first."
    data[f"clauses-{ids[clauses[2].pk]}-change_note"] = "Changed inline, third."
    before_revision = revision.history.count()
    written, start, end = window(client, url, data, model=Clause)
    assert sorted((r.id, r.history_user.username) for r in written) == [
        (clauses[0].pk, "chief"),
        (clauses[2].pk, "chief"),
    ]
    assert all(start <= r.history_date <= end for r in written)
    assert revision.history.count() == before_revision


def test_publish_and_unpublish_actions_write_one_record_per_changed_revision_with_the_user(editor):
    client = signed_in(editor)
    first, second, third = Revision.objects.order_by("pk")[:3]
    Revision.objects.filter(pk=third.pk).update(public=False)  # already unpublished: nothing to change
    url = reverse("admin:peaceplans_revision_changelist")
    token = CSRF.search(client.get(url).content.decode()).group(1)
    selected = [first.pk, second.pk, third.pk]
    action = {"csrfmiddlewaretoken": token, "action": "unpublish_selected", "_selected_action": selected, "index": "0"}
    written, start, end = window(client, url, action, model=Revision)
    assert sorted((r.id, r.public, r.history_user) for r in written) == [
        (first.pk, False, editor),
        (second.pk, False, editor),
    ]
    assert all(start <= r.history_date <= end for r in written)
    written, _, _ = window(client, url, action | {"action": "publish_selected"}, model=Revision)
    assert sorted((r.id, r.public, r.history_user) for r in written) == [(p, True, editor) for p in selected]


def test_the_revert_form_shows_the_versions_many_to_many_set_not_the_current_one(editor):
    """Before the fix, a revert kept today's sources: the form was filled from the current rows."""
    client = signed_in(editor)
    clause = Clause.objects.filter(sources__isnull=False).order_by("pk").first()
    old_sources = set(clause.sources.values_list("pk", flat=True))
    url = change_url(clause)
    post(client, url, form_data(client, url) | {"sources": [Source.objects.exclude(pk__in=old_sources).first().pk]})
    record = clause.history.order_by("history_id")[len(clause.history.all()) - 2]
    assert set(map(int, form_data(client, revert_url(record))["sources"])) == tracked(record)["sources"] == old_sources


def test_an_import_writes_one_record_per_new_revision_and_clause_holding_their_sets(demo_json, plan):
    """
    The import (`import_revision`, the admin's paste page, `load_demo`) saves a row and then its
    sets: one record of both, not a first one without the sets and one more per set.
    """
    from peaceplans.editing.services import revisions_import

    data = {**demo_json["revisions"][-1], "slug": "history-8-import"}
    [result] = revisions_import(data=data, plan_slug=plan.slug)
    revision = result.revision
    assert [(r.history_type, tracked(r)) for r in revision.history.all()] == [("+", tracked(revision))]
    assert tracked(revision)["authors"] and tracked(revision)["sources"]
    clauses = list(revision.clauses.all())
    assert clauses and all(c.history.count() == 1 for c in clauses)
    assert all(tracked(c.history.get()) == tracked(c) for c in clauses)
    assert any(tracked(c)["sources"] for c in clauses)
    assert revisions_import(data=data, plan_slug=plan.slug)[0].changed is False
    assert revision.history.count() == 1 and sum(c.history.count() for c in clauses) == len(clauses)
