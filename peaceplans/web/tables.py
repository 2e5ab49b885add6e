"""
Table declarations, and the overview's table as a request asks for it (matrix_table: sorted,
paginated, the parties' latest stances read for the rows shown).

django-tables2 sorts, paginates and renders the header; the body is rendered by `body()`
through web/cells.py, a few string joins per row, rather than cell by cell (for each cell,
django-tables2 resolves the accessor, builds the attributes, and inspects the signature of
the render method: most of the overview's time).
"""

from typing import NamedTuple

import django_tables2 as tables
from django.urls import reverse
from django.utils.http import urlencode
from django_tables2 import RequestConfig
from django_tables2.templatetags.django_tables2 import table_page_range

from peaceplans.models import Party, Plan, Revision, Stance, TextStance
from peaceplans.models.choices import POSITION_LABELS
from peaceplans.web import cells
from peaceplans.web.cells import POSITION_ICONS
from peaceplans.web.dates import short_date

# Sort order of a party column: agreement first, no recorded stance last.
POSITION_RANK = {
    p: rank for rank, p in enumerate(["supports", "conditional", "proposes-amendment", "unclear", "opposes"])
}
NO_STANCE_RANK = len(POSITION_RANK)


def row_id(record: dict) -> str:
    return f"point-{record['key']}"


NO_TEXT_LABEL = "a text not recorded"


class Cell(NamedTuple):
    """
    What the matrix shows of one party on one point: `stance`, the party's position (its latest
    statement, or its latest on the text in view), or None; `others`, its latest stances on
    other texts when it has none on the text in view, shown muted with their labels, never as
    its position; `more`, how many of its stances on the point the cell does not show.
    """

    stance: TextStance | Stance | None = None
    others: tuple = ()
    more: int = 0


def cell_of(stances: list, text: Revision | None) -> Cell:
    """A party's cell from its latest stance on each text (newest first), for one text in view or for none."""
    if not stances:
        return Cell()
    total = stances[0].total
    if text is None:
        return Cell(stances[0], (), total - 1)
    on_text = next((stance for stance in stances if stance.revision_id == text.pk), None)
    if on_text is not None:
        return Cell(on_text, (), total - 1)
    return Cell(None, tuple(stances), total - len(stances))


class RecordColumn(tables.Column):
    """A value of the row's dict, by the column's name; `cell` is what the table's body prints."""

    def cell(self, record: dict, name: str):
        return record[name]


class NumberColumn(RecordColumn):
    """The point's number as readers see it ('6', '20-point 9'), not its key."""

    def cell(self, record: dict, name: str):
        return record["number"]

    def render(self, record: dict):  # what django-tables2's own rendering prints (tests compare the two)
        return record["number"]


class PointColumn(RecordColumn):
    """The point's title, linked to its page."""

    def __init__(self, **kwargs):
        super().__init__(linkify=lambda record: record["url"], **kwargs)

    def cell(self, record: dict, name: str):
        return cells.link(record["url"], record["title"])


class StanceColumn(RecordColumn):
    """One party's latest position on the row's point: icon and word, linked to the evidence."""

    empty_values = ()

    def __init__(self, party: Party, text: Revision | None = None, labels: dict | None = None, **kwargs):
        self.party, self.text, self.labels = party, text, labels or {}
        self.name_html = cells.party_name(party.short_name, party.slug)  # the same in every cell of the column
        super().__init__(
            verbose_name=f"{party.short_name} on {text.label}" if text else party.short_name,
            accessor=f"stances__{party.slug}",
            order_by=(f"ranks__{party.slug}", "sort_order"),
            attrs={"th": {"scope": "col", "class": f"party party--{party.slug}"}, "td": {"class": "cell-stance"}},
            **kwargs,
        )

    def render(self, value: TextStance | Stance | None, record: dict):
        return self.cell(record, self.party.slug)

    def label_of(self, stance) -> str:
        return self.labels.get(stance.revision_id, NO_TEXT_LABEL)

    def cell(self, record: dict, name: str):
        party = self.party
        cell = record["cells"][party.slug]
        stance = cell.stance
        parts = [self.name_html]
        if stance is not None:
            parts.append(
                cells.stance_link(
                    position=stance.position,
                    word=POSITION_LABELS[stance.position],
                    icon=POSITION_ICONS[stance.position],
                    href=f"{record['url']}#stance-{stance.pk}",
                    iso_date=stance.stated_on.isoformat(),
                    date=short_date(stance.stated_on),
                    speaker=stance.speaker,
                    # The text it answers, unless it is the text in view (the column's heading names that).
                    on=None if self.text is not None else self.label_of(stance),
                )
            )
        else:
            parts.append(cells.no_stance(self.text.label if self.text is not None else None))
            parts += [
                cells.muted_stance(
                    label=self.label_of(other),
                    icon=POSITION_ICONS[other.position],
                    word=POSITION_LABELS[other.position],
                    href=f"{record['url']}#stance-{other.pk}",
                    iso_date=other.stated_on.isoformat(),
                    date=short_date(other.stated_on),
                )
                for other in cell.others
            ]
        if cell.more:
            parts.append(
                cells.more_link(
                    count=cell.more,
                    word="earlier" if self.text is None else "more",
                    href=f"{record['url']}#party-{party.slug}",
                    hx_get=f"{record['url']}stances/{party.slug}/",
                    about=f"{party.short_name}'s statements on point {record['key']}",
                )
            )
        return cells.joined(parts)


