"""Table declarations only: the view builds the table and calls RequestConfig."""

import django_tables2 as tables
from django.urls import reverse
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
                '<span class="stance stance--none">{} <span class="stance__word">{}</span></span>', "—", "not recorded"
            )
        return format_html(
            '<a class="stance stance--{}" href="{}#stance-{}" title="{} on {}">'
            '<span class="stance__icon" aria-hidden="true">{}</span> <span class="stance__word">{}</span></a>',
            value.position,
            record["url"],
            value.pk,
            value.party.name,
            value.stated_on.isoformat(),
            POSITION_ICONS[value.position],
            value.get_position_display(),
        )


class StanceMatrixTable(tables.Table):
    """Points as rows, parties as columns; each cell the party's latest position."""

    key = tables.Column(verbose_name="No.", order_by=("sort_order",), attrs={"th": {"scope": "col"}})
    title = tables.Column(
        verbose_name="Point",
        linkify=lambda record: record["url"],
        attrs={"th": {"scope": "col"}, "td": {"class": "cell-title"}},
    )
    topic = tables.Column(verbose_name="Topic", attrs={"th": {"scope": "col"}, "td": {"class": "cell-topic"}})

    class Meta:
        template_name = "peaceplans/components/table.html"
        attrs = {"class": "matrix"}
        empty_text = "No points match."

    def __init__(self, data, *, plan: Plan, parties: list[Party], **kwargs):
        extra = [(party.slug, StanceColumn(party)) for party in parties]
        super().__init__(data, extra_columns=extra, **kwargs)
        self.plan = plan
        self.caption = f"Where each party stands on each point of {plan.title}"


def matrix_rows(plan: Plan, parties: list[Party]) -> list[dict]:
    """One dict per point, with the latest stance of each party: three queries in all."""
    latest = Stance.objects.filter(plan=plan).latest_per_point()
    rows = []
    for point in plan.points.for_matrix():
        stances = {party.slug: latest.get((point.pk, party.pk)) for party in parties}
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
