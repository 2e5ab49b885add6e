"""
peaceplans/ops/logfilters.py (issue 8, item 2: failures degrade, and the log stays readable while they
do): django-redis' traceback for every cache call it swallows is kept to one of each kind a minute,
and a database outage is one line from peaceplans.ops.faults, without Django's copy of its traceback.
Issue 19, item 7 (quiet logs), through the real configuration (settings.LOGGING's console handler):
an outage is one line per kind a minute with a count; a bad parameter's 400 and an editor's 403 are
one line each, without a traceback; a real 500 keeps its traceback.
"""

import io
import logging
import re
import time

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import BadRequest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse

from peaceplans.models import Stance
from peaceplans.ops.logfilters import OncePerInterval, OneLineRefusals, OutagesPerInterval, ReportedOutages
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
    assert late.getMessage() == "Exception ignored (and 999 more like it in the 60 s since that kind was last logged)"
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


# ---- issue 19, item 7: the log as an operator reads it (settings.LOGGING's console handler) ----


@pytest.fixture
def console():
    """The configured root handler (settings.LOGGING's "console", with its filters) writing into a buffer."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def console_filter(cls: type):
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    (found,) = [f for f in handler.filters if isinstance(f, cls)]
    return found


OUTAGE_PATHS = ["/", f"/plans/{PLAN}/", f"/plans/{PLAN}/timeline/", "/api/v1/plans/", "/healthz"]
HELD = re.compile(r"\(and (\d+) more like it in the (\d+) s since that kind was last logged\)")


@pytest.mark.django_db
def test_a_database_outage_logs_one_line_per_kind_a_minute_with_a_count(monkeypatch, console):
    every_cursor_raises(monkeypatch, OperationalError("unable to open database file"))
    throttle = console_filter(OutagesPerInterval)
    throttle.reset()
    client = Client(raise_request_exception=False)
    requests = 500
    paths = [OUTAGE_PATHS[i % len(OUTAGE_PATHS)] for i in range(requests)]
    # Before (the throttle passing everything, as the log was): one line a request (/healthz's failed
    # check; Django's own "Service Unavailable" line for it is not written: ops/health.py's `quiet`).
    monkeypatch.setattr(throttle, "seconds", 0)
    started = time.monotonic()
    assert {client.get(path).status_code for path in paths} == {503}
    elapsed = time.monotonic() - started
    before = console.getvalue().splitlines()
    assert len(before) == requests
    # After: the same outage over two simulated minutes (the throttle's clock steps 0.24 s a request).
    throttle.reset()
    monkeypatch.setattr(throttle, "seconds", 60)
    clock = Clock()
    monkeypatch.setattr(throttle, "clock", clock)
    console.seek(0)
    console.truncate()
    for path in paths:
        assert client.get(path).status_code == 503
        clock.now += 120 / requests
    after = console.getvalue().splitlines()
    assert "Traceback" not in console.getvalue()
    # Two kinds (the 503 answer; /healthz's failed check), each logged at 0 s, 60 s and 120 s at most.
    assert sum(line.startswith("Database unavailable for ") for line in after) in (2, 3)
    assert sum(line.startswith("Health check check_database failed") for line in after) in (2, 3)
    assert len(after) <= 6
    # Nothing is lost from the count: what the lines say they stand for, plus what is held for the next one.
    counted = sum(int(m.group(1)) for line in after if (m := HELD.search(line)))
    pending = sum(held for _, held in throttle.kinds.values())
    assert len(after) + counted + pending == len(before)
    last = [line for line in after if line.startswith("Database unavailable for ")][-1]
    assert (held := HELD.search(last)) and int(held.group(1)) > 100, last  # a minute's requests, counted
    print(
        f"\noutage: {requests} requests in {elapsed:.2f} s; log lines a minute at that rate "
        f"before {len(before) / elapsed * 60:,.0f}; "
        f"after {len(after)} lines in two minutes, {len(after) / 2:g} a minute "
        f"(one per kind: the 503 answer, /healthz's check; per worker process); "
        f"e.g. {last!r}"
    )


def bad_parameter_requests(client: Client, i: int):
    """Four kinds of 400: BadQuery twice, DisallowedHost (a SuspiciousOperation raised in a middleware),
    TooManyFieldsSent (a SuspiciousOperation raised while the CSRF check reads the form)."""
    kind = i % 4
    if kind == 0:
        return client.get("/search/", {"plan": f"Bad!value{i}"})
    if kind == 1:
        return client.get("/search/", {"q": f"secret{i}" * 40, "plan": PLAN})
    if kind == 2:
        return client.get("/", HTTP_HOST=f"evil{i}\u202e.example")
    return client.post("/admin/login/", {f"field{n}": "" for n in range(11)})


@pytest.mark.django_db
def test_bad_parameter_400s_are_one_line_each_without_a_traceback_or_the_values(console, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10  # a small form breaks it
    client = Client(raise_request_exception=False)
    responses = [bad_parameter_requests(client, i) for i in range(100)]
    assert {r.status_code for r in responses} == {400}
    output = console.getvalue()
    lines = output.splitlines()
    assert "Traceback" not in output and "File " not in output
    assert len(lines) == 100, lines[:8]
    assert all(line.startswith("Refused 400 ") for line in lines), lines[:8]
    assert (
        lines[0]
        == "Refused 400 GET /search/?plan=…: BadQuery: “plan” must be a plan's short name, such as russia-ukraine-2025."
    )
    assert lines[1].startswith("Refused 400 GET /search/?q=…&plan=…: BadQuery: Search for at most 200 characters")
    assert lines[2].startswith("Refused 400 GET /: DisallowedHost: Invalid HTTP_HOST header: 'evil2\\u202e.example'")
    too_many = "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
    assert lines[3] == f"Refused 400 POST /admin/login/: TooManyFieldsSent: {too_many}"
    assert "value" not in output and "secret" not in output  # parameters' names only, never their values
    print(f"\n100 bad-parameter 400s: {len(lines)} log lines, {len(output):,} bytes; e.g. {lines[0]!r}")


@pytest.mark.django_db
def test_an_editors_403_in_the_admin_is_one_line_without_a_traceback(console):
    editor = User.objects.create_user("log-editor", password="unused-password-0123", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    console.seek(0)
    console.truncate()  # the sign-in's own line
    stance = Stance.objects.first()
    response = client.get(reverse("admin:peaceplans_stance_delete", args=[stance.pk]))  # editors may not delete
    assert response.status_code == 403
    lines = console.getvalue().splitlines()
    assert lines == [
        f"permission refused: GET '/admin/peaceplans/stance/{stance.pk}/delete/' username='log-editor' ip=127.0.0.1"
    ]
    print(f"\nan editor's 403: {len(lines)} log line: {lines[0]!r}")


@pytest.mark.django_db
def test_a_real_500_keeps_its_traceback_in_the_log(monkeypatch, console):
    every_cursor_raises(monkeypatch, ZeroDivisionError("a bug"))
    assert Client(raise_request_exception=False).get(f"/plans/{PLAN}/").status_code == 500
    output = console.getvalue()
    assert output.startswith(f"Internal Server Error: /plans/{PLAN}/\nTraceback (most recent call last):")
    assert "ZeroDivisionError: a bug" in output and len(output.splitlines()) > 5


def test_a_refusals_line_escapes_what_could_forge_or_hide_a_line():
    from django.test import RequestFactory

    request = RequestFactory().get("/x%0AFAKE \u202egnp.exe/" + "p" * 300, {f"n{i}": "v" for i in range(12)})
    rec = logging.LogRecord("django.security.X", logging.ERROR, __file__, 1, "bad\nline", (), None)
    rec.exc_info, rec.status_code, rec.request = (BadRequest, BadRequest("bad\nsecond"), None), 400, request
    assert OneLineRefusals().filter(rec) and rec.exc_info is None
    message = rec.getMessage()
    assert "\n" not in message and "\u202e" not in message
    assert message.startswith("Refused 400 GET /x\\u000aFAKE \\u202egnp.exe/ppp")
    assert "p…?n0=…&n1=…" in message and message.endswith("&n9=…&… (2 more): BadRequest: bad")
