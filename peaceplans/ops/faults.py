"""
Database faults degrade, they don't crash: when the database cannot take a request now (it is
read-only, its disk is full, it is locked past the busy timeout, or PostgreSQL is restarting or
unreachable), the reader gets the site's 503 page with `Retry-After`, never a traceback, and the
log an ERROR line naming the exception class (never the SQL or its parameters): the first of each
kind of outage, then one a minute counting the requests answered so (logfilters.OutagesPerInterval).

One classifier, `is_outage`, and one response, `outage_response`, reached two ways:
- `DatabaseFaultsMiddleware.process_exception` for an error raised by a view (an admin save, an
  import): the usual case, answered before Django's 500 machinery sees it;
- `server_error` (urls.handler500) for an error raised by a middleware, which no middleware can
  catch (Django turns it into a response at that layer): reading the data version for the page
  cache, loading a session or a user while PostgreSQL restarts. Other errors keep the 500 page.

Nothing is half-written: every write runs in a transaction (the admin's change form, services.py),
which the failed statement rolls back whole.
"""

import logging
import sqlite3
import sys

from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from peaceplans.ops import security
from peaceplans.ops.errors import refuse
from peaceplans.ops.health import healthz

log = logging.getLogger("peaceplans.faults")  # the name operators filter on (docs/operations.md)

MESSAGE = "The site cannot save or load this right now. Nothing was half-saved. Please try again in a minute."

# SQLite's primary result codes for a database that cannot be written (or opened) now.
SQLITE_OUTAGES = {
    5: "SQLITE_BUSY",  # "database is locked": another writer held it past the busy timeout
    6: "SQLITE_LOCKED",
    8: "SQLITE_READONLY",  # "attempt to write a readonly database"
    10: "SQLITE_IOERR",  # "disk I/O error"
    13: "SQLITE_FULL",  # "database or disk is full"
    14: "SQLITE_CANTOPEN",  # "unable to open database file"
}
# PostgreSQL's SQLSTATEs for "not now": a read-only transaction (a standby, or
# default_transaction_read_only), disk full, out of memory, too many connections, shutting down,
# starting up; and every connection exception (class 08).
PG_OUTAGE_STATES = {
    "25006",  # read_only_sql_transaction
    "53100",  # disk_full
    "53200",  # out_of_memory
    "53300",  # too_many_connections
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "58030",  # io_error
}
# The same by message, for an error that carries no driver exception with a code.
OUTAGE_MESSAGES = (
    "database is locked",
    "database table is locked",
    "attempt to write a readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open database",
    "connection already closed",
    "the connection is closed",
    "the connection is lost",
    "server closed the connection",
    "connection refused",
    "could not connect",
    "terminating connection",
    "the database system is",  # "... is starting up", "... is shutting down", "... is in recovery mode"
    "read-only transaction",  # "cannot execute UPDATE in a read-only transaction"
)


def causes(exc: BaseException):
    """The exception and the driver's exceptions it wraps (Django re-raises them with `from`)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means "the database cannot take this now" (a 503), rather than a bug (a 500)."""
    if not isinstance(exc, (DatabaseError, InterfaceError)):
        return False
    for error in causes(exc):
        if isinstance(error, sqlite3.Error) and getattr(error, "sqlite_errorcode", None) is not None:
            return error.sqlite_errorcode & 0xFF in SQLITE_OUTAGES
        if type(error).__module__.startswith("psycopg") and hasattr(error, "sqlstate"):
            if error.sqlstate is None:
                # No SQLSTATE: the connection itself failed (refused, lost, closed): an OperationalError or
                # InterfaceError. A client-side DataError (a NUL in text) has none either, and is a bug.
                return any(cls.__name__ in {"OperationalError", "InterfaceError"} for cls in type(error).__mro__)
            return error.sqlstate in PG_OUTAGE_STATES or error.sqlstate.startswith("08")
    message = str(exc).lower()
    if any(phrase in message for phrase in OUTAGE_MESSAGES):
        return True
    return isinstance(exc, InterfaceError)  # Django's own "connection already closed": no driver reached


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 page (JSON under the API), logged at ERROR, never stored by any cache."""
    # /healthz answers in its own JSON, whose failing check says which part is down.
    response = healthz(request) if request.path_info == reverse("healthz") else refuse(request, 503, MESSAGE)
    if response.status_code == 503:  # /healthz?part=cache may rightly answer 200 while the database is down
        response["Retry-After"] = str(settings.PEACEPLANS_RETRY_AFTER_SECONDS)
    # The class and the driver's first line ("database or disk is full"); an outage's message holds
    # no SQL and no parameters, and the traceback would add nothing an operator can act on.
    # One line a minute per kind of outage (logfilters.OutagesPerInterval, settings.LOGGING), with a count.
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}: {first_line(exc)}"
    log.error(
        "Database unavailable for %s %s: %s. Answered %s.",
        request.method,
        request.path_info[:200],
        kind,
        response.status_code,
        extra={"outage": kind},
    )
    return response


class DatabaseFaultsMiddleware:
    """A view's database outage becomes the 503 page; every other exception goes on to Django's 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            return outage_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage raised outside a view is a 503 too; anything else is the 500 page."""
    exc = sys.exc_info()[1]  # Django calls the handler inside its `except` block
    if exc is not None and is_outage(exc):
        try:
            return outage_response(request, exc)
        except Exception:  # the 503 page must not fail in turn; the 500 page has its own fallback
            log.exception("The 503 page failed to render")
    return security.server_error(request)
