"""
django-redis logs a traceback for every cache call it swallows; peaceplans/logthrottle.py keeps a
Redis outage to one record of each kind a minute (issue 8, item 2: failures degrade, and the log
stays readable while they do).
"""

import logging

import pytest
from django.test import Client

from peaceplans.logthrottle import OncePerInterval

from .conftest import PLAN

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
