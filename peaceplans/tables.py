"""Table declarations only: the view builds the table and calls RequestConfig."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.html import format_html

from .models import Party, Plan, Position, Stance

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


class StanceColumn(tables.Column):
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

    def render(self, value: Stance | None, record: dict):
        if value is None:
            return format_html(
                '<span class="stance stance--none">{}\u00a0<span class="stance__word">{}</span></span>',
                "—",
                "not recorded",
            )
        # Date and speaker are visible text inside the link, so they are part of its accessible
        # name and reach keyboard and touch users, not only a mouse hovering over a tooltip.
        speaker = format_html(' <span class="stance__speaker">{}</span>', value.speaker) if value.speaker else ""
        return format_html(
            '<a class="stance stance--{}" href="{}#stance-{}">'
            # A no-break space keeps the icon on the word's line when the column is narrow.
            '<span class="stance__icon" aria-hidden="true">{}</span>\u00a0<span class="stance__word">{}</span>'
            ' <span class="stance__meta"><time datetime="{}">{}</time>{}</span></a>',
            value.position,
            record["url"],
            value.pk,
            POSITION_ICONS[value.position],
            value.get_position_display(),
            value.stated_on.isoformat(),
            format_date(value.stated_on, "j M Y"),
            speaker,
        )


class StanceMatrixTable(tables.Table):
    """Points as rows, parties as columns; each cell the party's latest position."""

    key = tables.Column(verbose_name="No.", order_by=("sort_order",), attrs={"th": {"scope": "col"}})
    title = tables.Column(
        verbose_name="Point",
        linkify=lambda record: record["url"],
        attrs={"th": {"scope": "col"}, "td": {"class": "cell-title"}},
    )
    topic = tables.Column(
        verbose_name="Topic", attrs={"th": {"scope": "col", "class": "col-topic"}, "td": {"class": "cell-topic"}}
    )

    class Meta:
        template_name = "peaceplans/components/table.html"
        attrs = {"class": "matrix"}
        row_attrs = {"id": lambda record: f"point-{record['key']}"}  # /plans/<plan>/#point-6 lands on the row
        empty_text = "No points match."

    def __init__(self, data, *, plan: Plan, parties: list[Party], **kwargs):
        extra = [(party.slug, StanceColumn(party)) for party in parties]
        super().__init__(data, extra_columns=extra, **kwargs)
        self.plan = plan
        self.caption = f"Where each party stands on each point of {plan.title}"


def matrix_rows(plan: Plan, parties: list[Party], points=None, *, keep=None, with_sources=False) -> list[dict]:
    """
    One dict per point, with the latest stance of each party: three queries in all (four
    with `with_sources`, which the CSV needs for the source URLs), whatever the data size.
    `points` is a Point queryset, already narrowed in the database (topic, text); `keep`
    decides on each row's latest stances (party, position), which only Python has.
    """
    stances = Stance.objects.filter(plan=plan)
    if with_sources:
        stances = stances.select_related("source")
    latest = stances.latest_per_point()
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
                "url": reverse("point_detail", args=[plan.slug, point.key]),
                "stances": stances,
                "ranks": {slug: POSITION_RANK[s.position] if s else NO_STANCE_RANK for slug, s in stances.items()},
            }
        )
    return rows
