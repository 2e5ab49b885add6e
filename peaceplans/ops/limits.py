"""
Requests refused before anything else reads them (settings.MIDDLEWARE, ahead of the page
cache): nothing oversized becomes a cache key, and nothing a database cannot store reaches it.

- a path longer than MAX_PATH_BYTES, or a query string longer than MAX_QUERY_STRING_BYTES:
  414 URI Too Long (our longest real address is a few hundred bytes; a 200-character search
  in any script, percent-encoded, fits in the query string with room to spare);
- a Content-Length over MAX_REQUEST_BODY_BYTES: 400, before the body is read. Below it,
  Django's own limits still apply when a form is read (DATA_UPLOAD_MAX_MEMORY_SIZE,
  DATA_UPLOAD_MAX_NUMBER_FIELDS: RequestDataTooBig and TooManyFieldsSent are 400s too);
- a NUL character (%00) in the path, a query parameter's name or value, or a cookie: 400.
  PostgreSQL refuses NUL in text, so such a value would be a 500 at the first query that
  used it; no page has a use for it. (Overlong UTF-8 such as %C0%80 and lone surrogates such
  as %ED%A0%80 are not NUL: Django decodes them to U+FFFD.)

Refusals are the site's own pages (JSON under the API), never stored by a cache, and carry
the same security headers as every other page: this middleware sits inside SecurityMiddleware
and peaceplans.ops.security.SecurityHeadersMiddleware (which adds the CSP and X-Frame-Options that
the middleware further in would have), so their headers are applied on the way out.
"""

from django.conf import settings

from peaceplans.ops.errors import refuse

URI_TOO_LONG = 414
NUL = "\x00"


class RequestLimitsMiddleware:
    """414 for an over-long address, 400 for an over-long body or a NUL character; everything else passes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = check(request)
        if refusal is not None:
            return refuse(request, *refusal)
        return self.get_response(request)


def check(request) -> tuple[int, str] | None:
    """(status, message) when the request breaks a limit, else None. Lengths are checked before any parsing."""
    path_bytes = len(request.path_info.encode("utf-8", "surrogatepass"))
    if path_bytes > settings.MAX_PATH_BYTES:
        return (
            URI_TOO_LONG,
            f"This address is {path_bytes:,} bytes long; addresses here are at most {settings.MAX_PATH_BYTES:,}.",
        )
    query_bytes = len(request.META.get("QUERY_STRING", ""))  # as sent: percent-encoded, one character a byte
    if query_bytes > settings.MAX_QUERY_STRING_BYTES:
        return (
            URI_TOO_LONG,
            f"This address's query (after the “?”) is {query_bytes:,} bytes long; "
            f"at most {settings.MAX_QUERY_STRING_BYTES:,} are accepted.",
        )
    length = content_length(request)
    if length is None:
        return 400, "The request's Content-Length is not a number."
    if length > settings.MAX_REQUEST_BODY_BYTES:
        return 400, f"The request's body is {length:,} bytes; at most {settings.MAX_REQUEST_BODY_BYTES:,} are accepted."
    if NUL in request.path_info or has_nul(request.GET.lists()) or has_nul(request.COOKIES.items()):
        return 400, "The address contains a NUL character (%00), which is not text: remove it."
    return None


def content_length(request) -> int | None:
    """The declared body length, 0 when none is declared; None when it is not a number."""
    value = request.META.get("CONTENT_LENGTH") or "0"
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if len(value) <= 18 else 10**18  # int() of thousands of digits would raise


def has_nul(pairs) -> bool:
    for name, values in pairs:
        if NUL in name or any(NUL in value for value in ([values] if isinstance(values, str) else values)):
            return True
    return False
