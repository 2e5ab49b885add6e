"""
generate_synthetic (peaceplans/synthetic/): the counts it is asked for, the same content for
the same seed, texts that give the diff real work (rewordings, dropped, added, split and
renumbered points), a search index that finds the new text, refusal of hostile options with
nothing written, reruns only with --replace, and the demo plan never touched.
"""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from peaceplans import search
from peaceplans.models import Annotation, AnnotationStatus, Clause, Event, Plan, Point, Revision, Source, Stance
from peaceplans.synthetic import (
    PLAN_PREFIX,
    SOURCE_PREFIX,
    Spec,
    SyntheticProblem,
    content_digest,
    synthetic_delete,
    synthetic_generate,
)

pytestmark = pytest.mark.django_db

SMALL = Spec(plans=2, revisions=6, points=40, stances=2, events=50, seed=11)
DEMO = "russia-ukraine-2025"


def generated():
    return Plan.objects.filter(slug__startswith=PLAN_PREFIX)


def demo_state() -> tuple:
    """Everything of the demo plan a run could disturb, down to the timestamps."""
    plan = Plan.objects.get(slug=DEMO)
    return (
        list(Plan.objects.filter(slug=DEMO).values()),
        list(Revision.objects.filter(plan=plan).order_by("pk").values()),
        list(Point.objects.filter(plan=plan).order_by("pk").values()),
        list(Clause.objects.filter(revision__plan=plan).order_by("pk").values()),
        list(Stance.objects.filter(plan=plan).order_by("pk").values()),
        list(Event.objects.filter(plan=plan).order_by("pk").values()),
        list(Source.objects.exclude(url__startswith=SOURCE_PREFIX).order_by("pk").values()),
        Clause.history.filter(revision__plan=plan).count(),
    )


def test_counts_are_those_asked_for():
    summary = synthetic_generate(spec=SMALL)
    plans = list(generated().order_by("slug"))
    assert [p.slug for p in plans] == ["synthetic-01", "synthetic-02"]
    for plan in plans:
        revisions = list(plan.revisions.in_order())
        assert len(revisions) == SMALL.revisions
        assert revisions[0].clauses.count() == SMALL.points  # later texts drop and add some
        points = plan.points.count()
        assert points >= SMALL.points
        # every party on every point, `stances` times; and one statement on each text as a whole
        on_points = Counter(plan.stances.filter(point__isnull=False).values_list("point_id", "party_id"))
        assert len(on_points) == points * 4 and set(on_points.values()) == {SMALL.stances}
        assert plan.stances.filter(point__isnull=True).count() == SMALL.revisions
    assert Event.objects.filter(plan__in=plans).count() == SMALL.events
    assert summary.counts["events"] == SMALL.events
    assert summary.counts["clauses"] == Clause.objects.filter(revision__plan__in=plans).count()
    assert summary.counts["stances"] == Stance.objects.filter(plan__in=plans).count()
    assert summary.counts["sources"] == Source.objects.filter(url__startswith=SOURCE_PREFIX).count()
    notes = Annotation.objects.filter(point__plan__in=plans)
    assert summary.counts["published notes"] == notes.filter(status=AnnotationStatus.PUBLISHED).count() > 0
    assert summary.counts["draft notes"] == notes.filter(status=AnnotationStatus.DRAFT).count() > 0
    assert not notes.filter(status=AnnotationStatus.DRAFT, published_at__isnull=False).exists()


