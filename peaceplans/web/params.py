"""
Query parameters, read one way for every surface: the pages (web/), and the API, embeds and
CSV exports (publish/). A value we cannot use is a BadQuery (a 400 that says why), a value
naming nothing is a 404; nothing malformed reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Concatenate, Protocol

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django_htmx.middleware import HtmxDetails

from peaceplans.ops.errors import BadQuery

if TYPE_CHECKING:
    from peaceplans.models import Plan, Revision, Topic

MATRIX_PER_PAGE = 30
MATRIX_MAX_PER_PAGE = 100  # ?per_page= is clamped to 1..this: never every row
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
POINT_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
TOPIC_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_LISTED = 100  # revisions or points named in one address

__all__ = [
    "CACHED_QUERIES",
    "SLUG",
    "Accepts",
    "BadQuery",
    "Focus",
    "HasQuery",
    "HtmxHttpRequest",
    "View",
    "check_points",
    "compare_focus",
    "compare_params",
    "is_partial",
    "listed_values",
    "matrix_paging",
    "part_param",
    "query_value",
    "revision_param",
]


class HtmxHttpRequest(HttpRequest):
    """What every view receives: django-htmx's middleware (settings.MIDDLEWARE) sets .htmx on each request."""

    htmx: HtmxDetails


# A view: the request, then the address's parts (P), and a response. Decorators keep P.
type View[**P] = Callable[Concatenate[HtmxHttpRequest, P], HttpResponse]


class HasQuery(Protocol):
    """What the query helpers read: a request, or a parsed address standing in for one (publish/embeds.py)."""

    @property
    def GET(self) -> QueryDict: ...


def query_value(request: HasQuery, name: str, *, allowed: Sequence[str] | None = None, default: str = "") -> str:
    """One value of a query parameter: repeated or malformed values are a 400, never a guess."""
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise BadQuery(f"“{name}” was given {len(values)} times; give it once.")
    value = values[0] if values else default
    if allowed is not None and value not in allowed:
        raise BadQuery(f"“{name}” must be one of: {', '.join(allowed)}.")
    return value


def revision_param[D](request: HasQuery, name: str, revisions: list[Revision], default: D) -> Revision | D:
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


