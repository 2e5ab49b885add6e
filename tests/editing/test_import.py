"""
The import_revision command: good files, re-imports, and every kind of bad input. A bad
file raises a CommandError naming the file, revision, point and field, and leaves the
database exactly as it was (one transaction).
"""

import copy
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from peaceplans.models import Clause, Point, Revision, Source

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
SOURCE_URL = "https://example.org/2026/01/05/test-draft"

GOOD = {
    "slug": "test-draft",
    "title": "Test draft",
    "author": ["us", "ukraine"],
    "published_on": "2026-01-05",
    "status": "leaked draft",
    "summary": "A draft made up for the tests.",
    "sources": [
        {
            "url": SOURCE_URL,
            "outlet": "Example News",
            "date": "2026-01-05",
            "title": "Test draft leaked",
            "kind": "original-report",
        },
    ],
    "points": [
        {
            "number": "1",
            "topic": "military-limits",
            "text": "Ukraine's army is capped at 700,000.",
            "derived_from": "6",
            "change_note": "Cap lowered.",
            "deleted": False,
            "sources": [SOURCE_URL],
        },
        {
            "number": "2",
            "topic": "other",
            "text": "A joint commission meets monthly.",
            "derived_from": None,
            "change_note": "New.",
            "deleted": False,
            "sources": [],
        },
        {
            "number": "3",
            "topic": "territory",
            "text": None,
            "derived_from": "21",
            "change_note": "Territory left out.",
            "deleted": True,
            "sources": [],
        },
    ],
}


def revision(**overrides) -> dict:
    return {**copy.deepcopy(GOOD), **overrides}


def with_point(index: int, **overrides) -> dict:
    """GOOD with one point's fields replaced."""
    data = revision()
    data["points"][index].update(overrides)
    return data


