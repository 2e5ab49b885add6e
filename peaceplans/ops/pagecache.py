"""
The page cache and the HTTP caching rules, in one middleware (settings.MIDDLEWARE, right
after whitenoise, so a hit skips everything else and its bytes are already compressed).

What is cached: every anonymous GET or HEAD outside /admin/ is a public read: the pages,
their HTMX fragments, CSV exports, the API, feeds, embeds and oEmbed. Responses with status
200, 301, 308, 404 or 410 are kept in CACHES["default"] (local memory, or Redis when
REDIS_URL is set) for PAGE_CACHE_SECONDS, under a key made of the data version
(dataversion.py), the code's fingerprint, today's date (citations say "accessed <today>"), the
method, whether the client takes gzip, the HX-Request and HX-History-Restore-Request
headers, and the address with scheme, host and query string. An edit gives the data a
new version, so the next request misses and renders fresh; old entries expire, and are read
again only as the stale page below.

Bounded (issue 19, item 6): only addresses a link or form of ours leads to are stored, so junk
cannot fill the cache. The path must name a view, and the query string hold only parameters that
page takes (settings.PAGE_CACHE_QUERIES, web/params.py); the key holds them decoded and sorted, so
other spellings of one address share its entry (`cache_query`). Any other address is rendered and
never stored nor looked up (`X-Page-Cache: uncached`). A 400 is never stored (a refused value is
nobody's link; a scanner invents them endlessly), a 404 only for an address without a query string.
/healthz and any view marked with `skip` are left alone entirely: no version read, no cache call.

No stampede after an edit: while one request renders a page at the new version, the others
are served the previous version's page, for PAGE_CACHE_STALE_SECONDS after the edit at most.
A miss takes a lock in the cache (`cache.add`, atomic in local memory and in Redis) for the
page at this version: the winner renders and stores it, and points the page's "latest" entry
(the key without the version) at it. A request that finds the lock taken is served the page
the latest entry points at, marked `X-Page-Cache: stale`, without an ETag or Last-Modified and
with `Cache-Control: no-store`, so no proxy or browser keeps it; when there is none, or the edit
is older than PAGE_CACHE_STALE_SECONDS (a winner that died or hangs), it renders the page itself
and never waits. Readers get the edit as soon as the winner has stored it. Editors bypass the
cache, so they never see a stale page; a cache that fails means every request renders.

What is never cached: requests carrying a session cookie (editors; nobody else has one) and
anything under /admin/, which also get `Cache-Control: private, no-store`; a response whose view
called `keep_private(request)` (a page with editors' links: editing/editor_links.py), which gets
the same header and is neither stored nor taken from the cache's stale copies; other methods;
responses that set a cookie, stream, vary on a header the key does not hold, carry a CSP
nonce, or that the view marked private or no-cache (@never_cache opts a view out).

HTTP: a 200 gets an ETag (the view's own, as the API sets, or a weak one naming what the page
is made from, see Page) and Last-Modified (when the data last changed); If-None-Match /
If-Modified-Since get a 304, on a hit or a miss alike (api.py's own check then has nothing
left to do for anonymous readers; it still answers editors).
Public responses whose view set no Cache-Control get `Cache-Control: public, max-age=0,
s-maxage=60` and `CDN-Cache-Control: public, max-age=60, stale-while-revalidate=300` (RFC
9213): a reverse proxy or CDN may keep them a minute and serve them stale for five more while
it revalidates, but a browser asks again on every visit (a cheap 304), so a reader never
sees a page older than the last edit; browsers apply stale-while-revalidate too, which is
why it is addressed to CDNs alone. `Vary: Cookie` keeps a shared copy from an editor. Views
that set their own Cache-Control (API, embeds) keep it. A response
that varies on HX-Request also varies on HX-History-Restore-Request. `X-Page-Cache` says
hit, miss, stale, off, uncached or bypass.
"""

import hashlib
import logging
import re
import time
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe, split_header_value, urlencode
from django.utils.module_loading import import_string

from peaceplans.ops import dataversion
from peaceplans.ops.surface import Surface, surface

log = logging.getLogger("peaceplans.middleware")  # the name operators filter on (docs/operations.md)

