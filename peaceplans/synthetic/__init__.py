"""
A large synthetic dataset, for measuring the site at scale (`manage.py generate_synthetic`).

Plans named synthetic-01, synthetic-02, ... each with revisions whose wording drifts from one
text to the next (reworded, figures changed, cosmetic edits, points dropped and added, texts
renumbered), several stances of each party on every point, events, sources and editors' notes,
published and draft. The same parameters and seed always give the same content, row for row;
only primary keys and timestamps differ (`content_digest` proves it).

Rows are written with bulk_create in one transaction, with their history rows, as if editors had
entered them. Bulk writes send no signals, so the search index is rebuilt before the transaction
ends, as services.revisions_import does, and the word diffs of every point are stored at its end
(editing/diffs.py: the clauses' bulk_create names their points). The data version
(ops/dataversion.py) moves with any write statement, bulk or not, so cached pages never outlive
the run. The demo plan, and anything else this package did not make, is never touched: synthetic
plans are recognised by their slug, synthetic sources by their address.

builder.py writes one plan's rows; words.py holds the sentences they are made of.
"""

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from peaceplans import search
from peaceplans.editing.diffs import diffs_batched
from peaceplans.editing.jsonfile import read_json_file
from peaceplans.editing.services import DEMO_DIR
from peaceplans.models import Annotation, Clause, Event, Party, Plan, Point, Revision, Source, Stance, Topic
from peaceplans.ops import dataversion
from peaceplans.synthetic.builder import PLAN_PREFIX, SOURCE_PREFIX, PlanBuilder


class SyntheticProblem(Exception):
    """Parameters the generator refuses, or synthetic plans already present without `replace`."""


@dataclass(frozen=True)
class Spec:
    """What to generate. `stances` is per party and point; `events` is the total over all plans."""

    plans: int = 20
    revisions: int = 30
    points: int = 120
    stances: int = 3
    events: int = 3000
    seed: int = 2025


# Inclusive bounds per parameter, and on the two largest tables, so that no combination of
# options asks for an unbounded amount of work.
LIMITS = {
    "plans": (1, 99),
    "revisions": (1, 200),
    "points": (1, 2000),
    "stances": (1, 20),
    "events": (1, 200_000),
    "seed": (0, 2**32 - 1),
}
MAX_CLAUSES = 1_000_000
MAX_STANCES = 1_000_000


def check(spec: Spec) -> None:
    """Raise SyntheticProblem, naming the option, for any value out of bounds."""
    for name, (low, high) in LIMITS.items():
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SyntheticProblem(f"--{name} must be a whole number from {low:,} to {high:,} (got {value!r}).")
    clauses = spec.plans * spec.revisions * spec.points
    if clauses > MAX_CLAUSES:
        raise SyntheticProblem(
            f"--plans × --revisions × --points asks for {clauses:,} clauses; at most {MAX_CLAUSES:,} are generated."
        )
    stances = spec.plans * spec.points * 4 * spec.stances
    if stances > MAX_STANCES:
        raise SyntheticProblem(
            f"--plans × --points × 4 parties × --stances asks for {stances:,} stances; at most {MAX_STANCES:,}."
        )


@dataclass
class Summary:
    """What one run wrote, for the command's report."""

    counts: dict[str, int] = field(default_factory=dict)
    replaced: int = 0
    seconds: float = 0.0
    digest: str = ""


def synthetic_plans():
    return Plan.objects.filter(slug__startswith=PLAN_PREFIX)


def synthetic_generate(*, spec: Spec, replace: bool = False) -> Summary:
    """
    Write the dataset `spec` describes, all or nothing. Refuses (SyntheticProblem) when synthetic
    plans exist, unless `replace`, which deletes them first in the same transaction.
    """
    check(spec)
    started = time.perf_counter()
    summary = Summary()
    with transaction.atomic(), diffs_batched() as diffs:  # the word diffs of every point written, stored at the end
        dataversion.bump()  # bulk_create and raw deletes below: the version moves with them
        existing = list(synthetic_plans().order_by("slug").values_list("slug", flat=True))
        if existing and not replace:
            raise SyntheticProblem(
                f"{len(existing)} synthetic plan(s) already exist ({existing[0]} …); "
                "run again with --replace to rebuild them."
            )
        summary.replaced = synthetic_delete(reindex=False) if existing else 0  # reindexed below
        rng = random.Random(spec.seed)  # noqa: S311 (test data, not secrets: reproducible on purpose)
        parties, topics = _parties(), _topics()
        for index in range(spec.plans):
            events = spec.events // spec.plans + (1 if index < spec.events % spec.plans else 0)
            counts = PlanBuilder(rng, spec, index, parties, topics, events).build()
            for name, n in counts.items():
                summary.counts[name] = summary.counts.get(name, 0) + n
        summary.counts["search index rows"] = search.reindex()
        summary.digest = content_digest()
    summary.counts["word diffs computed"] = diffs.computed
    summary.seconds = time.perf_counter() - started
    return summary


