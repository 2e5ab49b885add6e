"""
Embeds: small versions of the point card and of a comparison that other sites may frame,
and the oEmbed endpoint that describes them.

These are the only pages any site may frame (settings refuse framing everywhere else). They
read no session and set no cookie, and carry the editors' published notes, their sources and a
link back to the full page.

They run one script, static/peaceplans/embed.js, loaded from our origin (the embeds' CSP allows
'self' scripts and nothing inline): it tells the page that frames the embed how tall it is, in
pym.js's message format, so the <iframe> grows to its content instead of scrolling inside the
article. The `childId` pym's parent adds to the address (with initialWidth, parentTitle and
parentUrl) is read by that script alone; these views ignore it, like any other unknown
parameter, so nothing of it reaches the HTML. static/peaceplans/embed-host.js is the other half,
for articles that do not run pym.js; the snippet (web/sharing.py) loads it.
"""

from functools import wraps
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Party, Plan, Point, Revision, Source
from peaceplans.ops.errors import BadQuery, embed_error
from peaceplans.ops.security import EMBED_CSP
from peaceplans.selectors import get_plan, point_by_key, point_wording
from peaceplans.web import sharing
from peaceplans.web.params import (
    SLUG,
    Focus,
    HasQuery,
    HtmxHttpRequest,
    View,
    check_points,
    compare_focus,
    compare_params,
    listed_values,
    query_value,
)

MAX_DIMENSION = 10_000


def frameable[**P](view: View[P]) -> View[P]:
    """
    Let any site frame the view (no X-Frame-Options, CSP frame-ancestors *), and show its
    400 and 404 inside the frame too, so a broken embed says what is wrong instead of
    being refused. Browsers and proxies may keep the answer five minutes.
    """

    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (Http404, BadQuery) as error:
            return embed_error(request, 404 if isinstance(error, Http404) else 400, str(error))

    return cache_control(public=True, max_age=300)(xframe_options_exempt(csp_override(EMBED_CSP)(wrapped)))


def chosen_revisions(query: HasQuery, revisions: list[Revision], wording_by_revision: dict) -> list[Revision]:
    """The revisions `?revisions=` names, in the plan's order; by default every one that has the point."""
    slugs = listed_values(query, "revisions", SLUG, "us-28-point-draft,e3-counter-proposal")
    if not slugs:
        return [revision for revision in revisions if wording_by_revision.get(revision.pk)]
    known = {revision.slug for revision in revisions}
    for slug in slugs:
        if slug not in known:
            raise Http404(f"This plan has no revision called “{slug}”.")
    return [revision for revision in revisions if revision.slug in slugs]


def find_point(plan: Plan, key: str) -> Point:
    point = point_by_key(plan, key)
    if point is None:
        raise Http404(f"This plan has no point “{key}”.")
    return point


def point_card(request: HttpRequest, plan: Plan, point: Point) -> dict[str, Any]:
    """The point card's context: the wording in the chosen revisions and each party's latest stance."""
    revisions = list(plan.revisions.public().in_order())
    wording = point_wording(point, revisions, None)
    by_revision = {revision.pk: clause for revision, clause, _ in wording}
    chosen = chosen_revisions(request, revisions, by_revision)
    stances = list(point.stances.public().with_sources().chronological())
    latest = {stance.party_id: stance for stance in stances}  # the last one per party wins
    return {
        "plan": plan,
        "point": point,
        "wording": [(revision, by_revision.get(revision.pk)) for revision in chosen],
        "parties": [(party, latest.get(party.pk)) for party in Party.objects.all()],
        "notes": list(point.annotations.published().select_related("author")),
        "full_url": sharing.absolute(request, point.get_absolute_url()),
    }


@require_safe
@frameable
def embed_point(request: HtmxHttpRequest, plan: str, point: str) -> HttpResponse:
    """A point card for articles: its wording in chosen revisions and the parties' latest stances."""
    plan = get_plan(plan)
    return render(request, "embed/point.html", point_card(request, plan, find_point(plan, point)))


def compare_card(request: HttpRequest, plan: Plan) -> dict[str, Any]:
    """
    The comparison's context, its rows cut to the topics `?topic=` and the points `?points=` name
    (every row by default) as on the page; its counts stay those of the whole comparison.
    """
    _, a, b, view, changes = compare_params(request, plan)
    focus = compare_focus(request)
    check_points(plan, focus)
    keys = list(focus.points)
    comparison = None if a == b else compare_revisions(plan, a, b, changes_only=changes == "only")
    rows = comparison.rows if comparison else []
    if focus.topics:
        rows = [row for row in rows if row.point.topic_id in focus.topic_ids]
    if keys:
        rows = [row for row in rows if row.point.key in keys]
    shown = {row.point.key for row in rows}
    # "The full comparison": every point of the topics asked for, at the point when one was asked for.
    full_url = sharing.compare_url(request, plan, a, b, view, changes, Focus(topics=focus.topics))
    return {
        "plan": plan,
        "a": a,
        "b": b,
        "view": view,
        "changes": changes,
        "comparison": comparison,
        "rows": rows,
        "keys": keys,
        "not_shown": [key for key in keys if key not in shown],
        "sides": [a] if a == b else [a, b],
        "full_url": full_url + (f"#point-{keys[0]}" if len(keys) == 1 else ""),
    }


