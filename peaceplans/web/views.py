"""Public pages. Small function views; reads come from QuerySet methods in models.py."""

import re
from collections import Counter

from django.conf import settings
from django.core.exceptions import BadRequest, DisallowedHost
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from peaceplans import search as fulltext
from peaceplans.compare import memo as diffcache
from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Clause, Party, Plan, Source, Stance
from peaceplans.web import sharing
from peaceplans.web.changes import recent_changes
from peaceplans.web.filters import MatrixFilterSet, TimelineFilterSet
from peaceplans.web.tables import matrix_table, position_lines
from peaceplans.web.timeline import timeline_entries

MATRIX_PER_PAGE = 30
MATRIX_MAX_PER_PAGE = 100  # ?per_page= is clamped to 1..this: never every row
SOURCES_PER_PAGE = 200  # the demo's sources fit on one page; generated data runs to thousands


def get_plan(slug: str) -> Plan:
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        raise Http404(f"There is no plan called “{slug}”.")
    return plan


def get_party(slug: str) -> Party:
    party = Party.objects.filter(slug=slug).first()
    if party is None:
        raise Http404("There is no party with that name.")
    return party


SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")


class BadQuery(BadRequest):
    """A query-string value we cannot use; its message is shown to the reader with a 400."""


def query_value(request, name: str, *, allowed=None, default: str = "") -> str:
    """One value of a query parameter: repeated or malformed values are a 400, never a guess."""
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise BadQuery(f"“{name}” was given {len(values)} times; give it once.")
    value = values[0] if values else default
    if allowed is not None and value not in allowed:
        raise BadQuery(f"“{name}” must be one of: {', '.join(allowed)}.")
    return value


def revision_param(request, name: str, revisions: list, default):
    """The revision a query parameter names, from the plan's revisions; 404 when it names none."""
    slug = query_value(request, name)
    if not slug:
        return default
    if not SLUG.match(slug):
        raise BadQuery(f"“{name}” must be a revision's short name, such as us-28-point-draft.")
    for revision in revisions:
        if revision.slug == slug:
            return revision
    raise Http404(f"This plan has no revision called “{slug}”.")


def is_partial(request) -> bool:
    """An HTMX swap wants the region; a history restore after a cache miss wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def bad_request(request, exception=None):
    """400 page. Only our own messages (BadQuery) are shown; others may carry internal detail."""
    if isinstance(exception, DisallowedHost):  # the page's links would read the refused Host again: plain text
        message = "Bad request: this site does not answer to that host name.\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    message = str(exception) if isinstance(exception, BadQuery) else ""
    return render(request, "400.html", {"exception": message}, status=400)


@require_safe
@vary_on_headers("HX-Request")
def home(request):
    """The featured plan's overview."""
    return plan_detail(request, settings.FEATURED_PLAN)


@require_safe
@vary_on_headers("HX-Request")
def plan_detail(request, plan):
    """The revisions on a time strip and the filtered stance matrix; HTMX asks for the matrix alone."""
    plan = get_plan(plan)
    number, per_page = matrix_paging(request)
    parties = list(Party.objects.all())
    filters = MatrixFilterSet(request.GET, plan=plan, parties=parties)
    context = {"plan": plan, "parties": parties, "filters": filters}
    if filters.is_valid():
        try:
            context["table"] = matrix_table(request, plan, parties, filters, per_page=per_page, page=number)
        except EmptyPage as error:
            raise Http404(f"There is no page {number} of this table with these filters.") from error
    status = 200 if filters.is_valid() else 400  # the page shows the form with its errors
    template = "peaceplans/plan_detail.html"
    if is_partial(request):
        return render(request, template + "#matrix", context, status=status)
    context["revisions"] = list(plan.revisions.public().for_strip())  # a list: the strip indexes it and loops over it
    context.update(sharing.for_plan(request, plan, context["revisions"]))
    return render(request, template, context, status=status)


def point_wording(point, revisions: list, against) -> list[tuple]:
    """
    The point page's wording list, shared with its CSV: (revision, its clause or None, the
    word-level diff against the revision `against` or None) for each revision, two queries.
    """
    clauses = {c.revision_id: c for c in point.clauses.public().prefetch_related("sources")}
    base = clauses.get(against.pk) if against else None
    base_text = base.text if base and not base.dropped else None
    wording = []
    for revision in revisions:
        clause = clauses.get(revision.pk)
        text = clause.text if clause and not clause.dropped else None
        changes = None
        if against and revision != against and text is not None:
            changes = diffcache.compare(base_text, text)  # the same pairs as the comparison's, reused
        wording.append((revision, clause, changes))
    return wording


def stances_by_party(point) -> list[tuple]:
    """The point page's stances, shared with its CSV: (party, its stances oldest first) for every party, two queries."""
    stances = list(point.stances.public().with_sources().chronological())
    return [(party, [s for s in stances if s.party_id == party.pk]) for party in Party.objects.all()]


