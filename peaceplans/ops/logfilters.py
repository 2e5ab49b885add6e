"""
Logging filters that keep an outage's log readable: one line an incident, not a traceback a call.

- `OncePerInterval`, for loggers that speak once per call: django-redis with IGNORE_EXCEPTIONS logs
  a full traceback for every cache call it swallows, several per request, so a Redis outage under
  load would write thousands a second. Behind it the first failure of a kind is logged whole, then
  at most one a minute, each saying how many it stands for.
- `ReportedOutages`, for django.request: a database outage raised in a middleware (the page cache's
  version read) reaches handler500, which answers the 503 page (or /healthz's report) and logs one line
  (peaceplans/ops/faults.py); Django then logs the same exception again with its traceback. This drops
  that repeat, and nothing else.

No Django imports at module level: LOGGING builds these while settings load.
"""

import logging
import threading
import time


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
            self.kinds[kind] = (now, 0)
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {self.seconds:g} s, not logged)"
        return True

    def reset(self) -> None:
        with self.lock:
            self.kinds.clear()


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
