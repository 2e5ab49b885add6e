"""
No lost edit, through any form (issue 19, item 1): a save made from a form opened before someone
else's save is refused with the conflict page, for the object and for each row of an inline form,
also when the two saves arrive at the same moment.

- One after the other, through the real admin forms (the session's test database): a stance
  changed in the point form, a clause changed in the revision form, a stance changed in its own
  form then in the point form, a row deleted after a colleague changed it: the second save is
  refused on the row and at the top of the form, the first text is kept and nothing of the second
  form is written. Two editors changing two different stances of one point both keep their edit.
  A form saved unchanged writes nothing. On PostgreSQL, the lock order is shown in the SQL.
- At the same moment, in process: ROUNDS rounds of two threads (each its own client, session and
  database connection) posting the same form opened at the same version, released together by a
  threading.Barrier, first on a clause's own form, then on a stance in the point form. In a
  spawned process on a database of its own, migrated and loaded with the demo (a SQLite file, or
  a PostgreSQL database beside the session's: marked engine_dependent, so CI's PostgreSQL pass
  runs it again). Every round one save wins and the other gets the conflict page; `pytest -s`
  prints the figures. About 20 s on SQLite, 30 s on PostgreSQL (a third of it set-up).
tests/editing/test_simultaneous_saves_servers.py runs the same rounds through two app servers.
"""

import multiprocessing
import re

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import (
    Annotation,
    Clause,
    DataVersion,
    Event,
    Party,
    Plan,
    Point,
    Revision,
    Source,
    Stance,
    Topic,
)
from tests.editing.races import CONFLICT, Tally, point_with_stances, row_prefix, simultaneous
from tests.editing.test_history_safety import add_annotation, change_url, form_data, post, signed_in
from tests.test_migrations import roundtrip_database  # noqa: F401 (the fixture)

ROUNDS = 50


@pytest.fixture
def editors(db):
    group = Group.objects.get(name="Editors")
    made = []
    for name in ("desk-a", "desk-b"):
        user = User.objects.create_user(name, password="a-long-test-password-19", is_staff=True)
        user.groups.add(group)
        made.append(signed_in(user))
    return made


def refused(response, *texts: str) -> str:
    page = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert page.count(CONFLICT) >= 2, "on the row and at the top of the form"
    for text in texts:
        assert text in page
    return page


# ---- One after the other ----------------------------------------------------------------------------


# Every editable model's own form: a field each may change, changed by A then by B.
EVERY_MODEL = {
    Plan: "title",
    Party: "name",
    Topic: "name",
    Source: "outlet",
    Revision: "title",
    Clause: "change_note",
    Point: "title",
    Stance: "summary",
    Event: "summary",
    Annotation: "body",
}


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda m: m.__name__)
def test_every_editable_model_refuses_a_save_from_a_form_opened_before_a_colleagues(db, model):
    """Superusers, who may change every model (editors only some), both opening the form first."""
    a, b = (signed_in(User.objects.create_superuser(name, password="a-long-test-password-19")) for name in "AB")
    obj = model.objects.order_by("pk").first() or add_annotation(a, Point.objects.order_by("pk").first(), "A note.")
    field, url = EVERY_MODEL[model], change_url(obj)
    mine, theirs = form_data(a, url), form_data(b, url)
    post(a, url, mine | {field: "Corrected by A."})
    refused = b.post(url, theirs | {field: "Corrected by B."})
    page = refused.content.decode()
    assert refused.status_code == 200 and CONFLICT in page and f"A saved this {model._meta.verbose_name}" in page
    assert "Corrected by A." in page and "Corrected by B." in page  # theirs in the message, B's in the form
    assert getattr(model.objects.get(pk=obj.pk), field) == "Corrected by A."


