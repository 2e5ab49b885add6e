"""
The public change log: recent edits from the models' history, without editors' names
(their safety matters more than the reader's curiosity), without draft notes and without
unpublished revisions (their wording, the stances answering them, or what they were called
while unpublished).
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from peaceplans.models import Annotation, AnnotationStatus, Clause, Plan, Point, Revision, Stance

ACTIONS = {"+": "added", "~": "changed", "-": "removed"}


@dataclass
class Entry:
    """One edit as a reader sees it."""

    when: datetime
    action: str
    what: str
    url: str


def recent_changes(plan: Plan, limit: int = 50) -> list[Entry]:
    """The newest `limit` edits across the plan's revisions, points, clauses, stances and notes: five queries."""
    slug = plan.slug
    points = dict(plan.points.public().values_list("pk", "key"))
    revisions = dict(plan.revisions.public().values_list("pk", "slug"))
    unpublished = plan.revisions.filter(public=False).values("pk")  # a subquery of the queries below

    def point_url(point_id):
        key = points.get(point_id)
        return reverse("point_detail", args=[slug, key]) if key else reverse("plan_detail", args=[slug])

    entries = []
    shown = Revision.history.filter(plan_id=plan.pk, public=True).exclude(id__in=unpublished)
    for r in shown.order_by("-history_date")[:limit]:
        url = (
            reverse("revision_detail", args=[slug, r.slug])
            if r.history_type != "-"
            else reverse("plan_detail", args=[slug])
        )
        entries.append(Entry(r.history_date, ACTIONS[r.history_type], f"text “{r.title}”", url))
    shown_points = Point.history.filter(plan_id=plan.pk).exclude(id__in=plan.points.unpublished().values("pk"))
    for p in shown_points.order_by("-history_date")[:limit]:
        entries.append(Entry(p.history_date, ACTIONS[p.history_type], f"point {p.key}: {p.title}", point_url(p.id)))
    for c in Clause.history.filter(revision_id__in=list(revisions)).order_by("-history_date")[:limit]:
        what = f"wording of point {points.get(c.point_id, '?')} in “{revisions.get(c.revision_id, '?')}”"
        entries.append(Entry(c.history_date, ACTIONS[c.history_type], what, point_url(c.point_id)))
    hidden_points = plan.points.unpublished().values("pk")
    stances = Stance.history.filter(plan_id=plan.pk).exclude(revision_id__in=unpublished)
    stances = stances.exclude(point_id__in=hidden_points)
    for s in stances.select_related("party").order_by("-history_date")[:limit]:
        target = f"point {points[s.point_id]}" if s.point_id in points else "a whole text"
        entries.append(
            Entry(
                s.history_date, ACTIONS[s.history_type], f"{s.party.name}'s stance on {target}", point_url(s.point_id)
            )
        )
    notes = Annotation.history.filter(point_id__in=list(points), status=AnnotationStatus.PUBLISHED)
    for n in notes.order_by("-history_date")[:limit]:
        entries.append(
            Entry(n.history_date, ACTIONS[n.history_type], f"note on point {points[n.point_id]}", point_url(n.point_id))
        )
    return sorted(entries, key=lambda e: e.when, reverse=True)[:limit]