@require_safe
@vary_on_headers("HX-Request")
def point_detail(request, plan, point):
    """One point through every revision, optionally diffed against one; each party's stances."""
    plan = get_plan(plan)
    point = plan.points.public().filter(key=point).select_related("topic", "split_from__plan").with_neighbours().first()
    if point is None:
        raise Http404("This plan has no point with that number.")
    revisions = list(plan.revisions.public().in_order())
    against = revision_param(request, "against", revisions, None)
    wording = point_wording(point, revisions, against)
    context = {"plan": plan, "point": point, "wording": wording, "against": against, "revisions": revisions}
    if is_partial(request):
        return render(request, "peaceplans/point_detail.html#wording", context)
    context["by_party"] = by_party = stances_by_party(point)
    stances = [stance for _, party_stances in by_party for stance in party_stances]
    context["notes"] = notes = list(point.annotations.published().select_related("author"))
    context["previous"], context["next"] = point.neighbours()
    context.update(sharing.for_point(request, plan, point, against, wording, by_party))
    context["last_updated"] = max(
        [point.updated_at]
        + [clause.updated_at for _, clause, _ in wording if clause]
        + [s.updated_at for s in stances]
        + [n.updated_at for n in notes]
    )
    return render(request, "peaceplans/point_detail.html", context)


@require_safe
def revision_detail(request, plan, revision):
    """The full text of one revision with its provenance and sources."""
    plan = get_plan(plan)
    revision = (
        plan.revisions.public()
        .filter(slug=revision)
        .prefetch_related(
            "authors",
            "sources",
            Prefetch("clauses", queryset=Clause.objects.select_related("point__plan")),
            Prefetch("stances", queryset=Stance.objects.with_sources().filter(point__isnull=True)),
        )
        .first()
    )
    if revision is None:
        raise Http404("This plan has no revision with that name.")
    context = {"plan": plan, "revision": revision, **sharing.for_revision(request, plan, revision)}
    return render(request, "peaceplans/revision_detail.html", context)


def party_positions(plan, party, *, with_sources: bool = False) -> list[tuple]:
    """
    The party page's table, shared with its CSV: (point, the party's latest stance on it or
    None) in plan order, two queries; the CSV wants each stance's source joined.
    """
    stances = Stance.objects.filter(plan=plan).public()
    if with_sources:
        stances = stances.select_related("source")
    latest = stances.latest_per_point(party=party)
    return [(point, latest.get((point.pk, party.pk))) for point in plan.points.public().for_matrix()]


@require_safe
def party_detail(request, plan, party):
    """One party's latest position on every point, and its statements on whole revisions."""
    plan, party = get_plan(plan), get_party(party)
    rows = party_positions(plan, party, with_sources=True)  # the citation lists the sources
    on_revisions = plan.stances.public().filter(party=party, point__isnull=True).with_sources().chronological()
    context = {"plan": plan, "party": party, "lines": position_lines(plan, rows), "on_revisions": on_revisions}
    context.update(sharing.for_party(request, plan, party, rows, on_revisions))
    return render(request, "peaceplans/party_detail.html", context)


@require_safe
@vary_on_headers("HX-Request")
def timeline(request, plan):
    """Events and revisions by date, optionally one party's; HTMX asks for the list alone."""
    plan = get_plan(plan)
    filters = TimelineFilterSet(request.GET, plan=plan, parties=list(Party.objects.all()))
    context = {"plan": plan, "filters": filters, "party": filters.chosen_party}
    if filters.is_valid():
        context["entries"] = entries = timeline_entries(plan, filters.qs, party=filters.form.cleaned_data["party"])
        context["counts"] = Counter(entry.kind for entry in entries)
    context.update(sharing.for_timeline(request, plan, context.get("entries", [])))
    status = 200 if filters.is_valid() else 400  # the page shows the form with its errors
    template = "peaceplans/timeline.html"
    return render(request, template + "#entries" if is_partial(request) else template, context, status=status)


def sources_in_order():
    """Every source readers may see, newest first: the sources page and its CSV."""
    return Source.objects.public().in_order()


