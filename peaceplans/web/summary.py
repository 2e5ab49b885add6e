"""
"What is new", the paragraph at the top of a plan's overview: built from the data on every
render, so it is never older than the page. One query beyond what the overview already reads
(the newest text comes from the time strip's list), whatever the size of the plan.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, IntegerField, OuterRef, Subquery

from peaceplans.models import Plan, Revision, Stance

LATEST_STANCES = 3  # at most this many statements are named, all from the newest day

# How the paragraph tells a position, in the past tense of a news sentence.
POSITION_VERBS: dict[str, str] = {
    Stance.Position.SUPPORTS: "backed",
    Stance.Position.OPPOSES: "rejected",
    Stance.Position.CONDITIONAL: "set conditions on",
    Stance.Position.PROPOSES_AMENDMENT: "proposed changes to",
    Stance.Position.UNCLEAR: "was unclear on",
}


@dataclass
class WhatIsNew:
    """The newest text, how much the parties said after it, and what they said on the newest day."""

    newest: Revision | None
    stances_since: int = 0  # statements recorded after the newest text's date
    points_since: int = 0  # the points they concern
    latest_day: date | None = None
    latest: list[Stance] = field(default_factory=list)  # the newest day's statements on points

    def verbs(self) -> list[tuple[Stance, str]]:
        return [(stance, POSITION_VERBS.get(stance.position, stance.get_position_display())) for stance in self.latest]


def _count_since(stances, day: date, what: Count) -> Subquery:
    """A scalar subquery counting `what` over the plan's public stances on points stated after `day`."""
    counted = (
        stances.on_points()
        .filter(plan=OuterRef("plan"), stated_on__gt=day)
        .order_by()
        .values("plan")
        .annotate(n=what)
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def what_is_new(plan: Plan, revisions: list[Revision]) -> WhatIsNew:
    """
    `revisions`: the plan's public ones in date order, as the time strip holds them. The newest
    day's statements and the counts since the newest text come back in one query: the counts ride
    on each row as scalar subqueries.
    """
    news = WhatIsNew(newest=revisions[-1] if revisions else None)
    stances = Stance.objects.public()
    latest = (
        stances.filter(plan=plan).on_points().select_related("party", "point", "revision").order_by("-stated_on", "-pk")
    )
    if news.newest is not None:
        day = news.newest.published_on
        latest = latest.annotate(
            since=_count_since(stances, day, Count("pk")),
            since_points=_count_since(stances, day, Count("point", distinct=True)),
        )
    rows = list(latest[:LATEST_STANCES])
    if rows:
        news.latest_day = rows[0].stated_on
        news.latest = [stance for stance in rows if stance.stated_on == news.latest_day]
        news.stances_since = getattr(rows[0], "since", None) or 0
        news.points_since = getattr(rows[0], "since_points", None) or 0
    return news