# Statuses kept. Not 400: a refused parameter value is not an address anyone links to, and junk values
# are endless (a scanner's). A 404 only for an address without a query string (see refresh()).
CACHED_STATUSES = {200, 301, 308, 404, 410}
# Answered with these headers too (a proxy may keep them a minute), but never stored here.
PUBLIC_STATUSES = CACHED_STATUSES | {400}
PUBLIC_CACHE_CONTROL = "public, max-age=0, s-maxage=60"
CDN_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"
PRIVATE_CACHE_CONTROL = "private, no-store"
STALE_CACHE_CONTROL = "no-store"  # the previous version's page, served while the new one renders
# The request headers the key holds; a response varying on anything else is not stored.
KEYED_VARY = {"accept-encoding", "hx-request", "hx-history-restore-request", "cookie"}
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
# Kept on a 304 besides those RFC 9110 names (Django copies those): the CDN's policy, and CORS
# because the API is read from other sites.
NOT_MODIFIED_EXTRA = (
    "CDN-Cache-Control",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "X-Page-Cache",
)
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
WHOLE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
MAX_STORED_BYTES = 5 * 1024 * 1024
# After a cache error (Redis down), serve uncached for this long before trying again.
RETRY_SECONDS = 10


def skip(view):
    """Mark a view the page cache must leave alone: no version read, no cache lookup, no headers (/healthz)."""
    view.skips_page_cache = True
    return view


class PageCacheMiddleware:
    """Serve anonymous reads from the cache, store what may be shared, and answer conditional GETs."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.retry_at = 0.0

    def __call__(self, request):
        if is_private(request):
            return private(self.get_response(request))
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        route = resolve_route(request.path_info)
        if route is not None and getattr(route.func, "skips_page_cache", False):
            return self.get_response(request)
        query = cache_query(request, route)
        if query is None:
            return self.uncached(request, "uncached")  # an address no link of ours leads to
        version = dataversion.current() if settings.PAGE_CACHE_SECONDS else None
        if version is None:
            return self.uncached(request, "off")
        page = Page(request, version, query)
        entry = self.cache_get(page.key)
        if entry is not None:
            response = rebuild(entry)
            response["X-Page-Cache"] = "hit"
        else:
            response = self.refresh(request, page, version)
            if kept_private(request):
                return response  # one reader's own page: no validators, no 304 against a shared copy
        if response.status_code == 200 and response["X-Page-Cache"] != "stale":
            set_last_modified(response, version)
        return not_modified_or(request, response)

    def uncached(self, request, reason: str):
        """Rendered, neither looked up nor stored; still public, with an ETag of the body."""
        response = self.render(request)
        if kept_private(request):
            return private(response)
        public_headers(response)
        response["X-Page-Cache"] = reason
        return not_modified_or(request, response)

    def refresh(self, request, page: "Page", version: dataversion.Version):
        """
        A miss: render the page and store it, unless another request is rendering it at this
        version already; then the previous version's page, while the edit is recent enough.
        """
        held = self.lock(page)
        if held is False:
            stale = self.stale(page, version)
            if stale is not None:
                return stale
        try:
            if held and (entry := self.cache_get(page.key)) is not None:
                response = rebuild(entry)  # the previous holder stored it between our read and our lock
                response["X-Page-Cache"] = "hit"
                return response
            response = self.render(request)
            if kept_private(request):
                return private(response)
            keep = storable(request, response) and kept_status(response.status_code, page.query)
            public_headers(response, etag=page.etag)
            if keep:
                self.store(page, version, freeze(response))
        finally:
            if held:
                self.unlock(page)
        response["X-Page-Cache"] = "miss"
        return response

    def render(self, request):
        """The view's response to the request without its conditions: 304s are answered here, from what is stored."""
        held = {name: request.META.pop(name) for name in CONDITIONAL_HEADERS if name in request.META}
        request.__dict__.pop("headers", None)  # request.headers is cached from META
        try:
            return self.get_response(request)
        finally:
            request.META.update(held)
            request.__dict__.pop("headers", None)

    def store(self, page: "Page", version: dataversion.Version, entry: tuple) -> None:
        """The page at this version, and its latest entry pointing at it (unless a newer version's already does)."""
        self.cache_set(page.key, entry)
        if not settings.PAGE_CACHE_STALE_SECONDS:
            return
        changed = version.changed_at.timestamp()
        latest = self.cache_get(page.latest_key)
        if latest is None or latest[1] <= changed:  # a slow render of an older version must not win
            self.cache_set(page.latest_key, (version.token, changed, page.key))

    def lock(self, page: "Page") -> bool | None:
        """
        True: this request renders the page for everyone at this version; False: another one
        is rendering it; None: no lock (stale pages are off, or the cache is failing).
        """
        if not settings.PAGE_CACHE_STALE_SECONDS or time.monotonic() < self.retry_at:
            return None
        try:
            return bool(cache.add(page.lock_key, 1, settings.PAGE_CACHE_STALE_SECONDS))
        except Exception:
            self.cache_failed("lock")
            return None

    def unlock(self, page: "Page") -> None:
        try:
            cache.delete(page.lock_key)
        except Exception:
            self.cache_failed("unlock")  # the lock expires by itself

    def stale(self, page: "Page", version: dataversion.Version):
        """
        The page the latest entry points at, while the edit is younger than
        PAGE_CACHE_STALE_SECONDS; None when there is none (then the request renders).
        """
        if time.time() - version.changed_at.timestamp() >= settings.PAGE_CACHE_STALE_SECONDS:
            return None
        latest = self.cache_get(page.latest_key)
        entry = self.cache_get(latest[2]) if latest is not None else None
        if entry is None:
            return None
        response = rebuild(entry)
        if latest[0] == version.token:  # the holder has just stored this version: it is current
            response["X-Page-Cache"] = "hit"
            return response
        for header in ("ETag", "Last-Modified", "CDN-Cache-Control"):
            del response[header]  # nothing may revalidate or keep the previous version as this one
        response["Cache-Control"] = STALE_CACHE_CONTROL
        response["X-Page-Cache"] = "stale"
        return response

    def cache_get(self, key: str):
        if time.monotonic() < self.retry_at:
            return None
        try:
            return cache.get(key)
        except Exception:  # whatever the backend raises (django-redis: ConnectionInterrupted, timeouts)
            self.cache_failed("read")
            return None

    def cache_set(self, key: str, entry) -> None:
        if time.monotonic() < self.retry_at:
            return
        try:
            cache.set(key, entry, settings.PAGE_CACHE_SECONDS)
        except Exception:
            self.cache_failed("write")

    def cache_failed(self, action: str) -> None:
        """The shared cache is unreachable: serve fresh pages, uncached, and try again in a while."""
        log.warning("Page cache %s failed; serving uncached for %d s", action, RETRY_SECONDS, exc_info=True)
        self.retry_at = time.monotonic() + RETRY_SECONDS


