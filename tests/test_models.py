"""Models and the database constraints behind them, checked against the demo data."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from peaceplans.models import (
    MAX_CLAUSE_CHARS,
    Annotation,
    Clause,
    Event,
    Party,
    Plan,
    Point,
    Revision,
    Source,
    Stance,
    Topic,
)

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
DRAFT = "us-28-point-draft"


def draft_clause(number: str) -> Clause:
    return Clause.objects.select_related("revision", "point").get(revision__slug=DRAFT, number=number)


def point(key: str) -> Point:
    return Point.objects.get(plan__slug=PLAN, key=key)


def rejected(model, pk, constraint: str, **values):
    """An UPDATE that skips Python validation must be refused by the named database constraint."""
    with transaction.atomic(), pytest.raises(IntegrityError, match=constraint):
        model.objects.filter(pk=pk).update(**values)


def a_stance(**overrides) -> Stance:
    values = {
        "plan": Plan.objects.get(slug=PLAN),
        "party": Party.objects.get(slug="russia"),
        "revision": Revision.objects.get(slug=DRAFT),
        "point": point("6"),
        "position": Stance.Position.OPPOSES,
        "stated_on": datetime.date(2030, 1, 1),
        "summary": "Test stance.",
        "source": Source.objects.first(),
    }
    return Stance.objects.create(**{**values, **overrides})


# Clauses


def test_clause_number_is_unique_within_a_revision():
    """Two clauses of one revision cannot carry the same printed number."""
    clause = draft_clause("6")
    other_point = point("europe-24-point-telegraph-1")  # a point the draft does not contain
    with (
        transaction.atomic(),
        pytest.raises(
            IntegrityError,
            match=r"clause_number_unique_per_revision|peaceplans_clause\.revision_id, peaceplans_clause\.number",
        ),
    ):
        Clause.objects.create(revision=clause.revision, point=other_point, number="6", text="Duplicate number.")


def test_a_point_has_one_clause_per_revision():
    """A revision cannot word the same point twice."""
    clause = draft_clause("6")
    with (
        transaction.atomic(),
        pytest.raises(
            IntegrityError,
            match=r"clause_point_unique_per_revision|peaceplans_clause\.revision_id, peaceplans_clause\.point_id",
        ),
    ):
        Clause.objects.create(revision=clause.revision, point=clause.point, number="99", text="Same point again.")


def test_dropped_clause_must_have_empty_text():
    """A clause marked dropped cannot keep a wording."""
    clause = draft_clause("6")
    rejected(Clause, clause.pk, "clause_text_iff_not_dropped", dropped=True)


def test_kept_clause_must_have_text():
    """A clause that is not dropped cannot have empty text."""
    clause = draft_clause("6")
    rejected(Clause, clause.pk, "clause_text_iff_not_dropped", text="")


def test_dropped_clause_with_empty_text_is_accepted():
    """The constraint's other branch: dropped with no text is a valid row."""
    clause = draft_clause("6")
    Clause.objects.filter(pk=clause.pk).update(dropped=True, text="")
    clause.refresh_from_db()
    assert clause.dropped and clause.text == ""


def test_clause_text_length_is_capped_in_the_database():
    """Text longer than MAX_CLAUSE_CHARS is refused even when Python validation is skipped."""
    clause = draft_clause("6")
    rejected(Clause, clause.pk, "clause_text_max_length", text="x" * (MAX_CLAUSE_CHARS + 1))


def test_clause_text_at_the_length_cap_is_accepted():
    """Exactly MAX_CLAUSE_CHARS characters is still allowed (the cap is inclusive)."""
    clause = draft_clause("6")
    Clause.objects.filter(pk=clause.pk).update(text="ж" * MAX_CLAUSE_CHARS)
    clause.refresh_from_db()
    assert len(clause.text) == MAX_CLAUSE_CHARS


# Stances


def test_stance_needs_a_revision_or_a_point():
    """A stance about nothing at all is refused."""
    stance = Stance.objects.first()
    rejected(Stance, stance.pk, "stance_on_revision_or_point", revision=None, point=None)


def test_stance_position_must_be_a_known_value():
    """The database refuses a position outside supports/opposes/conditional/proposes-amendment/unclear."""
    stance = Stance.objects.first()
    rejected(Stance, stance.pk, "stance_position_valid", position="maybe")


