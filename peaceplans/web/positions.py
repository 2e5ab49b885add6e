"""
The party page's table read as plain values: one tuple per point and per latest stance, and the
sources its citation lists built once each. selectors.party_positions gives the same rows as model
instances (a stance, its revision and its source per point), which its CSV wants; on a generated
plan of 150 points those instances were half of the page's time.
"""

from datetime import date
from typing import NamedTuple

from peaceplans.models import Party, Plan, Source, Stance
from peaceplans.models.choices import POSITION_LABELS, derive_short_label
from peaceplans.web.tables import NO_TEXT_LABEL, POSITION_ICONS, point_path, short_date

SOURCE_FIELDS = ("pk", "url", "outlet", "title", "published_on", "kind", "via", "citable")
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
    on: str  # the short label of the text it answers
    source: Source | None

    def get_position_display(self) -> str:
        return POSITION_LABELS.get(self.position, self.position)


class PartyLine(NamedTuple):
    """One row of the party page's table, what it prints worked out once: no URL reversed, no lookup in the template."""

    key: str
    title: str
    url: str
    stance: PartyStance | None = None
    icon: str = ""
    label: str = ""
    day: str = ""
    stance_url: str = ""
    on: str = ""


def latest_stances(plan: Plan, party: Party) -> dict[int, PartyStance]:
    """{point id: the party's latest public stance on it}: one query, its text's label and source joined."""
    sources: dict[int, Source] = {}
    latest = {}
    stances = Stance.objects.filter(plan=plan, party=party).public().latest_per_pair()
    for row in stances.values_list(*FIELDS):
        pk, point_id, position, stated_on, summary, revision_id, short_label, title = row[:8]
        source_values = row[8:]
        source = None
        if source_values[0] is not None:
            source = sources.get(source_values[0])
            if source is None:
                source = sources[source_values[0]] = Source(**dict(zip(SOURCE_FIELDS, source_values, strict=True)))
        on = (short_label or derive_short_label(title)) if revision_id else NO_TEXT_LABEL
        latest[point_id] = PartyStance(pk, point_id, position, stated_on, summary, revision_id, on, source)
    return latest


def party_table(plan: Plan, party: Party) -> tuple[list[PartyLine], list[tuple[None, PartyStance | None]]]:
    """
    The party page's rows, every public point in plan order (two queries): its lines, and the
    (point, latest stance or None) pairs sharing.for_party counts and cites (the point unread: None).
    """
    latest = latest_stances(plan, party)
    path = point_path(plan)
    lines, pairs = [], []
    for pk, key, title in plan.points.public().in_order().values_list("pk", "key", "title"):
        stance = latest.get(pk)
        pairs.append((None, stance))
        url = f"{path}{key}/"
        if stance is None:
            lines.append(PartyLine(key, title, url))
            continue
        icon, label = POSITION_ICONS.get(stance.position, ""), stance.get_position_display()
        day, stance_url = short_date(stance.stated_on), f"{url}#stance-{stance.pk}"
        lines.append(PartyLine(key, title, url, stance, icon, label, day, stance_url, stance.on))
    return lines, pairs