def synthetic_delete(*, reindex: bool = True) -> int:
    """
    Delete every synthetic plan with all its rows, history and sources; the number of plans.
    The rows go by raw deletes (QuerySet._raw_delete): a per-object delete would send two
    signals for each of tens of thousands of rows, to record history that is deleted anyway
    and to update a search index that is rewritten at the end.
    """
    with transaction.atomic():  # all or nothing; inside synthetic_generate's own when it replaces
        plan_ids = list(synthetic_plans().values_list("pk", flat=True))
        if not plan_ids:
            return 0
        dataversion.bump()  # raw deletes send no signal
        # Subqueries rather than lists of ids: SQLite allows at most 32,766 parameters in a query.
        plans = Plan.objects.filter(pk__in=plan_ids).values("pk")
        revisions = Revision.objects.filter(plan__in=plans).values("pk")
        points = Point.objects.filter(plan__in=plans).values("pk")
        sources = {"url__startswith": SOURCE_PREFIX}
        # Model classes as Any: simple_history's `history` and each one's `objects` are not on type[Model].
        history: list[tuple[type[Any], dict[str, Any]]] = [  # first: these read the ids from the live rows
            (Annotation, {"point_id__in": points}),
            (Stance, {"plan_id__in": plans}),
            (Event, {"plan_id__in": plans}),
            (Clause, {"revision_id__in": revisions}),
            (Revision, {"plan_id__in": plans}),
            (Point, {"plan_id__in": plans}),
            (Source, sources),
            (Plan, {"id__in": plan_ids}),
        ]
        for model, lookup in history:
            model.history.filter(**lookup).delete()
        rows: list[tuple[type[Any], dict[str, Any]]] = [
            (Annotation, {"point__in": points}),
            (Stance, {"plan__in": plans}),
            (Event.parties.through, {"event__plan__in": plans}),
            (Event, {"plan__in": plans}),
            (Clause.sources.through, {"clause__revision__in": revisions}),
            (Clause, {"revision__in": revisions}),
            (Revision.authors.through, {"revision__in": revisions}),
            (Revision.sources.through, {"revision__in": revisions}),
            (Revision, {"plan__in": plans}),
            (Point, {"plan__in": plans}),
            (Plan, {"pk__in": plan_ids}),
            (Source, sources),
        ]
        for model, lookup in rows:
            queryset = model.objects.filter(**lookup)
            queryset._raw_delete(queryset.db)
        if reindex:  # drops the index rows of everything deleted without a signal
            search.reindex()
        return len(plan_ids)


def content_digest() -> str:
    """
    A hash of the synthetic plans' content by natural keys (slugs, point keys, texts, dates), not
    primary keys or timestamps: two runs with the same spec give the same digest.
    """
    plans = synthetic_plans()
    rows = [
        sorted(Source.objects.filter(url__startswith=SOURCE_PREFIX).values_list(*_SOURCE_FIELDS)),
        sorted(plans.values_list("slug", "title", "summary")),
        sorted(
            (r.plan.slug, r.slug, r.title, r.published_on, r.status, r.summary, r.provenance)
            + tuple(sorted(a.slug for a in r.authors.all()))
            + tuple(sorted(s.url for s in r.sources.all()))
            for r in Revision.objects.filter(plan__in=plans)
            .select_related("plan")
            .prefetch_related("authors", "sources")
        ),
        sorted(
            Point.objects.filter(plan__in=plans).values_list(
                "plan__slug", "key", "title", "topic__slug", "sort_order", "split_from__key"
            ),
            key=repr,
        ),
        sorted(
            Clause.objects.filter(revision__plan__in=plans).values_list(
                "revision__plan__slug",
                "revision__slug",
                "point__key",
                "number",
                "sort_order",
                "text",
                "dropped",
                "change_note",
                "material_change",
            )
        ),
        sorted(
            Clause.sources.through.objects.filter(clause__revision__plan__in=plans).values_list(
                "clause__revision__plan__slug", "clause__revision__slug", "clause__number", "source__url"
            )
        ),
        sorted(
            Stance.objects.filter(plan__in=plans).values_list(
                "plan__slug",
                "party__slug",
                "revision__slug",
                "point__key",
                "position",
                "stated_on",
                "summary",
                "quote",
                "speaker",
                "source__url",
            ),
            key=repr,  # revision or point may be None
        ),
        sorted(
            Event.objects.filter(plan__in=plans).values_list("plan__slug", "date", "title", "summary", "source__url"),
            key=repr,
        ),
        sorted(
            Event.parties.through.objects.filter(event__plan__in=plans).values_list(
                "event__plan__slug", "event__date", "event__title", "party__slug"
            )
        ),
        sorted(
            Annotation.objects.filter(point__plan__in=plans).values_list(
                "point__plan__slug", "point__key", "status", "body", "published_at"
            ),
            key=repr,
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


_SOURCE_FIELDS = ("url", "outlet", "title", "published_on", "kind", "via", "citable", "note")


def _parties() -> list[Party]:
    """The demo's four parties, created from the shipped plan.json where missing (never changed)."""
    meta = read_json_file(DEMO_DIR / "plan.json")
    for order, data in enumerate(meta["parties"]):
        if not Party.objects.filter(slug=data["slug"]).exists():
            Party.objects.create(**data, sort_order=order)
    return list(Party.objects.filter(slug__in=[p["slug"] for p in meta["parties"]]).order_by("sort_order", "slug"))


def _topics() -> dict[str, Topic]:
    meta = read_json_file(DEMO_DIR / "plan.json")
    for order, data in enumerate(meta["topics"]):
        if not Topic.objects.filter(slug=data["slug"]).exists():
            Topic.objects.create(**data, sort_order=order)
    return {t.slug: t for t in Topic.objects.filter(slug__in=[t["slug"] for t in meta["topics"]])}