class StanceMatrixTable(tables.Table):
    """Points as rows, parties as columns; each cell the party's latest position."""

    key = NumberColumn(verbose_name="No.", order_by=("sort_order",), attrs={"th": {"scope": "col"}})
    title = PointColumn(verbose_name="Point", attrs={"th": {"scope": "col"}, "td": {"class": "cell-title"}})
    topic = RecordColumn(
        verbose_name="Topic", attrs={"th": {"scope": "col", "class": "col-topic"}, "td": {"class": "cell-topic"}}
    )

    class Meta:
        template_name = "peaceplans/components/table.html"
        attrs = {"class": "matrix"}
        row_attrs = {"id": lambda record: row_id(record)}  # /plans/<plan>/#point-6 lands on the row
        empty_text = "No points match."

    def __init__(self, data, *, plan: Plan, parties: list[Party], text: Revision | None = None, labels=None, **kwargs):
        extra = [(party.slug, StanceColumn(party, text, labels)) for party in parties]
        super().__init__(data, extra_columns=extra, **kwargs)
        self.plan, self.text = plan, text
        if text is None:
            self.caption = (
                f"Where each party stands on each point of {plan.title}: its latest statement, "
                "and the text that statement answers"
            )
        else:
            self.caption = f"Where each party stands on the {text.label} wording of each point ({text.title})"

    def head(self) -> list[dict]:
        """
        The header's cells as the table template prints them, each worked out once: attributes,
        sort state (aria-sort and the hint), and the link that sorts by the column, the request's
        query with the sort replaced ({% querystring_replace %}'s address, built once per column).
        """
        query, field = dict(self.request.GET), self.prefixed_order_by_field  # lists, as the tag keeps them
        heads = []
        for column in self.columns:
            alias = column.order_by_alias
            sort = ("descending" if alias.is_descending else "ascending") if column.is_ordered else ""
            href = "?" + urlencode({**query, field: alias.next}, doseq=True) if column.orderable else ""
            hint = {"descending": " ▼", "ascending": " ▲"}.get(sort, " ↕")
            heads.append(
                {
                    "attrs": column.attrs["th"].as_html(),
                    "sort": sort,
                    "href": href,
                    "hint": hint,
                    "header": column.header,
                }
            )
        return heads

    def page_links(self) -> list[dict]:
        """
        The pagination's items, as table_page_range numbers them: each a label, and the link to its
        page ("" for the current page and gaps), with "Previous" and "Next" around them.
        """
        page, query, field = self.page, dict(self.request.GET), self.prefixed_page_field

        def href(number) -> str:
            return "?" + urlencode({**query, field: number}, doseq=True)

        links = (
            [{"label": "Previous", "rel": "prev", "href": href(page.previous_page_number())}]
            if page.has_previous()
            else []
        )
        for number in table_page_range(page, self.paginator):
            current = number == page.number
            links.append(
                {"label": number, "href": "" if current or number == "..." else href(number), "current": current}
            )
        if page.has_next():
            links.append({"label": "Next", "rel": "next", "href": href(page.next_page_number())})
        return links

    def body(self) -> list:
        """
        The rows of the current page (every row without pagination) as HTML, in the order
        RequestConfig sorted them: the same cells the columns declare, each column's
        attributes worked out once rather than for every cell.
        """
        columns = [(cells.attributes(bound.attrs["td"]), bound.column, bound.name) for bound in self.columns]
        rows = self.page.object_list if self.page else self.rows
        return [
            cells.table_row(
                row_id(row.record),  # no even/odd class: no style uses it
                [(td, column.cell(row.record, name)) for td, column, name in columns],
            )
            for row in rows
        ]


