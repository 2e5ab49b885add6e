"""
Error answers in each surface's own format (ops/surface.py): the API's JSON, the embeds' card
shown inside the frame, or the site's page. Middleware and features both use these, so a
refusal looks the same whether a view or the request limits raised it.
"""

import hashlib
import json

from django.core.exceptions import BadRequest, DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.defaults import page_not_found

from peaceplans.ops.surface import Surface, surface


class BadQuery(BadRequest):
    """A query-string value we cannot use; its message is shown to the reader with a 400."""


JSON_CACHE_CONTROL = "public, max-age=60"


def json_response(content: bytes, status: int = 200, etag: str = "") -> HttpResponse:
    """A JSON body with the API's headers: a strong ETag of the body (or the caller's), a minute's caching, CORS."""
    response = HttpResponse(content, status=status, content_type="application/json")
    response["ETag"] = etag or '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    response["Cache-Control"] = JSON_CACHE_CONTROL
    # The data is public, read-only and carries no cookies or credentials: any site (a newsroom's
    # chart, a notebook) may read it from the browser. Nothing here acts on the caller's behalf.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag"
    return response


def json_error(status: int, message: str) -> HttpResponse:
    """The API's error answer: {"error": message} (ensure_ascii off: Cyrillic stays readable, in UTF-8)."""
    return json_response(json.dumps({"error": message}, ensure_ascii=False).encode(), status=status)


def embed_error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """The embed's error card: a broken embed says what is wrong inside the frame."""
    return render(request, "embed/error.html", {"message": message, "status": status}, status=status)


def page_error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """The site's error page for that status (templates/<status>.html)."""
    return render(request, f"{status}.html", {"exception": message}, status=status)


def refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A refusal in the request's own format; never stored by any cache."""
    kind = surface(request)
    if kind is Surface.API:
        response = json_error(status, message)
    elif kind is Surface.EMBED:
        response = embed_error(request, status, message)
    else:
        response = page_error(request, status, message)
    # Never stored: an address this long (or an outage's answer) must not become a cache entry anywhere.
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400. Only our own messages (BadQuery) are shown; others may carry internal detail."""
    if isinstance(exception, DisallowedHost):  # the page's links would read the refused Host again: plain text
        message = "Bad request: this site does not answer to that host name.\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    message = str(exception) if isinstance(exception, BadQuery) else ""
    return render(request, "400.html", {"exception": message}, status=400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """
    handler404: JSON for an API address no route takes (a .json download named by something that is
    not a slug, say), so the API answers JSON everywhere; Django's own 404 page for the rest.
    """
    if surface(request) is Surface.API:
        return json_error(404, "There is nothing at this address; /api/v1/ lists the API's endpoints.")
    return page_not_found(request, exception)
