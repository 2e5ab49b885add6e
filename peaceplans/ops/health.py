"""
/healthz: whether this app server can use its database and its cache, for a load balancer or a
monitor. Cheap (a few trivial statements, one cache set and get, no template, no session) and
never cached anywhere, so each probe sees the state of the moment. The page cache never even looks
it up (`pagecache.skip`): it neither reads nor writes the cache, nor reads the data version.

200 {"status": "ok", "database": "ok", "cache": "ok"} when both answer; 503 with "status":
"error" and each failing part as "error: <cause>" otherwise. The cause is the exception's class,
or for a database that answers but cannot write, what stops it: "error: read-only", "error: disk
full", "error: disk I/O error". Never a message, which may name hosts, users or paths.

The database part checks that a write would go through, not only that a SELECT does (issue 19, item
5): a save is what fails first on a full disk or a read-only server.
- SQLite: an UPDATE that changes nothing (the data version's token set to itself), in a transaction
  rolled back at once, so nothing is written and the version does not move. It finds a read-only file
  or connection. It never waits: when another connection is writing, that proves the database
  writable, and the probe does not queue behind it for the busy timeout. A rolled-back write puts no
  bytes on the disk, so fullness is checked directly: the database's own page limit reached
  (`max_page_count`, no free page left) or less than MIN_FREE_BYTES free on its disk.
- PostgreSQL: `SHOW transaction_read_only`, which is on for a standby (hot standby, recovery) and for
  `default_transaction_read_only`. It takes no lock and uses no transaction id. (The server's own disk
  is not visible from here: a full one fails saves with SQLSTATE 53100, answered as an outage.)

?part=database (or ?part=cache) checks that part alone. A load balancer wants the database alone:
Redis is shared, so a Redis outage fails every server's full check at once, while each server still
serves every page (uncached); a balancer that took them all out would serve nothing.

While the server drains (ops/draining.py: told to stop, finishing what it has), every /healthz
answers 503 {"status": "draining"} at once, checking nothing, so balancers stop sending it readers.
"""

import json
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from peaceplans.models import DataVersion
from peaceplans.ops import breaker, draining, pagecache

log = logging.getLogger("peaceplans.faults")

# Long enough for the get that follows, short enough that probes leave nothing behind.
PROBE_SECONDS = 10
# Below this much free space on the SQLite database's disk, saves are about to fail: "disk full".
MIN_FREE_BYTES = 1024 * 1024
# SQLite's primary result codes a rolled-back write can meet, as /healthz names them.
SQLITE_CAUSES = {8: "read-only", 13: "disk full", 10: "disk I/O error", 14: "cannot open"}
SQLITE_BUSY, SQLITE_LOCKED = 5, 6


class NotReadBack(Exception):
    """The cache took a value and did not give it back: down, behind a client that swallows its errors."""


class CircuitOpen(Exception):
    """The cache's circuit breaker is open: it failed repeatedly and is skipped for now (ops/breaker.py)."""


class CannotWrite(Exception):
    """The database answers but cannot take a write; `cause` says why, in words safe to show."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not answer 1")
    cause = sqlite_cannot_write() if connection.vendor == "sqlite" else postgresql_cannot_write()
    if cause:
        raise CannotWrite(cause)
    return "ok"


def postgresql_cannot_write() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_read_only")
        (read_only,) = cursor.fetchone()
    return "read-only" if read_only == "on" else ""


def sqlite_cannot_write() -> str:
    """What stops SQLite writing now ("" when nothing does): read-only, disk full, an I/O error."""
    with connection.cursor() as cursor:
        full = sqlite_full(cursor)
        if full:
            return full
        table = connection.ops.quote_name(DataVersion._meta.db_table)
        cursor.execute("PRAGMA busy_timeout")
        (busy_timeout,) = cursor.fetchone()
        cursor.execute("PRAGMA busy_timeout = 0")  # never queue behind a writer
        try:
            with transaction.atomic():
                cursor.execute(f"UPDATE {table} SET token = token WHERE id = 1")  # noqa: S608 (our own table)
                transaction.set_rollback(True)
        except DatabaseError as error:
            code = sqlite_code(error)
            if code in (SQLITE_BUSY, SQLITE_LOCKED):
                return ""  # another connection holds the write lock: the database is writing
            if code in SQLITE_CAUSES:
                return SQLITE_CAUSES[code]
            raise
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
    return ""


def sqlite_full(cursor) -> str:
    """ "disk full" when the file may not grow (max_page_count reached, no free page) or its disk is nearly full."""
    values = {}
    for pragma in ("page_count", "max_page_count", "freelist_count"):
        cursor.execute(f"PRAGMA {pragma}")
        values[pragma] = cursor.fetchone()[0]
    if values["page_count"] >= values["max_page_count"] and not values["freelist_count"]:
        return "disk full"
    cursor.execute("PRAGMA database_list")
    path = next((row[2] for row in cursor.fetchall() if row[1] == "main"), "")
    if path:  # "" for an in-memory database
        disk = os.statvfs(os.path.dirname(path) or ".")
        if disk.f_bavail * disk.f_frsize < MIN_FREE_BYTES:
            return "disk full"
    return ""


def sqlite_code(error: BaseException) -> int | None:
    """The primary result code of the sqlite3 error behind a Django DatabaseError, if there is one."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, sqlite3.Error) and getattr(cause, "sqlite_errorcode", None) is not None:
            return cause.sqlite_errorcode & 0xFF
        cause = cause.__cause__
    return None


def check_cache() -> str:
    if breaker.state_of() in (breaker.State.OPEN, breaker.State.HALF_OPEN):
        raise CircuitOpen  # it failed again and again a moment ago: no need to wait for it once more
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, PROBE_SECONDS)
    if cache.get(key) != value:
        raise NotReadBack
    cache.delete(key)
    return "ok"


def probe(check: Callable[[], str]) -> str:
    try:
        return check()
    except CannotWrite as exc:
        log.error("Health check %s failed: %s", check.__name__, exc.cause)
        return f"error: {exc.cause}"
    except Exception as exc:
        log.error("Health check %s failed: %s", check.__name__, type(exc).__qualname__)
        return f"error: {type(exc).__qualname__}"


CHECKS = {"database": check_database, "cache": check_cache}


def json_response(report: dict[str, str], status: int) -> HttpResponse:
    return HttpResponse(json.dumps(report), status=status, content_type="application/json")


@pagecache.skip
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Each part asked for (?part=, default both) "ok" or "error: <cause>": 200 when all are ok, else 503."""
    if draining.is_draining():
        return quiet(json_response({"status": "draining"}, 503))  # checks nothing: it is going away
    parts = request.GET.getlist("part") or list(CHECKS)
    if not set(parts) <= CHECKS.keys():
        return json_response({"error": "part must be database or cache"}, 400)  # as every JSON error here
    report = {"status": "ok"} | {part: probe(CHECKS[part]) for part in CHECKS if part in parts}
    if any(value != "ok" for value in report.values()):
        report["status"] = "error"
    return quiet(json_response(report, 200 if report["status"] == "ok" else 503))


def quiet(response: HttpResponse) -> HttpResponse:
    """
    A 503 here is already in the log: each failed check as one line per kind a minute (`probe`), a
    drain by the gunicorn master. Django's own "Service Unavailable: /healthz" line for every probe
    (a balancer asks every few seconds) would undo that, so it is marked as logged (the flag
    django.utils.log.log_response reads).
    """
    if response.status_code == 503:
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response