def test_the_texts_give_the_diff_work_to_do():
    """Rewordings and cosmetic edits, dropped, added, split and renumbered points, as real drafts have."""
    synthetic_generate(spec=Spec(plans=1, revisions=12, points=80, stances=1, events=10, seed=3))
    plan = generated().get()
    clauses = Clause.objects.filter(revision__plan=plan)
    assert clauses.filter(dropped=True, text="").exists()
    assert plan.points.exclude(key__regex=r"^[0-9]+$").exists()  # points first seen in a later text
    assert plan.points.filter(split_from__isnull=False).exists()
    assert {"Punctuation only.", "Last sentence removed.", "A sentence added."} <= set(
        clauses.values_list("change_note", flat=True)
    )
    assert clauses.filter(change_note__startswith="Figure changed from", material_change=True).exists()
    texts = {}
    for point_id, text in clauses.filter(dropped=False).values_list("point_id", "text"):
        texts.setdefault(point_id, set()).add(text)
    assert sum(len(t) > 1 for t in texts.values()) > len(texts) / 3
    numbers = {}
    for point_id, number in clauses.values_list("point_id", "number"):
        numbers.setdefault(point_id, set()).add(number)
    assert any(len(n) > 1 for n in numbers.values())  # renumbered
    lengths = sorted(len(t) for t in clauses.filter(dropped=False).values_list("text", flat=True))
    assert 80 < lengths[len(lengths) // 2] < 400  # clause-sized paraphrases


def test_the_same_seed_gives_the_same_content_and_another_seed_other_content():
    first = synthetic_generate(spec=SMALL).digest
    texts = list(Clause.objects.filter(revision__plan__in=generated()).order_by("pk").values_list("text", flat=True))
    again = synthetic_generate(spec=SMALL, replace=True).digest
    assert again == first == content_digest()
    new_texts = Clause.objects.filter(revision__plan__in=generated()).order_by("pk").values_list("text", flat=True)
    assert list(new_texts) == texts
    other = synthetic_generate(spec=Spec(**{**SMALL.__dict__, "seed": 12}), replace=True).digest
    assert other != first


def test_a_rerun_is_refused_without_replace_and_nothing_changes():
    synthetic_generate(spec=SMALL)
    digest = content_digest()
    with pytest.raises(CommandError, match="already exist.*--replace.*Nothing was written"):
        call_command("generate_synthetic", "--plans", "1", stdout=io.StringIO())
    assert content_digest() == digest and generated().count() == 2


def test_replace_rebuilds_the_synthetic_plans_and_only_them():
    before = demo_state()
    synthetic_generate(spec=SMALL)
    out = io.StringIO()
    call_command(
        "generate_synthetic", "--plans=1", "--revisions=3", "--points=5", "--events=3", "--replace", stdout=out
    )
    assert list(generated().values_list("slug", flat=True)) == ["synthetic-01"]
    assert Source.objects.filter(url__startswith=f"{SOURCE_PREFIX}synthetic-02/").count() == 0
    assert Revision.history.filter(plan__slug="synthetic-02").count() == 0
    assert "Deleted the 2 synthetic plan(s)" in out.getvalue()
    assert demo_state() == before


def test_delete_leaves_no_row_history_or_index_entry_behind():
    plans, sources, history = Plan.objects.count(), Source.objects.count(), Clause.history.count()
    index = search.reindex()
    synthetic_generate(spec=SMALL)
    assert synthetic_delete() == 2
    assert (Plan.objects.count(), Source.objects.count(), Clause.history.count()) == (plans, sources, history)
    assert not Stance.objects.filter(source__url__startswith=SOURCE_PREFIX).exists()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE}")  # noqa: S608 (a constant)
            assert cursor.fetchone()[0] == index


def test_history_rows_are_written_as_if_editors_had_entered_the_data():
    synthetic_generate(spec=SMALL)
    plan = generated().first()
    clauses = Clause.objects.filter(revision__plan=plan)
    history = Clause.history.filter(revision__plan=plan)
    assert history.count() == clauses.count()
    record = history.get(id=clauses.first().pk)
    assert record.history_type == "+" and record.text == clauses.first().text
    assert Stance.history.filter(plan=plan).count() == plan.stances.count()


def test_search_finds_the_synthetic_text(client):
    synthetic_generate(spec=SMALL)
    plan = generated().get(slug="synthetic-02")
    clause = Clause.objects.filter(revision__plan=plan, dropped=False, text__contains="Zaporizhzhia").first()
    assert clause is not None
    words = " ".join(clause.text.split()[:6])
    results = search.search(f'"{words}"', plan=plan)
    assert clause.pk in [hit.obj.pk for group in results.groups if group.kind == "clause" for hit in group.hits]
    response = client.get("/search/", {"q": "Zaporizhzhia", "plan": plan.slug})
    assert response.status_code == 200
    assert f"/plans/{plan.slug}/points/" in response.content.decode()


def test_the_command_prints_counts_time_and_digest():
    out = io.StringIO()
    call_command("generate_synthetic", "--plans=1", "--revisions=2", "--points=3", "--events=4", "--seed=5", stdout=out)
    text = out.getvalue()
    assert "Generated in " in text and " s: 1 plans, 2 revisions" in text and "4 events" in text
    assert f"content digest {content_digest()}" in text and "Seed 5" in text


@pytest.mark.parametrize(
    "args,message",
    [
        (["--plans=0"], "--plans must be a whole number from 1"),
        (["--plans=-3"], "--plans must be a whole number from 1"),
        (["--revisions=0"], "--revisions must be"),
        (["--points=-1"], "--points must be"),
        (["--points=999999999"], "--points must be"),
        (["--stances=0"], "--stances must be"),
        (["--stances=10000"], "--stances must be"),
        (["--events=0"], "--events must be"),
        (["--events=10000000000000000000000"], "--events must be"),
        (["--seed=-1"], "--seed must be"),
        (["--plans=99", "--revisions=200", "--points=2000"], "clauses; at most"),
        (["--plans=99", "--points=2000", "--stances=20", "--revisions=1"], "stances; at most"),
    ],
)
def test_hostile_options_are_refused_with_a_clear_error_and_nothing_written(args, message):
    before = (Plan.objects.count(), Source.objects.count(), Stance.objects.count(), demo_state())
    with pytest.raises(CommandError, match=message) as refused:
        call_command("generate_synthetic", *args, stdout=io.StringIO())
    assert "Nothing was written." in str(refused.value)
    assert (Plan.objects.count(), Source.objects.count(), Stance.objects.count(), demo_state()) == before


def test_options_that_are_not_numbers_are_refused_by_the_parser():
    with pytest.raises(CommandError, match="invalid int value"):
        call_command("generate_synthetic", "--plans=many", stdout=io.StringIO())


def test_the_service_refuses_what_is_not_a_whole_number():
    for spec in (Spec(plans=True), Spec(points=2.5), Spec(seed="1")):
        with pytest.raises(SyntheticProblem):
            synthetic_generate(spec=spec)
    assert not generated().exists()