def resolve_route(path: str) -> ResolverMatch | None:
    """The view an address names; None when none does (a 404 or a redirect to add the slash: never stored)."""
    try:
        return resolve(path)
    except Resolver404:
        return None


def cache_query(request, route: ResolverMatch | None) -> str | None:
    """
    The query string the page cache keys this request on, "" for none; None when the request is
    not to be stored at all (rendered every time, "X-Page-Cache: uncached"): no view answers its
    path, or its query is not one the page takes (issue 19, item 6). The page's parameters come
    from settings.PAGE_CACHE_QUERIES (web/params.py: `Accepts`): each name must be one the page
    reads; given once, unless it is one that repeats with different values (compare's topic); not
    empty, unless a form of ours sends it empty; a whole number written without a sign or leading
    zero where one is expected, within its maximum. The key is the parameters decoded and sorted,
    so `?b=2&a=1` and `?a=1&b=%32` are one entry: the view reads them identically (parameters by
    name, topics as a set). Anything else, however it is spelled, would make an entry no link of
    ours leads to, and a scanner can invent those endlessly.
    """
    if route is None:
        return None
    if not request.META.get("QUERY_STRING"):
        return ""
    accepts = import_string(settings.PAGE_CACHE_QUERIES).get(route.url_name)
    if accepts is None:
        return None
    pairs = []
    for name, values in request.GET.lists():
        if name not in accepts.names or (
            len(values) > 1 and (name not in accepts.repeated or len(set(values)) < len(values))
        ):
            return None
        for value in values:
            if not value and name not in accepts.blank:
                return None
            if value and name in accepts.numbers and not canonical_number(value, accepts.numbers[name]):
                return None
            pairs.append((name, value))
    return urlencode(sorted(pairs))


def canonical_number(value: str, maximum: int) -> bool:
    """A whole number from 1 as our links write it ("2", not "02" or "+2"), at most `maximum` (0: any)."""
    return bool(WHOLE_NUMBER.fullmatch(value)) and (not maximum or int(value) <= maximum)


def is_private(request) -> bool:
    """The admin, and anyone with a session (an editor, logged in or once logged in): never cached."""
    return surface(request) is Surface.ADMIN or settings.SESSION_COOKIE_NAME in request.COOKIES


PRIVATE_MARK = "_peaceplans_private_page"


def keep_private(request) -> None:
    """Called by a view or template tag whose page is one reader's own (editors' links): never stored nor shared."""
    setattr(request, PRIVATE_MARK, True)


def kept_private(request) -> bool:
    return getattr(request, PRIVATE_MARK, False)


def private(response):
    """Neither the browser nor any proxy may keep it: editors always see the data as it is now."""
    if "no-store" not in response.get("Cache-Control", ""):
        response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    response["X-Page-Cache"] = "bypass"
    return response