@require_safe
@frameable
def embed_compare(request: HtmxHttpRequest, plan: str) -> HttpResponse:
    """A comparison for articles: word-level changes from A to B, optionally for a few points only."""
    context = compare_card(request, get_plan(plan))
    prefetch_related_objects(context["sides"], "sources")
    context["sources"] = side_sources(context["sides"])
    return render(request, "embed/compare.html", context)


def side_sources(sides: list[Revision]) -> list[tuple[Source, str]]:
    """
    Each source of the compared texts once, oldest first, with the sides it stands behind
    ("A", "B", "A and B"; "" when both sides are one text): the embed's compact source list.
    Expects the sides' sources prefetched.
    """
    labels = ["A", "B"] if len(sides) > 1 else [""]
    behind: dict[int, list[str]] = {}
    for label, revision in zip(labels, sides, strict=True):
        for source in revision.sources.all():
            behind.setdefault(source.pk, []).append(label)
    listed = sharing.unique_sources(source for revision in sides for source in revision.sources.all())
    return [(source, " and ".join(filter(None, behind[source.pk]))) for source in listed]


# oEmbed (https://oembed.com): a consumer sends a page address and gets the <iframe> for it.


def dimension(request: HasQuery, name: str) -> int | None:
    value = query_value(request, name)
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_DIMENSION:
        raise BadQuery(f"“{name}” must be a whole number of pixels from 1 to {MAX_DIMENSION}.")
    return int(value)


def described_embed(request: HttpRequest, url: str) -> sharing.Embed:
    """
    The embed for an address of ours: a point page, a comparison or an embed itself, checked
    as those pages check it. 400 for what is not an http(s) address at all; 404 for another
    site's address or a page of ours that has no embed or does not exist.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise BadQuery("“url” is not a web address.") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BadQuery("“url” must be an http or https address of a page on this site.")
    if parts.username is not None or parts.netloc.lower() != request.get_host().lower():
        raise Http404("Only pages of this site can be described.")
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise Http404("There is no page at that address.") from None
    target = SimpleNamespace(GET=QueryDict(parts.query))
    try:
        plan = get_plan(match.kwargs.get("plan", ""))
        if match.url_name in {"point_detail", "embed_point"}:
            point = find_point(plan, match.kwargs["point"])
            revisions = []
            if match.url_name == "embed_point" and target.GET.get("revisions"):
                revisions = chosen_revisions(target, list(plan.revisions.public().in_order()), {})
            return sharing.point_embed(request, point, revisions)
        if match.url_name in {"compare", "embed_compare"}:
            _, a, b, view, changes = compare_params(target, plan)
            focus = compare_focus(target)
            keys = list(focus.points)
            if not keys and parts.fragment.startswith("point-"):
                keys = [parts.fragment.removeprefix("point-")]
            if keys and plan.points.public().filter(key__in=keys).count() != len(keys):
                raise Http404("That comparison names a point this plan does not have.")
            return sharing.compare_embed(request, plan, a, b, view, changes, keys, focus)
    except BadQuery:
        raise Http404("That page's address has a value it cannot use.") from None
    raise Http404("Only point pages and comparisons can be embedded.")


def plain_text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


@require_safe
def oembed(request: HtmxHttpRequest) -> HttpResponse:
    """The oEmbed description (JSON, type "rich") of a point page, a comparison or an embed of this site."""
    try:
        return oembed_response(request)
    except BadQuery as error:  # a consumer is a program: it gets the reason as plain text
        return plain_text(str(error), 400)
    except Http404 as error:
        return plain_text(str(error) or "Not found.", 404)


def oembed_response(request: HttpRequest) -> HttpResponse:
    url = query_value(request, "url").strip()
    if not url:
        raise BadQuery("Give the address of a point page or a comparison on this site as “url”.")
    if query_value(request, "format", default="json") != "json":
        return plain_text("Only format=json is available.", 501)
    max_width, max_height = dimension(request, "maxwidth"), dimension(request, "maxheight")
    embed = described_embed(request, url)
    width = min(sharing.EMBED_WIDTH, max_width or sharing.EMBED_WIDTH)
    height = min(embed.height, max_height or embed.height)
    response = JsonResponse(
        {
            "version": "1.0",
            "type": "rich",
            "title": embed.title,
            "provider_name": sharing.SITE_NAME,
            "provider_url": request.build_absolute_uri(reverse("home")),
            "cache_age": 3600,
            "html": sharing.iframe_html(
                embed.url, embed.title, width=width, height=height, host_script=embed.host_script
            ),
            "width": width,
            "height": height,
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = "*"  # public data; lets a newsroom's editor fetch it from the browser
    return response