def test_a_stance_changed_in_the_point_form_after_a_colleague_changed_it_is_refused_and_nothing_is_saved(editors):
    a, b = editors
    point = point_with_stances()
    stance, other = point.stances.order_by("pk")[:2]
    url = change_url(point)
    mine, theirs = form_data(a, url), form_data(b, url)
    mine[row_prefix(mine, "stances", stance.pk) + "-summary"] = "Summary as editor A corrected it."
    post(a, url, mine)
    title, other_summary = point.title, other.summary
    theirs[row_prefix(theirs, "stances", stance.pk) + "-summary"] = "Summary as editor B corrected it."
    theirs[row_prefix(theirs, "stances", other.pk) + "-summary"] = "B also changed another stance."
    theirs["title"] = "B also retitled the point."
    records = (point.history.count(), Stance.history.filter(id__in=[stance.pk, other.pk]).count())
    response = b.post(url, theirs)
    page = refused(response, "desk-a saved this stance", "Summary as editor A corrected it.")
    assert "Summary as editor B corrected it." in page and "B also retitled the point." in page  # B's form kept
    # The message is on the refused row, not on the other one.
    errors = {f.instance.pk: f.non_field_errors() for f in response.context["inline_admin_formsets"][0].formset.forms}
    assert CONFLICT in str(errors[stance.pk]) and not errors[other.pk]
    stance.refresh_from_db(), other.refresh_from_db(), point.refresh_from_db()
    assert stance.summary == "Summary as editor A corrected it."
    assert (other.summary, point.title) == (other_summary, title)  # nothing of B's form written
    assert (point.history.count(), Stance.history.filter(id__in=[stance.pk, other.pk]).count()) == records


def test_a_clause_changed_in_the_revision_form_after_a_colleague_changed_it_is_refused(db):
    """Editors do not change revisions' records; superusers do, clauses included (as test_history_safety's)."""
    a = signed_in(User.objects.create_superuser("chief-a", password="a-long-test-password-19"))
    b = signed_in(User.objects.create_superuser("chief-b", password="a-long-test-password-19"))
    revision = Revision.objects.get(slug="e3-counter-proposal")
    clause = revision.clauses.filter(dropped=False).order_by("pk").first()
    url = change_url(revision)
    mine, theirs = form_data(a, url), form_data(b, url)
    mine[row_prefix(mine, "clauses", clause.pk) + "-text"] = "The wording as A corrected it."
    post(a, url, mine)
    theirs[row_prefix(theirs, "clauses", clause.pk) + "-text"] = "The wording as B corrected it."
    refused(b.post(url, theirs), "chief-a saved this clause", "The wording as A corrected it.", "as B corrected")
    clause.refresh_from_db()
    assert clause.text == "The wording as A corrected it."


def test_a_stance_saved_in_its_own_form_refuses_the_point_form_opened_before(editors):
    a, b = editors
    point = point_with_stances()
    stance = point.stances.order_by("pk").first()
    theirs = form_data(b, change_url(point))
    post(a, change_url(stance), form_data(a, change_url(stance)) | {"summary": "Corrected in the stance's own form."})
    theirs[row_prefix(theirs, "stances", stance.pk) + "-summary"] = "Corrected in the point form."
    refused(b.post(change_url(point), theirs), "Corrected in the stance&#x27;s own form.")
    stance.refresh_from_db()
    assert stance.summary == "Corrected in the stance's own form."


def test_a_row_deleted_after_a_colleague_changed_it_is_refused_and_kept(db):
    chief = User.objects.create_superuser("chief", password="a-long-test-password-19")  # editors cannot delete
    a, b = signed_in(chief), signed_in(User.objects.create_superuser("chief-2", password="a-long-test-password-19"))
    point = point_with_stances()
    stance = point.stances.order_by("pk").first()
    url = change_url(point)
    mine, theirs = form_data(a, url), form_data(b, url)
    mine[row_prefix(mine, "stances", stance.pk) + "-summary"] = "Kept: A changed it first."
    post(a, url, mine)
    theirs[row_prefix(theirs, "stances", stance.pk) + "-DELETE"] = "on"
    refused(b.post(url, theirs), "Kept: A changed it first.")
    assert Stance.objects.get(pk=stance.pk).summary == "Kept: A changed it first."


def test_two_editors_changing_two_different_stances_of_one_point_both_keep_their_edit(editors):
    """
    The point form writes only the rows changed in it: B's form, opened before A saved another
    stance, leaves that stance as A saved it, so there is nothing to refuse and both edits stay.
    """
    a, b = editors
    point = point_with_stances()
    first, second = point.stances.order_by("pk")[:2]
    url = change_url(point)
    mine, theirs = form_data(a, url), form_data(b, url)
    mine[row_prefix(mine, "stances", first.pk) + "-summary"] = "A's edit of the first stance."
    post(a, url, mine)
    theirs[row_prefix(theirs, "stances", second.pk) + "-summary"] = "B's edit of the second stance."
    post(b, url, theirs)
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.summary, second.summary) == ("A's edit of the first stance.", "B's edit of the second stance.")