def is_partial(request: HtmxHttpRequest) -> bool:
    """An HTMX swap wants the region; a history restore after a cache miss wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def whole_number(request: HasQuery, name: str, example: str) -> int | None:
    """A positive whole number from the query, None when absent; anything else is a 400."""
    value = query_value(request, name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        raise BadQuery(f"“{name}” must be a whole number, such as {example}.")
    return int(value)


def part_param(request: HasQuery) -> int | None:
    """
    The compare and party pages' ?part= (web/parts.py): a whole number from 1, None when absent
    (the first part). Anything else is a 400; a part past the page's last is the view's 404.
    """
    return whole_number(request, "part", "2")


def matrix_paging(request: HasQuery) -> tuple[int, int]:
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


def compare_params(request: HasQuery, plan: Plan) -> tuple[list[Revision], Revision, Revision, str, str]:
    """
    The compare page's revisions and its checked parameters (revisions, a, b, view, changes),
    shared with its CSV and embed so all refuse the same addresses: 400 for a malformed value,
    404 for a revision the plan does not have.
    """
    revisions = list(plan.revisions.public().in_order())  # the pickers show titles and dates, not authors
    if not revisions:
        raise Http404("This plan has no revisions to compare yet.")
    a = revision_param(request, "a", revisions, revisions[0])
    b = revision_param(request, "b", revisions, revisions[1] if len(revisions) > 1 else revisions[0])
    view = query_value(request, "view", allowed=["side", "inline"], default="side")
    changes = query_value(request, "changes", allowed=["all", "only"], default="all")
    return revisions, a, b, view, changes


def listed_values(query: HasQuery, name: str, pattern: re.Pattern[str], example: str) -> list[str]:
    """A comma-separated list from the query ("6,7,8"), each value checked, repeats dropped; [] when absent."""
    raw = query_value(query, name)
    if not raw:
        return []
    values = raw.split(",")
    if len(values) > MAX_LISTED:
        raise BadQuery(f"“{name}” may list at most {MAX_LISTED} values.")
    for value in values:
        if not pattern.match(value):
            raise BadQuery(f"“{name}” must be a comma-separated list such as {example}.")
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class Focus:
    """
    What part of a comparison to show: the points of some topics (`?topic=nato&topic=territory`)
    and/or some points by key (`?points=6,7,21`, the embed's syntax). Empty: every point.
    """

    topics: tuple[Topic, ...] = ()
    points: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.topics or self.points)

    @property
    def topic_slugs(self) -> list[str]:
        return [topic.slug for topic in self.topics]

    @property
    def topic_ids(self) -> frozenset[int]:
        return frozenset(topic.pk for topic in self.topics)

    def query(self) -> list[tuple[str, str]]:
        """The focus as query pairs, in a stable order: each topic, then the points."""
        pairs = [("topic", slug) for slug in self.topic_slugs]
        return pairs + ([("points", ",".join(self.points))] if self.points else [])


def compare_focus(request: HasQuery, topics: Sequence[Topic] | None = None) -> Focus:
    """
    The comparison's focus, shared by the page, its CSV and its embed. `topic` may repeat (one
    topic each); each must be one of `topics` (the vocabulary, in its order; read here, one query,
    only when a topic is asked for and the caller has not read them): anything else is a 400
    naming what may be given. `points` is the embed's comma-separated list of point keys.
    """
    slugs = [slug for slug in request.GET.getlist("topic") if slug]
    if topics is None:
        from peaceplans.models import Topic  # noqa: PLC0415 (params is imported by the models' neighbours)

        topics = list(Topic.objects.all()) if slugs else []
    if len(slugs) > len(topics):
        raise BadQuery(f"“topic” was given {len(slugs)} times; there are only {len(topics)} topics.")
    by_slug = {topic.slug: topic for topic in topics}
    for slug in slugs:
        if not TOPIC_SLUG.match(slug) or slug not in by_slug:
            known = ", ".join(by_slug) or "none"
            raise BadQuery(f"“topic” must name a topic, one of: {known}.")
    chosen = tuple(topic for topic in topics if topic.slug in slugs)
    points = tuple(listed_values(request, "points", POINT_KEY, "6,7,21"))
    return Focus(topics=chosen, points=points)


def check_points(plan: Plan, focus: Focus) -> None:
    """404 when `?points=` names a point the plan does not have (one query, only when points are named)."""
    if not focus.points:
        return
    found = set(plan.points.public().filter(key__in=focus.points).values_list("key", flat=True))
    missing = [key for key in focus.points if key not in found]
    if missing:
        raise Http404(f"This plan has no point “{missing[0]}”.")


# ---- The queries each page takes, for the page cache ----


@dataclass(frozen=True)
class Accepts:
    """
    The query parameters one address takes, as the page cache stores them (ops/pagecache.py,
    cache_query; settings.PAGE_CACHE_QUERIES names CACHED_QUERIES below). A request whose query
    has any other name, a name twice (but `repeated`), an empty value (but `blank`) or a number
    written otherwise than our links write it is answered but never stored.
    """

    names: frozenset[str]
    blank: frozenset[str] = frozenset()  # a form of ours sends them empty ("all parties")
    repeated: frozenset[str] = frozenset()  # given once per value (?topic=nato&topic=territory)
    numbers: dict[str, int] = field(default_factory=dict)  # whole numbers from 1, each at most this (0: no maximum)


def accepts(names: str, *, blank: str = "", repeated: str = "", numbers: dict[str, int] | None = None) -> Accepts:
    return Accepts(frozenset(names.split()), frozenset(blank.split()), frozenset(repeated.split()), numbers or {})


_MATRIX = accepts(
    "on topic party position q sort page per_page",
    blank="on topic party position q",  # the filter form's fields; sort and page come from links
    numbers={"page": 0, "per_page": MATRIX_MAX_PER_PAGE},
)
_COMPARE = accepts("a b view changes topic points", blank="points", repeated="topic")  # points: the form's box
_API_PAGES = {"page": 0, "per_page": 0}
# By URL name (peaceplans/urls.py). An address not named here takes no query string: with one, it is never stored.
CACHED_QUERIES: dict[str, Accepts] = {
    "home": _MATRIX,
    "plan_detail": _MATRIX,
    "plan_matrix_csv": _MATRIX,
    "compare": accepts("a b view changes topic points part", blank="points", repeated="topic", numbers={"part": 0}),
    "compare_csv": _COMPARE,
    "embed_compare": _COMPARE,
    "point_detail": accepts("against", blank="against"),  # the "mark changes against" menu's "nothing"
    "wording_csv": accepts("against"),
    "party_detail": accepts("part", numbers={"part": 0}),
    "timeline": accepts("party", blank="party"),
    "timeline_csv": accepts("party"),
    "source_list": accepts("page source", numbers={"page": 0, "source": 0}),
    "search": accepts("q plan", blank="q plan"),
    "embed_point": accepts("revisions"),
    "oembed": accepts("url format maxwidth maxheight", numbers={"maxwidth": 0, "maxheight": 0}),
    "api_parties": accepts("page per_page", numbers=_API_PAGES),
    "api_plans": accepts("page per_page", numbers=_API_PAGES),
    "api_revisions": accepts("page per_page", numbers=_API_PAGES),
    "api_points": accepts("page per_page", numbers=_API_PAGES),
    "api_stances": accepts("page per_page party point position", numbers=_API_PAGES),
    "api_events": accepts("page per_page party", numbers=_API_PAGES),
}
