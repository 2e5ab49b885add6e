"""
The read-only JSON API (/api/v1/), its documented schema page (/api/) and the whole-dataset
download of a plan (/plans/<plan>/dataset.json).

Plain function views return dicts (built by serializers.py, in the shapes openapi.py documents);
`api_view` turns them into JSON with an ETag, conditional GET, cache and CORS headers, and turns
every error into JSON.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from peaceplans.models import Party, Plan, Position, Revision, Topic
from peaceplans.ops.errors import BadQuery, json_error, json_response
from peaceplans.publish import openapi
from peaceplans.publish.serializers import (
    NOTICE,
    Links,
    clause_data,
    clause_query,
    dataset_data,
    dataset_objects,
    dataset_version,
    event_data,
    event_query,
    note_data,
    note_query,
    party_data,
    plan_data,
    point_clauses,
    point_data,
    point_query,
    point_stances,
    revision_data,
    revision_query,
    stance_data,
    stance_query,
    to_json,
    topic_data,
)
from peaceplans.selectors import get_plan, is_point_key, point_by_key
from peaceplans.web import sharing
from peaceplans.web.params import SLUG, HtmxHttpRequest, View, query_value

# ?page= and ?per_page=: at most nine digits (openapi.MAX_PAGE), checked before int() reads them. The
# document calls them integers, and JSON Schema counts 2.0 as one: a client that writes it so gets page 2.
WHOLE_NUMBER = re.compile(r"0*([0-9]{1,9})(?:\.0+)?")


# ---- HTTP plumbing ----


@dataclass
class Payload:
    """What a view returns when the body needs more than the defaults."""

    data: object
    etag: str = ""
    headers: dict = field(default_factory=dict)
    indent: int | None = None


# What an endpoint returns: its JSON body as a dict, or a Payload when it needs more.
type ApiResult = dict[str, Any] | Payload
type ApiView[**P] = Callable[Concatenate[HtmxHttpRequest, P], ApiResult]


def _matching_etag(request: HttpRequest, response: HttpResponse) -> str:
    """The If-None-Match tag that names the current ETag, or "" (weak comparison: gzip makes ours W/"…")."""
    header = request.headers.get("If-None-Match")
    if not header or response.status_code != 200:
        return ""
    current = response["ETag"].removeprefix("W/")
    for tag in parse_etags(header):
        if tag == "*":
            return response["ETag"]
        if tag.removeprefix("W/") == current:
            return tag
    return ""


def _conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """304 with no body when the client already has this response."""
    etag = _matching_etag(request, response)
    if not etag:
        return response
    not_modified = HttpResponseNotModified()
    # The tag as the client holds it: weak when it came through GZipMiddleware, strong otherwise.
    not_modified["ETag"] = etag
    for header in ("Cache-Control", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"):
        not_modified[header] = response[header]
    return not_modified


def api_view[**P](view: ApiView[P]) -> View[P]:
    """GET and HEAD only; the view's dict as JSON with ETag, conditional GET, caching and CORS; errors as JSON."""

    # Exempt from CSRF so that a POST gets our 405 rather than an HTML 403: these views never write.
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = json_error(405, f"{request.method} is not allowed here: this API is read-only (GET or HEAD).")
            response["Allow"] = "GET, HEAD"
            return response
        try:
            result = view(request, *args, **kwargs)
            payload = result if isinstance(result, Payload) else Payload(result)
            response = json_response(to_json(payload.data, indent=payload.indent), etag=payload.etag)
            for header, value in payload.headers.items():
                response[header] = value
        except BadQuery as exc:
            response = json_error(400, str(exc))
        except BadRequest:
            response = json_error(400, "The request could not be understood.")
        except Http404 as exc:
            response = json_error(404, str(exc) or "Not found.")
        return _conditional(request, response)

    return wrapper


@api_view
def not_found(request: HtmxHttpRequest) -> ApiResult:
    """Any address under /api/v1/ that names no endpoint."""
    raise Http404("There is no such endpoint: addresses end in a slash; /api/v1/ lists them all.")


# ---- Looking things up from the address (validated before any query sees the value) ----


def _plan(slug: str) -> Plan:
    if not SLUG.match(slug):
        raise Http404("There is no plan with that name.")
    return get_plan(slug)


