"""Public pages. Small function views; reads come from QuerySet methods (models.py) and selectors.py."""

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from peaceplans import search as fulltext
from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Clause, Party, Plan, Source, Stance, Topic
from peaceplans.ops.errors import BadQuery
from peaceplans.selectors import (
    get_party,
    get_plan,
    party_history,
    point_by_key,
    point_wording,
    sources_in_order,
    stances_by_party,
)
from peaceplans.web import fragments, sharing
from peaceplans.web.changes import recent_changes
from peaceplans.web.filters import MatrixFilterSet, TimelineFilterSet
from peaceplans.web.params import (
    SLUG,
    HtmxHttpRequest,
    check_points,
    compare_focus,
    compare_params,
    is_partial,
    matrix_paging,
    part_param,
    query_value,
    revision_param,
    whole_number,
)
from peaceplans.web.parts import Paged, check_part, compare_parts
from peaceplans.web.positions import party_table
from peaceplans.web.summary import texts_of, what_is_new
from peaceplans.web.tables import matrix_table
from peaceplans.web.timeline import timeline_entries

SOURCES_PER_PAGE = 200  # the demo's sources fit on one page; generated data runs to thousands


@require_safe
@vary_on_headers("HX-Request")
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The featured plan's overview."""
    return plan_detail(request, settings.FEATURED_PLAN)


