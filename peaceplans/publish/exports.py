"""
CSV downloads of every table the site shows, honouring the page's filters.

Each export takes its rows from the same function as its page (selectors.point_wording,
comparison.compare_revisions, changes.recent_changes, ...) and checks its parameters the same
way, so the file cannot disagree with the page, and a bad address gets the same 404, or a 400
with the reason in plain text. Every file is written by `csv_response`:
- UTF-8 with a byte-order mark: without it Excel reads UTF-8 as the local code page and
  Cyrillic turns to mojibake; csv readers given "utf-8-sig", pandas, LibreOffice and Google
  Sheets drop it;
- a header of stable snake_case names, then one row per row of the page;
- absolute links to the exact place on the site (page and anchor) and the URLs of the
  sources, never the URL of a source marked not citable;
- cells a spreadsheet would run as a formula start with an apostrophe (CSV injection).
"""

import csv
import functools
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe
from django_tables2 import RequestConfig

from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Party, Revision
from peaceplans.ops.errors import BadQuery
from peaceplans.selectors import (
    get_party,
    get_plan,
    party_positions,
    point_by_key,
    point_wording,
    sources_in_order,
    stances_by_party,
)
from peaceplans.web.changes import recent_changes
from peaceplans.web.filters import MatrixFilterSet, TimelineFilterSet
from peaceplans.web.params import HtmxHttpRequest, View, check_points, compare_focus, compare_params, revision_param
from peaceplans.web.sharing import compare_query
from peaceplans.web.tables import StanceMatrixTable, matrix_rows
from peaceplans.web.timeline import timeline_entries

BOM = "\ufeff"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Separates several URLs in one cell: a URL never contains a space.
URL_SEPARATOR = " "
PARTY_SEPARATOR = "; "
UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text: formulas get a leading apostrophe."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[object]]) -> HttpResponse:
    """A CSV download: BOM, header, rows (lists of values), named `<filename>.csv`."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{UNSAFE_FILENAME.sub("-", filename)}.csv"'
    response.write(BOM)
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response


def plain_text_errors[**P](view: View[P]) -> View[P]:
    """A parameter the export cannot use is a 400 with the reason as plain text, not an HTML page."""

    @functools.wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadQuery as error:
            return bad_filters([str(error)])

    return wrapper


def bad_filters(messages: list[str]) -> HttpResponse:
    text = "The filters could not be applied:\n" + "\n".join(messages) + "\n"
    return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


def source_url(source) -> str:
    """A source's URL when it may be cited; "" for none or one marked not citable."""
    return source.url if source is not None and source.citable else ""


def source_urls(sources) -> str:
    """The citable sources' URLs in one cell."""
    return URL_SEPARATOR.join(url for url in map(source_url, sources) if url)