def _revision(queryset: QuerySet[Revision], slug: str) -> Revision:
    """The plan's revision of that slug, from a queryset of the plan's revisions."""
    revision = queryset.filter(slug=slug).first() if SLUG.match(slug) else None
    if revision is None:
        raise Http404("This plan has no revision with that name.")
    return revision


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    value = query_value(request, name)
    if not value:
        return default
    number = WHOLE_NUMBER.fullmatch(value)  # not .match: "$" would let "2\n" through
    if number is None:
        raise BadQuery(f"“{name}” must be a whole number, such as 2.")
    return int(number.group(1))


def paginate(request: HttpRequest, queryset: QuerySet[Any], serialize: Callable[[Any], dict]) -> dict:
    """One page of a list in the {count, next, previous, results} envelope; two queries."""
    per_page = _int_param(request, "per_page", openapi.PER_PAGE)
    if not 1 <= per_page <= openapi.MAX_PER_PAGE:
        raise BadQuery(f"“per_page” must be from 1 to {openapi.MAX_PER_PAGE}.")
    number = _int_param(request, "page", 1)
    paginator = Paginator(queryset, per_page)
    if not 1 <= number <= paginator.num_pages:
        raise Http404(f"There is no page {number}: pages run from 1 to {paginator.num_pages}.")
    page = paginator.page(number)

    def page_url(n: int) -> str:
        query = request.GET.copy()
        query["page"] = str(n)
        return request.build_absolute_uri(request.path + "?" + query.urlencode())

    return {
        "count": paginator.count,
        "next": page_url(number + 1) if page.has_next() else None,
        "previous": page_url(number - 1) if page.has_previous() else None,
        "results": [serialize(item) for item in page.object_list],
    }


def _party_filter[M: Model](request: HttpRequest, queryset: QuerySet[M], field: str = "party__slug") -> QuerySet[M]:
    """
    ?party=: not a slug is a 400; a slug no party has is a 404 naming those there are (editors may
    add parties, so the document describes a slug, not a list).
    """
    party = query_value(request, "party")
    if party:
        if not SLUG.match(party):
            raise BadQuery("“party” must be a party's slug, such as russia.")
        allowed = list(Party.objects.values_list("slug", flat=True))
        if party not in allowed:
            raise Http404(f"There is no party “{party}”; the parties are: {', '.join(allowed)}.")
        queryset = queryset.filter(**{field: party})
    return queryset


# ---- Endpoints ----


@api_view
def index(request: HtmxHttpRequest) -> ApiResult:
    """The entry point: links to every endpoint and to the OpenAPI document."""
    base = Links(request).base
    return {
        "name": "peaceplans API",
        "version": "v1",
        "description": openapi.DESCRIPTION.split("\n\n", 1)[0].replace("\n", " "),
        "openapi_url": base + reverse("api_openapi"),
        "docs_html_url": base + reverse("api_docs"),
        "parties_url": base + reverse("api_parties"),
        "plans_url": base + reverse("api_plans"),
        "endpoints": [
            {"path": path, "summary": item["get"]["summary"], "url_template": base + path}
            for path, item in openapi.document()["paths"].items()
        ],
    }


@api_view
def openapi_json(request: HtmxHttpRequest) -> ApiResult:
    """The OpenAPI 3.1 document."""
    return openapi.document()


@api_view
def parties(request: HtmxHttpRequest) -> ApiResult:
    """Every party, in column order."""
    link = Links(request)
    return paginate(request, Party.objects.all(), lambda p: party_data(p, link, settings.FEATURED_PLAN))


@api_view
def party(request: HtmxHttpRequest, party: str) -> ApiResult:
    """One party."""
    found = Party.objects.filter(slug=party).first() if SLUG.match(party) else None
    if found is None:
        raise Http404("There is no party with that name.")
    return party_data(found, Links(request), settings.FEATURED_PLAN)


@api_view
def plans(request: HtmxHttpRequest) -> ApiResult:
    """Every plan."""
    link = Links(request)
    return paginate(request, Plan.objects.order_by("title", "pk"), lambda p: plan_data(p, link))


@api_view
def plan(request: HtmxHttpRequest, plan: str) -> ApiResult:
    """One plan with its revisions and topics."""
    plan, link = _plan(plan), Links(request)
    topics = Topic.objects.filter(points__in=plan.points.public()).distinct()
    return {
        **plan_data(plan, link),
        "revisions": [revision_data(r, link, plan) for r in revision_query(plan)],
        "topics": [topic_data(t, link, plan) for t in topics],
    }


@api_view
def revisions(request: HtmxHttpRequest, plan: str) -> ApiResult:
    """The plan's revisions by date."""
    plan, link = _plan(plan), Links(request)
    return paginate(request, revision_query(plan), lambda r: revision_data(r, link, plan))