def test_latest_per_point_returns_the_most_recent_stance_by_date():
    """For one (point, party) pair the latest statement wins, even when it was entered first."""
    newer = a_stance(stated_on=datetime.date(2030, 1, 2), position=Stance.Position.SUPPORTS)
    a_stance(stated_on=datetime.date(2030, 1, 1), position=Stance.Position.OPPOSES)
    latest = Stance.objects.latest_per_point()
    assert latest[(newer.point_id, newer.party_id)] == newer


def test_latest_per_point_keeps_one_entry_per_point_and_party():
    """Each (point, party) pair with stances appears once, and only pairs that have stances."""
    pairs = set(Stance.objects.on_points().values_list("point_id", "party_id"))
    assert set(Stance.objects.latest_per_point()) == pairs


def test_latest_per_point_can_be_limited_to_one_party():
    """With party=, only that party's cells are returned."""
    russia = Party.objects.get(slug="russia")
    latest = Stance.objects.latest_per_point(party=russia)
    assert latest
    assert {party_id for _, party_id in latest} == {russia.pk}


# Other check constraints


def test_source_kind_must_be_a_known_value():
    """The database refuses a source kind outside the five listed kinds."""
    source = Source.objects.first()
    rejected(Source, source.pk, "source_kind_valid", kind="blog")


def test_revision_status_must_be_a_known_value():
    """The database refuses a revision status outside the five listed statuses."""
    revision = Revision.objects.get(slug=DRAFT)
    rejected(Revision, revision.pk, "revision_status_valid", status="rumour")


def test_annotation_status_must_be_draft_or_published():
    """The database refuses any other annotation status."""
    note = Annotation.objects.create(point=point("6"), body="A note.")
    rejected(Annotation, note.pk, "annotation_status_valid", status="deleted")


def test_party_colour_must_be_a_hex_colour():
    """The database refuses a colour that is not #rrggbb."""
    party = Party.objects.get(slug="us")
    rejected(Party, party.pk, "party_colour_hex", colour="blue")


def test_point_cannot_be_split_from_itself():
    """A point's split_from cannot be the point itself."""
    p = point("6")
    rejected(Point, p.pk, "point_not_split_from_itself", split_from=p.pk)


# Points


def test_point_key_is_unique_per_plan():
    """A plan cannot hold two points with the same key."""
    existing = point("6")
    with (
        transaction.atomic(),
        pytest.raises(
            IntegrityError, match=r"point_key_unique_per_plan|peaceplans_point\.plan_id, peaceplans_point\.key"
        ),
    ):
        Point.objects.create(plan=existing.plan, key="6", title="Another six", topic=existing.topic)


def test_point_key_may_repeat_in_another_plan():
    """Keys are unique per plan, not globally: a second plan may have its own point 6."""
    other = Plan.objects.create(slug="another-plan", title="Another plan")
    copy = Point.objects.create(plan=other, key="6", title="Six elsewhere", topic=Topic.objects.first())
    assert Point.objects.filter(key="6").count() == 2
    assert copy.get_absolute_url() == "/plans/another-plan/points/6/"


# __str__ and get_absolute_url


def test_plan_str_and_url():
    """A plan reads as its title and lives at /plans/<slug>/."""
    plan = Plan.objects.get(slug=PLAN)
    assert str(plan) == "Ending Russia's war against Ukraine (2025 peace plans)"
    assert plan.get_absolute_url() == "/plans/russia-ukraine-2025/"


def test_party_str_and_url():
    """A party reads as its full name and links to its positions in the featured plan."""
    party = Party.objects.get(slug="us")
    assert str(party) == "United States"
    assert party.get_absolute_url() == "/plans/russia-ukraine-2025/parties/us/"


def test_topic_str_and_url():
    """A topic reads as its name and links to the matrix filtered by it."""
    topic = Topic.objects.get(slug="territory")
    assert str(topic) == "Territory"
    assert topic.get_absolute_url() == "/plans/russia-ukraine-2025/?topic=territory"


def test_revision_str_and_url():
    """A revision reads as its title and lives at /plans/<plan>/revisions/<slug>/."""
    revision = Revision.objects.get(slug=DRAFT)
    assert str(revision) == "US 28-point peace plan (Witkoff-Dmitriev draft)"
    assert revision.get_absolute_url() == "/plans/russia-ukraine-2025/revisions/us-28-point-draft/"


