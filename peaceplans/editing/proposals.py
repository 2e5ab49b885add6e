"""
The paste page's proposals for a plan: its points read from the database as alignment
candidates, and the proposals for pasted clauses. The paste page (forms.ConfirmForm) and
`manage.py propose_alignment` both come here, so they propose the same.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from peaceplans.editing import alignment
from peaceplans.editing.paste import PastedClause
from peaceplans.models import Clause, Plan, Point, Stance
from peaceplans.search import aliases


@dataclass(frozen=True)
class PlanPoints:
    """A plan's points in plan order, and each as a candidate for the alignment."""

    points: list[Point]
    candidates: list[alignment.Candidate]


def plan_points(plan: Plan) -> PlanPoints:
    """
    The plan's points with their wordings in every text (dropped ones left out), the numbers
    they were printed with, their topic, the point each is a sub-point of (a split's parent,
    or 21 for 21d), and what was said of each: the summary and quote of every published stance
    on it, one text per stance. Three queries.
    """
    points = list(plan.points.in_order().select_related("topic"))
    key_of = {p.pk: p.key for p in points}
    wordings: dict[int, list[str]] = {p.pk: [] for p in points}
    numbers: dict[int, set[str]] = {p.pk: {p.key} for p in points}
    rows = Clause.objects.filter(revision__plan=plan).values_list("point_id", "text", "number", "dropped")
    for point_id, text, number, dropped in rows.order_by("-revision__published_on", "-revision_id"):
        if point_id in wordings:
            if not dropped and text:
                wordings[point_id].append(text)
            if number:
                numbers[point_id].add(number.lower())
    said: dict[int, set[str]] = {p.pk: set() for p in points}
    stances = Stance.objects.public().filter(plan=plan, point__isnull=False).values_list("point_id", "summary", "quote")
    for point_id, summary, quote in stances.order_by():
        if point_id in said:
            said[point_id].add(" ".join(text for text in (summary, quote) if text))
    keys = set(key_of.values())
    candidates = []
    for p in points:
        parent = key_of.get(p.split_from_id) if p.split_from_id else alignment.parent_key(p.key)
        candidates.append(
            alignment.Candidate(
                key=p.key,
                title=p.title,
                topic=p.topic.name,
                wordings=tuple(wordings[p.pk]),
                numbers=tuple(sorted(numbers[p.pk])),
                parent=parent if parent in keys else None,
                said=tuple(sorted(said[p.pk])),
            )
        )
    return PlanPoints(points, candidates)


def propose(plan_points: PlanPoints, clauses: Sequence[PastedClause]) -> list[list[alignment.Choice]]:
    """Each clause's proposals (up to three, best first) against the plan's points, with the aliases in force."""
    return alignment.propose([(c.number, c.text) for c in clauses], plan_points.candidates, aliases.table())