def write(tmp_path, data, name="revision.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run(path, plan=PLAN) -> str:
    out = StringIO()
    call_command("import_revision", str(path), plan=plan, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Counts, every clause's content, and the size of every history table."""
    history = {m.__name__: m.objects.count() for m in apps.get_models() if m.__name__.startswith("Historical")}
    return {
        "counts": [m.objects.count() for m in (Revision, Clause, Point, Source)],
        "clauses": list(
            Clause.objects.order_by("pk").values_list("pk", "revision_id", "point_id", "number", "text", "dropped")
        ),
        "revisions": list(Revision.objects.order_by("pk").values_list("slug", "title", "status", "published_on")),
        "points": list(Point.objects.order_by("pk").values_list("key", "title", "split_from_id")),
        "history": history,
    }


def rejected(tmp_path, data, *fragments, plan=PLAN) -> str:
    """Import must fail with a message naming the file and each fragment, and change nothing."""
    path = write(tmp_path, data)
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        run(path, plan=plan)
    message = str(caught.value)
    print(f"\nMESSAGE: {message}")
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert message.endswith("Nothing was imported.")
    assert snapshot() == before
    return message


# Good files


def test_good_file_creates_the_revision(tmp_path):
    """The revision is created with its title, date, status, authors and sources."""
    out = run(write(tmp_path, GOOD))
    rev = Revision.objects.get(plan__slug=PLAN, slug="test-draft")
    assert (rev.title, str(rev.published_on), rev.status) == ("Test draft", "2026-01-05", "leaked-draft")
    assert set(rev.authors.values_list("slug", flat=True)) == {"us", "ukraine"}
    assert list(rev.sources.values_list("url", flat=True)) == [SOURCE_URL]
    assert "test-draft: created; clauses +3" in out


def test_good_file_creates_one_clause_per_point_in_order(tmp_path):
    """Each point entry becomes a clause with its number, text and change note."""
    run(write(tmp_path, GOOD))
    clauses = Clause.objects.filter(revision__slug="test-draft").order_by("sort_order")
    assert [(c.number, c.text, c.change_note) for c in clauses] == [
        ("1", "Ukraine's army is capped at 700,000.", "Cap lowered."),
        ("2", "A joint commission meets monthly.", "New."),
        ("3", "", "Territory left out."),
    ]


def test_clause_without_derived_from_starts_a_new_point_keyed_by_revision_and_number(tmp_path):
    """Point 2 has no counterpart: it becomes Point 'test-draft-2', the only new point."""
    before = Point.objects.count()
    run(write(tmp_path, GOOD))
    clause = Clause.objects.get(revision__slug="test-draft", number="2")
    assert clause.point.key == "test-draft-2"
    assert clause.point.topic.slug == "other"
    assert Point.objects.count() == before + 1


def test_clause_with_derived_from_is_tied_to_the_existing_point(tmp_path):
    """Point 1 derives from draft point 6: it is another wording of Point '6'."""
    run(write(tmp_path, GOOD))
    clause = Clause.objects.get(revision__slug="test-draft", number="1")
    assert clause.point == Point.objects.get(plan__slug=PLAN, key="6")


def test_point_sources_are_attached_to_the_clause(tmp_path):
    """A point's source URLs, listed in the revision's sources, are linked to its clause."""
    run(write(tmp_path, GOOD))
    clause = Clause.objects.get(revision__slug="test-draft", number="1")
    assert list(clause.sources.values_list("url", flat=True)) == [SOURCE_URL]


def test_deleted_point_is_recorded_as_a_dropped_clause(tmp_path):
    """A point marked deleted becomes a dropped clause of the point it names, with empty text."""
    run(write(tmp_path, GOOD))
    clause = Clause.objects.get(revision__slug="test-draft", number="3")
    assert (clause.dropped, clause.text, clause.point.key) == (True, "", "21")


def test_deleted_point_ignores_any_text_given(tmp_path):
    """Even if a deleted point carries text, it is stored as a dropped clause without text."""
    run(write(tmp_path, with_point(2, text="Leftover wording.")))
    clause = Clause.objects.get(revision__slug="test-draft", number="3")
    assert (clause.dropped, clause.text) == (True, "")


def test_file_may_hold_a_list_of_revisions(tmp_path):
    """A list of revision objects imports each of them."""
    second = revision(slug="test-draft-two", title="Second test draft")
    run(write(tmp_path, [GOOD, second]))
    assert set(Revision.objects.filter(slug__startswith="test-draft").values_list("slug", flat=True)) == {
        "test-draft",
        "test-draft-two",
    }
    assert Clause.objects.filter(revision__slug="test-draft-two").count() == 3


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    """A second run of the same file leaves counts, content and every history table as they were."""
    path = write(tmp_path, GOOD)
    run(path)
    before = snapshot()
    out = run(path)
    assert snapshot() == before
    assert "test-draft: unchanged" in out


def test_reimporting_with_one_text_changed_updates_that_clause_in_place(tmp_path):
    """The changed clause keeps its pk and gets the new text; nothing is duplicated."""
    run(write(tmp_path, GOOD))
    clause = Clause.objects.get(revision__slug="test-draft", number="2")
    counts = [m.objects.count() for m in (Revision, Clause, Point, Source)]
    out = run(write(tmp_path, with_point(1, text="A joint commission meets weekly.")))
    clause.refresh_from_db()
    assert clause.text == "A joint commission meets weekly."
    assert Clause.objects.get(revision__slug="test-draft", number="2").pk == clause.pk
    assert [m.objects.count() for m in (Revision, Clause, Point, Source)] == counts
    assert clause.history.count() == 2
    assert "clauses +0 ~1 -0" in out


def test_reimporting_without_a_point_removes_its_clause(tmp_path):
    """A point left out of the new file is no longer part of that revision."""
    run(write(tmp_path, GOOD))
    data = revision()
    del data["points"][1]
    run(write(tmp_path, data))
    assert list(Clause.objects.filter(revision__slug="test-draft").values_list("number", flat=True)) == ["1", "3"]


def test_hostile_but_valid_content_is_stored_verbatim(tmp_path):
    """Cyrillic, emoji and markup are kept exactly: escaping is the templates' job, not the importer's."""
    text = "Мир <script>alert('x')</script> & «перемирие» 🕊️🇺🇦 \"quoted\""
    run(write(tmp_path, with_point(1, text=text)))
    assert Clause.objects.get(revision__slug="test-draft", number="2").text == text


def test_hostile_revision_title_is_stored_verbatim(tmp_path):
    """A title with markup and non-Latin characters is stored as given."""
    title = "<b>Проект</b> 🕊️ <img src=x onerror=alert(1)>"
    run(write(tmp_path, revision(title=title)))
    assert Revision.objects.get(slug="test-draft").title == title


# Bad input: a clear CommandError and an unchanged database


def test_malformed_json_gives_line_and_column(tmp_path):
    """A syntax error in the JSON is reported with its position."""
    rejected(tmp_path, '{"slug": "test-draft",\n "title": }', "malformed JSON at line 2, column 11")


def test_missing_file_is_reported(tmp_path):
    """A path that does not exist gives a clear error, not a traceback."""
    path = tmp_path / "absent.json"
    with pytest.raises(CommandError, match="cannot read file") as caught:
        run(path)
    print(f"\nMESSAGE: {caught.value}")
    assert str(path) in str(caught.value)


def test_empty_list_is_rejected(tmp_path):
    """A file holding [] says that at least one revision is expected."""
    rejected(tmp_path, [], "empty list")


def test_missing_title_is_rejected(tmp_path):
    """A revision without a title names the revision and the field."""
    data = revision()
    del data["title"]
    rejected(tmp_path, data, "revision 'test-draft'", "field 'title'", "missing")


def test_missing_text_on_a_kept_point_is_rejected(tmp_path):
    """A point not marked deleted must have text."""
    rejected(tmp_path, with_point(1, text=None), "revision 'test-draft'", "point '2'", "field 'text'")


def test_unknown_author_is_rejected(tmp_path):
    """An author that is not one of the parties is named, with the known ones."""
    rejected(tmp_path, revision(author=["us", "nato"]), "revision 'test-draft'", "field 'author'", "'nato'")


def test_unknown_topic_is_rejected(tmp_path):
    """A point's topic must be a known topic."""
    rejected(
        tmp_path, with_point(1, topic="weather"), "revision 'test-draft'", "point '2'", "field 'topic'", "'weather'"
    )


def test_unknown_plan_is_rejected(tmp_path):
    """--plan must name an existing plan."""
    rejected(tmp_path, GOOD, "plan 'nope' does not exist", plan="nope")


def test_duplicate_number_in_one_revision_is_rejected(tmp_path):
    """Two points with the same number in one revision are refused."""
    rejected(tmp_path, with_point(1, number="1"), "revision 'test-draft'", "point '1'", "field 'number'")


def test_derived_from_matching_no_point_is_rejected(tmp_path):
    """derived_from must name an existing point of the plan."""
    rejected(
        tmp_path, with_point(0, derived_from="99"), "revision 'test-draft'", "point '1'", "field 'derived_from'", "'99'"
    )


def test_deleted_point_without_derived_from_is_rejected(tmp_path):
    """A dropped point must say which point it drops."""
    rejected(tmp_path, with_point(2, derived_from=None), "revision 'test-draft'", "point '3'", "field 'derived_from'")


def test_absurdly_long_text_is_rejected(tmp_path):
    """50,000 characters of text are refused with the length and the limit."""
    rejected(tmp_path, with_point(1, text="x" * 50_000), "revision 'test-draft'", "point '2'", "field 'text'", "50,000")


def test_unknown_status_is_rejected(tmp_path):
    """The status must be one of the listed statuses."""
    rejected(tmp_path, revision(status="rumour"), "revision 'test-draft'", "field 'status'", "'rumour'")


@pytest.mark.parametrize("value", ["20260105", "2026-W02-1", "05/01/2026"])
def test_dates_other_than_yyyy_mm_dd_are_rejected(tmp_path, value):
    """Compact and week dates, which Python would accept, are refused: editors write YYYY-MM-DD."""
    rejected(tmp_path, revision(published_on=value), "field 'published_on'", "YYYY-MM-DD")


def test_bad_date_is_rejected(tmp_path):
    """published_on must be a real date in the form YYYY-MM-DD."""
    rejected(
        tmp_path, revision(published_on="2026-02-30"), "revision 'test-draft'", "field 'published_on'", "'2026-02-30'"
    )


def test_unknown_point_source_url_is_rejected(tmp_path):
    """A point may only cite a URL already known as a source."""
    url = "https://example.org/never-listed"
    rejected(tmp_path, with_point(0, sources=[url]), "revision 'test-draft'", "point '1'", "field 'sources'", url)


def test_source_with_unknown_kind_is_rejected(tmp_path):
    """A revision source must have one of the five kinds."""
    data = revision()
    data["sources"][0]["kind"] = "blog"
    rejected(tmp_path, data, "revision 'test-draft'", "field 'sources'", "'blog'")


def test_source_with_an_invalid_url_is_rejected(tmp_path):
    """A revision source's URL must be a web address."""
    data = revision()
    data["sources"][0]["url"] = "javascript:alert(1)"
    rejected(tmp_path, data, "revision 'test-draft'", "field 'sources.url'")


def test_over_long_title_is_rejected(tmp_path):
    """A title longer than the field allows is refused by validation, not cut."""
    rejected(tmp_path, revision(title="T" * 201), "revision 'test-draft'", "field 'title'")


def test_bad_number_is_rejected(tmp_path):
    """A point number must be letters, digits, '.', '-' and a leading '?'; a space is refused."""
    rejected(
        tmp_path, with_point(1, number="2 B"), "revision 'test-draft'", "point '2 B'", "field 'number'", "leading '?'"
    )


def test_bad_number_names_the_number_field(tmp_path):
    """The error for a bad number names the input's field, 'number'."""
    rejected(tmp_path, with_point(1, number="2 B"), "point '2 B'", "field 'number'")


def test_non_object_entry_is_rejected(tmp_path):
    """Every item of the list must be a JSON object."""
    rejected(tmp_path, [GOOD, "not a revision"], "item 2 is not a JSON object")


# Nothing is half-written


def test_bad_second_revision_leaves_the_first_unwritten(tmp_path):
    """A list whose second revision is bad imports neither."""
    second = revision(slug="test-draft-two", status="rumour")
    rejected(tmp_path, [GOOD, second], "revision 'test-draft-two'", "field 'status'")
    assert not Revision.objects.filter(slug="test-draft").exists()


def test_bad_third_point_leaves_the_first_two_unwritten(tmp_path):
    """An error in point 3 undoes the revision, its first two clauses and the new point they made."""
    rejected(tmp_path, with_point(2, topic="weather"), "revision 'test-draft'", "point '3'", "field 'topic'")
    assert not Point.objects.filter(key="test-draft-2").exists()


def test_bad_reimport_keeps_the_earlier_wording(tmp_path):
    """A re-import that changes point 1 and then fails on point 3 leaves point 1's old text."""
    run(write(tmp_path, GOOD))
    data = with_point(2, derived_from="99")
    data["points"][0]["text"] = "Changed before the failure."
    rejected(tmp_path, data, "revision 'test-draft'", "point '3'", "field 'derived_from'")
    assert Clause.objects.get(revision__slug="test-draft", number="1").text == "Ukraine's army is capped at 700,000."


def test_bad_source_late_in_the_file_leaves_earlier_sources_unwritten(tmp_path):
    """A new revision-level source is not kept when a later point fails."""
    rejected(tmp_path, with_point(2, number="1"), "point '1'", "field 'number'")
    assert not Source.objects.filter(url=SOURCE_URL).exists()


# Robustness: odd JSON types must give a CommandError, never a traceback


def test_slug_of_the_wrong_type_is_rejected(tmp_path):
    """A slug given as a list is a bad-input error, not a crash."""
    rejected(tmp_path, revision(slug=["test-draft"]), "field 'slug'")


def test_topic_of_the_wrong_type_is_rejected(tmp_path):
    """A topic given as a list is a bad-input error naming the point, not a crash."""
    rejected(tmp_path, with_point(1, topic=["other"]), "point '2'", "field 'topic'")


def test_deeply_nested_json_is_rejected(tmp_path):
    """A small but absurdly nested file is refused with a clear message, not a traceback."""
    rejected(tmp_path, "[" * 100_000 + "]" * 100_000, "JSON")


def test_deleted_given_as_a_string_is_rejected(tmp_path):
    """A deleted flag given as the string "false" is refused rather than read as true."""
    rejected(tmp_path, with_point(0, deleted="false"), "point '1'", "field 'deleted'")


# Short labels, wording, wording notes, unnumbered drops (issue 21)


def test_short_label_is_stored_when_given_and_derived_when_absent(tmp_path):
    run(write(tmp_path, revision(short_label="  Test  label ")))
    assert Revision.objects.get(slug="test-draft").short_label == "Test label"
    run(write(tmp_path, revision(slug="other-draft", title="Kyiv counter-draft (as leaked to Axios)"), "b.json"))
    assert Revision.objects.get(slug="other-draft").short_label == "Kyiv counter-draft"


def test_reimport_without_a_short_label_keeps_the_editors_label(tmp_path):
    run(write(tmp_path, GOOD))
    Revision.objects.filter(slug="test-draft").update(short_label="Editors' pick")
    out = run(write(tmp_path, GOOD))
    assert Revision.objects.get(slug="test-draft").short_label == "Editors' pick"
    assert "unchanged" in out


def test_a_changed_short_label_alone_is_reported_as_an_update(tmp_path):
    run(write(tmp_path, GOOD))
    out = run(write(tmp_path, revision(short_label="New label")))
    assert "test-draft: updated" in out and Revision.objects.get(slug="test-draft").short_label == "New label"


def test_over_long_short_label_is_rejected(tmp_path):
    rejected(tmp_path, revision(short_label="x" * 21), "revision 'test-draft'", "field 'short_label'", "at most 20")


def test_a_title_whose_first_word_is_too_long_stores_no_label_and_shows_the_word_whole(tmp_path):
    run(write(tmp_path, revision(title="Supercalifragilisticexpialidocious plan")))
    stored = Revision.objects.get(slug="test-draft")
    assert stored.short_label == "" and stored.label == "Supercalifragilisticexpialidocious"


def test_wording_is_stored_and_defaults_to_our_paraphrase(tmp_path):
    run(write(tmp_path, GOOD))
    assert Revision.objects.get(slug="test-draft").wording == "paraphrase"
    run(write(tmp_path, revision(wording="verbatim")))
    assert Revision.objects.get(slug="test-draft").get_wording_display() == "verbatim"


@pytest.mark.parametrize("value", ["exact", 3, ["verbatim"]])
def test_unknown_wording_is_rejected(tmp_path, value):
    rejected(tmp_path, revision(wording=value), "revision 'test-draft'", "field 'wording'")


def test_wording_note_is_stored_beside_the_text_not_in_it(tmp_path):
    run(write(tmp_path, with_point(0, wording_note="Exact wording not found.")))
    clause = Clause.objects.get(revision__slug="test-draft", number="1")
    assert clause.wording_note == "Exact wording not found." and "not found" not in clause.text


@pytest.mark.parametrize(("value", "fragment"), [(["a"], "must be a text"), ("n" * 501, "at most 500")])
def test_bad_wording_note_is_rejected(tmp_path, value, fragment):
    rejected(tmp_path, with_point(0, wording_note=value), "point '1'", "field 'wording_note'", fragment)


UNNUMBERED_DROP = {
    "number": None,
    "topic": "nato",
    "text": None,
    "derived_from": "7",
    "change_note": "The NATO ban is gone; its number goes to another point.",
    "deleted": True,
    "sources": [],
}


def with_unnumbered_drop(**overrides) -> dict:
    """GOOD, numbering a point 7 of its own while dropping the draft's point 7."""
    data = revision()
    data["points"].append({**GOOD["points"][1], "number": "7", "text": "A new seventh point.", "derived_from": None})
    data["points"].append({**UNNUMBERED_DROP, **overrides})
    return data


def test_a_dropped_point_may_have_no_number_while_another_point_takes_it(tmp_path):
    run(write(tmp_path, with_unnumbered_drop()))
    clauses = Clause.objects.filter(revision__slug="test-draft")
    dropped = clauses.get(point__key="7")
    assert (dropped.number, dropped.dropped, dropped.text) == ("", True, "")
    assert dropped.number_label == "no number of its own (dropped)"
    assert clauses.get(number="7").point.key == "test-draft-7"
    assert run(write(tmp_path, with_unnumbered_drop())).count("unchanged") == 1  # a re-import finds it again


def test_two_unnumbered_drops_of_different_points_are_both_kept(tmp_path):
    data = with_unnumbered_drop()
    data["points"].append({**UNNUMBERED_DROP, "derived_from": "26", "topic": "humanitarian"})
    run(write(tmp_path, data))
    assert set(Clause.objects.filter(revision__slug="test-draft", number="").values_list("point__key", flat=True)) == {
        "7",
        "26",
    }


def test_an_unnumbered_drop_must_name_its_point(tmp_path):
    rejected(tmp_path, with_unnumbered_drop(derived_from=None), "field 'derived_from'", "must name the point it drops")


def test_an_unnumbered_point_that_is_not_dropped_is_rejected(tmp_path):
    rejected(tmp_path, with_unnumbered_drop(deleted=False), "field 'number'", "null only for a point marked deleted")


def test_the_same_point_dropped_twice_is_rejected(tmp_path):
    data = with_unnumbered_drop()
    data["points"].append(dict(UNNUMBERED_DROP))
    rejected(tmp_path, data, "point 'dropped 7'", "already has a clause for point '7'")


def test_a_point_both_worded_and_dropped_is_rejected(tmp_path):
    rejected(
        tmp_path, with_unnumbered_drop(derived_from="6"), "point 'dropped 6'", "already has a clause for point '6'"
    )


def test_a_clause_without_a_number_must_be_dropped_in_the_database_too():
    clause = Clause.objects.filter(dropped=False).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Clause.objects.filter(pk=clause.pk).update(number="")