class Page:
    """
    What one anonymous request asks for at one version of the data: its cache key and its ETag.

    The ETag names the version, the code, the day, the address and the HTMX headers: everything
    the page is made from, so it is the same on every server and needs no hashing of the body
    (gzip adds random bytes against BREACH, so bodies differ from one rendering to the next).
    It is weak: the gzipped and plain answers share it. The key adds the method and the encoding.
    The latest key is the same request at any version; the lock key, at this version.
    """

    def __init__(self, request, version: dataversion.Version, query: str = ""):
        self.query = query
        address = request.build_absolute_uri(request.path) + (f"?{query}" if query else "")
        shown = "\n".join(
            (
                dataversion.release(),
                timezone.localdate().isoformat(),  # citations say "Accessed <today>"
                request.headers.get("HX-Request", ""),
                request.headers.get("HX-History-Restore-Request", ""),
                address,  # pages carry absolute links: scheme and host count; the query as cache_query() puts it
            )
        )
        encoding = "gzip" if ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")) else "identity"
        answer = digest(f"{shown}\n{request.method}\n{encoding}")[:40]  # this request, at any version
        self.etag = 'W/"' + digest(f"{version.token}\n{shown}")[:32] + '"'
        self.key = f"page:{version.token}:" + digest(f"{version.token}\n{answer}")[:40]
        self.latest_key = f"page-latest:{answer}"  # (token, changed_at, key) of the newest version stored
        self.lock_key = f"page-lock:{version.token}:{answer}"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def kept_status(status: int, query: str) -> bool:
    """Whether a response with this status to an address with this (cache_query) query string is stored."""
    return status in CACHED_STATUSES and (status != 404 or not query)


def vary(response) -> set[str]:
    return {header.lower() for header in split_header_value(response.get("Vary", ""))}


def storable(request, response) -> bool:
    """Whether the response is the same for every anonymous request with this key."""
    if response.status_code not in CACHED_STATUSES or response.streaming or response.cookies:
        return False
    directives = {d.split("=")[0].lower() for d in split_header_value(response.get("Cache-Control", ""))}
    if directives & {"private", "no-store", "no-cache"}:
        return False
    varies = vary(response)
    if not varies <= KEYED_VARY or ("cookie" in varies and request.COOKIES):
        return False  # it depends on something the key does not hold
    if "'nonce-" in response.get("Content-Security-Policy", ""):
        return False  # a replayed nonce would be no protection at all
    return len(response.content) <= MAX_STORED_BYTES


def public_headers(response, *, etag: str = "") -> None:
    """
    ETag, Cache-Control and Vary for an anonymous response (stored with it, so a hit replays
    them). A view's own ETag wins (the API hashes its JSON); without a Page (page cache off)
    the tag is a hash of the body as sent.
    """
    if response.streaming:
        return
    if response.cookies:
        private(response)
        return
    if response.status_code == 200 and not response.has_header("ETag"):
        response["ETag"] = etag or '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    if response.status_code in PUBLIC_STATUSES and not response.has_header("Cache-Control"):
        response["Cache-Control"] = PUBLIC_CACHE_CONTROL
        response["CDN-Cache-Control"] = CDN_CACHE_CONTROL
        patch_vary_headers(response, ["Cookie"])  # an editor's browser must not get this copy from a proxy
    if "hx-request" in vary(response):
        # htmx restores history with both headers and wants the whole page: a cache must tell them apart.
        patch_vary_headers(response, ["HX-History-Restore-Request"])


def freeze(response) -> tuple:
    return response.status_code, list(response.headers.items()), response.content


def rebuild(entry) -> HttpResponse:
    status, headers, content = entry
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response.headers[name] = value
    return response


def set_last_modified(response, version: dataversion.Version) -> None:
    """
    When the data last changed, which is no earlier than any change this page shows (the
    view's own guess, such as a feed's newest entry, may miss a deletion). Left out during the
    second after an edit: Last-Modified counts whole seconds, and a second edit within the
    same second would otherwise look unmodified to If-Modified-Since.
    """
    changed = version.changed_at.timestamp()
    if time.time() - changed >= 1:
        response["Last-Modified"] = http_date(changed)
    else:
        del response["Last-Modified"]


def not_modified_or(request, response):
    """304 (or 412) when the request's conditions say the client already holds this response."""
    # Given a response, Django returns it or a 304/412, never None (its stub's return type allows None).
    answer = cast(
        HttpResponse,
        get_conditional_response(
            request, etag=response.get("ETag"), last_modified=last_modified(response), response=response
        ),
    )
    if answer is not response:
        for header in NOT_MODIFIED_EXTRA:
            if header in response:
                answer[header] = response[header]
    return answer


def last_modified(response) -> int | None:
    return parse_http_date_safe(response["Last-Modified"]) if response.has_header("Last-Modified") else None