def test_what_one_editor_left_as_it_was_does_not_undo_or_refuse_what_another_saved(editors):
    """
    The point's own fields work the same way: A retitles the point and changes a stance; B,
    whose form was opened before, changes another stance only. B's form still holds the old
    title and A's stance as they were, but B did not change them, so they are not written:
    A's title and stance stay, B's stance is saved, nobody is refused.
    """
    a, b = editors
    point = point_with_stances()
    first, second = point.stances.order_by("pk")[:2]
    url = change_url(point)
    mine, theirs = form_data(a, url), form_data(b, url)
    mine["title"] = "Retitled by A."
    mine[row_prefix(mine, "stances", first.pk) + "-summary"] = "A's edit of the first stance."
    post(a, url, mine)
    records = point.history.count()
    theirs[row_prefix(theirs, "stances", second.pk) + "-summary"] = "B's edit of the second stance."
    post(b, url, theirs)
    point.refresh_from_db(), first.refresh_from_db(), second.refresh_from_db()
    assert point.title == "Retitled by A." and point.history.count() == records
    assert (first.summary, second.summary) == ("A's edit of the first stance.", "B's edit of the second stance.")
    # Changing what A changed is refused, on the point's own field as on a row.
    theirs["title"] = "Retitled by B."
    refused_once = b.post(url, theirs)
    assert refused_once.status_code == 200 and CONFLICT in refused_once.content.decode()
    assert Point.objects.get(pk=point.pk).title == "Retitled by A."


def test_a_point_form_saved_unchanged_writes_nothing_not_even_the_data_version(editors):
    a, _ = editors
    point = point_with_stances()
    url = change_url(point)
    data = form_data(a, url)
    token = DataVersion.objects.get(pk=1).token
    before = (point.history.count(), Stance.history.filter(point_id=point.pk).count())
    post(a, url, data)
    assert (point.history.count(), Stance.history.filter(point_id=point.pk).count()) == before
    assert DataVersion.objects.get(pk=1).token == token  # the page cache keeps its pages: nothing changed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks (IMMEDIATE serialises saves)")
def test_a_save_locks_the_data_version_then_the_object_then_its_changed_rows_in_key_order(editors):
    a, _ = editors
    point = point_with_stances()
    stances = list(point.stances.order_by("-pk"))  # changed in the reverse order of their keys
    url = change_url(point)
    data = form_data(a, url)
    for n, stance in enumerate(stances):
        data[row_prefix(data, "stances", stance.pk) + "-summary"] = f"Locked in key order, {n}."
    with CaptureQueriesContext(connection) as queries:
        post(a, url, data)
    locks = [q["sql"] for q in queries.captured_queries if "FOR NO KEY UPDATE" in q["sql"]]
    tables = [re.search(r'FROM "(\w+)"', sql).group(1) for sql in locks]
    assert tables[:3] == ["peaceplans_dataversion", "peaceplans_point", "peaceplans_dataversion"]
    assert tables[3] == "peaceplans_stance"
    assert re.search(r'SELECT "peaceplans_stance"."id" .* ORDER BY 1 ASC', locks[3])  # in key order
    sql = [q["sql"] for q in queries.captured_queries]
    assert sql.index(locks[3]) < next(n for n, text in enumerate(sql) if text.startswith("UPDATE"))  # before any write


# ---- At the same moment, in process -----------------------------------------------------------------


@pytest.mark.engine_dependent
@pytest.mark.slow
def test_two_saves_at_the_same_moment_lose_nothing_in_process(roundtrip_database):  # noqa: F811
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=simultaneous, args=(roundtrip_database, ROUNDS, results))
    process.start()
    try:
        report = results.get(timeout=400)
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()  # our own child, by its handle
    tallies = [Tally(**figures) for figures in report["tallies"]]
    for tally in tallies:
        print(f"\nin process, {report['vendor']}, {ROUNDS} rounds of two saves at once on " + tally.line())
    for tally in tallies:
        assert tally.rounds == ROUNDS and tally.other == [], tally.other[:3]
        assert tally.lost == 0 and tally.refused == ROUNDS, tally.line()
        assert tally.overlapped >= ROUNDS // 2, "the two saves must really meet: " + tally.line()
