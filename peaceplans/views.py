"""Public pages. Small function views; reads come from QuerySet methods in models.py."""

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from .models import Clause, Party, Plan, Point, Source, Stance
from .tables import StanceMatrixTable, matrix_rows

MATRIX_PER_PAGE = 30


def get_plan(slug: str) -> Plan:
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        raise Http404(f"There is no plan called “{slug}”.")
    return plan


@require_GET
@vary_on_headers("HX-Request")
def home(request):
    """The featured plan's overview."""
    return plan_detail(request, settings.FEATURED_PLAN)


@require_GET
@vary_on_headers("HX-Request")
def plan_detail(request, plan):
    """The revisions on a time strip and the stance matrix; HTMX asks for the matrix alone."""
    plan = get_plan(plan)
    parties = list(Party.objects.all())
    table = StanceMatrixTable(matrix_rows(plan, parties), plan=plan, parties=parties)
    RequestConfig(request, paginate={"per_page": MATRIX_PER_PAGE}).configure(table)
    template = "peaceplans/plan_detail.html"
    if request.htmx:
        return render(request, template + "#matrix", {"plan": plan, "table": table})
    revisions = plan.revisions.for_strip()
    return render(request, template, {"plan": plan, "table": table, "revisions": revisions, "parties": parties})


@require_GET
def point_detail(request, plan, point):
    """One point through every revision, and each party's stances on it with their sources."""
    plan = get_plan(plan)
    point = Point.objects.filter(plan=plan, key=point).select_related("topic", "split_from").first()
    if point is None:
        raise Http404("This plan has no point with that number.")
    clauses = {c.revision_id: c for c in point.clauses.prefetch_related("sources")}
    wording = [(revision, clauses.get(revision.pk)) for revision in plan.revisions.in_order()]
    stances = point.stances.with_sources().chronological()
    by_party = [(party, [s for s in stances if s.party_id == party.pk]) for party in Party.objects.all()]
    context = {"plan": plan, "point": point, "wording": wording, "by_party": by_party}
    return render(request, "peaceplans/point_detail.html", context)


@require_GET
def revision_detail(request, plan, revision):
    """The full text of one revision with its provenance and sources."""
    plan = get_plan(plan)
    revision = (
        plan.revisions.filter(slug=revision)
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
    return render(request, "peaceplans/revision_detail.html", {"plan": plan, "revision": revision})


@require_GET
def party_detail(request, plan, party):
    """One party's latest position on every point, and its statements on whole revisions."""
    plan = get_plan(plan)
    party = Party.objects.filter(slug=party).first()
    if party is None:
        raise Http404("There is no party with that name.")
    latest = Stance.objects.filter(plan=plan).latest_per_point(party=party)
    rows = [(point, latest.get((point.pk, party.pk))) for point in plan.points.for_matrix()]
    on_revisions = plan.stances.filter(party=party, point__isnull=True).with_sources().chronological()
    context = {"plan": plan, "party": party, "rows": rows, "on_revisions": on_revisions}
    return render(request, "peaceplans/party_detail.html", context)


@require_GET
def timeline(request, plan):
    """Events and revisions by date."""
    plan = get_plan(plan)
    events = plan.events.select_related("source").prefetch_related("parties")
    entries = sorted(
        [(e.date, "event", e) for e in events] + [(r.published_on, "revision", r) for r in plan.revisions.for_strip()],
        key=lambda entry: (entry[0], entry[1] == "event"),
    )
    return render(request, "peaceplans/timeline.html", {"plan": plan, "entries": entries})


@require_GET
def source_list(request):
    """Every source with its outlet, date and kind; the footer links here."""
    sources = Source.objects.order_by("-published_on", "outlet", "pk")
    return render(request, "peaceplans/source_list.html", {"sources": sources, "kinds": Source.Kind})
