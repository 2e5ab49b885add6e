"""
Table declarations: the view builds the table and calls RequestConfig.

django-tables2 sorts, paginates and renders the header; the body is rendered by `body()`
through markup.py, a few string joins per row, rather than cell by cell (for each cell,
django-tables2 resolves the accessor, builds the attributes, and inspects the signature of
the render method: most of the overview's time).
"""

from datetime import date
from functools import lru_cache

import django_tables2 as tables
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.translation import get_language

from . import markup
from .models import LatestStance, Party, Plan, Position, Stance

# A text symbol beside every word, so position never depends on colour alone.
POSITION_ICONS = {
    Position.SUPPORTS: "✓",
    Position.OPPOSES: "✗",
    Position.CONDITIONAL: "◐",
    Position.PROPOSES_AMENDMENT: "✎",
    Position.UNCLEAR: "?",
}
# Sort order of a party column: agreement first, no recorded stance last.
POSITION_RANK = {
    p: rank for rank, p in enumerate(["supports", "conditional", "proposes-amendment", "unclear", "opposes"])
}
NO_STANCE_RANK = len(POSITION_RANK)


def short_date(day: date) -> str:
    """'20 Nov 2025', as {{ day|date:"j M Y" }} writes it, worked out once per day and language (35 µs each)."""
    return _short_date(day, get_language())


@lru_cache(maxsize=8192)
def _short_date(day: date, language: str) -> str:
    return format_date(day, "j M Y")


def row_id(record: dict) -> str:
    return f"point-{record['key']}"


class RecordColumn(tables.Column):
    """A value of the row's dict, by the column's name; `cell` is what the table's body prints."""

    def cell(self, record: dict, name: str):
        return record[name]


class PointColumn(RecordColumn):
    """The point's title, linked to its page."""

    def __init__(self, **kwargs):
        super().__init__(linkify=lambda record: record["url"], **kwargs)

    def cell(self, record: dict, name: str):
        return markup.link(record["url"], record["title"])


class StanceColumn(RecordColumn):
    """One party's latest position on the row's point: icon and word, linked to the evidence."""

    empty_values = ()

    def __init__(self, party: Party, **kwargs):
        self.party = party
        super().__init__(
            verbose_name=party.short_name,
            accessor=f"stances__{party.slug}",
            order_by=(f"ranks__{party.slug}", "sort_order"),
            attrs={"th": {"scope": "col", "class": f"party party--{party.slug}"}, "td": {"class": "cell-stance"}},
            **kwargs,
        )

    def render(self, value: LatestStance | Stance | None, record: dict):
        return self.cell(record, self.party.slug)

    def cell(self, record: dict, name: str):
        stance = record["stances"][self.party.slug]
        if stance is None:
            return markup.NO_STANCE
        return markup.stance_link(
            position=stance.position,
            word=Position(stance.position).label,
            icon=POSITION_ICONS[stance.position],
            href=f"{record['url']}#stance-{stance.pk}",
            iso_date=stance.stated_on.isoformat(),
            date=short_date(stance.stated_on),
            speaker=stance.speaker,
        )


class StanceMatrixTable(tables.Table):
    """Points as rows, parties as columns; each cell the party's latest position."""

    key = RecordColumn(verbose_name="No.", order_by=("sort_order",), attrs={"th": {"scope": "col"}})
    title = PointColumn(verbose_name="Point", attrs={"th": {"scope": "col"}, "td": {"class": "cell-title"}})
    topic = RecordColumn(
        verbose_name="Topic", attrs={"th": {"scope": "col", "class": "col-topic"}, "td": {"class": "cell-topic"}}
    )

    class Meta:
        template_name = "peaceplans/components/table.html"
        attrs = {"class": "matrix"}
        row_attrs = {"id": lambda record: row_id(record)}  # /plans/<plan>/#point-6 lands on the row
        empty_text = "No points match."

    def __init__(self, data, *, plan: Plan, parties: list[Party], **kwargs):
        extra = [(party.slug, StanceColumn(party)) for party in parties]
        super().__init__(data, extra_columns=extra, **kwargs)
        self.plan = plan
        self.caption = f"Where each party stands on each point of {plan.title}"

    def body(self) -> list:
        """
        The rows of the current page (every row without pagination) as HTML, in the order
        RequestConfig sorted them: the same cells the columns declare, each column's
        attributes worked out once rather than for every cell.
        """
        columns = [(bound.attrs["td"], bound.column, bound.name) for bound in self.columns]
        rows = self.page.object_list if self.page else self.rows
        return [
            markup.table_row(
                {"id": row_id(row.record)},  # no even/odd class: no style uses it
                [(td, column.cell(row.record, name)) for td, column, name in columns],
            )
            for row in rows
        ]


def matrix_rows(plan: Plan, parties: list[Party], points=None, *, keep=None, with_sources=False) -> list[dict]:
    """
    One dict per point, with the latest stance of each party: two queries whatever the data
    size. The page gets each stance as the LatestStance its cell shows; `with_sources`, for
    the CSV, gets whole stances with their sources. `points` is a Point queryset, already
    narrowed in the database (topic, text); `keep` decides on each row's latest stances
    (party, position), which only Python has.
    """
    stances = Stance.objects.filter(plan=plan)
    latest = stances.select_related("source").latest_per_point() if with_sources else stances.latest_cells()
    # Keys are letters, digits and hyphens (models.key_validator): the path is the same for each
    # but the key, so it is reversed once.
    point_path = reverse("point_detail", args=[plan.slug, "0"]).removesuffix("0/")
    rows = []
    for point in plan.points.for_matrix() if points is None else points:
        stances = {party.slug: latest.get((point.pk, party.pk)) for party in parties}
        if keep is not None and not keep(stances):
            continue
        rows.append(
            {
                "key": point.key,
                "sort_order": point.sort_order,
                "title": point.title,
                "topic": point.topic.name,
                "url": f"{point_path}{point.key}/",
                "stances": stances,
                "ranks": {slug: POSITION_RANK[s.position] if s else NO_STANCE_RANK for slug, s in stances.items()},
            }
        )
    return rows