POINT_FIELDS = ("pk", "key", "label", "sort_order", "title", "topic__name")


def point_rows(plan: Plan, points=None) -> list[dict]:
    """
    One dict per point with its own columns, without stances: a tuple each from the database,
    no model object. `points` is a Point queryset, already narrowed in the database (topic,
    text); every point of the plan without it.
    """
    path = point_path(plan)
    points = plan.points.public().for_matrix() if points is None else points
    return [
        {"pk": pk, "key": key, "number": label or key, "sort_order": order, "title": title, "topic": topic}
        | {"url": f"{path}{key}/"}
        for pk, key, label, order, title, topic in points.values_list(*POINT_FIELDS)
    ]


def point_path(plan: Plan) -> str:
    """
    The start of the address of the plan's points, the key and a slash to follow: keys are
    letters, digits and hyphens (models.key_validator), so it is reversed once, not per point.
    """
    return reverse("point_detail", args=[plan.slug, "0"]).removesuffix("0/")


def with_stances(rows: list[dict], parties: list[Party], by_text: dict, *, text=None, keep=None) -> list[dict]:
    """
    The rows with each party's Cell as "cells", built from `by_text` ({(point id, party id):
    its latest stance on each text, newest first}) for the text in view (`text`, or None for
    the latest statement); the stance each cell shows as "stances", and its rank as "ranks"
    (what a party column sorts by). `keep` decides on each row's shown stances (party,
    position filters), and the rows it refuses are left out.
    """
    kept = []
    for row in rows:
        row_cells = {party.slug: cell_of(by_text.get((row["pk"], party.pk), []), text) for party in parties}
        stances = {slug: cell.stance for slug, cell in row_cells.items()}
        if keep is not None and not keep(stances):
            continue
        row["cells"], row["stances"] = row_cells, stances
        row["ranks"] = {slug: POSITION_RANK[s.position] if s else NO_STANCE_RANK for slug, s in stances.items()}
        kept.append(row)
    return kept


def matrix_rows(
    plan: Plan, parties: list[Party], points=None, *, text=None, keep=None, with_sources=False
) -> list[dict]:
    """
    One dict per point, with each party's cell for the text in view (`text`, or None for the
    latest statement): two queries whatever the data size. The page gets each stance as the
    TextStance its cell shows; `with_sources`, for the CSV, gets whole stances with their
    sources and texts. `points` is a Point queryset, already narrowed in the database (topic,
    words, text); `keep` decides on each row's shown stances (party, position), which only
    Python has.
    """
    stances = Stance.objects.filter(plan=plan).public()
    if with_sources:
        by_text = stances.select_related("source", "revision").cells_per_text(objects=True)
    else:
        by_text = stances.cells_per_text()
    return with_stances(point_rows(plan, points), parties, by_text, text=text, keep=keep)


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
    text, labels = filters.text, filters.labels
    on_positions = filters.on_positions or sorted_by_position(request, parties)
    if on_positions:
        by_text = Stance.objects.filter(plan=plan).public().cells_per_text()
        rows = with_stances(rows, parties, by_text, text=text, keep=filters.keep)
    table = StanceMatrixTable(rows, plan=plan, parties=parties, text=text, labels=labels)
    RequestConfig(request, paginate=False).configure(table)  # the sort only
    table.paginate(per_page=per_page, page=page)
    if not on_positions:
        shown = [row.record for row in table.paginated_rows]
        # The plan's points: their stances, read through the points' index, not the plan's.
        by_text = Stance.objects.filter(point__in=[row["pk"] for row in shown]).public().cells_per_text()
        with_stances(shown, parties, by_text, text=text)
    return table