@require_safe
@vary_on_headers("HX-Request")
def plan_detail(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """The revisions on a time strip and the filtered stance matrix; HTMX asks for the matrix alone."""
    plan = get_plan(plan)
    number, per_page = matrix_paging(request)
    parties = list(Party.objects.all())
    revisions = list(plan.revisions.public().for_strip())  # the "positions on" choices, and the time strip
    filters = MatrixFilterSet(request.GET, plan=plan, parties=parties, texts=revisions)
    context: dict[str, Any] = {"plan": plan, "parties": parties, "filters": filters}  # a template context
    if filters.is_valid():
        try:
            context["table"] = matrix_table(request, plan, parties, filters, per_page=per_page, page=number)
        except EmptyPage as error:
            raise Http404(f"There is no page {number} of this table with these filters.") from error
    status = 200 if filters.is_valid() else 400  # the page shows the form with its errors
    template = "peaceplans/plan_detail.html"
    if is_partial(request):
        return render(request, template + "#matrix", context, status=status)
    context["texts"] = texts = texts_of(plan, revisions, parties)
    context["strip"] = fragments.time_strip(texts, compare_path=reverse("compare", args=[plan.slug]))
    context["news"] = what_is_new(plan, texts, revisions, parties)
    context.update(sharing.for_plan(request, plan, revisions))
    return render(request, template, context, status=status)


@require_safe
@vary_on_headers("HX-Request")
def point_detail(request: HtmxHttpRequest, plan: str, point: str) -> HttpResponse:
    """One point through every revision, optionally diffed against one; each party's stances."""
    plan = get_plan(plan)
    point = point_by_key(
        plan, point, related=("topic", "split_from__plan"), queryset=plan.points.public().with_neighbours()
    )
    if point is None:
        raise Http404("This plan has no point with that number.")
    revisions = list(plan.revisions.public().in_order())
    against = revision_param(request, "against", revisions, None)
    wording = point_wording(point, revisions, against)
    context = {"plan": plan, "point": point, "wording": wording, "against": against, "revisions": revisions}
    context["wording_list"] = fragments.wording_list(wording, against)
    if is_partial(request):
        return render(request, "peaceplans/point_detail.html#wording", context)
    context["by_party"] = by_party = stances_by_party(point)
    cards = fragments.stance_cards
    context["stance_sections"] = [(party, said, cards(said[-1:]), cards(said[-2::-1])) for party, said in by_party]
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
@vary_on_headers("HX-Request")
def point_party_stances(request: HtmxHttpRequest, plan: str, point: str, party: str) -> HttpResponse:
    """One party's stances on a point, newest first: the fragment the matrix's '+2 earlier' opens in place."""
    plan, party = get_plan(plan), get_party(party)
    point = point_by_key(plan, point)
    if point is None:
        raise Http404("This plan has no point with that number.")
    if not is_partial(request):  # a page of its own would repeat the point page: send readers there
        return HttpResponseRedirect(f"{point.get_absolute_url()}#party-{party.slug}")
    context = {"plan": plan, "point": point, "party": party, "history": party_history(point, party)}
    return render(request, "peaceplans/point_detail.html#party-history", context)


@require_safe
def revision_detail(request: HtmxHttpRequest, plan: str, revision: str) -> HttpResponse:
    """The full text of one revision with its provenance and sources."""
    plan = get_plan(plan)
    revision = (
        plan.revisions.public()
        .filter(slug=revision)
        .prefetch_related(
            "authors",
            "sources",
            Prefetch("clauses", queryset=Clause.objects.select_related("point")),  # the plan's points: no plan join
            Prefetch("stances", queryset=Stance.objects.with_sources().filter(point__isnull=True)),
        )
        .first()
    )
    if revision is None:
        raise Http404("This plan has no revision with that name.")
    context = {"plan": plan, "revision": revision, **sharing.for_revision(request, plan, revision)}
    context["clauses"] = fragments.clause_list(revision.clauses.all(), plan.slug)
    context["stances"] = fragments.stance_cards(revision.stances.all())
    context["sources"] = fragments.source_list(revision.sources.all())
    return render(request, "peaceplans/revision_detail.html", context)


@require_safe
@vary_on_headers("HX-Request")
def party_detail(request: HtmxHttpRequest, plan: str, party: str) -> HttpResponse:
    """
    One party's latest position on every point, in parts of 30 rows (web/parts.py), and its
    statements on whole revisions; HTMX asks with ?part= for that part's rows alone.
    """
    plan, party = get_plan(plan), get_party(party)
    number = part_param(request)
    table = party_table(plan, party)
    paged = Paged(table.rows, number or 1)
    check_part(number or 1, paged.last)
    url = reverse("party_detail", args=[plan.slug, party.slug]) + "?"
    context: dict[str, Any] = {"next_rows": paged.next_rows(url, lambda row: f"point-{row[0]}")}
    if number is not None and is_partial(request):
        return render(request, "peaceplans/party_detail.html#lines", {**context, "lines": table.lines(paged.only())})
    on_revisions = plan.stances.public().filter(party=party, point__isnull=True).with_sources().chronological()
    context.update({"plan": plan, "party": party, "lines": table.lines(paged.through()), "on_revisions": on_revisions})
    context.update(sharing.for_party(request, plan, party, table.pairs(), on_revisions))  # every row counted
    return render(request, "peaceplans/party_detail.html", context)


@require_safe
@vary_on_headers("HX-Request")
def timeline(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """Events and revisions by date, optionally one party's; HTMX asks for the list alone."""
    plan = get_plan(plan)
    parties = list(Party.objects.all())
    filters = TimelineFilterSet(request.GET, plan=plan, parties=parties)
    context = {"plan": plan, "filters": filters, "party": filters.chosen_party}
    if filters.is_valid():
        chosen = filters.form.cleaned_data["party"]
        context["entries"] = entries = timeline_entries(plan, filters.qs, party=chosen, parties=parties)
        context["counts"] = Counter(entry.kind for entry in entries)
        context["timeline"] = fragments.timeline(
            entries,
            revision_path=reverse("revision_detail", args=[plan.slug, "0"]).removesuffix("0/"),
            compare_path=reverse("compare", args=[plan.slug]),
            party_name=filters.chosen_party.name if filters.chosen_party else None,
        )
    context.update(sharing.for_timeline(request, plan, context.get("entries", [])))
    status = 200 if filters.is_valid() else 400  # the page shows the form with its errors
    template = "peaceplans/timeline.html"
    return render(request, template + "#entries" if is_partial(request) else template, context, status=status)


@require_safe
def source_list(request: HtmxHttpRequest) -> HttpResponse:
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


@require_safe
@vary_on_headers("HX-Request")
def compare(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """
    Two revisions aligned by point, optionally narrowed to topics or points, in parts of 30 rows
    (web/parts.py); HTMX asks for the form and rows, or with ?part= for that part's rows alone.
    """
    plan = get_plan(plan)
    revisions, a, b, view, changes = compare_params(request, plan)
    number = part_param(request)
    topics = list(Topic.objects.of_plan(plan))
    focus = compare_focus(request, topics)
    check_points(plan, focus)
    comparison = None
    if a != b:
        comparison = compare_revisions(
            plan, a, b, changes_only=changes == "only", topics=focus.topic_ids, points=focus.points, plain=True
        )
    url = f"{reverse('compare', args=[plan.slug])}?{urlencode(sharing.compare_query(a, b, view, changes, focus))}&"
    parts = compare_parts(comparison, number or 1, url)
    labels = {"view": view, "a": a, "b": b, "change_notes": a == revisions[0]}  # our notes compare with the draft
    if number is not None and is_partial(request):
        return render(request, "peaceplans/compare.html#part", {**labels, **parts.part()})
    sides = [a] if a == b else [a, b]
    prefetch_related_objects(sides, "sources")
    context = {
        **labels,
        "plan": plan,
        "revisions": revisions,
        "sides": sides,
        "changes": changes,
        "topics": topics,
        "focus": focus,
        "comparison": comparison,
        **parts.page(),
        **sharing.compare_links(plan, a, b, view, changes, focus),
        **sharing.for_comparison(request, plan, a, b, view, changes, comparison, focus),
    }
    template = "peaceplans/compare.html"
    return render(request, template + "#comparison" if is_partial(request) else template, context)


@require_safe
def change_log(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """The public log of recent edits to the plan's texts, points, stances and published notes."""
    plan = get_plan(plan)
    entries = recent_changes(plan)
    context = {"plan": plan, "entries": entries, **sharing.for_change_log(request, plan, len(entries))}
    return render(request, "peaceplans/change_log.html", context)


@require_safe
@vary_on_headers("HX-Request")
def search_page(request: HtmxHttpRequest) -> HttpResponse:
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
    context: dict[str, Any] = {"query": text, "results": results, "plans": plans, "plan": plan, "partial": partial}
    if results is not None:
        context["sections"] = [(group, fragments.search_hits(group.hits)) for group in results.groups if group.hits]
    context.update(sharing.for_search(request, text, plan, results.found if results is not None else None))
    template = "peaceplans/search.html"
    return render(request, template + "#results" if partial else template, context)
