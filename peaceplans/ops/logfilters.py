"""
Logging filters that keep the log readable under load: one line an incident, not a traceback a call.

- `OncePerInterval`, for loggers that speak once per call: django-redis with IGNORE_EXCEPTIONS logs
  a full traceback for every cache call it swallows, several per request, so a Redis outage under
  load would write thousands a second. Behind it the first failure of a kind is logged whole, then
  at most one a minute, each saying how many it stands for.
- `OutagesPerInterval`, the same for peaceplans.faults, on the console handler: a database outage
  answers every request with the 503 page and one line (peaceplans/ops/faults.py), and /healthz's
  failed check one more; behind this filter that is one line per kind of outage a minute, with a
  count of the requests it stands for.
- `ReportedOutages`, for django.request: a database outage raised in a middleware (the page cache's
  version read) reaches handler500, which answers the 503 page (or /healthz's report) and logs one line
  (peaceplans/ops/faults.py); Django then logs the same exception again with its traceback. This drops
  that repeat, and nothing else.
- `OneLineRefusals`, on the console handler (it must see django.security.<Class> records, which a
  filter on a parent logger would not): a 400 for a bad parameter (BadQuery and Django's other
  BadRequest and SuspiciousOperation) is one line saying the method, the path, the parameters' names
  (never their values), the status and the reason, without the traceback Django attaches; an
  editor's 403 (PermissionDenied) is left to peaceplans.security's one line (RefusalLogMiddleware).
  A 500 keeps its traceback.

No Django imports at module level: LOGGING builds these while settings load.
"""

import logging
import threading
import time
import unicodedata

MAX_KINDS = 256  # kinds remembered at once; idle ones are forgotten past this (a log must not grow memory)
MAX_PATH = 200  # characters of a refused request's path kept in its line
MAX_PARAMETERS = 10  # parameter names listed
MAX_REASON = 200


class OncePerInterval(logging.Filter):
    """Pass the first record of each kind (logger, message, exception class), then one per `seconds`."""

    def __init__(self, seconds: float = 60.0, clock=time.monotonic):
        super().__init__()
        self.seconds = seconds
        self.clock = clock
        self.lock = threading.Lock()
        self.kinds: dict[tuple, tuple[float, int]] = {}  # kind -> (when one last passed, held back since)

    @staticmethod
    def kind(record: logging.LogRecord) -> tuple:
        exc = record.exc_info[0].__qualname__ if record.exc_info and record.exc_info[0] else ""
        return record.name, record.msg, exc

    def filter(self, record: logging.LogRecord) -> bool:
        kind, now = self.kind(record), self.clock()
        with self.lock:
            last, held = self.kinds.get(kind, (None, 0))
            if last is not None and now - last < self.seconds:
                self.kinds[kind] = (last, held + 1)
                return False
            if len(self.kinds) >= MAX_KINDS:
                self.forget_idle(now)
            self.kinds[kind] = (now, 0)
        if held:
            # Counted since the last line of this kind, which may be longer ago than the interval.
            record.msg = (
                f"{record.msg} (and {held} more like it in the {now - last:.0f} s since that kind was last logged)"
            )
        return True

    def forget_idle(self, now: float) -> None:
        """Drop kinds with nothing held back and nothing logged within the interval (called with the lock)."""
        for kind, (last, held) in list(self.kinds.items()):
            if now - last >= self.seconds or not held:
                del self.kinds[kind]
        if len(self.kinds) >= MAX_KINDS:  # all busy: start afresh rather than grow
            self.kinds.clear()

    def reset(self) -> None:
        with self.lock:
            self.kinds.clear()


class OutagesPerInterval(OncePerInterval):
    """One line a minute per outage kind from `logger` (records from other loggers pass untouched).

    The kind is the record's `outage` (faults.py sets it: the exception's class and first line, not the
    request's path), else the whole message (/healthz's "Health check X failed: Y"). It sits on the
    console handler, not on the logger: what an operator reads is throttled, while every record still
    reaches the logger's other handlers (a test's caplog among them)."""

    def __init__(self, seconds: float = 60.0, clock=time.monotonic, logger: str = "peaceplans.faults"):
        super().__init__(seconds, clock)
        self.logger = logger

    @staticmethod
    def kind(record: logging.LogRecord) -> tuple:
        return record.name, getattr(record, "outage", None) or record.getMessage()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != self.logger and not record.name.startswith(self.logger + "."):
            return True
        return super().filter(record)


class ReportedOutages(logging.Filter):
    """Drop Django's traceback for a database outage that peaceplans.ops.faults has answered and logged.

    faults.server_error answers every outage (the 503 page, or /healthz's own report, which may be a
    200 for ?part=cache); a 500 means its answer failed, and keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or status == 500 or not record.exc_info or record.exc_info[1] is None:
            return True
        from peaceplans.ops.faults import is_outage  # imports Django's database layer: not while settings load

        return not is_outage(record.exc_info[1])


def printable(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with control and format characters (newlines, ANSI escapes, bidi
    overrides) escaped: a refused request's path or a reason quoting it cannot forge or hide log lines."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def refused_request(request) -> str:
    """METHOD /path?name=…&other=…: the parameters' names, never their values (a search, or an attack's payload)."""
    method = printable(str(getattr(request, "method", "") or "?"), 10)
    path = printable(str(getattr(request, "path", "")), MAX_PATH)
    names = list(dict.fromkeys(getattr(request, "GET", {}).keys()))  # parsed names; a NUL was refused before
    query = "&".join(f"{printable(name, 40)}=…" for name in names[:MAX_PARAMETERS])
    if len(names) > MAX_PARAMETERS:
        query += f"&… ({len(names) - MAX_PARAMETERS} more)"
    return f"{method} {path}" + (f"?{query}" if query else "")


class OneLineRefusals(logging.Filter):
    """A 4xx that Django logged with the exception that caused it becomes one line without a traceback.

    Refusals are what the site does on purpose: their traceback says nothing an operator can act on, and
    a scanner sending thousands of bad parameters would write megabytes of them. A 500 is untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not isinstance(status, int) or not 400 <= status < 500 or not is_refusal(exc):
            return True
        from django.core.exceptions import PermissionDenied

        if isinstance(exc, PermissionDenied) and record.name == "django.request":
            return False  # peaceplans.security logs every 403 in one line, with the user and address
        reason = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "", MAX_REASON)
        record.msg = "Refused %s %s: %s%s"
        record.args = (
            status,
            refused_request(getattr(record, "request", None)),
            type(exc).__qualname__,
            f": {reason}" if reason else "",
        )
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def is_refusal(exc: BaseException) -> bool:
    """Exceptions Django turns into a 4xx on purpose (handler400/handler403): a refusal, not a fault."""
    from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
    from django.http.multipartparser import MultiPartParserError

    return isinstance(exc, (BadRequest, PermissionDenied, SuspiciousOperation, MultiPartParserError))
