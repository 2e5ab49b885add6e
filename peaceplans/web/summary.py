"""
The top of a plan's overview: "What is new", a paragraph built from the data on every render, so
it is never older than the page, and the plan's texts as the time strip and the legend show them.
Two queries beyond what the overview already reads (the texts come from its list of revisions,
read with their authors' ids by RevisionQuerySet.for_strip), whatever the size of the plan.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from django.db.models import Count
from django.urls import reverse

from peaceplans.models import Party, Plan, Revision, Stance
from peaceplans.models.choices import POSITION_LABELS
from peaceplans.web.tables import point_path, short_date

LATEST_STANCES = 3  # at most this many statements are named, all from the newest day

# How the paragraph tells a position, in the past tense of a news sentence.
POSITION_VERBS: dict[str, str] = {
    Stance.Position.SUPPORTS: "backed",
    Stance.Position.OPPOSES: "rejected",
    Stance.Position.CONDITIONAL: "set conditions on",
    Stance.Position.PROPOSES_AMENDMENT: "proposed changes to",
    Stance.Position.UNCLEAR: "was unclear on",
}


class Text(NamedTuple):
    """
    One of the plan's public texts as the overview's top prints it, worked out once per render
    (no URL reversed, no display lookup, no date formatted per use): a card of the time strip,
    a line of the legend, the newest text of "What is new".
    """

    slug: str
    title: str
    short_label: str  # as the editor gave it ("" when none): the card's heading, else the whole title
    label: str  # Revision.label: the short label, or one derived from the title
    url: str
    iso: str
    day: str
    status: str
    authors: str  # "United States and Ukraine", in the parties' order


class Statement(NamedTuple):
    """One statement of the newest day, as "What is new" names it."""

    pk: int
    party: str  # the party's name
    verb: str  # "backed", "rejected"…
    url: str  # the statement on its point's page
    text: str  # the label of the text it answers ("" when none is recorded)
    number: str  # the point's number as readers see it
    title: str  # the point's title


@dataclass
class WhatIsNew:
    """The newest text, how much the parties said after it, and what they said on the newest day."""

    newest: Text | None
    stances_since: int = 0  # statements recorded after the newest text's date
    points_since: int = 0  # the points they concern
    latest_day: date | None = None
    latest: list[Statement] = field(default_factory=list)  # the newest day's statements on points


def texts_of(plan: Plan, revisions: list[Revision], parties: list[Party]) -> list[Text]:
    """
    `revisions`: the plan's public ones in date order, read with `author_ids`
    (RevisionQuerySet.for_strip); `parties`: every party, in their order (Party.objects.all()).
    """
    path = reverse("revision_detail", args=[plan.slug, "0"]).removesuffix("0/")
    order = {str(party.pk): (n, party.name) for n, party in enumerate(parties)}
    texts = []
    for revision in revisions:
        ids = getattr(revision, "author_ids", None) or ""
        authors = sorted(order[pk] for pk in ids.split(",") if pk in order)
        texts.append(
            Text(
                slug=revision.slug,
                title=revision.title,
                short_label=revision.short_label,
                label=revision.label,
                url=f"{path}{revision.slug}/",
                iso=revision.published_on.isoformat(),
                day=short_date(revision.published_on),
                status=revision.get_status_display(),
                authors=" and ".join(name for _, name in authors),
            )
        )
    return texts


def what_is_new(plan: Plan, texts: list[Text], revisions: list[Revision], parties: list[Party]) -> WhatIsNew:
    """
    `texts` as texts_of() gives them, from `revisions` (the plan's public ones in date order) and
    `parties` (every party). Two queries, each a few values per row and no model object: the
    newest statements, and the counts since the newest text (one query counting both).
    """
    news = WhatIsNew(newest=texts[-1] if texts else None)
    stances = Stance.objects.filter(plan=plan).public().on_points()
    fields = ("pk", "position", "stated_on", "party_id", "point__key", "point__label", "point__title", "revision_id")
    rows = list(stances.order_by("-stated_on", "-pk").values_list(*fields)[:LATEST_STANCES])
    if not rows:
        return news
    if revisions:
        since = stances.filter(stated_on__gt=revisions[-1].published_on).order_by()
        counts = since.aggregate(stances=Count("pk"), points=Count("point", distinct=True))
        news.stances_since, news.points_since = counts["stances"], counts["points"]
    names = {party.pk: party.name for party in parties}
    labels = {revision.pk: revision.label for revision in revisions}
    path = point_path(plan)
    news.latest_day = rows[0][2]
    news.latest = [
        Statement(
            pk=pk,
            party=names.get(party, ""),
            verb=POSITION_VERBS.get(position) or POSITION_LABELS.get(position, position),
            url=f"{path}{key}/#stance-{pk}",
            text=labels.get(revision, ""),
            number=label or key,
            title=title,
        )
        for pk, position, day, party, key, label, title, revision in rows
        if day == news.latest_day
    ]
    return news