def whole_number(request, name: str, example: str) -> int | None:
    """A positive whole number from the query, None when absent; anything else is a 400."""
    value = query_value(request, name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        raise BadQuery(f"“{name}” must be a whole number, such as {example}.")
    return int(value)


def matrix_paging(request) -> tuple[int, int]:
    """
    The overview's ?page= and ?per_page=. A page is a whole number from 1 (past the last page
    is a 404). per_page is a whole number, clamped to 1..MATRIX_MAX_PER_PAGE: -5 and 0 show one
    row, 100000000 shows MATRIX_MAX_PER_PAGE, never every row. Anything that is not a whole
    number (1e3, " 10 ", +5, 1.5, non-ASCII digits) is a 400 saying so.
    """
    number = whole_number(request, "page", "2") or 1
    per_page = query_value(request, "per_page")
    if not per_page:
        return number, MATRIX_PER_PAGE
    negative, digits = per_page.startswith("-"), per_page.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise BadQuery(
            f"“per_page” must be a whole number, such as {MATRIX_PER_PAGE}; "
            f"from 1 to {MATRIX_MAX_PER_PAGE} rows are shown on a page."
        )
    if negative:
        return number, 1
    wanted = int(digits) if len(digits) <= 9 else MATRIX_MAX_PER_PAGE  # no need to read a 4,000-digit number
    return number, min(max(wanted, 1), MATRIX_MAX_PER_PAGE)


@require_safe
def source_list(request):
    """
    Every source with its outlet, date and kind, SOURCES_PER_PAGE to a page (two queries);
    ?source=<id> opens the page that lists that source (two more). The footer links here.
    """
    paginator = Paginator(sources_in_order(), SOURCES_PER_PAGE)
    number = whole_number(request, "page", "2") or 1
    wanted = whole_number(request, "source", "12")
    if wanted is not None:
        source = Source.objects.public().filter(pk=wanted).first()
        if source is None:
            raise Http404("There is no source with that number.")
        number = sources_in_order().before(source).count() // SOURCES_PER_PAGE + 1
    if number > paginator.num_pages:
        raise Http404(f"There is no page {number}: pages run from 1 to {paginator.num_pages}.")
    page = paginator.page(number)
    page_range = paginator.get_elided_page_range(number, on_each_side=2, on_ends=1)
    context = {"sources": page.object_list, "page": page, "page_range": page_range, "kinds": Source.Kind}
    context.update(sharing.for_sources(request, paginator.count))
    return render(request, "peaceplans/source_list.html", context)


def compare_params(request, plan) -> tuple:
    """
    The compare page's revisions and its checked parameters (revisions, a, b, view, changes),
    shared with its CSV so both refuse the same addresses: 400 for a malformed value, 404 for
    a revision the plan does not have.
    """
    revisions = list(plan.revisions.public().in_order())  # the pickers show titles and dates, not authors
    if not revisions:
        raise Http404("This plan has no revisions to compare yet.")
    a = revision_param(request, "a", revisions, revisions[0])
    b = revision_param(request, "b", revisions, revisions[1] if len(revisions) > 1 else revisions[0])
    view = query_value(request, "view", allowed=["side", "inline"], default="side")
    changes = query_value(request, "changes", allowed=["all", "only"], default="all")
    return revisions, a, b, view, changes


@require_safe
@vary_on_headers("HX-Request")
def compare(request, plan):
    """Two revisions aligned by point, word-level changes side by side or inline."""
    plan = get_plan(plan)
    revisions, a, b, view, changes = compare_params(request, plan)
    comparison = None if a == b else compare_revisions(plan, a, b, changes_only=changes == "only")
    sides = [a] if a == b else [a, b]
    prefetch_related_objects(sides, "sources")
    context = {
        "plan": plan,
        "revisions": revisions,
        "a": a,
        "b": b,
        "sides": sides,
        "view": view,
        "changes": changes,
        "comparison": comparison,
        "change_notes": a == revisions[0],  # our change notes compare each clause with the first text, the draft
        **sharing.for_comparison(request, plan, a, b, view, changes, comparison),
    }
    template = "peaceplans/compare.html"
    return render(request, template + "#comparison" if is_partial(request) else template, context)


@require_safe
def change_log(request, plan):
    """The public log of recent edits to the plan's texts, points, stances and published notes."""
    plan = get_plan(plan)
    entries = recent_changes(plan)
    context = {"plan": plan, "entries": entries, **sharing.for_change_log(request, plan, len(entries))}
    return render(request, "peaceplans/change_log.html", context)


@require_safe
@vary_on_headers("HX-Request")
def search_page(request):
    """Full-text search over wording, stances, published notes and events; HTMX asks for the results alone."""
    typed = query_value(request, "q")
    if len(typed) > fulltext.MAX_QUERY_CHARS:
        raise BadQuery(f"Search for at most {fulltext.MAX_QUERY_CHARS} characters (this search has {len(typed):,}).")
    text = fulltext.clean(typed)
    plans = list(Plan.objects.order_by("title"))
    plan_slug = query_value(request, "plan")
    plan = None
    if plan_slug:
        if not SLUG.match(plan_slug):
            raise BadQuery("“plan” must be a plan's short name, such as russia-ukraine-2025.")
        plan = next((p for p in plans if p.slug == plan_slug), None)
        if plan is None:
            raise Http404(f"There is no plan called “{plan_slug}”.")
    # An empty box asks nothing of the index; the page shows the form and a hint.
    results = fulltext.search(typed, plan=plan) if text else None  # as typed: a final space ends the last word
    partial = is_partial(request)
    context = {"query": text, "results": results, "plans": plans, "plan": plan, "partial": partial}
    context.update(sharing.for_search(request, text, plan, results.found if results is not None else None))
    template = "peaceplans/search.html"
    return render(request, template + "#results" if partial else template, context)