def test_point_str_and_url():
    """Point 6 reads as '6. Army cap' and lives at /plans/<plan>/points/6/."""
    p = point("6")
    assert str(p) == "6. Army cap"
    assert p.get_absolute_url() == "/plans/russia-ukraine-2025/points/6/"


def test_clause_str_and_url():
    """A clause reads as revision slug and number, and links to its anchor in the revision's text."""
    clause = draft_clause("6")
    assert str(clause) == "us-28-point-draft 6"
    assert clause.get_absolute_url() == "/plans/russia-ukraine-2025/revisions/us-28-point-draft/#point-6"


def test_renumbered_clause_links_to_its_point_key_not_its_number():
    """Berlin bullet 1 answers draft point 6: its anchor is the point's key, 6."""
    clause = Clause.objects.get(revision__slug="berlin-joint-statement", number="1")
    assert clause.get_absolute_url() == "/plans/russia-ukraine-2025/revisions/berlin-joint-statement/#point-6"


def test_clause_number_label_explains_unknown_numbers():
    """'?6' reads as an unknown own number answering draft point 6; '6' reads as numbered 6."""
    unknown = Clause.objects.get(revision__slug="us-ukraine-geneva-framework", number="?6")
    assert unknown.number_label == "own number not public (answers draft point 6)"
    assert draft_clause("6").number_label == "numbered 6"


def test_stance_on_a_point_str_and_url():
    """A point stance names party, position, point and date, and links to its anchor on the point page."""
    stance = a_stance()
    assert str(stance) == "Russia: opposes point 6 (2030-01-01)"
    assert stance.get_absolute_url() == f"/plans/russia-ukraine-2025/points/6/#stance-{stance.pk}"


def test_stance_on_a_revision_str_and_url():
    """A whole-revision stance names the revision and links to its anchor on the revision page."""
    stance = a_stance(point=None, position=Stance.Position.PROPOSES_AMENDMENT)
    assert str(stance) == "Russia: proposes amendment US 28-point peace plan (Witkoff-Dmitriev draft) (2030-01-01)"
    assert stance.get_absolute_url() == f"/plans/russia-ukraine-2025/revisions/us-28-point-draft/#stance-{stance.pk}"


def test_source_str_and_url():
    """A source reads as outlet and date ('undated' without one) and links to its entry in the source list."""
    source = Source.objects.get(url__startswith="https://uanews.net/en/post/142581")
    assert str(source) == "UA News, 2025-11-20"
    assert source.get_absolute_url() == f"/sources/?source={source.pk}#source-{source.pk}"
    source.published_on = None
    assert str(source) == "UA News, undated"


def test_event_str_and_url():
    """An event reads as date and title and links to its anchor on the plan's timeline."""
    event = Event.objects.get(date="2025-10-29")
    assert str(event) == "2025-10-29: Leaked Dmitriev-Ushakov call on a peace 'paper'"
    assert event.get_absolute_url() == f"/plans/russia-ukraine-2025/timeline/#event-{event.pk}"


def test_annotation_str_and_url():
    """A note names its point and status and links to its anchor on the point page."""
    note = Annotation.objects.create(point=point("6"), body="A note.")
    assert str(note) == "Note on 6. Army cap (draft)"
    assert note.get_absolute_url() == f"/plans/russia-ukraine-2025/points/6/#note-{note.pk}"


# History


def test_editing_a_clause_records_history_with_the_old_text():
    """Saving a new wording adds a historical record; the previous wording stays retrievable."""
    clause = draft_clause("6")
    old_text, before = clause.text, clause.history.count()
    clause.text = "Ukraine's armed forces are capped at 800,000."
    clause.save()
    assert clause.history.count() == before + 1
    latest = clause.history.first()
    assert latest.text == "Ukraine's armed forces are capped at 800,000."
    assert latest.prev_record.text == old_text


def test_clause_can_be_reverted_from_history():
    """The old wording can be restored from its historical record."""
    clause = draft_clause("6")
    old_text = clause.text
    clause.text = "A mistaken edit."
    clause.save()
    clause.history.first().prev_record.instance.save()
    clause.refresh_from_db()
    assert clause.text == old_text
