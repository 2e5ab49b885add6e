"""
What kind of response a request asks for, decided in one place from its address and headers.

Every middleware that answers differently by kind (the page cache, the security headers, the
request limits, the database faults) asks `surface(request)` instead of testing paths itself,
so a new kind of address is taught to all of them at once. Addresses are public contracts
(docs/architecture.md): these prefixes follow peaceplans/urls.py.
"""

import functools
from enum import StrEnum

from django.conf import settings
from django.urls import reverse

# The only addresses other sites may frame (publish/embeds.py): the security headers and the
# error renderers treat them apart.
EMBED_PREFIX = "/embed/"
FEED_PREFIX = "/feeds/"


class Surface(StrEnum):
    PAGE = "page"  # a whole HTML page
    FRAGMENT = "fragment"  # an HTMX swap of one region of a page
    API = "api"  # JSON: /api/v1/ and the .json downloads
    EMBED = "embed"  # a frameable card under /embed/
    FEED = "feed"  # Atom
    ADMIN = "admin"  # the editors' workshop
    STATIC = "static"  # files whitenoise serves


@functools.cache
def _prefixes() -> tuple[str, str, str]:
    return reverse("admin:index"), reverse("api_index"), settings.STATIC_URL


def surface(request) -> Surface:
    """The kind of response this request asks for (see Surface)."""
    path = request.path_info
    admin, api, static = _prefixes()
    if path.startswith(admin):
        return Surface.ADMIN
    if path.startswith(static):
        return Surface.STATIC
    if path.startswith(api) or path.endswith(".json"):
        return Surface.API
    if path.startswith(EMBED_PREFIX):
        return Surface.EMBED
    if path.startswith(FEED_PREFIX):
        return Surface.FEED
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        return Surface.FRAGMENT
    return Surface.PAGE