@require_safe
def plan_matrix_csv(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """The stance matrix as filtered and sorted on the overview."""
    plan = get_plan(plan)
    parties = list(Party.objects.all())
    filters = MatrixFilterSet(request.GET, plan=plan, parties=parties)
    if not filters.is_valid():
        return bad_filters(filters.error_messages())
    text = filters.text
    rows = matrix_rows(plan, parties, filters.qs, text=text, keep=filters.keep, with_sources=True)
    table = StanceMatrixTable(rows, plan=plan, parties=parties, text=text, labels=filters.labels)
    RequestConfig(request, paginate=False).configure(table)
    # Every row says which text its positions answer: the one chosen with ?on=, or each stance's own.
    header = ["key", "title", "topic", "url", "positions_on"]
    for party in parties:
        columns = ("position", "answering", "answering_label", "stated_on", "speaker", "source_url", "url")
        header += [f"{party.slug}_{column}" for column in columns]
    name = f"{plan.slug}-stances" + (f"-on-{text.slug}" if text else "")
    return csv_response(name, header, matrix_lines(request, table, parties))


def matrix_lines(request: HttpRequest, table: StanceMatrixTable, parties: list[Party]) -> Iterator[list[object]]:
    for record in (row.record for row in table.rows):
        on = table.text.slug if table.text else "latest"
        line = [record["key"], record["title"], record["topic"], request.build_absolute_uri(record["url"]), on]
        for party in parties:
            stance = record["stances"][party.slug]
            if stance is None:
                line += ["", "", "", "", "", "", ""]
            else:
                url = request.build_absolute_uri(f"{record['url']}#stance-{stance.pk}")
                line += [
                    stance.get_position_display(),
                    stance.revision.slug if stance.revision else "",
                    stance.revision.label if stance.revision else "",
                    stance.stated_on,
                    stance.speaker,
                    source_url(stance.source),
                    url,
                ]
        yield line


@require_safe
def timeline_csv(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """The timeline as filtered on its page: one row per event or revision, by date."""
    plan = get_plan(plan)
    filters = TimelineFilterSet(request.GET, plan=plan, parties=list(Party.objects.all()))
    if not filters.is_valid():
        return bad_filters(filters.error_messages())
    party = filters.form.cleaned_data["party"]
    entries = timeline_entries(plan, filters.qs, party=party)
    timeline = reverse("timeline", args=[plan.slug])
    header = ["date", "kind", "title", "summary", "parties", "status", "url", "page_url", "compare_url", "source_urls"]
    lines = (
        [
            entry.date,
            entry.kind,
            entry.item.title,
            entry.item.summary,
            PARTY_SEPARATOR.join(p.slug for p in entry.parties),
            entry.item.get_status_display() if isinstance(entry.item, Revision) else "",
            request.build_absolute_uri(f"{timeline}#{entry.anchor}"),
            request.build_absolute_uri(entry.item.get_absolute_url()) if entry.kind == "revision" else "",
            request.build_absolute_uri(entry.compare_url()) if entry.previous else "",
            source_urls(entry.sources),
        ]
        for entry in entries
    )
    return csv_response(f"{plan.slug}-timeline" + (f"-{party}" if party else ""), header, lines)


@require_safe
@plain_text_errors
def compare_csv(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """The comparison of revisions a and b, one row per compared point (changes, topic and points as on the page)."""
    plan = get_plan(plan)
    _, a, b, view, changes = compare_params(request, plan)
    focus = compare_focus(request)
    check_points(plan, focus)
    comparison = None
    if a != b:
        comparison = compare_revisions(
            plan, a, b, changes_only=changes == "only", topics=focus.topic_ids, points=focus.points
        )
    rows = comparison.covered + comparison.uncovered if comparison else []  # in the page's order
    clauses = [clause for row in rows for clause in (row.clause_a, row.clause_b) if clause]
    prefetch_related_objects(clauses, "sources")
    state = [
        pair for pair in compare_query(a, b, view, changes, focus) if pair not in {("view", view), ("changes", "all")}
    ]
    page = reverse("compare", args=[plan.slug]) + "?" + urlencode(state)
    header = ["key", "title", "label_a", "label_b", "number_a", "number_b", "status", "text_a", "text_b"]
    header += ["wording_note_a", "wording_note_b", "change_note", "material_change", "url", "point_url"]
    header += ["source_urls_a", "source_urls_b"]
    lines = (
        [
            row.point.key,
            row.point.title,
            a.label,
            b.label,
            row.clause_a.number if row.clause_a else "",
            row.clause_b.number if row.clause_b else "",
            row.status,
            text_of(row.clause_a),
            text_of(row.clause_b),
            row.clause_a.wording_note if row.clause_a else "",
            row.clause_b.wording_note if row.clause_b else "",
            row.clause_b.change_note if row.clause_b else "",
            row.clause_b.material_change if row.clause_b else "",
            request.build_absolute_uri(f"{page}#point-{row.point.key}"),
            request.build_absolute_uri(row.point.get_absolute_url()),
            source_urls(row.clause_a.sources.all()) if row.clause_a else "",
            source_urls(row.clause_b.sources.all()) if row.clause_b else "",
        ]
        for row in rows
    )
    name = f"{plan.slug}-compare-{a.slug}-{b.slug}" + ("-changes-only" if changes == "only" else "")
    name += "".join(f"-{slug}" for slug in focus.topic_slugs) + ("-points" if focus.points else "")
    return csv_response(name, header, lines)


def text_of(clause) -> str:
    return clause.text if clause and not clause.dropped else ""


def clause_status(clause) -> str:
    return "absent" if clause is None else "dropped" if clause.dropped else "worded"


def get_point(plan, key):
    point = point_by_key(plan, key)
    if point is None:
        raise Http404("This plan has no point with that number.")
    return point


@require_safe
@plain_text_errors
def wording_csv(request: HtmxHttpRequest, plan: str, point: str) -> HttpResponse:
    """A point's wording in every revision, marked against one (?against=) as on its page."""
    plan = get_plan(plan)
    point = get_point(plan, point)
    revisions = list(plan.revisions.public().in_order())
    against = revision_param(request, "against", revisions, None)
    page = point.get_absolute_url()
    header = ["revision", "revision_label", "revision_title", "published_on", "wording", "number", "status", "text"]
    header += ["wording_note", "change_note", "material_change", "change_against", "url", "revision_url", "source_urls"]
    lines = (
        [
            revision.slug,
            revision.label,
            revision.title,
            revision.published_on,
            revision.wording,
            clause.number if clause else "",
            clause_status(clause),
            text_of(clause),
            clause.wording_note if clause else "",
            clause.change_note if clause else "",
            clause.material_change if clause else "",
            changes.change if changes else "",
            request.build_absolute_uri(f"{page}#clause-{revision.slug}"),
            request.build_absolute_uri(
                reverse("revision_detail", args=[plan.slug, revision.slug]) + (f"#point-{point.key}" if clause else "")
            ),
            source_urls(clause.sources.all()) if clause else "",
        ]
        for revision, clause, changes in point_wording(point, revisions, against)
    )
    return csv_response(f"{plan.slug}-point-{point.key}-wording", header, lines)


@require_safe
def stances_csv(request: HtmxHttpRequest, plan: str, point: str) -> HttpResponse:
    """Every party's stances on a point, party by party, newest first as on its page."""
    plan = get_plan(plan)
    point = get_point(plan, point)
    page = point.get_absolute_url()
    header = ["party", "position", "stated_on", "summary", "quote", "speaker", "answering", "answering_label"]
    header += ["is_latest"]
    header += ["source_outlet", "source_kind", "source_url", "url"]
    lines = (
        [
            party.slug,
            stance.get_position_display(),
            stance.stated_on,
            stance.summary,
            stance.quote,
            stance.speaker,
            stance.revision.slug if stance.revision else "",
            stance.revision.label if stance.revision else "",
            n == 0,
            stance.source.outlet,
            stance.source.get_kind_display(),
            source_url(stance.source),
            request.build_absolute_uri(f"{page}#stance-{stance.pk}"),
        ]
        for party, stances in stances_by_party(point)
        for n, stance in enumerate(reversed(stances))
    )
    return csv_response(f"{plan.slug}-point-{point.key}-stances", header, lines)


@require_safe
def clauses_csv(request: HtmxHttpRequest, plan: str, revision: str) -> HttpResponse:
    """One revision's text, point by point, as on its page."""
    plan = get_plan(plan)
    revision = plan.revisions.public().filter(slug=revision).select_related("plan").first()
    if revision is None:
        raise Http404("This plan has no revision with that name.")
    clauses = revision.clauses.select_related("point__plan").prefetch_related("sources")
    page = revision.get_absolute_url()
    header = ["number", "key", "title", "status", "text", "wording_note", "change_note", "material_change", "url"]
    header += ["point_url", "source_urls"]
    lines = (
        [
            clause.number,
            clause.point.key,
            clause.point.title,
            clause_status(clause),
            text_of(clause),
            clause.wording_note,
            clause.change_note,
            clause.material_change,
            request.build_absolute_uri(f"{page}#point-{clause.point.key}"),
            request.build_absolute_uri(clause.point.get_absolute_url()),
            source_urls(clause.sources.all()),
        ]
        for clause in clauses
    )
    return csv_response(f"{plan.slug}-{revision.slug}-clauses", header, lines)


@require_safe
def positions_csv(request: HtmxHttpRequest, plan: str, party: str) -> HttpResponse:
    """One party's latest position on every point, as on its page."""
    plan, party = get_plan(plan), get_party(party)
    header = ["key", "title", "topic", "position", "answering", "answering_label", "stated_on", "summary", "quote"]
    header += ["speaker", "source_url", "url", "point_url"]
    lines = []
    for point, stance in party_positions(plan, party, with_sources=True):
        url = request.build_absolute_uri(point.get_absolute_url())
        line = [point.key, point.title, point.topic.name]
        if stance is None:
            line += ["", "", "", "", "", "", "", "", url]
        else:
            revision = stance.revision  # party_positions joins it
            line += [
                stance.get_position_display(),
                revision.slug if revision else "",
                revision.label if revision else "",
            ]
            line += [stance.stated_on, stance.summary, stance.quote, stance.speaker]
            line += [source_url(stance.source), f"{url}#stance-{stance.pk}"]
        lines.append([*line, url])
    return csv_response(f"{plan.slug}-{party.slug}-positions", header, lines)


@require_safe
def changes_csv(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """The public change log: the same entries, newest first."""
    plan = get_plan(plan)
    lines = (
        [entry.when, entry.action, entry.what, request.build_absolute_uri(entry.url)] for entry in recent_changes(plan)
    )
    return csv_response(f"{plan.slug}-changes", ["changed_at", "action", "what", "url"], lines)


@require_safe
def sources_csv(request: HtmxHttpRequest) -> HttpResponse:
    """Every source, newest first; the URL only where the source may be cited."""
    header = ["id", "outlet", "title", "published_on", "kind", "via", "citable", "url", "note", "page_url"]
    lines = (
        [
            source.pk,
            source.outlet,
            source.title,
            source.published_on,
            source.get_kind_display(),
            source.via,
            source.citable,
            source_url(source),
            source.note,
            request.build_absolute_uri(source.get_absolute_url()),  # the page of the list that shows it
        ]
        for source in sources_in_order()
    )
    return csv_response("peaceplans-sources", header, lines)
