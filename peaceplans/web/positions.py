"""
The party page's table read as plain values: one tuple per point and per latest stance, and the
sources its citation lists built once each. selectors.party_positions gives the same rows as model
instances (a stance, its revision and its source per point), which its CSV wants; on a generated
plan of 150 points those instances were half of the page's time.
"""

from datetime import date
from typing import NamedTuple

from django.utils.text import Truncator

from peaceplans.models import Party, Plan, Source, Stance
from peaceplans.models.choices import POSITION_LABELS, derive_short_label
from peaceplans.web.tables import NO_TEXT_LABEL, POSITION_ICONS, point_path, short_date

SUMMARY_WORDS = 24  # a statement's summary in the table: its first words, "…" after them
SOURCE_FIELDS = ("pk", "url", "outlet", "title", "published_on", "kind", "via", "citable")
SOURCE_COLUMNS = ["id", *SOURCE_FIELDS[1:]]  # as Source.from_db names them
STANCE_FIELDS = ("pk", "point_id", "position", "stated_on", "summary", "revision_id")
FIELDS = [
    *STANCE_FIELDS,
    *("revision__short_label", "revision__title"),
    *(f"source__{name}" for name in SOURCE_FIELDS),
]


class PartyStance(NamedTuple):
    """A party's latest stance on a point, as the party page shows it and sharing.for_party counts it."""

    pk: int
    point_id: int
    position: str
    stated_on: date
    summary: str
    revision_id: int | None
    revision_label: str  # the text it answers: its short label, or "" to derive from its title
    revision_title: str
    source: Source | None

    def get_position_display(self) -> str:
        return POSITION_LABELS.get(self.position, self.position)

    @property
    def on(self) -> str:
        """The short label of the text it answers."""
        if not self.revision_id:
            return NO_TEXT_LABEL
        return self.revision_label or derive_short_label(self.revision_title)


def latest_stances(plan: Plan, party: Party) -> dict[int, PartyStance]:
    """
    {point id: the party's latest public stance on it}: one query, its text's label and source
    joined to those stances only (the database picks them first: a third quicker than joining
    every stance the party ever took and ranking them after).
    """
    latest = Stance.objects.filter(plan=plan, party=party).public().latest_per_pair().values("pk")
    sources: dict[int, Source] = {}
    stances = {}
    rows = Stance.objects.filter(pk__in=latest).values_list(*FIELDS)
    for row in rows:
        source = None
        if (source_id := row[8]) is not None:
            source = sources.get(source_id)
            if source is None:
                source = sources[source_id] = Source.from_db(rows.db, SOURCE_COLUMNS, row[8:])
        pk, point_id, position, stated_on, summary, revision_id, label, title = row[:8]
        stances[point_id] = PartyStance(pk, point_id, position, stated_on, summary, revision_id, label, title, source)
    return stances


class PartyTable(NamedTuple):
    """Every public point of the plan in order, with the party's latest stance on it or None."""

    rows: list[tuple[str, str, PartyStance | None]]  # key, title, stance
    path: str  # where the points' addresses start (tables.point_path)

    def pairs(self) -> list[tuple[None, PartyStance | None]]:
        """(point, stance) as sharing.for_party counts and cites them (the point unread: None)."""
        return [(None, stance) for _, _, stance in self.rows]

    def lines(self, rows) -> list[dict[str, str]]:
        """
        The lines of some of the rows (those a part of the page shows), what each prints worked out
        once: no URL reversed, no filter in the template. Dicts, as the matrix's rows: a template
        reads a dict's key at once, where an object's attribute costs it a failed item lookup first.
        """
        lines = []
        for key, title, stance in rows:
            url = f"{self.path}{key}/"
            line = {"key": key, "title": title, "url": url, "position": ""}
            if stance is not None:
                line["position"] = stance.position
                line["icon"], line["label"] = POSITION_ICONS.get(stance.position, ""), stance.get_position_display()
                line["day"], line["stance_url"] = short_date(stance.stated_on), f"{url}#stance-{stance.pk}"
                line["on"], line["summary"] = stance.on, Truncator(stance.summary).words(SUMMARY_WORDS, truncate=" …")
            lines.append(line)
        return lines


def party_table(plan: Plan, party: Party) -> PartyTable:
    """The party page's table: two queries, whatever the number of points and stances."""
    latest = latest_stances(plan, party)
    points = plan.points.public().in_order().values_list("pk", "key", "title")
    return PartyTable([(key, title, latest.get(pk)) for pk, key, title in points], point_path(plan))
