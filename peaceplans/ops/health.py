"""
/healthz: whether this app server can reach its database and its cache, for a load balancer or
a monitor. Cheap (one trivial query, one cache set and get, no template, no session) and never
cached anywhere, so each probe sees the state of the moment.

200 {"status": "ok", "database": "ok", "cache": "ok"} when both answer; 503 with "status":
"error" and each failing part as "error: <exception class>" otherwise. Exception classes only:
no messages, which may name hosts, users or paths.

?part=database (or ?part=cache) checks that part alone. A load balancer wants the database alone:
Redis is shared, so a Redis outage fails every server's full check at once, while each server still
serves every page (uncached); a balancer that took them all out would serve nothing.
"""

import json
import logging
import secrets
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger("peaceplans.faults")

# Long enough for the get that follows, short enough that probes leave nothing behind.
PROBE_SECONDS = 10


class NotReadBack(Exception):
    """The cache took a value and did not give it back: down, behind a client that swallows its errors."""


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not answer 1")
    return "ok"


def check_cache() -> str:
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, PROBE_SECONDS)
    if cache.get(key) != value:
        raise NotReadBack
    cache.delete(key)
    return "ok"


def probe(check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:
        log.error("Health check %s failed: %s", check.__name__, type(exc).__qualname__)
        return f"error: {type(exc).__qualname__}"


CHECKS = {"database": check_database, "cache": check_cache}


def json_response(report: dict[str, str], status: int) -> HttpResponse:
    return HttpResponse(json.dumps(report), status=status, content_type="application/json")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Each part asked for (?part=, default both) "ok" or "error: <class>": 200 when all are ok, else 503."""
    parts = request.GET.getlist("part") or list(CHECKS)
    if not set(parts) <= CHECKS.keys():
        return json_response({"error": "part must be database or cache"}, 400)  # as every JSON error here
    report = {"status": "ok"} | {part: probe(CHECKS[part]) for part in CHECKS if part in parts}
    if any(value != "ok" for value in report.values()):
        report["status"] = "error"
    return json_response(report, 200 if report["status"] == "ok" else 503)