@api_view
def revision(request: HtmxHttpRequest, plan: str, revision: str) -> ApiResult:
    """One revision with its clauses and the statements on it as a whole."""
    plan, link = _plan(plan), Links(request)
    queryset = revision_query(plan).prefetch_related(
        Prefetch("clauses", queryset=clause_query().order_by("sort_order", "pk")),
        Prefetch("stances", queryset=stance_query(plan).filter(point__isnull=True)),
    )
    revision = _revision(queryset, revision)
    return {
        **revision_data(revision, link, plan),
        "clauses": [clause_data(c, link, plan) for c in revision.clauses.all()],
        "stances": [stance_data(s, link, plan) for s in revision.stances.all()],
    }


@api_view
def points(request: HtmxHttpRequest, plan: str) -> ApiResult:
    """The plan's points in plan order."""
    plan, link = _plan(plan), Links(request)
    return paginate(request, point_query(plan), lambda p: point_data(p, link, plan))


@api_view
def point(request: HtmxHttpRequest, plan: str, point: str) -> ApiResult:
    """One point: its wording in each revision, the stances on it and editors' published notes."""
    plan, link = _plan(plan), Links(request)
    found = point_by_key(plan, point, related=(), queryset=point_query(plan))
    if found is None:
        raise Http404("This plan has no point with that key.")
    return {
        **point_data(found, link, plan),
        "wording": [clause_data(c, link, plan, sources=c.source_list) for c in point_clauses(found)],
        "stances": [stance_data(s, link, plan) for s in point_stances(found, plan)],
        "notes": [note_data(n, link, plan) for n in note_query().filter(point=found)],
    }


@api_view
def stances(request: HtmxHttpRequest, plan: str) -> ApiResult:
    """The plan's stances by date, filterable by party, point and position."""
    plan, link = _plan(plan), Links(request)
    queryset = _party_filter(request, stance_query(plan))
    point = query_value(request, "point")
    if point:
        if not is_point_key(point):
            raise BadQuery("“point” must be a point's key, such as 6 or 10a.")
        if point_by_key(plan, point, related=()) is None:
            raise Http404(f"This plan has no point “{point}”.")
        queryset = queryset.filter(point__key=point)
    position = query_value(request, "position")
    if position and position not in Position.values:
        raise BadQuery(f"“position” must be one of: {', '.join(Position.values)}.")
    if position:
        queryset = queryset.filter(position=position)
    return paginate(request, queryset, lambda s: stance_data(s, link, plan))


@api_view
def events(request: HtmxHttpRequest, plan: str) -> ApiResult:
    """The plan's timeline events by date, optionally one party's."""
    plan, link = _plan(plan), Links(request)
    queryset = _party_filter(request, event_query(plan), field="parties__slug")
    return paginate(request, queryset, lambda e: event_data(e, link, plan))


# ---- The documented schema page ----


@require_safe
def docs(request: HtmxHttpRequest) -> HttpResponse:
    """The documented schema page: the OpenAPI document as HTML, with the dataset download."""
    context = openapi.docs_context(Links(request).base)
    context["dataset_plan"] = settings.FEATURED_PLAN
    context.update(sharing.for_api_docs(request))
    return render(request, "peaceplans/api_docs.html", context)


# ---- The whole-dataset download ----


@api_view
def plan_dataset(request: HtmxHttpRequest, plan: str) -> ApiResult:
    """The whole plan as one JSON file, with a version derived from the data and a “cite as” line."""
    plan = _plan(plan)
    objects = dataset_objects(plan)
    # Hashed with bare paths, so the version does not depend on the host name the file was asked from.
    version, latest = dataset_version(dataset_data(plan, objects, Links()))
    link = Links(request)
    now = timezone.now()
    url = link("plan_dataset", plan.slug)
    data = {
        "version": version,
        "updated_at": latest,
        "generated_at": now,
        "cite_as": f"peaceplans, “{plan.title}”, dataset version {version}, retrieved {now:%Y-%m-%d}, {url}",
        "notice": NOTICE,
        **dataset_data(plan, objects, link),
    }
    return Payload(
        data,
        # generated_at differs on every call: the ETag follows the data's version, so it is weak.
        etag=f'W/"{version}"',
        headers={"Content-Disposition": f'attachment; filename="{plan.slug}-dataset.json"'},
        indent=1,  # a file people open in an editor
    )
