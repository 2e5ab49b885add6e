"""
peaceplans/ops/logfilters.py (issue 8, item 2: failures degrade, and the log stays readable while they
do): django-redis' traceback for every cache call it swallows is kept to one of each kind a minute,
and a database outage is one line from peaceplans.ops.faults, without Django's copy of its traceback.
"""

import logging

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from peaceplans.ops.logfilters import OncePerInterval, ReportedOutages
from tests.conftest import PLAN

DEAD_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def record(msg="Exception ignored", exc=ConnectionError, name="django_redis.cache"):
    exc_info = (exc, exc("refused"), None) if exc else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, (), exc_info)


def test_the_first_of_a_kind_passes_and_the_rest_of_the_minute_is_counted_then_reported():
    clock = Clock()
    throttle = OncePerInterval(seconds=60, clock=clock)
    assert throttle.filter(record())
    clock.now += 1
    assert [throttle.filter(record()) for _ in range(999)] == [False] * 999
    clock.now += 59.5  # 60.5 s after the first
    late = record()
    assert throttle.filter(late)
    assert late.getMessage() == "Exception ignored (and 999 more like it in the last 60 s, not logged)"
    clock.now += 61
    quiet = record()
    assert throttle.filter(quiet) and quiet.getMessage() == "Exception ignored"  # nothing was held back


def test_kinds_are_counted_apart_by_logger_message_and_exception_class():
    throttle = OncePerInterval(seconds=60, clock=Clock())
    assert throttle.filter(record())
    assert throttle.filter(record(exc=TimeoutError))  # a new failure is news
    assert throttle.filter(record(msg="Other"))
    assert throttle.filter(record(name="elsewhere"))
    assert throttle.filter(record(exc=None))
    assert not throttle.filter(record(exc=TimeoutError))


@pytest.mark.django_db
def test_a_redis_outage_under_load_logs_one_traceback_not_one_per_cache_call(settings, caplog):
    """The configured filter (settings.LOGGING) on django-redis' own logger, with Redis refusing."""
    settings.CACHES = {"default": DEAD_REDIS}
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    (throttle,) = [f for f in logging.getLogger("django_redis.cache").filters if isinstance(f, OncePerInterval)]
    throttle.reset()
    client = Client()
    with caplog.at_level(logging.ERROR):
        responses = [client.get(path) for path in ["/", f"/plans/{PLAN}/", f"/plans/{PLAN}/timeline/"] * 10]
    assert [r.status_code for r in responses] == [200] * 30  # pages keep coming, uncached
    redis_records = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert len(redis_records) == 1
    assert redis_records[0].exc_info and redis_records[0].exc_info[0].__name__ == "ConnectionInterrupted"
    held = throttle.kinds[("django_redis.cache", "Exception ignored", "ConnectionInterrupted")][1]
    assert held >= 30  # at least one cache call a page was swallowed, and counted


def django_request_record(status: int, exc: BaseException | None) -> logging.LogRecord:
    rec = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "%s: %s", ("x", "/"), None)
    rec.exc_info = (type(exc), exc, None) if exc else None
    rec.status_code = status
    return rec


@pytest.mark.parametrize(
    ("status", "exc", "passes"),
    [
        (503, OperationalError("unable to open database file"), False),  # an outage faults.py has logged
        (500, OperationalError("unable to open database file"), True),  # answered 500: not ours to hide
        (503, OperationalError('syntax error at or near "SELEC"'), True),  # a bug, whatever the status
        (503, ValueError("unable to open database file"), True),  # not a database error
        (200, OperationalError("unable to open database file"), False),  # /healthz?part=cache answered it
        (503, None, True),  # a 503 without an exception
        (500, ZeroDivisionError(), True),
    ],
)
def test_only_the_repeat_of_an_outage_already_logged_is_dropped(status, exc, passes):
    assert ReportedOutages().filter(django_request_record(status, exc)) is passes


def every_cursor_raises(monkeypatch, exc: BaseException) -> None:
    def cursor(self):
        raise exc

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", cursor)


@pytest.mark.django_db
def test_a_database_outage_before_the_view_logs_one_line_and_no_traceback(monkeypatch, caplog):
    """The page cache reads the data version in a middleware: the outage reaches handler500, not the view."""

    every_cursor_raises(monkeypatch, OperationalError("unable to open database file"))
    with caplog.at_level(logging.INFO):
        response = Client(raise_request_exception=False).get(f"/plans/{PLAN}/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.exc_info) for r in errors] == [("peaceplans.faults", None)]
    assert errors[0].getMessage().startswith(f"Database unavailable for GET /plans/{PLAN}/: ")


@pytest.mark.django_db
def test_a_500_still_logs_its_traceback(monkeypatch, caplog):
    """The filter hides only reported outages: a bug in a view is logged whole by django.request."""

    every_cursor_raises(monkeypatch, ZeroDivisionError("a bug"))
    response = Client(raise_request_exception=False).get(f"/plans/{PLAN}/")
    assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info[0] is ZeroDivisionError


@pytest.mark.django_db
def test_healthz_part_cache_during_an_outage_touches_no_database_and_logs_nothing(monkeypatch, caplog):
    """The page cache leaves /healthz alone (issue 19): no data-version read meets the outage, nothing fails."""
    every_cursor_raises(monkeypatch, OperationalError("unable to open database file"))
    with caplog.at_level(logging.INFO):
        response = Client(raise_request_exception=False).get("/healthz?part=cache")
    assert response.status_code == 200
    logged = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith(("django", "peaceplans"))]
    assert logged == []
