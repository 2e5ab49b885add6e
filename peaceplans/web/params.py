"""
Query parameters, read one way for every surface: the pages (web/), and the API, embeds and
CSV exports (publish/). A value we cannot use is a BadQuery (a 400 that says why), a value
naming nothing is a 404; nothing malformed reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Concatenate, Protocol

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django_htmx.middleware import HtmxDetails

from peaceplans.ops.errors import BadQuery

if TYPE_CHECKING:
    from peaceplans.models import Plan, Revision

MATRIX_PER_PAGE = 30
MATRIX_MAX_PER_PAGE = 100  # ?per_page= is clamped to 1..this: never every row
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")

__all__ = [
    "SLUG",
    "BadQuery",
    "HasQuery",
    "HtmxHttpRequest",
    "View",
    "compare_params",
    "is_partial",
    "matrix_paging",
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
