"""
Table declarations, and the overview's table as a request asks for it (matrix_table: sorted,
paginated, the parties' latest stances read for the rows shown).

django-tables2 sorts, paginates and renders the header; the body is rendered by `body()`
through web/cells.py, a few string joins per row, rather than cell by cell (for each cell,
django-tables2 resolves the accessor, builds the attributes, and inspects the signature of
the render method: most of the overview's time).
"""

from datetime import date
from functools import lru_cache
from typing import NamedTuple

import django_tables2 as tables
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.translation import get_language
from django_tables2 import RequestConfig

from peaceplans.models import LatestStance, Party, Plan, Position, Stance
from peaceplans.web import cells

# A text symbol beside every word, so position never depends on colour alone.
POSITION_ICONS: dict[str, str] = {
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
    """
    '20 Nov 2025', as {{ day|date:"j M Y" }} writes it in the active language (j, M and Y as
    DateFormat spells them), without building a formatter for each date (35 µs a call).
    """
    return f"{day.day} {month_abbreviations(get_language())[day.month]} {day.year:04d}"


@lru_cache(maxsize=16)
def month_abbreviations(language: str) -> dict[int, str]:
    """{1: 'Jan', ...} in `language` (the active one), as the date filter's M writes them."""
    return {number: str(name).title() for number, name in MONTHS_3.items()}


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
        return cells.link(record["url"], record["title"])


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
            return cells.NO_STANCE
        return cells.stance_link(
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
            cells.table_row(
                {"id": row_id(row.record)},  # no even/odd class: no style uses it
                [(td, column.cell(row.record, name)) for td, column, name in columns],
            )
            for row in rows
        ]


POINT_FIELDS = ("pk", "key", "sort_order", "title", "topic__name")


def point_rows(plan: Plan, points=None) -> list[dict]:
    """
    One dict per point with its own columns, without stances: a tuple each from the database,
    no model object. `points` is a Point queryset, already narrowed in the database (topic,
    text); every point of the plan without it.
    """
    path = point_path(plan)
    points = plan.points.public().for_matrix() if points is None else points
    return [
        {"pk": pk, "key": key, "sort_order": order, "title": title, "topic": topic, "url": f"{path}{key}/"}
        for pk, key, order, title, topic in points.values_list(*POINT_FIELDS)
    ]


def point_path(plan: Plan) -> str:
    """
    The start of the address of the plan's points, the key and a slash to follow: keys are
    letters, digits and hyphens (models.key_validator), so it is reversed once, not per point.
    """
    return reverse("point_detail", args=[plan.slug, "0"]).removesuffix("0/")


class PositionLine(NamedTuple):
    """
    One row of the party page's table, what it prints worked out once per row: no URL
    reversed, no display lookup, no number localized in the template.
    """

    key: str
    title: str
    url: str
    stance: Stance | None = None
    icon: str = ""
    label: str = ""
    day: str = ""
    stance_url: str = ""


def position_lines(plan: Plan, rows: list[tuple]) -> list[PositionLine]:
    """The party page's rows from selectors.party_positions' (point, latest stance or None)."""
    path = point_path(plan)
    lines = []
    for point, stance in rows:
        url = f"{path}{point.key}/"
        if stance is None:
            lines.append(PositionLine(point.key, point.title, url))
            continue
        shown = POSITION_ICONS.get(stance.position, ""), stance.get_position_display(), short_date(stance.stated_on)
        lines.append(PositionLine(point.key, point.title, url, stance, *shown, f"{url}#stance-{stance.pk}"))
    return lines


def with_stances(rows: list[dict], parties: list[Party], latest: dict, *, keep=None) -> list[dict]:
    """
    The rows with each party's latest stance from `latest` ({(point id, party id): stance}) as
    "stances", and its rank as "ranks" (what a party column sorts by); `keep` decides on each
    row's latest stances (party, position filters), and the rows it refuses are left out.
    """
    kept = []
    for row in rows:
        stances = {party.slug: latest.get((row["pk"], party.pk)) for party in parties}
        if keep is not None and not keep(stances):
            continue
        row["stances"] = stances
        row["ranks"] = {slug: POSITION_RANK[s.position] if s else NO_STANCE_RANK for slug, s in stances.items()}
        kept.append(row)
    return kept


def matrix_rows(plan: Plan, parties: list[Party], points=None, *, keep=None, with_sources=False) -> list[dict]:
    """
    One dict per point, with the latest stance of each party: two queries whatever the data
    size. The page gets each stance as the LatestStance its cell shows; `with_sources`, for
    the CSV, gets whole stances with their sources. `points` is a Point queryset, already
    narrowed in the database (topic, text); `keep` decides on each row's latest stances
    (party, position), which only Python has.
    """
    stances = Stance.objects.filter(plan=plan).public()
    latest = stances.select_related("source").latest_per_point() if with_sources else stances.latest_cells()
    return with_stances(point_rows(plan, points), parties, latest, keep=keep)


def sorted_by_position(request, parties: list[Party]) -> bool:
    """Whether the request sorts the matrix by a party's column, as RequestConfig reads the sort parameter."""
    slugs = {party.slug for party in parties}
    # OrderBy(alias).bare without building an OrderBy: an alias such as "../../" makes django-tables2 warn.
    aliases = request.GET.getlist(StanceMatrixTable._meta.order_by_field)
    return any(alias.removeprefix("-") in slugs for alias in aliases)


def matrix_table(request, plan: Plan, parties: list[Party], filters, *, per_page: int, page: int) -> StanceMatrixTable:
    """
    The overview's table, sorted as the request asks and cut to page `page` of `per_page` rows
    (both checked by the view: RequestConfig would take any integer, and crash on a negative
    one); EmptyPage past the last page. Three queries whatever the data size. When neither the
    filters (party, position) nor the sort (a party's column) depend on the parties' positions,
    the latest stances are read for the rows of the page shown only, so the page costs what it
    shows however large the plan; otherwise for every point of the plan, as filtering or
    sorting on them needs.
    """
    rows = point_rows(plan, filters.qs)
    on_positions = filters.on_positions or sorted_by_position(request, parties)
    if on_positions:
        rows = with_stances(rows, parties, Stance.objects.filter(plan=plan).public().latest_cells(), keep=filters.keep)
    table = StanceMatrixTable(rows, plan=plan, parties=parties)
    RequestConfig(request, paginate=False).configure(table)  # the sort only
    table.paginate(per_page=per_page, page=page)
    if not on_positions:
        shown = [row.record for row in table.paginated_rows]
        # The plan's points: their stances, read through the points' index, not the plan's.
        latest = Stance.objects.filter(point__in=[row["pk"] for row in shown]).public().latest_cells()
        with_stances(shown, parties, latest)
    return table
